package graphql_test

import (
	"strings"
	"testing"

	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// deepPage reads a page of activities with their device (and its user),
// summary, metrics, route and owner.
const deepPage = `query($n: Int) { viewer { activities(first: $n) { totalCount edges { cursor node {
  id name type startTime
  device { id model status user { id } }
  summary { distanceM durationS avgHr hrZonesS sources { field source } }
  metrics { totalCount edges { node { id type count aggregates { min max avg } } } }
  route { id pointCount elevationGain }
  user { id databaseId }
} } } } }`

// TestNoNPlusOne counts the SQL statements of a page of activities with
// their parts: the same for 1, 10 and 100 activities.
func TestNoNPlusOne(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		store, queries := dbtest.Counting(t, db)
		e := newEnv(t, db, store)
		u := e.user("ada@example.com")
		e.seed(u, 100)
		tok := e.token(u, allScopes...)
		// The token's first use records last_used_at (once an hour), which
		// is not a page's cost.
		var warm any
		e.data(tok, deepPage, map[string]any{"n": 1}, &warm)
		counts := map[int]int{}
		for _, n := range []int{1, 10, 100} {
			queries.Reset()
			var p struct {
				Viewer struct {
					Activities struct {
						Edges []struct {
							Node struct {
								Device  struct{ Model string }
								Summary struct{ DistanceM float64 }
								Metrics struct{ TotalCount int }
							}
						}
					}
				}
			}
			e.data(tok, deepPage, map[string]any{"n": n}, &p)
			edges := p.Viewer.Activities.Edges
			if len(edges) != n {
				t.Fatalf("first %d: %d edges", n, len(edges))
			}
			for _, edge := range edges {
				if edge.Node.Device.Model == "" || edge.Node.Summary.DistanceM == 0 || edge.Node.Metrics.TotalCount < 2 {
					t.Fatalf("first %d: an activity without its parts: %+v", n, edge.Node)
				}
			}
			counts[n] = queries.Count()
			t.Logf("first %d: %d statements", n, counts[n])
			if n == 100 && counts[n] > 9 {
				t.Logf("statements:\n  %s", strings.Join(queries.Statements(), "\n  "))
			}
		}
		// The token, the page and its total, then one query per kind of
		// part: devices, their users, summaries, metrics, routes, owners.
		if counts[1] != counts[100] || counts[10] != counts[100] {
			t.Errorf("statements grow with the page: %v", counts)
		}
		if counts[100] > 9 {
			t.Errorf("%d statements for a page with its parts, want at most 9", counts[100])
		}
	})
}
