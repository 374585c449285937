package rest_test

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/account"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/mail"
	"github.com/cairn-fit/cairn/mfa"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/rest"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/telemetry"
	"github.com/cairn-fit/cairn/webhooks"
)

// idEnv is the API with the identity services: accounts, MFA (on a clock
// the test moves), the audit log, OAuth clients and webhooks.
type idEnv struct {
	*env
	clock *atomic.Int64 // unix nanoseconds: the MFA and database clock
}

func newIdentityEnv(t *testing.T, db *dbtest.DB) *idEnv {
	t.Helper()
	line, _ := secrets.NewKey("test")
	keys, err := secrets.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	clock := &atomic.Int64{}
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	db.Now = now
	var log syncBuffer
	logger := telemetry.NewLogger(&log, 0)
	d := deps(t, db, logger)
	limiter := ratelimit.New(nil, now)
	d.Accounts = &account.Service{DB: db.DB, Queue: d.Uploads.(*ingest.Uploads).Queue, Mailer: mail.Log{Log: logger},
		Limiter: limiter, ResetURL: "https://cairn.example/reset-password"}
	d.MFA = &mfa.Service{DB: db.DB, Keys: keys, Limiter: limiter, Now: now}
	if d.MFA.WebAuthn, err = mfa.NewWebAuthn(passkeyRP, []string{passkeyOrigin}); err != nil {
		t.Fatal(err)
	}
	d.Audit, d.OAuthClients = db, db
	wh := webhooks.New(db.DB, keys, webhooks.Config{AllowPrivate: true}, nil, nil)
	wh.Attach(d.Uploads.(*ingest.Uploads).Queue)
	d.Events, d.Webhooks, d.Consents = db, wh, db
	s, err := rest.New(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &idEnv{env: &env{t: t, db: db, srv: srv, log: &log, api: s}, clock: clock}
}

// advance moves the MFA and database clock.
func (e *idEnv) advance(d time.Duration) { e.clock.Add(int64(d)) }

func (e *idEnv) now() time.Time { return time.Unix(0, e.clock.Load()) }

// totp returns the code of secret at the clock's time plus offset steps.
func (e *idEnv) totp(secret string, offset int) string {
	e.t.Helper()
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := mfa.Code(raw, e.now().Add(time.Duration(offset)*mfa.Period), mfa.Digits)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// enroll enrolls and confirms an authenticator app through the API with
// tok (whose sign-in then counts as verified), returning its secret and
// recovery codes.
func (e *idEnv) enroll(tok string) (string, []string) {
	e.t.Helper()
	var en struct {
		FactorID string `json:"factor_id"`
		Secret   string `json:"secret"`
	}
	if resp := e.doJSON("POST", "/v1/me/mfa/totp", tok, `{"name":"phone"}`, &en); resp.StatusCode != 201 {
		e.t.Fatalf("enroll: %d", resp.StatusCode)
	}
	var done struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	if resp := e.doJSON("POST", "/v1/me/mfa/totp/"+en.FactorID+"/confirm", tok, `{"code":"`+e.totp(en.Secret, 0)+`"}`, &done); resp.StatusCode != 200 {
		e.t.Fatalf("confirm: %d", resp.StatusCode)
	}
	return en.Secret, done.RecoveryCodes
}

// TestPermissionMatrix calls every operation of the spec (so new routes
// join it) as each kind of caller and checks the status each gets.
func TestPermissionMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newIdentityEnv(t, db)
		sys := cairn.SystemContext(context.Background())
		owner, other, admin := e.user("owner@example.com"), e.user("other@example.com"), e.user("admin@example.com", cairn.RoleAdmin)
		frozen := &cairn.User{Email: "ice@example.com", Status: cairn.UserFrozen}
		if err := db.CreateUser(sys, frozen); err != nil {
			t.Fatal(err)
		}
		all := func(u *cairn.User) string { return e.token(u, time.Hour, cairn.KnownScopes...) }
		userScopes := slices.DeleteFunc(slices.Clone(cairn.KnownScopes), func(s cairn.Scope) bool { return s == cairn.ScopeAdmin })
		ownerTok, otherTok, adminTok := e.token(owner, time.Hour, userScopes...), e.token(other, time.Hour, userScopes...), all(admin)
		e.enroll(adminTok) // the admin's token passes step-up for the next five minutes
		expiredTok, frozenTok := e.token(owner, -time.Minute, cairn.KnownScopes...), all(frozen)

		// The owner's resources, named by the routes' parameters.
		ids := map[string]string{"userId": owner.ID}
		create := func(path, body, idKey string) {
			var out struct {
				ID string `json:"id"`
			}
			if resp := e.doJSON("POST", path, ownerTok, body, &out); resp.StatusCode != 201 || out.ID == "" {
				t.Fatalf("POST %s: %d", path, resp.StatusCode)
			}
			ids[idKey] = out.ID
		}
		create("/v1/users/"+owner.ID+"/devices", `{"manufacturer":"garmin","model":"fenix"}`, "deviceId")
		create("/v1/activities", `{"type":"run","start_time":"2024-05-01T07:00:00Z"}`, "activityId")
		create("/v1/users/"+owner.ID+"/workouts", `{"name":"intervals","sport":"run"}`, "workoutId")
		create("/v1/webhooks", `{"url":"https://hooks.example/x","event_types":["activity.created"]}`, "webhookId")
		client := &cairn.OAuthClient{ID: "matrix-app", Name: "matrix", GrantTypes: []string{cairn.GrantClientCredentials},
			Scopes: []cairn.Scope{cairn.ScopeProfileRead}, SecretHash: []byte("x")}
		if err := db.CreateOAuthClient(sys, client); err != nil {
			t.Fatal(err)
		}
		ids["clientId"] = client.ID

		param := regexp.MustCompile(`\{[^}]+\}`)
		ops := specOps(t)
		// Deletions last, so that the resources exist for every other route.
		slices.SortFunc(ops, func(a, b specOp) int {
			da, db := strings.HasPrefix(a.pattern, "DELETE "), strings.HasPrefix(b.pattern, "DELETE ")
			if da != db {
				if da {
					return 1
				}
				return -1
			}
			return strings.Compare(a.pattern, b.pattern)
		})
		for _, o := range ops {
			method, path, _ := strings.Cut(o.pattern, " ")
			adminOp := slices.ContainsFunc(o.scopes, func(alt []string) bool { return slices.Contains(alt, "admin") })
			me := strings.HasPrefix(path, "/v1/me/")
			owned := !me && !adminOp && param.MatchString(path)
			target := owner.ID
			if adminOp {
				// A user of its own for each admin route: freezing or deleting
				// it disturbs no other route. It registered an OAuth client
				// (for rotate-oauth-client).
				target = e.user("target-" + strings.NewReplacer("/", "-", " ", "-", "{", "", "}", "").Replace(o.pattern) + "@example.com").ID
				if err := db.CreateOAuthClient(sys, &cairn.OAuthClient{Name: "app of " + target, OwnerID: target, SecretHash: []byte("x"),
					GrantTypes: []string{cairn.GrantClientCredentials}, Scopes: []cairn.Scope{cairn.ScopeProfileRead}}); err != nil {
					t.Fatal(err)
				}
			}
			url := param.ReplaceAllStringFunc(path, func(p string) string {
				name := p[1 : len(p)-1]
				if name == "userId" {
					return target
				}
				if id, ok := ids[name]; ok {
					return id
				}
				return "x"
			})
			var wrongScope []cairn.Scope
			for _, s := range cairn.KnownScopes {
				if !slices.ContainsFunc(o.scopes, func(alt []string) bool { return slices.Contains(alt, string(s)) }) {
					wrongScope = append(wrongScope, s)
				}
			}
			type call struct {
				who, token string
				status     int    // exactly this status, or when 0:
				code       string // this error code too, if not empty
				allowed    bool   // anything but 401, 403 and 5xx (and 404 for the admin on admin routes)
			}
			var calls []call
			if len(o.scopes) == 0 {
				for _, c := range []struct{ who, tok string }{{"no token", ""}, {"expired", expiredTok}, {"owner", ownerTok}, {"frozen", frozenTok}} {
					calls = append(calls, call{who: c.who, token: c.tok, allowed: true})
				}
			} else {
				calls = []call{
					{who: "no token", status: 401, code: cairn.EUNAUTHENTICATED},
					{who: "expired token", token: expiredTok, status: 401, code: cairn.EUNAUTHENTICATED},
					{who: "wrong scope", token: e.token(owner, time.Hour, wrongScope...), status: 403, code: cairn.EFORBIDDEN},
					{who: "frozen user", token: frozenTok, status: 403, code: cairn.EFORBIDDEN},
				}
				switch {
				case adminOp:
					calls = append(calls, call{who: "other user", token: otherTok, status: 403, code: cairn.EFORBIDDEN},
						call{who: "owner", token: ownerTok, status: 403, code: cairn.EFORBIDDEN},
						call{who: "admin", token: adminTok, allowed: true})
				case owned:
					calls = append(calls, call{who: "other user", token: otherTok, status: 404, code: cairn.ENOTFOUND},
						call{who: "admin", token: adminTok, allowed: true},
						call{who: "owner", token: ownerTok, allowed: true})
				default:
					calls = append(calls, call{who: "other user", token: otherTok, allowed: true},
						call{who: "admin", token: adminTok, allowed: true},
						call{who: "owner", token: ownerTok, allowed: true})
				}
			}
			t.Run(o.pattern, func(t *testing.T) {
				for _, c := range calls {
					var body errorShape
					resp, raw := e.raw(method, url, c.token, "{}", nil)
					_ = json.Unmarshal(raw, &body)
					switch {
					case c.who == "other user" && owned && resp.StatusCode == 400 && body.Error.Code == cairn.EVALIDATION:
						// The body ("{}") is refused before the resource is looked up.
					case c.status != 0 && (resp.StatusCode != c.status || body.Error.Code != c.code):
						t.Errorf("%s %s as %s: %d %s, want %d %s", method, url, c.who, resp.StatusCode, body.Error.Code, c.status, c.code)
					case c.allowed && (resp.StatusCode == 401 || resp.StatusCode == 403 || resp.StatusCode >= 500 ||
						(adminOp && resp.StatusCode == 404)):
						t.Errorf("%s %s as %s: %d %s %s, want it let through", method, url, c.who, resp.StatusCode, body.Error.Code, body.Error.Message)
						if resp.StatusCode >= 500 {
							t.Log(e.log.String())
						}
					}
				}
			})
		}
	})
}

