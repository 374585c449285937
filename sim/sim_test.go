package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *clock { return &clock{now: t} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// server runs a simulator on a real loopback listener, so that its
// BaseURL (in Garmin callback URLs) is known before it is built.
type server struct {
	*Sim
	URL    string
	client *http.Client
}

func newServer(t testing.TB, cfg Config) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseURL = "http://" + ln.Addr().String()
	if cfg.StravaActivities == 0 {
		cfg.StravaActivities = 40
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: s}}
	srv.Start()
	t.Cleanup(srv.Close)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &server{Sim: s, URL: cfg.BaseURL, client: noRedirect}
}

// call sends a request with an optional bearer token and form body.
func (sv *server) call(t testing.TB, method, path, token string, form url.Values) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, sv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return sv.do(t, req)
}

func (sv *server) do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := sv.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// get calls and decodes a JSON answer, failing unless the status is want.
func (sv *server) get(t testing.TB, path, token string, want int, into any) http.Header {
	t.Helper()
	resp, b := sv.call(t, http.MethodGet, path, token, nil)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: status %d, want %d: %s", path, resp.StatusCode, want, b)
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	return resp.Header
}

// requireKeys fails unless m has every key.
func requireKeys(t *testing.T, what string, m map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s lacks %q", what, k)
		}
	}
}

// callback is a partner's webhook endpoint that records what it gets.
type callback struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	header []http.Header
	status int
}

func newCallback(t *testing.T) *callback {
	cb := &callback{status: http.StatusOK}
	cb.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet { // Strava's subscription validation
			if r.URL.Query().Get("hub.verify_token") != "right" {
				http.Error(w, "bad token", http.StatusForbidden)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"hub.challenge": r.URL.Query().Get("hub.challenge")})
			return
		}
		b, _ := io.ReadAll(r.Body)
		cb.mu.Lock()
		cb.bodies = append(cb.bodies, b)
		cb.header = append(cb.header, r.Header.Clone())
		status := cb.status
		cb.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(cb.Close)
	return cb
}

func (cb *callback) received() [][]byte {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return append([][]byte(nil), cb.bodies...)
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{FaultRate: 1.5},
		{TokenCalls: -1},
		{GarminEndpoints: map[string]Endpoint{"dailies": {URL: "http://127.0.0.1:1", Mode: "carrier-pigeon"}}},
		{GarminEndpoints: map[string]Endpoint{"stress": {URL: "http://127.0.0.1:1", Mode: ModePush}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// TestDeterminism: two simulators with one seed answer every data
// endpoint byte for byte alike; another seed answers otherwise.
func TestDeterminism(t *testing.T) {
	bodies := func(seed uint64) [][]byte {
		clk := newClock(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))
		sv := newServer(t, Config{Seed: seed, Athletes: 2, StravaActivities: 12, Now: clk.Now})
		ath := sv.Athletes()[1]
		strava, _ := sv.IssueToken(ProviderStrava, "1001", ath, "activity:read_all")
		garmin, _ := sv.IssueToken(ProviderGarmin, "garmin-client", ath, "")
		a := ath.Activities[3]
		day := ath.Activities[5].Start.Unix()
		paths := []struct{ path, token string }{
			{"/api/v3/athlete", strava},
			{"/api/v3/athlete/activities?per_page=200", strava},
			{"/api/v3/activities/" + itoa(a.ID), strava},
			{"/api/v3/activities/" + itoa(a.ID) + "/streams?keys=time,latlng,altitude,heartrate,watts,cadence&key_by_type=true", strava},
			{"/v1/archive?latitude=46.05&longitude=14.5&start_date=2025-07-01&end_date=2025-07-02&hourly=temperature_2m,weather_code,uv_index", ""},
			{"/reverse?lat=46.05&lon=14.51&format=jsonv2", ""},
			{"/wellness-api/rest/dailies?uploadStartTimeInSeconds=" + itoa(day) + "&uploadEndTimeInSeconds=" + itoa(day+86400), garmin},
			{"/wellness-api/rest/activityDetails?uploadStartTimeInSeconds=" + itoa(day) + "&uploadEndTimeInSeconds=" + itoa(day+86400), garmin},
		}
		var out [][]byte
		for _, p := range paths {
			resp, b := sv.call(t, http.MethodGet, p.path, p.token, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", p.path, resp.StatusCode, b)
			}
			out = append(out, b)
		}
		fit, err := sv.FIT(a)
		if err != nil {
			t.Fatal(err)
		}
		return append(out, fit, []byte(strava), []byte(garmin))
	}
	one, two, other := bodies(7), bodies(7), bodies(8)
	for i := range one {
		if !bytes.Equal(one[i], two[i]) {
			t.Errorf("answer %d differs between two simulators with seed 7", i)
		}
	}
	if bytes.Equal(one[1], other[1]) || bytes.Equal(one[4], other[4]) {
		t.Error("seeds 7 and 8 gave the same activities or weather")
	}
}

func TestStatsAndReset(t *testing.T) {
	sv := newServer(t, Config{Seed: 1})
	token, _ := sv.IssueToken(ProviderStrava, "1001", sv.Athletes()[0], "activity:read")
	sv.get(t, "/api/v3/athlete/activities", token, http.StatusOK, nil)
	sv.get(t, "/api/v3/athlete/activities", token, http.StatusOK, nil)
	sv.get(t, "/api/v3/activities/1", token, http.StatusNotFound, nil)
	sv.get(t, "/api/v3/athlete", "nonsense", http.StatusUnauthorized, nil)
	var st Stats
	sv.get(t, "/sim/stats", "", http.StatusOK, &st)
	for _, c := range []struct {
		pattern string
		status  int
		n       int
	}{
		{"GET /api/v3/athlete/activities", 200, 2},
		{"GET /api/v3/activities/{id}", 404, 1},
		{"GET /api/v3/athlete", 401, 1},
	} {
		if got := st.CallCount(c.pattern, c.status); got != c.n {
			t.Errorf("%s %d: %d calls, want %d (stats %v)", c.pattern, c.status, got, c.n, st.Calls)
		}
	}
	if _, ok := st.Calls["GET /sim/stats"]; ok {
		t.Error("the simulator's own endpoints are counted")
	}
	if resp, _ := sv.call(t, http.MethodPost, "/sim/reset", "", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if st := sv.Stats(); len(st.Calls) != 0 {
		t.Errorf("after reset: %v", st.Calls)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
