package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/cairn-fit/cairn"
)

// UpsertHealthMetrics writes ms; a metric with the same user, type and
// timestamp replaces the stored value. It returns how many were written.
func (tx *Tx) UpsertHealthMetrics(ctx context.Context, ms []cairn.HealthMetric) (int, error) {
	return tx.upsertHealthMetrics(ctx, ms, nil)
}

// upsertHealthMetrics writes ms as the metrics of the summary with id
// summary (nil: of none, as a file's are).
func (tx *Tx) upsertHealthMetrics(ctx context.Context, ms []cairn.HealthMetric, summary *string) (int, error) {
	db := tx.db
	now := db.t(db.now())
	for i := range ms {
		m := &ms[i]
		if err := reach(ctx, m.UserID); err != nil {
			return 0, err
		}
		if m.ID == "" {
			m.ID = NewID()
		}
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO health_metrics
			(id, user_id, type, ts, value, unit, source, summary_ref, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
			ON CONFLICT (user_id, type, ts) DO UPDATE SET value = excluded.value, unit = excluded.unit,
			source = excluded.source, summary_ref = excluded.summary_ref, updated_at = excluded.updated_at`,
			m.ID, m.UserID, m.Type, db.t(m.Time), m.Value, m.Unit, m.Source, summary, now)
		if err != nil {
			return i, db.translate(err)
		}
	}
	return len(ms), nil
}

const healthColumns = "id, user_id, type, ts, value, unit, source, created_at, updated_at"

// ListHealthMetrics lists a user's health metrics, newest first.
func (db *DB) ListHealthMetrics(ctx context.Context, f cairn.HealthFilter) (*cairn.Page[cairn.HealthMetric], error) {
	if err := reach(ctx, f.UserID); err != nil {
		return nil, err
	}
	q := pageQuery{columns: healthColumns, table: "health_metrics", timeCol: "ts", page: f.Page,
		filter: fingerprint("health", f.UserID, f.Type, f.Start, f.End)}
	q.where = []string{"user_id = " + q.args.add(f.UserID)}
	if f.Type != "" {
		q.where = append(q.where, "type = "+q.args.add(f.Type))
	}
	if f.Start != nil {
		q.where = append(q.where, "ts >= "+q.args.add(db.t(*f.Start)))
	}
	if f.End != nil {
		q.where = append(q.where, "ts < "+q.args.add(db.t(*f.End)))
	}
	return queryPage(ctx, db, q, func(r *sql.Rows) (keyed[cairn.HealthMetric], error) {
		var m cairn.HealthMetric
		err := r.Scan(&m.ID, &m.UserID, &m.Type, tm(&m.Time), &m.Value, &m.Unit, &m.Source, tm(&m.CreatedAt), tm(&m.UpdatedAt))
		return keyed[cairn.HealthMetric]{row: m, time: m.Time, id: m.ID}, err
	})
}

const workoutColumns = `id, user_id, name, description, sport, definition, file_hash,
	uploaded_to_garmin_at, uploaded_to_strava_at, created_at, updated_at, deleted_at`

func scanWorkout(s interface{ Scan(...any) error }) (*cairn.Workout, error) {
	var w cairn.Workout
	var sport string
	err := s.Scan(&w.ID, &w.UserID, &w.Name, &w.Description, &sport, js(&w.Definition), &w.FileHash,
		tmp(&w.UploadedToGarminAt), tmp(&w.UploadedToStravaAt), tm(&w.CreatedAt), tm(&w.UpdatedAt), tmp(&w.DeletedAt))
	w.Sport = cairn.ActivityType(sport)
	return &w, err
}

// CreateWorkout inserts a structured workout.
func (tx *Tx) CreateWorkout(ctx context.Context, w *cairn.Workout) error {
	if err := reach(ctx, w.UserID); err != nil {
		return err
	}
	if w.ID == "" {
		w.ID = NewID()
	}
	now := tx.db.now()
	w.CreatedAt, w.UpdatedAt = now, now
	db := tx.db
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO workouts (`+workoutColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		w.ID, w.UserID, w.Name, w.Description, string(w.Sport), jsonArg(w.Definition), w.FileHash,
		db.tp(w.UploadedToGarminAt), db.tp(w.UploadedToStravaAt), db.t(w.CreatedAt), db.t(w.UpdatedAt), db.tp(w.DeletedAt))
	return db.translate(err)
}

// FindWorkout returns a live workout the actor may see.
func (db *DB) FindWorkout(ctx context.Context, id string) (*cairn.Workout, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	w, err := scanWorkout(db.read.QueryRowContext(ctx,
		"SELECT "+workoutColumns+" FROM workouts WHERE id = "+b.add(id)+" AND deleted_at IS NULL AND "+own, b.args...))
	return w, db.translate(err)
}

// FindWorkoutsByFileHash returns the user's live workouts imported from a
// file with this SHA-256.
func (tx *Tx) FindWorkoutsByFileHash(ctx context.Context, userID, hash string) ([]string, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	return tx.ids(ctx, "SELECT id FROM workouts WHERE user_id = $1 AND file_hash = $2 AND deleted_at IS NULL ORDER BY id", userID, hash)
}

func (tx *Tx) ids(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := tx.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, tx.db.translate(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, tx.db.translate(err)
		}
		out = append(out, id)
	}
	return out, tx.db.translate(rows.Err())
}

