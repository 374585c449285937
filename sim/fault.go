package sim

import (
	"bytes"
	"net/http"
	"time"
)

// Kinds of injected fault, as counted in Stats.Faults.
const (
	FaultRateLimit = "429"
	FaultServer    = "5xx"
	FaultHang      = "hang"
	FaultMalformed = "malformed"
)

// fault decides whether the n-th API call fails and how. It hashes the
// seed and n, so the same seed fails the same calls in the same way.
func (s *Sim) fault(n uint64, method string) (kind string, status int) {
	if unit(hash(s.cfg.Seed, 0xfa17, n)) >= s.cfg.FaultRate {
		return "", 0
	}
	pick := unit(hash(s.cfg.Seed, 0xfa18, n))
	switch {
	case pick < 0.25:
		return FaultRateLimit, http.StatusTooManyRequests
	case pick < 0.6 || pick >= 0.85 && method != http.MethodGet:
		// a truncated body is only served for reads: a cut-off answer to
		// a write would hide whether the write happened
		return FaultServer, []int{500, 502, 503}[hash(s.cfg.Seed, 0xfa19, n)%3]
	case pick < 0.85:
		return FaultHang, http.StatusGatewayTimeout
	}
	return FaultMalformed, http.StatusOK
}

// faults injects cfg.FaultRate of failures in front of h: 429s, 5xx,
// hangs until the client gives up (at most cfg.FaultTimeout, then 504),
// and bodies cut off half way.
func (s *Sim) faults(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.FaultRate == 0 {
			h(w, r)
			return
		}
		kind, status := s.fault(s.faultN.Add(1), r.Method)
		if kind == "" {
			h(w, r)
			return
		}
		s.mu.Lock()
		s.stats.faults[kind]++
		s.mu.Unlock()
		switch kind {
		case FaultHang:
			s.hang(w, r)
		case FaultMalformed:
			truncated(w, r, h)
		case FaultRateLimit:
			w.Header().Set("Retry-After", "60")
			writeJSON(w, status, map[string]any{"message": "Rate Limit Exceeded",
				"errors": []map[string]string{{"resource": "Application", "field": "rate limit", "code": "exceeded"}}})
		default:
			writeJSON(w, status, map[string]string{"message": http.StatusText(status)})
		}
	}
}

// hang holds the request until the client cancels it or the fault
// timeout passes (on the real clock: a hang is about the client's
// timeouts, not simulated time).
func (s *Sim) hang(w http.ResponseWriter, r *http.Request) {
	t := time.NewTimer(s.cfg.FaultTimeout)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-t.C:
		writeJSON(w, http.StatusGatewayTimeout, map[string]string{"message": "Gateway Timeout"})
	}
}

// truncated serves the real answer cut off half way, with the status
// and headers of the real one.
func truncated(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	rec := &buffered{header: http.Header{}, code: http.StatusOK}
	h(rec, r)
	body := rec.body.Bytes()
	body = body[:len(body)/2]
	if len(body) == 0 || bytes.Equal(body, []byte("[")) {
		body = []byte(`{"message": "`)
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	writeBody(w, rec.code, body)
}

// buffered is a ResponseWriter that keeps the answer.
type buffered struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *buffered) Header() http.Header         { return b.header }
func (b *buffered) WriteHeader(code int)        { b.code = code }
func (b *buffered) Write(p []byte) (int, error) { return b.body.Write(p) }
