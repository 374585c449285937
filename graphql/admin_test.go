package graphql_test

import (
	"context"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/account"
	"github.com/cairn-fit/cairn/graphql"
	"github.com/cairn-fit/cairn/jobs"
	"github.com/cairn-fit/cairn/mail"
	"github.com/cairn-fit/cairn/mfa"
	"github.com/cairn-fit/cairn/rest"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/tracks"
	"github.com/riverqueue/river"
	"gocloud.dev/blob/memblob"
)

// newAdminEnv serves REST and GraphQL with the identity services, as cairn
// serve wires them: GraphQL runs the REST server's admin operations.
func newAdminEnv(t *testing.T, db *dbtest.DB) *env {
	t.Helper()
	line, _ := secrets.NewKey("test")
	keys, err := secrets.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	workers := river.NewWorkers()
	river.AddWorker(workers, &account.PurgeWorker{DB: db.DB, Bucket: bucket})
	q, err := jobs.New(db.DB, db.Pool, jobs.Config{Workers: workers}) // not started: purges stay scheduled
	if err != nil {
		t.Fatal(err)
	}
	tr := &tracks.Service{DB: db.DB, Bucket: bucket}
	api, err := rest.New(rest.Deps{Users: db, Tokens: db, Devices: db, Activities: db, Summaries: db,
		Series: db, Routes: db, Health: db, Workouts: db, Idempotency: db, Tracks: tr, Ready: db.Ping, PageCacheSize: -1,
		Accounts: &account.Service{DB: db.DB, Queue: q, Mailer: mail.Log{Log: slog.New(slog.DiscardHandler)}}, MFA: &mfa.Service{DB: db.DB, Keys: keys},
		Audit: db, OAuthClients: db})
	if err != nil {
		t.Fatal(err)
	}
	g, err := graphql.New(graphql.Deps{Users: db, Devices: db, Activities: db, Summaries: db, Series: db,
		Health: db, Workouts: db, Idempotency: db, Batch: db, Tracks: tr, Admin: api.Admin(),
		Authenticate: api.Authenticate, Scopes: api.OperationScopes()})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, p := range graphql.Paths() {
		mux.Handle(p, g.Handler())
	}
	mux.Handle("/", api.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, store: db.DB, srv: srv, tracks: tr}
}

