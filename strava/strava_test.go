package strava_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/provider"
	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sim/simtest"
	"github.com/cairn-fit/cairn/strava"
)

// The client against the simulator, served over HTTP as the real API is.

type fixture struct {
	sim    *sim.Sim
	url    string
	client *strava.Client
	ath    *sim.Athlete
}

// fast retries at once-ish: the simulator's faults are the point, not
// the waits.
func fast() provider.Options {
	return provider.Options{AttemptTimeout: 2 * time.Second, InitialBackoff: time.Millisecond,
		MaxBackoff: 10 * time.Millisecond, MaxTries: 12, BreakerOpen: 20 * time.Millisecond, BreakerFailures: 100}
}

func serve(t *testing.T, cfg sim.Config, ccfg strava.Config) *fixture {
	t.Helper()
	s, url := simtest.Serve(t, cfg)
	ccfg.APIURL, ccfg.OAuthURL = url+"/api/v3", url+"/oauth"
	ccfg.ClientID, ccfg.ClientSecret = "1001", "strava-secret"
	if ccfg.Caller.MaxTries == 0 {
		ccfg.Caller = fast()
	}
	return &fixture{sim: s, url: url, client: strava.New(ccfg), ath: s.Athletes()[0]}
}

// unlimited keeps the simulator's rate limits out of the way.
var unlimited = sim.Limits{Short: 1 << 30, Daily: 1 << 30, ReadShort: 1 << 30, ReadDaily: 1 << 30}

func (f *fixture) token() string {
	access, _ := f.sim.IssueToken(sim.ProviderStrava, "1001", f.ath, strava.Scope)
	return access
}

// calls is how many calls the simulator answered on a route with a status.
func (f *fixture) calls(pattern, status string) int { return f.sim.Stats().Calls[pattern][status] }

const listRoute = "GET /api/v3/athlete/activities"

