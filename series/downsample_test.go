package series

import (
	"math"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func pts(ts ...int64) []cairn.Point {
	out := make([]cairn.Point, len(ts))
	for i, t := range ts {
		out[i] = cairn.Point{T: t, V: float64(i)}
	}
	return out
}

func times(points []cairn.Point) []int64 {
	out := []int64{}
	for _, p := range points {
		out = append(out, p.T)
	}
	return out
}

func TestSlice(t *testing.T) {
	sorted := pts(10, 20, 20, 30, 40)
	tests := []struct {
		name       string
		points     []cairn.Point
		start, end int64
		want       []int64
	}{
		{"inner", sorted, 20, 40, []int64{20, 20, 30}},
		{"between samples", sorted, 11, 39, []int64{20, 20, 30}},
		{"all", sorted, math.MinInt64, math.MaxInt64, []int64{10, 20, 20, 30, 40}},
		{"end is exclusive", sorted, 10, 10, []int64{}},
		{"before", sorted, 0, 10, []int64{}},
		{"after", sorted, 41, 100, []int64{}},
		{"reversed range", sorted, 40, 10, []int64{}},
		{"empty", nil, 0, 100, []int64{}},
		{"unsorted", pts(30, 10, 20, 40, 15), 15, 31, []int64{30, 20, 15}},
	}
	for _, tc := range tests {
		got := Slice(tc.points, tc.start, tc.end)
		if diff := cmp.Diff(tc.want, times(got)); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tc.name, diff)
		}
	}
}

func TestSliceDoesNotClobber(t *testing.T) {
	points := pts(1, 2, 3, 4)
	got := Slice(points, 1, 3)
	_ = append(got, cairn.Point{T: 99})
	if points[2].T != 3 {
		t.Errorf("appending to the slice overwrote the input: %v", points)
	}
}

func TestDownsampleUnchanged(t *testing.T) {
	points := pts(1, 2, 3, 4, 5)
	for _, n := range []int{-1, 0, 1, 2, 5, 6} {
		if got := Downsample(points, n); len(got) != len(points) || &got[0] != &points[0] {
			t.Errorf("n=%d: got %d points, want the input unchanged", n, len(got))
		}
	}
}

func TestDownsampleKeepsPeaks(t *testing.T) {
	flat := func(n int) []cairn.Point {
		points := make([]cairn.Point, n)
		for i := range points {
			points[i] = cairn.Point{T: int64(i) * 1000, V: 100}
		}
		return points
	}
	for _, tc := range []struct {
		name  string
		at    int
		value float64
	}{
		{"spike", 4321, 250},
		{"dip", 777, -40},
		{"spike next to the end", 9998, 180},
		{"spike next to the start", 1, 180},
	} {
		points := flat(10_000)
		points[tc.at].V = tc.value
		got := Downsample(points, 100)
		if len(got) != 100 {
			t.Fatalf("%s: got %d points, want 100", tc.name, len(got))
		}
		if !containsPoint(got, points[tc.at]) {
			t.Errorf("%s: lost the point at %d", tc.name, tc.at)
		}
	}
}

func containsPoint(points []cairn.Point, p cairn.Point) bool {
	for _, q := range points {
		if q == p {
			return true
		}
	}
	return false
}

func TestDownsampleGaps(t *testing.T) {
	points := syntheticSeries(1000)
	for i := 200; i < 400; i++ {
		points[i].V = math.NaN() // a long gap
	}
	points[0].V = math.NaN()
	got := Downsample(points, 50)
	if len(got) != 50 {
		t.Fatalf("got %d points, want 50", len(got))
	}
	var gap, values int
	for _, p := range got {
		if math.IsNaN(p.V) {
			if p.T >= points[200].T && p.T < points[400].T {
				gap++
			}
		} else {
			values++
		}
	}
	if gap == 0 {
		t.Error("the gap vanished from the downsampled series")
	}
	if values < 35 {
		t.Errorf("only %d of 50 points have values", values)
	}
}

// TestRapidDownsample: the output has exactly n points, starts and ends
// with the input's and is a subsequence of it.
func TestRapidDownsample(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		size := rapid.IntRange(3, 500).Draw(t, "len")
		points := make([]cairn.Point, size)
		var ts int64
		for i := range points {
			ts += rapid.Int64Range(0, 5000).Draw(t, "dt")
			points[i] = cairn.Point{T: ts, V: genFloat().Draw(t, "v")}
		}
		n := rapid.IntRange(3, size).Draw(t, "n")
		got := Downsample(points, n)
		if len(got) != n {
			t.Fatalf("got %d points, want %d", len(got), n)
		}
		if !same(got[0], points[0]) || !same(got[n-1], points[size-1]) {
			t.Fatalf("first or last point not kept")
		}
		j := 0
		for _, p := range got {
			for j < size && !same(points[j], p) {
				j++
			}
			if j == size {
				t.Fatalf("%v is not from the input, in order", p)
			}
			j++
		}
	})
}

func same(a, b cairn.Point) bool {
	return a.T == b.T && math.Float64bits(a.V) == math.Float64bits(b.V)
}
