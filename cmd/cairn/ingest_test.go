package main

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/synth"
	"github.com/muktihari/fit/profile/typedef"
)

// TestUploadEndToEnd sends a file to a running server and waits for the
// River job to ingest it, on SQLite and PostgreSQL.
func TestUploadEndToEnd(t *testing.T) {
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
			defer func() { stop(); <-done }()
			waitReady(t, "http://"+addr)
			out, _ := cli(t, context.Background(), "", append([]string{"user", "create", "--email", "ada@example.com"}, storage...)...)
			var ada struct{ ID string }
			json.Unmarshal([]byte(out), &ada)
			out, _ = cli(t, context.Background(), "", append([]string{"token", "create", "--user", "ada@example.com",
				"--scopes", "activity:read activity:write"}, storage...)...)
			var tok struct{ Token string }
			json.Unmarshal([]byte(out), &tok)

			file, err := synth.FIT(time.Date(2025, 6, 1, 6, 0, 0, 0, time.UTC), 7, synth.Leg{Sport: typedef.SportCycling, Seconds: 900})
			if err != nil {
				t.Fatal(err)
			}
			base := "http://" + addr
			submit := func(name string, data []byte) uploadView {
				status, body := upload(t, base+"/v1/users/"+ada.ID+"/uploads", tok.Token, name, data)
				return waitUpload(t, base, tok.Token, status, body)
			}
			up := submit("ride.fit", file)
			if up.Status != "completed" || up.Kind != "activity" || len(up.ActivityIDs) != 1 || up.Partial {
				t.Fatalf("upload finished as %+v", up)
			}
			// A file cut short imports what precedes the break, marked
			// partial; a file with nothing usable fails alone, with a clear error.
			other, _ := synth.FIT(time.Date(2025, 6, 3, 6, 0, 0, 0, time.UTC), 7, synth.Leg{Sport: typedef.SportRunning, Seconds: 900})
			up = submit("cut.fit", other[:len(other)/2])
			if up.Status != "completed" || !up.Partial || len(up.Warnings) == 0 {
				t.Errorf("cut file: %+v", up)
			}
			up = submit("bad.fit", append([]byte{14, 0x20}, make([]byte, 40)...))
			if up.Status != "failed" || up.Error == nil || up.Error.Code != "UNSUPPORTED_FILE" || up.Error.Message == "" {
				t.Errorf("garbage file: %+v", up)
			}
			// Scopes: a read-only token cannot upload; no token is 401.
			if status, _ := upload(t, base+"/v1/users/"+ada.ID+"/uploads", "", "x.fit", file); status != 401 {
				t.Errorf("upload without token: %d", status)
			}
		})
	}
}

type uploadView struct {
	ID, Status  string
	ActivityIDs []string `json:"activity_ids"`
	Kind        string
	Partial     bool
	Warnings    []string
	Error       *struct{ Code, Message string }
}

// waitUpload checks the 202 answer and polls the upload until its job ends.
func waitUpload(t *testing.T, base, token string, status int, body string) uploadView {
	t.Helper()
	var up uploadView
	if status != 202 || json.Unmarshal([]byte(body), &up) != nil || up.Status != "pending" {
		t.Fatalf("upload: %d %s", status, body)
	}
	for deadline := time.Now().Add(30 * time.Second); up.Status == "pending" || up.Status == "processing"; {
		if time.Now().After(deadline) {
			t.Fatalf("upload still %s", up.Status)
		}
		time.Sleep(50 * time.Millisecond)
		_, body = get(t, base+"/v1/uploads/"+up.ID, token)
		if err := json.Unmarshal([]byte(body), &up); err != nil {
			t.Fatal(err)
		}
	}
	return up
}

func upload(t *testing.T, url, token, name string, data []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("file", name)
	w.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", url, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
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

// TestImportCommand imports files and a folder with --json: one line per
// file, exit 1 when any failed, duplicates on the second run.
func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	storage := []string{"--data-dir", filepath.Join(dir, "data")}
	if _, code := cli(t, context.Background(), "", append([]string{"user", "create", "--email", "ada@example.com"}, storage...)...); code != 0 {
		t.Fatal("user create failed")
	}
	files := filepath.Join(dir, "files")
	os.MkdirAll(filepath.Join(files, "nested"), 0o755)
	good, _ := synth.FIT(time.Date(2025, 6, 1, 6, 0, 0, 0, time.UTC), 7, synth.Leg{Sport: typedef.SportRunning, Seconds: 300})
	other, _ := synth.FIT(time.Date(2025, 6, 2, 6, 0, 0, 0, time.UTC), 7, synth.Leg{Sport: typedef.SportRunning, Seconds: 300})
	os.WriteFile(filepath.Join(files, "a.fit"), good, 0o644)
	os.WriteFile(filepath.Join(files, "nested", "b.FIT"), other, 0o644)
	os.WriteFile(filepath.Join(files, "nested", "broken.fit"), good[:40], 0o644)
	os.WriteFile(filepath.Join(files, "notes.txt"), []byte("not picked up from a folder"), 0o644)

	args := append([]string{"import", "--user", "ada@example.com", "--json"}, storage...)
	out, code := cli(t, context.Background(), "", append(args, files)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || len(lines) != 3 {
		t.Fatalf("exit %d, %d lines:\n%s", code, len(lines), out)
	}
	statuses := map[string]string{}
	for _, l := range lines {
		var r struct {
			File, Status string
			ActivityIDs  []string `json:"activity_ids"`
			Error        *struct{ Code, Message string }
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		statuses[filepath.Base(r.File)] = r.Status
		if r.Status == "failed" && (r.Error == nil || r.Error.Message == "") {
			t.Errorf("failed without error: %s", l)
		}
	}
	if statuses["a.fit"] != "created" || statuses["b.FIT"] != "created" || statuses["broken.fit"] != "failed" {
		t.Errorf("statuses %v", statuses)
	}
	out, code = cli(t, context.Background(), "", append(args, filepath.Join(files, "a.fit"), filepath.Join(files, "nested", "b.FIT"))...)
	if code != 0 || strings.Count(out, `"status":"duplicate"`) != 2 {
		t.Errorf("second import: exit %d\n%s", code, out)
	}
}
