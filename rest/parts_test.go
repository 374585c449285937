package rest_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/client"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	openapi_types "github.com/oapi-codegen/runtime/types"
)

// newActivity creates an activity through the API.
func newActivity(t *testing.T, c *client.ClientWithResponses, start time.Time) *client.ActivityDetail {
	t.Helper()
	r, err := c.CreateActivityWithResponse(bg, nil, client.ActivityInput{Type: client.Run, StartTime: start})
	check(t, "create activity", 201, r, err)
	return r.JSON201
}

func TestActivityPartsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ada, bob := e.user("ada@example.com"), e.user("bob@example.com")
		rw := []cairn.Scope{cairn.ScopeActivityRead, cairn.ScopeActivityWrite}
		c, bc := e.client(e.token(ada, time.Hour, rw...)), e.client(e.token(bob, time.Hour, rw...))
		start := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
		a := newActivity(t, c, start)

		// Summary.
		s, err := c.GetActivitySummaryWithResponse(bg, a.Id, nil)
		check(t, "no summary yet", 404, s, err)
		ps, err := c.PutActivitySummaryWithResponse(bg, a.Id, nil, client.SummaryInput{DistanceM: ptr(10012.5),
			DurationS: ptr(3600.0), AvgHr: ptr(150.0), HrZonesS: &[]float64{60, 600, 1800, 900, 240}})
		check(t, "put summary", 200, ps, err)
		if *ps.JSON200.DistanceM != 10012.5 || ps.JSON200.Sources["avg_hr"] != cairn.SummaryFromClient || ps.JSON200.MaxHr != nil {
			t.Errorf("summary: %+v", ps.JSON200)
		}
		ps, err = c.PutActivitySummaryWithResponse(bg, a.Id, nil, client.SummaryInput{Calories: ptr(-1.0)})
		wantFields(t, "negative calories", 400, cairn.EVALIDATION, "calories", ps, ps.Body, err)
		ps, err = c.PutActivitySummaryWithResponse(bg, a.Id, nil, client.SummaryInput{HrZonesS: &[]float64{1, 2}})
		wantFields(t, "two zones", 400, cairn.EVALIDATION, "hr_zones_s", ps, ps.Body, err)
		ps, err = bc.PutActivitySummaryWithResponse(bg, a.Id, nil, client.SummaryInput{Calories: ptr(1.0)})
		check(t, "another user's summary", 404, ps, err)
		s, err = c.GetActivitySummaryWithResponse(bg, a.Id, nil)
		check(t, "get summary", 200, s, err)
		sb, err := bc.GetActivitySummaryWithResponse(bg, a.Id, nil)
		check(t, "get another user's summary", 404, sb, err)

		// Series: a 1 Hz hour of heart rate with one peak.
		points := make([]client.Point, 3600)
		for i := range points {
			points[i] = client.Point{T: start.UnixMilli() + int64(i)*1000, V: math.Round(140 + 10*math.Sin(float64(i)/60))}
		}
		points[1800].V = 199
		pm, err := c.PutActivityMetricWithResponse(bg, a.Id, nil, client.MetricInput{Type: client.MetricTypeHeartRate, Points: points})
		check(t, "put series", 201, pm, err)
		m := pm.JSON201
		if m.Count != 3600 || *m.Max != 199 || m.Unit != "bpm" || pm.HTTPResponse.Header.Get("Location") != "/v1/activities/"+a.Id+"/metrics/"+m.Id {
			t.Errorf("series metadata: %+v", m)
		}
		power := []client.Point{{T: start.UnixMilli(), V: 200}, {T: start.UnixMilli() + 1000, V: 210}}
		pm, err = c.PutActivityMetricWithResponse(bg, a.Id, nil, client.MetricInput{Type: client.MetricTypePower, Points: power})
		check(t, "put power", 201, pm, err)
		pm, err = c.PutActivityMetricWithResponse(bg, a.Id, nil, client.MetricInput{Type: client.MetricTypePower,
			Points: []client.Point{{T: 2, V: 1}, {T: 1, V: 1}}})
		wantFields(t, "unsorted points", 400, cairn.EVALIDATION, "points[1].t", pm, pm.Body, err)
		pm, err = c.PutActivityMetricWithResponse(bg, a.Id, nil, client.MetricInput{Type: client.MetricTypePosition, Points: power})
		wantFields(t, "position points", 400, cairn.EVALIDATION, "type", pm, pm.Body, err)
		pm, err = bc.PutActivityMetricWithResponse(bg, a.Id, nil, client.MetricInput{Type: client.MetricTypePower, Points: power})
		check(t, "another user's series", 404, pm, err)

		lm, err := c.ListActivityMetricsWithResponse(bg, a.Id, nil)
		check(t, "list series", 200, lm, err)
		if lm.JSON200.Total != 2 {
			t.Errorf("series: %+v", lm.JSON200)
		}
		lm, err = c.ListActivityMetricsWithResponse(bg, a.Id, &client.ListActivityMetricsParams{Type: ptr(client.MetricTypePower)})
		check(t, "list power", 200, lm, err)
		if lm.JSON200.Total != 1 || lm.JSON200.Data[0].Type != client.MetricTypePower {
			t.Errorf("series by type: %+v", lm.JSON200)
		}
		lb, err := bc.ListActivityMetricsWithResponse(bg, a.Id, nil)
		check(t, "another user's series list", 404, lb, err)

		from, to := start.Add(10*time.Minute), start.Add(50*time.Minute)
		gm, err := c.GetActivityMetricWithResponse(bg, a.Id, m.Id, &client.GetActivityMetricParams{Start: &from, End: &to, Downsample: ptr(100)})
		check(t, "series window", 200, gm, err)
		got := gm.JSON200
		peak := false
		for _, p := range got.Points {
			peak = peak || *p.V == 199
		}
		if got.Count != 100 || len(got.Points) != 100 || got.Points[0].T != from.UnixMilli() || got.Points[99].T != to.UnixMilli()-1000 || !peak {
			t.Errorf("window: %d points, %d to %d, peak %v", got.Count, got.Points[0].T, got.Points[len(got.Points)-1].T, peak)
		}
		gm, err = c.GetActivityMetricWithResponse(bg, a.Id, m.Id, nil)
		check(t, "whole series", 200, gm, err)
		if gm.JSON200.Count != 3600 {
			t.Errorf("whole series: %d", gm.JSON200.Count)
		}
		gm, err = c.GetActivityMetricWithResponse(bg, a.Id, m.Id, &client.GetActivityMetricParams{Downsample: ptr(2)})
		wantFields(t, "downsample 2", 400, cairn.EVALIDATION, "downsample", gm, gm.Body, err)
		gm, err = c.GetActivityMetricWithResponse(bg, a.Id, m.Id, &client.GetActivityMetricParams{Start: &to, End: &from})
		wantFields(t, "end before start", 400, cairn.EVALIDATION, "end", gm, gm.Body, err)
		gm, err = bc.GetActivityMetricWithResponse(bg, a.Id, m.Id, nil)
		check(t, "another user's series", 404, gm, err)
		other := newActivity(t, c, start.Add(48*time.Hour))
		gm, err = c.GetActivityMetricWithResponse(bg, other.Id, m.Id, nil)
		check(t, "series under another activity", 404, gm, err)

		// Route: GeoJSON in, polyline and GeoJSON out, simplified.
		coords := make([][]float64, 0, 200)
		for i := range 200 {
			coords = append(coords, []float64{6 + float64(i)*0.0001, 45 + 0.00001*math.Sin(float64(i)), 1000 + float64(i%20)})
		}
		pr, err := c.PutActivityRouteWithResponse(bg, a.Id, nil, client.RouteInput{Geojson: &map[string]any{
			"type": "Feature", "properties": map[string]any{}, "geometry": map[string]any{"type": "LineString", "coordinates": coords}}})
		check(t, "put GeoJSON route", 201, pr, err)
		if pr.JSON201.PointCount != 200 || pr.JSON201.Start.Lng != 6 || pr.JSON201.Bbox == nil || pr.JSON201.ElevationGain == nil {
			t.Errorf("route rollup: %+v", pr.JSON201)
		}
		gr, err := c.GetActivityRouteWithResponse(bg, a.Id, nil)
		check(t, "get route", 200, gr, err)
		if gr.JSON200.Format != client.RouteFormatPolyline || gr.JSON200.ReturnedPoints != 200 || gr.JSON200.Polyline == nil {
			t.Errorf("route: %+v", gr.JSON200)
		}
		gr, err = c.GetActivityRouteWithResponse(bg, a.Id, &client.GetActivityRouteParams{
			Format: ptr(client.GetActivityRouteParamsFormatGeojson), SimplifyTolerance: ptr(5.0)})
		check(t, "simplified GeoJSON route", 200, gr, err)
		geom := (*gr.JSON200.Geojson)["geometry"].(map[string]any)
		if n := len(geom["coordinates"].([]any)); n != 2 || gr.JSON200.ReturnedPoints != 2 || *gr.JSON200.SimplifyTolerance != 5 {
			t.Errorf("simplified route: %d coordinates, %+v", n, gr.JSON200)
		}
		gr, err = c.GetActivityRouteWithResponse(bg, a.Id, &client.GetActivityRouteParams{Format: ptr(client.GetActivityRouteParamsFormat("kml"))})
		wantFields(t, "bad format", 400, cairn.EVALIDATION, "format", gr, gr.Body, err)
		gr, err = c.GetActivityRouteWithResponse(bg, a.Id, &client.GetActivityRouteParams{SimplifyTolerance: ptr(-1.0)})
		wantFields(t, "negative tolerance", 400, cairn.EVALIDATION, "simplify_tolerance", gr, gr.Body, err)
		gr, err = bc.GetActivityRouteWithResponse(bg, a.Id, nil)
		check(t, "another user's route", 404, gr, err)
		pr, err = c.PutActivityRouteWithResponse(bg, other.Id, nil, client.RouteInput{Polyline: gr2polyline(t, c, a.Id)})
		check(t, "put polyline route", 201, pr, err)
		pr, err = c.PutActivityRouteWithResponse(bg, other.Id, nil, client.RouteInput{Polyline: ptr("!!")})
		wantFields(t, "bad polyline", 400, cairn.EVALIDATION, "polyline", pr, pr.Body, err)
		pr, err = c.PutActivityRouteWithResponse(bg, other.Id, nil, client.RouteInput{Geojson: &map[string]any{"type": "Point", "coordinates": []float64{1, 2}}})
		wantFields(t, "a Point", 400, cairn.EVALIDATION, "geojson.type", pr, pr.Body, err)
		pr, err = c.PutActivityRouteWithResponse(bg, other.Id, nil, client.RouteInput{})
		wantFields(t, "no track", 400, cairn.EVALIDATION, "body", pr, pr.Body, err)

		// The detail links everything, and the position series reads back.
		g, err := c.GetActivityWithResponse(bg, a.Id, nil)
		check(t, "detail", 200, g, err)
		d := g.JSON200
		if d.Summary == nil || *d.Summary.AvgHr != 150 || d.Links.Route == nil || *d.Links.Summary != "/v1/activities/"+a.Id+"/summary" || len(d.Metrics) != 3 {
			t.Fatalf("detail: %+v", d)
		}
		for _, ml := range d.Metrics {
			if ml.Type != client.MetricTypePosition {
				continue
			}
			gm, err = c.GetActivityMetricWithResponse(bg, a.Id, ml.Id, &client.GetActivityMetricParams{Downsample: ptr(10)})
			check(t, "position series", 200, gm, err)
			if p := gm.JSON200.Points; len(p) != 10 || *p[9].Lon != coords[199][0] || p[0].V != nil || *p[0].Alt != 1000 {
				t.Errorf("position series: %+v", p)
			}
		}

		// A deleted activity's parts go with it.
		del, _ := c.DeleteActivityWithResponse(bg, a.Id)
		check(t, "delete", 204, del, nil)
		s, _ = c.GetActivitySummaryWithResponse(bg, a.Id, nil)
		check(t, "summary of a deleted activity", 404, s, nil)
		gm, _ = c.GetActivityMetricWithResponse(bg, a.Id, m.Id, nil)
		check(t, "series of a deleted activity", 404, gm, nil)
		gr, _ = c.GetActivityRouteWithResponse(bg, a.Id, nil)
		check(t, "route of a deleted activity", 404, gr, nil)
	})
}

