package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/account"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/jobs"
	"github.com/cairn-fit/cairn/rest"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/telemetry"
	"github.com/cairn-fit/cairn/tracks"
	"github.com/riverqueue/river"
	"gocloud.dev/blob/memblob"
)

// env is a running API on a fresh database.
type env struct {
	t   *testing.T
	db  *dbtest.DB
	srv *httptest.Server
	log *syncBuffer
	api *rest.Server
}

func newEnv(t *testing.T, db *dbtest.DB) *env {
	var log syncBuffer
	s, err := rest.New(deps(t, db, telemetry.NewLogger(&log, 0)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, srv: srv, log: &log, api: s}
}

// syncBuffer holds the server's log: a request's line is written after
// its response, while the test may be reading.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// deps wires the server to the database and an in-memory blob bucket.
func deps(t testing.TB, db *dbtest.DB, log *slog.Logger) rest.Deps {
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	// Uploads are queued for a worker that these tests do not start.
	uploads := &ingest.Uploads{Service: &ingest.Service{DB: db.DB, Bucket: bucket}}
	workers := river.NewWorkers()
	river.AddWorker(workers, &ingest.UploadWorker{Uploads: uploads})
	river.AddWorker(workers, &account.PurgeWorker{DB: db.DB, Bucket: bucket})
	syncs := newSyncService(t, db, bucket)
	syncs.Register(workers, time.Hour, time.Hour)
	q, err := jobs.New(db.DB, db.Pool, jobs.Config{Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	uploads.Queue = q
	syncs.SetQueue(q)
	return rest.Deps{Users: db, Tokens: db, Devices: db, Activities: db, Summaries: db, Series: db, Routes: db,
		Health: db, Workouts: db, Idempotency: db, Tracks: &tracks.Service{DB: db.DB, Bucket: bucket},
		Uploads: uploads, Ready: db.Ping, Log: log, Sync: syncs}
}

func (e *env) user(email string, roles ...string) *cairn.User {
	e.t.Helper()
	u := &cairn.User{Email: email, Name: email, Roles: roles}
	if err := e.db.CreateUser(cairn.SystemContext(context.Background()), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) token(u *cairn.User, expires time.Duration, scopes ...cairn.Scope) string {
	e.t.Helper()
	secret, hash := cairn.NewTokenSecret()
	exp := time.Now().Add(expires)
	if err := e.db.CreateToken(cairn.SystemContext(context.Background()),
		&cairn.PersonalAccessToken{UserID: u.ID, Hash: hash, Scopes: scopes, ExpiresAt: &exp}); err != nil {
		e.t.Fatal(err)
	}
	return secret
}

// do sends a request and decodes the JSON answer into out (when not nil).
func (e *env) do(method, path, token string, out any) *http.Response {
	e.t.Helper()
	return e.doJSON(method, path, token, "", out)
}

// doJSON sends a request with a JSON body (none when empty) and decodes
// the JSON answer into out (when not nil).
func (e *env) doJSON(method, path, token, body string, out any) *http.Response {
	e.t.Helper()
	resp, answer := e.raw(method, path, token, body, nil)
	if out != nil {
		if err := json.Unmarshal(answer, out); err != nil {
			e.t.Fatalf("%s %s: %d %q is not JSON: %v", method, path, resp.StatusCode, answer, err)
		}
	}
	return resp
}

// raw sends a request with a JSON body (none when empty) and extra
// headers, and returns the answer's bytes.
func (e *env) raw(method, path, token, body string, header map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp, answer
}

type errorShape struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

func (e *env) wantError(method, path, token string, status int, code string) {
	e.t.Helper()
	var body errorShape
	resp := e.do(method, path, token, &body)
	if resp.StatusCode != status || body.Error.Code != code || body.Error.Message == "" {
		e.t.Errorf("%s %s: %d %+v, want %d %s", method, path, resp.StatusCode, body, status, code)
	}
}

func TestGetUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ada := e.user("ada@example.com")
		bob := e.user("bob@example.com")
		root := e.user("root@example.com", cairn.RoleAdmin)
		adaTok := e.token(ada, time.Hour, cairn.ScopeProfileRead)

		var got map[string]any
		resp := e.do("GET", "/v1/users/"+ada.ID, adaTok, &got)
		if resp.StatusCode != 200 || got["id"] != ada.ID || got["email"] != "ada@example.com" {
			t.Fatalf("own profile: %d %v", resp.StatusCode, got)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Error("no X-Request-Id header")
		}
		// Ids do not leak: another user's profile is simply not found, like
		// one that does not exist.
		e.wantError("GET", "/v1/users/"+bob.ID, adaTok, 404, cairn.ENOTFOUND)
		e.wantError("GET", "/v1/users/no-such-user", adaTok, 404, cairn.ENOTFOUND)
		e.wantError("GET", "/v1/users/"+ada.ID, "", 401, cairn.EUNAUTHENTICATED)
		e.wantError("GET", "/v1/users/"+ada.ID, "cairn_pat_forged", 401, cairn.EUNAUTHENTICATED)
		e.wantError("GET", "/v1/users/"+ada.ID, e.token(ada, -time.Minute, cairn.ScopeProfileRead), 401, cairn.EUNAUTHENTICATED)
		e.wantError("GET", "/v1/users/"+ada.ID, e.token(ada, time.Hour, cairn.ScopeActivityRead), 403, cairn.EFORBIDDEN)

		// Admins reach everyone with the admin scope, and only with it.
		if resp := e.do("GET", "/v1/users/"+ada.ID, e.token(root, time.Hour, cairn.ScopeProfileRead, cairn.ScopeAdmin), nil); resp.StatusCode != 200 {
			t.Errorf("admin with admin scope: %d", resp.StatusCode)
		}
		e.wantError("GET", "/v1/users/"+ada.ID, e.token(root, time.Hour, cairn.ScopeProfileRead), 404, cairn.ENOTFOUND)
		// The admin scope on a user without the admin role grants nothing more.
		e.wantError("GET", "/v1/users/"+bob.ID, e.token(ada, time.Hour, cairn.ScopeProfileRead, cairn.ScopeAdmin), 404, cairn.ENOTFOUND)
	})
}

func TestAuthorizationHeader(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, "sqlite"))
	ada := e.user("ada@example.com")
	tok := e.token(ada, time.Hour, cairn.ScopeProfileRead)
	for _, h := range []string{"Basic " + tok, tok, "Bearer ", "Bearer"} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/users/"+ada.ID, nil)
		req.Header.Set("Authorization", h)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("Authorization %q: %d", h, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/users/"+ada.ID, nil)
	req.Header.Set("Authorization", "bearer "+tok)
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 200 {
		t.Errorf("the scheme is case-insensitive: %d", resp.StatusCode)
	}
}

