package gpx

import (
	"io"
	"strings"
	"unicode/utf8"
)

// charsetReader is the xml.Decoder's CharsetReader: encoding/xml reads
// UTF-8 only, and GPX files from older tools (OziExplorer, Windows apps)
// declare ISO-8859-1 or windows-1252. Both are a byte-to-rune table, so we
// convert them here rather than pull in golang.org/x/text. US-ASCII is a
// subset of UTF-8 and passes through.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return r, nil
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819":
		return &byteCharsetReader{r: r}, nil
	case "windows-1252", "cp1252", "x-cp1252":
		return &byteCharsetReader{r: r, c1: &cp1252}, nil
	}
	return nil, unsupportedCharset(label)
}

type unsupportedCharset string

func (e unsupportedCharset) Error() string { return "unsupported encoding " + string(e) }

// cp1252 maps windows-1252 bytes 0x80–0x9F, where it differs from
// ISO-8859-1 (which puts C1 control codes there); 0 marks an unassigned
// byte, kept as its ISO-8859-1 control code.
var cp1252 = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

// byteCharsetReader converts a single-byte charset to UTF-8.
type byteCharsetReader struct {
	r   io.Reader
	c1  *[32]rune // windows-1252's 0x80–0x9F, nil for ISO-8859-1
	in  [2048]byte
	out []byte // converted bytes not yet returned
}

func (c *byteCharsetReader) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		n, err := c.r.Read(c.in[:])
		c.convert(c.in[:n])
		if len(c.out) > 0 {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

func (c *byteCharsetReader) convert(b []byte) {
	out := c.out[:0]
	for _, x := range b {
		r := rune(x)
		if c.c1 != nil && x >= 0x80 && x < 0xA0 && c.c1[x-0x80] != 0 {
			r = c.c1[x-0x80]
		}
		out = utf8.AppendRune(out, r)
	}
	c.out = out
}
