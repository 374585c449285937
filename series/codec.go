package series

import (
	"encoding/binary"
	"math"

	"github.com/cairn-fit/cairn"
)

// Limits of one blob. The encoder refuses what the decoder would refuse, so
// that everything encoded can be read back.
const (
	// MaxSamples is the most samples per column: 24 days at 1 Hz, 5.8
	// hours at 100 Hz.
	MaxSamples = 1 << 21
	// MaxColumns is the most value columns.
	MaxColumns = 16
	// maxValues caps samples × (1 + columns), timestamps included, and so
	// what a decoded blob takes in memory: 8 bytes each, 64 MiB in all.
	maxValues = 1 << 23
	// maxPayload caps the decompressed payload, and with it what a hostile
	// blob can make the decoder allocate before it finds the lie.
	maxPayload = 1 << 27
)

const (
	magic0, magic1 = 'c', 'S'
	version        = 1
	flagZstd       = 1
)

// Encode packs timestamps (Unix milliseconds) and one or more value columns
// of the same length into a blob. It fails with EVALIDATION when the columns
// are missing, differ in length or exceed the limits.
func Encode(t []int64, cols ...[]float64) ([]byte, error) {
	if err := validate(t, cols); err != nil {
		return nil, err
	}
	ints := make([]int64, len(t))
	unit := timeUnit(t)
	for i, x := range t {
		ints[i] = x / unit
	}
	tsOrder := bestOrder(ints)
	payload := appendInts(make([]byte, 0, len(t)*(1+len(cols))+64), ints, tsOrder)
	desc := binary.AppendUvarint([]byte{byte(tsOrder)}, uint64(unit))
	for _, c := range cols {
		desc, payload = appendColumn(desc, payload, c, ints)
	}
	if len(payload) > maxPayload {
		return nil, cairn.Errorf(cairn.EVALIDATION, "series: the values do not compress enough to fit in one blob")
	}
	header := appendHeader(nil, len(t), len(cols), len(payload))
	return compress(append(header, desc...), payload)
}

// timeUnit returns the greatest common divisor of the timestamps (1 if they
// are all zero). Devices mostly log whole seconds, and counting in seconds
// shrinks the residuals of irregular sampling a thousandfold.
func timeUnit(t []int64) int64 {
	var g uint64
	for _, x := range t {
		u := uint64(x)
		if x < 0 {
			u = -u
		}
		g = gcd(g, u)
		if g == 1 {
			break
		}
	}
	if g == 0 || g > math.MaxInt64 {
		return 1
	}
	return int64(g)
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func validate(t []int64, cols [][]float64) error {
	switch {
	case len(cols) == 0:
		return cairn.Invalid(map[string]string{"cols": "at least one value column is required"})
	case len(cols) > MaxColumns:
		return cairn.Invalid(map[string]string{"cols": "too many value columns"})
	case len(t) > MaxSamples || len(t)*(1+len(cols)) > maxValues:
		return cairn.Invalid(map[string]string{"t": "too many samples for one blob"})
	}
	for _, c := range cols {
		if len(c) != len(t) {
			return cairn.Invalid(map[string]string{"cols": "every column must have one value per timestamp"})
		}
	}
	return nil
}

// appendHeader writes the header up to the descriptors. The raw length
// comes before them so that the decoder can bound them early.
func appendHeader(dst []byte, n, ncols, rawLen int) []byte {
	dst = append(dst, magic0, magic1, version, flagZstd)
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = binary.AppendUvarint(dst, uint64(ncols))
	return binary.AppendUvarint(dst, uint64(rawLen))
}

// appendColumn appends v's descriptor to header and its data to payload,
// using ints as scratch.
func appendColumn(header, payload []byte, v []float64, ints []int64) ([]byte, []byte) {
	s, ok := chooseScale(v)
	if !ok {
		header = append(header, kindXOR)
		var prev uint64
		for _, x := range v {
			b := math.Float64bits(x)
			payload = appendXOR(payload, b, prev)
			prev = b
		}
		return header, payload
	}
	exc := quantize(v, s, ints, nil)
	order := bestOrder(ints)
	header = appendScale(header, s, order)
	header = binary.AppendUvarint(header, uint64(len(exc)))
	last, prev := -1, uint64(0)
	for _, j := range exc {
		b := math.Float64bits(v[j])
		payload = binary.AppendUvarint(payload, uint64(j-last-1))
		payload = appendXOR(payload, b, prev)
		last, prev = j, b
	}
	return header, appendInts(payload, ints, order)
}

func appendScale(dst []byte, s scale, order int) []byte {
	dst = append(dst, s.kind|byte(order)<<4)
	switch s.kind {
	case kindDecimal:
		dst = append(dst, s.k)
	case kindDecimalOffset:
		dst = append(dst, s.k)
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.offset))
	case kindQuantum:
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s.quantum))
	}
	return dst
}

// compress appends the payload to the header, zstd-compressed unless that
// would not save space.
func compress(header, payload []byte) ([]byte, error) {
	enc, err := zstdEncoder()
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "series: zstd encoder")
	}
	stored := len(header)
	blob := enc.EncodeAll(payload, header)
	if len(blob)-stored >= len(payload) {
		blob = append(blob[:stored], payload...)
		blob[3] &^= flagZstd
	}
	return blob, nil
}
