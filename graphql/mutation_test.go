package graphql_test

import (
	"strings"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// TestMutationsScopesAndNodes writes through every mutation, with and
// without idempotency keys, and checks scopes, tenancy and node reads.
func TestMutationsScopesAndNodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, nil)
		u, other := e.user("ada@example.com"), e.user("bob@example.com")
		all := e.token(u, allScopes...)
		writeOnly := e.token(u, cairn.ScopeActivityWrite)
		profile := e.token(u, cairn.ScopeProfileRead)
		bob := e.token(other, allScopes...)
		var v struct{ Viewer struct{ ID string } }
		e.data(all, `{ viewer { id } }`, nil, &v)
		uid := v.Viewer.ID

		// registerDevice, replayed under its key; the key with other
		// arguments is UNPROCESSABLE.
		const reg = `mutation($u: ID!, $m: String!, $k: String) { registerDevice(userId: $u, input: {model: $m, status: INACTIVE}, idempotencyKey: $k) { id databaseId model status } }`
		var d1, d2 struct {
			RegisterDevice struct{ ID, DatabaseID, Model, Status string }
		}
		e.data(writeOnly, reg, map[string]any{"u": uid, "m": "fenix", "k": "k1"}, &d1)
		e.data(writeOnly, reg, map[string]any{"u": uid, "m": "fenix", "k": "k1"}, &d2)
		if d1.RegisterDevice.ID == "" || d1 != d2 || d1.RegisterDevice.Status != "INACTIVE" {
			t.Fatalf("replay: %+v then %+v", d1, d2)
		}
		e.wantError(writeOnly, reg, map[string]any{"u": uid, "m": "edge", "k": "k1"}, cairn.EUNPROCESSABLE)
		// The domain's validation, its fields in GraphQL's names; the
		// error is kept under its key too.
		x := e.wantError(writeOnly, reg, map[string]any{"u": uid, "m": strings.Repeat("m", 201), "k": "k2"}, cairn.EVALIDATION)
		if x.Extensions.Fields["model"] == "" {
			t.Errorf("fields %v", x.Extensions.Fields)
		}
		e.wantError(writeOnly, reg, map[string]any{"u": uid, "m": strings.Repeat("m", 201), "k": "k2"}, cairn.EVALIDATION)
		// Scopes and tenancy, as REST: no write scope, FORBIDDEN; another
		// user, NOT_FOUND.
		e.wantError(profile, reg, map[string]any{"u": uid, "m": "x"}, cairn.EFORBIDDEN)
		e.wantError(bob, reg, map[string]any{"u": uid, "m": "x"}, cairn.ENOTFOUND)

		// createActivity on that device; reading its device needs
		// activity:read, which a write-only token lacks (field error).
		const create = `mutation($u: ID!, $d: ID, $rpe: Int) { createActivity(userId: $u, deviceId: $d,
			input: {type: TRAIL_RUN, startTime: "2025-05-01T07:00:00Z", endTime: "2025-05-01T08:00:00Z", name: "Hills",
			rpe: $rpe, metadata: {shoes: "x"}}) { id databaseId type source metadata device { id } } }`
		r := e.post(writeOnly, create, map[string]any{"u": uid, "d": d1.RegisterDevice.ID, "rpe": 7})
		if len(r.Errors) != 1 || r.Errors[0].Extensions.Code != cairn.EFORBIDDEN || !strings.Contains(string(r.Data), `"type":"TRAIL_RUN"`) {
			t.Fatalf("create with a write-only token: %s %+v", r.Data, r.Errors)
		}
		var c struct {
			CreateActivity struct {
				ID, DatabaseID, Type, Source string
				Device                       struct{ ID string }
			}
		}
		e.data(all, create, map[string]any{"u": uid, "d": d1.RegisterDevice.ID, "rpe": 7}, &c)
		act := c.CreateActivity
		if act.Source != "API" || act.Device.ID != d1.RegisterDevice.ID {
			t.Fatalf("created: %+v", act)
		}
		if x := e.wantError(all, create, map[string]any{"u": uid, "rpe": 11}, cairn.EVALIDATION); x.Extensions.Fields["rpe"] == "" {
			t.Errorf("rpe 11: %v", x.Extensions.Fields)
		}

		// upsertMetric, upsertRoute (both inputs), upsertSummary.
		var m struct {
			UpsertMetric struct {
				ID     string
				Count  int
				Series []struct{ T, V float64 }
			}
		}
		e.data(all, `mutation($a: ID!) { upsertMetric(activityId: $a, input: {type: HEART_RATE, points: [{t: 1000, v: 120}, {t: 2000, v: 130}, {t: 3000, v: 125}]}, idempotencyKey: "m1") { id count series { t v } } }`,
			map[string]any{"a": act.ID}, &m)
		if m.UpsertMetric.Count != 3 || len(m.UpsertMetric.Series) != 3 || m.UpsertMetric.Series[1].V != 130 {
			t.Fatalf("metric: %+v", m)
		}
		// A replay answers the kept metric, whose series still reads.
		var m2 struct {
			UpsertMetric struct {
				ID     string
				Series []struct{ T, V float64 }
			}
		}
		e.data(all, `mutation($a: ID!) { upsertMetric(activityId: $a, input: {type: HEART_RATE, points: [{t: 1000, v: 120}, {t: 2000, v: 130}, {t: 3000, v: 125}]}, idempotencyKey: "m1") { id series { t v } } }`,
			map[string]any{"a": act.ID}, &m2)
		if m2.UpsertMetric.ID != m.UpsertMetric.ID || len(m2.UpsertMetric.Series) != 3 {
			t.Fatalf("replayed metric: %+v", m2)
		}
		e.wantError(all, `mutation($a: ID!) { upsertMetric(activityId: $a, input: {type: POSITION, points: [{t: 1, v: 1}]}) { id } }`,
			map[string]any{"a": act.ID}, cairn.EVALIDATION)
		var rt struct {
			UpsertRoute struct {
				ID, Polyline string
				PointCount   int
			}
		}
		e.data(all, `mutation($a: ID!) { upsertRoute(activityId: $a, input: {polyline: "_p~iF~ps|U_ulLnnqC_mqNvxq`+"`"+`@"}) { id polyline pointCount } }`,
			map[string]any{"a": act.ID}, &rt)
		if rt.UpsertRoute.PointCount != 3 || rt.UpsertRoute.Polyline == "" {
			t.Fatalf("route: %+v", rt)
		}
		e.data(all, `mutation($a: ID!) { upsertRoute(activityId: $a, input: {geoJson: {type: "LineString", coordinates: [[5.7, 45.1, 200], [5.71, 45.11, 250]]}}) { id pointCount } }`,
			map[string]any{"a": act.ID}, &rt)
		e.wantError(all, `mutation($a: ID!) { upsertRoute(activityId: $a, input: {}) { id } }`, map[string]any{"a": act.ID}, cairn.EVALIDATION)
		var s struct {
			UpsertSummary struct {
				DistanceM float64
				Sources   []struct{ Field, Source string }
			}
		}
		e.data(all, `mutation($a: ID!) { upsertSummary(activityId: $a, input: {distanceM: 12000, hrZonesS: [1, 2, 3, 4, 5]}) { distanceM sources { field source } } }`,
			map[string]any{"a": act.ID}, &s)
		if s.UpsertSummary.DistanceM != 12000 || len(s.UpsertSummary.Sources) != 1 || s.UpsertSummary.Sources[0].Source != "client" {
			t.Fatalf("summary: %+v", s)
		}
		if x := e.wantError(all, `mutation($a: ID!) { upsertSummary(activityId: $a, input: {hrZonesS: [1]}) { distanceM } }`,
			map[string]any{"a": act.ID}, cairn.EVALIDATION); x.Extensions.Fields["hrZonesS"] == "" {
			t.Errorf("hr zones: %v", x.Extensions.Fields)
		}
		e.wantError(bob, `mutation($a: ID!) { upsertSummary(activityId: $a, input: {distanceM: 1}) { distanceM } }`,
			map[string]any{"a": act.ID}, cairn.ENOTFOUND)

		// node and nodes: the viewer's objects by global id; another
		// user's are not found.
		var n struct {
			Node struct {
				Typename string `json:"__typename"`
				ID       string
				Name     string
				Summary  struct{ DistanceM float64 }
				Route    struct{ PointCount int }
			}
			Nodes []*struct {
				Typename string `json:"__typename"`
			}
		}
		e.data(all, `query($a: ID!, $d: ID!, $u: ID!, $m: ID!) { node(id: $a) { __typename id ... on Activity { name summary { distanceM } route { pointCount } } }
			nodes(ids: [$d, $u, $m, $a]) { __typename } }`,
			map[string]any{"a": act.ID, "d": d1.RegisterDevice.ID, "u": uid, "m": m.UpsertMetric.ID}, &n)
		if n.Node.Typename != "Activity" || n.Node.Name != "Hills" || n.Node.Summary.DistanceM != 12000 || n.Node.Route.PointCount != 2 {
			t.Fatalf("node: %+v", n.Node)
		}
		var kinds []string
		for _, x := range n.Nodes {
			kinds = append(kinds, x.Typename)
		}
		if strings.Join(kinds, ",") != "Device,User,Metric,Activity" {
			t.Errorf("nodes: %v", kinds)
		}
		e.wantError(bob, `query($a: ID!) { node(id: $a) { id } }`, map[string]any{"a": act.ID}, cairn.ENOTFOUND)
		e.wantError(all, `{ node(id: "not-an-id") { id } }`, nil, cairn.EVALIDATION)
		// Reads need the REST operation's scope.
		e.wantError(profile, `{ viewer { activities { totalCount } } }`, nil, cairn.EFORBIDDEN)
		e.wantError(writeOnly, `{ viewer { email } }`, nil, cairn.EFORBIDDEN)
		e.wantError(e.token(u, cairn.ScopeActivityRead), `{ viewer { healthMetrics { totalCount } } }`, nil, cairn.EFORBIDDEN)
	})
}
