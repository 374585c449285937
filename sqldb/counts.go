package sqldb

import (
	"context"
	"database/sql"
	"strings"

	"github.com/cairn-fit/cairn"
)

// Activity totals. A list's total is the count under its filter; counting
// a million rows per page would cost tens of milliseconds, so the counts
// are kept per (user, type, source, device, deleted) in activity_counts,
// changed in the same transaction as the rows. A filter without a date
// range sums a few groups; with a date range the rows are counted through
// the (user_id, start_time) index, in time proportional to the range.

// countGroup is one row of activity_counts.
type countGroup struct {
	userID, typ, source, device string
	deleted                     bool
}

func groupOf(a *cairn.Activity) countGroup {
	g := countGroup{userID: a.UserID, typ: string(a.Type), source: a.Source, deleted: a.DeletedAt != nil}
	if a.DeviceID != nil {
		g.device = *a.DeviceID
	}
	return g
}

func deletedGroup(a *cairn.Activity) countGroup {
	g := groupOf(a)
	g.deleted = true
	return g
}

// bumpCount adds delta to a group's count.
func (db *DB) bumpCount(ctx context.Context, q queryer, g countGroup, delta int) error {
	_, err := q.ExecContext(ctx, `INSERT INTO activity_counts (user_id, type, source, device_id, deleted, n)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (user_id, type, source, device_id, deleted) DO UPDATE SET n = activity_counts.n + excluded.n`,
		g.userID, g.typ, g.source, g.device, g.deleted, delta)
	return db.translate(err)
}

// moveCount moves n activities from one group to another.
func (db *DB) moveCount(ctx context.Context, q queryer, from, to countGroup, n int) error {
	if from == to {
		return nil
	}
	if err := db.bumpCount(ctx, q, from, -n); err != nil {
		return err
	}
	return db.bumpCount(ctx, q, to, n)
}

// countActivities sums the groups under a filter without a date range.
func (db *DB) countActivities(ctx context.Context, f cairn.ActivityFilter) (int, error) {
	var b argList
	where := []string{"user_id = " + b.add(f.UserID)}
	if f.Type != "" {
		where = append(where, "type = "+b.add(string(f.Type)))
	}
	if f.Source != "" {
		where = append(where, "source = "+b.add(f.Source))
	}
	if f.DeviceID != "" {
		where = append(where, "device_id = "+b.add(f.DeviceID))
	}
	if !f.IncludeDeleted {
		where = append(where, "deleted = "+b.add(false))
	}
	var n int
	err := db.read.QueryRowContext(ctx, "SELECT COALESCE(SUM(n), 0) FROM activity_counts WHERE "+
		strings.Join(where, " AND "), b.args...).Scan(&n)
	return n, db.translate(err)
}

// RecountActivities rebuilds a user's totals from the rows, after a bulk
// load that bypassed the store (or to repair them).
func (db *DB) RecountActivities(ctx context.Context, userID string) error {
	if err := reach(ctx, userID); err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, "DELETE FROM activity_counts WHERE user_id = $1", userID); err != nil {
			return db.translate(err)
		}
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO activity_counts (user_id, type, source, device_id, deleted, n)
			SELECT user_id, type, source, COALESCE(device_id, ''), deleted_at IS NOT NULL, count(*)
			FROM activities WHERE user_id = $1
			GROUP BY user_id, type, source, COALESCE(device_id, ''), deleted_at IS NOT NULL`, userID)
		if err != nil {
			return db.translate(err)
		}
		return db.bumpVersion(ctx, tx.tx, userID)
	})
}

// bumpVersion marks a change to the user's activities.
func (db *DB) bumpVersion(ctx context.Context, q queryer, userID string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO activity_versions (user_id, version) VALUES ($1, 1)
		ON CONFLICT (user_id) DO UPDATE SET version = activity_versions.version + 1`, userID)
	return db.translate(err)
}

// ActivitiesVersion returns the count of changes to the user's activities.
func (db *DB) ActivitiesVersion(ctx context.Context, userID string) (int64, error) {
	if err := reach(ctx, userID); err != nil {
		return 0, err
	}
	var v int64
	err := db.read.QueryRowContext(ctx, "SELECT version FROM activity_versions WHERE user_id = $1", userID).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return v, db.translate(err)
}
