package series

import (
	"math/rand/v2"

	"github.com/cairn-fit/cairn"
	"math"
)

// fataler is what assertRoundTrip needs of testing.TB and rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// assertRoundTrip decodes b and checks it holds t and cols bit for bit.
func assertRoundTrip(tb fataler, b []byte, t []int64, cols [][]float64) {
	tb.Helper()
	gt, gcols, err := Decode(b)
	if err != nil {
		tb.Fatalf("Decode: %v", err)
	}
	if len(gt) != len(t) || len(gcols) != len(cols) {
		tb.Fatalf("got %d samples × %d columns, want %d × %d", len(gt), len(gcols), len(t), len(cols))
	}
	for i := range t {
		if gt[i] != t[i] {
			tb.Fatalf("t[%d] = %d, want %d", i, gt[i], t[i])
		}
	}
	for c := range cols {
		for i := range cols[c] {
			if math.Float64bits(gcols[c][i]) != math.Float64bits(cols[c][i]) {
				tb.Fatalf("col %d [%d] = %v (%#x), want %v (%#x)", c, i,
					gcols[c][i], math.Float64bits(gcols[c][i]), cols[c][i], math.Float64bits(cols[c][i]))
			}
		}
	}
}

// syntheticSeries returns a heart-rate-like random walk at 1 Hz.
func syntheticSeries(n int) []cairn.Point {
	r := rand.New(rand.NewPCG(1, 2))
	points := make([]cairn.Point, n)
	t, v := int64(1_700_000_000_000), 120.0
	for i := range points {
		v = max(40, min(200, v+float64(r.IntN(5)-2)))
		points[i] = cairn.Point{T: t, V: v}
		t += 1000
	}
	return points
}
