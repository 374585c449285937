package graphql_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/graphql"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

type pageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

type activityPage struct {
	Viewer struct {
		Activities struct {
			TotalCount int
			PageInfo   pageInfo
			Edges      []struct {
				Cursor string
				Node   struct {
					ID         string
					DatabaseID string
					Type       string
				}
			}
		}
	}
}

const pageQuery = `query($first: Int, $after: String, $last: Int, $before: String, $type: ActivityType, $device: ID) {
  viewer { activities(first: $first, after: $after, last: $last, before: $before, type: $type, deviceId: $device) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id databaseId type } } } } }`

func (p activityPage) ids() []string {
	var out []string
	for _, e := range p.Viewer.Activities.Edges {
		out = append(out, e.Node.DatabaseID)
	}
	return out
}

// TestConnections pages forward and backward through a user's activities
// and checks every page against the seeded list.
func TestConnections(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, nil)
		u := e.user("ada@example.com")
		f := e.seed(u, 7)
		tok := e.token(u, allScopes...)
		var want []string
		for _, a := range f.activities {
			want = append(want, a.ID)
		}

		// Forward by 3: 3, 3, 1.
		var got []string
		vars := map[string]any{"first": 3}
		for page := 0; ; page++ {
			var p activityPage
			e.data(tok, pageQuery, vars, &p)
			c := p.Viewer.Activities
			if c.TotalCount != 7 {
				t.Fatalf("totalCount %d", c.TotalCount)
			}
			if c.PageInfo.HasPreviousPage != (page > 0) {
				t.Errorf("page %d: hasPreviousPage %v", page, c.PageInfo.HasPreviousPage)
			}
			if len(c.Edges) > 0 && (*c.PageInfo.StartCursor != c.Edges[0].Cursor || *c.PageInfo.EndCursor != c.Edges[len(c.Edges)-1].Cursor) {
				t.Errorf("page %d: start and end cursors are not the edges'", page)
			}
			got = append(got, p.ids()...)
			if !c.PageInfo.HasNextPage {
				break
			}
			vars["after"] = *c.PageInfo.EndCursor
		}
		if !slices.Equal(got, want) {
			t.Fatalf("forward: %v, want %v", got, want)
		}

		// Backward by 3 from the end: the same rows, each page in list order.
		got = nil
		vars = map[string]any{"last": 3}
		for {
			var p activityPage
			e.data(tok, pageQuery, vars, &p)
			c := p.Viewer.Activities
			got = append(p.ids(), got...)
			if !c.PageInfo.HasPreviousPage {
				break
			}
			vars["before"] = *c.PageInfo.StartCursor
		}
		if !slices.Equal(got, want) {
			t.Fatalf("backward: %v, want %v", got, want)
		}

		// An edge's cursor works both ways.
		var all activityPage
		e.data(tok, pageQuery, map[string]any{"first": 10}, &all)
		mid := all.Viewer.Activities.Edges[3].Cursor
		var after, before activityPage
		e.data(tok, pageQuery, map[string]any{"first": 2, "after": mid}, &after)
		e.data(tok, pageQuery, map[string]any{"last": 2, "before": mid}, &before)
		if !slices.Equal(after.ids(), want[4:6]) || !slices.Equal(before.ids(), want[1:3]) {
			t.Errorf("around row 3: after %v, before %v", after.ids(), before.ids())
		}

		// Filters.
		var rides activityPage
		e.data(tok, pageQuery, map[string]any{"type": "RIDE"}, &rides)
		if n := rides.Viewer.Activities.TotalCount; n != 3 || len(rides.ids()) != 3 {
			t.Errorf("rides: %d", n)
		}
		var onDevice activityPage
		var devs struct {
			Viewer struct {
				Devices struct {
					TotalCount int
					Edges      []struct {
						Node struct{ ID, Model, Status string }
					}
				}
			}
		}
		e.data(tok, `{ viewer { devices(model: "fenix 7", status: ACTIVE) { totalCount edges { node { id model status } } } } }`, nil, &devs)
		if d := devs.Viewer.Devices; d.TotalCount != 1 || d.Edges[0].Node.Model != "fenix 7" || d.Edges[0].Node.Status != "ACTIVE" {
			t.Fatalf("devices: %+v", d)
		}
		e.data(tok, pageQuery, map[string]any{"device": devs.Viewer.Devices.Edges[0].Node.ID}, &onDevice)
		if n := onDevice.Viewer.Activities.TotalCount; n != 4 {
			t.Errorf("on the fenix: %d", n)
		}
		var dated struct {
			Viewer struct{ Activities struct{ TotalCount int } }
		}
		e.data(tok, `{ viewer { activities(startDate: "2025-03-01T02:00:00Z", endDate: "2025-03-01T05:00:00Z") { totalCount } } }`, nil, &dated)
		if dated.Viewer.Activities.TotalCount != 3 {
			t.Errorf("between 2 and 5 o'clock: %d", dated.Viewer.Activities.TotalCount)
		}

		// Bad paging arguments and cursors are VALIDATION_ERRORs naming them.
		for q, field := range map[string]string{
			`{ viewer { activities(first: 201) { totalCount } } }`:                                     "first",
			`{ viewer { activities(first: 0) { totalCount } } }`:                                       "first",
			`{ viewer { activities(first: 2, last: 2) { totalCount } } }`:                              "last",
			`{ viewer { activities(first: 2, before: "x") { totalCount } } }`:                          "before",
			`{ viewer { activities(after: "nonsense") { totalCount } } }`:                              "cursor",
			`{ viewer { activities(deviceId: "QWN0aXZpdHk6eA") { totalCount } } }`:                     "deviceId",
			`{ viewer { activities(startDate: "2025-03-02", endDate: "2025-03-01") { totalCount } } }`: "endDate",
		} {
			x := e.wantError(tok, q, nil, cairn.EVALIDATION)
			if x.Extensions.Fields[field] == "" {
				t.Errorf("%s: fields %v, want %s", q, x.Extensions.Fields, field)
			}
		}
	})
}

