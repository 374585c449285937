// Package xmlfile is the reading shared by the XML activity formats (gpx,
// tcx): gzip sniffing with a cap on the decompressed size, telling the
// caller's read errors apart from broken files, safe failure messages, and
// the value parsers both formats need.
package xmlfile

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
)

// MaxDecompressed caps the XML a gzip file may expand to.
const MaxDecompressed = 1 << 30

// Errors a parser stops on.
var (
	ErrTooLarge = errors.New("decompressed file too large")
	ErrTooDeep  = errors.New("elements nested too deep")
)

// Source is the caller's reader, counted, with its first error kept so
// that a failing reader is not mistaken for a broken file.
type Source struct {
	r   io.Reader
	N   int64
	Err error
}

func (s *Source) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.N += int64(n)
	if err != nil && err != io.EOF && s.Err == nil {
		s.Err = err
	}
	return n, err
}

// Open wraps r and returns the XML to parse, gunzipped when it starts with
// the gzip magic bytes. format ("GPX", "TCX") prefixes error messages.
func Open(r io.Reader, format string) (*Source, io.Reader, error) {
	src := &Source{r: r}
	br := bufio.NewReader(src)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return src, br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		if src.Err != nil {
			return nil, nil, fmt.Errorf("%s: read: %w", strings.ToLower(format), src.Err)
		}
		return nil, nil, cairn.Wrap(cairn.EINVALIDFILE, err, format+": invalid gzip data")
	}
	zr.Multistream(true)
	return src, &limitReader{r: zr, left: MaxDecompressed}, nil
}

// limitReader fails with ErrTooLarge after left bytes: a small gzip file
// can expand to gigabytes.
type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// TooLarge is the error for a file over MaxDecompressed.
func TooLarge(format string) error {
	return cairn.Errorf(cairn.ETOOLARGE, "%s: file too large once decompressed (over %d MiB)", format, MaxDecompressed>>20)
}

// Failure says safely what stopped a parser, for the failures every XML
// format shares; formats check their own cases first.
func Failure(format string, err error) string {
	var syntax *xml.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &syntax) && strings.Contains(syntax.Msg, "unexpected EOF"):
		return format + ": unexpected end of file"
	case errors.Is(err, ErrTooDeep):
		return format + ": elements nested too deep"
	case errors.As(err, &syntax):
		return fmt.Sprintf("%s: invalid XML at line %d", format, syntax.Line)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, new(flate.CorruptInputError)):
		return format + ": invalid gzip data"
	}
	return format + ": invalid file"
}

// Attr returns the value of the attribute with the local name (any case).
func Attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if strings.EqualFold(a.Name.Local, name) {
			return a.Value
		}
	}
	return ""
}

// Number parses a decimal, NaN when it is not a finite number.
func Number(s string) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}

// timeLayouts are the ISO 8601 forms the files use; a time without zone
// is UTC, as the GPX and TCX schemas say.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// ParseTime returns the UTC time of an ISO 8601 date-time, zero when it is
// not one.
func ParseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// TimeRange returns the earliest and latest record times.
func TimeRange(records []cairn.Record) (first, last time.Time) {
	for _, r := range records {
		if r.Time.IsZero() {
			continue
		}
		if first.IsZero() || r.Time.Before(first) {
			first = r.Time
		}
		if r.Time.After(last) {
			last = r.Time
		}
	}
	return first, last
}
