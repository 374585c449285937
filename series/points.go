package series

import (
	"github.com/cairn-fit/cairn"
)

// EncodePoints encodes a single-valued series.
func EncodePoints(points []cairn.Point) ([]byte, error) {
	t := make([]int64, len(points))
	v := make([]float64, len(points))
	for i, p := range points {
		t[i], v[i] = p.T, p.V
	}
	return Encode(t, v)
}

// DecodePoints decodes a blob of one value column, as EncodePoints makes.
func DecodePoints(b []byte) ([]cairn.Point, error) {
	t, cols, err := Decode(b)
	if err != nil {
		return nil, err
	}
	if len(cols) != 1 {
		return nil, cairn.Errorf(cairn.EINVALIDFILE, "series: blob has %d value columns, want 1", len(cols))
	}
	points := make([]cairn.Point, len(t))
	for i := range points {
		points[i] = cairn.Point{T: t[i], V: cols[0][i]}
	}
	return points, nil
}