// TestOAuth: the consent page's code is exchanged for tokens of the
// athlete; an expired access token is a 401 that is not retried; the
// refresh token brings a working one; spent or unknown grants are
// UNAUTHENTICATED.
func TestOAuth(t *testing.T) {
	f := serve(t, sim.Config{Seed: 1, StravaActivities: 3, Limits: unlimited}, strava.Config{})
	ctx := context.Background()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(f.client.AuthorizeURL("http://cairn.test/oauth/callback/strava", "st4te"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "st4te" || loc.Host != "cairn.test" {
		t.Fatalf("consent: %d %v", resp.StatusCode, loc)
	}
	tok, err := f.client.Exchange(ctx, loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Athlete == nil || tok.Athlete.ID != f.ath.ID || tok.RefreshToken == "" || !tok.Expiry().After(time.Now()) {
		t.Fatalf("token %+v", tok)
	}
	if _, err := f.client.Exchange(ctx, loc.Query().Get("code")); cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED {
		t.Errorf("a spent code: %v", err)
	}
	if _, err := f.client.ListActivities(ctx, tok.AccessToken, strava.ListQuery{}); err != nil {
		t.Fatal(err)
	}

	f.sim.ExpireTokens()
	_, err = f.client.ListActivities(ctx, tok.AccessToken, strava.ListQuery{})
	if cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED || cairn.Retryable(err) {
		t.Fatalf("expired token: %v (retryable %v)", err, cairn.Retryable(err))
	}
	if n := f.calls(listRoute, "401"); n != 1 {
		t.Errorf("a 401 was sent %d times, want once", n)
	}
	fresh, err := f.client.Refresh(ctx, tok.RefreshToken)
	if err != nil || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: %+v %v", fresh, err)
	}
	if _, err := f.client.ListActivities(ctx, fresh.AccessToken, strava.ListQuery{}); err != nil {
		t.Errorf("the refreshed token: %v", err)
	}
	if _, err := f.client.Refresh(ctx, "not-a-refresh-token"); cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED {
		t.Errorf("unknown refresh token: %v", err)
	}
}

// TestListPaging: pages of per_page newest first cover the history once;
// after lists oldest first from there; per_page over Strava's 200 is
// refused, not retried.
func TestListPaging(t *testing.T) {
	f := serve(t, sim.Config{Seed: 2, StravaActivities: 45, Limits: unlimited}, strava.Config{})
	ctx, access := context.Background(), f.token()
	var got []int64
	for page := 1; ; page++ {
		list, err := f.client.ListActivities(ctx, access, strava.ListQuery{Page: page, PerPage: 20})
		if err != nil {
			t.Fatal(err)
		}
		if want := min(20, max(45-(page-1)*20, 0)); len(list) != want {
			t.Fatalf("page %d: %d activities, want %d", page, len(list), want)
		}
		if len(list) == 0 {
			break
		}
		for _, a := range list {
			got = append(got, a.ID)
		}
	}
	var want []int64
	acts := f.sim.Activities(f.ath)
	for _, a := range acts {
		want = append(want, a.ID)
	}
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Errorf("listed %v\nwant %v", got, want)
	}

	after := acts[9].Start
	list, err := f.client.ListActivities(ctx, access, strava.ListQuery{After: &after, PerPage: 5})
	if err != nil || len(list) != 5 || list[0].ID != acts[10].ID || list[4].ID != acts[14].ID {
		t.Errorf("after the 10th: %d %v", len(list), err)
	}
	before := acts[5].Start
	list, err = f.client.ListActivities(ctx, access, strava.ListQuery{Before: &before, PerPage: 200})
	if err != nil || len(list) != 5 || list[0].ID != acts[4].ID {
		t.Errorf("before the 6th: %d %v", len(list), err)
	}

	_, err = f.client.ListActivities(ctx, access, strava.ListQuery{PerPage: 201})
	if err == nil || cairn.Retryable(err) || cairn.ErrorKind(err) != cairn.KindInvalidData {
		t.Errorf("per_page 201: %v", err)
	}
	if n := f.calls(listRoute, "400"); n != 1 {
		t.Errorf("per_page 201 sent %d times, want once", n)
	}
}

// TestDetailAndStreams: the details decode with the simulator's values;
// the streams come keyed by type, staged as sent and decoded to the
// simulator's samples.
func TestDetailAndStreams(t *testing.T) {
	f := serve(t, sim.Config{Seed: 3, StravaActivities: 4, Limits: unlimited}, strava.Config{})
	ctx, access := context.Background(), f.token()
	for _, a := range f.sim.Activities(f.ath) {
		d, raw, err := f.client.Activity(ctx, access, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.ID != a.ID || d.Name != a.Name || d.SportType != a.SportType || !d.StartDate.Equal(a.Start) ||
			d.ElapsedTime != a.Elapsed || d.Private != a.Private || len(d.Laps) == 0 {
			t.Errorf("detail %+v\nof %+v", d, a)
		}
		again, err := strava.DecodeActivity(raw)
		if err != nil || again.ID != d.ID || again.Name != d.Name {
			t.Errorf("staged detail: %v", err)
		}

		raw, err = f.client.ActivityStreams(ctx, access, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var keyed map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keyed); err != nil || keyed["time"] == nil {
			t.Fatalf("streams are not keyed by type: %.80s", raw)
		}
		st, err := strava.DecodeStreams(raw)
		if err != nil {
			t.Fatal(err)
		}
		want := f.sim.Streams(a)
		if st.Time == nil || len(st.Time.Data) != len(want.Time) || st.Time.Data[len(want.Time)-1] != int64(want.Time[len(want.Time)-1]) {
			t.Fatalf("time stream: %d samples, want %d", len(st.Time.Data), len(want.Time))
		}
		if len(want.HeartRate) > 0 && (st.HR == nil || st.HR.Data[7] != float64(want.HeartRate[7])) {
			t.Errorf("heart rate stream differs")
		}
		if len(want.LatLng) > 0 && (st.LatLng == nil || st.LatLng.Data[3] != want.LatLng[3]) {
			t.Errorf("latlng stream differs")
		}
		if (len(want.Watts) > 0) != (st.Watts != nil) {
			t.Errorf("watts: %d samples at the simulator, decoded %v", len(want.Watts), st.Watts != nil)
		}
	}
	if _, _, err := f.client.Activity(ctx, access, 42); cairn.ErrorCode(err) != cairn.ENOTFOUND || cairn.Retryable(err) {
		t.Errorf("unknown activity: %v", err)
	}
	if _, err := strava.DecodeStreams([]byte(`{"time": `)); cairn.ErrorCode(err) != cairn.EINVALIDFILE {
		t.Errorf("cut-off staged streams: %v", err)
	}
}

// TestRateHeaders: the budget learns the application's limits and usage
// from the answers' headers and stops before a window is exceeded
// (RATE_LIMITED with a Retry-After, nothing sent); a second process's
// client, unaware, meets Strava's 429 whose headers show the window full:
// RATE_LIMITED, and not sent again.
func TestRateHeaders(t *testing.T) {
	limits := sim.Limits{Short: 1000, Daily: 1000, ReadShort: 5, ReadDaily: 1000}
	f := serve(t, sim.Config{Seed: 4, StravaActivities: 2, Limits: limits}, strava.Config{MaxWait: time.Second})
	ctx, access := context.Background(), f.token()
	for i := range 5 {
		if _, err := f.client.ListActivities(ctx, access, strava.ListQuery{}); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	_, err := f.client.ListActivities(ctx, access, strava.ListQuery{})
	if cairn.ErrorCode(err) != cairn.ERATELIMITED || cairn.ErrorRetryAfter(err) <= time.Second {
		t.Fatalf("the sixth read in the window: %v", err)
	}
	if f.calls(listRoute, "200") != 5 || f.calls(listRoute, "429") != 0 {
		t.Errorf("the simulator saw %v", f.sim.Stats().Calls[listRoute])
	}
	if h := f.client.Budget().History(2); h[len(h)-1].Used != 5 {
		t.Errorf("read window use %v, want 5", h)
	}

	other := strava.New(strava.Config{APIURL: f.url + "/api/v3", OAuthURL: f.url + "/oauth", ClientID: "1001",
		ClientSecret: "strava-secret", Caller: fast(), MaxWait: time.Second})
	_, err = other.ListActivities(ctx, access, strava.ListQuery{})
	if cairn.ErrorCode(err) != cairn.ERATELIMITED || cairn.ErrorKind(err) != cairn.KindRateLimit {
		t.Fatalf("a full window's 429: %v", err)
	}
	if n := f.calls(listRoute, "429"); n != 1 {
		t.Errorf("429 answered %d times, want 1: the headers showed the window full", n)
	}
}

// TestFaultClassification: every injected fault is classified retryable,
// by its kind: a 429 without full windows and 5xx are temporary, a hang
// is a network timeout, a cut-off body is temporary. With retries the
// same calls go through.
func TestFaultClassification(t *testing.T) {
	once := fast()
	once.MaxTries, once.AttemptTimeout = 1, 2*time.Second
	f := serve(t, sim.Config{Seed: 5, StravaActivities: 3, Limits: unlimited, FaultRate: 1, FaultTimeout: 5 * time.Second},
		strava.Config{Caller: once})
	ctx, access := context.Background(), f.token()
	want := map[string]string{sim.FaultRateLimit: cairn.KindTemporary, sim.FaultServer: cairn.KindTemporary,
		sim.FaultHang: cairn.KindNetwork, sim.FaultMalformed: cairn.KindTemporary}
	seen := map[string]bool{}
	for i := 0; len(seen) < len(want) && i < 200; i++ {
		before := f.sim.Stats().Faults
		_, err := f.client.ListActivities(ctx, access, strava.ListQuery{})
		var kind string
		for k, n := range f.sim.Stats().Faults {
			if n > before[k] {
				kind = k
			}
		}
		if kind == "" || err == nil {
			t.Fatalf("call %d: fault %q, error %v", i, kind, err)
		}
		seen[kind] = true
		if !cairn.Retryable(err) || cairn.ErrorKind(err) != want[kind] {
			t.Errorf("%s fault: %v, kind %s, want retryable %s", kind, err, cairn.ErrorKind(err), want[kind])
		}
	}
	if len(seen) < len(want) {
		t.Fatalf("faults seen: %v", seen)
	}
}

// TestRetriesThroughFaults: with a third of the calls failing, listing,
// details and streams all come through, the failed attempts retried.
func TestRetriesThroughFaults(t *testing.T) {
	// Hangs end in the simulator's 504 before the client's timeout, which
	// a loaded machine's slow answers must not meet.
	f := serve(t, sim.Config{Seed: 6, StravaActivities: 12, Limits: unlimited, FaultRate: 0.3, FaultTimeout: 200 * time.Millisecond},
		strava.Config{Caller: func() provider.Options { o := fast(); o.AttemptTimeout = 10 * time.Second; return o }()})
	ctx, access := context.Background(), f.token()
	list, err := f.client.ListActivities(ctx, access, strava.ListQuery{PerPage: 200})
	if err != nil || len(list) != 12 {
		t.Fatalf("list: %d %v", len(list), err)
	}
	for _, a := range list {
		if _, _, err := f.client.Activity(ctx, access, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.client.ActivityStreams(ctx, access, a.ID); err != nil {
			t.Fatal(err)
		}
	}
	faults := 0
	for _, n := range f.sim.Stats().Faults {
		faults += n
	}
	st := f.client.Caller().Stats()
	if faults == 0 || st.Failures < int64(faults) || st.Successes != 25 {
		t.Errorf("faults %d, caller %+v", faults, st)
	}
}
