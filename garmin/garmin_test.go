package garmin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/garmin"
	"github.com/cairn-fit/cairn/provider"
	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sim/simtest"
)

// The client against the simulator's Garmin, served over HTTP.

type fixture struct {
	sim    *sim.Sim
	url    string
	client *garmin.Client
	ath    *sim.Athlete
}

func fast() provider.Options {
	return provider.Options{AttemptTimeout: 2 * time.Second, InitialBackoff: time.Millisecond,
		MaxBackoff: 10 * time.Millisecond, MaxTries: 12, BreakerOpen: 20 * time.Millisecond, BreakerFailures: 100}
}

func serve(t *testing.T, cfg sim.Config, opt provider.Options) *fixture {
	t.Helper()
	s, url := simtest.Serve(t, cfg)
	c := garmin.New(garmin.Config{APIURL: url, ClientID: "garmin-client", ClientSecret: "garmin-secret", Caller: opt})
	return &fixture{sim: s, url: url, client: c, ath: s.Athletes()[0]}
}

func (f *fixture) token() string {
	access, _ := f.sim.IssueToken(sim.ProviderGarmin, "garmin-client", f.ath, "")
	return access
}

// lastGarmin is the athlete's latest activity that a Garmin device
// recorded.
func (f *fixture) lastGarmin(t *testing.T) *sim.Activity {
	acts := f.sim.Activities(f.ath)
	for i := len(acts) - 1; i >= 0; i-- {
		if acts[i].GarminID != 0 {
			return acts[i]
		}
	}
	t.Fatal("no Garmin activity")
	return nil
}

// TestOAuthPKCE: the consent page's code and the PKCE verifier give
// tokens of the athlete's Garmin user; a wrong verifier is refused;
// refreshing rotates the refresh token, which cannot be used twice.
func TestOAuthPKCE(t *testing.T) {
	f := serve(t, sim.Config{Seed: 1, StravaActivities: 2}, fast())
	ctx := context.Background()
	verifier := "a-verifier-of-at-least-forty-three-characters-0123456789"
	redirect := "http://cairn.test/oauth/callback/garmin"
	code := func() string {
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirect.Get(f.client.AuthorizeURL(redirect, "st4te", verifier))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc.Query().Get("state") != "st4te" {
			t.Fatalf("consent: %d %v", resp.StatusCode, loc)
		}
		return loc.Query().Get("code")
	}
	if _, err := f.client.Exchange(ctx, code(), redirect, "not-the-verifier-not-the-verifier-not-the-verifier"); cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED {
		t.Errorf("wrong verifier: %v", err)
	}
	tok, err := f.client.Exchange(ctx, code(), redirect, verifier)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.ExpiresIn < 86000 || tok.ExpiresIn > 86400 {
		t.Fatalf("token %+v", tok)
	}
	id, err := f.client.UserID(ctx, tok.AccessToken)
	if err != nil || id != f.ath.GarminUserID {
		t.Fatalf("user id %q %v, want %q", id, err, f.ath.GarminUserID)
	}
	fresh, err := f.client.Refresh(ctx, tok.RefreshToken)
	if err != nil || fresh.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %+v %v", fresh, err)
	}
	if _, err := f.client.Refresh(ctx, tok.RefreshToken); cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED {
		t.Errorf("a spent refresh token: %v", err)
	}
	if _, err := f.client.UserID(ctx, fresh.AccessToken); err != nil {
		t.Errorf("the refreshed token: %v", err)
	}
	if err := f.client.Deregister(ctx, fresh.AccessToken); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.UserID(ctx, fresh.AccessToken)
	if cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED || cairn.Retryable(err) {
		t.Errorf("after deregistration: %v", err)
	}
	if n := f.sim.Stats().Calls["GET /wellness-api/rest/user/id"]["401"]; n != 1 {
		t.Errorf("the 401 was sent %d times, want once", n)
	}
}