// TestAdminStepUpAndAudit runs the sensitive admin operations through
// step-up, checks roles, and finds the actions in the audit log.
func TestAdminStepUpAndAudit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newIdentityEnv(t, db)
		admin, support, ada := e.user("root@example.com", cairn.RoleAdmin), e.user("help@example.com", cairn.RoleSupport), e.user("ada@example.com")
		adminTok, supportTok := e.token(admin, time.Hour, cairn.KnownScopes...), e.token(support, time.Hour, cairn.KnownScopes...)

		e.wantError("DELETE", "/v1/admin/users/"+ada.ID, adminTok, 401, cairn.ESTEPUPREQUIRED)
		secret, codes := e.enroll(adminTok)
		if len(codes) == 0 {
			t.Fatal("the first factor came without recovery codes")
		}
		if resp := e.do("POST", "/v1/admin/users/"+ada.ID+"/reset-password", adminTok, nil); resp.StatusCode != 204 {
			t.Fatalf("reset password just after an MFA check: %d", resp.StatusCode)
		}
		// Five minutes on, the check is stale; a new one is fresh again.
		e.advance(mfa.StepUpWindow + time.Second)
		e.wantError("POST", "/v1/admin/users/"+ada.ID+"/mfa/reset", adminTok, 401, cairn.ESTEPUPREQUIRED)
		var verified struct {
			Method string `json:"method"`
		}
		code := e.totp(secret, 0)
		if resp := e.doJSON("POST", "/v1/me/mfa/verify", adminTok, `{"code":"`+code+`"}`, &verified); resp.StatusCode != 200 || verified.Method != "totp" {
			t.Fatalf("verify: %d %+v", resp.StatusCode, verified)
		}
		if resp := e.do("POST", "/v1/admin/users/"+ada.ID+"/mfa/reset", adminTok, nil); resp.StatusCode != 204 {
			t.Fatalf("MFA reset after step-up: %d", resp.StatusCode)
		}
		// The same code does not work twice (the one sent, not the clock's
		// code a second later, which may belong to the next step).
		e.advance(time.Second)
		var wrong errorShape
		if resp := e.doJSON("POST", "/v1/me/mfa/verify", adminTok, `{"code":"`+code+`"}`, &wrong); resp.StatusCode != 401 || wrong.Error.Code != cairn.EUNAUTHENTICATED {
			t.Errorf("a code used twice: %d %+v", resp.StatusCode, wrong)
		}
		// Recovery codes pass a check too, once each.
		if resp := e.doJSON("POST", "/v1/me/mfa/verify", adminTok, `{"code":"`+codes[0]+`","method":"recovery_code"}`, nil); resp.StatusCode != 200 {
			t.Errorf("recovery code: %d", resp.StatusCode)
		}
		if resp := e.do("DELETE", "/v1/admin/users/"+ada.ID, adminTok, nil); resp.StatusCode != 204 {
			t.Fatalf("delete after step-up: %d", resp.StatusCode)
		}
		e.wantError("GET", "/v1/users/"+ada.ID, adminTok, 404, cairn.ENOTFOUND)

		// Support helps users, but freezes and creates no one.
		bob := e.user("bob@example.com")
		e.wantError("POST", "/v1/admin/users/"+bob.ID+"/freeze", supportTok, 403, cairn.EFORBIDDEN)
		if resp := e.doJSON("POST", "/v1/admin/users", supportTok, `{"email":"new@example.com"}`, nil); resp.StatusCode != 403 {
			t.Errorf("support creating a user: %d", resp.StatusCode)
		}
		var found struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if resp := e.do("GET", "/v1/admin/users?q=BOB@", supportTok, &found); resp.StatusCode != 200 || len(found.Data) != 1 || found.Data[0].ID != bob.ID {
			t.Errorf("search by email: %d %+v", resp.StatusCode, found)
		}
		if resp := e.do("GET", "/v1/users/"+bob.ID, adminTok, nil); resp.StatusCode != 200 {
			t.Errorf("admin reading a profile: %d", resp.StatusCode)
		}
		var created struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		var bad errorShape
		if resp := e.doJSON("POST", "/v1/admin/users", adminTok, `{"email":"root@example.com","roles":["root"]}`, &bad); resp.StatusCode != 400 ||
			bad.Error.Fields["roles"] == "" {
			t.Errorf("create with an unknown role: %d %+v", resp.StatusCode, bad)
		}
		if resp := e.doJSON("POST", "/v1/admin/users", adminTok, `{"email":"New@Example.com","roles":["support"]}`, &created); resp.StatusCode != 201 || created.Status != "active" {
			t.Fatalf("create: %d %+v", resp.StatusCode, created)
		}
		if resp := e.do("POST", "/v1/admin/users/"+created.ID+"/invite", supportTok, nil); resp.StatusCode != 204 {
			t.Errorf("invite: %d", resp.StatusCode)
		}
		if resp := e.do("POST", "/v1/admin/users/"+bob.ID+"/freeze", adminTok, nil); resp.StatusCode != 200 {
			t.Errorf("freeze: %d", resp.StatusCode)
		}

		type entry struct {
			ID      string `json:"id"`
			ActorID string `json:"actor_id"`
			UserID  string `json:"user_id"`
			Action  string `json:"action"`
			IP      string `json:"ip"`
		}
		var page struct {
			Data       []entry `json:"data"`
			NextCursor *string `json:"next_cursor"`
			Total      int     `json:"total"`
		}
		for action, want := range map[string]entry{
			cairn.AuditUserDelete:        {ActorID: admin.ID, UserID: ada.ID},
			cairn.AuditAdminResetPass:    {ActorID: admin.ID, UserID: ada.ID},
			cairn.AuditAdminResetMFA:     {ActorID: admin.ID, UserID: ada.ID},
			cairn.AuditUserFreeze:        {ActorID: admin.ID, UserID: bob.ID},
			cairn.AuditUserCreate:        {ActorID: admin.ID, UserID: created.ID},
			cairn.AuditUserInvite:        {ActorID: support.ID, UserID: created.ID},
			cairn.AuditAdminViewUserData: {ActorID: admin.ID, UserID: bob.ID},
			cairn.AuditMFAEnroll:         {ActorID: admin.ID, UserID: admin.ID},
			cairn.AuditMFAVerify:         {ActorID: admin.ID, UserID: admin.ID},
		} {
			page.Data = nil
			if resp := e.do("GET", "/v1/admin/audit?action="+action+"&user_id="+want.UserID, adminTok, &page); resp.StatusCode != 200 || len(page.Data) == 0 {
				t.Errorf("audit %s: %d %+v", action, resp.StatusCode, page)
				continue
			}
			if got := page.Data[0]; got.ActorID != want.ActorID || got.IP != "127.0.0.1" {
				t.Errorf("audit %s: %+v, want actor %s from 127.0.0.1", action, got, want.ActorID)
			}
		}
		// Pages follow each other under the filter.
		if resp := e.do("GET", "/v1/admin/audit?actor_id="+admin.ID+"&limit=2", adminTok, &page); resp.StatusCode != 200 || len(page.Data) != 2 || page.NextCursor == nil || page.Total < 5 {
			t.Fatalf("audit page: %d %+v", resp.StatusCode, page)
		}
		first := slices.Clone(page.Data)
		if resp := e.do("GET", "/v1/admin/audit?actor_id="+admin.ID+"&limit=2&cursor="+*page.NextCursor, adminTok, &page); resp.StatusCode != 200 || len(page.Data) == 0 || page.Data[0].ID == first[0].ID || page.Data[0].ID == first[1].ID {
			t.Errorf("second audit page: %d %+v", resp.StatusCode, page)
		}
		e.wantError("GET", "/v1/admin/audit", supportTok+"x", 401, cairn.EUNAUTHENTICATED)
	})
}

