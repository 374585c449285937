package graphql_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// The real client's packages, pinned; installed outside the clone.
const (
	apolloVersion  = "3.13.8"
	graphqlVersion = "16.11.0"
)

// clientDir installs Apollo Client and graphql-js into a temporary folder
// (kept between runs) with the test's script, and returns it. Without
// node or npm the test skips, except under CI=true, where it fails.
func clientDir(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed and CI=true: the GraphQL client test must run", tool)
			}
			t.Skipf("%s is not installed: skipping the Apollo Client test (install Node 20 and npm)", tool)
		}
	}
	dir := filepath.Join(os.TempDir(), "cairn-graphql-client-apollo-"+apolloVersion+"-graphql-"+graphqlVersion)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@apollo", "client", "package.json")); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("npm", "install", "--prefix", dir, "--no-save", "--no-audit", "--no-fund", "--loglevel=error",
			"@apollo/client@"+apolloVersion, "graphql@"+graphqlVersion)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm install: %v\n%s", err, out)
		}
	}
	// Node resolves the packages from the script's own folder.
	script, err := os.ReadFile(filepath.Join("testdata", "client.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "client.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestApolloClient pages through viewer.activities with Apollo Client
// (relayStylePagination and fetchMore, then last/before), after graphql-js
// validated its queries against the introspected schema.
func TestApolloClient(t *testing.T) {
	dir := clientDir(t)
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, nil)
		u := e.user("ada@example.com")
		f := e.seed(u, 23)
		e.seed(e.user("bob@example.com"), 3) // not Ada's
		tok := e.token(u, allScopes...)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "node", filepath.Join(dir, "client.mjs"), e.srv.URL+"/graphql", tok, "5").CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		var got struct {
			Total             int
			Pages             int
			Forward, Backward []string
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("client output %q: %v", out, err)
		}
		var want []string
		for _, a := range f.activities {
			want = append(want, a.ID)
		}
		if got.Total != 23 || got.Pages != 5 {
			t.Errorf("total %d in %d pages, want 23 in 5", got.Total, got.Pages)
		}
		if !slices.Equal(got.Forward, want) {
			t.Errorf("forward through Apollo's cache:\n got %v\nwant %v", got.Forward, want)
		}
		if !slices.Equal(got.Backward, want) {
			t.Errorf("backward:\n got %v\nwant %v", got.Backward, want)
		}
	})
}