func gr2polyline(t *testing.T, c *client.ClientWithResponses, activityID string) *string {
	t.Helper()
	gr, err := c.GetActivityRouteWithResponse(bg, activityID, nil)
	check(t, "route", 200, gr, err)
	return gr.JSON200.Polyline
}

func TestHealthAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ada, bob := e.user("ada@example.com"), e.user("bob@example.com")
		ctx := cairn.WithActor(bg, cairn.Actor{UserID: ada.ID})
		day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		var ms []cairn.HealthMetric
		for i := range 10 {
			ms = append(ms, cairn.HealthMetric{UserID: ada.ID, Type: cairn.HealthWeight, Time: day.AddDate(0, 0, i), Value: 70, Unit: "kg"},
				cairn.HealthMetric{UserID: ada.ID, Type: cairn.HealthSteps, Time: day.AddDate(0, 0, i), Value: float64(1000 * i)})
			hr := 50.0 + float64(i)
			if err := db.UpsertDailyMetric(ctx, &cairn.DailyMetric{UserID: ada.ID, Date: day.AddDate(0, 0, i).Format("2006-01-02"), RestingHR: &hr}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.InTx(ctx, func(tx *sqldb.Tx) error { _, err := tx.UpsertHealthMetrics(ctx, ms); return err }); err != nil {
			t.Fatal(err)
		}
		c := e.client(e.token(ada, time.Hour, cairn.ScopeHealthRead))
		from, to := day.AddDate(0, 0, 2), day.AddDate(0, 0, 5)
		h, err := c.ListHealthMetricsWithResponse(bg, ada.ID, &client.ListHealthMetricsParams{Type: ptr(client.HealthMetricTypeSteps),
			StartDate: &from, EndDate: &to, Limit: ptr(2)})
		check(t, "health metrics", 200, h, err)
		if h.JSON200.Total != 3 || len(h.JSON200.Data) != 2 || h.JSON200.Data[0].Value != 4000 || h.JSON200.NextCursor == nil {
			t.Errorf("health metrics: %+v", h.JSON200)
		}
		h, err = c.ListHealthMetricsWithResponse(bg, ada.ID, &client.ListHealthMetricsParams{Type: ptr(client.HealthMetricType("mood"))})
		wantFields(t, "unknown health type", 400, cairn.EVALIDATION, "type", h, h.Body, err)
		dm, err := c.ListDailyMetricsWithResponse(bg, ada.ID, &client.ListDailyMetricsParams{
			StartDate: &openapi_types.Date{Time: day.AddDate(0, 0, 8)}})
		check(t, "daily metrics", 200, dm, err)
		if dm.JSON200.Total != 2 || dm.JSON200.Data[0].Date.String() != "2025-03-10" || *dm.JSON200.Data[1].RestingHr != 58 {
			t.Errorf("daily metrics: %+v", dm.JSON200)
		}
		bc := e.client(e.token(bob, time.Hour, cairn.ScopeHealthRead))
		hb, err := bc.ListHealthMetricsWithResponse(bg, ada.ID, nil)
		check(t, "another user's health", 404, hb, err)
		db2, err := bc.ListDailyMetricsWithResponse(bg, ada.ID, nil)
		check(t, "another user's days", 404, db2, err)
	})
}

func TestWorkoutsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ada, bob := e.user("ada@example.com"), e.user("bob@example.com")
		rw := []cairn.Scope{cairn.ScopeActivityRead, cairn.ScopeActivityWrite}
		c, bc := e.client(e.token(ada, time.Hour, rw...)), e.client(e.token(bob, time.Hour, rw...))
		steps := []client.WorkoutStep{{Index: 0, DurationType: "time", DurationValue: ptr(600.0), Intensity: ptr("warmup")},
			{Index: 1, DurationType: "distance", DurationValue: ptr(400.0), TargetType: ptr("speed"), TargetLow: ptr(4.0), TargetHigh: ptr(4.5)},
			{Index: 2, DurationType: "repeat_until_steps_cmplt", RepeatFrom: ptr(1), RepeatCount: ptr(8)}}
		cw, err := c.CreateWorkoutWithResponse(bg, ada.ID, nil, client.WorkoutInput{Name: "8x400", Sport: ptr(client.Run), Steps: &steps})
		check(t, "create workout", 201, cw, err)
		w := cw.JSON201
		if len(w.Steps) != 3 || *w.Steps[2].RepeatCount != 8 || cw.HTTPResponse.Header.Get("Location") != "/v1/workouts/"+w.Id {
			t.Errorf("workout: %+v", w)
		}
		bad := []client.WorkoutStep{{Index: 0, DurationType: "time", RepeatFrom: ptr(0)}}
		cw, err = c.CreateWorkoutWithResponse(bg, ada.ID, nil, client.WorkoutInput{Name: "x", Steps: &bad})
		wantFields(t, "repeat from itself", 400, cairn.EVALIDATION, "steps[0].repeat_from", cw, cw.Body, err)
		cw, err = c.CreateWorkoutWithResponse(bg, ada.ID, nil, client.WorkoutInput{Name: ""})
		wantFields(t, "no name", 400, cairn.EVALIDATION, "name", cw, cw.Body, err)
		cw, err = bc.CreateWorkoutWithResponse(bg, ada.ID, nil, client.WorkoutInput{Name: "x"})
		check(t, "workout for another user", 404, cw, err)
		cw, err = c.CreateWorkoutWithResponse(bg, ada.ID, nil, client.WorkoutInput{Name: "spin", Sport: ptr(client.IndoorRide)})
		check(t, "second workout", 201, cw, err)

		l, err := c.ListWorkoutsWithResponse(bg, ada.ID, &client.ListWorkoutsParams{Sport: ptr(client.Run)})
		check(t, "list by sport", 200, l, err)
		if l.JSON200.Total != 1 || l.JSON200.Data[0].Id != w.Id {
			t.Errorf("list by sport: %+v", l.JSON200)
		}
		u, err := c.UpdateWorkoutWithResponse(bg, w.Id, nil, client.WorkoutPatch{Description: ptr("track"), Steps: &[]client.WorkoutStep{steps[0]}})
		check(t, "patch workout", 200, u, err)
		if u.JSON200.Description != "track" || len(u.JSON200.Steps) != 1 || u.JSON200.Name != "8x400" {
			t.Errorf("patched workout: %+v", u.JSON200)
		}
		g, err := bc.GetWorkoutWithResponse(bg, w.Id, nil)
		check(t, "another user's workout", 404, g, err)
		d, err := bc.DeleteWorkoutWithResponse(bg, w.Id)
		check(t, "delete another user's workout", 404, d, err)
		d, err = c.DeleteWorkoutWithResponse(bg, w.Id)
		check(t, "delete workout", 204, d, err)
		g, err = c.GetWorkoutWithResponse(bg, w.Id, nil)
		check(t, "get deleted workout", 404, g, err)
		l, _ = c.ListWorkoutsWithResponse(bg, ada.ID, nil)
		if l.JSON200.Total != 1 || strings.Contains(string(l.Body), w.Id) {
			t.Errorf("deleted workout listed: %s", l.Body)
		}
	})
}
