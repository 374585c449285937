// Package jobs runs cairn's background work on River. On SQLite one
// riversqlite client inserts and works jobs over the store's writer
// connection; on PostgreSQL a riverpgxv5 client works them over the pgx
// pool while inserts go through riverdatabasesql, so that a job can be
// enqueued inside the same *sql.Tx as the rows that cause it.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/cairn-fit/cairn/sqldb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// Migrate brings River's own tables up to date.
func Migrate(ctx context.Context, db *sqldb.DB) error {
	var err error
	if db.Dialect() == "postgres" {
		var m *rivermigrate.Migrator[*sql.Tx]
		if m, err = rivermigrate.New(riverdatabasesql.New(db.Writer()), nil); err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	} else {
		var m *rivermigrate.Migrator[*sql.Tx]
		if m, err = rivermigrate.New(riversqlite.New(db.Writer()), nil); err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	}
	if err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	return nil
}

// Config tunes the queue.
type Config struct {
	Workers      *river.Workers
	PeriodicJobs []*river.PeriodicJob
	MaxWorkers   int
	Logger       *slog.Logger
	// PollInterval is how often workers look for new jobs when they are not
	// notified (always on SQLite).
	PollInterval time.Duration
	// Queues are worked besides the default queue (which MaxWorkers
	// sizes), by name.
	Queues map[string]river.QueueConfig
}

// Queue inserts and runs jobs.
type Queue struct {
	inserter *river.Client[*sql.Tx]
	runner   runner
}

type runner interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// New builds a queue for the store; pool is the pgx pool on PostgreSQL and
// nil on SQLite.
func New(db *sqldb.DB, pool *pgxpool.Pool, cfg Config) (*Queue, error) {
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: max(cfg.MaxWorkers, 1)}}
	for name, qc := range cfg.Queues {
		queues[name] = qc
	}
	rc := &river.Config{
		Queues:       queues,
		Workers:      cfg.Workers,
		PeriodicJobs: cfg.PeriodicJobs,
		Logger:       cfg.Logger,
	}
	if cfg.PollInterval > 0 {
		rc.FetchPollInterval = cfg.PollInterval
		rc.FetchCooldown = min(cfg.PollInterval, 100*time.Millisecond)
	}
	if db.Dialect() == "postgres" {
		// The inserter notifies workers of new jobs at most once per
		// FetchCooldown and queue: short, so that a job enqueued just
		// after another is not left to the next poll.
		ins, err := river.NewClient(riverdatabasesql.New(db.Writer()), &river.Config{Logger: cfg.Logger,
			FetchCooldown: 5 * time.Millisecond})
		if err != nil {
			return nil, err
		}
		var run *river.Client[pgx.Tx]
		if run, err = river.NewClient(riverpgxv5.New(pool), rc); err != nil {
			return nil, err
		}
		return &Queue{inserter: ins, runner: run}, nil
	}
	c, err := river.NewClient(riversqlite.New(db.Writer()), rc)
	if err != nil {
		return nil, err
	}
	return &Queue{inserter: c, runner: c}, nil
}

// Start runs the workers until Stop.
func (q *Queue) Start(ctx context.Context) error { return q.runner.Start(ctx) }

// Stop waits for running jobs to finish (or ctx to end).
func (q *Queue) Stop(ctx context.Context) error { return q.runner.Stop(ctx) }

// InsertTx enqueues a job inside tx: it runs only if tx commits.
func (q *Queue) InsertTx(ctx context.Context, tx *sqldb.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	_, err := q.inserter.InsertTx(ctx, tx.SQL(), args, opts)
	return err
}

// InsertManyTx enqueues several jobs inside tx, in one statement.
func (q *Queue) InsertManyTx(ctx context.Context, tx *sqldb.Tx, params []river.InsertManyParams) error {
	_, err := q.inserter.InsertManyTx(ctx, tx.SQL(), params)
	return err
}

// Insert enqueues a job on its own.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	_, err := q.inserter.Insert(ctx, args, opts)
	return err
}
