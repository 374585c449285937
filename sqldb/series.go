package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
)

// This file stores what hangs off an activity: metric series metadata,
// the route and the summary. Each row carries the activity owner's user_id.

const metricColumns = `id, user_id, activity_id, type, unit, sampling_rate, point_count, min_value,
	max_value, avg_value, start_time, end_time, blob_key, created_at, updated_at`

func scanMetric(s interface{ Scan(...any) error }) (*cairn.Metric, error) {
	var m cairn.Metric
	err := s.Scan(&m.ID, &m.UserID, &m.ActivityID, &m.Type, &m.Unit, &m.SamplingRate, &m.Count,
		&m.Min, &m.Max, &m.Avg, tmp(&m.StartTime), tmp(&m.EndTime), &m.BlobKey, tm(&m.CreatedAt), tm(&m.UpdatedAt))
	return &m, err
}

// finite keeps NaN and ±Inf out of the database (PostgreSQL accepts them,
// JSON cannot carry them).
func finite(p *float64) *float64 {
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
		return nil
	}
	return p
}

// UpsertMetric writes the metadata of an activity's series of one type,
// replacing an existing one.
func (tx *Tx) UpsertMetric(ctx context.Context, m *cairn.Metric) error {
	ms := []cairn.Metric{*m}
	if err := tx.UpsertMetrics(ctx, ms); err != nil {
		return err
	}
	*m = ms[0]
	return nil
}

// UpsertMetrics writes several series' metadata in one statement (an
// import writes one per stream of every activity).
func (tx *Tx) UpsertMetrics(ctx context.Context, ms []cairn.Metric) error {
	if len(ms) == 0 {
		return nil
	}
	db := tx.db
	now := db.now()
	var b argList
	rows := make([]string, len(ms))
	for i := range ms {
		m := &ms[i]
		if err := reach(ctx, m.UserID); err != nil {
			return err
		}
		if m.ID == "" {
			m.ID = NewID()
		}
		m.CreatedAt, m.UpdatedAt = now, now
		vals := []any{m.ID, m.UserID, m.ActivityID, string(m.Type), m.Unit, m.SamplingRate, m.Count,
			finite(m.Min), finite(m.Max), finite(m.Avg), db.tp(m.StartTime), db.tp(m.EndTime), m.BlobKey,
			db.t(m.CreatedAt), db.t(m.UpdatedAt)}
		ph := make([]string, len(vals))
		for j, v := range vals {
			ph[j] = b.add(v)
		}
		rows[i] = "(" + strings.Join(ph, ", ") + ")"
	}
	rs, err := tx.tx.QueryContext(ctx, `INSERT INTO metrics (`+metricColumns+`) VALUES `+strings.Join(rows, ", ")+`
		ON CONFLICT (activity_id, type) DO UPDATE SET unit = excluded.unit,
		sampling_rate = excluded.sampling_rate, point_count = excluded.point_count,
		min_value = excluded.min_value, max_value = excluded.max_value, avg_value = excluded.avg_value,
		start_time = excluded.start_time, end_time = excluded.end_time, blob_key = excluded.blob_key,
		updated_at = excluded.updated_at
		RETURNING id, type, created_at`, b.args...)
	if err != nil {
		return db.translate(err)
	}
	defer rs.Close()
	// An existing row keeps its id and creation time.
	for rs.Next() {
		var id, typ string
		var created time.Time
		if err := rs.Scan(&id, &typ, tm(&created)); err != nil {
			return db.translate(err)
		}
		for i := range ms {
			if string(ms[i].Type) == typ {
				ms[i].ID, ms[i].CreatedAt = id, created
			}
		}
	}
	return db.translate(rs.Err())
}

// FindMetric returns a series' metadata.
func (db *DB) FindMetric(ctx context.Context, id string) (*cairn.Metric, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	m, err := scanMetric(db.read.QueryRowContext(ctx,
		"SELECT "+metricColumns+" FROM metrics WHERE id = "+b.add(id)+" AND "+own, b.args...))
	return m, db.translate(err)
}

