package series

import (
	"encoding/binary"
	"math"

	"github.com/cairn-fit/cairn"
)

// maxBlockRaw is the most one zstd block can decompress to, and minBlock
// the fewest bytes a block takes (an RLE block), so a payload of m
// compressed bytes holds at most about m/minBlock*maxBlockRaw raw bytes.
const (
	maxBlockRaw = 128 << 10
	minBlock    = 4
)

// header is a parsed blob header.
type header struct {
	n, rawLen int
	zstd      bool
	tsOrder   int
	tsUnit    int64
	cols      []column
}

// column describes one value column of a blob.
type column struct {
	scale
	order int // predictor order of the scaled integers
	exc   int // number of exceptions
}

// Decode unpacks a blob made by Encode. Anything else, or a damaged blob,
// gives an EINVALIDFILE error; Decode never panics on any input.
func Decode(b []byte) (t []int64, cols [][]float64, err error) {
	h, rest, err := parseHeader(b)
	if err != nil {
		return nil, nil, err
	}
	payload, err := decompress(h, rest)
	if err != nil {
		return nil, nil, err
	}
	t = make([]int64, h.n)
	off := readInts(payload, t, h.tsOrder)
	if off < 0 {
		return nil, nil, corrupt("timestamps are truncated")
	}
	if h.tsUnit != 1 {
		for i := range t {
			t[i] *= h.tsUnit
		}
	}
	var ints []int64
	cols = make([][]float64, len(h.cols))
	for i, c := range h.cols {
		if c.kind != kindXOR && ints == nil {
			ints = make([]int64, h.n)
		}
		cols[i] = make([]float64, h.n)
		m, err := readColumn(payload[off:], c, cols[i], ints)
		if err != nil {
			return nil, nil, err
		}
		off += m
	}
	if off != len(payload) {
		return nil, nil, corrupt("payload has trailing bytes")
	}
	return t, cols, nil
}

func corrupt(why string) error {
	return cairn.Errorf(cairn.EINVALIDFILE, "series: corrupt blob: %s", why)
}

func parseHeader(b []byte) (header, []byte, error) {
	var h header
	if len(b) < 4 || b[0] != magic0 || b[1] != magic1 {
		return h, nil, corrupt("not a series blob")
	}
	if b[2] != version {
		return h, nil, cairn.Errorf(cairn.EINVALIDFILE, "series: unsupported blob version %d", b[2])
	}
	if b[3]&^flagZstd != 0 {
		return h, nil, corrupt("unknown flags")
	}
	h.zstd = b[3]&flagZstd != 0
	r := reader{b: b[4:]}
	h.n = int(r.uvarint(MaxSamples))
	ncols := int(r.uvarint(MaxColumns))
	h.rawLen = int(r.uvarint(maxPayload))
	h.tsOrder = r.order(r.byte())
	h.tsUnit = int64(r.uvarint(math.MaxInt64))
	if r.err == nil && h.tsUnit == 0 {
		r.fail("zero time unit")
	}
	if r.err == nil && (ncols == 0 || h.n*(1+ncols) > maxValues) {
		r.fail("bad column count")
	}
	// Every sample takes at least a byte per column and every exception
	// two, so counts beyond the payload are lies: refuse them before
	// allocating anything for them.
	minLen := h.n * (1 + ncols)
	for i := 0; i < ncols && r.err == nil && minLen <= h.rawLen; i++ {
		c := r.column(h.n)
		h.cols = append(h.cols, c)
		minLen += 2 * c.exc
	}
	if r.err == nil && minLen > h.rawLen {
		r.fail("counts exceed the payload")
	}
	return h, r.b, r.err
}

func decompress(h header, rest []byte) ([]byte, error) {
	if !h.zstd {
		if len(rest) != h.rawLen {
			return nil, corrupt("payload length mismatch")
		}
		return rest, nil
	}
	if h.rawLen > (len(rest)/minBlock+1)*maxBlockRaw {
		return nil, corrupt("payload length exceeds what its bytes can hold")
	}
	dec, err := zstdDecoder()
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "series: zstd decoder")
	}
	out, err := dec.DecodeAll(rest, make([]byte, 0, h.rawLen))
	if err != nil {
		return nil, cairn.Wrap(cairn.EINVALIDFILE, err, "series: corrupt blob: bad compressed payload")
	}
	if len(out) != h.rawLen {
		return nil, corrupt("payload length mismatch")
	}
	return out, nil
}

