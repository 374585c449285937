package fit

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// crcResults runs b through a crcReader with reads of at most chunk bytes.
func crcResults(t *testing.T, b []byte, oneByte bool) *crcReader {
	t.Helper()
	var r io.Reader = bytes.NewReader(b)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	cr := &crcReader{r: r}
	if _, err := io.Copy(io.Discard, cr); err != nil {
		t.Fatal(err)
	}
	return cr
}

func TestChecksumResidue(t *testing.T) {
	// Appending a CRC to its data makes the CRC of the whole zero.
	b := []byte("cairn checks FIT files")
	b = binary.LittleEndian.AppendUint16(b, checksum(0, b))
	if got := checksum(0, b); got != 0 {
		t.Fatalf("checksum with trailer = %#04x, want 0", got)
	}
}

// nibbleChecksum is the FIT protocol's own CRC routine, nibble by nibble.
func nibbleChecksum(crc uint16, b []byte) uint16 {
	for _, x := range b {
		crc = crcNibble(crc, x&0x0F)
		crc = crcNibble(crc, x>>4)
	}
	return crc
}

func TestChecksumMatchesProtocol(t *testing.T) {
	b := simpleActivity(t)
	for i := range len(b) {
		if got, want := checksum(0x1234, b[:i]), nibbleChecksum(0x1234, b[:i]); got != want {
			t.Fatalf("checksum of %d bytes: %#04x, protocol routine %#04x", i, got, want)
		}
	}
}

func TestCRCReaderSynthetic(t *testing.T) {
	full := simpleActivity(t)
	for name, b := range map[string][]byte{
		"14-byte header": full,
		"12-byte header": withHeader(t, full, 12),
		"header CRC 0":   withHeader(t, full, 0),
		"chain of two":   append(append([]byte{}, full...), withHeader(t, full, 12)...),
	} {
		for _, oneByte := range []bool{false, true} {
			cr := crcResults(t, b, oneByte)
			if len(cr.results) == 0 {
				t.Errorf("%s: no file seen", name)
			}
			for i, r := range cr.results {
				if !r.fileOK || !r.headerOK {
					t.Errorf("%s (one byte reads %v): file %d: %+v, want valid", name, oneByte, i, r)
				}
			}
		}
	}
	bad := bytes.Clone(full)
	bad[len(bad)/2] ^= 0x40
	if r, _ := crcResults(t, bad, false).result(0); r.fileOK {
		t.Error("a flipped data bit passes the CRC check")
	}
	bad = bytes.Clone(full)
	bad[12] ^= 0x01 // header CRC
	if r, _ := crcResults(t, bad, false).result(0); r.headerOK {
		t.Error("a wrong header CRC passes the check")
	}
}

// TestCRCFixtures: every valid fixture passes our CRC check, including the
// ones muktihari/fit v0.28.1 rejects (12-byte header, header CRC 0x0000),
// and the *-filecrc files fail it.
func TestCRCFixtures(t *testing.T) {
	for _, path := range fixtures(t) {
		name := filepath.Base(path)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cr := crcResults(t, b, false)
		allOK := len(cr.results) > 0
		for _, r := range cr.results {
			allOK = allOK && r.fileOK && r.headerOK
		}
		switch {
		case strings.Contains(name, "filecrc"):
			if allOK {
				t.Errorf("%s: passes the CRC check, want a mismatch", name)
			}
		case brokenOnPurpose(name) || cutShort[name] != "":
		default:
			if !allOK || cr.state != inHeader || cr.headLen != 0 {
				t.Errorf("%s: CRC results %+v (state %d), want every file valid", name, cr.results, cr.state)
			}
		}
	}
}
