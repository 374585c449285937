package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-fit/cairn/sqlite"
	"github.com/cairn-fit/cairn/webhooks"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// buildCairn builds the cairn binary into a temporary folder.
func buildCairn(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cairn")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	// The binary is a subject, not under test for races: build it plain,
	// which is much faster.
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// server is a cairn serve subprocess.
type server struct {
	cmd  *exec.Cmd
	base string
	log  *bytes.Buffer
}

func startServer(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{base: "http://" + addr, log: &bytes.Buffer{}}
	s.cmd = exec.Command(bin, append([]string{"serve", "--addr", addr, "--log-level", "warn"}, args...)...)
	s.cmd.Stderr = s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	waitReady(t, s.base)
	return s
}

func (s *server) call(t *testing.T, method, path, token, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && json.Unmarshal(b, out) != nil {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// TestWebhookSurvivesSIGKILL: an event is committed and its first attempt
// fails; the server is killed with SIGKILL before the retry, restarted on
// the same data, and the delivery arrives as it would have: same
// webhook-id, same body, signed with the endpoint's secret.
func TestWebhookSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it")
	}
	bin := buildCairn(t)
	data := t.TempDir()
	storage := []string{"--data-dir", data}
	if _, code := cli(t, context.Background(), "", append([]string{"user", "create", "--email", "ada@example.com"}, storage...)...); code != 0 {
		t.Fatal("user create")
	}
	out, code := cli(t, context.Background(), "", append([]string{"token", "create", "--user", "ada@example.com",
		"--scopes", "activity:write webhooks:manage"}, storage...)...)
	var tok struct{ Token string }
	if code != 0 || json.Unmarshal([]byte(out), &tok) != nil {
		t.Fatalf("token create: %d %s", code, out)
	}

	type request struct {
		header http.Header
		body   []byte
	}
	got := make(chan request, 10)
	var n atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		got <- request{r.Header.Clone(), b}
	}))
	defer receiver.Close()
	next := func(within time.Duration) request {
		t.Helper()
		select {
		case r := <-got:
			return r
		case <-time.After(within):
			t.Fatalf("no delivery within %s", within)
			return request{}
		}
	}

	args := append([]string{"--webhook-allow-private", "--webhook-retry-schedule", "4s,4s"}, storage...)
	first := startServer(t, bin, args...)
	var hook struct{ ID, Secret string }
	if code := first.call(t, "POST", "/v1/webhooks", tok.Token, `{"url": "`+receiver.URL+`"}`, &hook); code != 201 {
		t.Fatalf("create webhook: %d", code)
	}
	var act struct{ ID string }
	if code := first.call(t, "POST", "/v1/activities", tok.Token, `{"type": "run", "start_time": "2026-05-01T07:00:00Z"}`, &act); code != 201 {
		t.Fatalf("create activity: %d", code)
	}
	failed := next(30 * time.Second)

	// Once River has recorded the failed attempt (the job waits for its
	// retry, no longer running), kill the server outright.
	db, err := sqlite.Open(filepath.Join(data, "cairn.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(3 * time.Second)
	for {
		var state string
		var attempt int
		err := db.Reader().QueryRow("SELECT state, attempt FROM river_job WHERE kind = 'webhook_deliver'").Scan(&state, &attempt)
		if err == nil && state != "running" && attempt == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the failed attempt was not recorded in time: %s %d %v", state, attempt, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	select {
	case r := <-got:
		t.Fatalf("delivered before the kill: %s", r.body)
	default:
	}

	second := startServer(t, bin, args...)
	delivered := next(60 * time.Second)
	if delivered.header.Get("webhook-id") != failed.header.Get("webhook-id") || !bytes.Equal(delivered.body, failed.body) {
		t.Errorf("after the restart: %v %s\nbefore: %v %s", delivered.header, delivered.body, failed.header, failed.body)
	}
	wh, err := standardwebhooks.NewWebhook(hook.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(delivered.body, delivered.header); err != nil {
		t.Errorf("signature: %v", err)
	}
	var ev struct {
		Type string
		Data struct {
			ActivityID string `json:"activity_id"`
		}
	}
	if json.Unmarshal(delivered.body, &ev) != nil || ev.Type != "activity.created" || ev.Data.ActivityID != act.ID {
		t.Errorf("body %s", delivered.body)
	}
	var list struct {
		Data []struct {
			Status   string
			Attempts []struct {
				StatusCode int `json:"status_code"`
			}
		}
	}
	deadline = time.Now().Add(10 * time.Second)
	for second.call(t, "GET", "/v1/webhooks/"+hook.ID+"/deliveries", tok.Token, "", &list); len(list.Data) != 1 || list.Data[0].Status != "delivered"; second.call(t, "GET", "/v1/webhooks/"+hook.ID+"/deliveries", tok.Token, "", &list) {
		if time.Now().After(deadline) {
			t.Fatalf("deliveries %+v", list)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if a := list.Data[0].Attempts; len(a) != 2 || a[0].StatusCode != 503 || a[1].StatusCode != 200 {
		t.Errorf("attempts %+v", a)
	}
	select {
	case r := <-got:
		t.Errorf("delivered twice: %s", r.body)
	case <-time.After(300 * time.Millisecond):
	}
	if err := second.cmd.Process.Signal(os.Interrupt); err == nil {
		_ = second.cmd.Wait()
	}
	if t.Failed() {
		t.Logf("first server's log:\n%s\nsecond's:\n%s", first.log, second.log)
	}
}

// TestWebhookSettings: the webhook flags, from the command line or
// CAIRN_* variables.
func TestWebhookSettings(t *testing.T) {
	parse := func(env map[string]string, args ...string) (Config, error) {
		var c Config
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		c.serveFlags(fs)
		err := c.parse(fs, append([]string{"--data-dir", t.TempDir()}, args...), func(k string) string { return env[k] })
		return c, err
	}
	c, err := parse(nil)
	if err != nil || !slices.Equal(c.Webhooks.RetrySchedule, webhooks.DefaultRetrySchedule) || c.Webhooks.AllowPrivate ||
		c.Webhooks.Timeout != 15*time.Second || c.Webhooks.EventRetention != 30*24*time.Hour || c.Webhooks.DeliveryRetention != 30*24*time.Hour {
		t.Fatalf("defaults: %+v %v", c.Webhooks, err)
	}
	c, err = parse(map[string]string{"CAIRN_EVENT_RETENTION": "168h"}, "--delivery-retention", "2h")
	if err != nil || c.Webhooks.EventRetention != 7*24*time.Hour || c.Webhooks.DeliveryRetention != 2*time.Hour {
		t.Fatalf("retention: %+v %v", c.Webhooks, err)
	}
	c, err = parse(map[string]string{"CAIRN_WEBHOOK_RETRY_SCHEDULE": "1s, 2m", "CAIRN_WEBHOOK_ALLOW_PRIVATE": "true"})
	if err != nil || !slices.Equal(c.Webhooks.RetrySchedule, durations{time.Second, 2 * time.Minute}) || !c.Webhooks.AllowPrivate {
		t.Fatalf("from the environment: %+v %v", c.Webhooks, err)
	}
	for _, bad := range [][]string{{"--webhook-retry-schedule", "5s,-1s"}, {"--webhook-retry-schedule", "soon"},
		{"--webhook-workers", "0"}, {"--webhook-timeout", "0s"}, {"--event-retention", "0s"}, {"--delivery-retention", "10m"}} {
		if _, err := parse(nil, bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
