package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/graphql"
	"github.com/cairn-fit/cairn/rest"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/tracks"
	"gocloud.dev/blob/memblob"
)

// env serves the REST API at /v1 and GraphQL at /graphql, as cairn serve
// mounts them, over one store and an in-memory bucket.
type env struct {
	t      testing.TB
	db     *dbtest.DB
	store  *sqldb.DB
	srv    *httptest.Server
	tracks *tracks.Service
}

// newEnv serves db; store, when not nil, is the store the servers use
// (a counting one).
func newEnv(t testing.TB, db *dbtest.DB, store *sqldb.DB, opts ...func(*graphql.Deps)) *env {
	if store == nil {
		store = db.DB
	}
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	tr := &tracks.Service{DB: store, Bucket: bucket}
	api, err := rest.New(rest.Deps{Users: store, Tokens: store, Devices: store, Activities: store, Summaries: store,
		Series: store, Routes: store, Health: store, Workouts: store, Idempotency: store, Tracks: tr,
		Ready: store.Ping, PageCacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	d := graphql.Deps{Users: store, Devices: store, Activities: store, Summaries: store, Series: store,
		Health: store, Workouts: store, Idempotency: store, Batch: store, Tracks: tr,
		Authenticate: api.Authenticate, Scopes: api.OperationScopes(), Introspection: true}
	for _, o := range opts {
		o(&d)
	}
	g, err := graphql.New(d)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, p := range graphql.Paths() {
		mux.Handle(p, g.Handler())
	}
	mux.Handle("/", api.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, store: store, srv: srv, tracks: tr}
}

var allScopes = []cairn.Scope{cairn.ScopeProfileRead, cairn.ScopeActivityRead, cairn.ScopeActivityWrite,
	cairn.ScopeHealthRead, cairn.ScopeHealthWrite}

func (e *env) user(email string, roles ...string) *cairn.User {
	e.t.Helper()
	u := &cairn.User{Email: email, Name: "Name of " + email, Roles: roles}
	if err := e.db.CreateUser(cairn.SystemContext(context.Background()), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) token(u *cairn.User, scopes ...cairn.Scope) string {
	e.t.Helper()
	secret, hash := cairn.NewTokenSecret()
	exp := time.Now().Add(time.Hour)
	if err := e.db.CreateToken(cairn.SystemContext(context.Background()),
		&cairn.PersonalAccessToken{UserID: u.ID, Hash: hash, Scopes: scopes, ExpiresAt: &exp}); err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// gqlError is one error of a response.
type gqlError struct {
	Message    string `json:"message"`
	Path       []any  `json:"path"`
	Extensions struct {
		Code   string            `json:"code"`
		Fields map[string]string `json:"fields"`
	} `json:"extensions"`
}

type response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// post sends a query and decodes the answer.
func (e *env) post(token, query string, vars map[string]any) response {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest("POST", e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) response {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r response
	if err := json.Unmarshal(b, &r); err != nil {
		e.t.Fatalf("%d %q is not JSON: %v", resp.StatusCode, b, err)
	}
	r.Status = resp.StatusCode
	return r
}

// data sends a query that must succeed and decodes its data into out.
func (e *env) data(token, query string, vars map[string]any, out any) {
	e.t.Helper()
	r := e.post(token, query, vars)
	if r.Status != 200 || len(r.Errors) > 0 {
		e.t.Fatalf("query failed: %d %+v\n%s", r.Status, r.Errors, query)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		e.t.Fatalf("data %s: %v", r.Data, err)
	}
}

// wantError sends a query that must fail with code (on the field at
// path, when given) and returns the error.
func (e *env) wantError(token, query string, vars map[string]any, code string) gqlError {
	e.t.Helper()
	r := e.post(token, query, vars)
	for _, x := range r.Errors {
		if x.Extensions.Code == code {
			return x
		}
	}
	e.t.Fatalf("want an error %s, got %d %+v (data %s)", code, r.Status, r.Errors, r.Data)
	return gqlError{}
}

// fixture is one user's data of every kind.
type fixture struct {
	user       *cairn.User
	devices    []cairn.Device
	activities []cairn.Activity // newest first
}

// seed gives u n activities (newest first, an hour apart), alternately on
// two devices, each with a summary, two series and, for every other one,
// a route; plus health metrics, days and a workout.
func (e *env) seed(u *cairn.User, n int) fixture {
	e.t.Helper()
	ctx := cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID, Scopes: allScopes})
	f := fixture{user: u}
	for i, model := range []string{"fenix 7", "edge 540"} {
		sync := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		d := cairn.Device{UserID: u.ID, Manufacturer: "garmin", Model: model, SerialNumber: fmt.Sprint(1000 + i),
			FirmwareVersion: "1.0", LastSyncAt: &sync}
		if err := e.db.CreateDevice(ctx, &d); err != nil {
			e.t.Fatal(err)
		}
		f.devices = append(f.devices, d)
	}
	start := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
	for i := range n {
		begin := start.Add(-time.Duration(i) * time.Hour)
		end := begin.Add(45 * time.Minute)
		rpe := 1 + i%10
		a := cairn.Activity{UserID: u.ID, DeviceID: &f.devices[i%2].ID, Type: []cairn.ActivityType{cairn.ActivityRun, cairn.ActivityRide}[i%2],
			Name: fmt.Sprintf("Activity %d", i), StartTime: begin, EndTime: &end, Timezone: "Europe/Paris",
			Source: cairn.SourceAPI, RPE: &rpe, Metadata: json.RawMessage(`{"i":` + fmt.Sprint(i) + `}`)}
		if err := e.db.CreateActivity(ctx, &a); err != nil {
			e.t.Fatal(err)
		}
		dist, dur, hr := 5000+float64(i), 2700.0, 140.5
		if err := e.db.UpsertSummary(ctx, &cairn.Summary{ActivityID: a.ID, UserID: u.ID, DistanceM: &dist, DurationS: &dur,
			AvgHR: &hr, HRZones: []float64{60, 600, 1200, 600, 240}, Sources: map[string]string{"distance_m": "device", "avg_hr": "computed"}}); err != nil {
			e.t.Fatal(err)
		}
		for _, typ := range []cairn.MetricType{cairn.MetricHeartRate, cairn.MetricPower} {
			points := make([]cairn.Point, 60)
			for j := range points {
				points[j] = cairn.Point{T: begin.UnixMilli() + int64(j)*1000, V: 100 + 40*math.Sin(float64(j)/7)}
			}
			if _, err := e.tracks.PutSeries(ctx, a.ID, typ, points); err != nil {
				e.t.Fatal(err)
			}
		}
		if i%2 == 0 {
			track := make([]cairn.LatLng, 30)
			ele := make([]float64, 30)
			for j := range track {
				track[j] = cairn.LatLng{Lat: 45.1 + float64(j)*0.0005, Lng: 5.7 + math.Sin(float64(j)/5)*0.001}
				ele[j] = 200 + float64(j%7)
			}
			if _, err := e.tracks.PutRoute(ctx, a.ID, track, ele); err != nil {
				e.t.Fatal(err)
			}
		}
		f.activities = append(f.activities, a)
	}
	err := e.db.InTx(ctx, func(tx *sqldb.Tx) error {
		var hm []cairn.HealthMetric
		for i := range 5 {
			hm = append(hm, cairn.HealthMetric{UserID: u.ID, Type: cairn.HealthRestingHeartRate,
				Time: start.Add(-time.Duration(i) * 24 * time.Hour), Value: 50 + float64(i), Unit: "bpm", Source: "file"})
		}
		_, err := tx.UpsertHealthMetrics(ctx, hm)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	for i := range 3 {
		rhr, sleep, sore := 48.0+float64(i), 7.5, 2
		if err := e.db.UpsertDailyMetric(ctx, &cairn.DailyMetric{UserID: u.ID, Date: fmt.Sprintf("2025-03-0%d", i+1),
			RestingHR: &rhr, SleepH: &sleep, Soreness: &sore}); err != nil {
			e.t.Fatal(err)
		}
	}
	w := &cairn.Workout{UserID: u.ID, Name: "4x4", Description: "VO2max", Sport: cairn.ActivityRun}
	dur, lo, hi := 240.0, 160.0, 175.0
	w.SetSteps([]cairn.WorkoutStep{{Index: 0, Intensity: "active", DurationType: "time", DurationValue: &dur,
		TargetType: "heart_rate", TargetLow: &lo, TargetHigh: &hi}})
	if err := e.db.CreateWorkout(ctx, w); err != nil {
		e.t.Fatal(err)
	}
	return f
}