// rest sends a REST request with a JSON body (none when empty), decodes
// the answer into out and returns the status.
func (e *env) rest(method, path, token, body string, out any) int {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && json.Unmarshal(b, out) != nil {
		e.t.Fatalf("%s %s: %d %q", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// enrollTOTP enrolls an authenticator app through REST with tok, whose
// sign-in then counts as having passed MFA for five minutes.
func (e *env) enrollTOTP(tok string) {
	e.t.Helper()
	var en struct {
		FactorID string `json:"factor_id"`
		Secret   string `json:"secret"`
	}
	if st := e.rest("POST", "/v1/me/mfa/totp", tok, `{}`, &en); st != 201 {
		e.t.Fatalf("enroll: %d", st)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(en.Secret)
	if err != nil {
		e.t.Fatal(err)
	}
	code, _ := mfa.Code(raw, time.Now(), mfa.Digits)
	if st := e.rest("POST", "/v1/me/mfa/totp/"+en.FactorID+"/confirm", tok, `{"code":"`+code+`"}`, nil); st != 200 {
		e.t.Fatalf("confirm: %d", st)
	}
}

func gid(kind, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + id))
}

// TestAdminOperations runs every admin operation through GraphQL: as an
// admin after an MFA check, as a user without the role (FORBIDDEN), as a
// role without the permission (FORBIDDEN), and the sensitive ones with a
// token whose sign-in passed no check (STEP_UP_REQUIRED); then finds each
// action in the audit log.
func TestAdminOperations(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newAdminEnv(t, db)
		admin, support := e.user("root@example.com", cairn.RoleAdmin), e.user("help@example.com", cairn.RoleSupport)
		ada, bob, carol := e.user("ada@example.com"), e.user("bob@example.com"), e.user("carol@example.com")
		adminTok, staleTok := e.token(admin, cairn.KnownScopes...), e.token(admin, cairn.KnownScopes...)
		supportTok, userTok := e.token(support, cairn.KnownScopes...), e.token(ada, cairn.KnownScopes...)
		noAdminScope := e.token(admin, allScopes...)
		e.enrollTOTP(adminTok)
		adaTok := e.token(ada, cairn.ScopeProfileRead)
		e.enrollTOTP(adaTok) // a factor for the MFA reset to remove
		client := &cairn.OAuthClient{ID: "app", Name: "app", GrantTypes: []string{cairn.GrantClientCredentials},
			Scopes: []cairn.Scope{cairn.ScopeProfileRead}, SecretHash: []byte("x")}
		if err := db.CreateOAuthClient(cairn.SystemContext(context.Background()), client); err != nil {
			t.Fatal(err)
		}
		bobsApp := &cairn.OAuthClient{ID: "bobs-app", Name: "Bob's app", GrantTypes: []string{cairn.GrantClientCredentials},
			Scopes: []cairn.Scope{cairn.ScopeProfileRead}, SecretHash: []byte("x"), OwnerID: bob.ID}
		if err := db.CreateOAuthClient(cairn.SystemContext(context.Background()), bobsApp); err != nil {
			t.Fatal(err)
		}

		type op struct {
			name, query string
			vars        map[string]any
			sensitive   bool
			support     bool // the support role may
		}
		ops := []op{
			{name: "adminUsers", query: `query($q: String) { adminUsers(query: $q) { totalCount edges { node { databaseId } } } }`,
				vars: map[string]any{"q": "bob@"}, support: true},
			{name: "auditLog", query: `{ auditLog(first: 1) { totalCount } }`, support: true},
			{name: "adminCreateUser", query: `mutation { adminCreateUser(input: {email: "New@Example.com", roles: ["support"]}) { databaseId email roles status } }`},
			{name: "adminInviteUser", query: `mutation($u: ID!) { adminInviteUser(userId: $u) }`, vars: map[string]any{"u": gid("User", bob.ID)}, support: true},
			{name: "adminResetPassword", query: `mutation($u: ID!) { adminResetPassword(userId: $u) }`, vars: map[string]any{"u": gid("User", bob.ID)},
				sensitive: true, support: true},
			{name: "adminResetMFA", query: `mutation($u: ID!) { adminResetMFA(userId: $u) }`, vars: map[string]any{"u": gid("User", ada.ID)},
				sensitive: true, support: true},
			{name: "adminFreezeUser", query: `mutation($u: ID!) { adminFreezeUser(userId: $u) { databaseId status } }`, vars: map[string]any{"u": gid("User", bob.ID)}},
			{name: "adminUnfreezeUser", query: `mutation($u: ID!) { adminUnfreezeUser(userId: $u) { databaseId status } }`, vars: map[string]any{"u": gid("User", bob.ID)}},
			{name: "adminDeleteUser", query: `mutation($u: ID!) { adminDeleteUser(userId: $u) }`, vars: map[string]any{"u": gid("User", carol.ID)}, sensitive: true},
			{name: "adminRotateOAuthClientSecret", query: `mutation { adminRotateOAuthClientSecret(clientId: "app") { clientId clientSecret previousSecretExpiresAt } }`,
				sensitive: true},
			{name: "byOwner", query: `mutation($u: ID!) { byOwner: adminRotateOAuthClientSecret(userId: $u) { clientId clientSecret } }`,
				vars: map[string]any{"u": gid("User", bob.ID)}, sensitive: true},
			{name: "adminCreateOAuthClient", query: `mutation($u: ID) { adminCreateOAuthClient(input: {name: "Bob's second", grantTypes: ["client_credentials"],
				scopes: ["export"], ownerId: $u}) { clientId clientSecret ownerId scopes public } }`,
				vars: map[string]any{"u": gid("User", bob.ID)}, sensitive: true},
		}
		results := map[string]json.RawMessage{}
		for _, o := range ops {
			// Refused before anything happens.
			e.wantError(userTok, o.query, o.vars, cairn.EFORBIDDEN)
			e.wantError(noAdminScope, o.query, o.vars, cairn.EFORBIDDEN)
			if !o.support {
				e.wantError(supportTok, o.query, o.vars, cairn.EFORBIDDEN)
			}
			if o.sensitive {
				e.wantError(staleTok, o.query, o.vars, cairn.ESTEPUPREQUIRED)
			} else if strings.HasPrefix(o.query, "query") || strings.HasPrefix(o.query, "{") {
				if r := e.post(staleTok, o.query, o.vars); len(r.Errors) > 0 {
					t.Errorf("%s needs no step-up: %+v", o.name, r.Errors)
				}
			}
			var data map[string]json.RawMessage
			e.data(adminTok, o.query, o.vars, &data)
			results[o.name] = data[o.name]
		}

		var found struct {
			TotalCount int
			Edges      []struct{ Node struct{ DatabaseID string } }
		}
		if json.Unmarshal(results["adminUsers"], &found); found.TotalCount != 1 || found.Edges[0].Node.DatabaseID != bob.ID {
			t.Errorf("adminUsers: %s", results["adminUsers"])
		}
		var created struct {
			DatabaseID, Email, Status string
			Roles                     []string
		}
		if json.Unmarshal(results["adminCreateUser"], &created); created.Email != "new@example.com" || created.Status != "active" ||
			len(created.Roles) != 1 || created.Roles[0] != "support" {
			t.Errorf("adminCreateUser: %s", results["adminCreateUser"])
		}
		for name, want := range map[string]string{"adminFreezeUser": "frozen", "adminUnfreezeUser": "active"} {
			var u struct{ DatabaseID, Status string }
			if json.Unmarshal(results[name], &u); u.DatabaseID != bob.ID || u.Status != want {
				t.Errorf("%s: %s", name, results[name])
			}
		}
		for _, name := range []string{"adminInviteUser", "adminResetPassword", "adminResetMFA", "adminDeleteUser"} {
			if string(results[name]) != "true" {
				t.Errorf("%s: %s", name, results[name])
			}
		}
		var rotated struct {
			ClientID, ClientSecret  string
			PreviousSecretExpiresAt time.Time
		}
		if json.Unmarshal(results["adminRotateOAuthClientSecret"], &rotated); rotated.ClientID != "app" || rotated.ClientSecret == "" ||
			time.Until(rotated.PreviousSecretExpiresAt) < 23*time.Hour {
			t.Errorf("rotate: %s", results["adminRotateOAuthClientSecret"])
		}
		if json.Unmarshal(results["byOwner"], &rotated); rotated.ClientID != "bobs-app" || rotated.ClientSecret == "" {
			t.Errorf("rotate Bob's client: %s", results["byOwner"])
		}
		var app struct {
			ClientID, ClientSecret, OwnerID string
			Scopes                          []string
			Public                          bool
		}
		if json.Unmarshal(results["adminCreateOAuthClient"], &app); app.ClientID == "" || !strings.HasPrefix(app.ClientSecret, "cairn_cs_") ||
			app.OwnerID != gid("User", bob.ID) || len(app.Scopes) != 1 || app.Public {
			t.Errorf("adminCreateOAuthClient: %s", results["adminCreateOAuthClient"])
		} else if c, err := db.FindOAuthClient(cairn.SystemContext(context.Background()), app.ClientID); err != nil || c.OwnerID != bob.ID {
			t.Errorf("the created client: %+v %v", c, err)
		}
		// The effects: Ada has no factor left, Carol is gone.
		if fs, err := db.MFAFactors(cairn.SystemContext(context.Background()), ada.ID); err != nil || len(fs) != 0 {
			t.Errorf("Ada's factors after the reset: %v %v", fs, err)
		}
		var gone struct{ AdminUsers struct{ TotalCount int } }
		if e.data(adminTok, `query($q: String) { adminUsers(query: $q) { totalCount } }`, map[string]any{"q": carol.ID}, &gone); gone.AdminUsers.TotalCount != 0 {
			t.Errorf("a deleted user is found: %+v", gone)
		}
		// adminCreateUser under an idempotency key replays its answer.
		const create = `mutation($k: String) { adminCreateUser(input: {email: "kim@example.com"}, idempotencyKey: $k) { databaseId roles } }`
		var k1, k2 struct {
			AdminCreateUser struct {
				DatabaseID string
				Roles      []string
			}
		}
		e.data(adminTok, create, map[string]any{"k": "k1"}, &k1)
		e.data(adminTok, create, map[string]any{"k": "k1"}, &k2)
		if k1.AdminCreateUser.DatabaseID == "" || k1.AdminCreateUser.DatabaseID != k2.AdminCreateUser.DatabaseID ||
			len(k1.AdminCreateUser.Roles) != 1 || k1.AdminCreateUser.Roles[0] != cairn.RoleUser {
			t.Errorf("replay: %+v then %+v", k1, k2)
		}
		e.wantError(adminTok, create, nil, cairn.ECONFLICT)
		// Validation comes out with its fields; a user's own MFA reset is refused.
		x := e.wantError(adminTok, `mutation { adminCreateUser(input: {email: "x@example.com", roles: ["root"]}) { databaseId } }`, nil, cairn.EVALIDATION)
		if x.Extensions.Fields["roles"] == "" {
			t.Errorf("fields: %+v", x.Extensions)
		}
		e.wantError(adminTok, `mutation($u: ID!) { adminResetMFA(userId: $u) }`, map[string]any{"u": gid("User", admin.ID)}, cairn.EVALIDATION)
		e.wantError(adminTok, `mutation($u: ID!) { adminFreezeUser(userId: $u) { status } }`, map[string]any{"u": gid("Device", bob.ID)}, cairn.EVALIDATION)

		// Every action is in the audit log, as the admin's, from the client.
		const audit = `query($a: String, $u: ID) { auditLog(action: $a, userId: $u) { totalCount edges { node { actorId userId action ip details } } } }`
		for action, target := range map[string]string{
			cairn.AuditUserCreate: created.DatabaseID, cairn.AuditUserInvite: bob.ID, cairn.AuditAdminResetPass: bob.ID,
			cairn.AuditAdminResetMFA: ada.ID, cairn.AuditUserFreeze: bob.ID, cairn.AuditUserUnfreeze: bob.ID,
			cairn.AuditUserDelete: carol.ID, cairn.AuditOAuthClientRotate: "", cairn.AuditAdminViewUserData: "",
		} {
			vars := map[string]any{"a": action}
			if target != "" {
				vars["u"] = gid("User", target)
			}
			var got struct {
				AuditLog struct {
					TotalCount int
					Edges      []struct {
						Node struct {
							ActorID, Action, IP string
							UserID              *string
						}
					}
				}
			}
			e.data(adminTok, audit, vars, &got)
			if got.AuditLog.TotalCount == 0 {
				t.Errorf("audit %s: none", action)
				continue
			}
			n := got.AuditLog.Edges[0].Node
			if n.ActorID != admin.ID || n.Action != action || n.IP != "127.0.0.1" || (target != "" && (n.UserID == nil || *n.UserID != target)) {
				t.Errorf("audit %s: %+v", action, n)
			}
		}
	})
}