// readColumn decodes one column from the start of p into v and returns the
// bytes read. ints is scratch of len(v) for scaled columns.
func readColumn(p []byte, c column, v []float64, ints []int64) (int, error) {
	if c.kind == kindXOR {
		return readXORs(p, v)
	}
	// Walk the exceptions once to find where the integers start, and
	// again to patch them over the scaled values.
	excLen, err := walkExceptions(p, len(v), c.exc, nil)
	if err != nil {
		return 0, err
	}
	m := readInts(p[excLen:], ints, c.order)
	if m < 0 {
		return 0, corrupt("column is truncated")
	}
	c.fill(v, ints)
	_, _ = walkExceptions(p, len(v), c.exc, func(j int, b uint64) { v[j] = math.Float64frombits(b) })
	return excLen + m, nil
}

func readXORs(p []byte, v []float64) (int, error) {
	off, prev := 0, uint64(0)
	for i := range v {
		b, m := readXOR(p[off:], prev)
		if m < 0 {
			return 0, corrupt("column is truncated")
		}
		v[i] = math.Float64frombits(b)
		off, prev = off+m, b
	}
	return off, nil
}

// walkExceptions reads count exceptions of a column of n values from the
// start of p, calls patch (if not nil) for each and returns the bytes read.
func walkExceptions(p []byte, n, count int, patch func(j int, bits uint64)) (int, error) {
	off, last, prev := 0, -1, uint64(0)
	for range count {
		gap, m := binary.Uvarint(p[off:])
		if m <= 0 || gap >= uint64(n-last-1) {
			return 0, corrupt("bad exception index")
		}
		off += m
		b, m := readXOR(p[off:], prev)
		if m < 0 {
			return 0, corrupt("exception is truncated")
		}
		off += m
		last, prev = last+1+int(gap), b
		if patch != nil {
			patch(last, b)
		}
	}
	return off, nil
}

// fill maps the integers to floats; the switch is hoisted out of the loop
// because this is the decoder's hot path.
func (s scale) fill(v []float64, ints []int64) {
	switch s.kind {
	case kindDecimalOffset:
		p, o := pow10[s.k], s.offset
		for i, x := range ints {
			v[i] = float64(x)/p - o
		}
	case kindQuantum:
		for i, x := range ints {
			v[i] = float64(x) * s.quantum
		}
	default:
		p := pow10[s.k]
		for i, x := range ints {
			v[i] = float64(x) / p
		}
	}
}

// reader parses the header; the first error sticks and later reads return
// zero values, which keeps the parser free of error checks at every step.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(why string) {
	if r.err == nil {
		r.err = corrupt(why)
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail("header is truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// uvarint reads a count and fails if it exceeds max.
func (r *reader) uvarint(max uint64) uint64 {
	v, m := binary.Uvarint(r.b)
	if m <= 0 || v > max {
		r.fail("bad count in header")
		return 0
	}
	r.b = r.b[m:]
	return v
}

// float reads a finite nonzero float64, the only kind a scale uses.
func (r *reader) float() float64 {
	if len(r.b) < 8 {
		r.fail("header is truncated")
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	if math.IsNaN(f) || math.IsInf(f, 0) || f == 0 {
		r.fail("bad scale")
	}
	return f
}

func (r *reader) order(b byte) int {
	if b > maxOrder {
		r.fail("bad predictor order")
	}
	return int(b)
}

func (r *reader) digits() byte {
	k := r.byte()
	if k > maxDigits {
		r.fail("bad decimal digits")
	}
	return k
}

// column reads one column descriptor of a column of n values.
func (r *reader) column(n int) column {
	b := r.byte()
	c := column{scale: scale{kind: b & 15}, order: r.order(b >> 4)}
	switch c.kind {
	case kindDecimal:
		c.k = r.digits()
	case kindDecimalOffset:
		c.k = r.digits()
		c.offset = r.float()
	case kindQuantum:
		c.quantum = r.float()
	case kindXOR:
		if c.order != 0 {
			r.fail("bad xor column")
		}
		return c
	default:
		r.fail("unknown column kind")
	}
	c.exc = int(r.uvarint(uint64(n)))
	return c
}
