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

// Strava's limits a tenth as large (the default's daily read limit of
// 1,000 calls needs 500 activities to reach), for both sides.
var (
	simLimits    = sim.Limits{Short: 20, Daily: 200, ReadShort: 10, ReadDaily: 100}
	clientLimits = strava.Limits(simLimits)
)

// statuses sums the simulator's answers with the status over every route.
func statuses(st sim.Stats, status string) int {
	n := 0
	for _, by := range st.Calls {
		n += by[status]
	}
	return n
}

// TestRateWindows: 40 activities need 81 calls, more than eight
// 15-minute windows of 10 read calls; on the simulator's clock (which
// the sync's waits move) the sync waits for each window to open and
// completes, and Strava never refuses a call.
func TestRateWindows(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	clock := provider.NewManualClock(time.Date(2026, 3, 2, 10, 7, 0, 0, time.UTC))
	e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 21, StravaActivities: 40, Limits: simLimits},
		limits: clientLimits, clock: clock})
	e.connect(cairn.ProviderStrava)
	start := clock.Now()
	sess := e.syncAll(cairn.ProviderStrava)
	if sess.Status != cairn.SyncCompleted || sess.Counters.Stored != 40 {
		t.Fatalf("session %s %+v %+v", sess.Status, sess.Counters, sess.Errors)
	}
	st := e.sim.Stats()
	if n := statuses(st, "429"); n != 0 {
		t.Errorf("Strava refused %d calls", n)
	}
	calls := st.CallCount("GET /api/v3/athlete/activities", 200) + st.CallCount("GET /api/v3/activities/{id}", 200) +
		st.CallCount("GET /api/v3/activities/{id}/streams", 200)
	// Each window gave its 10 calls, less those in flight when it opened
	// (counted in it, as Strava may: 3 at most beside the caller's own,
	// with 4 workers): the sync took no more windows than that needs.
	windows := int(clock.Now().Sub(start.Truncate(15*time.Minute))/(15*time.Minute)) + 1
	if need := (calls + 6) / 7; windows > need {
		t.Errorf("%d calls took %d windows, %d would do", calls, windows, need)
	}
	if taken := e.strava.Budget().Stats().Taken; int(taken) != calls {
		t.Errorf("the budget handed out %d calls, Strava answered %d", taken, calls)
	}
	t.Logf("%d calls in %d windows (clock moved %s)", calls, windows, clock.Now().Sub(start))
}

// TestDailyLimit: 60 activities need 121 calls, more than a day's 100
// read calls: the session waits for the next UTC day and completes; it
// does not fail.
func TestDailyLimit(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	clock := provider.NewManualClock(time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC))
	e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 22, StravaActivities: 60, Limits: simLimits},
		limits: clientLimits, clock: clock})
	e.connect(cairn.ProviderStrava)
	sess := e.syncAll(cairn.ProviderStrava)
	if sess.Status != cairn.SyncCompleted || sess.Counters.Stored != 60 || len(sess.Errors) != 0 {
		t.Fatalf("session %s %+v %+v", sess.Status, sess.Counters, sess.Errors)
	}
	if n := statuses(e.sim.Stats(), "429"); n != 0 {
		t.Errorf("Strava refused %d calls", n)
	}
	if day := clock.Now().Truncate(24 * time.Hour); !day.After(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("the sync ended %v: it did not wait for the next day", clock.Now())
	}
}

// TestWaitReturns: with a bound on waiting (a server's jobs snooze rather
// than sleep), a session that meets a full window returns when to come
// back, keeps its state, and goes on once the window opens, window after
// window until it completes.
func TestWaitReturns(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	clock := provider.NewManualClock(time.Date(2026, 3, 2, 10, 1, 0, 0, time.UTC))
	e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 23, StravaActivities: 30, Limits: simLimits},
		limits: clientLimits, clock: clock, maxWait: time.Minute})
	e.connect(cairn.ProviderStrava)
	ss, err := e.svc.StartSync(e.ctx, cairn.SyncRequest{UserID: e.user.ID})
	if err != nil {
		t.Fatal(err)
	}
	err = e.svc.Run(context.Background(), ss[0].ID, "job/1")
	until, waiting := syncer.WaitUntil(err)
	if !waiting || !until.Equal(time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC)) {
		t.Fatalf("run: %v (wait until %v)", err, until)
	}
	mid, _ := e.svc.FindSyncSession(e.ctx, ss[0].ID)
	if mid.Status.Done() || mid.Checkpoint.WaitUntil == nil || mid.Counters.Stored != 0 || mid.Counters.Fetched == 0 {
		t.Fatalf("while waiting: %s %+v %+v", mid.Status, mid.Counters, mid.Checkpoint)
	}
	for waits := 1; ; waits++ {
		clock.Advance(until.Sub(clock.Now()))
		err := e.svc.Run(context.Background(), ss[0].ID, "job/1")
		if err == nil {
			t.Logf("completed after %d waits", waits)
			break
		}
		if until, waiting = syncer.WaitUntil(err); !waiting || waits > 20 {
			t.Fatalf("run %d: %v", waits, err)
		}
	}
	end, _ := e.svc.FindSyncSession(e.ctx, ss[0].ID)
	if end.Status != cairn.SyncCompleted || end.Counters.Stored != 30 {
		t.Fatalf("after the window: %s %+v", end.Status, end.Counters)
	}
	if n := statuses(e.sim.Stats(), "429"); n != 0 {
		t.Errorf("Strava refused %d calls", n)
	}
}
