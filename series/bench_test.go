package series

import (
	"fmt"
	"strings"
	"testing"
	"text/tabwriter"
)

// sizes tallies encoded bytes and samples per metric; a sample is one value
// of one stream at one timestamp, so a position fix counts twice.
type sizes map[string]*[2]float64

func (s sizes) add(metric string, bytes, samples int) {
	if s[metric] == nil {
		s[metric] = new([2]float64)
	}
	s[metric][0] += float64(bytes)
	s[metric][1] += float64(samples)
}

// perSample returns bytes per sample over the metrics that match keep.
func (s sizes) perSample(keep func(string) bool) float64 {
	var b, n float64
	for m, v := range s {
		if keep(m) {
			b, n = b+v[0], n+v[1]
		}
	}
	return b / n
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
			fmt.Fprintf(w, "ALL\t%s\t%.0f\t%.0f\t%.3f\t\n", m, v[1], v[0], v[0]/v[1])
		}
	}
	w.Flush()
	t.Logf("\n%s", sb.String())
	t.Logf("ordinary metrics: %.3f B/sample; position: %.3f; all: %.3f",
		s.perSample(ordinary), s.perSample(func(m string) bool { return m == "position" }), s.perSample(anyMetric))
}
