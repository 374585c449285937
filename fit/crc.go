package fit

import (
	"encoding/binary"
	"io"
)

// crcTable is the nibble table of the FIT CRC-16 (FIT protocol, "CRC").
var crcTable = [16]uint16{
	0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
	0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
}

// crcBytes is crcTable expanded to whole bytes, for speed: the nibble
// table is the protocol's definition, this is the same CRC eight bits at a
// time.
var crcBytes = func() (t [256]uint16) {
	for i := range t {
		t[i] = crcNibble(crcNibble(0, byte(i)&0x0F), byte(i)>>4)
	}
	return t
}()

// checksum continues the FIT CRC-16 crc over b; a new checksum starts at 0.
func checksum(crc uint16, b []byte) uint16 {
	for _, x := range b {
		crc = crc>>8 ^ crcBytes[byte(crc)^x]
	}
	return crc
}

func crcNibble(crc uint16, nibble byte) uint16 {
	t := crcTable[crc&0x0F]
	crc = (crc >> 4) & 0x0FFF
	return crc ^ t ^ crcTable[nibble]
}

// segmentCRC is the integrity of one FIT file of a chain.
type segmentCRC struct {
	headerOK bool // 14-byte header CRC matches, or is 0x0000 ("not computed"), or the header has 12 bytes
	fileOK   bool // CRC of header and data bytes equals the 2-byte trailer
}

// crcReader passes r through to the decoder while following the chain of
// FIT files on its own (header size, data size, trailer), so that each
// file's CRC is checked as the bytes stream by, without holding the file
// in memory. We check the CRC ourselves because muktihari/fit v0.28.1
// leaves the header out of the file CRC when the header is 12 bytes or its
// header CRC is 0x0000, and so rejects valid files; the decoder runs with
// WithIgnoreChecksum.
type crcReader struct {
	r       io.Reader
	n       int64 // bytes read so far
	err     error // first read error other than io.EOF
	results []segmentCRC

	state     int
	head      [14]byte
	headLen   int
	remaining uint32 // data bytes left in the current file
	crc       uint16
	tail      [2]byte
	tailLen   int
	headerOK  bool
}

const (
	inHeader = iota
	inData
	inTrailer
	lost // not a FIT header: stop following; the decoder will report it
)

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.consume(p[:n])
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// result reports the integrity of the i-th file of the chain; false when the
// reader has not seen its trailer.
func (c *crcReader) result(i int) (segmentCRC, bool) {
	if i < 0 || i >= len(c.results) {
		return segmentCRC{}, false
	}
	return c.results[i], true
}

func (c *crcReader) consume(b []byte) {
	for len(b) > 0 {
		switch c.state {
		case inHeader:
			b = c.consumeHeader(b)
		case inData:
			k := min(uint32(len(b)), c.remaining)
			c.crc = checksum(c.crc, b[:k])
			c.remaining -= k
			b = b[k:]
			if c.remaining == 0 {
				c.state = inTrailer
			}
		case inTrailer:
			k := copy(c.tail[c.tailLen:], b)
			c.tailLen += k
			b = b[k:]
			if c.tailLen == len(c.tail) {
				want := binary.LittleEndian.Uint16(c.tail[:])
				c.results = append(c.results, segmentCRC{headerOK: c.headerOK, fileOK: c.crc == want})
				c.state, c.headLen, c.tailLen = inHeader, 0, 0
			}
		default:
			return
		}
	}
}

func (c *crcReader) consumeHeader(b []byte) []byte {
	size := int(c.head[0])
	if c.headLen == 0 {
		size = int(b[0])
		if size != 12 && size != 14 {
			c.state = lost
			return nil
		}
	}
	k := copy(c.head[c.headLen:size], b)
	c.headLen += k
	if c.headLen < size {
		return b[k:]
	}
	h := c.head[:size]
	c.headerOK = true
	if size == 14 {
		if hc := binary.LittleEndian.Uint16(h[12:]); hc != 0 {
			c.headerOK = checksum(0, h[:12]) == hc
		}
	}
	// The file CRC covers the whole header, its own CRC included.
	c.crc = checksum(0, h)
	c.remaining = binary.LittleEndian.Uint32(h[4:8])
	c.state = inData
	if c.remaining == 0 {
		c.state = inTrailer
	}
	return b[k:]
}
