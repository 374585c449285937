// Package sqlite opens cairn's embedded database: a SQLite file in WAL mode
// with one writer connection and a pool of readers, through the pure-Go
// modernc.org/sqlite driver.
package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect is SQLite's side of the one schema and query set.
var Dialect = sqldb.Dialect{
	Name: "sqlite",
	Types: map[string]string{
		"ID": "TEXT", "TIME": "TEXT", "JSON": "TEXT", "BYTES": "BLOB",
		"FLOAT": "REAL", "BIGINT": "INTEGER", "DATE": "TEXT",
	},
	TimeArg:   func(t time.Time) any { return t.UTC().Format(sqldb.TimeLayout) },
	Translate: translate,
}

// Open opens (creating if needed) the database file at path.
func Open(path string) (*sqldb.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// The writer takes the write lock when a transaction begins
	// (_txlock=immediate) so that two processes on one file wait on the busy
	// timeout instead of failing on a lock upgrade.
	write, err := sql.Open("sqlite", dsn(path, "_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if err := write.Ping(); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", dsn(path, "_pragma=query_only(1)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	read.SetMaxOpenConns(max(4, runtime.NumCPU()*2))
	read.SetMaxIdleConns(max(4, runtime.NumCPU()*2))
	return sqldb.New(read, write, Dialect), nil
}

func dsn(path string, extra string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	return "file:" + path + "?" + q.Encode() + "&" + extra
}

func translate(err error) *cairn.Error {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return cairn.Errorf(cairn.ECONFLICT, "the resource already exists")
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
		return cairn.Errorf(cairn.EVALIDATION, "the request refers to something that does not exist or is not allowed")
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return cairn.Errorf(cairn.EUNAVAILABLE, "the database is busy, try again")
	}
	return nil
}
