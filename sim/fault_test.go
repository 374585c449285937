package sim

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// outcomes calls GET /athlete n times in process and returns each
// answer's status, with -1 for a 200 whose body is not JSON.
func outcomes(t *testing.T, seed uint64, rate float64, n int) ([]int, *Sim) {
	s, err := New(Config{Seed: seed, StravaActivities: 5, FaultRate: rate, FaultTimeout: time.Millisecond,
		Limits: Limits{Short: 1 << 20, Daily: 1 << 20, ReadShort: 1 << 20, ReadDaily: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	token, _ := s.IssueToken(ProviderStrava, "1001", s.Athletes()[0], "read")
	out := make([]int, n)
	for i := range out {
		req := httptest.NewRequest(http.MethodGet, "/api/v3/athlete", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		out[i] = w.Code
		if w.Code == http.StatusOK && !json.Valid(w.Body.Bytes()) {
			out[i] = -1
		}
	}
	return out, s
}

// TestFaultRate: the fraction of failed calls is the configured rate,
// every kind of fault occurs, and the same seed fails the same calls.
func TestFaultRate(t *testing.T) {
	const n, rate = 2000, 0.2
	got, s := outcomes(t, 42, rate, n)
	kinds := map[int]int{}
	failed := 0
	for _, status := range got {
		kinds[status]++
		if status != http.StatusOK {
			failed++
		}
	}
	if frac := float64(failed) / n; math.Abs(frac-rate) > 0.03 {
		t.Errorf("%.3f of calls failed, want %.2f ± 0.03 (%v)", frac, rate, kinds)
	}
	for _, status := range []int{-1, 429, 500, 502, 503, 504} {
		if kinds[status] == 0 {
			t.Errorf("no answer %d among %v", status, kinds)
		}
	}
	st := s.Stats()
	if sum := st.Faults[FaultRateLimit] + st.Faults[FaultServer] + st.Faults[FaultHang] + st.Faults[FaultMalformed]; sum != failed {
		t.Errorf("stats count %d faults, %d calls failed", sum, failed)
	}
	again, _ := outcomes(t, 42, rate, n)
	other, _ := outcomes(t, 43, rate, n)
	if !slices.Equal(got, again) || slices.Equal(got, other) {
		t.Error("faults are not a function of the seed")
	}
}

// TestHangEndsWithClient: a hang fault returns as soon as the client
// gives up, long before its own limit.
func TestHangEndsWithClient(t *testing.T) {
	s, err := New(Config{Seed: 1, StravaActivities: 1, FaultRate: 1, FaultTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	n := uint64(1)
	for kind, _ := s.fault(n, http.MethodGet); kind != FaultHang; kind, _ = s.fault(n, http.MethodGet) {
		n++
	}
	s.faultN.Store(n - 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/archive?latitude=1&longitude=1", nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req) // with the hour-long hang, returning at all is the test
	if got := s.Stats().CallCount("GET /v1/archive", statusClientGone); got != 1 {
		t.Errorf("calls the client gave up on: %d, want 1 (%v)", got, s.Stats().Calls)
	}
}
