package syncer_test

import (
	"context"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/provider"
	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/strava"
	"github.com/cairn-fit/cairn/syncer"
)

// TestSharedBudget: two processes of one deployment, each with its own
// Strava client, count the application's windows in their database. One
// uses up the read window; the other's sync, which would otherwise send
// its first calls into the full window (its workers go before any answer
// tells it), waits for the next window and completes, and Strava refuses
// nothing.
func TestSharedBudget(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		clock := provider.NewManualClock(time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC))
		e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 24, StravaActivities: 12, Limits: simLimits},
			limits: clientLimits, clock: clock})
		process := func() *strava.Client {
			return strava.New(strava.Config{APIURL: e.simURL + "/api/v3", OAuthURL: e.simURL + "/oauth", ClientID: "1001",
				ClientSecret: "strava-secret", Limits: clientLimits, Caller: fastCaller(), Clock: clock, Shared: db.DB})
		}
		e.connect(cairn.ProviderStrava)

		first := process()
		access, _ := e.sim.IssueToken(sim.ProviderStrava, "1001", e.sim.Athletes()[0], strava.Scope)
		for calls := 0; !first.Budget().Exhausted(2); calls++ {
			if _, err := first.ListActivities(context.Background(), access, strava.ListQuery{PerPage: 1}); err != nil || calls > 10 {
				t.Fatalf("call %d: %v", calls, err)
			}
		}
		window := clock.Now().Truncate(15 * time.Minute)

		cfg := e.cfg
		cfg.Strava = process()
		second := syncer.New(cfg)
		ss, err := second.StartSync(e.ctx, cairn.SyncRequest{UserID: e.user.ID, Providers: []string{cairn.ProviderStrava}})
		if err != nil {
			t.Fatal(err)
		}
		if err := second.Run(context.Background(), ss[0].ID, ""); err != nil {
			t.Fatal(err)
		}
		sess, _ := second.FindSyncSession(e.ctx, ss[0].ID)
		if sess.Status != cairn.SyncCompleted || sess.Counters.Stored != 12 {
			t.Fatalf("session %s %+v %+v", sess.Status, sess.Counters, sess.Errors)
		}
		if n := statuses(e.sim.Stats(), "429"); n != 0 {
			t.Errorf("Strava refused %d calls", n)
		}
		if !clock.Now().After(window.Add(15 * time.Minute)) {
			t.Errorf("the sync ended at %v, within the window the other process used up", clock.Now())
		}
	})
}
