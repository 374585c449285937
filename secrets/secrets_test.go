package secrets_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/secrets"
)

func keyring(t *testing.T, ids ...string) (*secrets.Keyring, []string) {
	t.Helper()
	var lines []string
	for _, id := range ids {
		l, err := secrets.NewKey(id)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	k, err := secrets.Parse(strings.Join(lines, ","))
	if err != nil {
		t.Fatal(err)
	}
	return k, lines
}

func TestSealOpen(t *testing.T) {
	k, _ := keyring(t, "old", "new")
	if k.Current() != "new" {
		t.Fatalf("current key %q, want the last one", k.Current())
	}
	ad := secrets.AD("provider_connections", "access_token_enc", "row1")
	c, err := k.Seal([]byte("hunter2"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := secrets.KeyID(c); id != "new" {
		t.Fatalf("sealed under %q", id)
	}
	if c[0] != 1 || int(c[1]) != 3 || string(c[2:5]) != "new" {
		t.Fatalf("header % x", c[:5])
	}
	if bytes.Contains(c, []byte("hunter2")) {
		t.Fatal("plaintext visible in ciphertext")
	}
	p, err := k.Open(c, ad)
	if err != nil || string(p) != "hunter2" {
		t.Fatalf("Open = %q, %v", p, err)
	}
	c2, _ := k.Seal([]byte("hunter2"), ad)
	if bytes.Equal(c, c2) {
		t.Fatal("two seals of one plaintext are equal: nonce reused")
	}
}

func TestBoundToPlace(t *testing.T) {
	k, _ := keyring(t, "a")
	c, _ := k.Seal([]byte("s3cret"), secrets.AD("webhook_endpoints", "secret_enc", "row1"))
	for _, ad := range [][]byte{
		secrets.AD("webhook_endpoints", "secret_enc", "row2"),     // another row
		secrets.AD("webhook_endpoints", "old_secret_enc", "row1"), // another column
		secrets.AD("provider_connections", "secret_enc", "row1"),  // another table
		nil,
	} {
		if _, err := k.Open(c, ad); !errors.Is(err, secrets.ErrCorrupt) || cairn.ErrorCode(err) != cairn.EINTERNAL {
			t.Errorf("opened at %q: %v", ad, err)
		}
	}
}

func TestTampering(t *testing.T) {
	k, _ := keyring(t, "a")
	ad := secrets.AD("t", "c", "1")
	c, _ := k.Seal([]byte("s3cret"), ad)
	for i := range c {
		bad := bytes.Clone(c)
		bad[i] ^= 0x01
		if _, err := k.Open(bad, ad); err == nil {
			t.Errorf("flipping byte %d went unnoticed", i)
		}
	}
	for _, bad := range [][]byte{nil, {1}, {2, 1, 'a'}, c[:len(c)-1], c[:10]} {
		if _, err := k.Open(bad, ad); err == nil {
			t.Errorf("Open(% x) succeeded", bad)
		}
	}
}

func TestRotation(t *testing.T) {
	old, lines := keyring(t, "k1")
	ad := secrets.AD("t", "c", "1")
	c, _ := old.Seal([]byte("token"), ad)

	nl, _ := secrets.NewKey("k2")
	both, err := secrets.Parse(lines[0] + "," + nl)
	if err != nil {
		t.Fatal(err)
	}
	onlyNew, _ := secrets.Parse(nl)
	if _, err := onlyNew.Open(c, ad); !errors.Is(err, secrets.ErrUnknownKey) {
		t.Fatalf("a key not in the ring: %v", err)
	}
	r, changed, err := both.Reseal(c, ad)
	if err != nil || !changed {
		t.Fatalf("Reseal: changed %v, %v", changed, err)
	}
	if id, _ := secrets.KeyID(r); id != "k2" {
		t.Fatalf("resealed under %q", id)
	}
	if p, err := onlyNew.Open(r, ad); err != nil || string(p) != "token" {
		t.Fatalf("the new key alone opens the resealed secret: %q %v", p, err)
	}
	r2, changed, err := both.Reseal(r, ad)
	if err != nil || changed || !bytes.Equal(r, r2) {
		t.Fatalf("resealing twice changed it: %v %v", changed, err)
	}
	// A ciphertext moved to another row is not resealed either.
	if _, _, err := both.Reseal(c, secrets.AD("t", "c", "2")); err == nil {
		t.Fatal("resealed a ciphertext at another place")
	}
}

func TestParse(t *testing.T) {
	a, _ := secrets.NewKey("a")
	b, _ := secrets.NewKey("b")
	k, err := secrets.Parse("# comment\n" + a + "\n\n  " + b + "\n")
	if err != nil || k.Current() != "b" || len(k.IDs()) != 2 {
		t.Fatalf("newline-separated list with a comment: %v %v", k, err)
	}
	short := "x:" + strings.Repeat("A", 43) // 32 bytes in unpadded base64
	if _, err := secrets.Parse(short); err != nil {
		t.Fatalf("raw base64 of 32 bytes: %v", err)
	}
	for _, bad := range []string{
		"", " , ", "nokey", "a:", ":" + a[2:], "a b:" + a[2:], "a:" + "AAAA", "a:!!!!",
		"a:" + strings.Repeat("A", 40), a + "," + a, strings.Repeat("x", 65) + a[1:],
	} {
		if _, err := secrets.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if _, err := secrets.NewKey("bad id"); err == nil {
		t.Error("NewKey accepted an id with a space")
	}
}

func TestLoadOrCreateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", secrets.DefaultKeyFile)
	var wg sync.WaitGroup
	rings := make([]*secrets.Keyring, 4)
	created := make([]bool, 4)
	for i := range rings {
		wg.Go(func() {
			var err error
			rings[i], created[i], err = secrets.LoadOrCreateFile(path)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := 0
	for i, c := range created {
		if c {
			n++
		}
		if rings[i] == nil || rings[i].Current() != rings[0].Current() {
			t.Fatalf("processes disagree on the key")
		}
	}
	if n != 1 {
		t.Fatalf("%d of 4 concurrent starts created the file, want 1", n)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	// Sealed under the created key, opened after a restart.
	c, _ := rings[0].Seal([]byte("x"), nil)
	again, created2, err := secrets.LoadOrCreateFile(path)
	if err != nil || created2 {
		t.Fatalf("second start: created %v, %v", created2, err)
	}
	if p, err := again.Open(c, nil); err != nil || string(p) != "x" {
		t.Fatalf("the key changed across starts: %v", err)
	}
	// The file's format is the configuration's: CAIRN_SECRET_KEYS_FILE may name it.
	if _, err := secrets.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}
