// Package dbtest opens fresh, migrated databases for tests: a SQLite file
// in a temporary folder, and a PostgreSQL database cloned from a migrated
// template. PostgreSQL is reached through CAIRN_TEST_POSTGRES_URL; when it
// is unset the postgres subtests skip, except under CI=true, where they fail.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/cairn-fit/cairn/jobs"
	"github.com/cairn-fit/cairn/postgres"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvPostgres names the variable holding the test server's address.
const EnvPostgres = "CAIRN_TEST_POSTGRES_URL"

// DB is an open test database.
type DB struct {
	*sqldb.DB
	// Pool is the pgx pool on PostgreSQL, nil on SQLite.
	Pool *pgxpool.Pool
	// URL is the database's address: a postgres:// URL or a SQLite path.
	URL string
}

// Dialects are the subtest names, one per database.
var Dialects = []string{"sqlite", "postgres"}

// Each runs fn as the subtests "sqlite" and "postgres", each on its own
// fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) { fn(t, Open(t, d)) })
	}
}

// Open returns a fresh migrated database of the dialect, closed and
// dropped when the test ends.
func Open(t testing.TB, dialect string) *DB {
	t.Helper()
	if dialect == "sqlite" {
		return openSQLite(t)
	}
	return openPostgres(t)
}

func openSQLite(t testing.TB) *DB {
	path := filepath.Join(t.TempDir(), "cairn.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := migrate(db); err != nil {
		t.Fatal(err)
	}
	return &DB{DB: db, URL: path}
}

func migrate(db *sqldb.DB) error {
	ctx := context.Background()
	if err := db.Migrate(ctx, nil); err != nil {
		return err
	}
	return jobs.Migrate(ctx, db)
}

// PostgresURL returns the server address, skipping (or failing under CI)
// when it is not configured.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvPostgres)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is unset under CI=true: PostgreSQL tests must run in CI", EnvPostgres)
		}
		t.Skipf("%s is unset: skipping PostgreSQL (set it to e.g. postgres://postgres@127.0.0.1:5432/postgres)", EnvPostgres)
	}
	return u
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

func openPostgres(t testing.TB) *DB {
	base := PostgresURL(t)
	ctx := context.Background()
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx, base) })
	if templateErr != nil {
		t.Fatalf("postgres template: %v", templateErr)
	}
	name := "cairn_test_" + randomHex(8)
	if err := adminExec(ctx, base, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, templateName)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	u := withDatabase(base, name)
	db, pool, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		pool.Close()
		_ = adminExec(context.Background(), base, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return &DB{DB: db, Pool: pool, URL: u}
}

// ensureTemplate creates a migrated template database named after the
// schema's hash, once for all test processes (an advisory lock serializes
// them), so each test clones it in milliseconds instead of migrating.
func ensureTemplate(ctx context.Context, base string) (string, error) {
	name := "cairn_tmpl_" + sqldb.SchemaHash(postgres.Dialect)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(727272)"); err != nil {
		return "", err
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock(727272)")
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	db, pool, err := postgres.Open(ctx, withDatabase(base, building))
	if err != nil {
		return "", err
	}
	err = migrate(db)
	db.Close()
	pool.Close()
	if err != nil {
		return "", err
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name)
	return name, err
}

func adminExec(ctx context.Context, base, sql string) error {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
