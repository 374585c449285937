package sqldb_test

import (
	"context"
	"testing"

	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// TestMigrationsDownAndUp: every migration's Down undoes its Up on both
// databases (with a user's rows in place), and Up applies again.
func TestMigrationsDownAndUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		mustUser(t, db, "ada@example.com")
		ctx := context.Background()
		if err := db.MigrateDownTo(ctx, 0); err != nil {
			t.Fatalf("down: %v", err)
		}
		if done, err := db.Migrated(ctx); err != nil || done {
			t.Fatalf("after down: migrated %v, %v", done, err)
		}
		if err := db.Migrate(ctx, nil); err != nil {
			t.Fatalf("up again: %v", err)
		}
		mustUser(t, db, "bob@example.com")
	})
}
