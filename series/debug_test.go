package series

import (
	"fmt"
	"testing"
)

func TestDebugKinds(t *testing.T) {
	for _, st := range loadStreams(t) {
		if len(st.t) < 1000 {
			continue
		}
		b, _ := Encode(st.t, st.cols...)
		h, _, _ := parseHeader(b)
		// timestamps only size
		tb, _ := Encode(st.t, make([]float64, len(st.t)))
		s := fmt.Sprintf("%-40s %-12s n=%6d ts=%d tsonly=%5d total=%6d", st.file, st.metric, h.n, h.tsOrder, len(tb), len(b))
		for _, c := range h.cols {
			s += fmt.Sprintf(" [kind=%d k=%d off=%v q=%v ord=%d exc=%d]", c.kind, c.k, c.offset, c.quantum, c.order, c.exc)
		}
		t.Log(s)
	}
}
