// Package ingest turns files into cairn's model: it detects the format,
// decodes (fit, gpx, tcx), refuses what it has seen before, computes
// summaries (analysis) and routes (geo), encodes each metric stream
// (series) into the blob store beside the original file, and writes every
// row of one file in one transaction.
//
// Multisport files: a FIT file with several sessions becomes one parent
// activity of type multisport (spanning all sessions, with a summary that
// adds up theirs) and one child activity per session, linked by parent_id.
package ingest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/analysis"
	"github.com/cairn-fit/cairn/sqldb"
	"gocloud.dev/blob"
	"golang.org/x/sync/errgroup"
)

// DefaultMaxFileSize bounds one file's content (after gunzip).
const DefaultMaxFileSize = 64 << 20

// Service imports files for users.
type Service struct {
	DB          *sqldb.DB
	Bucket      *blob.Bucket
	Log         *slog.Logger
	MaxFileSize int64
}

// Statuses of one imported file as the import command reports them.
const (
	Created   = "created"
	Duplicate = "duplicate"
	Failed    = "failed"
)

// Result is what became of one file.
type Result struct {
	Status   string
	Kind     string
	FileHash string
	cairn.UploadResult
	Partial  bool
	Warnings []string
}

// Allowed says which kinds of file the caller may import (from its scopes:
// activity:write for activities and workouts, health:write for health).
type Allowed struct{ Activity, Health bool }

// Import reads a file from r and stores what it holds for userID. Bad
// input returns a *cairn.Error (INVALID_FILE, UNSUPPORTED_FILE, …) and
// writes nothing.
func (s *Service) Import(ctx context.Context, userID string, allowed Allowed, r io.Reader) (*Result, error) {
	if err := s.canImport(ctx, userID); err != nil {
		return nil, err
	}
	limit := s.MaxFileSize
	if limit <= 0 {
		limit = DefaultMaxFileSize
	}
	staging := fmt.Sprintf("users/%s/originals/incoming-%s", userID, sqldb.NewID())
	file, hash, err := s.decodeStream(ctx, r, staging, limit)
	if err != nil {
		return nil, err
	}
	// Best effort: a leftover staging blob is harmless.
	defer s.Bucket.Delete(context.WithoutCancel(ctx), staging)
	if res, err := s.findDuplicate(ctx, userID, hash); res != nil || err != nil {
		return res, err
	}
	if err := allowed.check(file.Kind); err != nil {
		return nil, err
	}
	p := &plan{svc: s, userID: userID, hash: hash, file: file}
	p.originalKey = fmt.Sprintf("users/%s/originals/%s.%s", userID, hash, file.Format)
	if err := s.Bucket.Copy(ctx, p.originalKey, staging, nil); err != nil {
		return nil, cairn.Wrap(cairn.EUNAVAILABLE, err, "the blob store is unavailable")
	}
	res, err := p.run(ctx)
	if err != nil {
		return nil, err
	}
	res.FileHash, res.Kind, res.Partial, res.Warnings = hash, file.Kind, file.Partial, file.Warnings
	return res, nil
}

