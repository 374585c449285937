package tracks_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/geo"
	"github.com/cairn-fit/cairn/series"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/tracks"
	"gocloud.dev/blob/memblob"
)

func as(userID string) context.Context {
	return cairn.WithActor(context.Background(), cairn.Actor{UserID: userID})
}

// setup returns a service on a fresh database and bucket, a user with one
// activity, and another user.
func setup(t *testing.T, db *dbtest.DB) (*tracks.Service, *cairn.Activity, string) {
	t.Helper()
	sys := cairn.SystemContext(context.Background())
	var ids []string
	for _, email := range []string{"ada@example.com", "bob@example.com"} {
		u := &cairn.User{Email: email}
		if err := db.CreateUser(sys, u); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	a := &cairn.Activity{UserID: ids[0], Type: cairn.ActivityRun, Source: cairn.SourceAPI, StartTime: time.Unix(1_700_000_000, 0)}
	if err := db.CreateActivity(as(ids[0]), a); err != nil {
		t.Fatal(err)
	}
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	return &tracks.Service{DB: db.DB, Bucket: bucket}, a, ids[1]
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := cairn.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func TestSeries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		svc, a, other := setup(t, db)
		ctx := as(a.UserID)
		t0 := a.StartTime.UnixMilli()
		points := make([]cairn.Point, 1000)
		for i := range points {
			points[i] = cairn.Point{T: t0 + int64(i)*1000, V: 120 + 20*math.Sin(float64(i)/50)}
		}
		points[500].V = 199 // a peak downsampling must keep
		m, err := svc.PutSeries(ctx, a.ID, cairn.MetricHeartRate, points)
		if err != nil {
			t.Fatal(err)
		}
		if m.Count != 1000 || *m.Max != 199 || m.SamplingRate != 1 || m.Unit != "bpm" || !m.StartTime.Equal(a.StartTime) {
			t.Errorf("metadata: %+v", m)
		}
		all, err := svc.Series(ctx, a.ID, m.ID, tracks.Window{})
		if err != nil || len(all.Points) != 1000 || all.Points[999] != points[999] {
			t.Fatalf("whole series: %d points, %v", len(all.Points), err)
		}
		start, end := a.StartTime.Add(100*time.Second), a.StartTime.Add(900*time.Second)
		w, err := svc.Series(ctx, a.ID, m.ID, tracks.Window{Start: &start, End: &end, Downsample: 50})
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Points) != 50 || w.Points[0] != points[100] || w.Points[49] != points[899] {
			t.Errorf("window: %d points from %v to %v", len(w.Points), w.Points[0], w.Points[len(w.Points)-1])
		}
		peak := false
		for _, p := range w.Points {
			peak = peak || p.V == 199
		}
		if !peak {
			t.Error("downsampling lost the peak")
		}
		// Replacing keeps one series per type.
		if _, err := svc.PutSeries(ctx, a.ID, cairn.MetricHeartRate, points[:10]); err != nil {
			t.Fatal(err)
		}
		if again, _ := svc.Series(ctx, a.ID, m.ID, tracks.Window{}); len(again.Points) != 10 {
			t.Errorf("replaced series has %d points", len(again.Points))
		}

		// Tenancy and the activity's state.
		_, err = svc.Series(as(other), a.ID, m.ID, tracks.Window{})
		wantCode(t, err, cairn.ENOTFOUND)
		_, err = svc.PutSeries(as(other), a.ID, cairn.MetricPower, points)
		wantCode(t, err, cairn.ENOTFOUND)
		b := &cairn.Activity{UserID: a.UserID, Type: cairn.ActivityRide, Source: cairn.SourceAPI, StartTime: a.StartTime}
		if err := db.CreateActivity(ctx, b); err != nil {
			t.Fatal(err)
		}
		_, err = svc.Series(ctx, b.ID, m.ID, tracks.Window{})
		wantCode(t, err, cairn.ENOTFOUND) // the metric is another activity's
		if err := db.SoftDeleteActivity(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		_, err = svc.Series(ctx, a.ID, m.ID, tracks.Window{})
		wantCode(t, err, cairn.ENOTFOUND)
	})
}

