package syncer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/riverqueue/river"
)

// StartSync creates a session per provider asked for (every connected
// one when none is named) and enqueues their jobs in the same
// transaction. With no range the session fetches everything cairn lacks.
func (s *Service) StartSync(ctx context.Context, req cairn.SyncRequest) ([]*cairn.SyncSession, error) {
	if req.Start != nil && req.End != nil && !req.Start.Before(*req.End) {
		return nil, cairn.Invalid(map[string]string{"start": "must be before end"})
	}
	providers := req.Providers
	conns, err := s.cfg.DB.ListConnections(ctx, req.UserID)
	if err != nil {
		return nil, err
	}
	active := map[string]bool{}
	for _, c := range conns {
		if c.Status == cairn.ConnectionActive {
			active[c.Provider] = true
		}
	}
	if len(providers) == 0 {
		for _, p := range cairn.Providers {
			if active[p] {
				providers = append(providers, p)
			}
		}
		if len(providers) == 0 {
			return nil, cairn.Invalid(map[string]string{"providers": "no provider is connected: connect Strava or Garmin first"})
		}
	}
	var out []*cairn.SyncSession
	for _, p := range providers {
		if err := s.available(p); err != nil {
			return nil, err
		}
		if !active[p] {
			return nil, cairn.Invalid(map[string]string{"providers": p + " is not connected"})
		}
	}
	for _, p := range providers {
		sess := &cairn.SyncSession{UserID: req.UserID, Provider: p, Type: cairn.SyncBackfill,
			RangeStart: utc(req.Start), RangeEnd: utc(req.End)}
		if err := s.create(ctx, sess); err != nil {
			return nil, err
		}
		out = append(out, sess)
	}
	return out, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// create records a session and enqueues its job with it.
func (s *Service) create(ctx context.Context, sess *cairn.SyncSession) error {
	return s.cfg.DB.CreateSyncSession(ctx, sess, func(tx *sqldb.Tx) error {
		if s.cfg.Queue == nil {
			return nil
		}
		return s.cfg.Queue.InsertTx(ctx, tx, SyncArgs{SessionID: sess.ID}, nil)
	})
}

// FindSyncSession returns a session the actor may see.
func (s *Service) FindSyncSession(ctx context.Context, id string) (*cairn.SyncSession, error) {
	return s.cfg.DB.FindSyncSession(ctx, id)
}

// ListSyncSessions lists the user's sessions, newest first.
func (s *Service) ListSyncSessions(ctx context.Context, userID string, page cairn.PageRequest) (*cairn.Page[cairn.SyncSession], error) {
	return s.cfg.DB.ListSyncSessions(ctx, userID, page)
}

// run is one worker's hold on a session.
type run struct {
	s     *Service
	sess  *cairn.SyncSession
	owner string
	ctx   context.Context // the user's context, cancelled when the lease is lost
}

func (r *run) leaseUntil() time.Time { return time.Now().Add(r.s.cfg.Lease) }

// save persists the session's state and extends the lease.
func (r *run) save() error {
	return r.s.cfg.DB.SaveSyncSession(r.ctx, r.sess, r.owner, r.leaseUntil())
}

// move takes the session to the next state, checking the state machine.
func (r *run) move(next cairn.SyncStatus) error {
	if !r.sess.Status.CanMove(next) {
		return cairn.Wrap(cairn.EINTERNAL, fmt.Errorf("sync: %s cannot move to %s", r.sess.Status, next), "internal error")
	}
	r.sess.Status = next
	switch next {
	case cairn.SyncFetching, cairn.SyncEnriching, cairn.SyncStoring:
		r.sess.Phase = next
	case cairn.SyncCompleted, cairn.SyncFailed:
		now := r.s.clock.Now().UTC()
		r.sess.FinishedAt = &now
	case cairn.SyncRetrying:
		r.sess.Retries++
		r.sess.FinishedAt = nil
	}
	return r.save()
}

// ErrWait tells the worker to come back later: a rate window is used up.
type waitError struct{ until time.Time }

func (w *waitError) Error() string { return "waiting for a rate window until " + w.until.String() }

// Run works on a session until it completes, fails for good, or must
// wait for a provider's rate window (then it returns an error for which
// WaitUntil says when to come back, and keeps its hold until then). A
// session another worker holds is left alone. owner names the worker
// (its job; "" for a one-off name): the same owner may take its session
// up again at once, another only once the hold has lapsed.
func (s *Service) Run(ctx context.Context, id, owner string) (err error) {
	if owner == "" {
		owner = s.process + "/" + randomID(6)
	}
	sysCtx := cairn.SystemContext(ctx)
	sess, err := s.cfg.DB.ClaimSyncSession(sysCtx, id, owner, time.Now().Add(s.cfg.Lease))
	if cairn.ErrorCode(err) == cairn.ECONFLICT {
		return nil
	} else if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(userContext(ctx, sess.UserID))
	defer cancel(nil)
	r := &run{s: s, sess: sess, owner: owner, ctx: ctx}
	stop := r.renew(cancel)
	defer stop()
	defer func() {
		bg := context.WithoutCancel(sysCtx)
		if until, ok := WaitUntil(err); ok {
			// Hold the session while waiting, so that nobody else
			// takes it up before the window opens.
			_, _ = s.cfg.DB.ClaimSyncSession(bg, id, owner, until.Add(s.cfg.Lease))
			return
		}
		_ = s.cfg.DB.ReleaseSyncSession(bg, id, owner)
	}()
	return r.loop()
}

// renew keeps the lease while the run lasts; losing it stops the run.
func (r *run) renew(cancel context.CancelCauseFunc) func() {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(r.s.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if _, err := r.s.cfg.DB.ClaimSyncSession(cairn.SystemContext(r.ctx), r.sess.ID, r.owner, r.leaseUntil()); err != nil {
					if cairn.ErrorCode(err) == cairn.ECONFLICT {
						cancel(errors.New("the sync session's lease was lost"))
						return
					}
				}
			}
		}
	}()
	return func() { close(done) }
}