// ListMetrics lists an activity's series.
func (db *DB) ListMetrics(ctx context.Context, f cairn.MetricFilter) (*cairn.Page[cairn.Metric], error) {
	q := pageQuery{columns: metricColumns, table: "metrics", timeCol: "created_at", page: f.Page,
		filter: fingerprint("metrics", f.ActivityID, f.Types)}
	own, err := ownerFilter(ctx, &q.args, "user_id")
	if err != nil {
		return nil, err
	}
	q.where = []string{own, "activity_id = " + q.args.add(f.ActivityID)}
	if len(f.Types) > 0 {
		in := ""
		for i, t := range f.Types {
			if i > 0 {
				in += ", "
			}
			in += q.args.add(string(t))
		}
		q.where = append(q.where, "type IN ("+in+")")
	}
	return queryPage(ctx, db, q, func(r *sql.Rows) (keyed[cairn.Metric], error) {
		m, err := scanMetric(r)
		if err != nil {
			return keyed[cairn.Metric]{}, err
		}
		return keyed[cairn.Metric]{row: *m, time: m.CreatedAt, id: m.ID}, nil
	})
}

const routeColumns = `id, user_id, activity_id, polyline, blob_key, point_count, start_lat, start_lng,
	end_lat, end_lng, min_lng, min_lat, max_lng, max_lat, elevation_gain, elevation_loss, created_at, updated_at`

