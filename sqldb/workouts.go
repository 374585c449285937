package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/cairn-fit/cairn"
)

// CreateWorkout inserts a structured workout.
func (db *DB) CreateWorkout(ctx context.Context, w *cairn.Workout) error {
	return db.InTx(ctx, func(tx *Tx) error { return tx.CreateWorkout(ctx, w) })
}

// ListWorkouts lists a user's live workouts, newest first.
func (db *DB) ListWorkouts(ctx context.Context, f cairn.WorkoutFilter) (*cairn.Page[cairn.Workout], error) {
	if err := reach(ctx, f.UserID); err != nil {
		return nil, err
	}
	q := pageQuery{columns: workoutColumns, table: "workouts", timeCol: "created_at", page: f.Page,
		filter: fingerprint("workouts", f.UserID, f.Sport)}
	q.where = []string{"user_id = " + q.args.add(f.UserID), "deleted_at IS NULL"}
	if f.Sport != "" {
		q.where = append(q.where, "sport = "+q.args.add(string(f.Sport)))
	}
	return queryPage(ctx, db, q, func(r *sql.Rows) (keyed[cairn.Workout], error) {
		w, err := scanWorkout(r)
		if err != nil {
			return keyed[cairn.Workout]{}, err
		}
		return keyed[cairn.Workout]{row: *w, time: w.CreatedAt, id: w.ID}, nil
	})
}

// UpdateWorkout writes a workout's name, description, sport and steps when
// the stored workout is live and was last changed at seen.
func (db *DB) UpdateWorkout(ctx context.Context, w *cairn.Workout, seen time.Time) error {
	if err := reach(ctx, w.UserID); err != nil {
		return err
	}
	next := db.nextVersion(seen)
	res, err := db.write.ExecContext(ctx, `UPDATE workouts SET name = $1, description = $2, sport = $3,
		definition = $4, updated_at = $5 WHERE id = $6 AND user_id = $7 AND updated_at = $8 AND deleted_at IS NULL`,
		w.Name, w.Description, string(w.Sport), jsonArg(w.Definition), db.t(next), w.ID, w.UserID, db.t(seen))
	if err := db.guarded(ctx, db.write, res, err, "workouts", w.ID, w.UserID); err != nil {
		if cairn.ErrorCode(err) == cairn.EPRECONDITION && db.workoutDeleted(ctx, w.ID) {
			return cairn.Errorf(cairn.ENOTFOUND, "not found")
		}
		return err
	}
	w.UpdatedAt = next
	return nil
}

func (db *DB) workoutDeleted(ctx context.Context, id string) bool {
	var deleted bool
	err := db.write.QueryRowContext(ctx, "SELECT deleted_at IS NOT NULL FROM workouts WHERE id = $1", id).Scan(&deleted)
	return err == nil && deleted
}

// SoftDeleteWorkout marks a workout deleted.
func (db *DB) SoftDeleteWorkout(ctx context.Context, id string) error {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return err
	}
	now := db.t(db.now())
	res, err := db.write.ExecContext(ctx, "UPDATE workouts SET deleted_at = "+b.add(now)+", updated_at = "+
		b.add(now)+" WHERE id = "+b.add(id)+" AND deleted_at IS NULL AND "+own, b.args...)
	return db.affected(res, err)
}
