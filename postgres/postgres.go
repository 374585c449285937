// Package postgres opens cairn's production database through a pgx pool,
// shared by the store (through database/sql) and River.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// Dialect is PostgreSQL's side of the one schema and query set. Ids are
// text in the C collation so that they sort bytewise, as in SQLite.
var Dialect = sqldb.Dialect{
	Name: "postgres",
	Types: map[string]string{
		"ID": `TEXT COLLATE "C"`, "TIME": "TIMESTAMPTZ", "JSON": "JSONB", "BYTES": "BYTEA",
		"FLOAT": "DOUBLE PRECISION", "BIGINT": "BIGINT", "DATE": "DATE",
	},
	TimeArg:   func(t time.Time) any { return t.UTC() },
	Translate: translate,
}

// Open connects to the database at url.
func Open(ctx context.Context, url string) (*sqldb.DB, *pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: bad database URL: %w", err)
	}
	pool, err := connect(ctx, cfg)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "3D000" { // invalid_catalog_name
		// A database named in the URL that does not exist yet is created,
		// so that a fresh server needs no manual step.
		if err = createDatabase(ctx, cfg); err == nil {
			pool, err = connect(ctx, cfg)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	return sqldb.New(db, db, Dialect), pool, nil
}

func connect(ctx context.Context, cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// createDatabase creates the URL's database through the server's
// maintenance database.
func createDatabase(ctx context.Context, cfg *pgxpool.Config) error {
	cc := cfg.ConnConfig.Copy()
	name := cc.Database
	cc.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P04" {
		return nil // created meanwhile by another process
	}
	return err
}

func translate(err error) *cairn.Error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return nil
	}
	switch pe.Code {
	case "23505":
		return cairn.Errorf(cairn.ECONFLICT, "the resource already exists")
	case "23503", "23514", "23502", "22P02", "22007", "22008":
		return cairn.Errorf(cairn.EVALIDATION, "the request refers to something that does not exist or is not allowed")
	case "40001", "40P01", "55P03", "57014", "53300":
		return cairn.Errorf(cairn.EUNAVAILABLE, "the database is busy, try again")
	}
	return nil
}
