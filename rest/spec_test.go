package rest_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// specOp is one operation of the embedded OpenAPI document.
type specOp struct {
	pattern string
	scopes  [][]string
}

func specOps(t *testing.T) []specOp {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string                 `json:"operationId"`
			Security    *[]map[string][]string `json:"security"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPIJSON, &doc); err != nil {
		t.Fatal(err)
	}
	var ops []specOp
	for path, methods := range doc.Paths {
		for method, op := range methods {
			o := specOp{pattern: strings.ToUpper(method) + " " + path}
			if op.Security != nil {
				for _, req := range *op.Security {
					o.scopes = append(o.scopes, req["bearer"])
				}
			}
			ops = append(ops, o)
		}
	}
	return ops
}

// TestRoutesMatchSpec fails when the server serves a route the spec lacks
// or the spec lists one the server does not serve.
func TestRoutesMatchSpec(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, "sqlite"))
	var spec []string
	for _, o := range specOps(t) {
		spec = append(spec, o.pattern)
	}
	served := e.api.Patterns()
	slices.Sort(spec)
	slices.Sort(served)
	if !slices.Equal(spec, served) {
		t.Fatalf("server routes and spec differ:\nspec:   %v\nserved: %v", spec, served)
	}
	// And each one is answered by its handler, not by the fallback.
	tok := e.token(e.user("ada@example.com"), time.Hour, cairn.KnownScopes...)
	param := regexp.MustCompile(`\{[^}]+\}`)
	for _, p := range served {
		method, path, _ := strings.Cut(p, " ")
		resp, body := e.raw(method, param.ReplaceAllString(path, "x"), tok, "{}", nil)
		if resp.StatusCode == 404 && strings.Contains(string(body), `"no route`) {
			t.Errorf("%s is not served", p)
		}
	}
	e.wantError("GET", "/v1/nothing", tok, 404, cairn.ENOTFOUND)
}

// TestScopesPerOperation sends every protected operation a token without
// any of its scopes (403) and one with each alternative (not 403).
func TestScopesPerOperation(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, "sqlite"))
	u := e.user("ada@example.com")
	// The admin scope is only honoured for users with a role that
	// administers (TestPermissionMatrix checks the roles).
	admin := e.user("root@example.com", cairn.RoleAdmin)
	param := regexp.MustCompile(`\{[^}]+\}`)
	for _, o := range specOps(t) {
		method, path, _ := strings.Cut(o.pattern, " ")
		path = param.ReplaceAllString(path, u.ID)
		if len(o.scopes) == 0 {
			if resp, _ := e.raw(method, path, "", "", nil); resp.StatusCode == 401 || resp.StatusCode == 403 {
				t.Errorf("%s is public but answers %d", o.pattern, resp.StatusCode)
			}
			continue
		}
		var granted []cairn.Scope
		for _, s := range cairn.KnownScopes {
			needed := false
			for _, alt := range o.scopes {
				needed = needed || slices.Contains(alt, string(s))
			}
			if !needed {
				granted = append(granted, s)
			}
		}
		var body errorShape
		if resp := e.doJSON(method, path, e.token(u, time.Hour, granted...), "{}", &body); resp.StatusCode != 403 {
			t.Errorf("%s without its scopes: %d %+v, want 403", o.pattern, resp.StatusCode, body)
		}
		for _, alt := range o.scopes {
			scopes := make([]cairn.Scope, len(alt))
			for i, s := range alt {
				scopes[i] = cairn.Scope(s)
			}
			who := u
			if slices.Contains(alt, string(cairn.ScopeAdmin)) {
				who = admin
			}
			if resp := e.doJSON(method, path, e.token(who, time.Hour, scopes...), "{}", nil); resp.StatusCode == 403 || resp.StatusCode == 401 {
				t.Errorf("%s with %v: %d", o.pattern, alt, resp.StatusCode)
			}
		}
		if resp := e.doJSON(method, path, "", "{}", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", o.pattern, resp.StatusCode)
		}
	}
}
