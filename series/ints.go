package series

import (
	"encoding/binary"
	"math/bits"
)

// maxOrder is the highest predictor order: delta-of-delta.
const maxOrder = 2

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// predict returns the order-th predictor for x[i] from the values before it,
// with wrapping arithmetic so that any int64 sequence round-trips. The
// first samples fall back to the highest order their history allows.
func predict(x []int64, i, order int) int64 {
	switch {
	case order == 0 || i == 0:
		return 0
	case order == 1 || i == 1:
		return x[i-1]
	default:
		return 2*x[i-1] - x[i-2]
	}
}

// bestOrder returns the predictor order whose residuals are cheapest. The
// cost is the residuals' total bit length, a better guide to what zstd's
// entropy coder will spend than varint bytes.
func bestOrder(x []int64) int {
	var cost [maxOrder + 1]int
	for i := range x {
		for o := range cost {
			cost[o] += bits.Len64(zigzag(x[i] - predict(x, i, o)))
		}
	}
	best := 0
	for o := range cost {
		if cost[o] < cost[best] {
			best = o
		}
	}
	return best
}

// appendInts appends the zigzag residuals of x under the given order.
func appendInts(dst []byte, x []int64, order int) []byte {
	for i := range x {
		dst = binary.AppendUvarint(dst, zigzag(x[i]-predict(x, i, order)))
	}
	return dst
}

// readInts fills x from residuals at the start of b and returns the bytes
// read, or -1 if b ends early or holds an overlong varint.
func readInts(b []byte, x []int64, order int) int {
	off := 0
	for i := range x {
		var u uint64
		if off < len(b) && b[off] < 0x80 {
			// Most residuals are one byte; skip the general decoder.
			u = uint64(b[off])
			off++
		} else {
			var n int
			u, n = binary.Uvarint(b[off:])
			if n <= 0 {
				return -1
			}
			off += n
		}
		x[i] = unzigzag(u) + predict(x, i, order)
	}
	return off
}
