package rest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/garmin"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/provider"
	"github.com/cairn-fit/cairn/rest"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sim/simtest"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/strava"
	"github.com/cairn-fit/cairn/syncer"
	"github.com/cairn-fit/cairn/telemetry"
	"github.com/cairn-fit/cairn/weather"
	"gocloud.dev/blob"
)

// syncSims remembers each sync service's simulator, for the tests that
// drive it.
var syncSims sync.Map // *syncer.Service → *sim.Sim

// newSyncService is a sync service talking to an in-process simulator
// (Strava, Garmin, weather, geocoding), its provider-facing endpoints
// (OAuth callbacks, webhooks) served at its BaseURL.
func newSyncService(t testing.TB, db *dbtest.DB, bucket *blob.Bucket) *syncer.Service {
	t.Helper()
	s, simURL := simtest.Serve(t, sim.Config{Seed: 11, StravaActivities: 6})
	line, _ := secrets.NewKey("sync")
	keys, err := secrets.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	hooks := httptest.NewUnstartedServer(nil)
	fast := provider.Options{AttemptTimeout: 2 * time.Second, InitialBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}
	svc := syncer.New(syncer.Config{DB: db.DB, Ingest: &ingest.Service{DB: db.DB, Bucket: bucket}, Bucket: bucket, Keys: keys,
		Strava: strava.New(strava.Config{APIURL: simURL + "/api/v3", OAuthURL: simURL + "/oauth", ClientID: "1001",
			ClientSecret: "strava-secret", Caller: fast}),
		Garmin:  garmin.New(garmin.Config{APIURL: simURL, ClientID: "garmin-client", ClientSecret: "garmin-secret", Caller: fast}),
		Weather: weather.New(simURL, fast), Geocoder: weather.NewGeocoder(simURL, "cairn-test", fast),
		BaseURL: "http://" + hooks.Listener.Addr().String(), Lease: 2 * time.Second,
		Events: func(ctx context.Context, tx *sqldb.Tx, ev cairn.Event) error { return tx.AppendEvent(ctx, &ev) },
	})
	hooks.Config.Handler = svc.Handler(func(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
		return rest.HandleErrors(nil, fn)
	})
	hooks.Start()
	t.Cleanup(hooks.Close)
	syncSims.Store(svc, s)
	return svc
}

// syncEnv is the API with its sync service at hand.
type syncEnv struct {
	*env
	svc *syncer.Service
	sim *sim.Sim
}

func newSyncEnv(t *testing.T, db *dbtest.DB) *syncEnv {
	var log syncBuffer
	d := deps(t, db, telemetry.NewLogger(&log, 0))
	s, err := rest.New(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	svc := d.Sync.(*syncer.Service)
	sm, _ := syncSims.Load(svc)
	return &syncEnv{env: &env{t: t, db: db, srv: srv, log: &log, api: s}, svc: svc, sim: sm.(*sim.Sim)}
}

// connect runs the OAuth dance through the API: the authorize URL, the
// provider's consent (the simulator's, at once), cairn's callback.
func (e *syncEnv) connect(userID, tok, p string) {
	e.t.Helper()
	var a struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	if resp := e.do("POST", "/v1/users/"+userID+"/connections/"+p, tok, &a); resp.StatusCode != 200 {
		e.t.Fatalf("connect %s: %d", p, resp.StatusCode)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(a.AuthorizeURL)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		e.t.Fatalf("authorize %s: %d", p, resp.StatusCode)
	}
	if resp, err = http.Get(back.String()); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("callback: %v %v", err, resp)
	}
	resp.Body.Close()
}

type sessionOut struct {
	ID       string             `json:"id"`
	Status   string             `json:"status"`
	Counters cairn.SyncCounters `json:"counters"`
}