// TestPullAndFile: a day's pull holds the activity uploaded in it; its
// file notice's callbackURL downloads a FIT file; a URL that is not
// Garmin's API is refused before any call.
func TestPullAndFile(t *testing.T) {
	f := serve(t, sim.Config{Seed: 2, StravaActivities: 20}, fast())
	ctx, access := context.Background(), f.token()
	a := f.lastGarmin(t)
	from, to := a.Start, a.Start.Add(24*time.Hour)
	items, err := f.client.Pull(ctx, access, "activities", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if !contains(t, items, a.GarminID) {
		t.Fatalf("the pull of %v holds no activity %d: %d items", from, a.GarminID, len(items))
	}
	files, err := f.client.Pull(ctx, access, "activityFiles", from, to)
	if err != nil {
		t.Fatal(err)
	}
	var notice struct {
		ActivityID  int64  `json:"activityId"`
		CallbackURL string `json:"callbackURL"`
	}
	for _, raw := range files {
		if err := json.Unmarshal(raw, &notice); err != nil {
			t.Fatal(err)
		}
		if notice.ActivityID == a.GarminID {
			break
		}
	}
	if notice.ActivityID != a.GarminID {
		t.Fatalf("no file notice of %d", a.GarminID)
	}
	fit, err := f.client.ActivityFile(ctx, access, notice.CallbackURL)
	if err != nil {
		t.Fatal(err)
	}
	if len(fit) < 14 || !bytes.Equal(fit[8:12], []byte(".FIT")) {
		t.Errorf("not a FIT file: % x", fit[:min(len(fit), 14)])
	}

	before := f.sim.Stats().Calls
	for _, u := range []string{"http://evil.test/wellness-api/rest/activities", f.url + "/oauth2Confirm"} {
		if _, err := f.client.PullURL(ctx, access, u); cairn.ErrorCode(err) != cairn.EVALIDATION {
			t.Errorf("pull %s: %v", u, err)
		}
		if _, err := f.client.ActivityFile(ctx, access, u); cairn.ErrorCode(err) != cairn.EVALIDATION {
			t.Errorf("file %s: %v", u, err)
		}
	}
	if after := f.sim.Stats().Calls; len(after) != len(before) {
		t.Errorf("foreign URLs reached the simulator: %v", after)
	}
	// a pull over more than a day is Garmin's 400: invalid, not retried
	_, err = f.client.Pull(ctx, access, "activities", from, from.Add(25*time.Hour))
	if err == nil || cairn.Retryable(err) {
		t.Errorf("a 25-hour pull: %v", err)
	}
}

func contains(t *testing.T, items []json.RawMessage, id int64) bool {
	for _, raw := range items {
		var it struct {
			ActivityID int64 `json:"activityId"`
		}
		if err := json.Unmarshal(raw, &it); err != nil {
			t.Fatal(err)
		}
		if it.ActivityID == id {
			return true
		}
	}
	return false
}

// TestBackfill409: a backfill window is accepted once; asked again it is
// Garmin's 409, ErrAlreadyRequested (QUOTA_EXCEEDED, not retryable), sent
// once.
func TestBackfill409(t *testing.T) {
	f := serve(t, sim.Config{Seed: 3, StravaActivities: 10}, fast())
	ctx, access := context.Background(), f.token()
	end := f.lastGarmin(t).Start.Truncate(24 * time.Hour)
	start := end.Add(-7 * 24 * time.Hour)
	if err := f.client.Backfill(ctx, access, "activities", start, end); err != nil {
		t.Fatal(err)
	}
	err := f.client.Backfill(ctx, access, "activities", start, end)
	if err != garmin.ErrAlreadyRequested || cairn.Retryable(err) || cairn.ErrorKind(err) != cairn.KindQuotaExceeded {
		t.Fatalf("the same window again: %v (kind %s)", err, cairn.ErrorKind(err))
	}
	if err := f.client.Backfill(ctx, access, "dailies", start, end); err != nil {
		t.Errorf("another type's window: %v", err)
	}
	calls := f.sim.Stats().Calls["GET /wellness-api/rest/backfill/{type}"]
	if calls["202"] != 2 || calls["409"] != 1 {
		t.Errorf("backfill calls %v", calls)
	}
}

// TestWorkoutUpload: the Training API answers the workout with its id.
func TestWorkoutUpload(t *testing.T) {
	f := serve(t, sim.Config{Seed: 4, StravaActivities: 1}, fast())
	secs := 600.0
	w, err := f.client.CreateWorkout(context.Background(), f.token(), &garmin.Workout{WorkoutName: "Tempo", Sport: "RUNNING",
		Steps: []garmin.WorkoutStep{{Type: "WorkoutStep", StepOrder: 1, Intensity: "ACTIVE", DurationType: "TIME", DurationValue: &secs}}})
	if err != nil || w.WorkoutID == 0 || w.WorkoutName != "Tempo" {
		t.Fatalf("workout %+v %v", w, err)
	}
	_, err = f.client.CreateWorkout(context.Background(), f.token(), &garmin.Workout{WorkoutName: "No steps", Sport: "RUNNING"})
	if cairn.ErrorKind(err) != cairn.KindInvalidData {
		t.Errorf("a workout without steps: %v", err)
	}
}

// TestFaults: with half the calls failing, pulls and backfills go
// through on retries; each fault alone is classified retryable.
func TestFaults(t *testing.T) {
	// Hangs end in the simulator's 504 before the client's timeout, which
	// a loaded machine's slow answers must not meet.
	opt := fast()
	opt.AttemptTimeout = 10 * time.Second
	f := serve(t, sim.Config{Seed: 5, StravaActivities: 10, FaultRate: 0.5, FaultTimeout: 200 * time.Millisecond}, opt)
	ctx, access := context.Background(), f.token()
	a := f.lastGarmin(t)
	for range 5 {
		items, err := f.client.Pull(ctx, access, "activities", a.Start, a.Start.Add(24*time.Hour))
		if err != nil || !contains(t, items, a.GarminID) {
			t.Fatalf("pull through faults: %d items, %v", len(items), err)
		}
	}
	if f.sim.Stats().Faults == nil || f.client.Caller().Stats().Failures == 0 {
		t.Fatalf("no fault met: %+v", f.sim.Stats().Faults)
	}

	once := fast()
	once.MaxTries, once.AttemptTimeout = 1, 10*time.Second
	g := serve(t, sim.Config{Seed: 6, StravaActivities: 2, FaultRate: 1, FaultTimeout: 200 * time.Millisecond}, once)
	access = g.token()
	for range 12 {
		_, err := g.client.UserID(ctx, access)
		if err == nil || !cairn.Retryable(err) {
			t.Errorf("an injected fault: %v", err)
		}
	}
}
