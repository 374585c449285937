package sqldb_test

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/google/go-cmp/cmp"
)

// Conformance cases for batch reads (cairn.BatchStore) and for pages read
// backward with a cursor at each row (GraphQL's connections).

// partsOf gives each activity a summary, a route and series of two types.
func partsOf(t *testing.T, db *dbtest.DB, ctx context.Context, as []cairn.Activity) {
	t.Helper()
	for i, a := range as {
		d := float64(1000 * (i + 1))
		if err := db.UpsertSummary(ctx, &cairn.Summary{ActivityID: a.ID, UserID: a.UserID, DistanceM: &d,
			HRZones: []float64{1, 2, 3, 4, 5}, Sources: map[string]string{"distance_m": "device"}}); err != nil {
			t.Fatal(err)
		}
		gain := 12.5
		err := db.InTx(ctx, func(tx *sqldb.Tx) error {
			if err := tx.UpsertRoute(ctx, &cairn.Route{ActivityID: a.ID, UserID: a.UserID, Polyline: "_p~iF~ps|U",
				PointCount: 2, Start: &cairn.LatLng{Lat: 1, Lng: 2}, End: &cairn.LatLng{Lat: 3, Lng: 4},
				BBox: []float64{2, 1, 4, 3}, ElevationGain: &gain}); err != nil {
				return err
			}
			for _, typ := range []cairn.MetricType{cairn.MetricHeartRate, cairn.MetricPower, cairn.MetricCadence} {
				avg := 140.0
				if err := tx.UpsertMetric(ctx, &cairn.Metric{ActivityID: a.ID, UserID: a.UserID, Type: typ,
					Unit: cairn.MetricTypes[typ], Count: 10, Avg: &avg, BlobKey: "k"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func ids[T any](xs []T, id func(*T) string) []string {
	out := make([]string, len(xs))
	for i := range xs {
		out[i] = id(&xs[i])
	}
	sort.Strings(out)
	return out
}

func TestBatchReads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		other := mustUser(t, db, "bob@example.com")
		ctx, octx := as(u.ID), as(other.ID)
		start := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
		dev := &cairn.Device{UserID: u.ID, Model: "fenix"}
		odev := &cairn.Device{UserID: other.ID, Model: "edge"}
		for c, d := range map[context.Context]*cairn.Device{ctx: dev, octx: odev} {
			if err := db.CreateDevice(c, d); err != nil {
				t.Fatal(err)
			}
		}
		mine := createActivities(t, db, ctx, u.ID, 3, start)
		theirs := createActivities(t, db, octx, other.ID, 2, start)
		partsOf(t, db, ctx, mine)
		partsOf(t, db, octx, theirs)
		if err := db.SoftDeleteActivity(ctx, mine[2].ID); err != nil {
			t.Fatal(err)
		}
		actIDs := append(ids(mine, func(a *cairn.Activity) string { return a.ID }),
			append(ids(theirs, func(a *cairn.Activity) string { return a.ID }), "nope", mine[0].ID)...)

		// Each batch read answers what the single reads answer, for the
		// actor's own rows only; others and unknown ids are left out.
		acts, err := db.FindActivities(ctx, actIDs)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(acts, func(a *cairn.Activity) string { return a.ID }), ids(mine, func(a *cairn.Activity) string { return a.ID }); !slices.Equal(got, want) {
			t.Fatalf("activities %v, want %v (deleted ones too)", got, want)
		}
		for _, a := range acts {
			one, err := db.FindActivity(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(*one, a); diff != "" {
				t.Errorf("activity (-single +batch):\n%s", diff)
			}
		}
		sums, err := db.FindSummaries(ctx, actIDs)
		if err != nil || len(sums) != 3 {
			t.Fatalf("summaries: %d, %v", len(sums), err)
		}
		for _, s := range sums {
			one, err := db.FindSummary(ctx, s.ActivityID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(*one, s); diff != "" {
				t.Errorf("summary (-single +batch):\n%s", diff)
			}
		}
		routes, err := db.FindRoutes(ctx, actIDs)
		if err != nil || len(routes) != 3 {
			t.Fatalf("routes: %d, %v", len(routes), err)
		}
		for _, r := range routes {
			one, err := db.FindRoute(ctx, r.ActivityID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(*one, r); diff != "" {
				t.Errorf("route (-single +batch):\n%s", diff)
			}
		}
		devs, err := db.FindDevices(ctx, []string{dev.ID, odev.ID, dev.ID})
		if err != nil || len(devs) != 1 || devs[0].ID != dev.ID {
			t.Fatalf("devices: %+v, %v", devs, err)
		}
		users, err := db.FindUsers(ctx, []string{u.ID, other.ID})
		if err != nil || len(users) != 1 || users[0].ID != u.ID {
			t.Fatalf("users: %+v, %v", users, err)
		}
		// An admin reaches everyone's rows; no actor, nothing.
		admin := cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID, Admin: true})
		if devs, err := db.FindDevices(admin, []string{dev.ID, odev.ID}); err != nil || len(devs) != 2 {
			t.Fatalf("admin devices: %+v, %v", devs, err)
		}
		_, err = db.FindDevices(context.Background(), []string{dev.ID})
		wantCode(t, err, cairn.EINTERNAL)
		if none, err := db.FindDevices(ctx, nil); err != nil || len(none) != 0 {
			t.Fatalf("no ids: %v, %v", none, err)
		}

		// Series: by id, and first pages per activity equal to ListMetrics'.
		for _, types := range [][]cairn.MetricType{nil, {cairn.MetricPower, cairn.MetricHeartRate}} {
			for _, limit := range []int{0, 2} {
				f := cairn.MetricFilter{Types: types, Page: cairn.PageRequest{Limit: limit, RowCursors: true}}
				pages, err := db.FirstMetricPages(ctx, actIDs, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, id := range actIDs {
					f.ActivityID = id
					want, err := db.ListMetrics(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(want, pages[id]); diff != "" {
						t.Errorf("types %v limit %d activity %s (-ListMetrics +FirstMetricPages):\n%s", types, limit, id, diff)
					}
				}
			}
		}
		page, _ := db.FirstMetricPages(ctx, []string{mine[0].ID}, cairn.MetricFilter{Page: cairn.PageRequest{Limit: 2}})
		if p := page[mine[0].ID]; len(p.Data) != 2 || p.Total != 3 || p.NextCursor == nil {
			t.Fatalf("first page of 2 of 3: %+v", p)
		} else {
			rest, err := db.ListMetrics(ctx, cairn.MetricFilter{ActivityID: mine[0].ID, Page: cairn.PageRequest{Cursor: *p.NextCursor}})
			if err != nil || len(rest.Data) != 1 {
				t.Fatalf("the next page goes on from a batch page's cursor: %+v, %v", rest, err)
			}
			ms, err := db.FindMetrics(ctx, append(ids(p.Data, func(m *cairn.Metric) string { return m.ID }), rest.Data[0].ID))
			if err != nil || len(ms) != 3 {
				t.Fatalf("metrics by id: %d, %v", len(ms), err)
			}
		}
		_, err = db.FirstMetricPages(ctx, actIDs, cairn.MetricFilter{Types: []cairn.MetricType{"bogus"}})
		wantCode(t, err, cairn.EVALIDATION)

		// Workouts, health metrics and days.
		w := &cairn.Workout{UserID: u.ID, Name: "Intervals"}
		if err := db.CreateWorkout(ctx, w); err != nil {
			t.Fatal(err)
		}
		if ws, err := db.FindWorkouts(ctx, []string{w.ID}); err != nil || len(ws) != 1 || ws[0].Name != "Intervals" {
			t.Fatalf("workouts: %+v, %v", ws, err)
		}
		if ws, err := db.FindWorkouts(octx, []string{w.ID}); err != nil || len(ws) != 0 {
			t.Fatalf("another user's workouts: %+v, %v", ws, err)
		}
		day := &cairn.DailyMetric{UserID: u.ID, Date: "2025-03-01"}
		if err := db.UpsertDailyMetric(ctx, day); err != nil {
			t.Fatal(err)
		}
		days, err := db.FindDailyMetrics(ctx, []string{day.ID})
		if err != nil || len(days) != 1 || days[0].Date != "2025-03-01" {
			t.Fatalf("days: %+v, %v", days, err)
		}
		var hm []cairn.HealthMetric
		err = db.InTx(ctx, func(tx *sqldb.Tx) error {
			hm = []cairn.HealthMetric{{UserID: u.ID, Type: cairn.HealthWeight, Time: start, Value: 70, Unit: "kg", Source: "file"}}
			_, err := tx.UpsertHealthMetrics(ctx, hm)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := db.FindHealthMetrics(ctx, []string{hm[0].ID}); err != nil || len(got) != 1 || got[0].Value != 70 {
			t.Fatalf("health metrics: %+v, %v", got, err)
		}
	})
}

// TestBackwardPagesAndRowCursors walks a list forward and backward from
// every row's cursor and checks each page against the whole list.
func TestBackwardPagesAndRowCursors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		u := mustUser(t, db, "ada@example.com")
		ctx := as(u.ID)
		start := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
		createActivities(t, db, ctx, u.ID, 7, start)
		createActivities(t, db, ctx, u.ID, 1, start) // a tie on start time
		list := func(p cairn.PageRequest) *cairn.Page[cairn.Activity] {
			t.Helper()
			p.RowCursors = true
			page, err := db.ListActivities(ctx, cairn.ActivityFilter{UserID: u.ID, Page: p})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Cursors) != len(page.Data) {
				t.Fatalf("%d cursors for %d rows", len(page.Cursors), len(page.Data))
			}
			return page
		}
		all := list(cairn.PageRequest{Limit: 200})
		n := len(all.Data)
		inOrder := func(as []cairn.Activity) []string {
			out := make([]string, len(as))
			for i, a := range as {
				out[i] = a.ID
			}
			return out
		}
		want := func(from, to int) []string { return inOrder(all.Data[max(from, 0):min(to, n)]) }
		got := func(p *cairn.Page[cairn.Activity]) []string { return inOrder(p.Data) }
		for i, c := range all.Cursors {
			// Forward from row i: the rows after it.
			fwd := list(cairn.PageRequest{Cursor: c, Limit: 3})
			if !slices.Equal(got(fwd), want(i+1, i+4)) || (fwd.NextCursor != nil) != (i+4 < n) || fwd.PrevCursor == nil && i+1 < n {
				t.Errorf("after row %d: %v next=%v prev=%v", i, got(fwd), fwd.NextCursor != nil, fwd.PrevCursor != nil)
			}
			// Backward from row i: the rows just before it, in list order.
			back := list(cairn.PageRequest{Cursor: c, Limit: 3, Backward: true})
			if !slices.Equal(got(back), want(i-3, i)) || (back.PrevCursor != nil) != (i-3 > 0) || (i > 0 && back.NextCursor == nil) {
				t.Errorf("before row %d: %v, want %v; prev=%v next=%v", i, got(back), want(i-3, i), back.PrevCursor != nil, back.NextCursor != nil)
			}
			for j, bc := range back.Cursors {
				if bc != all.Cursors[i-len(back.Cursors)+j] {
					t.Errorf("before row %d: cursor %d differs from the whole list's", i, j)
				}
			}
		}
		// The last rows of the list, with nothing after them.
		last := list(cairn.PageRequest{Limit: 3, Backward: true})
		if !slices.Equal(got(last), want(n-3, n)) || last.NextCursor != nil || last.PrevCursor == nil {
			t.Errorf("last 3: %v, want %v", got(last), want(n-3, n))
		}
		// The existing prev cursors keep their meaning.
		second := list(cairn.PageRequest{Cursor: *list(cairn.PageRequest{Limit: 3}).NextCursor, Limit: 3})
		first := list(cairn.PageRequest{Cursor: *second.PrevCursor, Limit: 3})
		if !slices.Equal(got(first), want(0, 3)) {
			t.Errorf("prev cursor: %v, want %v", got(first), want(0, 3))
		}
		// Without the flag there are no row cursors.
		p, err := db.ListActivities(ctx, cairn.ActivityFilter{UserID: u.ID})
		if err != nil || p.Cursors != nil {
			t.Fatalf("cursors not asked for: %v, %v", p.Cursors, err)
		}
	})
}
