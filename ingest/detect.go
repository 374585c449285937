package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/fit"
	"github.com/cairn-fit/cairn/gpx"
	"github.com/cairn-fit/cairn/tcx"
	"gocloud.dev/blob"
)

// Format names the format of a file by its first bytes: FIT by its
// header's ".FIT" signature, GPX and TCX by their XML root element.
func Format(head []byte) (string, error) {
	if len(head) == 0 {
		return "", cairn.Errorf(cairn.EINVALIDFILE, "the file is empty")
	}
	if len(head) >= 12 && (head[0] == 12 || head[0] == 14) && string(head[8:12]) == ".FIT" {
		return cairn.FormatFIT, nil
	}
	head = head[:min(len(head), 4096)]
	switch {
	case bytes.Contains(head, []byte("<gpx")):
		return cairn.FormatGPX, nil
	case bytes.Contains(head, []byte("<TrainingCenterDatabase")):
		return cairn.FormatTCX, nil
	}
	return "", cairn.Errorf(cairn.EUNSUPPORTEDFILE, "the file is not FIT, GPX or TCX")
}

// reading is one pass over a file: the decoder consumes it as a stream
// (gunzipped when compressed, capped at the size limit) while it is
// hashed and copied to a staging blob, so memory does not grow with the
// file, only with what the decoder keeps.
type reading struct {
	hash   hash.Hash
	n      int64
	limit  int64
	src    io.Reader
	staged *blob.Writer
	wErr   error // the staging write's failure, if any
}

func (rd *reading) Read(p []byte) (int, error) {
	n, err := rd.src.Read(p)
	rd.n += int64(n)
	if rd.n > rd.limit {
		return 0, cairn.Errorf(cairn.ETOOLARGE, "the file is larger than %d bytes", rd.limit)
	}
	rd.hash.Write(p[:n])
	if rd.wErr == nil {
		if _, werr := rd.staged.Write(p[:n]); werr != nil {
			rd.wErr = werr
			return n, werr
		}
	}
	return n, err
}

// Sum is the SHA-256 of the content read so far.
func (rd *reading) Sum() string { return hex.EncodeToString(rd.hash.Sum(nil)) }

// decodeStream reads r once through the right decoder, staging the
// content under stagingKey. It returns the decoded file and the content's
// hash; the staged blob exists only when err is nil.
func (s *Service) decodeStream(ctx context.Context, r io.Reader, stagingKey string, limit int64) (*cairn.DecodedFile, string, error) {
	content, closeContent, err := gunzip(r)
	if err != nil {
		return nil, "", err
	}
	defer closeContent()
	wctx, abandon := context.WithCancel(ctx)
	defer abandon()
	w, err := s.Bucket.NewWriter(wctx, stagingKey, nil)
	if err != nil {
		return nil, "", cairn.Wrap(cairn.EUNAVAILABLE, err, "the blob store is unavailable")
	}
	rd := &reading{hash: sha256.New(), limit: limit, src: content, staged: w}
	br := bufio.NewReaderSize(rd, 64<<10)
	head, err := br.Peek(4096)
	var file *cairn.DecodedFile
	if err == nil || err == io.EOF {
		file, err = decodeFormat(head, br)
	}
	if err == nil {
		// A decoder may stop before the end (trailing bytes): the hash and
		// the original cover the whole file.
		_, err = io.Copy(io.Discard, br)
	}
	if err = rd.failure(err); err != nil {
		abandon() // a cancelled writer stores nothing
		_ = w.Close()
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", cairn.Wrap(cairn.EUNAVAILABLE, err, "the blob store is unavailable")
	}
	return file, rd.Sum(), nil
}

// failure explains why a pass failed: the file's own fault (a *cairn.Error
// from the decoder or the size cap), or the blob store's or the reader's.
func (rd *reading) failure(err error) error {
	var ce *cairn.Error
	switch {
	case err == nil:
		return nil
	case rd.wErr != nil:
		return cairn.Wrap(cairn.EUNAVAILABLE, rd.wErr, "the blob store is unavailable")
	case errors.As(err, &ce):
		return ce
	}
	return cairn.Wrap(cairn.EINVALIDFILE, err, "the file could not be read")
}

// gunzip returns the content of r, decompressed when it starts with the
// gzip magic bytes.
func gunzip(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, func() {}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, nil, cairn.Errorf(cairn.EINVALIDFILE, "gzip: %v", err)
	}
	return zr, func() { zr.Close() }, nil
}

// decodeFormat runs the decoder for the format the first bytes show.
func decodeFormat(head []byte, r io.Reader) (*cairn.DecodedFile, error) {
	format, err := Format(head)
	if err != nil {
		return nil, err
	}
	var file *cairn.DecodedFile
	switch format {
	case cairn.FormatFIT:
		file, err = fit.Decode(r)
	case cairn.FormatGPX:
		file, err = gpx.Decode(r)
	case cairn.FormatTCX:
		file, err = tcx.Decode(r)
	}
	var ce *cairn.Error
	if err != nil && !errors.As(err, &ce) {
		return nil, fmt.Errorf("the %s file could not be decoded: %w", format, err)
	}
	return file, err
}
