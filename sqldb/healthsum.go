package sqldb

import (
	"context"

	"github.com/cairn-fit/cairn"
)

// StoreHealthSummary writes a provider's summary with the health metrics
// it brought and its part of the day's readiness inputs (day: nil when it
// has none), in one transaction. A summary of the same kind and start
// stored before is replaced: its metrics are deleted first, so that a
// value the new version no longer carries does not linger. The metrics
// and the day must be the summary's user's.
func (db *DB) StoreHealthSummary(ctx context.Context, s *cairn.HealthSummary, ms []cairn.HealthMetric, day *cairn.DailyMetric) error {
	if err := reach(ctx, s.UserID); err != nil {
		return err
	}
	for i := range ms {
		if ms[i].UserID != s.UserID {
			return cairn.Errorf(cairn.EINTERNAL, "sqldb: a summary's metric of another user")
		}
	}
	if day != nil && day.UserID != s.UserID {
		return cairn.Errorf(cairn.EINTERNAL, "sqldb: a summary's day of another user")
	}
	return db.InTx(ctx, func(tx *Tx) error {
		if err := tx.upsertHealthSummary(ctx, s); err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, "DELETE FROM health_metrics WHERE summary_ref = $1 AND user_id = $2",
			s.ID, s.UserID); err != nil {
			return db.translate(err)
		}
		if _, err := tx.upsertHealthMetrics(ctx, ms, &s.ID); err != nil {
			return err
		}
		if day != nil {
			return tx.mergeDailyMetric(ctx, day)
		}
		return nil
	})
}

func (tx *Tx) upsertHealthSummary(ctx context.Context, s *cairn.HealthSummary) error {
	db := tx.db
	now := db.now()
	s.CreatedAt, s.UpdatedAt = now, now
	err := tx.tx.QueryRowContext(ctx, `INSERT INTO health_summaries
		(id, user_id, source, kind, start_time, summary_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (user_id, source, kind, start_time) DO UPDATE SET summary_id = excluded.summary_id,
		updated_at = excluded.updated_at
		RETURNING id, created_at`,
		NewID(), s.UserID, s.Source, s.Kind, db.t(s.Start), s.SummaryID, db.t(now)).Scan(&s.ID, tm(&s.CreatedAt))
	return db.translate(err)
}

// mergeDailyMetric writes the day's fields d carries (not nil), keeping
// the others: a provider's sleep summary sets sleep_hours and leaves the
// resting heart rate its daily summary set.
func (tx *Tx) mergeDailyMetric(ctx context.Context, d *cairn.DailyMetric) error {
	db := tx.db
	now := db.now()
	err := tx.tx.QueryRowContext(ctx, `INSERT INTO daily_metrics (`+dailyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
		ON CONFLICT (user_id, day) DO UPDATE SET
		resting_hr = COALESCE(excluded.resting_hr, daily_metrics.resting_hr),
		hrv_rmssd = COALESCE(excluded.hrv_rmssd, daily_metrics.hrv_rmssd),
		sleep_hours = COALESCE(excluded.sleep_hours, daily_metrics.sleep_hours),
		soreness = COALESCE(excluded.soreness, daily_metrics.soreness),
		stress = COALESCE(excluded.stress, daily_metrics.stress), updated_at = excluded.updated_at
		RETURNING id, created_at`,
		NewID(), d.UserID, d.Date, finite(d.RestingHR), finite(d.HRVRMSSD), finite(d.SleepH), d.Soreness, d.Stress,
		db.t(now)).Scan(&d.ID, tm(&d.CreatedAt))
	d.UpdatedAt = now
	return db.translate(err)
}

// FindHealthSummaries returns the user's summaries of a source, oldest
// first (what a provider's deliveries left).
func (db *DB) FindHealthSummaries(ctx context.Context, userID, source string) ([]cairn.HealthSummary, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, user_id, source, kind, start_time, summary_id, created_at,
		updated_at FROM health_summaries WHERE user_id = $1 AND source = $2 ORDER BY start_time, kind`, userID, source)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	var out []cairn.HealthSummary
	for rows.Next() {
		var s cairn.HealthSummary
		if err := rows.Scan(&s.ID, &s.UserID, &s.Source, &s.Kind, tm(&s.Start), &s.SummaryID, tm(&s.CreatedAt),
			tm(&s.UpdatedAt)); err != nil {
			return nil, db.translate(err)
		}
		out = append(out, s)
	}
	return out, db.translate(rows.Err())
}