func TestSeriesValidation(t *testing.T) {
	svc, a, _ := setup(t, dbtest.Open(t, "sqlite"))
	ctx := as(a.UserID)
	for name, c := range map[string]struct {
		typ    cairn.MetricType
		points []cairn.Point
		field  string
	}{
		"unknown type": {"watts", []cairn.Point{{T: 1, V: 1}}, "type"},
		"position":     {cairn.MetricPosition, []cairn.Point{{T: 1, V: 1}}, "type"},
		"empty":        {cairn.MetricPower, nil, "points"},
		"unsorted":     {cairn.MetricPower, []cairn.Point{{T: 2, V: 1}, {T: 1, V: 1}}, "points[1].t"},
		"duplicate":    {cairn.MetricPower, []cairn.Point{{T: 2, V: 1}, {T: 2, V: 1}}, "points[1].t"},
		"infinite":     {cairn.MetricPower, []cairn.Point{{T: 1, V: math.Inf(1)}}, "points[0].v"},
	} {
		_, err := svc.PutSeries(ctx, a.ID, c.typ, c.points)
		if cairn.ErrorCode(err) != cairn.EVALIDATION || cairn.ErrorFields(err)[c.field] == "" {
			t.Errorf("%s: %v, want a validation error on %s", name, err, c.field)
		}
	}
}

func TestRoute(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		svc, a, other := setup(t, db)
		ctx := as(a.UserID)
		_, err := svc.Route(ctx, a.ID, tracks.FormatPolyline, 0)
		wantCode(t, err, cairn.ENOTFOUND)
		// A straight line with one sharp bump: simplified, the ends and the
		// bump with its two neighbours remain.
		var points []cairn.LatLng
		var ele []float64
		for i := range 101 {
			p := cairn.LatLng{Lat: 45, Lng: 6 + float64(i)*0.0001}
			if i == 50 {
				p.Lat += 0.001
			}
			points, ele = append(points, p), append(ele, 1000+float64(i))
		}
		r, err := svc.PutRoute(ctx, a.ID, points, ele)
		if err != nil {
			t.Fatal(err)
		}
		if r.PointCount != 101 || *r.Start != points[0] || *r.End != points[100] || r.ElevationGain == nil || r.BBox[3] != 45.001 {
			t.Errorf("rollup: %+v", r)
		}
		full, err := svc.Route(ctx, a.ID, tracks.FormatPolyline, 0)
		if err != nil || full.Points != 101 {
			t.Fatalf("full route: %+v, %v", full, err)
		}
		back, _ := geo.DecodePolyline(full.Polyline)
		for i := range back {
			if math.Abs(back[i].Lat-points[i].Lat) > 1e-5 || math.Abs(back[i].Lng-points[i].Lng) > 1e-5 {
				t.Fatalf("point %d: %v, want %v", i, back[i], points[i])
			}
		}
		simple, err := svc.Route(ctx, a.ID, tracks.FormatGeoJSON, 5)
		if err != nil || simple.Points != 5 || simple.Tolerance != 5 {
			t.Fatalf("simplified: %+v, %v", simple, err)
		}
		var feature struct {
			Geometry struct{ Coordinates [][]float64 } `json:"geometry"`
		}
		if err := json.Unmarshal(simple.GeoJSON, &feature); err != nil {
			t.Fatal(err)
		}
		c := feature.Geometry.Coordinates
		if len(c) != 5 || c[1][2] != 1049 || c[2][2] != 1050 || c[4][2] != 1100 || c[2][1] != 45.001 {
			t.Errorf("GeoJSON keeps the bump with its elevation: %v", c)
		}
		// The route is also the position series.
		page, err := db.ListMetrics(ctx, cairn.MetricFilter{ActivityID: a.ID, Types: []cairn.MetricType{cairn.MetricPosition}})
		if err != nil || len(page.Data) != 1 {
			t.Fatalf("position metric: %+v, %v", page, err)
		}
		pos, err := svc.Series(ctx, a.ID, page.Data[0].ID, tracks.Window{Downsample: 11})
		if err != nil || len(pos.Track) != 11 || pos.Track[10].Lon != points[100].Lng || pos.Track[5].Alt != 1050 {
			t.Fatalf("position series: %+v, %v", pos, err)
		}

		_, err = svc.Route(as(other), a.ID, tracks.FormatPolyline, 0)
		wantCode(t, err, cairn.ENOTFOUND)
		_, err = svc.PutRoute(as(other), a.ID, points, nil)
		wantCode(t, err, cairn.ENOTFOUND)
		_, err = svc.Route(ctx, a.ID, "kml", 0)
		wantCode(t, err, cairn.EVALIDATION)
		_, err = svc.Route(ctx, a.ID, tracks.FormatPolyline, -1)
		wantCode(t, err, cairn.EVALIDATION)
		_, err = svc.PutRoute(ctx, a.ID, points[:1], nil)
		wantCode(t, err, cairn.EVALIDATION)
	})
}

