package syncer_test

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/strava"
	"github.com/cairn-fit/cairn/syncer"
	"github.com/cairn-fit/cairn/weather"
)

// TestStravaEvents: cairn's push subscription is validated by Strava (the
// challenge echoed); a new activity's event becomes a sync job that
// stores just that activity; the athlete's deauthorization on Strava's
// side revokes the connection.
func TestStravaEvents(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 51, StravaActivities: 2}, verifyToken: "cairn-test"})
	hooks := e.withJobs()
	if err := e.svc.SubscribeStrava(context.Background(), hooks+"/webhooks/strava"); err != nil {
		t.Fatal(err)
	}
	e.connect(cairn.ProviderStrava)
	a := e.sim.AddActivity(e.sim.Athletes()[0])
	if n := e.sim.Deliver(context.Background()); n != 1 {
		t.Fatalf("%d events acknowledged", n)
	}
	e.waitFor("the activity of the event", func() bool {
		for _, x := range e.activities() {
			if x.ExternalID == strconv.FormatInt(a.ID, 10) {
				return true
			}
		}
		return false
	})
	if n := len(e.activities()); n != 1 {
		t.Errorf("%d activities: the event's only, want 1", n)
	}
	sessions, err := e.svc.ListSyncSessions(e.ctx, e.user.ID, cairn.PageRequest{})
	if err != nil || len(sessions.Data) != 1 || sessions.Data[0].Type != cairn.SyncWebhook {
		t.Errorf("sessions %+v %v", sessions, err)
	}

	// The athlete removes cairn on Strava's side (their grant's tokens
	// all go, whichever one asks).
	access, _ := e.sim.IssueToken(sim.ProviderStrava, "1001", e.sim.Athletes()[0], strava.Scope)
	if err := e.strava.Deauthorize(context.Background(), access); err != nil {
		t.Fatal(err)
	}
	e.sim.Deliver(context.Background())
	e.waitFor("the revoked connection", func() bool {
		c, err := db.FindConnection(e.ctx, e.user.ID, cairn.ProviderStrava)
		return err == nil && c.Status == cairn.ConnectionRevoked
	})
}

// TestEnrichmentRetry: with the weather and geocoding services down the
// activities are stored all the same, their enrichment marked missing;
// the retry job fills it in once the services answer.
func TestEnrichmentRetry(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 52, StravaActivities: 5}})
	// A service that is down: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	cfg := e.cfg
	cfg.Weather, cfg.Geocoder = weather.New(down, fastCaller()), weather.NewGeocoder(down, "cairn-test", fastCaller())
	cfg.Ingest = &ingest.Service{DB: db.DB, Bucket: cfg.Bucket}
	broken := syncer.New(cfg)
	e.connect(cairn.ProviderStrava)
	ss, err := broken.StartSync(e.ctx, cairn.SyncRequest{UserID: e.user.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := broken.Run(context.Background(), ss[0].ID, ""); err != nil {
		t.Fatal(err)
	}
	sess, _ := broken.FindSyncSession(e.ctx, ss[0].ID)
	if sess.Status != cairn.SyncCompleted || sess.Counters.Stored != 5 {
		t.Fatalf("session %s %+v", sess.Status, sess.Counters)
	}
	missing := 0
	for _, a := range e.activities() {
		en, err := db.FindEnrichment(e.ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if en.Status[cairn.EnrichWeather] == cairn.EnrichmentMissing {
			missing++
		}
	}
	if missing == 0 {
		t.Fatal("no enrichment is marked missing")
	}
	done, err := e.svc.RetryEnrichments(context.Background(), 100)
	if err != nil || done != missing {
		t.Fatalf("retried: %d complete of %d, %v", done, missing, err)
	}
	for _, a := range e.activities() {
		en, _ := db.FindEnrichment(e.ctx, a.ID)
		if !en.Status.Complete() {
			t.Errorf("activity %s still misses %v", a.ID, en.Status)
		}
	}
}
