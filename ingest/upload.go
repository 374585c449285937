package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/jobs"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/riverqueue/river"
)

// Uploads accepts files over the API and ingests them in River jobs.
type Uploads struct {
	*Service
	Queue *jobs.Queue
}

// Accept stages the file in the blob store, then records the upload and
// queues its job in one transaction: either both exist or neither does.
func (u *Uploads) Accept(ctx context.Context, userID, filename string, r io.Reader) (*cairn.Upload, error) {
	a, ok := cairn.ActorFrom(ctx)
	if !ok || !a.CanReach(userID) {
		return nil, cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	if _, err := u.DB.FindUser(ctx, userID); err != nil {
		return nil, err
	}
	up := &cairn.Upload{ID: sqldb.NewID(), UserID: userID, Filename: cleanName(filename)}
	up.BlobKey = fmt.Sprintf("users/%s/uploads/%s", userID, up.ID)
	size, err := u.stage(ctx, up.BlobKey, r)
	if err != nil {
		return nil, err
	}
	up.Size = size
	args := UploadArgs{UploadID: up.ID, UserID: userID,
		Activity: a.Has(cairn.ScopeActivityWrite), Health: a.Has(cairn.ScopeHealthWrite)}
	err = u.DB.InTx(ctx, func(tx *sqldb.Tx) error {
		if err := tx.CreateUpload(ctx, up); err != nil {
			return err
		}
		return u.Queue.InsertTx(ctx, tx, args, nil)
	})
	if err != nil {
		_ = u.Bucket.Delete(context.WithoutCancel(ctx), up.BlobKey)
		return nil, err
	}
	return up, nil
}

// stage copies the upload into the blob store, refusing more than the
// size limit (gzip included: the compressed size is what is limited here).
func (u *Uploads) stage(ctx context.Context, key string, r io.Reader) (int64, error) {
	limit := u.MaxFileSize
	if limit <= 0 {
		limit = DefaultMaxFileSize
	}
	// Cancelling the writer's context before Close abandons the write.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := u.Bucket.NewWriter(wctx, key, nil)
	if err != nil {
		return 0, cairn.Wrap(cairn.EUNAVAILABLE, err, "the blob store is unavailable")
	}
	n, err := io.Copy(w, io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = cairn.Errorf(cairn.ETOOLARGE, "the file is larger than %d bytes", limit)
	}
	if err != nil {
		cancel()
		_ = w.Close()
		var ce *cairn.Error
		if errors.As(err, &ce) {
			return 0, err
		}
		return 0, cairn.Wrap(cairn.EVALIDATION, err, "the upload could not be read")
	}
	if n == 0 {
		cancel()
		_ = w.Close()
		return 0, cairn.Invalid(map[string]string{"file": "is empty"})
	}
	if err := w.Close(); err != nil {
		return 0, cairn.Wrap(cairn.EUNAVAILABLE, err, "the blob store is unavailable")
	}
	return n, nil
}

func cleanName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if !utf8.ValidString(name) || name == "." || name == "/" {
		return ""
	}
	return name[:min(len(name), 255)]
}

// FindUpload returns an upload the actor may see.
func (u *Uploads) FindUpload(ctx context.Context, id string) (*cairn.Upload, error) {
	return u.DB.FindUpload(ctx, id)
}

// UploadArgs is the job that ingests one upload. The scopes of the token
// that uploaded it travel with it: they decide what the file may hold.
type UploadArgs struct {
	UploadID string `json:"upload_id"`
	UserID   string `json:"user_id"`
	Activity bool   `json:"activity"`
	Health   bool   `json:"health"`
}

// Kind names the job in River's table.
func (UploadArgs) Kind() string { return "ingest_upload" }

// InsertOpts retries infrastructure failures a few times; a bad file fails
// at once (the worker records it and returns no error).
func (UploadArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// UploadWorker runs ingestion jobs.
type UploadWorker struct {
	river.WorkerDefaults[UploadArgs]
	Uploads *Uploads
}

// Work ingests the upload and records the outcome on it.
func (w *UploadWorker) Work(ctx context.Context, job *river.Job[UploadArgs]) error {
	args := job.Args
	ctx = cairn.WithActor(ctx, cairn.Actor{UserID: args.UserID})
	up, err := w.Uploads.DB.FindUpload(ctx, args.UploadID)
	if err != nil {
		if cairn.ErrorCode(err) == cairn.ENOTFOUND {
			return river.JobCancel(err) // the user or upload is gone
		}
		return err
	}
	if up.Status != cairn.UploadPending && up.Status != cairn.UploadProcessing {
		return nil // already done: a retried job changes nothing
	}
	up.Status = cairn.UploadProcessing
	if err := w.Uploads.DB.UpdateUpload(ctx, up); err != nil {
		return err
	}
	res, err := w.ingest(ctx, up, Allowed{Activity: args.Activity, Health: args.Health})
	if err != nil {
		var ce *cairn.Error
		retryable := !errors.As(err, &ce) || ce.Code == cairn.EUNAVAILABLE || ce.Code == cairn.EINTERNAL
		if retryable && job.Attempt < job.MaxAttempts {
			return err // River retries
		}
		// A bad file, or the last attempt: the upload says why it failed
		// rather than staying "processing" for ever.
		up.Status, up.Error = cairn.UploadFailed, &cairn.UploadError{Code: cairn.ErrorCode(err), Message: cairn.ErrorMessage(err)}
	} else {
		up.Status = cairn.UploadCompleted
		if res.Status == Duplicate {
			up.Status = cairn.UploadDuplicate
		}
		up.Kind, up.FileHash, up.UploadResult, up.Partial, up.Warnings = res.Kind, res.FileHash, res.UploadResult, res.Partial, res.Warnings
	}
	if err := w.Uploads.DB.UpdateUpload(ctx, up); err != nil {
		return err
	}
	_ = w.Uploads.Bucket.Delete(ctx, up.BlobKey) // the original is kept under its hash
	return nil
}

func (w *UploadWorker) ingest(ctx context.Context, up *cairn.Upload, allowed Allowed) (*Result, error) {
	r, err := w.Uploads.Bucket.NewReader(ctx, up.BlobKey, nil)
	if err != nil {
		return nil, cairn.Wrap(cairn.EUNAVAILABLE, err, "the upload cannot be read from the blob store")
	}
	defer r.Close()
	return w.Uploads.Import(ctx, up.UserID, allowed, r)
}
