package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/cairn-fit/cairn"
)

// Batch reads (cairn.BatchStore): many rows of one kind in one query,
// filtered on the actor like every other read. GraphQL's loaders resolve
// a page of activities' devices, summaries and metrics with them.

var _ cairn.BatchStore = (*DB)(nil)

// maxBatch bounds the ids of one batch read; callers read pages of at most
// cairn.MaxPageSize objects, far below what either database binds.
const maxBatch = 1000

// findIn returns the rows of table whose column col is one of ids and that
// the actor may see (owner is the user_id column, or "id" for users).
func findIn[T any](ctx context.Context, db *DB, columns, table, col, owner string, ids []string, extra string,
	scan func(*sql.Rows) (T, error)) ([]T, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, owner)
	if err != nil {
		return nil, err
	}
	ids = distinct(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > maxBatch {
		return nil, cairn.Invalid(map[string]string{"ids": "at most 1000 at once"})
	}
	in := make([]string, len(ids))
	for i, id := range ids {
		in[i] = b.add(id)
	}
	query := "SELECT " + columns + " FROM " + table + " WHERE " + col + " IN (" + strings.Join(in, ", ") + ") AND " + own + extra
	rows, err := db.read.QueryContext(ctx, query, b.args...)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, db.translate(err)
		}
		out = append(out, v)
	}
	return out, db.translate(rows.Err())
}