// UpsertRoute writes an activity's route, replacing an existing one.
func (tx *Tx) UpsertRoute(ctx context.Context, r *cairn.Route) error {
	if err := reach(ctx, r.UserID); err != nil {
		return err
	}
	if r.ID == "" {
		r.ID = NewID()
	}
	now := tx.db.now()
	r.CreatedAt, r.UpdatedAt = now, now
	var sLat, sLng, eLat, eLng *float64
	if r.Start != nil {
		sLat, sLng = &r.Start.Lat, &r.Start.Lng
	}
	if r.End != nil {
		eLat, eLng = &r.End.Lat, &r.End.Lng
	}
	bbox := make([]*float64, 4)
	for i := range min(len(r.BBox), 4) {
		bbox[i] = &r.BBox[i]
	}
	db := tx.db
	err := tx.tx.QueryRowContext(ctx, `INSERT INTO routes (`+routeColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		ON CONFLICT (activity_id) DO UPDATE SET polyline = excluded.polyline, blob_key = excluded.blob_key,
		point_count = excluded.point_count, start_lat = excluded.start_lat, start_lng = excluded.start_lng,
		end_lat = excluded.end_lat, end_lng = excluded.end_lng, min_lng = excluded.min_lng,
		min_lat = excluded.min_lat, max_lng = excluded.max_lng, max_lat = excluded.max_lat,
		elevation_gain = excluded.elevation_gain, elevation_loss = excluded.elevation_loss,
		updated_at = excluded.updated_at
		RETURNING id, created_at`,
		r.ID, r.UserID, r.ActivityID, r.Polyline, r.BlobKey, r.PointCount, sLat, sLng, eLat, eLng,
		bbox[0], bbox[1], bbox[2], bbox[3], finite(r.ElevationGain), finite(r.ElevationLoss),
		db.t(r.CreatedAt), db.t(r.UpdatedAt)).Scan(&r.ID, tm(&r.CreatedAt))
	return db.translate(err)
}

// FindRoute returns an activity's route.
func (db *DB) FindRoute(ctx context.Context, activityID string) (*cairn.Route, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	var r cairn.Route
	var sLat, sLng, eLat, eLng, b0, b1, b2, b3 sql.NullFloat64
	err = db.read.QueryRowContext(ctx, "SELECT "+routeColumns+" FROM routes WHERE activity_id = "+
		b.add(activityID)+" AND "+own, b.args...).Scan(&r.ID, &r.UserID, &r.ActivityID, &r.Polyline,
		&r.BlobKey, &r.PointCount, &sLat, &sLng, &eLat, &eLng, &b0, &b1, &b2, &b3, &r.ElevationGain,
		&r.ElevationLoss, tm(&r.CreatedAt), tm(&r.UpdatedAt))
	if err != nil {
		return nil, db.translate(err)
	}
	if sLat.Valid && sLng.Valid {
		r.Start = &cairn.LatLng{Lat: sLat.Float64, Lng: sLng.Float64}
	}
	if eLat.Valid && eLng.Valid {
		r.End = &cairn.LatLng{Lat: eLat.Float64, Lng: eLng.Float64}
	}
	if b0.Valid {
		r.BBox = []float64{b0.Float64, b1.Float64, b2.Float64, b3.Float64}
	}
	return &r, nil
}

const summaryColumns = `activity_id, user_id, distance_m, duration_s, moving_time_s, timer_time_s,
	calories, avg_hr, max_hr, avg_pace, avg_speed, max_speed, avg_power, avg_cadence, steps,
	stride_length, intensity_minutes, elevation_gain, elevation_loss, hr_zones, sources, updated_at`

// summaryFigures lists the summary's numeric columns in column order.
func summaryFigures(s *cairn.Summary) []**float64 {
	return []**float64{&s.DistanceM, &s.DurationS, &s.MovingTimeS, &s.TimerTimeS, &s.Calories, &s.AvgHR,
		&s.MaxHR, &s.AvgPace, &s.AvgSpeed, &s.MaxSpeed, &s.AvgPower, &s.AvgCadence, &s.Steps,
		&s.StrideLength, &s.IntensityMinutes, &s.ElevationGain, &s.ElevationLoss}
}

// UpsertSummary writes an activity's summary, replacing an existing one.
func (db *DB) UpsertSummary(ctx context.Context, s *cairn.Summary) error {
	return db.InTx(ctx, func(tx *Tx) error { return tx.UpsertSummary(ctx, s) })
}

// UpsertSummary writes an activity's summary inside the transaction.
func (tx *Tx) UpsertSummary(ctx context.Context, s *cairn.Summary) error {
	if err := reach(ctx, s.UserID); err != nil {
		return err
	}
	s.UpdatedAt = tx.db.now()
	args := []any{s.ActivityID, s.UserID}
	for _, f := range summaryFigures(s) {
		args = append(args, finite(*f))
	}
	zones, err := jsonOf(s.HRZones)
	if err != nil {
		return err
	}
	sources, err := jsonOf(s.Sources)
	if err != nil {
		return err
	}
	if s.HRZones == nil {
		zones = nil
	}
	args = append(args, zones, sources, tx.db.t(s.UpdatedAt))
	_, err = tx.tx.ExecContext(ctx, `INSERT INTO summaries (`+summaryColumns+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
		ON CONFLICT (activity_id) DO UPDATE SET distance_m = excluded.distance_m,
		duration_s = excluded.duration_s, moving_time_s = excluded.moving_time_s,
		timer_time_s = excluded.timer_time_s, calories = excluded.calories, avg_hr = excluded.avg_hr,
		max_hr = excluded.max_hr, avg_pace = excluded.avg_pace, avg_speed = excluded.avg_speed,
		max_speed = excluded.max_speed, avg_power = excluded.avg_power, avg_cadence = excluded.avg_cadence,
		steps = excluded.steps, stride_length = excluded.stride_length,
		intensity_minutes = excluded.intensity_minutes, elevation_gain = excluded.elevation_gain,
		elevation_loss = excluded.elevation_loss, hr_zones = excluded.hr_zones, sources = excluded.sources,
		updated_at = excluded.updated_at`, args...)
	return tx.db.translate(err)
}

// FindSummary returns an activity's summary.
func (db *DB) FindSummary(ctx context.Context, activityID string) (*cairn.Summary, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	var s cairn.Summary
	var zones, sources json.RawMessage
	dest := []any{&s.ActivityID, &s.UserID}
	for _, f := range summaryFigures(&s) {
		dest = append(dest, f)
	}
	dest = append(dest, js(&zones), js(&sources), tm(&s.UpdatedAt))
	err = db.read.QueryRowContext(ctx, "SELECT "+summaryColumns+" FROM summaries WHERE activity_id = "+
		b.add(activityID)+" AND "+own, b.args...).Scan(dest...)
	if err != nil {
		return nil, db.translate(err)
	}
	if len(zones) > 0 {
		if err := json.Unmarshal(zones, &s.HRZones); err != nil {
			return nil, db.translate(err)
		}
	}
	if len(sources) > 0 {
		if err := json.Unmarshal(sources, &s.Sources); err != nil {
			return nil, db.translate(err)
		}
	}
	return &s, nil
}
