// Package sqldb is cairn's storage over database/sql: one set of queries
// for both dialects. The sqlite and postgres packages open connections and
// supply a Dialect (column types, time encoding, error translation); this
// package holds the schema, the queries and the tenancy rule: every query
// reads the actor from the context and filters on user_id.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/google/uuid"
)

// Dialect is what differs between SQLite and PostgreSQL.
type Dialect struct {
	Name string // "sqlite" or "postgres"
	// Types maps the migration template's type tokens to column types.
	Types map[string]string
	// TimeArg turns a time into the value bound for a time column.
	TimeArg func(time.Time) any
	// Translate maps a driver error to a *cairn.Error, or returns nil when
	// it does not recognise it.
	Translate func(error) *cairn.Error
}

// DB is the store. On SQLite, writes go through a single connection (the
// database allows one writer) and reads through a pool; on PostgreSQL both
// are the same pool.
type DB struct {
	read, write *sql.DB
	d           Dialect
	// Now is the clock, replaceable in tests.
	Now func() time.Time
	// outbox enqueues webhook deliveries' jobs (see events.go).
	outbox atomic.Pointer[outboxHolder]
}

// New returns a store over the given connections.
func New(read, write *sql.DB, d Dialect) *DB {
	return &DB{read: read, write: write, d: d, Now: time.Now}
}

// Dialect returns the store's dialect name.
func (db *DB) Dialect() string { return db.d.Name }

// Writer returns the connection used for writes (River shares it).
func (db *DB) Writer() *sql.DB { return db.write }

// Reader returns the pool used for reads.
func (db *DB) Reader() *sql.DB { return db.read }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.translate(db.read.PingContext(ctx))
}

// Close closes the connections.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// queryer is what both *sql.DB and *sql.Tx offer.
type queryer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// Tx is a unit of work: everything written through it commits or nothing does.
type Tx struct {
	db *DB
	tx *sql.Tx
}

// SQL returns the underlying transaction, for River's transactional inserts.
func (tx *Tx) SQL() *sql.Tx { return tx.tx }

// InTx runs fn in a write transaction, rolling back when fn fails.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return db.translate(err)
	}
	if err := fn(&Tx{db: db, tx: sqlTx}); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	return db.translate(sqlTx.Commit())
}

// now returns the current time at the precision both databases keep.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

// t encodes a time argument for the dialect.
func (db *DB) t(t time.Time) any { return db.d.TimeArg(t.UTC().Truncate(time.Microsecond)) }

// tp encodes an optional time argument.
func (db *DB) tp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return db.t(*t)
}

// NewID returns a new time-ordered id (UUIDv7).
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// translate maps driver errors to domain errors at the storage boundary.
func (db *DB) translate(err error) error {
	if err == nil {
		return nil
	}
	var ce *cairn.Error
	switch {
	case errors.As(err, &ce):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return cairn.Errorf(cairn.ENOTFOUND, "not found")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return cairn.Wrap(cairn.EUNAVAILABLE, err, "the request was cancelled or timed out")
	}
	if e := db.d.Translate(err); e != nil {
		e.Err = err
		return e
	}
	return cairn.Wrap(cairn.EINTERNAL, err, "internal error")
}

// actor returns the context's actor; storage refuses to run without one so
// that no query can forget tenancy.
func actor(ctx context.Context) (cairn.Actor, error) {
	a, ok := cairn.ActorFrom(ctx)
	if !ok {
		return a, cairn.Wrap(cairn.EINTERNAL, errors.New("sqldb: no actor in context"), "internal error")
	}
	return a, nil
}

// reach checks that the actor may touch userID's rows. Another user's rows
// answer NOT_FOUND so that ids do not leak.
func reach(ctx context.Context, userID string) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if !a.CanReach(userID) {
		return cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return nil
}

// ownerFilter returns a WHERE fragment restricting rows to the actor's own,
// or "TRUE" for admins and the system. col is the user_id column.
func ownerFilter(ctx context.Context, b *argList, col string) (string, error) {
	a, err := actor(ctx)
	if err != nil {
		return "", err
	}
	if a.Admin || a.System {
		return "1=1", nil
	}
	if a.UserID == "" {
		return "", cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return col + " = " + b.add(a.UserID), nil
}

// argList numbers positional parameters ($1, $2, …), which both drivers accept.
type argList struct{ args []any }

func (b *argList) add(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

// joinSpaces and splitSpaces store string lists (roles, scopes) as text.
func joinSpaces[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, " ")
}

func splitSpaces[T ~string](s string) []T {
	f := strings.Fields(s)
	out := make([]T, len(f))
	for i, x := range f {
		out[i] = T(x)
	}
	return out
}

// The store implements every store interface of the domain.
var (
	_ cairn.UserStore        = (*DB)(nil)
	_ cairn.TokenStore       = (*DB)(nil)
	_ cairn.DeviceStore      = (*DB)(nil)
	_ cairn.ActivityStore    = (*DB)(nil)
	_ cairn.MetricStore      = (*DB)(nil)
	_ cairn.RouteStore       = (*DB)(nil)
	_ cairn.SummaryStore     = (*DB)(nil)
	_ cairn.HealthStore      = (*DB)(nil)
	_ cairn.WorkoutStore     = (*DB)(nil)
	_ cairn.IdempotencyStore = (*DB)(nil)
)
