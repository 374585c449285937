package sqldb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// Conformance cases for what the public API writes: optimistic updates,
// activity totals, workouts, days and idempotency keys.

func TestUpdatesAreOptimistic(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		other := mustUser(t, db, "bob@example.com")
		ctx := as(u.ID)
		a := createActivities(t, db, ctx, u.ID, 1, time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC))[0]
		seen := a.UpdatedAt
		a.Name, a.Type = "Tempo", cairn.ActivityTrailRun
		if err := db.UpdateActivity(ctx, &a, seen); err != nil {
			t.Fatal(err)
		}
		if !a.UpdatedAt.After(seen) {
			t.Errorf("updated_at did not move: %v then %v", seen, a.UpdatedAt)
		}
		got, err := db.FindActivity(ctx, a.ID)
		if err != nil || got.Name != "Tempo" || got.Type != cairn.ActivityTrailRun || !got.UpdatedAt.Equal(a.UpdatedAt) {
			t.Fatalf("after update: %+v, %v", got, err)
		}
		// A second writer that read the old version loses.
		stale := a
		stale.Name = "Stale"
		wantCode(t, db.UpdateActivity(ctx, &stale, seen), cairn.EPRECONDITION)
		// Another user's activity is not found, whatever the version.
		wantCode(t, db.UpdateActivity(as(other.ID), &a, a.UpdatedAt), cairn.ENOTFOUND)
		foreign := a
		foreign.UserID = other.ID
		wantCode(t, db.UpdateActivity(as(other.ID), &foreign, a.UpdatedAt), cairn.ENOTFOUND)
		// Changing the device checks that it is the user's.
		otherDev := &cairn.Device{UserID: other.ID, Model: "x"}
		if err := db.CreateDevice(as(other.ID), otherDev); err != nil {
			t.Fatal(err)
		}
		moved := a
		moved.DeviceID = &otherDev.ID
		wantCode(t, db.UpdateActivity(ctx, &moved, a.UpdatedAt), cairn.EVALIDATION)
		// A deleted activity cannot be changed.
		if err := db.SoftDeleteActivity(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		deleted, _ := db.FindActivity(ctx, a.ID)
		wantCode(t, db.UpdateActivity(ctx, deleted, deleted.UpdatedAt), cairn.ENOTFOUND)

		// Devices: the same rule.
		d := &cairn.Device{UserID: u.ID, Model: "edge"}
		if err := db.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		seen = d.UpdatedAt
		d.FirmwareVersion = "2.0"
		if err := db.UpdateDevice(ctx, d, seen); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.UpdateDevice(ctx, d, seen), cairn.EPRECONDITION)
	})
}

