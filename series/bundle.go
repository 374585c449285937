package series

import (
	"encoding/binary"
	"slices"
	"strings"

	"github.com/cairn-fit/cairn"
)

// A bundle packs an activity's encoded series into one blob, so that an
// import writes one object instead of one per stream (each object costs a
// file creation on disk and a request on S3). Layout:
//
//	"cB" 0x01  uvarint(parts)  { uvarint(len(name)) name uvarint(len(data)) }…  data…
//
// A reference to one part of a bundle is "key#name".

var bundleMagic = []byte{'c', 'B', 1}

// Bundle packs parts (name → encoded series) in name order.
func Bundle(parts map[string][]byte) []byte {
	names := make([]string, 0, len(parts))
	size := len(bundleMagic) + binary.MaxVarintLen64
	for n, d := range parts {
		names = append(names, n)
		size += len(n) + len(d) + 2*binary.MaxVarintLen64
	}
	slices.Sort(names)
	out := append(make([]byte, 0, size), bundleMagic...)
	out = binary.AppendUvarint(out, uint64(len(names)))
	for _, n := range names {
		out = binary.AppendUvarint(out, uint64(len(n)))
		out = append(out, n...)
		out = binary.AppendUvarint(out, uint64(len(parts[n])))
	}
	for _, n := range names {
		out = append(out, parts[n]...)
	}
	return out
}

// Part returns the named part of a bundle.
func Part(bundle []byte, name string) ([]byte, error) {
	bad := cairn.Errorf(cairn.EINVALIDFILE, "series bundle is corrupt")
	if len(bundle) < len(bundleMagic) || string(bundle[:len(bundleMagic)]) != string(bundleMagic) {
		return nil, bad
	}
	b := bundle[len(bundleMagic):]
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return nil, bad
	}
	b = b[n:]
	var offset, found, length uint64
	found = ^uint64(0)
	for range count {
		nl, n := binary.Uvarint(b)
		if n <= 0 || nl > uint64(len(b)-n) {
			return nil, bad
		}
		partName := string(b[n : n+int(nl)])
		b = b[n+int(nl):]
		dl, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, bad
		}
		b = b[n:]
		if partName == name {
			found, length = offset, dl
		}
		offset += dl
		if offset > uint64(len(bundle)) {
			return nil, bad
		}
	}
	if offset != uint64(len(b)) {
		return nil, bad
	}
	if found == ^uint64(0) {
		return nil, cairn.Errorf(cairn.ENOTFOUND, "series %q is not in the bundle", name)
	}
	return b[found : found+length], nil
}

// Ref names one part of a bundle stored under key.
func Ref(key, name string) string { return key + "#" + name }

// SplitRef splits a reference into the blob key and the part name; a
// plain key (a blob of its own) has no part.
func SplitRef(ref string) (key, name string) {
	key, name, _ = strings.Cut(ref, "#")
	return key, name
}