const uploadColumns = `id, user_id, filename, size, file_hash, blob_key, status, kind, result, partial,
	warnings, error_code, error_message, created_at, updated_at`

func scanUpload(s interface{ Scan(...any) error }) (*cairn.Upload, error) {
	var u cairn.Upload
	var result, warnings json.RawMessage
	var code, msg string
	err := s.Scan(&u.ID, &u.UserID, &u.Filename, &u.Size, &u.FileHash, &u.BlobKey, &u.Status, &u.Kind,
		js(&result), &u.Partial, js(&warnings), &code, &msg, tm(&u.CreatedAt), tm(&u.UpdatedAt))
	if err != nil {
		return nil, err
	}
	if len(result) > 0 {
		if err := json.Unmarshal(result, &u.UploadResult); err != nil {
			return nil, err
		}
	}
	if len(warnings) > 0 {
		if err := json.Unmarshal(warnings, &u.Warnings); err != nil {
			return nil, err
		}
	}
	if code != "" {
		u.Error = &cairn.UploadError{Code: code, Message: msg}
	}
	return &u, nil
}

// CreateUpload records an upload waiting for its job.
func (tx *Tx) CreateUpload(ctx context.Context, u *cairn.Upload) error {
	if err := reach(ctx, u.UserID); err != nil {
		return err
	}
	if u.ID == "" {
		u.ID = NewID()
	}
	now := tx.db.now()
	u.CreatedAt, u.UpdatedAt = now, now
	if u.Status == "" {
		u.Status = cairn.UploadPending
	}
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO uploads (id, user_id, filename, size, file_hash, blob_key,
		status, kind, partial, error_code, error_message, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE, '', '', $9, $9)`,
		u.ID, u.UserID, u.Filename, u.Size, u.FileHash, u.BlobKey, u.Status, u.Kind, tx.db.t(now))
	return tx.db.translate(err)
}

// FindUpload returns an upload the actor may see.
func (db *DB) FindUpload(ctx context.Context, id string) (*cairn.Upload, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	u, err := scanUpload(db.read.QueryRowContext(ctx,
		"SELECT "+uploadColumns+" FROM uploads WHERE id = "+b.add(id)+" AND "+own, b.args...))
	return u, db.translate(err)
}

// UpdateUpload writes an upload's progress and outcome.
func (db *DB) UpdateUpload(ctx context.Context, u *cairn.Upload) error {
	return db.updateUpload(ctx, db.write, u)
}

// UpdateUpload writes an upload's outcome in the transaction that made it.
func (tx *Tx) UpdateUpload(ctx context.Context, u *cairn.Upload) error {
	return tx.db.updateUpload(ctx, tx.tx, u)
}

func (db *DB) updateUpload(ctx context.Context, q queryer, u *cairn.Upload) error {
	if err := reach(ctx, u.UserID); err != nil {
		return err
	}
	u.UpdatedAt = db.now()
	result, err := jsonOf(u.UploadResult)
	if err != nil {
		return err
	}
	warnings, err := jsonOf(u.Warnings)
	if err != nil {
		return err
	}
	var code, msg string
	if u.Error != nil {
		code, msg = u.Error.Code, u.Error.Message
	}
	res, err := q.ExecContext(ctx, `UPDATE uploads SET file_hash = $1, status = $2, kind = $3, result = $4,
		partial = $5, warnings = $6, error_code = $7, error_message = $8, updated_at = $9
		WHERE id = $10 AND user_id = $11`,
		u.FileHash, u.Status, u.Kind, result, u.Partial, warnings, code, strings.ToValidUTF8(msg, "?"),
		db.t(u.UpdatedAt), u.ID, u.UserID)
	return db.affected(res, err)
}

// RecordHealthImport remembers that a health file was imported.
func (tx *Tx) RecordHealthImport(ctx context.Context, userID, hash string) error {
	if err := reach(ctx, userID); err != nil {
		return err
	}
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO imported_files (user_id, file_hash, kind, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, file_hash) DO NOTHING`,
		userID, hash, cairn.KindHealth, tx.db.t(tx.db.now()))
	return tx.db.translate(err)
}

// HealthImports counts earlier imports of a health file.
func (tx *Tx) HealthImports(ctx context.Context, userID, hash string) (int, error) {
	if err := reach(ctx, userID); err != nil {
		return 0, err
	}
	var n int
	err := tx.tx.QueryRowContext(ctx, "SELECT count(*) FROM imported_files WHERE user_id = $1 AND file_hash = $2",
		userID, hash).Scan(&n)
	return n, tx.db.translate(err)
}
