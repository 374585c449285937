package dbtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/jackc/pgx/v5"
)

// SeedStart is the start time of the newest seeded activity; each older
// one starts ten minutes before the next.
var SeedStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// seedTypes cycle through the seeded activities, so that type filters
// select a third of them.
var seedTypes = []cairn.ActivityType{cairn.ActivityRun, cairn.ActivityRide, cairn.ActivityWalk}

// SeedActivities inserts n activities for userID as fast as the database
// takes them, COPY on PostgreSQL and multi-row INSERTs in one transaction
// on SQLite, then rebuilds the user's totals and the planner's
// statistics. It returns how long that took. For benchmarks.
func SeedActivities(tb testing.TB, db *DB, userID string, n int) time.Duration {
	tb.Helper()
	ctx := context.Background()
	began := time.Now()
	var err error
	if db.Pool != nil {
		err = copyActivities(ctx, db, userID, n)
	} else {
		err = insertActivities(ctx, db, userID, n)
	}
	if err == nil {
		err = db.RecountActivities(cairn.SystemContext(ctx), userID)
	}
	if err == nil {
		_, err = db.Writer().ExecContext(ctx, "ANALYZE")
	}
	if err != nil {
		tb.Fatalf("seed %d activities: %v", n, err)
	}
	return time.Since(began)
}

var seedColumns = []string{"id", "user_id", "type", "name", "start_time", "source", "timezone", "created_at", "updated_at"}

// seedRow is the i-th seeded activity: i = 0 is the newest.
func seedRow(userID string, i int, now time.Time) []any {
	start := SeedStart.Add(-time.Duration(i) * 10 * time.Minute)
	return []any{sqldb.NewID(), userID, string(seedTypes[i%len(seedTypes)]), fmt.Sprintf("Activity %d", i), start,
		cairn.SourceAPI, "UTC", now, now}
}

// copyActivities loads the rows with COPY, building the secondary indexes
// afterwards: sorting once is several times faster than inserting a
// million keys one by one.
func copyActivities(ctx context.Context, db *DB, userID string, n int) error {
	rows, err := db.Pool.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE tablename = 'activities' AND indexname NOT LIKE '%_pkey'`)
	if err != nil {
		return err
	}
	indexes, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Name, Def string }])
	if err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := db.Pool.Exec(ctx, "DROP INDEX "+ix.Name); err != nil {
			return err
		}
	}
	if err := copyRows(ctx, db, userID, n); err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := db.Pool.Exec(ctx, ix.Def); err != nil {
			return err
		}
	}
	return nil
}

func copyRows(ctx context.Context, db *DB, userID string, n int) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	_, err := db.Pool.CopyFrom(ctx, pgx.Identifier{"activities"}, seedColumns,
		pgx.CopyFromFunc(func() func() ([]any, error) {
			i := 0
			return func() ([]any, error) {
				if i == n {
					return nil, nil
				}
				i++
				return seedRow(userID, i-1, now), nil
			}
		}()))
	return err
}

func insertActivities(ctx context.Context, db *DB, userID string, n int) error {
	const batch = 500
	tx, err := db.Writer().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().UTC()
	for lo := 0; lo < n; lo += batch {
		hi := min(lo+batch, n)
		var rows []string
		var args []any
		for i := lo; i < hi; i++ {
			row := seedRow(userID, i, now)
			ph := make([]string, len(row))
			for j, v := range row {
				if t, ok := v.(time.Time); ok {
					row[j] = t.Format(sqldb.TimeLayout)
				}
				ph[j] = fmt.Sprintf("$%d", len(args)+j+1)
			}
			args = append(args, row...)
			rows = append(rows, "("+strings.Join(ph, ", ")+")")
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO activities ("+strings.Join(seedColumns, ", ")+") VALUES "+
			strings.Join(rows, ", "), args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}
