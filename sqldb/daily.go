package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/cairn-fit/cairn"
)

const dailyColumns = "id, user_id, day, resting_hr, hrv_rmssd, sleep_hours, soreness, stress, created_at, updated_at"

// dateLayout is how days are bound and compared: DATE on PostgreSQL and
// text on SQLite both order correctly as YYYY-MM-DD.
const dateLayout = "2006-01-02"

// UpsertDailyMetric writes a user's day, replacing what it held.
func (db *DB) UpsertDailyMetric(ctx context.Context, d *cairn.DailyMetric) error {
	if err := reach(ctx, d.UserID); err != nil {
		return err
	}
	if _, err := time.Parse(dateLayout, d.Date); err != nil {
		return cairn.Invalid(map[string]string{"date": "must be a date, YYYY-MM-DD"})
	}
	if d.ID == "" {
		d.ID = NewID()
	}
	now := db.now()
	d.CreatedAt, d.UpdatedAt = now, now
	err := db.write.QueryRowContext(ctx, `INSERT INTO daily_metrics (`+dailyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
		ON CONFLICT (user_id, day) DO UPDATE SET resting_hr = excluded.resting_hr,
		hrv_rmssd = excluded.hrv_rmssd, sleep_hours = excluded.sleep_hours, soreness = excluded.soreness,
		stress = excluded.stress, updated_at = excluded.updated_at
		RETURNING id, created_at`,
		d.ID, d.UserID, d.Date, finite(d.RestingHR), finite(d.HRVRMSSD), finite(d.SleepH), d.Soreness, d.Stress,
		db.t(now)).Scan(&d.ID, tm(&d.CreatedAt))
	return db.translate(err)
}

// ListDailyMetrics lists a user's days, newest first.
func (db *DB) ListDailyMetrics(ctx context.Context, f cairn.DailyFilter) (*cairn.Page[cairn.DailyMetric], error) {
	if err := reach(ctx, f.UserID); err != nil {
		return nil, err
	}
	q := pageQuery{columns: dailyColumns, table: "daily_metrics", timeCol: "day", page: f.Page,
		filter: fingerprint("daily", f.UserID, f.Start, f.End),
		key:    func(t time.Time) any { return t.UTC().Format(dateLayout) }}
	q.where = []string{"user_id = " + q.args.add(f.UserID)}
	if f.Start != "" {
		q.where = append(q.where, "day >= "+q.args.add(f.Start))
	}
	if f.End != "" {
		q.where = append(q.where, "day < "+q.args.add(f.End))
	}
	return queryPage(ctx, db, q, func(r *sql.Rows) (keyed[cairn.DailyMetric], error) {
		var d cairn.DailyMetric
		var day dateScanner
		var soreness, stress sql.NullInt64
		err := r.Scan(&d.ID, &d.UserID, &day, &d.RestingHR, &d.HRVRMSSD, &d.SleepH, &soreness, &stress,
			tm(&d.CreatedAt), tm(&d.UpdatedAt))
		d.Date = day.t.Format(dateLayout)
		d.Soreness, d.Stress = intp(soreness), intp(stress)
		return keyed[cairn.DailyMetric]{row: d, time: day.t, id: d.ID}, err
	})
}

func intp(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

// dateScanner reads a DATE (PostgreSQL) or its text (SQLite).
type dateScanner struct{ t time.Time }

func (d *dateScanner) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		d.t = time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC)
		return nil
	case string:
		t, err := time.Parse(dateLayout, x)
		d.t = t
		return err
	case []byte:
		t, err := time.Parse(dateLayout, string(x))
		d.t = t
		return err
	}
	return cairn.Errorf(cairn.EINTERNAL, "sqldb: cannot scan %T into a date", v)
}