func (r *run) loop() error {
	sess := r.sess
	if sess.Status == cairn.SyncFailed {
		last := lastError(sess)
		if last == nil || !last.Retryable || sess.Retries >= r.s.cfg.MaxRetries {
			return nil // failed for good
		}
		if err := r.move(cairn.SyncRetrying); err != nil {
			return err
		}
	}
	if sess.StartedAt == nil {
		now := r.s.clock.Now().UTC()
		sess.StartedAt = &now
	}
	for {
		var err error
		switch sess.Status {
		case cairn.SyncCompleted:
			return nil
		case cairn.SyncInitiated:
			err = r.move(cairn.SyncFetching)
		case cairn.SyncRetrying:
			err = r.move(sess.Phase)
		case cairn.SyncFetching:
			if err = r.fetch(); err == nil {
				err = r.move(cairn.SyncEnriching)
			}
		case cairn.SyncEnriching:
			if err = r.enrich(); err == nil {
				err = r.move(cairn.SyncStoring)
			}
		case cairn.SyncStoring:
			if err = r.store(); err == nil {
				err = r.complete()
			}
		default:
			return nil
		}
		if err != nil {
			return r.fail(err)
		}
	}
}

func lastError(s *cairn.SyncSession) *cairn.SyncError {
	if len(s.Errors) == 0 {
		return nil
	}
	return &s.Errors[len(s.Errors)-1]
}

// complete moves to COMPLETED with sync.completed in one transaction.
func (r *run) complete() error {
	sess := r.sess
	if !sess.Status.CanMove(cairn.SyncCompleted) {
		return cairn.Wrap(cairn.EINTERNAL, fmt.Errorf("sync: %s cannot complete", sess.Status), "internal error")
	}
	sess.Status = cairn.SyncCompleted
	now := r.s.clock.Now().UTC()
	sess.FinishedAt = &now
	sess.Checkpoint.WaitUntil = nil
	return r.s.cfg.DB.InTx(r.ctx, func(tx *sqldb.Tx) error {
		if err := tx.SaveSyncSession(r.ctx, sess, r.owner, r.leaseUntil()); err != nil {
			return err
		}
		return r.s.event(r.ctx, tx, cairn.SyncEvent(cairn.EventSyncCompleted, sess.UserID, sess.ID, sess.Provider, ""))
	})
}

// maxErrors bounds the errors a session keeps.
const maxErrors = 20

