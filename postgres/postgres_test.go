package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/cairn-fit/cairn/postgres"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/jackc/pgx/v5"
)

// A database named in the URL that does not exist yet is created.
func TestOpenCreatesDatabase(t *testing.T) {
	base := dbtest.PostgresURL(t)
	name := fmt.Sprintf("cairn_create_%d", time.Now().UnixNano())
	u, _ := url.Parse(base)
	u.Path = "/" + name
	ctx := context.Background()
	db, pool, err := postgres.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx, nil); err != nil {
		t.Error(err)
	}
	db.Close()
	pool.Close()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
		t.Error(err)
	}
}
