package series

import (
	"cmp"
	"math"
	"slices"
	"sort"

	"github.com/cairn-fit/cairn"
)

// Slice returns the points with start <= T < end. For points sorted by T,
// the common case, it finds the bounds by binary search and returns a
// subslice of points, capped so that appending to it cannot overwrite the
// rest. Unsorted points are filtered into a new slice in their order.
func Slice(points []cairn.Point, start, end int64) []cairn.Point {
	byT := func(a, b cairn.Point) int { return cmp.Compare(a.T, b.T) }
	if !slices.IsSortedFunc(points, byT) {
		var out []cairn.Point
		for _, p := range points {
			if p.T >= start && p.T < end {
				out = append(out, p)
			}
		}
		return out
	}
	i := sort.Search(len(points), func(i int) bool { return points[i].T >= start })
	j := sort.Search(len(points), func(j int) bool { return points[j].T >= end })
	if j < i {
		j = i
	}
	return points[i:j:j]
}

// Downsample reduces points to n with Largest-Triangle-Three-Buckets
// (Steinarsson 2013): the first and last points stay, and each bucket in
// between keeps the point that makes the largest triangle with the point
// kept before it and the average of the next bucket, which is what keeps
// peaks and troughs visible. points should be sorted by T. When
// n >= len(points) or n < 3 it returns points unchanged.
//
// NaN values (missing samples) are kept only for a bucket holding nothing
// else, so that a long gap stays a gap on the chart.
func Downsample(points []cairn.Point, n int) []cairn.Point {
	if n >= len(points) || n < 3 {
		return points
	}
	out := make([]cairn.Point, 0, n)
	out = append(out, points[0])
	// Buckets split the points between the first and the last evenly;
	// integer arithmetic makes the last bucket end exactly before the last
	// point, which is then the "next bucket" of the last one.
	bucket := func(i int) int { return 1 + i*(len(points)-2)/(n-2) }
	a := points[0]
	for i := range n - 2 {
		next := points[bucket(i+1):min(bucket(i+2), len(points))]
		a = largestTriangle(points[bucket(i):bucket(i+1)], a, next)
		out = append(out, a)
	}
	return append(out, points[len(points)-1])
}

// largestTriangle returns the point of cand that spans the largest triangle
// with a and the average of next. Coordinates are taken relative to a so
// that millisecond timestamps keep their precision as floats.
func largestTriangle(cand []cairn.Point, a cairn.Point, next []cairn.Point) cairn.Point {
	cx, cy := average(next, a.T)
	ay := a.V
	// Around a gap, measure against a flat line instead.
	switch {
	case math.IsNaN(ay) && math.IsNaN(cy):
		ay, cy = 0, 0
	case math.IsNaN(ay):
		ay = cy
	case math.IsNaN(cy):
		cy = ay
	}
	cy -= ay
	best, bestArea := cand[0], -1.0
	for _, p := range cand {
		if math.IsNaN(p.V) {
			continue
		}
		bx, by := float64(p.T-a.T), p.V-ay
		// Twice the triangle's area; the factor does not change the winner.
		if area := math.Abs(bx*cy - cx*by); area > bestArea || bestArea < 0 {
			best, bestArea = p, area
		}
	}
	return best
}

// average returns the mean time (relative to t0) and mean value of the
// non-NaN points, NaN for the value when there are none.
func average(points []cairn.Point, t0 int64) (x, y float64) {
	var sx, sy float64
	var n int
	for _, p := range points {
		sx += float64(p.T - t0)
		if !math.IsNaN(p.V) {
			sy += p.V
			n++
		}
	}
	x = sx / float64(len(points))
	if n == 0 {
		return x, math.NaN()
	}
	return x, sy / float64(n)
}