// TestAdminPagesAndRESTAgree pages through users and the audit log with
// cursors, and compares both lists with REST's answers field by field.
func TestAdminPagesAndRESTAgree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newAdminEnv(t, db)
		admin := e.user("root@example.com", cairn.RoleAdmin)
		for _, n := range []string{"a", "b", "c", "d", "e"} {
			e.user(n + "@example.org")
		}
		tok := e.token(admin, cairn.KnownScopes...)

		// Users, two at a time, forward then backward.
		const page = `query($q: String, $n: Int, $after: String, $last: Int, $before: String) {
			adminUsers(query: $q, first: $n, after: $after, last: $last, before: $before) {
			totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { databaseId } } } }`
		type conn struct {
			AdminUsers struct {
				TotalCount int
				PageInfo   struct {
					HasNextPage, HasPreviousPage bool
					StartCursor, EndCursor       *string
				}
				Edges []struct{ Node struct{ DatabaseID string } }
			}
		}
		var seen []string
		vars := map[string]any{"q": "example.org", "n": 2}
		for {
			var c conn
			e.data(tok, page, vars, &c)
			if c.AdminUsers.TotalCount != 5 {
				t.Fatalf("total %d", c.AdminUsers.TotalCount)
			}
			for _, x := range c.AdminUsers.Edges {
				seen = append(seen, x.Node.DatabaseID)
			}
			if !c.AdminUsers.PageInfo.HasNextPage {
				break
			}
			vars["after"] = *c.AdminUsers.PageInfo.EndCursor
		}
		if len(seen) != 5 {
			t.Fatalf("paged %v", seen)
		}
		var back conn
		e.data(tok, page, map[string]any{"q": "example.org", "last": 2}, &back)
		if len(back.AdminUsers.Edges) != 2 || back.AdminUsers.Edges[1].Node.DatabaseID != seen[4] || !back.AdminUsers.PageInfo.HasPreviousPage {
			t.Errorf("last page: %+v", back)
		}
		// A cursor does not carry over to another search.
		e.wantError(tok, page, map[string]any{"q": "a@", "n": 2, "after": *back.AdminUsers.PageInfo.StartCursor}, cairn.EVALIDATION)

		// The same search through REST and GraphQL, then the audit log.
		var g struct{ AdminUsers map[string]any }
		e.data(tok, `{ adminUsers(query: "example", first: 50) { edges { node {
			databaseId email name locale timezone roles status createdAt updatedAt } } } }`, nil, &g)
		var r struct{ Data []any }
		if st := e.rest("GET", "/v1/admin/users?q=example&limit=50", tok, "", &r); st != 200 {
			t.Fatalf("REST search: %d", st)
		}
		c := &comparer{t: t}
		c.list("users", nodes(g.AdminUsers), r.Data)
		var ga struct{ AuditLog map[string]any }
		e.data(tok, `{ auditLog(first: 50) { edges { node { databaseId actorId userId action ip userAgent details createdAt } } } }`, nil, &ga)
		if st := e.rest("GET", "/v1/admin/audit?limit=50", tok, "", &r); st != 200 {
			t.Fatalf("REST audit: %d", st)
		}
		c.list("audit", nodes(ga.AuditLog), r.Data)
		if len(r.Data) < 2 || c.fields < 6*9+2*8 {
			t.Errorf("compared %d fields of %d audit entries", c.fields, len(r.Data))
		}
	})
}