// TestMFAGuessingIsLimited shows the rate limit engage on MFA checks
// through HTTP: 429 RATE_LIMITED with Retry-After.
func TestMFAGuessingIsLimited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newIdentityEnv(t, db)
		tok := e.token(e.user("ada@example.com"), time.Hour, cairn.ScopeProfileRead)
		e.enroll(tok)
		for i := range 10 {
			var body errorShape
			resp, raw := e.raw("POST", "/v1/me/mfa/verify", tok, `{"code":"000000"}`, nil)
			_ = json.Unmarshal(raw, &body)
			if resp.StatusCode == 429 {
				if body.Error.Code != cairn.ERATELIMITED || resp.Header.Get("Retry-After") == "" {
					t.Fatalf("429 without its code or Retry-After: %+v %v", body, resp.Header)
				}
				if i < 3 {
					t.Fatalf("limited after %d guesses: the free failures are gone", i)
				}
				return
			}
			if resp.StatusCode != 401 || body.Error.Code != cairn.EUNAUTHENTICATED {
				t.Fatalf("guess %d: %d %+v", i, resp.StatusCode, body)
			}
		}
		t.Fatal("ten wrong codes in a row were never limited")
	})
}

// TestRotateUserOAuthClient: an admin rotates the client a user
// registered, named or (when the user has one) found; another user's
// client, a public one, a user without clients are 404; several without a
// name are 400; the action needs a recent MFA check and is audited
// against the user.
func TestRotateUserOAuthClient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newIdentityEnv(t, db)
		admin := e.user("root@example.com", cairn.RoleAdmin)
		tok := e.token(admin, time.Hour, cairn.KnownScopes...)
		e.enroll(tok)
		bob, carol := e.user("bob@example.com"), e.user("carol@example.com")
		sys := cairn.SystemContext(context.Background())
		for _, c := range []struct {
			id, owner string
			public    bool
		}{{"b1", bob.ID, false}, {"c1", carol.ID, false}, {"c2", carol.ID, false}, {"cp", carol.ID, true}, {"x", "", false}} {
			cl := &cairn.OAuthClient{ID: c.id, Name: c.id, GrantTypes: []string{cairn.GrantAuthorizationCode},
				Scopes: []cairn.Scope{cairn.ScopeProfileRead}, RedirectURIs: []string{"https://app.example/cb"},
				Public: c.public, OwnerID: c.owner}
			if !c.public {
				cl.SecretHash = []byte("old-" + c.id)
			}
			if err := db.CreateOAuthClient(sys, cl); err != nil {
				t.Fatal(err)
			}
		}
		rotate := func(userID, body string, status int, code string) string {
			t.Helper()
			var out struct {
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret"`
				Error        struct{ Code string }
			}
			resp := e.doJSON("POST", "/v1/admin/users/"+userID+"/rotate-oauth-client", tok, body, &out)
			if resp.StatusCode != status || out.Error.Code != code || (status == 200 && out.ClientSecret == "") {
				t.Fatalf("rotate %s %s: %d %+v, want %d %s", userID, body, resp.StatusCode, out, status, code)
			}
			return out.ClientID
		}
		if id := rotate(bob.ID, "{}", 200, ""); id != "b1" {
			t.Errorf("Bob's one client: rotated %q", id)
		}
		rotate(carol.ID, "{}", 400, cairn.EVALIDATION) // two confidential clients: which?
		if id := rotate(carol.ID, `{"client_id":"c2"}`, 200, ""); id != "c2" {
			t.Errorf("Carol's named client: rotated %q", id)
		}
		rotate(carol.ID, `{"client_id":"b1"}`, 404, cairn.ENOTFOUND) // Bob's
		rotate(carol.ID, `{"client_id":"cp"}`, 404, cairn.ENOTFOUND) // public: no secret
		rotate(admin.ID, "{}", 404, cairn.ENOTFOUND)                 // owns none
		rotate("no-such-user", "{}", 404, cairn.ENOTFOUND)
		for id, rotated := range map[string]bool{"b1": true, "c1": false, "c2": true, "x": false} {
			c, err := db.FindOAuthClient(sys, id)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(c.SecretHash) != "old-"+id; got != rotated {
				t.Errorf("client %s rotated: %v, want %v", id, got, rotated)
			}
		}
		page, err := db.SearchAudit(sys, cairn.AuditFilter{UserID: carol.ID, Action: cairn.AuditOAuthClientRotate})
		if err != nil || len(page.Data) != 1 || page.Data[0].ActorID != admin.ID {
			t.Errorf("audit of Carol's rotation: %+v %v", page, err)
		}
		e.advance(6 * time.Minute)
		rotate(bob.ID, "{}", 401, cairn.ESTEPUPREQUIRED)
	})
}

