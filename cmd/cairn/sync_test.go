package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sqlite"
)

// startSim runs `cairn sim` as a process and returns its URL.
func startSim(t *testing.T, bin string, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, append([]string{"sim", "--addr", addr}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/sim/athletes"); err == nil {
			resp.Body.Close()
			return base
		}
	}
	t.Fatalf("cairn sim did not start: %s", out.String())
	return ""
}

func syncToken(t *testing.T, storage []string, email string) string {
	t.Helper()
	out, code := cli(t, context.Background(), "", append([]string{"token", "create", "--user", email,
		"--scopes", "profile:read activity:read activity:write"}, storage...)...)
	var tok struct{ Token string }
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil || tok.Token == "" {
		t.Fatalf("token create: %d %q", code, out)
	}
	return tok.Token
}

type sessionView struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Counters struct {
		Estimated, Fetched, Enriched, Stored, Failed int
	} `json:"counters"`
	Retries int               `json:"retries"`
	Errors  []json.RawMessage `json:"errors"`
}

// TestSyncSurvivesSIGKILL is the sync's proof against real processes: a
// full sync of 1,000 Strava activities from `cairn sim` with 5% of calls
// failing (429s, 5xx, hangs, cut-off bodies), the server killed with
// SIGKILL half way and started again on the same data. Every activity
// ends stored exactly once with its streams and (outdoors) its weather,
// and the successful API calls are the minimum: the list pages, one
// detail and one streams call per activity, plus at most the calls in
// flight at the kill.
func TestSyncSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it")
	}
	const n = 1000
	bin := buildCairn(t)
	unlimited := []string{"--rate-limit", "100000000", "--rate-limit-daily", "100000000",
		"--read-rate-limit", "100000000", "--read-rate-limit-daily", "100000000"}
	strava := startSim(t, bin, append([]string{"--seed", "42", "--strava-activities", fmt.Sprint(n),
		"--fault-rate", "0.05", "--fault-timeout", "300ms"}, unlimited...)...)
	// Weather and places from a simulator of their own, without faults,
	// so that the Strava simulator's counts are Strava's alone.
	enrich := startSim(t, bin, "--seed", "42", "--strava-activities", "1")

	dir := t.TempDir()
	storage := []string{"--data-dir", dir}
	args := append([]string{"--strava-api-url", strava + "/api/v3", "--strava-oauth-url", strava + "/oauth",
		"--strava-client-id", "1001", "--strava-client-secret", "strava-secret",
		"--weather-url", enrich, "--geocode-url", enrich, "--geocode-rate", "0",
		"--provider-timeout", "2s", "--sync-lease", "2s", "--sync-resume-every", "1s", "--sync-concurrency", "4"}, storage...)
	srv := startServer(t, bin, args...)

	out, code := cli(t, context.Background(), "", append([]string{"user", "create", "--email", "ada@example.com", "--name", "Ada"}, storage...)...)
	var ada struct{ ID string }
	if code != 0 || json.Unmarshal([]byte(out), &ada) != nil {
		t.Fatalf("user create: %d %s", code, out)
	}
	tok := syncToken(t, storage, "ada@example.com")

	// Connect: cairn's authorize URL, the simulator's consent (at once),
	// back to cairn's callback.
	var auth struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	if st := srv.call(t, "POST", "/v1/users/"+ada.ID+"/connections/strava", tok, "", &auth); st != 200 {
		t.Fatalf("connect: %d", st)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(auth.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d %v", resp.StatusCode, err)
	}
	if resp, err = http.Get(back.String()); err != nil || resp.StatusCode != 200 {
		t.Fatalf("callback %s: %v %v", back, err, resp)
	}
	resp.Body.Close()
	// Count from here: the connection's calls are not the sync's.
	if resp, err = http.Post(strava+"/sim/reset", "", nil); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	var started struct{ Data []sessionView }
	if st := srv.call(t, "POST", "/v1/users/"+ada.ID+"/sync", tok, `{}`, &started); st != 202 || len(started.Data) != 1 {
		t.Fatalf("start sync: %d %+v", st, started)
	}
	id := started.Data[0].ID
	begin := time.Now()

	// Kill the server half way through: once some activities are stored.
	var mid sessionView
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		srv.call(t, "GET", "/v1/sync-sessions/"+id, tok, "", &mid)
		if mid.Counters.Stored >= n/3 || mid.Counters.Fetched >= n*2/3 && mid.Status == "FETCHING_ACTIVITIES" {
			break
		}
		if mid.Status == "COMPLETED" || time.Now().After(deadline) {
			t.Fatalf("the sync was not caught half way: %+v", mid)
		}
	}
	if err := srv.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = srv.cmd.Wait()
	t.Logf("killed in %s with %+v after %s", mid.Status, mid.Counters, time.Since(begin).Round(time.Millisecond))

	srv = startServer(t, bin, args...)
	var end sessionView
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		srv.call(t, "GET", "/v1/sync-sessions/"+id, tok, "", &end)
		if end.Status == "COMPLETED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sync did not complete after the restart: %+v\n%s", end, srv.log.String())
		}
	}
	t.Logf("completed with %+v (retries %d) %s after the start", end.Counters, end.Retries, time.Since(begin).Round(time.Millisecond))
	if end.Counters.Stored != n || end.Counters.Failed != 0 {
		t.Errorf("counters %+v, want %d stored", end.Counters, n)
	}

	// The database: every activity once, with streams; weather where
	// there is a position.
	db, err := sql.Open("sqlite", filepath.Join(dir, "cairn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var acts, distinct, withSeries, withWeather, located int
	must := func(q string, dst *int) {
		if err := db.QueryRow(q).Scan(dst); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	must("SELECT count(*) FROM activities WHERE provider = 'strava' AND deleted_at IS NULL", &acts)
	must("SELECT count(DISTINCT external_id) FROM activity_sources WHERE provider = 'strava'", &distinct)
	must(`SELECT count(DISTINCT a.id) FROM activities a JOIN metrics m ON m.activity_id = a.id
		WHERE a.provider = 'strava' AND m.type = 'speed'`, &withSeries)
	must("SELECT count(*) FROM activity_enrichments WHERE temperature_c IS NOT NULL", &withWeather)
	must("SELECT count(*) FROM activity_enrichments WHERE latitude IS NOT NULL", &located)
	if acts != n || distinct != n || withSeries != n || withWeather != located || located == 0 {
		t.Errorf("activities %d, distinct ids %d, with series %d, with weather %d of %d located; want %d",
			acts, distinct, withSeries, withWeather, located, n)
	}

	// The simulator's counts: successful calls (200s, less the answers
	// cut off on purpose) against the minimum.
	var st sim.Stats
	resp, err = http.Get(strava + "/sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	pages := st.CallCount("GET /api/v3/athlete/activities", 200)
	details := st.CallCount("GET /api/v3/activities/{id}", 200)
	streams := st.CallCount("GET /api/v3/activities/{id}/streams", 200)
	good := pages + details + streams - st.Faults[sim.FaultMalformed]
	minimum := n/200 + 1 + 2*n
	t.Logf("sim: %d list pages, %d details, %d streams answered 200 (%d of them cut off on purpose); faults %v; calls %v",
		pages, details, streams, st.Faults[sim.FaultMalformed], st.Faults, st.Calls)
	t.Logf("successful calls %d, minimum %d, repeated after the kill %d", good, minimum, good-minimum)
	// At most the calls in flight at the kill are repeated: one per
	// worker (--sync-concurrency 4).
	if good < minimum || good > minimum+4 {
		t.Errorf("successful calls %d, want the minimum %d (+ at most 4 in flight at the kill)", good, minimum)
	}
	if _, err := sqlite.Open(filepath.Join(dir, "cairn.db")); err != nil { // the store still opens: no corruption
		t.Error(err)
	}
}
