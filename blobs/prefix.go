package blobs

import (
	"context"
	"errors"
	"io"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// DeletePrefix deletes every blob whose key starts with prefix (which must
// end in "/", so that "users/1/" does not reach "users/10/") and returns how
// many it deleted. It lists a page, deletes it and lists again from the
// start, so that no backend skips keys while its listing changes.
func DeletePrefix(ctx context.Context, b *blob.Bucket, prefix string) (int, error) {
	if prefix == "" || !strings.HasSuffix(prefix, "/") {
		return 0, errors.New("blobs: delete by prefix needs a prefix ending in /")
	}
	const page = 1000
	n := 0
	for {
		it := b.List(&blob.ListOptions{Prefix: prefix})
		var keys []string
		for len(keys) < page {
			obj, err := it.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return n, err
			}
			if !obj.IsDir {
				keys = append(keys, obj.Key)
			}
		}
		if len(keys) == 0 {
			return n, nil
		}
		for _, k := range keys {
			if err := b.Delete(ctx, k); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
				return n, err
			}
			n++
		}
	}
}