// distinct drops repeated and empty ids, keeping the first of each.
func distinct(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// scanValue adapts a scanner returning a pointer.
func scanValue[T any](scan func(interface{ Scan(...any) error }) (*T, error)) func(*sql.Rows) (T, error) {
	return func(r *sql.Rows) (T, error) {
		v, err := scan(r)
		if err != nil {
			var zero T
			return zero, err
		}
		return *v, nil
	}
}

// FindUsers returns the live users with these ids that the actor may see.
func (db *DB) FindUsers(ctx context.Context, ids []string) ([]cairn.User, error) {
	return findIn(ctx, db, userColumns, "users", "id", "id", ids, " AND deleted_at IS NULL", scanValue(scanUser))
}

// FindDevices returns the devices with these ids.
func (db *DB) FindDevices(ctx context.Context, ids []string) ([]cairn.Device, error) {
	return findIn(ctx, db, deviceColumns, "devices", "id", "user_id", ids, "", scanValue(scanDevice))
}

// FindActivities returns the activities with these ids, deleted or not.
func (db *DB) FindActivities(ctx context.Context, ids []string) ([]cairn.Activity, error) {
	return findIn(ctx, db, activityColumns, "activities", "id", "user_id", ids, "", scanValue(scanActivity))
}

// FindMetrics returns the series' metadata with these ids.
func (db *DB) FindMetrics(ctx context.Context, ids []string) ([]cairn.Metric, error) {
	return findIn(ctx, db, metricColumns, "metrics", "id", "user_id", ids, "", scanValue(scanMetric))
}

// FindWorkouts returns the live workouts with these ids.
func (db *DB) FindWorkouts(ctx context.Context, ids []string) ([]cairn.Workout, error) {
	return findIn(ctx, db, workoutColumns, "workouts", "id", "user_id", ids, " AND deleted_at IS NULL", scanValue(scanWorkout))
}

// FindHealthMetrics returns the health metrics with these ids.
func (db *DB) FindHealthMetrics(ctx context.Context, ids []string) ([]cairn.HealthMetric, error) {
	return findIn(ctx, db, healthColumns, "health_metrics", "id", "user_id", ids, "", func(r *sql.Rows) (cairn.HealthMetric, error) {
		var m cairn.HealthMetric
		err := r.Scan(&m.ID, &m.UserID, &m.Type, tm(&m.Time), &m.Value, &m.Unit, &m.Source, tm(&m.CreatedAt), tm(&m.UpdatedAt))
		return m, err
	})
}

// FindDailyMetrics returns the days with these ids.
func (db *DB) FindDailyMetrics(ctx context.Context, ids []string) ([]cairn.DailyMetric, error) {
	return findIn(ctx, db, dailyColumns, "daily_metrics", "id", "user_id", ids, "", func(r *sql.Rows) (cairn.DailyMetric, error) {
		var d cairn.DailyMetric
		var day dateScanner
		var soreness, stress sql.NullInt64
		err := r.Scan(&d.ID, &d.UserID, &day, &d.RestingHR, &d.HRVRMSSD, &d.SleepH, &soreness, &stress,
			tm(&d.CreatedAt), tm(&d.UpdatedAt))
		d.Date = day.t.Format(dateLayout)
		d.Soreness, d.Stress = intp(soreness), intp(stress)
		return d, err
	})
}

// FindSummaries returns the summaries of the activities with these ids.
func (db *DB) FindSummaries(ctx context.Context, activityIDs []string) ([]cairn.Summary, error) {
	return findIn(ctx, db, summaryColumns, "summaries", "activity_id", "user_id", activityIDs, "", scanSummary)
}

// scanSummary reads a row of summaryColumns, as FindSummary does.
func scanSummary(r *sql.Rows) (cairn.Summary, error) {
	var s cairn.Summary
	var zones, sources json.RawMessage
	dest := []any{&s.ActivityID, &s.UserID}
	for _, f := range summaryFigures(&s) {
		dest = append(dest, f)
	}
	dest = append(dest, js(&zones), js(&sources), tm(&s.UpdatedAt))
	if err := r.Scan(dest...); err != nil {
		return s, err
	}
	if len(zones) > 0 {
		if err := json.Unmarshal(zones, &s.HRZones); err != nil {
			return s, err
		}
	}
	if len(sources) > 0 {
		if err := json.Unmarshal(sources, &s.Sources); err != nil {
			return s, err
		}
	}
	return s, nil
}

// FindRoutes returns the routes of the activities with these ids.
func (db *DB) FindRoutes(ctx context.Context, activityIDs []string) ([]cairn.Route, error) {
	return findIn(ctx, db, routeColumns, "routes", "activity_id", "user_id", activityIDs, "", scanRoute)
}

// scanRoute reads a row of routeColumns, as FindRoute does.
func scanRoute(row *sql.Rows) (cairn.Route, error) {
	var r cairn.Route
	var sLat, sLng, eLat, eLng, b0, b1, b2, b3 sql.NullFloat64
	err := row.Scan(&r.ID, &r.UserID, &r.ActivityID, &r.Polyline, &r.BlobKey, &r.PointCount, &sLat, &sLng,
		&eLat, &eLng, &b0, &b1, &b2, &b3, &r.ElevationGain, &r.ElevationLoss, tm(&r.CreatedAt), tm(&r.UpdatedAt))
	if sLat.Valid && sLng.Valid {
		r.Start = &cairn.LatLng{Lat: sLat.Float64, Lng: sLng.Float64}
	}
	if eLat.Valid && eLng.Valid {
		r.End = &cairn.LatLng{Lat: eLat.Float64, Lng: eLng.Float64}
	}
	if b0.Valid {
		r.BBox = []float64{b0.Float64, b1.Float64, b2.Float64, b3.Float64}
	}
	return r, err
}

// FirstMetricPages returns the first page of each activity's series under
// f, as ListMetrics would answer it, from one query: an activity has at
// most one series per metric type, so its rows are few.
func (db *DB) FirstMetricPages(ctx context.Context, activityIDs []string, f cairn.MetricFilter) (map[string]*cairn.Page[cairn.Metric], error) {
	limit, err := f.Page.NormalizeLimit()
	if err != nil {
		return nil, err
	}
	if f.Page.Cursor != "" || f.Page.Backward {
		return nil, cairn.Invalid(map[string]string{"cursor": "first pages start at the beginning"})
	}
	extra := ""
	if len(f.Types) > 0 {
		var in []string
		for _, t := range f.Types {
			// Bound as literals of a known set: no placeholders needed
			// beyond findIn's, and the set is checked here.
			if !t.Valid() {
				return nil, cairn.Invalid(map[string]string{"types": "holds an unknown metric type"})
			}
			in = append(in, "'"+string(t)+"'")
		}
		extra = " AND type IN (" + strings.Join(in, ", ") + ")"
	}
	extra += " ORDER BY activity_id, created_at DESC, id DESC"
	rows, err := findIn(ctx, db, metricColumns, "metrics", "activity_id", "user_id", activityIDs, extra, scanValue(scanMetric))
	if err != nil {
		return nil, err
	}
	byActivity := map[string][]keyed[cairn.Metric]{}
	for _, m := range rows {
		byActivity[m.ActivityID] = append(byActivity[m.ActivityID], keyed[cairn.Metric]{row: m, time: m.CreatedAt, id: m.ID})
	}
	out := make(map[string]*cairn.Page[cairn.Metric], len(activityIDs))
	for _, id := range distinct(activityIDs) {
		ks := byActivity[id]
		filter := fingerprint("metrics", id, f.Types)
		out[id] = buildPage(filter, nil, false, ks, limit, len(ks), f.Page.RowCursors)
	}
	return out, nil
}
