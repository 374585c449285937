package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/cairn-fit/cairn"
)

// Updates are optimistic: the caller passes the updated_at it read, and
// the UPDATE only applies while the row still has it. A change made in
// between answers PRECONDITION_FAILED instead of being overwritten.

// nextVersion is the updated_at of a change to a row last changed at
// seen: later than seen even when the clock has not moved on, so that
// every change makes a new version.
func (db *DB) nextVersion(seen time.Time) time.Time {
	now := db.now()
	if !now.After(seen) {
		now = seen.UTC().Truncate(time.Microsecond).Add(time.Microsecond)
	}
	return now
}

// guarded explains an optimistic UPDATE that changed nothing: the row is
// gone (or another user's), NOT_FOUND, or it changed, PRECONDITION_FAILED.
func (db *DB) guarded(ctx context.Context, q queryer, res sql.Result, err error, table, id, userID string) error {
	if err != nil {
		return db.translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return db.translate(err)
	}
	if n > 0 {
		return nil
	}
	var one int
	err = q.QueryRowContext(ctx, "SELECT 1 FROM "+table+" WHERE id = $1 AND user_id = $2", id, userID).Scan(&one)
	if err != nil {
		return db.translate(err)
	}
	return cairn.Errorf(cairn.EPRECONDITION, "the resource was changed by another request; read it again")
}

// UpdateActivity writes a's user-editable fields when the stored activity
// is live and was last changed at seen, moving its count when its type or
// device changes.
func (db *DB) UpdateActivity(ctx context.Context, a *cairn.Activity, seen time.Time, events ...cairn.EventType) error {
	if err := reach(ctx, a.UserID); err != nil {
		return err
	}
	next := db.nextVersion(seen)
	return db.InTx(ctx, func(tx *Tx) error {
		old, err := scanActivity(tx.tx.QueryRowContext(ctx, "SELECT "+activityColumns+
			" FROM activities WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL", a.ID, a.UserID))
		if err != nil {
			return db.translate(err)
		}
		if err := db.ownsDevice(ctx, tx.tx, a.UserID, a.DeviceID); err != nil {
			return err
		}
		res, err := tx.tx.ExecContext(ctx, `UPDATE activities SET type = $1, name = $2, start_time = $3,
			end_time = $4, timezone = $5, device_id = $6, rpe = $7, metadata = $8, updated_at = $9
			WHERE id = $10 AND user_id = $11 AND updated_at = $12 AND deleted_at IS NULL`,
			string(a.Type), a.Name, db.t(a.StartTime), db.tp(a.EndTime), a.Timezone, a.DeviceID, a.RPE,
			jsonArg(a.Metadata), db.t(next), a.ID, a.UserID, db.t(seen))
		if err := db.guarded(ctx, tx.tx, res, err, "activities", a.ID, a.UserID); err != nil {
			return err
		}
		a.UpdatedAt = next
		if err := db.bumpVersion(ctx, tx.tx, a.UserID); err != nil {
			return err
		}
		if err := tx.activityEvents(ctx, a, events); err != nil {
			return err
		}
		return db.moveCount(ctx, tx.tx, groupOf(old), groupOf(a), 1)
	})
}
