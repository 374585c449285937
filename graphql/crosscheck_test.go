package graphql_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// The same user's data read through REST and through GraphQL agrees,
// field by field: every field GraphQL answers is compared with the REST
// field of the same name (camelCase → snake_case).

const everything = `query($n: Int) { viewer {
  databaseId email name locale timezone roles status createdAt updatedAt
  devices(first: $n) { edges { node { databaseId user { databaseId } manufacturer model serialNumber firmwareVersion lastSyncAt status createdAt updatedAt } } }
  activities(first: $n) { edges { node {
    databaseId type sport name startTime endTime timezone source provider externalId fileHash rpe partial metadata createdAt updatedAt
    parent { databaseId } device { databaseId } user { databaseId }
    summary { activity { databaseId } distanceM durationS movingTimeS timerTimeS calories avgHr maxHr avgPace avgSpeed maxSpeed avgPower avgCadence steps strideLength intensityMinutes elevationGain elevationLoss hrZonesS sources { field source } updatedAt }
    metrics { edges { node { databaseId activity { databaseId } type unit samplingRate count aggregates { min max avg } startTime endTime createdAt updatedAt series(downsample: 20) { t v lat lon alt } } } }
    polyline: route { databaseId activity { databaseId } format polyline pointCount returnedPoints simplifyTolerance start { lat lng } end { lat lng } bbox elevationGain elevationLoss createdAt updatedAt }
    geojson: route(format: GEOJSON, simplifyTolerance: 5) { databaseId format geoJson returnedPoints simplifyTolerance }
  } } }
  healthMetrics(first: $n) { edges { node { databaseId type timestamp value unit source createdAt updatedAt } } }
  dailyMetrics(first: $n) { edges { node { databaseId date restingHr hrvRmssd sleepHours soreness stress createdAt updatedAt } } }
  workouts(first: $n) { edges { node { databaseId name description sport uploadedToGarminAt createdAt updatedAt
    steps { index name intensity durationType durationValue targetType targetLow targetHigh repeatFrom repeatCount } } } }
} }`

func TestRESTAndGraphQLAgree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, nil)
		u := e.user("ada@example.com")
		e.seed(u, 4)
		tok := e.token(u, allScopes...)
		rest := func(path string) any {
			t.Helper()
			req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		list := func(path string) []any { return rest(path).(map[string]any)["data"].([]any) }

		var g struct{ Viewer map[string]any }
		e.data(tok, everything, map[string]any{"n": 50}, &g)
		v := g.Viewer
		c := &comparer{t: t}
		c.object("user", v, rest("/v1/users/"+u.ID))
		uid := "/v1/users/" + u.ID
		c.list("devices", nodes(v["devices"]), list(uid+"/devices"))
		c.list("health metrics", nodes(v["healthMetrics"]), list(uid+"/health-metrics"))
		c.list("daily metrics", nodes(v["dailyMetrics"]), list(uid+"/daily-metrics"))
		workouts := nodes(v["workouts"])
		restWorkouts := list(uid + "/workouts")
		c.list("workouts", workouts, restWorkouts)
		acts := nodes(v["activities"])
		c.list("activities", acts, list(uid+"/activities"))
		if len(acts) != 4 {
			t.Fatalf("%d activities", len(acts))
		}
		routes := 0
		for _, a := range acts {
			a := a.(map[string]any)
			id := a["databaseId"].(string)
			path := "/v1/activities/" + id
			c.object("activity "+id, a, rest(path))
			c.object("summary "+id, a["summary"].(map[string]any), rest(path+"/summary"))
			ms := nodes(a["metrics"])
			c.list("metrics "+id, ms, list(path+"/metrics"))
			for _, m := range ms {
				m := m.(map[string]any)
				series := rest(path + "/metrics/" + m["databaseId"].(string) + "?downsample=20").(map[string]any)
				c.list("series "+id+" "+m["type"].(string), m["series"].([]any), series["points"].([]any))
			}
			if a["polyline"] != nil {
				routes++
				c.object("route "+id, a["polyline"].(map[string]any), rest(path+"/route"))
				c.object("geojson route "+id, a["geojson"].(map[string]any), rest(path+"/route?format=geojson&simplify_tolerance=5"))
			}
		}
		if routes != 2 {
			t.Errorf("%d routes compared, want 2", routes)
		}
		t.Logf("%d fields compared", c.fields)
		if c.fields < 500 {
			t.Errorf("only %d fields compared", c.fields)
		}
	})
}

