package syncer_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/garmin"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/provider"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sim/simtest"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/strava"
	"github.com/cairn-fit/cairn/syncer"
	"github.com/cairn-fit/cairn/weather"
	"gocloud.dev/blob/memblob"
)

// env is a sync service on a fresh database, talking to an in-process
// simulator over HTTP.
type env struct {
	t      *testing.T
	db     *dbtest.DB
	sim    *sim.Sim
	simURL string
	svc    *syncer.Service
	user   *cairn.User
	ctx    context.Context // the user's
	strava *strava.Client
	clock  *provider.ManualClock
	cfg    syncer.Config
}

type envOptions struct {
	sim      sim.Config
	limits   strava.Limits
	clock    *provider.ManualClock
	maxWait  time.Duration
	workers  int
	noGarmin bool
	// verifyToken is what Strava's subscription validation must echo.
	verifyToken string
	// shared counts Strava's rate windows in the database, as processes
	// sharing one do.
	shared bool
}

// fastCaller retries at once-ish: the simulator's faults are the point,
// not the waits.
func fastCaller() provider.Options {
	return provider.Options{AttemptTimeout: 2 * time.Second, InitialBackoff: time.Millisecond,
		MaxBackoff: 20 * time.Millisecond, MaxTries: 12, BreakerOpen: 50 * time.Millisecond}
}

func newEnv(t *testing.T, db *dbtest.DB, o envOptions) *env {
	t.Helper()
	cfg := o.sim
	if cfg.Limits == (sim.Limits{}) && o.limits == (strava.Limits{}) {
		// Limits are the rate tests' business: elsewhere they are out
		// of the way.
		cfg.Limits = sim.Limits{Short: 1 << 30, Daily: 1 << 30, ReadShort: 1 << 30, ReadDaily: 1 << 30}
		o.limits = strava.Limits{Short: 1 << 30, Daily: 1 << 30, ReadShort: 1 << 30, ReadDaily: 1 << 30}
	}
	if o.clock != nil {
		cfg.Now = o.clock.Now
	}
	s, simURL := simtest.Serve(t, cfg)
	keyLine, _ := secrets.NewKey("test")
	keys, err := secrets.Parse(keyLine)
	if err != nil {
		t.Fatal(err)
	}
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	var clock provider.Clock = provider.RealClock{}
	if o.clock != nil {
		clock = o.clock
	}
	stc := strava.Config{APIURL: simURL + "/api/v3", OAuthURL: simURL + "/oauth", ClientID: "1001",
		ClientSecret: "strava-secret", Limits: o.limits, Caller: fastCaller(), Clock: clock, MaxWait: o.maxWait}
	if o.shared {
		stc.Shared = db.DB
	}
	sc := strava.New(stc)
	var gc *garmin.Client
	if !o.noGarmin {
		gc = garmin.New(garmin.Config{APIURL: simURL, ClientID: "garmin-client", ClientSecret: "garmin-secret", Caller: fastCaller()})
	}
	scfg := syncer.Config{
		DB: db.DB, Ingest: &ingest.Service{DB: db.DB, Bucket: bucket}, Bucket: bucket, Keys: keys,
		Strava: sc, Garmin: gc,
		Weather:  weather.New(simURL, fastCaller()),
		Geocoder: weather.NewGeocoder(simURL, "cairn-test", fastCaller()),
		Clock:    clock, BaseURL: "http://cairn.test", Lease: 2 * time.Second, Concurrency: max(o.workers, 4),
		StravaVerifyToken: o.verifyToken,
		Events:            func(ctx context.Context, tx *sqldb.Tx, ev cairn.Event) error { return tx.AppendEvent(ctx, &ev) },
	}
	svc := syncer.New(scfg)
	u := &cairn.User{Email: "ada@example.com", Name: "Ada"}
	if err := db.CreateUser(cairn.SystemContext(context.Background()), u); err != nil {
		t.Fatal(err)
	}
	ctx := cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID,
		Scopes: []cairn.Scope{cairn.ScopeActivityRead, cairn.ScopeActivityWrite}})
	return &env{t: t, db: db, sim: s, simURL: simURL, svc: svc, user: u, ctx: ctx, strava: sc, clock: o.clock, cfg: scfg}
}

// connect runs the OAuth dance: cairn's authorize URL, the simulator's
// consent page (approving at once), the redirect to cairn's callback.
func (e *env) connect(p string) *cairn.Connection {
	e.t.Helper()
	u, err := e.svc.AuthorizeURL(e.ctx, e.user.ID, p)
	if err != nil {
		e.t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(u)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		e.t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Path != "/oauth/callback/"+p {
		e.t.Fatalf("redirected to %s", loc)
	}
	c, err := e.svc.Callback(context.Background(), p, loc.Query().Get("code"), loc.Query().Get("state"))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// syncAll starts a sync of everything and runs it to its end.
func (e *env) syncAll(p string) *cairn.SyncSession {
	e.t.Helper()
	ss, err := e.svc.StartSync(e.ctx, cairn.SyncRequest{UserID: e.user.ID, Providers: []string{p}})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.run(ss[0].ID)
}

// run runs the session here and returns it once it has ended. With the
// queue started (withJobs), StartSync's own job may hold the session's
// lease first, and this Run returns at once: the session then ends there.
func (e *env) run(id string) *cairn.SyncSession {
	e.t.Helper()
	if err := e.svc.Run(context.Background(), id, ""); err != nil {
		e.t.Fatalf("run: %v", err)
	}
	var s *cairn.SyncSession
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if s, err = e.svc.FindSyncSession(e.ctx, id); err != nil {
			e.t.Fatal(err)
		}
		if s.Status.Done() || time.Now().After(deadline) {
			return s
		}
	}
}

func (e *env) activities() []cairn.Activity {
	e.t.Helper()
	var out []cairn.Activity
	page := cairn.PageRequest{Limit: 200}
	for {
		p, err := e.db.ListActivities(e.ctx, cairn.ActivityFilter{UserID: e.user.ID, Page: page})
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, p.Data...)
		if p.NextCursor == nil {
			return out
		}
		page.Cursor = *p.NextCursor
	}
}
