package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/cairn-fit/cairn"
)

const activityColumns = `id, user_id, device_id, parent_id, type, sport, name, start_time, end_time,
	timezone, source, provider, external_id, raw_file_ref, file_hash, rpe, partial, metadata,
	created_at, updated_at, deleted_at`

func scanActivity(s interface{ Scan(...any) error }) (*cairn.Activity, error) {
	var a cairn.Activity
	var device, parent sql.NullString
	var rpe sql.NullInt64
	err := s.Scan(&a.ID, &a.UserID, &device, &parent, &a.Type, &a.Sport, &a.Name, tm(&a.StartTime),
		tmp(&a.EndTime), &a.Timezone, &a.Source, &a.Provider, &a.ExternalID, &a.RawFileRef, &a.FileHash,
		&rpe, &a.Partial, js(&a.Metadata), tm(&a.CreatedAt), tm(&a.UpdatedAt), tmp(&a.DeletedAt))
	if device.Valid {
		a.DeviceID = &device.String
	}
	if parent.Valid {
		a.ParentID = &parent.String
	}
	if rpe.Valid {
		v := int(rpe.Int64)
		a.RPE = &v
	}
	return &a, err
}

// CreateActivity inserts a, with the given events about it.
func (db *DB) CreateActivity(ctx context.Context, a *cairn.Activity, events ...cairn.EventType) error {
	return db.InTx(ctx, func(tx *Tx) error {
		if err := tx.CreateActivity(ctx, a); err != nil {
			return err
		}
		return tx.activityEvents(ctx, a, events)
	})
}

// CreateActivity inserts a inside the transaction.
func (tx *Tx) CreateActivity(ctx context.Context, a *cairn.Activity) error {
	return tx.db.createActivity(ctx, tx.tx, a)
}

