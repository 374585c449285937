package syncer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// TestStravaSync: a full sync stores every simulated activity once, with
// its series, summary, enrichment and source, in exactly the minimum of
// API calls; a second sync fetches nothing but the list.
func TestStravaSync(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 3, StravaActivities: 25}})
		c := e.connect(cairn.ProviderStrava)
		if c.ExternalUserID == "" || len(c.AccessTokenEnc) == 0 || c.Status != cairn.ConnectionActive {
			t.Fatalf("connection %+v", c)
		}
		want := e.sim.Activities(e.sim.Athletes()[0])
		sess := e.syncAll(cairn.ProviderStrava)
		if sess.Status != cairn.SyncCompleted {
			t.Fatalf("session %s: %+v", sess.Status, sess.Errors)
		}
		n := len(want)
		if got := sess.Counters; got != (cairn.SyncCounters{Estimated: n, Fetched: n, Enriched: n, Stored: n}) {
			t.Errorf("counters %+v, want %d each", got, n)
		}
		acts := e.activities()
		if len(acts) != n {
			t.Fatalf("%d activities, want %d", len(acts), n)
		}
		byExt := map[string]cairn.Activity{}
		for _, a := range acts {
			if a.Source != cairn.SourceStrava || a.Provider != cairn.ProviderStrava || a.ExternalID == "" {
				t.Fatalf("activity source %q/%q/%q", a.Source, a.Provider, a.ExternalID)
			}
			byExt[a.ExternalID] = a
		}
		withWeather := 0
		for _, w := range want {
			a, ok := byExt[itoa(w.ID)]
			if !ok {
				t.Fatalf("activity %d missing", w.ID)
			}
			if !a.StartTime.Equal(w.Start) {
				t.Errorf("activity %d starts %v, want %v", w.ID, a.StartTime, w.Start)
			}
			ms, err := db.ListMetrics(e.ctx, cairn.MetricFilter{ActivityID: a.ID})
			if err != nil || len(ms.Data) == 0 {
				t.Fatalf("activity %d has no series: %v", w.ID, err)
			}
			src, err := db.ActivitySources(e.ctx, a.ID)
			if err != nil || len(src) != 1 || src[0].Provider != cairn.ProviderStrava || src[0].ExternalID != itoa(w.ID) {
				t.Errorf("sources of %d: %+v %v", w.ID, src, err)
			}
			en, err := db.FindEnrichment(e.ctx, a.ID)
			if err != nil {
				t.Fatalf("enrichment of %d: %v", w.ID, err)
			}
			if en.Weather != nil {
				withWeather++
				if en.Weather.TemperatureC == nil || en.Weather.Conditions == "" || en.Place == nil || en.Place.City == "" {
					t.Errorf("enrichment of %d: %+v %+v", w.ID, en.Weather, en.Place)
				}
			}
			if !en.Status.Complete() {
				t.Errorf("enrichment status of %d: %v", w.ID, en.Status)
			}
		}
		if withWeather == 0 {
			t.Error("no activity has weather")
		}
		st := e.sim.Stats()
		pages := st.CallCount("GET /api/v3/athlete/activities", 200)
		if d, s := st.CallCount("GET /api/v3/activities/{id}", 200), st.CallCount("GET /api/v3/activities/{id}/streams", 200); pages != 1 || d != n || s != n {
			t.Errorf("calls: %d pages, %d details, %d streams; want 1, %d, %d", pages, d, s, n, n)
		}

		// Again: everything is there, so only the list is read.
		again := e.syncAll(cairn.ProviderStrava)
		if again.Status != cairn.SyncCompleted || again.Counters.Estimated != 0 {
			t.Errorf("second sync %s %+v", again.Status, again.Counters)
		}
		if got := len(e.activities()); got != n {
			t.Errorf("%d activities after the second sync", got)
		}
		st = e.sim.Stats()
		if d := st.CallCount("GET /api/v3/activities/{id}", 200); d != n {
			t.Errorf("second sync fetched details again: %d", d)
		}
	})
}

// TestStravaSyncFaults: with a share of calls failing (429s, 5xx, hangs,
// truncated bodies) and tokens expiring every few calls, the sync still
// stores everything once and fetches each activity once.
func TestStravaSyncFaults(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 5, StravaActivities: 40, FaultRate: 0.1,
		FaultTimeout: 50 * 1e6, TokenCalls: 15}})
	e.connect(cairn.ProviderStrava)
	sess := e.syncAll(cairn.ProviderStrava)
	if sess.Status != cairn.SyncCompleted {
		t.Fatalf("session %s: %+v", sess.Status, sess.Errors)
	}
	if got := len(e.activities()); got != 40 {
		t.Fatalf("%d activities", got)
	}
	st := e.sim.Stats()
	good := st.CallCount("GET /api/v3/activities/{id}", 200) + st.CallCount("GET /api/v3/activities/{id}/streams", 200) +
		st.CallCount("GET /api/v3/athlete/activities", 200) - st.Faults[sim.FaultMalformed]
	if good != 1+2*40 {
		t.Errorf("%d successful calls (faults %v), want %d", good, st.Faults, 1+2*40)
	}
}

// TestResumeAfterCancel: a run stopped half way leaves its progress; the
// next run goes on from there and fetches nothing twice.
func TestResumeAfterCancel(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 9, StravaActivities: 60}})
	e.connect(cairn.ProviderStrava)
	ss, err := e.svc.StartSync(e.ctx, cairn.SyncRequest{UserID: e.user.ID})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.svc.Run(ctx, ss[0].ID, "first") }()
	for {
		s, err := e.svc.FindSyncSession(e.ctx, ss[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if s.Counters.Fetched >= 20 {
			break
		}
	}
	cancel()
	if err := <-done; err == nil || !errors.Is(err, context.Canceled) && cairn.ErrorCode(err) != cairn.EUNAVAILABLE {
		t.Logf("first run ended with %v", err)
	}
	mid, _ := e.svc.FindSyncSession(e.ctx, ss[0].ID)
	if mid.Status == cairn.SyncCompleted {
		t.Fatal("the first run completed before it was stopped")
	}
	sess := e.run(ss[0].ID)
	if sess.Status != cairn.SyncCompleted || sess.Counters.Stored != 60 {
		t.Fatalf("after resume: %s %+v %+v", sess.Status, sess.Counters, sess.Errors)
	}
	if got := len(e.activities()); got != 60 {
		t.Fatalf("%d activities", got)
	}
	st := e.sim.Stats()
	// At most the calls in flight when the first run stopped are made
	// twice (Concurrency of them, each a detail or streams call).
	d, s := st.CallCount("GET /api/v3/activities/{id}", 200), st.CallCount("GET /api/v3/activities/{id}/streams", 200)
	if d < 60 || s < 60 || d+s > 120+4 {
		t.Errorf("%d details and %d streams fetched for 60 activities", d, s)
	}
	t.Logf("details %d, streams %d, pages %d", d, s, st.CallCount("GET /api/v3/athlete/activities", 200))
}

func itoa(n int64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{digits[n%10]}, b...)
		n /= 10
	}
	return string(b)
}
