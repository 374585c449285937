package syncer_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/jobs"
	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/riverqueue/river"
)

// withJobs serves the service's provider endpoints (webhooks, callbacks)
// and runs its jobs on a River queue, as cairn serve does; it returns the
// endpoints' URL.
func (e *env) withJobs() string {
	e.t.Helper()
	workers := river.NewWorkers()
	periodic := e.svc.Register(workers, time.Hour, time.Hour)
	_ = periodic
	q, err := jobs.New(e.db.DB, e.db.Pool, jobs.Config{Workers: workers, PollInterval: 20 * time.Millisecond,
		Queues: map[string]river.QueueConfig{"sync": e.svc.QueueConfig()}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc.SetQueue(q)
	if err := q.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	srv := httptest.NewServer(e.svc.Handler(endpoint))
	e.t.Cleanup(srv.Close)
	return srv.URL
}

// waitFor polls cond until it holds (10 s at most).
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (e *env) garminActivity(id int64) *cairn.Activity {
	for _, a := range e.activities() {
		if a.Provider == cairn.ProviderGarmin && a.ExternalID == strconv.FormatInt(id, 10) {
			return &a
		}
	}
	return nil
}

// TestGarminPush: a new activity's file notice is pushed to cairn's
// webhook, which answers at once; the job downloads the FIT file and
// stores the activity with its enrichment. The same recording synced from
// Strava afterwards is one activity with both sources, fetched not at all.
func TestGarminPush(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 31, StravaActivities: 3}})
		hooks := e.withJobs()
		if err := e.sim.SetGarminEndpoint("activityFiles", sim.Endpoint{URL: hooks + "/webhooks/garmin/activityFiles", Mode: sim.ModePush}); err != nil {
			t.Fatal(err)
		}
		e.connect(cairn.ProviderGarmin)
		ath := e.sim.Athletes()[0]
		var a *sim.Activity
		for a == nil || a.GarminID == 0 {
			a = e.sim.AddActivity(ath)
		}
		if n := e.sim.Deliver(context.Background()); n == 0 {
			t.Fatal("no notification was acknowledged")
		}
		var got *cairn.Activity
		e.waitFor("the pushed activity", func() bool { got = e.garminActivity(a.GarminID); return got != nil })
		if !got.StartTime.Equal(a.Start) || got.FileHash == "" {
			t.Errorf("activity %+v", got)
		}
		en, err := db.FindEnrichment(e.ctx, got.ID)
		if err != nil || len(en.Status) == 0 {
			t.Errorf("enrichment %+v %v", en, err)
		}

		e.connect(cairn.ProviderStrava)
		before := e.sim.Stats().CallCount("GET /api/v3/activities/{id}/streams", 200)
		sess := e.syncAll(cairn.ProviderStrava)
		if sess.Status != cairn.SyncCompleted {
			t.Fatalf("strava sync %s %+v", sess.Status, sess.Errors)
		}
		if n := len(e.activities()); n != len(e.sim.Activities(ath)) {
			t.Errorf("%d activities, want %d", n, len(e.sim.Activities(ath)))
		}
		src, err := db.ActivitySources(e.ctx, got.ID)
		if err != nil || len(src) != 2 {
			t.Errorf("sources of the pushed activity: %+v %v", src, err)
		}
		if after := e.sim.Stats().CallCount("GET /api/v3/activities/{id}/streams", 200); after-before != len(e.sim.Activities(ath))-1 {
			t.Errorf("%d streams fetched; the one Garmin brought should not be", after-before)
		}
	})
}

// TestGarminPingPull: a ping announces activity details; the job pulls
// them from the ping's callbackURL and stores the activity from its
// samples.
func TestGarminPingPull(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 32, StravaActivities: 2}})
	hooks := e.withJobs()
	if err := e.sim.SetGarminEndpoint("activityDetails", sim.Endpoint{URL: hooks + "/webhooks/garmin/activityDetails", Mode: sim.ModePing}); err != nil {
		t.Fatal(err)
	}
	e.connect(cairn.ProviderGarmin)
	var a *sim.Activity
	for a == nil || a.GarminID == 0 {
		a = e.sim.AddActivity(e.sim.Athletes()[0])
	}
	e.sim.Deliver(context.Background())
	var got *cairn.Activity
	e.waitFor("the pulled activity", func() bool { got = e.garminActivity(a.GarminID); return got != nil })
	if !got.StartTime.Equal(a.Start) {
		t.Errorf("starts %v, want %v", got.StartTime, a.Start)
	}
	if ms, err := db.ListMetrics(e.ctx, cairn.MetricFilter{ActivityID: got.ID}); err != nil || len(ms.Data) < 3 {
		t.Errorf("series of the pulled activity: %v %v", ms, err)
	}
	if n := e.sim.Stats().CallCount("GET /wellness-api/rest/{type}", 200); n == 0 {
		t.Error("nothing was pulled")
	}
}

// TestGarminBackfill: a Garmin session asks for the range's history in
// 30-day windows and completes; the activities come through the pushed
// notices. Asking for the same windows again is Garmin's 409, which the
// second session takes as done.
func TestGarminBackfill(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 33, StravaActivities: 12}})
	hooks := e.withJobs()
	if err := e.sim.SetGarminEndpoint("activityFiles", sim.Endpoint{URL: hooks + "/webhooks/garmin/activityFiles", Mode: sim.ModePush}); err != nil {
		t.Fatal(err)
	}
	e.connect(cairn.ProviderGarmin)
	acts := e.sim.Activities(e.sim.Athletes()[0])
	start, end := acts[0].Start.Add(-time.Hour), acts[len(acts)-1].Start.Add(time.Hour)
	garminOnes := 0
	for _, a := range acts {
		if a.GarminID != 0 {
			garminOnes++
		}
	}
	backfill := func() *cairn.SyncSession {
		ss, err := e.svc.StartSync(e.ctx, cairn.SyncRequest{UserID: e.user.ID, Providers: []string{cairn.ProviderGarmin},
			Start: &start, End: &end})
		if err != nil {
			t.Fatal(err)
		}
		var s *cairn.SyncSession
		e.waitFor("the backfill session", func() bool {
			s, _ = e.svc.FindSyncSession(e.ctx, ss[0].ID)
			return s.Status.Done()
		})
		return s
	}
	first := backfill()
	windows := int(end.Sub(start)/(30*24*time.Hour)) + 1
	if first.Status != cairn.SyncCompleted || first.Checkpoint.Page != windows {
		t.Fatalf("first backfill %s, %d windows, want %d: %+v", first.Status, first.Checkpoint.Page, windows, first.Errors)
	}
	e.sim.Deliver(context.Background())
	e.waitFor("the backfilled activities", func() bool { return len(e.activities()) == garminOnes })

	second := backfill()
	st := e.sim.Stats()
	if second.Status != cairn.SyncCompleted || len(second.Errors) != 0 {
		t.Errorf("second backfill %s %+v", second.Status, second.Errors)
	}
	if n202, n409 := st.CallCount("GET /wellness-api/rest/backfill/{type}", 202), st.CallCount("GET /wellness-api/rest/backfill/{type}", 409); n202 != windows || n409 != windows {
		t.Errorf("backfill answers: %d accepted, %d conflicts; want %d each", n202, n409, windows)
	}
	if n := len(e.activities()); n != garminOnes {
		t.Errorf("%d activities after the second backfill, want %d", n, garminOnes)
	}
}