// TestSyncAPI: connect Strava, start a sync, follow it as Server-Sent
// Events to COMPLETED, list sessions, read an activity's enrichment,
// revoke the connection (connection.revoked is recorded).
func TestSyncAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newSyncEnv(t, db)
		ada, bob := e.user("ada@example.com"), e.user("bob@example.com")
		tok := e.token(ada, time.Hour, cairn.ScopeActivityRead, cairn.ScopeActivityWrite)
		bobTok := e.token(bob, time.Hour, cairn.ScopeActivityRead, cairn.ScopeActivityWrite)
		e.connect(ada.ID, tok, cairn.ProviderStrava)
		var conns struct {
			Data []struct{ Provider, Status, ExternalUserID string }
		}
		if resp := e.do("GET", "/v1/users/"+ada.ID+"/connections", tok, &conns); resp.StatusCode != 200 ||
			len(conns.Data) != 1 || conns.Data[0].Provider != "strava" || conns.Data[0].Status != "active" {
			t.Fatalf("connections: %d %+v", resp.StatusCode, conns)
		}

		var started struct{ Data []sessionOut }
		if resp := e.doJSON("POST", "/v1/users/"+ada.ID+"/sync", tok, `{"providers":["strava"]}`, &started); resp.StatusCode != 202 ||
			len(started.Data) != 1 || started.Data[0].Status != "INITIATED" {
			t.Fatalf("start: %d %+v", resp.StatusCode, started)
		}
		id := started.Data[0].ID
		if resp := e.do("GET", "/v1/sync-sessions/"+id, bobTok, nil); resp.StatusCode != 404 {
			t.Errorf("another user's session: %d", resp.StatusCode)
		}

		// Follow the session while it runs.
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/sync-sessions/"+id+"/events", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("events: %v %v", err, resp)
		}
		events := make(chan sessionOut, 100)
		go func() {
			defer close(events)
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
					var s sessionOut
					if json.Unmarshal([]byte(data), &s) == nil {
						events <- s
					}
				}
			}
		}()
		if err := e.svc.Run(context.Background(), id, ""); err != nil {
			t.Fatal(err)
		}
		var seen []sessionOut
		timeout := time.After(20 * time.Second)
	read:
		for {
			select {
			case s, ok := <-events:
				if !ok {
					break read
				}
				seen = append(seen, s)
			case <-timeout:
				t.Fatal("the event stream did not end")
			}
		}
		if len(seen) == 0 || seen[len(seen)-1].Status != "COMPLETED" || seen[len(seen)-1].Counters.Stored != 6 {
			t.Fatalf("events: %+v", seen)
		}

		var list struct {
			Data  []sessionOut
			Total int
		}
		if resp := e.do("GET", "/v1/users/"+ada.ID+"/sync-sessions", tok, &list); resp.StatusCode != 200 || list.Total != 1 ||
			list.Data[0].ID != id || list.Data[0].Status != "COMPLETED" {
			t.Errorf("sessions: %d %+v", resp.StatusCode, list)
		}
		var acts struct {
			Data []struct{ ID, Source string }
		}
		e.do("GET", "/v1/users/"+ada.ID+"/activities", tok, &acts)
		if len(acts.Data) != 6 || acts.Data[0].Source != "strava" {
			t.Fatalf("activities: %+v", acts)
		}
		enriched := 0
		for _, a := range acts.Data {
			var en struct {
				Weather *struct {
					TemperatureC *float64 `json:"temperature_c"`
				} `json:"weather"`
				Place  *struct{ City string } `json:"place"`
				Status map[string]string      `json:"status"`
			}
			if resp := e.do("GET", "/v1/activities/"+a.ID+"/enrichment", tok, &en); resp.StatusCode != 200 {
				t.Fatalf("enrichment: %d", resp.StatusCode)
			}
			if en.Weather != nil && en.Weather.TemperatureC != nil && en.Place != nil && en.Place.City != "" &&
				en.Status["weather"] == "done" {
				enriched++
			}
		}
		if enriched == 0 {
			t.Error("no activity has its weather and place")
		}

		if resp := e.do("DELETE", "/v1/users/"+ada.ID+"/connections/strava", bobTok, nil); resp.StatusCode != 404 {
			t.Errorf("another user revokes: %d", resp.StatusCode)
		}
		if resp := e.do("DELETE", "/v1/users/"+ada.ID+"/connections/strava", tok, nil); resp.StatusCode != 204 {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		e.do("GET", "/v1/users/"+ada.ID+"/connections", tok, &conns)
		if len(conns.Data) != 1 || conns.Data[0].Status != "revoked" {
			t.Errorf("after revoking: %+v", conns)
		}
		evs, err := db.ListEvents(cairn.WithActor(context.Background(), cairn.Actor{UserID: ada.ID}),
			cairn.EventFilter{Types: []cairn.EventType{cairn.EventConnectionRevoked, cairn.EventSyncCompleted}})
		if err != nil || len(evs.Data) != 2 {
			t.Errorf("events: %+v %v", evs, err)
		}
		// A sync without a connection is refused.
		if resp := e.doJSON("POST", "/v1/users/"+ada.ID+"/sync", tok, `{}`, nil); resp.StatusCode != 400 {
			t.Errorf("sync without a connection: %d", resp.StatusCode)
		}
	})
}