func TestOps(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		for _, p := range []string{"/healthz", "/readyz"} {
			var st map[string]string
			if resp := e.do("GET", p, "", &st); resp.StatusCode != 200 || st["status"] != "ok" {
				t.Errorf("%s: %d %v", p, resp.StatusCode, st)
			}
		}
		e.wantError("GET", "/no/such/route", "", 404, cairn.ENOTFOUND)
		var doc map[string]any
		if resp := e.do("GET", "/v1/openapi.json", "", &doc); resp.StatusCode != 200 || doc["openapi"] != "3.1.0" {
			t.Errorf("openapi.json: %d %v", resp.StatusCode, doc["openapi"])
		}
		resp, err := http.Get(e.srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `cairn_http_requests_total{method="GET",route="GET /healthz",status="200"} 1`) ||
			!strings.Contains(string(body), `cairn_http_request_duration_seconds_bucket{method="GET",route="GET /readyz",status="200"`) {
			t.Errorf("metrics lack request counts by route:\n%s", body)
		}
		// Every log line of a request carries its id.
		for _, line := range strings.Split(strings.TrimSpace(e.log.String()), "\n") {
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line is not JSON: %q", line)
			}
			if rec["msg"] == "request" && rec["request_id"] == nil {
				t.Errorf("log line without request_id: %s", line)
			}
		}
	})
}

func TestReadyzWhenDatabaseIsDown(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	e := newEnv(t, db)
	db.Close()
	e.wantError("GET", "/readyz", "", 503, cairn.EUNAVAILABLE)
	if resp := e.do("GET", "/healthz", "", nil); resp.StatusCode != 200 {
		t.Errorf("healthz while the database is down: %d", resp.StatusCode)
	}
}

func TestFrozenUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		u := &cairn.User{Email: "ice@example.com", Status: cairn.UserFrozen}
		if err := db.CreateUser(cairn.SystemContext(context.Background()), u); err != nil {
			t.Fatal(err)
		}
		e.wantError("GET", "/v1/users/"+u.ID, e.token(u, time.Hour, cairn.ScopeProfileRead), 403, cairn.EFORBIDDEN)
	})
}

func TestAuthCache(t *testing.T) {
	db := dbtest.Open(t, "sqlite")
	now := time.Now()
	d := deps(t, db, nil)
	d.AuthCacheTTL, d.Now = time.Minute, func() time.Time { return now }
	s, err := rest.New(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e := &env{t: t, db: db, srv: srv, api: s}
	ada := e.user("ada@example.com")
	tok := e.token(ada, time.Hour, cairn.ScopeProfileRead)
	if resp := e.do("GET", "/v1/users/"+ada.ID, tok, nil); resp.StatusCode != 200 {
		t.Fatalf("first request: %d", resp.StatusCode)
	}
	if _, err := db.Writer().Exec("UPDATE users SET deleted_at = created_at WHERE id = $1", ada.ID); err != nil {
		t.Fatal(err)
	}
	// Within the TTL the lookup is reused (the store still hides the
	// deleted user's profile); after it the token no longer authenticates.
	e.wantError("GET", "/v1/users/"+ada.ID, tok, 404, cairn.ENOTFOUND)
	now = now.Add(2 * time.Minute)
	e.wantError("GET", "/v1/users/"+ada.ID, tok, 401, cairn.EUNAUTHENTICATED)
}

// TestTokenLastUsed: a request records its token's use, on both databases;
// the next requests within the hour write nothing more.
func TestTokenLastUsed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ada := e.user("ada@example.com")
		tok := e.token(ada, time.Hour, cairn.ScopeProfileRead)
		lastUsed := func() *time.Time {
			t.Helper()
			got, err := db.FindTokenByHash(context.Background(), cairn.HashToken(tok))
			if err != nil {
				t.Fatal(err)
			}
			return got.LastUsedAt
		}
		if got := lastUsed(); got != nil {
			t.Fatalf("last_used_at before any use: %v", got)
		}
		before := time.Now().Add(-time.Second)
		if resp := e.do("GET", "/v1/users/"+ada.ID, tok, nil); resp.StatusCode != 200 {
			t.Fatalf("request: %d", resp.StatusCode)
		}
		first := lastUsed()
		if first == nil || first.Before(before) {
			t.Fatalf("last_used_at after a use: %v, want after %v", first, before)
		}
		e.do("GET", "/v1/users/"+ada.ID, tok, nil)
		if got := lastUsed(); !got.Equal(*first) {
			t.Errorf("a second use within the hour rewrote last_used_at: %v, was %v", got, first)
		}
	})
}
