package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// PurgeArgs asks for expired rows (idempotency keys, …) to be deleted.
type PurgeArgs struct{}

// Kind names the job in River's table.
func (PurgeArgs) Kind() string { return "purge_expired" }

// PurgeWorker deletes expired rows through Purge.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	Purge func(ctx context.Context, now time.Time) (int64, error)
}

// Work runs one purge.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	_, err := w.Purge(ctx, time.Now())
	return err
}

// PurgeEvery schedules the purge; any process may run it (River elects
// one leader to enqueue periodic jobs).
func PurgeEvery(d time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(d),
		func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
