package series

import (
	"encoding/binary"
	"math/bits"
)

// maxOrder is the highest predictor order: delta-of-delta.
const maxOrder = 2

// escape marks a residual too large for its symbol byte.
const escape = 0xff

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// predictor predicts each integer of a sequence from the ones before it:
// order 0 predicts 0, order 1 the previous value, order 2 the previous
// value plus the previous difference. The first difference counts as 0,
// so the second value is predicted by the first rather than by twice it.
// Arithmetic wraps, so that any int64 sequence round-trips.
type predictor struct {
	order int
	prev  int64 // previous value
	diff  int64 // previous difference, 0 until there are two values
	seen  bool  // prev holds a value
}

func (p *predictor) predict() int64 {
	switch p.order {
	case 0:
		return 0
	case 1:
		return p.prev
	default:
		return p.prev + p.diff
	}
}

func (p *predictor) push(v int64) {
	if p.seen {
		p.diff = v - p.prev
	}
	p.prev, p.seen = v, true
}

// bestOrder returns the predictor order whose residuals are cheapest. The
// cost is the residuals' total bit length, a fair guide to what zstd's
// entropy coder will spend.
func bestOrder(x []int64) int {
	var cost [maxOrder + 1]int
	p := predictor{order: maxOrder}
	for _, v := range x {
		cost[0] += bits.Len64(zigzag(v))
		cost[1] += bits.Len64(zigzag(v - p.prev))
		cost[2] += bits.Len64(zigzag(v - p.prev - p.diff))
		p.push(v)
	}
	best := 0
	for o := range cost {
		if cost[o] < cost[best] {
			best = o
		}
	}
	return best
}

// appendInts appends the zigzag residuals of x under the given order: one
// symbol byte per value, the residual itself when below escape, then a
// uvarint of residual-escape for each escaped value in order. Small
// residuals thus take one whole byte each, which zstd's entropy coder
// models far better than varints that spread values over 7-bit groups
// from 128 up, and the rare large ones stay out of the way.
func appendInts(dst []byte, x []int64, order int) []byte {
	sym := len(dst)
	dst = append(dst, make([]byte, len(x))...)
	p := predictor{order: order}
	for i, v := range x {
		zz := zigzag(v - p.predict())
		p.push(v)
		if zz < escape {
			dst[sym+i] = byte(zz)
			continue
		}
		dst[sym+i] = escape
		dst = binary.AppendUvarint(dst, zz-escape)
	}
	return dst
}

// readInts fills x from residuals at the start of b and returns the bytes
// read, or -1 if b ends early or holds an overlong varint.
func readInts(b []byte, x []int64, order int) int {
	if len(b) < len(x) {
		return -1
	}
	off := len(x) // escaped residuals follow the symbols
	for i, s := range b[:len(x)] {
		zz := uint64(s)
		if s == escape {
			v, n := binary.Uvarint(b[off:])
			if n <= 0 {
				return -1
			}
			zz, off = v+escape, off+n
		}
		x[i] = unzigzag(zz)
	}
	integrate(x, order)
	return off
}

// integrate turns residuals into values in place, undoing the predictor
// of the given order in one tight loop per order: the decoder's hot path.
func integrate(x []int64, order int) {
	switch order {
	case 1:
		for i := 1; i < len(x); i++ {
			x[i] += x[i-1]
		}
	case 2:
		var diff int64
		for i := 1; i < len(x); i++ {
			diff += x[i]
			x[i] = x[i-1] + diff
		}
	}
}
