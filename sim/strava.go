package sim

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (s *Sim) stravaRoutes() []route {
	return []route{
		{"GET /oauth/authorize", kindRedirect, s.stravaAuthorize},
		{"GET /oauth/mobile/authorize", kindRedirect, s.stravaAuthorize},
		{"POST /oauth/token", kindOpen, s.stravaToken},
		{"POST /oauth/deauthorize", kindOpen, s.stravaDeauthorize},
		{"GET /api/v3/athlete", kindStrava, s.stravaAthlete},
		{"GET /api/v3/athlete/activities", kindStrava, s.stravaActivities},
		{"GET /api/v3/activities/{id}", kindStrava, s.stravaActivity},
		{"GET /api/v3/activities/{id}/streams", kindStrava, s.stravaStreams},
		{"POST /api/v3/push_subscriptions", kindStravaApp, s.createSubscription},
		{"GET /api/v3/push_subscriptions", kindStravaApp, s.listSubscriptions},
		{"DELETE /api/v3/push_subscriptions/{id}", kindStravaApp, s.deleteSubscription},
	}
}

// stravaError writes Strava's error shape: a message and a list of
// {resource, field, code}.
func stravaError(w http.ResponseWriter, status int, message, resource, field, code string) {
	writeJSON(w, status, map[string]any{
		"message": message,
		"errors":  []map[string]string{{"resource": resource, "field": field, "code": code}},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only the simulator's own values get here
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, status, b)
}

func writeBody(w http.ResponseWriter, status int, b []byte) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Sim) stravaAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t := s.bearer(r, ProviderStrava)
		if t == nil {
			stravaError(w, http.StatusUnauthorized, "Authorization Error", "Athlete", "access_token", "invalid")
			return
		}
		h(w, withToken(r, t))
	}
}

func (s *Sim) stravaAthlete(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, athleteJSON(tokenOf(r).athlete, true))
}

// canReadActivities answers Strava's 401 for a token without
// activity:read.
func canReadActivities(w http.ResponseWriter, t *token) bool {
	if hasScope(t, "activity:read", "activity:read_all") {
		return true
	}
	stravaError(w, http.StatusUnauthorized, "Authorization Error", "AccessToken", "activity:read_permission", "missing")
	return false
}

// Activities returns the athlete's activities, oldest first, safe to
// call while the simulator serves.
func (s *Sim) Activities(a *Athlete) []*Activity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return a.Activities[:len(a.Activities):len(a.Activities)]
}

// stravaActivities lists as GET /athlete/activities does: newest first,
// but oldest first when only after is given (the page then starts right
// after that time), per_page up to 200.
func (s *Sim) stravaActivities(w http.ResponseWriter, r *http.Request) {
	t := tokenOf(r)
	if !canReadActivities(w, t) {
		return
	}
	q, bad := parseListQuery(r)
	if bad != "" {
		stravaError(w, http.StatusBadRequest, "Bad Request", "Application", bad, "invalid")
		return
	}
	var out []*Activity
	for _, a := range s.Activities(t.athlete) {
		if q.matches(a) && (!a.Private || hasScope(t, "activity:read_all")) {
			out = append(out, a)
		}
	}
	if q.before != nil || q.after == nil {
		slices.Reverse(out)
	}
	lo := min((q.page-1)*q.perPage, len(out))
	page := out[lo:min(lo+q.perPage, len(out))]
	list := make([]*stravaActivityJSON, len(page))
	for i, a := range page {
		list[i] = s.activityJSON(a, false)
	}
	writeJSON(w, http.StatusOK, list)
}

type listQuery struct {
	before, after *int64
	page, perPage int
}

func (q listQuery) matches(a *Activity) bool {
	t := a.Start.Unix()
	return (q.before == nil || t < *q.before) && (q.after == nil || t > *q.after)
}

// parseListQuery reads before, after, page and per_page, naming the
// first bad one.
func parseListQuery(r *http.Request) (listQuery, string) {
	q := listQuery{page: 1, perPage: 30}
	v := r.URL.Query()
	for _, name := range []string{"before", "after"} {
		if s := v.Get(name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return q, name
			}
			if name == "before" {
				q.before = &n
			} else {
				q.after = &n
			}
		}
	}
	var ok bool
	if q.page, ok = intParam(v.Get("page"), 1, 1, 1<<20); !ok {
		return q, "page"
	}
	if q.perPage, ok = intParam(v.Get("per_page"), 30, 1, 200); !ok {
		return q, "per_page"
	}
	return q, ""
}

// intParam parses an optional integer in [lo, hi]; absent or 0 is def.
func intParam(s string, def, lo, hi int) (int, bool) {
	if s == "" {
		return def, true
	}
	n, err := strconv.Atoi(s)
	if n == 0 && err == nil {
		return def, true
	}
	return n, err == nil && n >= lo && n <= hi
}

// ownActivity finds the path's activity when the token may see it.
func (s *Sim) ownActivity(w http.ResponseWriter, r *http.Request) *Activity {
	t := tokenOf(r)
	if !canReadActivities(w, t) {
		return nil
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, a := range s.Activities(t.athlete) {
		if a.ID == id && (!a.Private || hasScope(t, "activity:read_all")) {
			return a
		}
	}
	stravaError(w, http.StatusNotFound, "Record Not Found", "Activity", "id", "not found")
	return nil
}

func (s *Sim) stravaActivity(w http.ResponseWriter, r *http.Request) {
	if a := s.ownActivity(w, r); a != nil {
		writeJSON(w, http.StatusOK, s.activityJSON(a, true))
	}
}

// streamKeys are Strava's stream types in the order the simulator
// answers them.
var streamKeys = []string{"time", "latlng", "distance", "altitude", "velocity_smooth", "heartrate",
	"cadence", "watts", "temp", "moving", "grade_smooth"}

// stravaStreams answers the requested streams the activity has, plus the
// series_type stream (distance unless series_type=time), keyed by type
// with key_by_type=true and as a list otherwise.
func (s *Sim) stravaStreams(w http.ResponseWriter, r *http.Request) {
	a := s.ownActivity(w, r)
	if a == nil {
		return
	}
	series := r.URL.Query().Get("series_type")
	if series != "time" {
		series = "distance"
	}
	want := map[string]bool{series: true}
	for k := range strings.SplitSeq(r.URL.Query().Get("keys"), ",") {
		want[strings.TrimSpace(k)] = true
	}
	byType := r.URL.Query().Get("key_by_type") == "true"
	writeBody(w, http.StatusOK, encodeStreams(s.Streams(a), want, series, byType))
}

func localStart(a *Activity) time.Time { return a.Start.In(a.Athlete.Home.location()) }