func TestMetricOf(t *testing.T) {
	m := tracks.MetricOf(cairn.MetricPower, []int64{1000, 2000, 3000}, []float64{100, math.NaN(), 300})
	if m.Count != 3 || *m.Min != 100 || *m.Max != 300 || *m.Avg != 200 || m.SamplingRate != 1 {
		t.Errorf("MetricOf: %+v", m)
	}
	if m := tracks.MetricOf(cairn.MetricPosition, []int64{0, 0}, nil); m.StartTime != nil || m.Min != nil {
		t.Errorf("a series without times or values: %+v", m)
	}
}

// BenchmarkPointsWindow is the server's work for a chart: decode a
// 100,000-point series, slice it and downsample it to 1,000 points.
func BenchmarkPointsWindow(b *testing.B) {
	points := make([]cairn.Point, 100_000)
	for i := range points {
		points[i] = cairn.Point{T: 1_700_000_000_000 + int64(i)*1000, V: math.Round(140 + 30*math.Sin(float64(i)/300) + float64(i%7))}
	}
	blob, err := series.EncodePoints(points)
	if err != nil {
		b.Fatal(err)
	}
	start, end := time.UnixMilli(points[5_000].T), time.UnixMilli(points[95_000].T)
	w := tracks.Window{Start: &start, End: &end, Downsample: 1000}
	b.ReportAllocs()
	for b.Loop() {
		out, err := tracks.PointsWindow(blob, w)
		if err != nil || len(out) != 1000 {
			b.Fatalf("%d points, %v", len(out), err)
		}
	}
}

// TestBundledSeries reads series stored the way an import stores them: one
// bundle per activity, each row naming its part.
func TestBundledSeries(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		svc, a, _ := setup(t, db)
		ctx := as(a.UserID)
		hr, _ := series.EncodePoints([]cairn.Point{{T: 1000, V: 120}, {T: 2000, V: 130}})
		track, _ := series.Encode([]int64{1000, 2000}, []float64{45, 45.001}, []float64{6, 6.001}, []float64{100, 101})
		key := "users/" + a.UserID + "/activities/" + a.ID + "/streams"
		if err := svc.Bucket.WriteAll(ctx, key, series.Bundle(map[string][]byte{"heart_rate": hr, "position": track}), nil); err != nil {
			t.Fatal(err)
		}
		m := tracks.MetricOf(cairn.MetricHeartRate, []int64{1000, 2000}, []float64{120, 130})
		m.UserID, m.ActivityID, m.BlobKey = a.UserID, a.ID, series.Ref(key, "heart_rate")
		r := cairn.Route{UserID: a.UserID, ActivityID: a.ID, BlobKey: series.Ref(key, "position"), PointCount: 2}
		err := db.InTx(ctx, func(tx *sqldb.Tx) error {
			if err := tx.UpsertMetrics(ctx, []cairn.Metric{m}); err != nil {
				return err
			}
			return tx.UpsertRoute(ctx, &r)
		})
		if err != nil {
			t.Fatal(err)
		}
		page, _ := db.ListMetrics(ctx, cairn.MetricFilter{ActivityID: a.ID})
		got, err := svc.Series(ctx, a.ID, page.Data[0].ID, tracks.Window{})
		if err != nil || len(got.Points) != 2 || got.Points[1].V != 130 {
			t.Fatalf("bundled series: %+v, %v", got, err)
		}
		route, err := svc.Route(ctx, a.ID, tracks.FormatGeoJSON, 0)
		if err != nil || route.Points != 2 {
			t.Fatalf("bundled route: %+v, %v", route, err)
		}
	})
}
