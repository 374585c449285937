package account

import (
	"context"
	"log/slog"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/blobs"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/riverqueue/river"
	"gocloud.dev/blob"
)

// PurgeArgs asks for a deleted user's data to be purged. DeletedAt names
// the deletion: a user restored (or deleted again) since is left alone.
type PurgeArgs struct {
	UserID    string    `json:"user_id"`
	DeletedAt time.Time `json:"deleted_at"`
}

// Kind names the job in River's table.
func (PurgeArgs) Kind() string { return "purge_user" }

// PurgeWorker deletes every row of a deleted user, then every blob under
// users/{id}/. It is idempotent: a retry after a failure part way, or a
// second run, finishes the work or finds nothing to do.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	DB     *sqldb.DB
	Bucket *blob.Bucket
	Log    *slog.Logger
}

// Work purges one user.
func (w *PurgeWorker) Work(ctx context.Context, job *river.Job[PurgeArgs]) error {
	sys := cairn.SystemContext(ctx)
	id := job.Args.UserID
	if id == "" {
		return river.JobCancel(cairn.Errorf(cairn.EVALIDATION, "a purge job without a user"))
	}
	counts, err := w.DB.PurgeUser(sys, id, job.Args.DeletedAt)
	if cairn.ErrorCode(err) == cairn.EPRECONDITION {
		return river.JobCancel(err) // restored, or deleted again: that deletion has its own job
	} else if err != nil {
		return err
	}
	n, err := blobs.DeletePrefix(ctx, w.Bucket, "users/"+id+"/")
	if err != nil {
		return err
	}
	if counts == nil && n == 0 {
		return nil // done before
	}
	details := map[string]any{"rows": counts, "blobs": n}
	if err := w.DB.RecordAudit(sys, &cairn.AuditEntry{UserID: id, Action: cairn.AuditUserPurge, Details: mustJSON(details)}); err != nil {
		return err
	}
	if w.Log != nil {
		w.Log.InfoContext(ctx, "purged a deleted user", "user_id", id, "blobs", n)
	}
	return nil
}
