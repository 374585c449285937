package sim

import (
	"net/http"
	"strconv"
	"time"
)

// statusClientGone is counted when the client went away before an answer
// (a hang fault it gave up on), after nginx's "client closed request".
const statusClientGone = 499

// Stats are the simulator's counters: API calls by route pattern and
// status, injected faults by kind, and callback deliveries by kind and
// status (0: the callback could not be reached).
type Stats struct {
	Calls      map[string]map[string]int `json:"calls"`
	Faults     map[string]int            `json:"faults"`
	Deliveries map[string]map[string]int `json:"deliveries"`
}

type stats struct {
	calls      map[string]map[int]int
	faults     map[string]int
	deliveries map[string]map[int]int
}

func newStats() stats {
	return stats{calls: map[string]map[int]int{}, faults: map[string]int{}, deliveries: map[string]map[int]int{}}
}

func bump(m map[string]map[int]int, key string, status int) {
	if m[key] == nil {
		m[key] = map[int]int{}
	}
	m[key][status]++
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{Calls: export(s.stats.calls), Faults: map[string]int{}, Deliveries: export(s.stats.deliveries)}
	for k, v := range s.stats.faults {
		out.Faults[k] = v
	}
	return out
}

func export(m map[string]map[int]int) map[string]map[string]int {
	out := make(map[string]map[string]int, len(m))
	for k, byStatus := range m {
		out[k] = make(map[string]int, len(byStatus))
		for status, n := range byStatus {
			out[k][strconv.Itoa(status)] = n
		}
	}
	return out
}

// Calls is how many calls the route pattern answered with status.
func (st Stats) CallCount(pattern string, status int) int {
	return st.Calls[pattern][strconv.Itoa(status)]
}

// Reset zeroes the counters and rate-limit usage and forgets Garmin
// backfill windows; seeded data, tokens and subscriptions stay.
func (s *Sim) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = newStats()
	s.usage = map[string]*appUsage{}
	s.backfills = map[backfillKey]time.Time{}
	s.faultN.Store(0)
}

// recorder remembers the status a handler wrote.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Sim) count(pattern string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		h(rec, r)
		status := rec.status
		if status == 0 && r.Context().Err() != nil {
			status = statusClientGone
		} else if status == 0 {
			status = http.StatusOK
		}
		s.mu.Lock()
		bump(s.stats.calls, pattern, status)
		s.mu.Unlock()
	}
}
