// Package blobs opens cairn's blob store through gocloud.dev/blob: files
// under the data folder by default, or any bucket URL (s3://, gs://,
// file://, mem://) the same way.
package blobs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/gcsblob" // gs:// URLs
	_ "gocloud.dev/blob/memblob" // mem:// URLs, for tests
	_ "gocloud.dev/blob/s3blob"  // s3:// URLs
)

// Open opens the bucket at url, or a folder "blobs" under dataDir when url
// is empty.
func Open(ctx context.Context, url, dataDir string) (*blob.Bucket, error) {
	if url != "" {
		b, err := blob.OpenBucket(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("blob store %s: %w", url, err)
		}
		return b, nil
	}
	dir, err := filepath.Abs(filepath.Join(dataDir, "blobs"))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	// Temporary files in the bucket's own folder, so the final rename never
	// crosses file systems; no .attrs sidecar files (cairn keeps metadata
	// in the database).
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
	if err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	return b, nil
}
