package sqldb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"testing/fstest"
	"text/template"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// RenderMigrations returns the migration files with the dialect's column
// types filled in: the one source of truth rendered for one database.
func RenderMigrations(d Dialect) (fs.FS, error) {
	out := fstest.MapFS{}
	// The type tokens, and DIALECT for the few statements that differ
	// ({{if eq .DIALECT "postgres"}}).
	tokens := map[string]string{"DIALECT": d.Name}
	for k, v := range d.Types {
		tokens[k] = v
	}
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		src, err := fs.ReadFile(migrationFS, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		tmpl, err := template.New(e.Name()).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, tokens); err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		out[e.Name()] = &fstest.MapFile{Data: buf.Bytes()}
	}
	return out, nil
}

func (db *DB) migrator(log *slog.Logger) (*goose.Provider, error) {
	fsys, err := RenderMigrations(db.d)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if log != nil {
		opts = append(opts, goose.WithSlog(log))
	}
	dialect := goose.DialectSQLite3
	if db.d.Name == "postgres" {
		// Several processes may start at once: an advisory lock makes
		// them take turns.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
		dialect = goose.DialectPostgres
	}
	return goose.NewProvider(dialect, db.write, fsys, opts...)
}

// Migrate brings the schema up to date.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	p, err := db.migrator(log)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Migrated reports whether every migration has been applied.
func (db *DB) Migrated(ctx context.Context) (bool, error) {
	p, err := db.migrator(nil)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	return !pending, err
}

// SchemaHash identifies the rendered schema, for caching migrated
// template databases in tests.
func SchemaHash(d Dialect) string {
	fsys, err := RenderMigrations(d)
	if err != nil {
		return "invalid"
	}
	h := sha256.New()
	names, _ := fs.Glob(fsys, "*.sql")
	for _, n := range names {
		b, _ := fs.ReadFile(fsys, n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
