package sim

import (
	"fmt"
	"net/http"
	"time"
)

// window counts requests in one fixed window, known by its start.
type window struct {
	start time.Time
	n     int
}

func (w *window) hit(start time.Time) int {
	if !w.start.Equal(start) {
		w.start, w.n = start, 0
	}
	w.n++
	return w.n
}

func (w *window) usage(start time.Time) int {
	if !w.start.Equal(start) {
		return 0
	}
	return w.n
}

// appUsage is one application's usage: overall and read requests, per
// 15 minutes and per day.
type appUsage struct {
	short, daily, readShort, readDaily window
}

// windows returns the current 15-minute window (aligned to :00, :15,
// :30, :45) and day (from UTC midnight). Truncate counts from the zero
// time, which is a UTC midnight, so both align as Strava's do.
func windows(now time.Time) (short, day time.Time) {
	return now.Truncate(15 * time.Minute), now.Truncate(24 * time.Hour)
}

// isRead tells Strava's "non-upload" requests: all but creating
// activities and uploads.
func isRead(r *http.Request) bool {
	return !(r.Method == http.MethodPost && (r.URL.Path == "/api/v3/activities" || r.URL.Path == "/api/v3/uploads"))
}

// stravaLimit counts the request against its application's windows,
// reports usage in Strava's headers and answers 429 past a limit. Every
// request counts, refused ones too, as Strava documents.
func (s *Sim) stravaLimit(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		clientID := r.FormValue("client_id")
		if t := tokenOf(r); t != nil {
			clientID = t.clientID
		}
		if s.stravaApp(clientID) == nil {
			h(w, r) // the handler refuses the unknown application
			return
		}
		if over := s.countRequest(w.Header(), clientID, isRead(r)); over {
			stravaError(w, http.StatusTooManyRequests, "Rate Limit Exceeded", "Application", "rate limit", "exceeded")
			return
		}
		h(w, r)
	}
}

func (s *Sim) countRequest(hdr http.Header, clientID string, read bool) (over bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.usage[clientID]
	if u == nil {
		u = &appUsage{}
		s.usage[clientID] = u
	}
	short, day := windows(s.now())
	l := s.cfg.Limits
	ns, nd := u.short.hit(short), u.daily.hit(day)
	over = ns > l.Short || nd > l.Daily
	rs, rd := u.readShort.usage(short), u.readDaily.usage(day)
	if read {
		rs, rd = u.readShort.hit(short), u.readDaily.hit(day)
		over = over || rs > l.ReadShort || rd > l.ReadDaily
	}
	hdr.Set("X-RateLimit-Limit", fmt.Sprintf("%d,%d", l.Short, l.Daily))
	hdr.Set("X-RateLimit-Usage", fmt.Sprintf("%d,%d", ns, nd))
	hdr.Set("X-ReadRateLimit-Limit", fmt.Sprintf("%d,%d", l.ReadShort, l.ReadDaily))
	hdr.Set("X-ReadRateLimit-Usage", fmt.Sprintf("%d,%d", rs, rd))
	return over
}