// TestActivityTotals checks the kept totals against count(*) after a
// random sequence of inserts, deletes and changes, for every filter, and
// that every change moves the activities' version.
func TestActivityTotals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		other := mustUser(t, db, "bob@example.com")
		ctx := as(u.ID)
		devs := []*string{nil}
		for range 2 {
			d := &cairn.Device{UserID: u.ID, Model: "edge"}
			if err := db.CreateDevice(ctx, d); err != nil {
				t.Fatal(err)
			}
			devs = append(devs, &d.ID)
		}
		types := []cairn.ActivityType{cairn.ActivityRun, cairn.ActivityRide, cairn.ActivityWalk}
		sources := []string{cairn.SourceManual, cairn.SourceAPI}
		rng := rand.New(rand.NewPCG(1, 2))
		var live []cairn.Activity
		start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		createActivities(t, db, as(other.ID), other.ID, 3, start) // not counted for u
		version := func() int64 {
			t.Helper()
			v, err := db.ActivitiesVersion(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		for i := range 60 {
			before := version()
			switch op := rng.IntN(4); {
			case op < 2 || len(live) == 0:
				a := cairn.Activity{UserID: u.ID, Type: types[rng.IntN(3)], Source: sources[rng.IntN(2)],
					DeviceID: devs[rng.IntN(3)], StartTime: start.Add(time.Duration(i) * time.Hour)}
				if err := db.CreateActivity(ctx, &a); err != nil {
					t.Fatal(err)
				}
				live = append(live, a)
			case op == 2:
				k := rng.IntN(len(live))
				if err := db.SoftDeleteActivity(ctx, live[k].ID); err != nil {
					t.Fatal(err)
				}
				live = append(live[:k], live[k+1:]...)
			default:
				a := &live[rng.IntN(len(live))]
				a.Type, a.DeviceID = types[rng.IntN(3)], devs[rng.IntN(3)]
				if err := db.UpdateActivity(ctx, a, a.UpdatedAt); err != nil {
					t.Fatal(err)
				}
			}
			if version() == before {
				t.Fatalf("change %d left the activities' version at %d", i, before)
			}
		}
		_, err := db.ActivitiesVersion(as(other.ID), u.ID)
		wantCode(t, err, cairn.ENOTFOUND)
		day := start.Add(30 * time.Hour)
		filters := []cairn.ActivityFilter{{}, {IncludeDeleted: true}, {Start: &day}, {End: &day, IncludeDeleted: true}}
		for _, typ := range types {
			filters = append(filters, cairn.ActivityFilter{Type: typ}, cairn.ActivityFilter{Type: typ, IncludeDeleted: true})
		}
		for _, s := range sources {
			filters = append(filters, cairn.ActivityFilter{Source: s, Type: cairn.ActivityRun})
		}
		for _, d := range devs[1:] {
			filters = append(filters, cairn.ActivityFilter{DeviceID: *d}, cairn.ActivityFilter{DeviceID: *d, IncludeDeleted: true})
		}
		for _, f := range filters {
			f.UserID = u.ID
			want := countRows(t, db, ctx, f)
			p, err := db.ListActivities(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != want {
				t.Errorf("filter %+v: total %d, want %d", f, p.Total, want)
			}
		}
		if err := db.RecountActivities(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		p, _ := db.ListActivities(ctx, cairn.ActivityFilter{UserID: u.ID})
		if p.Total != len(live) {
			t.Errorf("after recount: total %d, want %d", p.Total, len(live))
		}
		wantCode(t, db.RecountActivities(as(other.ID), u.ID), cairn.ENOTFOUND)
	})
}

// countRows pages through the whole list: the count the total must match.
func countRows(t *testing.T, db *dbtest.DB, ctx context.Context, f cairn.ActivityFilter) int {
	t.Helper()
	n := 0
	f.Page = cairn.PageRequest{Limit: 200}
	for {
		p, err := db.ListActivities(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Data)
		if p.NextCursor == nil {
			return n
		}
		f.Page.Cursor = *p.NextCursor
	}
}

func TestWorkoutLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		other := mustUser(t, db, "bob@example.com")
		ctx := as(u.ID)
		for i := range 3 {
			w := &cairn.Workout{UserID: u.ID, Name: fmt.Sprint("w", i), Sport: []cairn.ActivityType{cairn.ActivityRun, cairn.ActivityRide}[i%2]}
			w.SetSteps([]cairn.WorkoutStep{{Index: 0, DurationType: "time"}})
			if err := db.CreateWorkout(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		p, err := db.ListWorkouts(ctx, cairn.WorkoutFilter{UserID: u.ID, Sport: cairn.ActivityRun})
		if err != nil || p.Total != 2 || len(p.Data) != 2 || p.Data[0].Name != "w2" {
			t.Fatalf("by sport: %+v, %v", p, err)
		}
		w := p.Data[0]
		seen := w.UpdatedAt
		w.Description = "intervals"
		if err := db.UpdateWorkout(ctx, &w, seen); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.UpdateWorkout(ctx, &w, seen), cairn.EPRECONDITION)
		_, err = db.FindWorkout(as(other.ID), w.ID)
		wantCode(t, err, cairn.ENOTFOUND)
		wantCode(t, db.SoftDeleteWorkout(as(other.ID), w.ID), cairn.ENOTFOUND)
		_, err = db.ListWorkouts(as(other.ID), cairn.WorkoutFilter{UserID: u.ID})
		wantCode(t, err, cairn.ENOTFOUND)
		if err := db.SoftDeleteWorkout(ctx, w.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.SoftDeleteWorkout(ctx, w.ID), cairn.ENOTFOUND)
		_, err = db.FindWorkout(ctx, w.ID)
		wantCode(t, err, cairn.ENOTFOUND)
		wantCode(t, db.UpdateWorkout(ctx, &w, w.UpdatedAt), cairn.ENOTFOUND)
		p, _ = db.ListWorkouts(ctx, cairn.WorkoutFilter{UserID: u.ID})
		if p.Total != 2 {
			t.Errorf("deleted workouts are listed: total %d", p.Total)
		}
	})
}

