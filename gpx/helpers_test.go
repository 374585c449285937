package gpx

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/fixtures"
)

// fixtureRoot returns the shared GPX fixtures folder and whether it is there.
func fixtureRoot() (string, bool) {
	root, ok := fixtures.Root()
	return filepath.Join(root, "gpx"), ok
}

// fixturePaths lists the GPX fixtures, none when the folder is missing.
func fixturePaths() []string { return fixtures.Paths("gpx", ".gpx", ".gpx.gz") }

// fixtureDir returns the fixtures folder or skips the test when it is missing.
func fixtureDir(t testing.TB) string {
	t.Helper()
	return fixtures.Dir(t, "gpx")
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