// fail handles an error of a phase: a rate window to wait for is not a
// failure (the session keeps its state and says until when it waits);
// anything else moves the session to FAILED, with sync.failed when it will
// not be retried.
func (r *run) fail(err error) error {
	sess := r.sess
	if cause := context.Cause(r.ctx); cause != nil && r.ctx.Err() != nil {
		return cause // lease lost or shutting down: the next worker goes on
	}
	if after := cairn.ErrorRetryAfter(err); after > 0 && cairn.ErrorKind(err) == cairn.KindRateLimit {
		until := r.s.clock.Now().Add(after).UTC()
		sess.Checkpoint.WaitUntil = &until
		if serr := r.save(); serr != nil {
			return serr
		}
		return &waitError{until: until}
	}
	kind := cairn.ErrorKind(err)
	if code := cairn.ErrorCode(err); code == cairn.EUNAVAILABLE && errors.Is(err, context.DeadlineExceeded) && kind == cairn.KindTemporary {
		kind = cairn.KindDatabaseTimeout
	}
	retryable := cairn.Retryable(err) && sess.Retries < r.s.cfg.MaxRetries
	se := cairn.SyncError{Kind: kind, Code: cairn.ErrorCode(err), Message: cairn.ErrorMessage(err),
		Phase: sess.Phase, Retryable: retryable, At: r.s.clock.Now().UTC()}
	sess.Errors = append(sess.Errors, se)
	if len(sess.Errors) > maxErrors {
		sess.Errors = sess.Errors[len(sess.Errors)-maxErrors:]
	}
	if !sess.Status.CanMove(cairn.SyncFailed) {
		return err
	}
	sess.Status = cairn.SyncFailed
	now := r.s.clock.Now().UTC()
	sess.FinishedAt = &now
	r.s.log.WarnContext(r.ctx, "sync session failed", "session", sess.ID, "phase", sess.Phase, "kind", kind,
		"retryable", retryable, "err", err)
	serr := r.s.cfg.DB.InTx(context.WithoutCancel(r.ctx), func(tx *sqldb.Tx) error {
		if err := tx.SaveSyncSession(r.ctx, sess, r.owner, r.leaseUntil()); err != nil {
			return err
		}
		if retryable {
			return nil
		}
		return r.s.event(r.ctx, tx, cairn.SyncEvent(cairn.EventSyncFailed, sess.UserID, sess.ID, sess.Provider, se.Message))
	})
	if serr != nil {
		return serr
	}
	if retryable {
		return err // the job is retried: FAILED → RETRYING → the phase
	}
	return nil
}

// WaitUntil reports when a Run that returned err should be tried again,
// when err says the session waits for a rate window.
func WaitUntil(err error) (time.Time, bool) {
	var w *waitError
	if errors.As(err, &w) {
		return w.until, true
	}
	return time.Time{}, false
}

// SyncArgs is the job that runs a session.
type SyncArgs struct {
	SessionID string `json:"session_id"`
}

func (SyncArgs) Kind() string { return "sync_session" }

// SyncWorker runs sessions.
type SyncWorker struct {
	river.WorkerDefaults[SyncArgs]
	Sync *Service
}

// Timeout: a session runs as long as it needs (its lease shows it is alive).
func (w *SyncWorker) Timeout(*river.Job[SyncArgs]) time.Duration { return -1 }

func (w *SyncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	err := w.Sync.Run(ctx, job.Args.SessionID, "job/"+strconv.FormatInt(job.ID, 10))
	if until, ok := WaitUntil(err); ok {
		return river.JobSnooze(max(time.Until(until), time.Second))
	}
	return err
}

// ResumeArgs is the periodic job that finds sessions nobody works on (the
// process that ran them died) and enqueues them again.
type ResumeArgs struct{}

func (ResumeArgs) Kind() string { return "sync_resume" }

// ResumeWorker enqueues orphaned sessions.
type ResumeWorker struct {
	river.WorkerDefaults[ResumeArgs]
	Sync *Service
}

func (w *ResumeWorker) Work(ctx context.Context, job *river.Job[ResumeArgs]) error {
	_, err := w.Sync.Resume(ctx)
	return err
}

// Resume enqueues a job for every session that should go on and that no
// live worker holds; it returns how many.
func (s *Service) Resume(ctx context.Context) (int, error) {
	sessions, err := s.cfg.DB.ResumableSyncSessions(cairn.SystemContext(ctx), 100)
	if err != nil {
		return 0, err
	}
	for _, sess := range sessions {
		if s.cfg.Queue == nil {
			break
		}
		opts := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: s.cfg.Lease}}
		if err := s.cfg.Queue.Insert(ctx, SyncArgs{SessionID: sess.ID}, opts); err != nil {
			return 0, err
		}
	}
	return len(sessions), nil
}

// QueueName is the River queue sync sessions run on, apart from other
// jobs: a session holds its worker for as long as it runs.
const QueueName = "sync"

// InsertOpts puts sessions on their own queue.
func (SyncArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueName} }

// QueueConfig is the sync queue's configuration: how many sessions run at
// once in the process.
func (s *Service) QueueConfig() river.QueueConfig { return river.QueueConfig{MaxWorkers: 4} }
