package series_test

import (
	"fmt"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/series"
)

// The chart path of the API: a stored blob is decoded, cut to the window
// asked for and thinned to what the chart can show.
func Example() {
	var points []cairn.Point
	for i := range 3600 {
		bpm := 120.0 + float64(i%60)/10
		if i == 1800 {
			bpm = 190 // a sprint
		}
		points = append(points, cairn.Point{T: 1_700_000_000_000 + int64(i)*1000, V: bpm})
	}
	blob, err := series.EncodePoints(points)
	if err != nil {
		panic(err)
	}
	decoded, err := series.DecodePoints(blob)
	if err != nil {
		panic(err)
	}
	window := series.Slice(decoded, points[600].T, points[3000].T)
	chart := series.Downsample(window, 100)
	peak := 0.0
	for _, p := range chart {
		peak = max(peak, p.V)
	}
	fmt.Printf("%d samples in under 100 bytes: %v\n", len(points), len(blob) < 100)
	fmt.Printf("%d in the window, %d charted, peak %v\n", len(window), len(chart), peak)
	// Output:
	// 3600 samples in under 100 bytes: true
	// 2400 in the window, 100 charted, peak 190
}
