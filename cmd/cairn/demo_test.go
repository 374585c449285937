package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeDemo: `cairn serve --demo` needs no credentials: a new user
// connects the simulated Strava and Garmin accounts (the consent pages
// approve at once and come back to cairn), syncs both, and ends with the
// activities of both stored once each (the simulator's Garmin recordings
// are its Strava ones: each is one activity with two sources).
func TestServeDemo(t *testing.T) {
	dir := t.TempDir()
	storage := []string{"--data-dir", dir}
	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		_, code := cli(t, ctx, "", append([]string{"serve", "--demo", "--addr", addr, "--log-level", "warn",
			"--sync-resume-every", "1s"}, storage...)...)
		done <- code
	}()
	defer func() {
		stop()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d", code)
		}
	}()
	base := "http://" + addr
	waitReady(t, base)
	out, code := cli(t, context.Background(), "", append([]string{"user", "create", "--email", "demo@example.com", "--name", "Demo"}, storage...)...)
	var u struct{ ID string }
	if code != 0 || json.Unmarshal([]byte(out), &u) != nil {
		t.Fatalf("user create: %d %s", code, out)
	}
	tok := syncToken(t, storage, "demo@example.com")
	call := func(method, path, body string, out any) int {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if out != nil {
			_ = json.Unmarshal(b, out)
		}
		return resp.StatusCode
	}
	for _, p := range []string{"strava", "garmin"} {
		var a struct {
			AuthorizeURL string `json:"authorize_url"`
		}
		if st := call("POST", "/v1/users/"+u.ID+"/connections/"+p, "", &a); st != 200 {
			t.Fatalf("connect %s: %d", p, st)
		}
		// A browser: the consent page, then cairn's callback.
		resp, err := http.Get(a.AuthorizeURL)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), "is connected") {
			t.Fatalf("connecting %s: %d %s", p, resp.StatusCode, page)
		}
	}
	var started struct {
		Data []struct{ ID, Provider string }
	}
	if st := call("POST", "/v1/users/"+u.ID+"/sync", `{}`, &started); st != 202 || len(started.Data) != 2 {
		t.Fatalf("sync: %d %+v", st, started)
	}
	for _, s := range started.Data {
		var got sessionView
		for deadline := time.Now().Add(90 * time.Second); got.Status != "COMPLETED"; time.Sleep(100 * time.Millisecond) {
			call("GET", "/v1/sync-sessions/"+s.ID, "", &got)
			if time.Now().After(deadline) || got.Status == "FAILED" {
				t.Fatalf("%s session: %+v", s.Provider, got)
			}
		}
	}
	var acts struct{ Total int }
	call("GET", "/v1/users/"+u.ID+"/activities?limit=1", "", &acts)
	if acts.Total == 0 {
		t.Fatal("no activities")
	}
	t.Logf("%d activities after syncing Strava and Garmin", acts.Total)
}
