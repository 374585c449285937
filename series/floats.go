package series

import (
	"math"
	"math/bits"
)

// Column kinds, as on the wire.
const (
	kindDecimal       = 0
	kindDecimalOffset = 1
	kindQuantum       = 2
	kindXOR           = 3
)

// maxDigits is the most decimal digits a scaled column may have.
const maxDigits = 9

// maxScaled bounds the scaled integers so that float64(i) is exact and
// int64 conversion is defined.
const maxScaled = 1 << 53

// semicircle is FIT's position unit in degrees, 180/2^31, exactly
// representable; FIT decoders multiply by it, so lat/lon are exact
// multiples of it.
const semicircle = 180.0 / (1 << 31)

// offsets are the candidate offsets of kindDecimalOffset besides 0. FIT
// altitude is raw/5 - 500, and that subtraction leaves values such as
// 20.200000000000045 that are no short decimal but are one once 500 is
// added back.
var offsets = []float64{500}

var pow10 = [maxDigits + 1]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// scale maps floats to integers and back; the zero value is the identity
// decimal scale.
type scale struct {
	kind    byte
	k       byte    // decimal digits, kinds 0 and 1
	offset  float64 // kind 1
	quantum float64 // kind 2
}

func (s scale) toFloat(i int64) float64 {
	switch s.kind {
	case kindDecimalOffset:
		return float64(i)/pow10[s.k] - s.offset
	case kindQuantum:
		return float64(i) * s.quantum
	default:
		return float64(i) / pow10[s.k]
	}
}

// toInt returns the integer that s maps back to exactly v, bit for bit.
func (s scale) toInt(v float64) (int64, bool) {
	var x float64
	switch s.kind {
	case kindDecimalOffset:
		x = (v + s.offset) * pow10[s.k]
	case kindQuantum:
		x = v / s.quantum
	default:
		x = v * pow10[s.k]
	}
	// The negated comparison also rejects NaN.
	if !(math.Abs(x) <= maxScaled) {
		return 0, false
	}
	i := int64(math.Round(x))
	return i, math.Float64bits(s.toFloat(i)) == math.Float64bits(v)
}

// special reports values that are exceptions under every scale.
func special(v float64) bool {
	return math.IsNaN(v) || math.IsInf(v, 0) || (v == 0 && math.Signbit(v))
}

// chooseScale returns the first scale, in order of preference, that fits
// all but a small share of the ordinary values of v, and false when none
// does. Preference: decimal with the fewest digits, the same with each
// candidate offset, then semicircles.
func chooseScale(v []float64) (scale, bool) {
	if s, ok := chooseDigits(v, 0); ok {
		return s, true
	}
	for _, o := range offsets {
		if s, ok := chooseDigits(v, o); ok {
			return s, true
		}
	}
	s := scale{kind: kindQuantum, quantum: semicircle}
	return s, misfits(v, s) <= tolerated(len(v))
}

// tolerated is how many ordinary values may misfit a scale and become
// exceptions: one costs about as much as a few dozen well-scaled values,
// and refusing any would let one outlier push a whole column to xor.
func tolerated(n int) int { return n / 64 }

// chooseDigits finds the fewest decimal digits under offset that fit.
func chooseDigits(v []float64, offset float64) (scale, bool) {
	var hist [maxDigits + 2]int // hist[k]: values needing exactly k digits; last: none fits
	for _, x := range v {
		if special(x) {
			continue
		}
		hist[digits(x, offset)]++
		if hist[maxDigits+1] > tolerated(len(v)) {
			return scale{}, false // stop early: no scale of this family fits
		}
	}
	misfit := hist[maxDigits+1]
	// Lower k from the top while the values it drops stay tolerated.
	k := maxDigits
	for k > 0 && misfit+hist[k] <= tolerated(len(v)) {
		misfit += hist[k]
		k--
	}
	s := scale{kind: kindDecimal, k: byte(k)}
	if offset != 0 {
		s = scale{kind: kindDecimalOffset, k: byte(k), offset: offset}
	}
	return s, true
}

// digits returns the fewest decimal digits that represent x exactly under
// offset, or maxDigits+1 when none up to maxDigits does.
func digits(x, offset float64) int {
	kind := byte(kindDecimal)
	if offset != 0 {
		kind = kindDecimalOffset
	}
	for k := 0; k <= maxDigits; k++ {
		if _, ok := (scale{kind: kind, k: byte(k), offset: offset}).toInt(x); ok {
			return k
		}
	}
	return maxDigits + 1
}

func misfits(v []float64, s scale) int {
	n := 0
	for _, x := range v {
		if _, ok := s.toInt(x); !ok && !special(x) {
			n++
		}
	}
	return n
}

// quantize fills ints with the scaled values of v and returns the indices
// of the exceptions, which hold the previous integer so that they cost
// nothing in the residuals.
func quantize(v []float64, s scale, ints []int64, exc []int) []int {
	var prev int64
	for j, x := range v {
		i, ok := s.toInt(x)
		if !ok {
			exc = append(exc, j)
			i = prev
		}
		ints[j] = i
		prev = i
	}
	return exc
}

// appendXOR appends bits XOR prev as a control byte and the middle bytes.
func appendXOR(dst []byte, bits64, prev uint64) []byte {
	x := bits64 ^ prev
	if x == 0 {
		return append(dst, 0x80)
	}
	lead := bits.LeadingZeros64(x) / 8
	trail := bits.TrailingZeros64(x) / 8
	dst = append(dst, byte(lead<<4|trail))
	for sh := 8 * (7 - lead); sh >= 8*trail; sh -= 8 {
		dst = append(dst, byte(x>>sh))
	}
	return dst
}

// readXOR decodes one xor value from b against prev and returns it with
// the bytes read, or n = -1 if b is short or the control byte is invalid.
func readXOR(b []byte, prev uint64) (uint64, int) {
	if len(b) == 0 {
		return 0, -1
	}
	lead, trail := int(b[0]>>4), int(b[0]&15)
	mid := 8 - lead - trail
	if mid < 0 || len(b) < 1+mid {
		return 0, -1
	}
	var x uint64
	for _, c := range b[1 : 1+mid] {
		x = x<<8 | uint64(c)
	}
	return prev ^ x<<(8*trail), 1 + mid
}