// TestGarminWorkoutUpload: a structured workout goes through Garmin's
// Training API; cairn records when.
func TestGarminWorkoutUpload(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	e := newSyncEnv(t, db)
	ada := e.user("ada@example.com")
	tok := e.token(ada, time.Hour, cairn.ScopeActivityRead, cairn.ScopeActivityWrite)
	var w struct{ ID string }
	body := `{"name":"6 x 800 m","sport":"run","steps":[
		{"index":0,"intensity":"warmup","duration_type":"time","duration_value":600},
		{"index":1,"intensity":"active","duration_type":"distance","duration_value":800,"target_type":"heart_rate","target_low":160,"target_high":172},
		{"index":2,"intensity":"cooldown","duration_type":"open"}]}`
	if resp := e.doJSON("POST", "/v1/users/"+ada.ID+"/workouts", tok, body, &w); resp.StatusCode != 201 {
		t.Fatalf("workout: %d", resp.StatusCode)
	}
	if resp := e.do("POST", "/v1/workouts/"+w.ID+"/garmin", tok, nil); resp.StatusCode != 422 {
		t.Errorf("upload without a Garmin connection: %d", resp.StatusCode)
	}
	e.connect(ada.ID, tok, cairn.ProviderGarmin)
	var up struct {
		GarminWorkoutID    string    `json:"garmin_workout_id"`
		UploadedToGarminAt time.Time `json:"uploaded_to_garmin_at"`
	}
	if resp := e.do("POST", "/v1/workouts/"+w.ID+"/garmin", tok, &up); resp.StatusCode != 200 || up.GarminWorkoutID == "" {
		t.Fatalf("upload: %d %+v", resp.StatusCode, up)
	}
	got := e.sim.Workouts()
	if len(got) != 1 || got[0]["workoutName"] != "6 x 800 m" || got[0]["sport"] != "RUNNING" {
		t.Fatalf("Garmin has %+v", got)
	}
	steps, _ := got[0]["steps"].([]any)
	if len(steps) != 3 {
		t.Errorf("steps %+v", steps)
	}
	var stored struct {
		UploadedToGarminAt *time.Time `json:"uploaded_to_garmin_at"`
	}
	e.do("GET", "/v1/workouts/"+w.ID, tok, &stored)
	if stored.UploadedToGarminAt == nil || !stored.UploadedToGarminAt.Equal(up.UploadedToGarminAt.Truncate(time.Microsecond)) {
		t.Errorf("uploaded_to_garmin_at %v, want %v", stored.UploadedToGarminAt, up.UploadedToGarminAt)
	}
}