// TestHTTP covers the transport: tokens, GET, the schema, limits.
func TestHTTP(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	e := newEnv(t, db, nil, func(d *graphql.Deps) {
		d.Limits = graphql.Limits{MaxDepth: 6, MaxQueryBytes: 400, MaxNodes: 5}
		d.Introspection = false
	})
	u := e.user("ada@example.com")
	e.seed(u, 3)
	tok := e.token(u, allScopes...)

	// No token, a bad one: 401 UNAUTHENTICATED, as REST answers.
	for _, token := range []string{"", "cairn_pat_nope"} {
		r := e.post(token, `{ viewer { id } }`, nil)
		if r.Status != http.StatusUnauthorized || len(r.Errors) != 1 || r.Errors[0].Extensions.Code != cairn.EUNAUTHENTICATED {
			t.Errorf("token %q: %d %+v", token, r.Status, r.Errors)
		}
	}
	// GET runs queries, not mutations.
	get := func(q string) response {
		req, _ := http.NewRequest("GET", e.srv.URL+"/graphql?query="+url.QueryEscape(q), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		return e.send(req)
	}
	if r := get(`{ viewer { databaseId } }`); r.Status != 200 || !strings.Contains(string(r.Data), u.ID) {
		t.Errorf("GET query: %d %s %+v", r.Status, r.Data, r.Errors)
	}
	if r := get(`mutation { registerDevice(userId: "x", input: {model: "m"}) { id } }`); len(r.Errors) == 0 || r.Errors[0].Extensions.Code != cairn.EVALIDATION {
		t.Errorf("GET mutation: %+v", r.Errors)
	}
	// The schema is served as the file in the repository.
	resp, err := http.Get(e.srv.URL + "/graphql/schema.graphql")
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/graphql; charset=utf-8" {
		t.Fatalf("schema: %v %v", resp, err)
	}
	resp.Body.Close()
	// Limits: depth, length, objects; introspection off.
	deep := `{ viewer { activities { edges { node { device { activities { totalCount } } } } } } }`
	if x := e.wantError(tok, deep, nil, cairn.EVALIDATION); !strings.Contains(x.Message, "depth") {
		t.Errorf("depth: %s", x.Message)
	}
	long := `{ viewer { id ` + strings.Repeat(" ", 400) + `} }`
	if x := e.wantError(tok, long, nil, cairn.EVALIDATION); !strings.Contains(x.Message, "length") {
		t.Errorf("length: %s", x.Message)
	}
	e.wantError(tok, `{ viewer { activities(first: 3) { edges { node { metrics { totalCount } } } } } }`, nil, cairn.EUNPROCESSABLE)
	// Without introspection, __schema resolves to nothing.
	if r := e.post(tok, `{ __schema { types { name } } }`, nil); strings.Contains(string(r.Data), "types") {
		t.Errorf("introspection is off, yet: %s", r.Data)
	}
}
