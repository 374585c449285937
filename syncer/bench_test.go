package syncer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/provider"
	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/strava"
)

// BenchmarkSync measures activities synced a second from a simulator
// that imposes no limits: listing, details, streams, weather and place,
// storing through ingest (summary, series bundle, route), on SQLite. Each
// iteration is a new user syncing the athlete's whole history.
func BenchmarkSync(b *testing.B) {
	const n = 200
	for _, workers := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			db := dbtest.Open(b, "sqlite")
			t := &testing.T{}
			e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 41, StravaActivities: n}, workers: workers})
			e.t = nil
			var busy time.Duration
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				u := &cairn.User{Email: fmt.Sprintf("bench%d@example.com", i)}
				if err := db.CreateUser(cairn.SystemContext(context.Background()), u); err != nil {
					b.Fatal(err)
				}
				e.user = u
				e.ctx = cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID,
					Scopes: []cairn.Scope{cairn.ScopeActivityRead, cairn.ScopeActivityWrite}})
				e.t = t
				e.connect(cairn.ProviderStrava)
				ss, err := e.svc.StartSync(e.ctx, cairn.SyncRequest{UserID: u.ID})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				if err := e.svc.Run(context.Background(), ss[0].ID, ""); err != nil {
					b.Fatal(err)
				}
				busy += time.Since(start)
				b.StopTimer()
				if s, _ := e.svc.FindSyncSession(e.ctx, ss[0].ID); s.Counters.Stored != n {
					b.Fatalf("stored %d of %d", s.Counters.Stored, n)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/busy.Seconds(), "activities/s")
		})
	}
}

// BenchmarkRateBudget syncs 600 activities (1,204 calls) against Strava's
// default limits (100 read calls per 15 minutes, 1,000 a day) on the
// simulator's clock, and reports the share of the calls the limits
// allowed over the time the sync took that it used, and how many calls
// Strava refused (goal: over 95%, none): with the windows counted in
// the process (SQLite's single process) and in the database (PostgreSQL,
// which several processes may share; skipped without
// CAIRN_TEST_POSTGRES_URL).
func BenchmarkRateBudget(b *testing.B) {
	b.Run("in-process", func(b *testing.B) { rateBudget(b, "sqlite", false) })
	b.Run("shared-postgres", func(b *testing.B) { rateBudget(b, "postgres", true) })
}

func rateBudget(b *testing.B, dialect string, shared bool) {
	const n = 600
	for b.Loop() {
		b.StopTimer()
		db := dbtest.Open(b, dialect)
		start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		clock := provider.NewManualClock(start)
		t := &testing.T{}
		e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 42, StravaActivities: n, Limits: sim.DefaultLimits},
			limits: strava.Limits(sim.DefaultLimits), clock: clock, shared: shared})
		e.connect(cairn.ProviderStrava)
		ss, err := e.svc.StartSync(e.ctx, cairn.SyncRequest{UserID: e.user.ID})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := e.svc.Run(context.Background(), ss[0].ID, ""); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st := e.sim.Stats()
		calls := st.CallCount("GET /api/v3/athlete/activities", 200) + st.CallCount("GET /api/v3/activities/{id}", 200) +
			st.CallCount("GET /api/v3/activities/{id}/streams", 200)
		// The sync ends in its last window with nothing more to call:
		// the share is of the windows before it, whatever the clock says
		// they allowed (every 15 minutes' limit, capped by each day's).
		hist := e.strava.Budget().History(2)
		last := hist[len(hist)-1]
		allowed := allowedCalls(start, last.Start, sim.DefaultLimits)
		b.ReportMetric(100*float64(calls-last.Used)/float64(allowed), "%budget")
		b.ReportMetric(float64(statuses(st, "429")), "refused")
		b.ReportMetric(float64(calls), "calls")
		b.ReportMetric(clock.Now().Sub(start).Hours(), "sim-hours")
		b.StartTimer()
	}
}

// allowedCalls is how many read calls the limits allowed in [from, to):
// each 15-minute window's, capped by each UTC day's.
func allowedCalls(from, to time.Time, l sim.Limits) int {
	perDay := map[time.Time]int{}
	for w := from.Truncate(15 * time.Minute); w.Before(to); w = w.Add(15 * time.Minute) {
		perDay[w.Truncate(24*time.Hour)] += l.ReadShort
	}
	total := 0
	for _, n := range perDay {
		total += min(n, l.ReadDaily)
	}
	return total
}
