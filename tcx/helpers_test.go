package tcx

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-fit/cairn"
)

// fixtureRoot returns the shared TCX fixtures folder, which lives next to
// the repository (../shared/fixtures/tcx from its root), and whether it is
// there.
func fixtureRoot() (string, bool) {
	root, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "", false
		}
		root = parent
	}
	dir := filepath.Join(root, "..", "shared", "fixtures", "tcx")
	_, err = os.Stat(dir)
	return dir, err == nil
}

// fixturePaths lists the TCX fixtures, none when the folder is missing.
func fixturePaths() []string {
	dir, ok := fixtureRoot()
	if !ok {
		return nil
	}
	entries, _ := os.ReadDir(dir)
	var paths []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tcx") || strings.HasSuffix(e.Name(), ".tcx.gz") {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	return paths
}

// fixtureDir returns the fixtures folder or skips the test when it is
// missing: a fresh clone still runs the synthetic tests.
func fixtureDir(t testing.TB) string {
	t.Helper()
	dir, ok := fixtureRoot()
	if !ok {
		t.Skipf("TCX fixtures not found (../shared/fixtures/tcx next to the repository, %q): skipping the real-file tests", dir)
	}
	return dir
}

func decodeString(t testing.TB, s string) (*cairn.DecodedFile, error) {
	t.Helper()
	return Decode(strings.NewReader(s))
}

func mustDecode(t testing.TB, s string) *cairn.DecodedFile {
	t.Helper()
	f, err := decodeString(t, s)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return f
}

// wantError checks that err is a *cairn.Error with the code and message.
func wantError(t testing.TB, err error, code, msg string) {
	t.Helper()
	var e *cairn.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *cairn.Error", err, err)
	}
	if e.Code != code || e.Message != msg {
		t.Fatalf("error %s %q, want %s %q", e.Code, e.Message, code, msg)
	}
}