func (db *DB) createActivity(ctx context.Context, q queryer, a *cairn.Activity) error {
	if err := reach(ctx, a.UserID); err != nil {
		return err
	}
	if a.ID == "" {
		a.ID = NewID()
	}
	a.StartTime = a.StartTime.UTC().Truncate(time.Microsecond)
	now := db.now()
	a.CreatedAt, a.UpdatedAt = now, now
	if a.Timezone == "" {
		a.Timezone = "UTC"
	}
	if err := db.ownsDevice(ctx, q, a.UserID, a.DeviceID); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO activities (`+activityColumns+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		a.ID, a.UserID, a.DeviceID, a.ParentID, string(a.Type), a.Sport, a.Name, db.t(a.StartTime),
		db.tp(a.EndTime), a.Timezone, a.Source, a.Provider, a.ExternalID, a.RawFileRef, a.FileHash,
		a.RPE, a.Partial, jsonArg(a.Metadata), db.t(a.CreatedAt), db.t(a.UpdatedAt), db.tp(a.DeletedAt))
	if err != nil {
		return db.translate(err)
	}
	if err := db.bumpVersion(ctx, q, a.UserID); err != nil {
		return err
	}
	return db.bumpCount(ctx, q, groupOf(a), 1)
}

// ownsDevice checks that deviceID, when set, is one of the user's devices:
// a foreign key alone would accept another user's device.
func (db *DB) ownsDevice(ctx context.Context, q queryer, userID string, deviceID *string) error {
	if deviceID == nil {
		return nil
	}
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM devices WHERE id = $1 AND user_id = $2", *deviceID, userID).Scan(&one)
	if err == sql.ErrNoRows {
		return cairn.Invalid(map[string]string{"device_id": "is not one of the user's devices"})
	}
	return db.translate(err)
}

// FindActivity returns an activity the actor may see, deleted or not.
func (db *DB) FindActivity(ctx context.Context, id string) (*cairn.Activity, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	a, err := scanActivity(db.read.QueryRowContext(ctx,
		"SELECT "+activityColumns+" FROM activities WHERE id = "+b.add(id)+" AND "+own, b.args...))
	return a, db.translate(err)
}

// ListActivities lists a user's activities, newest first.
func (db *DB) ListActivities(ctx context.Context, f cairn.ActivityFilter) (*cairn.Page[cairn.Activity], error) {
	if err := reach(ctx, f.UserID); err != nil {
		return nil, err
	}
	q := pageQuery{columns: activityColumns, table: "activities", timeCol: "start_time", page: f.Page,
		filter: fingerprint("activities", f.UserID, f.Start, f.End, f.Type, f.DeviceID, f.Source, f.IncludeDeleted)}
	if f.Start == nil && f.End == nil {
		q.count = func(ctx context.Context) (int, error) { return db.countActivities(ctx, f) }
	}
	q.where = []string{"user_id = " + q.args.add(f.UserID)}
	if f.Start != nil {
		q.where = append(q.where, "start_time >= "+q.args.add(db.t(*f.Start)))
	}
	if f.End != nil {
		q.where = append(q.where, "start_time < "+q.args.add(db.t(*f.End)))
	}
	if f.Type != "" {
		q.where = append(q.where, "type = "+q.args.add(string(f.Type)))
	}
	if f.DeviceID != "" {
		q.where = append(q.where, "device_id = "+q.args.add(f.DeviceID))
	}
	if f.Source != "" {
		q.where = append(q.where, "source = "+q.args.add(f.Source))
	}
	if !f.IncludeDeleted {
		q.where = append(q.where, "deleted_at IS NULL")
	}
	return queryPage(ctx, db, q, func(r *sql.Rows) (keyed[cairn.Activity], error) {
		a, err := scanActivity(r)
		if err != nil {
			return keyed[cairn.Activity]{}, err
		}
		return keyed[cairn.Activity]{row: *a, time: a.StartTime, id: a.ID}, nil
	})
}

// SoftDeleteActivity marks an activity deleted; it stays readable with
// include_deleted for compliance exports.
func (db *DB) SoftDeleteActivity(ctx context.Context, id string, events ...cairn.EventType) error {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return err
	}
	now := db.t(db.now())
	return db.InTx(ctx, func(tx *Tx) error {
		var a cairn.Activity
		var device sql.NullString
		err := tx.tx.QueryRowContext(ctx, "UPDATE activities SET deleted_at = "+b.add(now)+
			", updated_at = "+b.add(now)+" WHERE id = "+b.add(id)+" AND deleted_at IS NULL AND "+own+
			" RETURNING user_id, type, source, device_id", b.args...).Scan(&a.UserID, &a.Type, &a.Source, &device)
		if err != nil {
			return db.translate(err)
		}
		if device.Valid {
			a.DeviceID = &device.String
		}
		if err := db.bumpVersion(ctx, tx.tx, a.UserID); err != nil {
			return err
		}
		a.ID = id
		if err := tx.activityEvents(ctx, &a, events); err != nil {
			return err
		}
		return db.moveCount(ctx, tx.tx, groupOf(&a), deletedGroup(&a), 1)
	})
}

// FindActivityByFileHash returns the user's live activity imported from a
// file with this SHA-256, through any of its recorded sources.
func (tx *Tx) FindActivityByFileHash(ctx context.Context, userID, hash string) (*cairn.Activity, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	a, err := scanActivity(tx.tx.QueryRowContext(ctx, "SELECT "+activityColumns+` FROM activities
		WHERE user_id = $1 AND deleted_at IS NULL AND id IN
		(SELECT activity_id FROM activity_sources WHERE user_id = $1 AND file_hash = $2)
		ORDER BY start_time LIMIT 1`, userID, hash))
	return a, tx.db.translate(err)
}

// FindSameRecording returns the user's live top-level activity that is the
// same recording as one starting at start and ending at end: starts within
// 60 s of each other and time ranges that overlap.
func (tx *Tx) FindSameRecording(ctx context.Context, userID string, start, end time.Time) (*cairn.Activity, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	if end.Before(start) {
		end = start
	}
	a, err := scanActivity(tx.tx.QueryRowContext(ctx, "SELECT "+activityColumns+` FROM activities
		WHERE user_id = $1 AND deleted_at IS NULL AND parent_id IS NULL
		AND start_time >= $2 AND start_time <= $3 AND start_time <= $4
		AND (end_time IS NULL OR end_time >= $5)
		ORDER BY start_time LIMIT 1`,
		userID, tx.db.t(start.Add(-60*time.Second)), tx.db.t(start.Add(60*time.Second)),
		tx.db.t(end), tx.db.t(start)))
	return a, tx.db.translate(err)
}

// AddActivitySource records one origin of an activity.
func (tx *Tx) AddActivitySource(ctx context.Context, s *cairn.ActivitySource) error {
	if err := reach(ctx, s.UserID); err != nil {
		return err
	}
	s.CreatedAt = tx.db.now()
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO activity_sources
		(id, activity_id, user_id, source, provider, external_id, file_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (activity_id, source, provider, external_id, file_hash) DO NOTHING`,
		NewID(), s.ActivityID, s.UserID, s.Source, s.Provider, s.ExternalID, s.FileHash, tx.db.t(s.CreatedAt))
	return tx.db.translate(err)
}

// ActivitySources lists every recorded origin of an activity.
func (db *DB) ActivitySources(ctx context.Context, activityID string) ([]cairn.ActivitySource, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT activity_id, user_id, source, provider, external_id,
		file_hash, created_at FROM activity_sources WHERE activity_id = `+b.add(activityID)+" AND "+own+
		" ORDER BY created_at, id", b.args...)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	var out []cairn.ActivitySource
	for rows.Next() {
		var s cairn.ActivitySource
		if err := rows.Scan(&s.ActivityID, &s.UserID, &s.Source, &s.Provider, &s.ExternalID, &s.FileHash,
			tm(&s.CreatedAt)); err != nil {
			return nil, db.translate(err)
		}
		out = append(out, s)
	}
	return out, db.translate(rows.Err())
}
