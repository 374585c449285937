package graphql_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// The GraphQL query for a REST page of activities with their summaries:
// every field of REST's activity, and the summary's figures.
const benchPage = `{ viewer { activities(first: 50) { totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id databaseId type sport name startTime endTime timezone source provider externalId
    fileHash rpe partial metadata createdAt updatedAt device { databaseId } user { databaseId }
    summary { distanceM durationS movingTimeS timerTimeS calories avgHr maxHr avgPace avgSpeed maxSpeed
      avgPower avgCadence steps strideLength intensityMinutes elevationGain elevationLoss hrZonesS
      sources { field source } updatedAt } } } } } }`

// BenchmarkPageOf50 reads a page of 50 activities with their summaries,
// in process (handler, token, store, encoding), on SQLite and PostgreSQL:
//
//   - rest: GET /v1/users/{id}/activities?limit=50, which has no
//     summaries, with REST's page cache off (every request reads the
//     database);
//   - rest+summaries: that page and the 50 GET …/summary a REST client
//     needs for the same data;
//   - graphql: one query with every REST field and the summaries;
//   - ratio: the three interleaved; graphql's time over rest's and over
//     rest+summaries'.
func BenchmarkPageOf50(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			db := dbtest.Open(b, dialect)
			e := newEnv(b, db, nil)
			u := e.user("bench@example.com")
			ctx := cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID, Scopes: allScopes})
			dev := &cairn.Device{UserID: u.ID, Model: "fenix 7"}
			if err := db.CreateDevice(ctx, dev); err != nil {
				b.Fatal(err)
			}
			start := time.Date(2025, 3, 1, 6, 0, 0, 0, time.UTC)
			var ids []string
			for i := range 200 {
				a := cairn.Activity{UserID: u.ID, DeviceID: &dev.ID, Type: cairn.ActivityRun, Name: "Run",
					StartTime: start.Add(-time.Duration(i) * time.Hour), Source: cairn.SourceAPI}
				if err := db.CreateActivity(ctx, &a); err != nil {
					b.Fatal(err)
				}
				d, t, hr := 10000.0, 3600.0, 150.0
				if err := db.UpsertSummary(ctx, &cairn.Summary{ActivityID: a.ID, UserID: u.ID, DistanceM: &d,
					DurationS: &t, AvgHR: &hr, Sources: map[string]string{"distance_m": "device"}}); err != nil {
					b.Fatal(err)
				}
				ids = append(ids, a.ID)
			}
			tok := e.token(u, allScopes...)
			h := e.srv.Config.Handler
			get := func(path string) {
				req := httptest.NewRequest("GET", path, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
				}
			}
			body, _ := json.Marshal(map[string]string{"query": benchPage})
			query := func() {
				req := httptest.NewRequest("POST", "/graphql", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				var r response
				if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &r) != nil || len(r.Errors) > 0 {
					b.Fatalf("graphql: %d %s", rec.Code, rec.Body)
				}
			}
			cases := map[string]func(){
				"rest": func() { get("/v1/users/" + u.ID + "/activities?limit=50") },
				"rest+summaries": func() {
					get("/v1/users/" + u.ID + "/activities?limit=50")
					for _, id := range ids[:50] {
						get("/v1/activities/" + id + "/summary")
					}
				},
				"graphql": query,
			}
			for _, name := range []string{"rest", "rest+summaries", "graphql"} {
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						cases[name]()
					}
				})
			}
			// The cases interleaved, each iteration running all three, so
			// that they share the machine's conditions.
			b.Run("ratio", func(b *testing.B) {
				spent := map[string]time.Duration{}
				for b.Loop() {
					for _, name := range []string{"rest", "graphql", "rest+summaries"} {
						began := time.Now()
						cases[name]()
						spent[name] += time.Since(began)
					}
				}
				b.ReportMetric(float64(spent["graphql"])/float64(spent["rest"]), "graphql/rest")
				b.ReportMetric(float64(spent["graphql"])/float64(spent["rest+summaries"]), "graphql/rest+summaries")
			})
		})
	}
}
