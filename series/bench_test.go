package series

import (
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
)

// sizes tallies encoded bytes and samples per metric; a sample is one value
// of one stream at one timestamp, so a position fix counts twice.
type sizes map[string]*tally

type tally struct{ bytes, samples int }

func (s sizes) add(metric string, bytes, samples int) {
	if s[metric] == nil {
		s[metric] = new(tally)
	}
	s[metric].bytes += bytes
	s[metric].samples += samples
}

// perSample returns bytes per sample over the metrics that match keep.
func (s sizes) perSample(keep func(string) bool) float64 {
	var sum tally
	for m, v := range s {
		if keep(m) {
			sum.bytes += v.bytes
			sum.samples += v.samples
		}
	}
	return float64(sum.bytes) / float64(sum.samples)
}

func ordinary(m string) bool { return m != "position" }
func anyMetric(string) bool  { return true }

// TestFixtureSizes round-trips every fixture stream and logs the sizes per
// metric (go test -run FixtureSizes -v).
func TestFixtureSizes(t *testing.T) {
	streams := loadStreams(t)
	s := sizes{}
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 0, 0, 1, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "file\tmetric\tsamples\tbytes\tB/sample\t")
	for _, st := range streams {
		b, err := Encode(st.t, st.cols...)
		if err != nil {
			t.Fatal(err)
		}
		assertRoundTrip(t, b, st.t, st.cols)
		samples := len(st.t) * len(st.cols)
		s.add(st.metric, len(b), samples)
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%.3f\t\n", st.file, st.metric, samples, len(b), float64(len(b))/float64(samples))
	}
	for _, m := range fixtureMetrics {
		if v := s[m]; v != nil {
			fmt.Fprintf(w, "ALL\t%s\t%d\t%d\t%.3f\t\n", m, v.samples, v.bytes, float64(v.bytes)/float64(v.samples))
		}
	}
	w.Flush()
	t.Logf("\n%s", sb.String())
	t.Logf("ordinary metrics: %.3f B/sample; position: %.3f; all: %.3f",
		s.perSample(ordinary), s.perSample(func(m string) bool { return m == "position" }), s.perSample(anyMetric))
	// The codec's size goal for 1 Hz data; this guards it against regressions.
	if got := s.perSample(ordinary); got > 0.7 {
		t.Errorf("ordinary metrics take %.3f B/sample, want ≤ 0.7", got)
	}
}

// BenchmarkSeriesCodec encodes every metric stream of the FIT fixtures and
// reports the encoded size: B/sample over the ordinary metrics (all but
// position), B/sample-pos for position (lat and lon each count as a
// sample) and B/sample-all over everything, plus one sub-benchmark per
// metric. MB/s counts 8 bytes per timestamp and per value.
func BenchmarkSeriesCodec(b *testing.B) {
	streams := loadStreams(b)
	b.Run("all", func(b *testing.B) {
		s := benchEncode(b, streams)
		b.ReportMetric(s.perSample(ordinary), "B/sample")
		b.ReportMetric(s.perSample(func(m string) bool { return m == "position" }), "B/sample-pos")
		b.ReportMetric(s.perSample(anyMetric), "B/sample-all")
	})
	for _, m := range fixtureMetrics {
		b.Run(m, func(b *testing.B) {
			s := benchEncode(b, filterStreams(streams, m))
			b.ReportMetric(s.perSample(anyMetric), "B/sample")
		})
	}
}

func filterStreams(streams []stream, metric string) []stream {
	var out []stream
	for _, s := range streams {
		if s.metric == metric {
			out = append(out, s)
		}
	}
	return out
}

func rawSize(s stream) int { return 8 * len(s.t) * (1 + len(s.cols)) }

// benchEncode encodes streams b.N times and returns their sizes.
func benchEncode(b *testing.B, streams []stream) sizes {
	s := sizes{}
	var raw int
	for _, st := range streams {
		raw += rawSize(st)
		blob, err := Encode(st.t, st.cols...)
		if err != nil {
			b.Fatal(err)
		}
		s.add(st.metric, len(blob), len(st.t)*len(st.cols))
	}
	b.SetBytes(int64(raw))
	b.ResetTimer()
	for b.Loop() {
		for _, st := range streams {
			if _, err := Encode(st.t, st.cols...); err != nil {
				b.Fatal(err)
			}
		}
	}
	return s
}

// BenchmarkSeriesDecode decodes every fixture stream; MB/s counts the
// decoded bytes, 8 per timestamp and per value.
func BenchmarkSeriesDecode(b *testing.B) {
	streams := loadStreams(b)
	var blobs [][]byte
	var raw int
	for _, st := range streams {
		blob, err := Encode(st.t, st.cols...)
		if err != nil {
			b.Fatal(err)
		}
		blobs = append(blobs, blob)
		raw += rawSize(st)
	}
	b.SetBytes(int64(raw))
	for b.Loop() {
		for _, blob := range blobs {
			if _, _, err := Decode(blob); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkSliceDownsample is the API's chart path: decode a 100,000-point
// series, cut a window out of it and reduce that to 1,000 points.
func BenchmarkSliceDownsample(b *testing.B) {
	points := syntheticSeries(100_000)
	blob, err := EncodePoints(points)
	if err != nil {
		b.Fatal(err)
	}
	start, end := points[5_000].T, points[95_000].T
	for b.Loop() {
		decoded, err := DecodePoints(blob)
		if err != nil {
			b.Fatal(err)
		}
		if out := Downsample(Slice(decoded, start, end), 1_000); len(out) != 1_000 {
			b.Fatalf("got %d points", len(out))
		}
	}
}
