package rest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/telemetry"
)

// BenchmarkActivitiesAPI serves GET /v1/users/{id}/activities?limit=50
// over a user's million activities on PostgreSQL (CAIRN_BENCH_ACTIVITIES
// changes the count): the first page and the ten-thousandth, measured
// inside the server (handler, auth, store, JSON, ETag, request log) with
// the page cache (a page already served at the current version) and
// without it (every request reads the database), and the throughput wrk
// reaches over TCP when it is installed.
func BenchmarkActivitiesAPI(b *testing.B) {
	db := dbtest.Open(b, "postgres")
	sys := cairn.SystemContext(context.Background())
	u := &cairn.User{Email: "bench@example.com"}
	if err := db.CreateUser(sys, u); err != nil {
		b.Fatal(err)
	}
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("CAIRN_BENCH_ACTIVITIES")); err == nil && v > 0 {
		n = v
	}
	b.Logf("seeded %d activities in %v", n, dbtest.SeedActivities(b, db, u.ID, n))
	secret, hash := cairn.NewTokenSecret()
	exp := time.Now().Add(time.Hour)
	if err := db.CreateToken(sys, &cairn.PersonalAccessToken{UserID: u.ID, Hash: hash,
		Scopes: []cairn.Scope{cairn.ScopeActivityRead}, ExpiresAt: &exp}); err != nil {
		b.Fatal(err)
	}
	// The production logger, writing nowhere: formatting is part of the cost.
	server := func(pageCache int) http.Handler {
		d := deps(b, db, telemetry.NewLogger(io.Discard, 0))
		d.AuthCacheTTL, d.PageCacheSize = 5*time.Second, pageCache // as cairn serve runs
		s, err := rest.New(d)
		if err != nil {
			b.Fatal(err)
		}
		return s.Handler()
	}
	h, uncached := server(0), server(-1)
	list := "/v1/users/" + u.ID + "/activities"
	get := func(h http.Handler, url string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("GET %s: %d %s", url, rec.Code, rec.Body)
		}
		return rec
	}
	// The ten-thousandth page of 50 starts after row 499,950: walk there
	// in pages of 200 (a cursor does not depend on the page size).
	cursor := ""
	for rows := 0; rows < 9_999*50; rows += 200 {
		var page struct {
			NextCursor string `json:"next_cursor"`
		}
		_ = json.Unmarshal(get(uncached, list+"?limit=200&cursor="+cursor).Body.Bytes(), &page)
		cursor = page.NextCursor
	}
	for _, page := range []string{"1", "10000"} {
		url := list + "?limit=50"
		if page != "1" {
			url += "&cursor=" + cursor
		}
		for name, h := range map[string]http.Handler{"uncached": uncached, "cached": h} {
			b.Run("page="+page+"/"+name, func(b *testing.B) {
				for b.Loop() {
					get(h, url)
				}
			})
		}
	}
	b.Run("wrk", func(b *testing.B) { runWrk(b, h, list+"?limit=50", secret) })
}

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

// runWrk serves h on a TCP port and reports the requests per second wrk
// sustains for 10 s with 64 connections (WRK_ARGS overrides), once.
func runWrk(b *testing.B, h http.Handler, path, token string) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not installed (apt-get install wrk)")
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	args := []string{"-t2", "-c64", "-d10s"}
	if v := os.Getenv("WRK_ARGS"); v != "" {
		args = regexp.MustCompile(`\s+`).Split(v, -1)
	}
	args = append(args, "-H", "Authorization: Bearer "+token, srv.URL+path)
	for b.Loop() {
		out, err := exec.Command(wrk, args...).CombinedOutput()
		m := wrkRate.FindSubmatch(out)
		if err != nil || m == nil {
			b.Fatalf("wrk: %v\n%s", err, out)
		}
		b.Logf("wrk %v\n%s", args[:len(args)-3], out)
		rate, _ := strconv.ParseFloat(string(m[1]), 64)
		b.ReportMetric(rate, "req/s")
	}
}
