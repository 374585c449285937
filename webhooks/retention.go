package webhooks

import (
	"context"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/riverqueue/river"
)

// DefaultRetention is how long events and finished deliveries are kept.
const DefaultRetention = 30 * 24 * time.Hour

// retentionBatch bounds the rows one statement of the retention job
// deletes, so that no transaction holds locks for long.
const retentionBatch = 1000

// RetentionArgs is the periodic job that deletes old events and finished
// deliveries.
type RetentionArgs struct{}

// Kind names the job in River's table.
func (RetentionArgs) Kind() string { return "webhook_retention" }

// RetentionWorker deletes delivered and dead deliveries last changed more
// than Deliveries ago (a dead one stays replayable until then), and events
// older than Events that no delivery refers to any more (never one with a
// pending delivery).
type RetentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	DB                 *sqldb.DB
	Events, Deliveries time.Duration
	// Now is the clock, replaceable in tests.
	Now func() time.Time
}

// Work runs one pass, in batches.
func (w *RetentionWorker) Work(ctx context.Context, _ *river.Job[RetentionArgs]) error {
	_, _, err := w.Purge(ctx)
	return err
}

// Purge deletes what is past retention and reports how many events and
// deliveries it deleted.
func (w *RetentionWorker) Purge(ctx context.Context) (events, deliveries int64, err error) {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	return w.DB.PurgeEventHistory(cairn.SystemContext(ctx), now.Add(-w.Events), now.Add(-w.Deliveries), retentionBatch)
}

// RetentionEvery schedules the retention job.
func RetentionEvery(d time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(d),
		func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
