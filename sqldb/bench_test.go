package sqldb_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// benchActivities is how many activities the list benchmarks seed for one
// user: CAIRN_BENCH_ACTIVITIES, by default a million.
func benchActivities() int {
	if n, err := strconv.Atoi(os.Getenv("CAIRN_BENCH_ACTIVITIES")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// BenchmarkListActivities pages a user's activities on PostgreSQL: the
// first page and the ten-thousandth (keyset pagination keeps them alike),
// unfiltered and filtered by type (totals from the kept counts) and by a
// month (totals counted through the index).
func BenchmarkListActivities(b *testing.B) {
	db := dbtest.Open(b, "postgres")
	u := &cairn.User{Email: "bench@example.com"}
	if err := db.CreateUser(sys, u); err != nil {
		b.Fatal(err)
	}
	n := benchActivities()
	b.Logf("seeded %d activities in %v", n, dbtest.SeedActivities(b, db, u.ID, n))
	ctx := as(u.ID)
	deep := func(f cairn.ActivityFilter, page int) string {
		// Walk to the page in long strides: the cursor does not depend on
		// the page size.
		f.Page = cairn.PageRequest{Limit: cairn.MaxPageSize}
		for rows := 0; rows < (page-1)*50; rows += cairn.MaxPageSize {
			p, err := db.ListActivities(ctx, f)
			if err != nil || p.NextCursor == nil {
				b.Fatalf("walking to page %d: %v", page, err)
			}
			f.Page.Cursor = *p.NextCursor
		}
		return f.Page.Cursor
	}
	month := dbtest.SeedStart.AddDate(0, -1, 0)
	filters := map[string]cairn.ActivityFilter{
		"all":   {UserID: u.ID},
		"type":  {UserID: u.ID, Type: cairn.ActivityRide},
		"month": {UserID: u.ID, Start: &month},
	}
	for _, name := range []string{"all", "type", "month"} {
		f := filters[name]
		pages := map[string][]int{
			"all":   {1, 10_000},
			"type":  {1, 6_000}, // a third of the activities
			"month": {1, 50},    // about 4,400 activities
		}[name]
		for _, page := range pages {
			f.Page = cairn.PageRequest{Limit: 50, Cursor: deep(f, page)}
			b.Run("filter="+name+"/page="+strconv.Itoa(page), func(b *testing.B) {
				for b.Loop() {
					p, err := db.ListActivities(ctx, f)
					if err != nil || len(p.Data) != 50 || p.Total == 0 {
						b.Fatalf("page: %v", err)
					}
				}
			})
		}
	}
}
