package dbtest

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-fit/cairn/postgres"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqlite"
	"github.com/jackc/pgx/v5/stdlib"
	msqlite "modernc.org/sqlite"
)

// Queries counts the statements sent to a database, for tests that prove
// a number of queries (no N+1). It is a test seam: the store it belongs to
// talks to the database through a driver that counts, and nothing else
// changes.
type Queries struct {
	mu   sync.Mutex
	sqls []string
}

// Reset forgets the statements counted so far.
func (q *Queries) Reset() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sqls = nil
}

// Count returns how many statements were sent since the last Reset.
func (q *Queries) Count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.sqls)
}

// Statements returns the statements sent since the last Reset, in order.
func (q *Queries) Statements() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.sqls...)
}

func (q *Queries) add(query string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.sqls = append(q.sqls, strings.Join(strings.Fields(query), " "))
}

// Counting returns a second store over db's database whose every
// statement (query or exec, in or out of a transaction) is counted in the
// returned Queries. It is closed when the test ends.
func Counting(tb testing.TB, db *DB) (*sqldb.DB, *Queries) {
	tb.Helper()
	q := &Queries{}
	open := func(dsn string, d driver.Driver) *sql.DB {
		return sql.OpenDB(&countingConnector{dsn: dsn, driver: d, q: q})
	}
	var s *sqldb.DB
	if db.Pool != nil {
		conn := open(db.URL, stdlib.GetDefaultDriver())
		tb.Cleanup(func() { conn.Close() })
		s = sqldb.New(conn, conn, postgres.Dialect)
	} else {
		v := url.Values{}
		v.Add("_pragma", "busy_timeout(10000)")
		v.Add("_pragma", "foreign_keys(1)")
		write := open("file:"+db.URL+"?"+v.Encode()+"&_txlock=immediate", &msqlite.Driver{})
		write.SetMaxOpenConns(1)
		read := open("file:"+db.URL+"?"+v.Encode()+"&_pragma=query_only(1)", &msqlite.Driver{})
		tb.Cleanup(func() { write.Close(); read.Close() })
		s = sqldb.New(read, write, sqlite.Dialect)
	}
	return s, q
}

type countingConnector struct {
	dsn    string
	driver driver.Driver
	q      *Queries
}

func (c *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, q: c.q}, nil
}

func (c *countingConnector) Driver() driver.Driver { return c.driver }

// countingConn counts statements and passes everything to the driver's
// connection, which both drivers implement with the context interfaces.
type countingConn struct {
	driver.Conn
	q *Queries
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.q.add(query)
	return qc.QueryContext(ctx, query, args)
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	ec, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.q.add(query)
	return ec.ExecContext(ctx, query, args)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var st driver.Stmt
	var err error
	if pc, ok := c.Conn.(driver.ConnPrepareContext); ok {
		st, err = pc.PrepareContext(ctx, query)
	} else {
		st, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: st, query: query, q: c.q}, nil
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.Conn.Begin() //nolint:staticcheck // the driver offers nothing else
}

func (c *countingConn) CheckNamedValue(v *driver.NamedValue) error {
	if nc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nc.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// countingStmt counts each execution of a prepared statement.
type countingStmt struct {
	driver.Stmt
	query string
	q     *Queries
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.q.add(s.query)
	if ec, ok := s.Stmt.(driver.StmtExecContext); ok {
		return ec.ExecContext(ctx, args)
	}
	return nil, driver.ErrSkip
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.q.add(s.query)
	if qc, ok := s.Stmt.(driver.StmtQueryContext); ok {
		return qc.QueryContext(ctx, args)
	}
	return nil, driver.ErrSkip
}
