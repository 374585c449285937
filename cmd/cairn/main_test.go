package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// cli runs one cairn command in-process and returns its standard output.
func cli(t *testing.T, ctx context.Context, stdin string, args ...string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(ctx, env{args: args, getenv: func(string) string { return "" },
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut})
	if code != 0 {
		t.Logf("cairn %v: exit %d: %s", args, code, errOut.String())
	}
	return out.String(), code
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeEndToEnd is the foundation's "done when": serve, create a user
// and a token, read the profile; a second user's token gets 404 and no
// token gets 401; on SQLite and on PostgreSQL.
func TestServeEndToEnd(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			storage := []string{"--data-dir", t.TempDir()}
			if dialect == "postgres" {
				storage = append(storage, "--database-url", dbtest.Open(t, "postgres").URL)
			}
			addr := freeAddr(t)
			ctx, stop := context.WithCancel(context.Background())
			done := make(chan int, 1)
			go func() {
				_, code := cli(t, ctx, "", append([]string{"serve", "--addr", addr, "--log-level", "warn"}, storage...)...)
				done <- code
			}()
			waitReady(t, "http://"+addr)

			var ada, bob struct{ ID, Email string }
			out, code := cli(t, context.Background(), "s3cret-password\n", append([]string{"user", "create", "--email", "ada@example.com", "--name", "Ada", "--password-stdin"}, storage...)...)
			if code != 0 || json.Unmarshal([]byte(out), &ada) != nil || ada.ID == "" || ada.Email != "ada@example.com" {
				t.Fatalf("user create: %d %q", code, out)
			}
			out, _ = cli(t, context.Background(), "", append([]string{"user", "create", "--email", "bob@example.com"}, storage...)...)
			json.Unmarshal([]byte(out), &bob)
			if _, code := cli(t, context.Background(), "", append([]string{"user", "create", "--email", "ada@example.com"}, storage...)...); code != 1 {
				t.Errorf("duplicate email: exit %d, want 1", code)
			}
			adaTok := token(t, storage, "ada@example.com")
			bobTok := token(t, storage, "bob@example.com")

			if status, body := get(t, "http://"+addr+"/v1/users/"+ada.ID, adaTok); status != 200 || !strings.Contains(body, ada.ID) {
				t.Errorf("own profile: %d %s", status, body)
			}
			if status, body := get(t, "http://"+addr+"/v1/users/"+ada.ID, bobTok); status != 404 || !strings.Contains(body, `"NOT_FOUND"`) {
				t.Errorf("other's profile: %d %s", status, body)
			}
			if status, body := get(t, "http://"+addr+"/v1/users/"+ada.ID, ""); status != 401 || !strings.Contains(body, `{"error":{"code":"UNAUTHENTICATED"`) {
				t.Errorf("no token: %d %s", status, body)
			}
			// The OAuth pages and GraphQL, beside the API, are observed as
			// the API is: a request id, a log line, metrics.
			// The account pages are wired to the account service.
			for _, path := range []string{"/.well-known/oauth-authorization-server", "/graphql/schema.graphql", "/forgot-password", "/signup"} {
				resp, err := http.Get("http://" + addr + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 || resp.Header.Get("X-Request-Id") == "" {
					t.Errorf("%s: %d, X-Request-Id %q", path, resp.StatusCode, resp.Header.Get("X-Request-Id"))
				}
			}
			// A request is counted after its response is written: look again
			// for a moment rather than race the server.
			counted := false
			for deadline := time.Now().Add(5 * time.Second); !counted && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				_, body := get(t, "http://"+addr+"/metrics", "")
				counted = strings.Contains(body, `route="/graphql/schema.graphql"`)
			}
			if !counted {
				t.Error("no metrics for GraphQL requests")
			}
			stop() // as SIGTERM does
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("serve exited %d after shutdown", code)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop")
			}
		})
	}
}

func token(t *testing.T, storage []string, email string) string {
	t.Helper()
	out, code := cli(t, context.Background(), "", append([]string{"token", "create", "--user", email,
		"--scopes", "profile:read activity:read", "--expires", "720h"}, storage...)...)
	var tok struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil || tok.Token == "" {
		t.Fatalf("token create: %d %q", code, out)
	}
	if d := time.Until(tok.ExpiresAt); d < 719*time.Hour || d > 721*time.Hour {
		t.Errorf("expires_at %v is not in 720h", tok.ExpiresAt)
	}
	return tok.Token
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("server did not become ready")
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	secret := dir + "/db-url"
	if err := writeFile(secret, "postgres://from-file/db\n"); err != nil {
		t.Fatal(err)
	}
	envs := map[string]string{"CAIRN_ADDR": "0.0.0.0:9999", "CAIRN_DATABASE_URL_FILE": secret, "CAIRN_DATA_DIR": "/env", "CAIRN_SIGNUP": "open",
		"CAIRN_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7"}
	var c Config
	fs := newFlagSet()
	c.serveFlags(fs)
	if err := c.parse(fs, []string{"--data-dir", "/flag"}, func(k string) string { return envs[k] }); err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:9999" || c.DataDir != "/flag" || c.DatabaseURL != "postgres://from-file/db" || c.SignUp != SignUpOpen {
		t.Errorf("config = %+v", c)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[0].String() != "10.0.0.0/8" || c.TrustedProxies[1].String() != "192.0.2.7/32" {
		t.Errorf("trusted proxies = %v", c.TrustedProxies)
	}
	for _, bad := range [][]string{{"--database-url", "mysql://x"}, {"--shutdown-timeout", "-1s"}, {"--nope"}, {"--signup", "sometimes"}, {"--trusted-proxies", "10.0.0.0/33"}} {
		var c Config
		fs := newFlagSet()
		c.serveFlags(fs)
		if err := c.parse(fs, bad, func(string) string { return "" }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	var def Config
	fs = newFlagSet()
	def.serveFlags(fs)
	if err := def.parse(fs, nil, func(string) string { return "" }); err != nil || def.SignUp != SignUpInvite {
		t.Errorf("default sign-up %q (%v), want invite", def.SignUp, err)
	}
	if _, code := cli(t, context.Background(), "", "token", "create", "--user", "x@example.com", "--scopes", "bogus", "--data-dir", dir); code != 1 {
		t.Errorf("unknown scope: exit %d", code)
	}
	if _, code := cli(t, context.Background(), "", "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
}

func newFlagSet() *flag.FlagSet { return flag.NewFlagSet("cairn", flag.ContinueOnError) }

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