// TestAdminCreateOAuthClient: an admin registers clients over the API as
// the CLI does: a confidential one answers its secret once (stored as a
// hash), a public one none; bad registrations are 400, an unknown owner
// 404; support may not; the action needs a recent MFA check and is
// audited.
func TestAdminCreateOAuthClient(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newIdentityEnv(t, db)
		admin, support := e.user("root@example.com", cairn.RoleAdmin), e.user("help@example.com", cairn.RoleSupport)
		tok, supportTok := e.token(admin, time.Hour, cairn.KnownScopes...), e.token(support, time.Hour, cairn.KnownScopes...)
		e.enroll(tok)
		e.enroll(supportTok)
		dev := e.user("dev@example.com")
		type created struct {
			ClientID     string   `json:"client_id"`
			ClientSecret string   `json:"client_secret"`
			OwnerID      string   `json:"owner_id"`
			Scopes       []string `json:"scopes"`
			Public       bool     `json:"public"`
			Error        struct{ Code string }
		}
		create := func(token, body string, status int, code string) created {
			t.Helper()
			var out created
			if resp := e.doJSON("POST", "/v1/admin/oauth-clients", token, body, &out); resp.StatusCode != status || out.Error.Code != code {
				t.Fatalf("create %s: %d %+v, want %d %s", body, resp.StatusCode, out, status, code)
			}
			return out
		}
		svc := create(tok, `{"name":"Exporter","grant_types":["client_credentials"],"scopes":["export","profile:read"],"owner_id":"`+dev.ID+`"}`, 201, "")
		if !strings.HasPrefix(svc.ClientSecret, "cairn_cs_") || svc.OwnerID != dev.ID || len(svc.Scopes) != 2 {
			t.Fatalf("confidential client: %+v", svc)
		}
		sys := cairn.SystemContext(context.Background())
		stored, err := db.FindOAuthClient(sys, svc.ClientID)
		if err != nil || len(stored.SecretHash) == 0 || strings.Contains(string(stored.SecretHash), svc.ClientSecret) || stored.OwnerID != dev.ID {
			t.Fatalf("stored %+v, %v", stored, err)
		}
		app := create(tok, `{"name":"Phone","public":true,"grant_types":["authorization_code"],"scopes":["profile:read"],"redirect_uris":["http://127.0.0.1:9/cb"]}`, 201, "")
		if !app.Public || app.ClientSecret != "" {
			t.Errorf("public client: %+v", app)
		}
		create(tok, `{"name":"Bad","grant_types":["authorization_code"],"scopes":["admin"],"redirect_uris":["https://a.example/cb"]}`, 400, cairn.EVALIDATION)
		create(tok, `{"name":"NoURI","grant_types":["authorization_code"],"scopes":["profile:read"]}`, 400, cairn.EVALIDATION)
		create(tok, `{"name":"Who","grant_types":["client_credentials"],"scopes":["export"],"owner_id":"no-such-user"}`, 404, cairn.ENOTFOUND)
		create(supportTok, `{"name":"S","grant_types":["client_credentials"],"scopes":["export"]}`, 403, cairn.EFORBIDDEN)
		page, err := db.SearchAudit(sys, cairn.AuditFilter{UserID: dev.ID, Action: cairn.AuditOAuthClientCreate})
		if err != nil || len(page.Data) != 1 || page.Data[0].ActorID != admin.ID {
			t.Errorf("audit of the creation: %+v %v", page, err)
		}
		e.advance(6 * time.Minute)
		create(tok, `{"name":"Late","grant_types":["client_credentials"],"scopes":["export"]}`, 401, cairn.ESTEPUPREQUIRED)
	})
}
