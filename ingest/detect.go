package ingest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/fit"
	"github.com/cairn-fit/cairn/gpx"
	"github.com/cairn-fit/cairn/tcx"
)

// readContent reads a file (gunzipping it when it is gzip-compressed) up to
// limit bytes of content: a larger file, or a gzip bomb, is refused.
func readContent(r io.Reader, limit int64) ([]byte, error) {
	br := &peekReader{r: r}
	head, err := br.peek(2)
	if err != nil {
		return nil, err
	}
	var src io.Reader = br
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, cairn.Errorf(cairn.EINVALIDFILE, "gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	}
	data, err := io.ReadAll(io.LimitReader(src, limit+1))
	if err != nil {
		if _, ok := err.(*cairn.Error); ok {
			return nil, err
		}
		return nil, cairn.Errorf(cairn.EINVALIDFILE, "reading the file: %v", err)
	}
	if int64(len(data)) > limit {
		return nil, cairn.Errorf(cairn.ETOOLARGE, "the file is larger than %d bytes", limit)
	}
	if len(data) == 0 {
		return nil, cairn.Errorf(cairn.EINVALIDFILE, "the file is empty")
	}
	return data, nil
}

// peekReader lets readContent look at the magic number without losing it.
type peekReader struct {
	r   io.Reader
	buf []byte
}

func (p *peekReader) peek(n int) ([]byte, error) {
	for len(p.buf) < n {
		b := make([]byte, n-len(p.buf))
		k, err := p.r.Read(b)
		p.buf = append(p.buf, b[:k]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return p.buf, nil
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// Format names the format of content by its first bytes: FIT by its
// header's ".FIT" signature, GPX and TCX by their XML root element.
func Format(content []byte) (string, error) {
	if len(content) >= 12 && (content[0] == 12 || content[0] == 14) && string(content[8:12]) == ".FIT" {
		return cairn.FormatFIT, nil
	}
	head := content[:min(len(content), 4096)]
	switch {
	case bytes.Contains(head, []byte("<gpx")):
		return cairn.FormatGPX, nil
	case bytes.Contains(head, []byte("<TrainingCenterDatabase")):
		return cairn.FormatTCX, nil
	}
	return "", cairn.Errorf(cairn.EUNSUPPORTEDFILE, "the file is not FIT, GPX or TCX")
}

// decode runs the decoder for the content's format.
func decode(content []byte) (*cairn.DecodedFile, error) {
	format, err := Format(content)
	if err != nil {
		return nil, err
	}
	var file *cairn.DecodedFile
	switch format {
	case cairn.FormatFIT:
		file, err = fit.Decode(bytes.NewReader(content))
	case cairn.FormatGPX:
		file, err = gpx.Decode(bytes.NewReader(content))
	case cairn.FormatTCX:
		file, err = tcx.Decode(bytes.NewReader(content))
	}
	if err != nil {
		if _, ok := err.(*cairn.Error); !ok {
			err = cairn.Wrap(cairn.EINVALIDFILE, err, fmt.Sprintf("the %s file could not be decoded", format))
		}
		return nil, err
	}
	return file, nil
}