// canImport checks that the actor may write userID's data before any of
// the file is read.
func (s *Service) canImport(ctx context.Context, userID string) error {
	a, ok := cairn.ActorFrom(ctx)
	if !ok || !a.CanReach(userID) {
		return cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return nil
}

func (a Allowed) check(kind string) error {
	switch {
	case kind == cairn.KindHealth && !a.Health:
		return cairn.Errorf(cairn.EFORBIDDEN, "importing health files needs the health:write scope")
	case kind != cairn.KindHealth && !a.Activity:
		return cairn.Errorf(cairn.EFORBIDDEN, "importing %s files needs the activity:write scope", kind)
	}
	return nil
}

// findDuplicate reports a file already imported: the same bytes again
// create nothing.
func (s *Service) findDuplicate(ctx context.Context, userID, hash string) (*Result, error) {
	var res *Result
	err := s.DB.InTx(ctx, func(tx *sqldb.Tx) error {
		a, err := tx.FindActivityByFileHash(ctx, userID, hash)
		if err == nil {
			id := a.ID
			if a.ParentID != nil {
				id = *a.ParentID
			}
			res = &Result{Status: Duplicate, Kind: cairn.KindActivity, FileHash: hash,
				UploadResult: cairn.UploadResult{ActivityIDs: []string{id}}}
			return nil
		} else if cairn.ErrorCode(err) != cairn.ENOTFOUND {
			return err
		}
		ids, err := tx.FindWorkoutsByFileHash(ctx, userID, hash)
		if err != nil || len(ids) > 0 {
			res = &Result{Status: Duplicate, Kind: cairn.KindWorkout, FileHash: hash,
				UploadResult: cairn.UploadResult{WorkoutIDs: ids}}
			return err
		}
		n, err := tx.HealthImports(ctx, userID, hash)
		if err != nil || n > 0 {
			res = &Result{Status: Duplicate, Kind: cairn.KindHealth, FileHash: hash}
		}
		return err
	})
	if res == nil || err != nil {
		return nil, err
	}
	return res, nil
}

// plan is one file's import in progress.
type plan struct {
	svc         *Service
	userID      string
	hash        string
	file        *cairn.DecodedFile
	originalKey string
	// provider, when set, is the provider record the activities come
	// from (StoreProvider); nil for files.
	provider *cairn.ActivitySource
	blobs    []string // written so far, removed if the transaction fails
	mu       sync.Mutex
	pending  errgroup.Group // blob writes the transaction waits for
}

func (p *plan) run(ctx context.Context) (*Result, error) {
	var res *Result
	err := p.svc.DB.InTx(ctx, func(tx *sqldb.Tx) error {
		var err error
		switch p.file.Kind {
		case cairn.KindActivity:
			res, err = p.activities(ctx, tx)
		case cairn.KindWorkout:
			res, err = p.workouts(ctx, tx)
		case cairn.KindHealth:
			res, err = p.health(ctx, tx)
		default:
			err = cairn.Errorf(cairn.EUNSUPPORTEDFILE, "files of kind %q are not supported", p.file.Kind)
		}
		if err == nil && p.file.Kind == cairn.KindHealth {
			err = tx.RecordHealthImport(ctx, p.userID, p.hash)
		}
		if werr := p.pending.Wait(); err == nil {
			err = werr // commit only once every blob the rows name is stored
		}
		return err
	})
	if err != nil {
		_ = p.pending.Wait() // nothing may still be writing when cleaning up
		p.cleanup()
		return nil, err
	}
	return res, nil
}

func (p *plan) warnOnce(w string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(p.file.Warnings, w) {
		p.file.Warnings = append(p.file.Warnings, w)
	}
}

// put writes a blob; keys are deterministic, so a retry overwrites.
func (p *plan) put(ctx context.Context, key string, data []byte) error {
	if err := p.svc.Bucket.WriteAll(ctx, key, data, nil); err != nil {
		return cairn.Wrap(cairn.EUNAVAILABLE, err, "the blob store is unavailable")
	}
	p.mu.Lock()
	p.blobs = append(p.blobs, key)
	p.mu.Unlock()
	return nil
}

// cleanup removes the blobs of a failed import (except the original, which
// another import of the same file may share).
func (p *plan) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, k := range p.blobs {
		if k == p.originalKey {
			continue
		}
		if err := p.svc.Bucket.Delete(ctx, k); err != nil && p.svc.Log != nil {
			p.svc.Log.Warn("removing blob of a failed import", "key", k, "err", err)
		}
	}
}

func (p *plan) workouts(ctx context.Context, tx *sqldb.Tx) (*Result, error) {
	res := &Result{Status: Created}
	for _, w := range p.file.Workouts {
		w.UserID, w.FileHash = p.userID, p.hash
		if err := tx.CreateWorkout(ctx, &w); err != nil {
			return nil, err
		}
		res.WorkoutIDs = append(res.WorkoutIDs, w.ID)
	}
	if len(res.WorkoutIDs) == 0 {
		return nil, cairn.Errorf(cairn.EINVALIDFILE, "the workout file holds no workout")
	}
	return res, nil
}

func (p *plan) health(ctx context.Context, tx *sqldb.Tx) (*Result, error) {
	ms := p.file.HealthMetrics
	if len(ms) == 0 {
		return nil, cairn.Errorf(cairn.EINVALIDFILE, "the file holds no health data")
	}
	for i := range ms {
		ms[i].UserID = p.userID
		if ms[i].Source == "" {
			ms[i].Source = cairn.SourceFile
		}
	}
	n, err := tx.UpsertHealthMetrics(ctx, ms)
	if err != nil {
		return nil, err
	}
	return &Result{Status: Created, UploadResult: cairn.UploadResult{HealthMetrics: n}}, nil
}

// summaryOptions are the analysis settings for a user (their max HR will
// come from their profile).
func summaryOptions() analysis.Options { return analysis.Options{} }
