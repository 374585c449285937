package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// syncBuffer is a buffer a running server writes to while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runEnv runs a command with environment variables; it returns stdout,
// stderr and the exit status.
func runEnv(ctx context.Context, vars map[string]string, args ...string) (string, string, int) {
	var out, errOut syncBuffer
	code := run(ctx, env{args: args, getenv: func(k string) string { return vars[k] },
		stdin: strings.NewReader(""), stdout: &out, stderr: &errOut})
	return out.String(), errOut.String(), code
}

// A server without configured keys creates a key file on first start,
// logs it, and uses the same file from then on.
func TestServeCreatesKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, secrets.DefaultKeyFile)
	serve := func() string {
		addr := freeAddr(t)
		ctx, stop := context.WithCancel(context.Background())
		var errOut syncBuffer
		done := make(chan int, 1)
		go func() {
			done <- run(ctx, env{args: []string{"serve", "--addr", addr, "--data-dir", dir}, getenv: func(string) string { return "" },
				stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &errOut})
		}()
		waitReady(t, "http://"+addr)
		stop()
		if code := <-done; code != 0 {
			t.Fatalf("serve exit %d: %s", code, errOut.String())
		}
		return errOut.String()
	}
	logs := serve()
	if !strings.Contains(logs, "created a key file") || !strings.Contains(logs, path) {
		t.Fatalf("the first start did not log the key file: %s", logs)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	first, err := secrets.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if logs := serve(); strings.Contains(logs, "created a key file") {
		t.Fatalf("the second start created a key file again: %s", logs)
	}
	again, _ := secrets.ReadFile(path)
	if again.Current() != first.Current() {
		t.Fatal("the key changed between starts")
	}
	// A bad key list stops the server before it starts.
	if _, errOut, code := runEnv(context.Background(), map[string]string{"CAIRN_SECRET_KEYS": "k1:short"},
		"serve", "--addr", freeAddr(t), "--data-dir", dir); code != 1 || !strings.Contains(errOut, "--secret-keys") {
		t.Fatalf("bad keys: exit %d: %s", code, errOut)
	}
}

func TestKeysGenerate(t *testing.T) {
	out, _, code := runEnv(context.Background(), nil, "keys", "generate", "--id", "2031-01")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	k, err := secrets.Parse(strings.TrimSpace(out))
	if err != nil || k.Current() != "2031-01" {
		t.Fatalf("generated %q: %v", out, err)
	}
	out2, _, _ := runEnv(context.Background(), nil, "keys", "generate")
	if !strings.HasPrefix(out2, "k") || out2 == out {
		t.Fatalf("default id: %q", out2)
	}
	if _, _, code := runEnv(context.Background(), nil, "keys", "generate", "--id", "no spaces"); code != 1 {
		t.Fatalf("a bad id: exit %d", code)
	}
}

func TestKeysRotate(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			db := dbtest.Open(t, dialect)
			dir := t.TempDir()
			storage := []string{"--data-dir", dir}
			if dialect == "postgres" {
				storage = append(storage, "--database-url", db.URL)
			} else {
				storage = []string{"--data-dir", filepath.Dir(db.URL)}
				dir = filepath.Dir(db.URL)
			}
			l1, _ := secrets.NewKey("k1")
			l2, _ := secrets.NewKey("k2")
			old, _ := secrets.Parse(l1)
			fresh, _ := secrets.Parse(l2)

			sys := cairn.SystemContext(context.Background())
			u := &cairn.User{Email: "ada@example.com"}
			if err := db.CreateUser(sys, u); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for range 3 {
				f := &cairn.MFAFactor{ID: sqldb.NewID(), UserID: u.ID, Kind: cairn.MFATOTP}
				f.SecretEnc, _ = old.Seal([]byte("seed-"+f.ID), secrets.AD("mfa_factors", "secret_enc", f.ID))
				if err := db.CreateMFAFactor(sys, f); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, f.ID)
			}

			// No keys configured and no key file: nothing to rotate with.
			if _, errOut, code := runEnv(context.Background(), nil, append([]string{"keys", "rotate"}, storage...)...); code != 1 ||
				!strings.Contains(errOut, "no secret keys") {
				t.Fatalf("without keys: exit %d: %s", code, errOut)
			}

			// The operator adds k2 after k1 and rotates, here through a key
			// file named by CAIRN_SECRET_KEYS_FILE.
			keyFile := filepath.Join(t.TempDir(), "keys")
			if err := os.WriteFile(keyFile, []byte("# keys\n"+l1+"\n"+l2+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{"CAIRN_SECRET_KEYS_FILE": keyFile}
			out, errOut, code := runEnv(context.Background(), vars, append([]string{"keys", "rotate", "--batch", "2"}, storage...)...)
			if code != 0 {
				t.Fatalf("rotate: exit %d: %s", code, errOut)
			}
			var res struct {
				KeyID   string              `json:"key_id"`
				Columns []sqldb.ResealStats `json:"columns"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil || res.KeyID != "k2" {
				t.Fatalf("output %q: %v", out, err)
			}
			for _, c := range res.Columns {
				if want := map[bool]int{true: 3, false: 0}[c.Column == "mfa_factors.secret_enc"]; c.Resealed != want {
					t.Fatalf("columns: %+v", res.Columns)
				}
			}
			for _, id := range ids {
				f, err := db.FindMFAFactor(sys, u.ID, id)
				if err != nil {
					t.Fatal(err)
				}
				if p, err := fresh.Open(f.SecretEnc, secrets.AD("mfa_factors", "secret_enc", id)); err != nil || string(p) != "seed-"+id {
					t.Fatalf("after rotation the new key alone opens %s: %q %v", id, p, err)
				}
			}
			// Idempotent, also with the keys in the data folder's key file.
			if err := os.WriteFile(filepath.Join(dir, secrets.DefaultKeyFile), []byte(l1+"\n"+l2+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			out, errOut, code = runEnv(context.Background(), nil, append([]string{"keys", "rotate"}, storage...)...)
			if code != 0 || strings.Contains(out, `"resealed":3`) || !strings.Contains(out, `"scanned":3`) {
				t.Fatalf("second rotation: exit %d: %s %s", code, out, errOut)
			}
			p, err := db.SearchAudit(sys, cairn.AuditFilter{Action: cairn.AuditKeysRotate})
			if err != nil || p.Total != 2 || p.Data[0].ActorID != cairn.AuditSystem {
				t.Fatalf("audit: %+v %v", p, err)
			}
		})
	}
}