func TestDailyMetrics(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		other := mustUser(t, db, "bob@example.com")
		ctx := as(u.ID)
		day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		for i := range 5 {
			hr := 50.0 + float64(i)
			d := &cairn.DailyMetric{UserID: u.ID, Date: day.AddDate(0, 0, i).Format("2006-01-02"), RestingHR: &hr}
			if err := db.UpsertDailyMetric(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		soreness := 3
		again := &cairn.DailyMetric{UserID: u.ID, Date: "2025-03-02", Soreness: &soreness}
		if err := db.UpsertDailyMetric(ctx, again); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.UpsertDailyMetric(ctx, &cairn.DailyMetric{UserID: u.ID, Date: "yesterday"}), cairn.EVALIDATION)
		wantCode(t, db.UpsertDailyMetric(as(other.ID), &cairn.DailyMetric{UserID: u.ID, Date: "2025-03-01"}), cairn.ENOTFOUND)

		f := cairn.DailyFilter{UserID: u.ID, Start: "2025-03-02", End: "2025-03-05", Page: cairn.PageRequest{Limit: 2}}
		p, err := db.ListDailyMetrics(ctx, f)
		if err != nil || p.Total != 3 || len(p.Data) != 2 || p.Data[0].Date != "2025-03-04" || p.NextCursor == nil {
			t.Fatalf("first page: %+v, %v", p, err)
		}
		f.Page.Cursor = *p.NextCursor
		p, err = db.ListDailyMetrics(ctx, f)
		if err != nil || len(p.Data) != 1 || p.Data[0].Date != "2025-03-02" || p.Data[0].Soreness == nil || *p.Data[0].Soreness != 3 || p.Data[0].RestingHR != nil {
			t.Fatalf("second page (the day was replaced): %+v, %v", p, err)
		}
		f.Page.Cursor = *p.PrevCursor
		p, err = db.ListDailyMetrics(ctx, f)
		if err != nil || len(p.Data) != 2 || p.Data[1].Date != "2025-03-03" {
			t.Fatalf("back: %+v, %v", p, err)
		}
		_, err = db.ListDailyMetrics(as(other.ID), cairn.DailyFilter{UserID: u.ID})
		wantCode(t, err, cairn.ENOTFOUND)
	})
}

func TestIdempotencyKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		other := mustUser(t, db, "bob@example.com")
		ctx := as(u.ID)
		req := func(owner, key, hash string) *cairn.IdempotentRequest {
			return &cairn.IdempotentRequest{Owner: owner, Key: key, Method: "POST", Path: "/v1/activities", Hash: hash}
		}
		prior, err := db.BeginRequest(ctx, req(u.ID, "k1", "h1"))
		if err != nil || prior != nil {
			t.Fatalf("first claim: %+v, %v", prior, err)
		}
		prior, err = db.BeginRequest(ctx, req(u.ID, "k1", "h1"))
		if err != nil || prior == nil || prior.Response != nil || prior.Hash != "h1" {
			t.Fatalf("second claim while running: %+v, %v", prior, err)
		}
		// Keys are per user.
		if prior, err := db.BeginRequest(as(other.ID), req(other.ID, "k1", "h9")); err != nil || prior != nil {
			t.Fatalf("another user's key: %+v, %v", prior, err)
		}
		_, err = db.BeginRequest(as(other.ID), req(u.ID, "k2", "h1"))
		wantCode(t, err, cairn.ENOTFOUND)
		// An OAuth client acting as itself has keys of its own, which
		// neither a user nor another client reaches.
		app := cairn.WithActor(context.Background(), cairn.Actor{ClientID: "app"})
		if prior, err := db.BeginRequest(app, req("client:app", "k1", "h7")); err != nil || prior != nil {
			t.Fatalf("a client's key: %+v, %v", prior, err)
		}
		if prior, err := db.BeginRequest(app, req("client:app", "k1", "h7")); err != nil || prior == nil || prior.Hash != "h7" {
			t.Fatalf("the client's key again: %+v, %v", prior, err)
		}
		other2 := cairn.WithActor(context.Background(), cairn.Actor{ClientID: "other"})
		for _, c := range []context.Context{ctx, other2} {
			_, err = db.BeginRequest(c, req("client:app", "k1", "h7"))
			wantCode(t, err, cairn.ENOTFOUND)
		}
		_, err = db.BeginRequest(app, req(u.ID, "k1", "h1"))
		wantCode(t, err, cairn.ENOTFOUND)
		if err := db.ReleaseRequest(app, "client:app", "k1"); err != nil {
			t.Fatal(err)
		}
		resp := cairn.StoredResponse{Status: 201, Header: map[string]string{"Location": "/v1/activities/x"}, Body: []byte(`{"id":"x"}`)}
		if err := db.CompleteRequest(ctx, u.ID, "k1", resp); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.CompleteRequest(ctx, u.ID, "k1", resp), cairn.ENOTFOUND)
		prior, err = db.BeginRequest(ctx, req(u.ID, "k1", "h2"))
		if err != nil || prior == nil || prior.Response == nil || prior.Hash != "h1" || prior.Response.Status != 201 ||
			string(prior.Response.Body) != `{"id":"x"}` || prior.Response.Header["Location"] != "/v1/activities/x" {
			t.Fatalf("done: %+v, %v", prior, err)
		}
		// A released key runs again; a finished one is not released.
		if err := db.ReleaseRequest(ctx, u.ID, "k1"); err != nil {
			t.Fatal(err)
		}
		if prior, _ := db.BeginRequest(ctx, req(u.ID, "k1", "h2")); prior == nil {
			t.Fatal("a finished key was released")
		}
		if _, err := db.BeginRequest(ctx, req(u.ID, "k3", "h3")); err != nil {
			t.Fatal(err)
		}
		if err := db.ReleaseRequest(ctx, u.ID, "k3"); err != nil {
			t.Fatal(err)
		}
		if prior, err := db.BeginRequest(ctx, req(u.ID, "k3", "h4")); err != nil || prior != nil {
			t.Fatalf("released key: %+v, %v", prior, err)
		}
		// Kept 24 hours: after that a key is claimed afresh, and purged (the
		// three keys of both users).
		later := time.Now().Add(cairn.IdempotencyTTL + time.Minute)
		db.Now = func() time.Time { return later }
		if prior, err := db.BeginRequest(ctx, req(u.ID, "k1", "h5")); err != nil || prior != nil {
			t.Fatalf("expired key: %+v, %v", prior, err)
		}
		n, err := db.PurgeExpired(context.Background(), later.Add(cairn.IdempotencyTTL+time.Minute))
		if err != nil || n != 3 {
			t.Fatalf("purge: %d, %v", n, err)
		}
	})
}

func TestFindTokenUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		tok := &cairn.PersonalAccessToken{UserID: u.ID, Hash: []byte{7}, Scopes: []cairn.Scope{cairn.ScopeActivityRead}}
		if err := db.CreateToken(sys, tok); err != nil {
			t.Fatal(err)
		}
		gotTok, gotUser, err := db.FindTokenUser(context.Background(), []byte{7})
		if err != nil || gotTok.ID != tok.ID || gotTok.Scopes[0] != cairn.ScopeActivityRead || gotUser.ID != u.ID || gotUser.Roles[0] != cairn.RoleUser {
			t.Fatalf("FindTokenUser: %+v %+v %v", gotTok, gotUser, err)
		}
		_, _, err = db.FindTokenUser(context.Background(), []byte{8})
		wantCode(t, err, cairn.ENOTFOUND)
		if _, err := db.Writer().Exec("UPDATE users SET deleted_at = created_at WHERE id = $1", u.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = db.FindTokenUser(context.Background(), []byte{7})
		wantCode(t, err, cairn.ENOTFOUND)
	})
}