// nodes returns a connection's nodes.
func nodes(conn any) []any {
	var out []any
	for _, e := range conn.(map[string]any)["edges"].([]any) {
		out = append(out, e.(map[string]any)["node"])
	}
	return out
}

type comparer struct {
	t      *testing.T
	fields int
}

func (c *comparer) list(what string, g, r []any) {
	c.t.Helper()
	if len(g) != len(r) {
		c.t.Errorf("%s: %d through GraphQL, %d through REST", what, len(g), len(r))
		return
	}
	for i := range g {
		c.object(fmt.Sprintf("%s[%d]", what, i), g[i].(map[string]any), r[i].(map[string]any))
	}
}

// object compares every field of a GraphQL object with the REST field of
// the same name, after GraphQL's conventions are undone: databaseId is
// REST's id; a related object {databaseId} is REST's x_id; enums are
// upper case; aggregates are flat in REST; sources are a map.
func (c *comparer) object(what string, g map[string]any, r any) {
	c.t.Helper()
	rest := r.(map[string]any)
	for k, gv := range g {
		key := snake(k)
		switch k {
		case "databaseId":
			key = "id"
		case "metrics", "summary", "series", "polyline", "geojson", "devices", "activities", "healthMetrics",
			"dailyMetrics", "workouts":
			continue // compared on their own
		case "parent", "device", "user", "activity":
			key = k + "_id"
			if gv != nil {
				gv = gv.(map[string]any)["databaseId"]
			}
		case "aggregates":
			for _, a := range []string{"min", "max", "avg"} {
				if x, y := gv.(map[string]any)[a], rest[a]; !reflect.DeepEqual(x, y) {
					c.t.Errorf("%s.aggregates.%s: GraphQL %v, REST %v", what, a, x, y)
				}
				c.fields++
			}
			continue
		case "sources":
			m := map[string]any{}
			for _, s := range gv.([]any) {
				s := s.(map[string]any)
				m[s["field"].(string)] = s["source"]
			}
			gv = m
		case "steps":
			if steps, ok := gv.([]any); ok { // a workout's, not a summary's
				c.list(what+" steps", steps, rest["steps"].([]any))
				continue
			}
		case "geoJson":
			key = "geojson"
		case "type", "source", "status", "format":
			if s, ok := gv.(string); ok {
				gv = strings.ToLower(s)
			}
		case "sport":
			if s, ok := gv.(string); ok && strings.Contains(what, "workouts") {
				gv = strings.ToLower(s)
			}
		}
		rv, ok := rest[key]
		if !ok && gv != nil {
			c.t.Errorf("%s: GraphQL's %s (%.80v) has no REST field %s", what, k, gv, key)
			continue
		}
		if !reflect.DeepEqual(gv, rv) && !(gv == nil && rv == nil) {
			c.t.Errorf("%s.%s: GraphQL %.200v, REST %.200v", what, k, gv, rv)
		}
		c.fields++
	}
	// And the other way: REST fields GraphQL leaves out are few and known.
	var missing []string
	for k := range rest {
		if _, ok := g[camel(k)]; !ok {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		switch k {
		case "id", "user_id", "device_id", "parent_id", "activity_id", "links", "summary", "metrics", "min", "max",
			"avg", "count", "points", "metric", "geojson", "polyline", "hr_zones_s", "deleted_at", "uploaded_to_strava_at":
		default:
			if !strings.Contains(what, "geojson route") {
				c.t.Errorf("%s: REST's %s is not in the GraphQL query", what, k)
			}
		}
	}
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
