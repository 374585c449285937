package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/cairn-fit/cairn/jobs"
	"github.com/cairn-fit/cairn/postgres"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqlite"
	"github.com/jackc/pgx/v5/pgxpool"
)

// store is an open database: the store and, on PostgreSQL, the pgx pool
// River works on.
type store struct {
	*sqldb.DB
	pool *pgxpool.Pool
}

func (s *store) Close() {
	s.DB.Close()
	if s.pool != nil {
		s.pool.Close()
	}
}

// openStore opens the configured database and brings its schema (cairn's
// and River's) up to date.
func openStore(ctx context.Context, c *Config, log *slog.Logger) (*store, error) {
	var s store
	var err error
	if c.DatabaseURL == "" {
		s.DB, err = sqlite.Open(filepath.Join(c.DataDir, "cairn.db"))
	} else {
		s.DB, s.pool, err = postgres.Open(ctx, c.DatabaseURL)
	}
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, s.DB, log); err != nil {
		s.Close()
		return nil, err
	}
	return &s, nil
}

func migrate(ctx context.Context, db *sqldb.DB, log *slog.Logger) error {
	if err := db.Migrate(ctx, log); err != nil {
		return err
	}
	if err := jobs.Migrate(ctx, db); err != nil {
		return fmt.Errorf("%w", err)
	}
	return nil
}
