package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/argon2id"
	"github.com/cairn-fit/cairn/oauth"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// End-to-end: the real server over HTTP on a real database (SQLite and
// PostgreSQL), golang.org/x/oauth2 as the client, and a cookie-jar
// "browser" that submits the sign-in, consent and device forms.

const password = "correct horse battery staple"

var sys = cairn.SystemContext(context.Background())

// clock is the server's clock for sessions, device grants and rate
// limits; tests move it instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	t      *testing.T
	db     *dbtest.DB
	auth   *oauth.Server
	iss    string
	clock  *clock
	ada    *cairn.User
	bob    *cairn.User
	secure bool
}

func newEnv(t *testing.T, db *dbtest.DB) *env { return newEnvWith(t, db, nil) }

// newEnvWith lets configure change the server's configuration first.
func newEnvWith(t *testing.T, db *dbtest.DB, configure func(*oauth.Config)) *env {
	t.Helper()
	e := &env{t: t, db: db, clock: &clock{t: time.Now()}}
	e.ada = e.user("ada@example.com", cairn.RoleUser)
	e.bob = e.user("bob@example.com", cairn.RoleUser)
	srv := httptest.NewUnstartedServer(nil)
	e.iss = "http://" + srv.Listener.Addr().String()
	c := oauth.Config{Issuer: e.iss, Secret: []byte("0123456789abcdef0123456789abcdef"),
		Store: db, Users: db, Audit: db, Limiter: ratelimit.New(nil, e.clock.Now), Now: e.clock.Now, DeviceInterval: time.Second}
	if configure != nil {
		configure(&c)
	}
	auth, err := oauth.New(c)
	if err != nil {
		t.Fatal(err)
	}
	e.auth = auth
	srv.Config.Handler = auth.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return e
}

func (e *env) user(email, role string) *cairn.User {
	e.t.Helper()
	// Cheap parameters: Verify reads them from the hash.
	h, err := argon2id.Hash(password, argon2id.Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32})
	if err != nil {
		e.t.Fatal(err)
	}
	u := &cairn.User{Email: email, Name: email, Roles: []string{role}, PasswordHash: h}
	if err := e.db.CreateUser(sys, u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// client registers a client; secret is "" for public clients.
func (e *env) client(c *cairn.OAuthClient) (id, secret string) {
	e.t.Helper()
	if !c.Public {
		secret, c.SecretHash = oauth.NewClientSecret()
	}
	if c.Name == "" {
		c.Name = "Test App"
	}
	if err := e.db.CreateOAuthClient(sys, c); err != nil {
		e.t.Fatal(err)
	}
	return c.ID, secret
}

const callback = "http://127.0.0.1:9999/callback"

// publicApp registers a public client for the code and device grants.
func (e *env) publicApp(scopes ...cairn.Scope) *oauth2.Config {
	id, _ := e.client(&cairn.OAuthClient{Name: "Phone App", Public: true, RedirectURIs: []string{callback},
		GrantTypes: []string{cairn.GrantAuthorizationCode, cairn.GrantRefreshToken, cairn.GrantDeviceCode}, Scopes: scopes})
	return &oauth2.Config{ClientID: id, RedirectURL: callback, Endpoint: e.endpoint()}
}

func (e *env) endpoint() oauth2.Endpoint {
	return oauth2.Endpoint{AuthURL: e.iss + "/oauth/authorize", TokenURL: e.iss + "/oauth/token",
		DeviceAuthURL: e.iss + "/oauth/device/code", AuthStyle: oauth2.AuthStyleInParams}
}

// browser keeps cookies and stops at the client's callback.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), callback) {
			return http.ErrUseLastResponse
		}
		return nil
	}}}
}

func (b *browser) do(method, u string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodGet {
		resp, err = b.c.Get(u)
	} else {
		resp, err = b.c.PostForm(u, form)
	}
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// fields returns a page's hidden form fields.
func fields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		v.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	return v
}

// signIn submits the sign-in page the browser was sent to.
func (b *browser) signIn(e *env, page *http.Response, body, email string) (*http.Response, string) {
	b.t.Helper()
	if page.Request.URL.Path != "/login" || !strings.Contains(body, `name="password"`) {
		b.t.Fatalf("expected the sign-in page, got %s %d: %.300s", page.Request.URL, page.StatusCode, body)
	}
	f := fields(body)
	f.Set("email", email)
	f.Set("password", password)
	return b.do(http.MethodPost, e.iss+"/login", f)
}

// authorize runs the browser side of the code flow up to the redirect
// back to the client, returning the callback's query.
func (e *env) authorize(b *browser, authURL, email string) url.Values {
	e.t.Helper()
	resp, body := b.do(http.MethodGet, authURL, nil)
	if resp.Request.URL.Path == "/login" {
		resp, body = b.signIn(e, resp, body, email)
	}
	if resp.StatusCode != 200 || !strings.Contains(body, "asks to:") {
		e.t.Fatalf("expected the consent page, got %d: %.500s", resp.StatusCode, body)
	}
	f := fields(body)
	f.Set("decision", "allow")
	return b.callback(http.MethodPost, e.iss+"/oauth/authorize", f)
}

// callback does a request that must redirect to the client's callback,
// and returns the callback's query.
func (b *browser) callback(method, u string, form url.Values) url.Values {
	t := b.t
	t.Helper()
	resp, body := b.do(method, u, form)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, callback) {
		t.Fatalf("expected a redirect to the callback, got %d %q: %.300s", resp.StatusCode, loc, body)
	}
	cb, _ := url.Parse(loc)
	return cb.Query()
}

// codeFlow runs a full authorization code flow with PKCE and returns the token.
func (e *env) codeFlow(b *browser, conf *oauth2.Config, email string) *oauth2.Token {
	e.t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := e.authorize(b, conf.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier)), email)
	if q.Get("state") != "state-1234567890" || q.Get("code") == "" {
		e.t.Fatalf("callback %v", q)
	}
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	return tok
}

func (e *env) actor(token string) (cairn.Actor, error) {
	return e.auth.Introspect(context.Background(), token)
}

func retrieveCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

func TestAuthorizationCodePKCE(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		conf := e.publicApp(cairn.ScopeProfileRead, cairn.ScopeActivityRead, cairn.ScopeOfflineAccess)
		conf.Scopes = []string{"profile:read", "activity:read"}
		b := newBrowser(t)

		// Signed out, the authorization request leads to the sign-in page; a
		// wrong password is refused there.
		verifier := oauth2.GenerateVerifier()
		authURL := conf.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier))
		resp, body := b.do(http.MethodGet, authURL, nil)
		f := fields(body)
		f.Set("email", "ada@example.com")
		f.Set("password", "wrong")
		if r, body := b.do(http.MethodPost, e.iss+"/login", f); r.StatusCode != 401 || !strings.Contains(body, "wrong") {
			t.Fatalf("wrong password: %d %.200s", r.StatusCode, body)
		}
		// Without the CSRF token the form is refused.
		f.Set("password", password)
		f.Del("csrf")
		if r, _ := b.do(http.MethodPost, e.iss+"/login", f); r.StatusCode != 403 {
			t.Fatalf("sign-in without CSRF token: %d", r.StatusCode)
		}
		resp, body = b.signIn(e, resp, body, "ada@example.com")
		// The consent page lists exactly the requested scopes.
		for _, want := range []string{"Phone App", "profile:read", "activity:read"} {
			if !strings.Contains(body, want) {
				t.Errorf("consent page lacks %q", want)
			}
		}
		if strings.Contains(body, "offline_access") || strings.Contains(body, "activity:write") {
			t.Error("consent page lists scopes that were not requested")
		}
		f = fields(body)
		f.Set("decision", "allow")
		noCSRF := url.Values{}
		for k, v := range f {
			if k != "csrf" {
				noCSRF[k] = v
			}
		}
		if r, _ := b.do(http.MethodPost, e.iss+"/oauth/authorize", noCSRF); r.StatusCode != 403 {
			t.Fatalf("consent without CSRF token: %d", r.StatusCode)
		}
		q := b.callback(http.MethodPost, e.iss+"/oauth/authorize", f)
		if q.Get("state") != "state-1234567890" || !strings.HasPrefix(q.Get("code"), "cairn_ac_") {
			t.Fatalf("callback %v", q)
		}
		// A wrong verifier fails, and burns the code: the right verifier
		// cannot use it after.
		if _, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); retrieveCode(err) != "invalid_grant" {
			t.Fatalf("exchange with a wrong verifier: %v", err)
		}
		if _, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier)); retrieveCode(err) != "invalid_grant" {
			t.Fatalf("exchange after a wrong verifier: %v", err)
		}
		// Signed in now: the next authorization goes straight to consent.
		verifier = oauth2.GenerateVerifier()
		q = e.authorize(b, conf.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier)), "ada@example.com")
		tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok.AccessToken, oauth.AccessTokenPrefix) || tok.RefreshToken != "" {
			t.Errorf("token %q, refresh %q: want an access token and no refresh token without offline_access", tok.AccessToken, tok.RefreshToken)
		}
		if d := time.Until(tok.Expiry); d <= 0 || d > 15*time.Minute {
			t.Errorf("access token lives %v, want at most 15 minutes", d)
		}
		if tok.Extra("scope") != "profile:read activity:read" {
			t.Errorf("granted scope %q", tok.Extra("scope"))
		}
		a, err := e.actor(tok.AccessToken)
		if err != nil || a.UserID != e.ada.ID || a.Admin || !a.Has(cairn.ScopeActivityRead) || a.Has(cairn.ScopeActivityWrite) {
			t.Fatalf("actor %+v, %v", a, err)
		}
		// The code works once; using it again revokes what it issued.
		if _, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier)); retrieveCode(err) != "invalid_grant" {
			t.Fatalf("second exchange: %v", err)
		}
		if _, err := e.actor(tok.AccessToken); cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED {
			t.Fatalf("token of a reused code still works: %v", err)
		}
		if _, err := e.actor("cairn_at_nonsense.nonsense"); cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED {
			t.Fatalf("nonsense token: %v", err)
		}
		// The sign-ins, failed and not, and the issued token are audited.
		for _, action := range []string{cairn.AuditLoginFailure, cairn.AuditLoginSuccess, cairn.AuditTokenIssue} {
			page, err := e.db.SearchAudit(cairn.SystemContext(context.Background()), cairn.AuditFilter{UserID: e.ada.ID, Action: action})
			if err != nil || len(page.Data) == 0 || page.Data[0].IP == "" {
				t.Errorf("audit of %s: %+v, %v", action, page, err)
			}
		}
	})
}

func TestAuthorizeRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		conf := e.publicApp(cairn.ScopeActivityRead)
		conf.Scopes = []string{"activity:read"}
		b := newBrowser(t)
		e.codeFlow(b, conf, "ada@example.com") // signs in

		authURL := func(opts ...oauth2.AuthCodeOption) string { return conf.AuthCodeURL("state-1234567890", opts...) }
		// A public client must use PKCE, with S256.
		if q := b.callback(http.MethodGet, authURL(), nil); q.Get("error") != "invalid_request" {
			t.Errorf("without PKCE: %v", q)
		}
		plain := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("code_challenge_method", "plain")}
		if q := b.callback(http.MethodGet, authURL(plain...), nil); q.Get("error") != "invalid_request" {
			t.Errorf("plain PKCE: %v", q)
		}
		// Scopes beyond the registration are refused.
		wide := *conf
		wide.Scopes = []string{"activity:read", "activity:write"}
		if q := b.callback(http.MethodGet, wide.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption("v")), nil); q.Get("error") != "invalid_scope" {
			t.Errorf("unregistered scope: %v", q)
		}
		// The redirect URI must match exactly: another port of the same
		// loopback address is not it, and nothing redirects there.
		other := *conf
		other.RedirectURL = "http://127.0.0.1:9998/callback"
		resp, _ := b.do(http.MethodGet, other.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption("v")), nil)
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
			t.Errorf("unregistered redirect URI: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		// Denying consent sends access_denied back.
		_, body := b.do(http.MethodGet, authURL(oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil)
		f := fields(body)
		f.Set("decision", "deny")
		if q := b.callback(http.MethodPost, e.iss+"/oauth/authorize", f); q.Get("error") != "access_denied" || q.Get("code") != "" {
			t.Errorf("denied: %v", q)
		}
		// A client without the code grant cannot start it.
		id, _ := e.client(&cairn.OAuthClient{GrantTypes: []string{cairn.GrantClientCredentials}, Scopes: []cairn.Scope{cairn.ScopeExport}})
		svc := *conf
		svc.ClientID = id
		if resp, _ := b.do(http.MethodGet, svc.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption("v")), nil); resp.StatusCode != 400 {
			t.Errorf("client without the code grant: %d", resp.StatusCode)
		}
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		conf := e.publicApp(cairn.ScopeActivityRead, cairn.ScopeOfflineAccess)
		conf.Scopes = []string{"activity:read", "offline_access"}
		ctx := context.Background()
		t1 := e.codeFlow(newBrowser(t), conf, "ada@example.com")
		other := e.codeFlow(newBrowser(t), conf, "bob@example.com") // another family
		if !strings.HasPrefix(t1.RefreshToken, oauth.RefreshTokenPrefix) {
			t.Fatalf("no refresh token with offline_access: %+v", t1)
		}
		refresh := func(rt string) (*oauth2.Token, error) {
			return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
		}
		// Refreshing rotates: a new refresh token, a new access token, and
		// the old access token is gone.
		t2, err := refresh(t1.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if t2.RefreshToken == "" || t2.RefreshToken == t1.RefreshToken || t2.AccessToken == t1.AccessToken {
			t.Fatalf("not rotated: %+v", t2)
		}
		if a, err := e.actor(t2.AccessToken); err != nil || a.UserID != e.ada.ID {
			t.Fatalf("refreshed token: %+v %v", a, err)
		}
		if _, err := e.actor(t1.AccessToken); err == nil {
			t.Error("the access token before the refresh still works")
		}
		t3, err := refresh(t2.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		// Reusing a spent refresh token fails and revokes the whole family.
		if _, err := refresh(t1.RefreshToken); retrieveCode(err) != "invalid_grant" {
			t.Fatalf("reuse: %v", err)
		}
		if _, err := e.actor(t3.AccessToken); cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED {
			t.Errorf("the family's access token survived a reuse: %v", err)
		}
		if _, err := refresh(t3.RefreshToken); retrieveCode(err) != "invalid_grant" {
			t.Errorf("the family's newest refresh token survived a reuse: %v", err)
		}
		// Another family is untouched.
		if a, err := e.actor(other.AccessToken); err != nil || a.UserID != e.bob.ID {
			t.Errorf("another family: %+v %v", a, err)
		}
		if _, err := refresh(other.RefreshToken); err != nil {
			t.Errorf("another family's refresh: %v", err)
		}
	})
}

func TestClientCredentials(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		id, secret := e.client(&cairn.OAuthClient{Name: "Exporter", GrantTypes: []string{cairn.GrantClientCredentials},
			Scopes: []cairn.Scope{cairn.ScopeExport, cairn.ScopeWebhooksManage}})
		cc := &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.iss + "/oauth/token", Scopes: []string{"export"}}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tok.RefreshToken != "" || time.Until(tok.Expiry) > 15*time.Minute {
			t.Errorf("token %+v", tok)
		}
		// The client acts as itself: no user, only the scopes it asked for.
		a, err := e.actor(tok.AccessToken)
		if err != nil || a.UserID != "" || a.Admin || !a.Has(cairn.ScopeExport) || a.Has(cairn.ScopeWebhooksManage) {
			t.Fatalf("actor %+v, %v", a, err)
		}
		if a.CanReach(e.ada.ID) {
			t.Error("a client-credentials token reaches a user's rows")
		}
		bad := *cc
		bad.ClientSecret = "wrong"
		if _, err := bad.Token(ctx); retrieveCode(err) != "invalid_client" {
			t.Errorf("wrong secret: %v", err)
		}
		wide := *cc
		wide.Scopes = []string{"activity:read"}
		if _, err := wide.Token(ctx); retrieveCode(err) != "invalid_scope" {
			t.Errorf("unregistered scope: %v", err)
		}
		// Only an operator-registered service client holds admin.
		adminID, adminSecret := e.client(&cairn.OAuthClient{GrantTypes: []string{cairn.GrantClientCredentials}, Scopes: []cairn.Scope{cairn.ScopeAdmin}})
		at, err := (&clientcredentials.Config{ClientID: adminID, ClientSecret: adminSecret, TokenURL: cc.TokenURL, Scopes: []string{"admin"}}).Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if a, err := e.actor(at.AccessToken); err != nil || !a.Admin {
			t.Errorf("admin service client: %+v %v", a, err)
		}

		// Rotation: both secrets work during the grace period, then only
		// the new one.
		newSecret, hash := oauth.NewClientSecret()
		if _, err := db.RotateOAuthClientSecret(sys, id, hash, e.clock.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		rotated := *cc
		rotated.ClientSecret = newSecret
		if _, err := rotated.Token(ctx); err != nil {
			t.Errorf("new secret: %v", err)
		}
		if _, err := cc.Token(ctx); err != nil {
			t.Errorf("old secret in its grace period: %v", err)
		}
		e.clock.Advance(time.Hour + time.Second)
		if _, err := cc.Token(ctx); retrieveCode(err) != "invalid_client" {
			t.Errorf("old secret after the grace period: %v", err)
		}
		if _, err := rotated.Token(ctx); err != nil {
			t.Errorf("new secret after the grace period: %v", err)
		}
	})
}

// postForm posts to an OAuth endpoint, optionally as a client with HTTP Basic.
func postForm(t *testing.T, u string, form url.Values, id, secret string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestIntrospectionAndRevocation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		reg := func() (*clientcredentials.Config, string) {
			id, secret := e.client(&cairn.OAuthClient{GrantTypes: []string{cairn.GrantClientCredentials}, Scopes: []cairn.Scope{cairn.ScopeExport}})
			cc := &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.iss + "/oauth/token", Scopes: []string{"export"}}
			tok, err := cc.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return cc, tok.AccessToken
		}
		a, aTok := reg()
		b, bTok := reg()
		status, out := postForm(t, e.iss+"/oauth/introspect", url.Values{"token": {aTok}}, a.ClientID, a.ClientSecret)
		if status != 200 || out["active"] != true || out["client_id"] != a.ClientID || out["scope"] != "export" {
			t.Fatalf("introspect own token: %d %v", status, out)
		}
		// Another client's token is inactive to this client.
		if status, out := postForm(t, e.iss+"/oauth/introspect", url.Values{"token": {bTok}}, a.ClientID, a.ClientSecret); status != 200 || out["active"] != false {
			t.Errorf("introspect another client's token: %d %v", status, out)
		}
		if status, _ := postForm(t, e.iss+"/oauth/introspect", url.Values{"token": {aTok}}, a.ClientID, "wrong"); status != 401 {
			t.Errorf("introspect with a wrong secret: %d", status)
		}
		// Revocation: a client cannot revoke another's token; its own goes.
		postForm(t, e.iss+"/oauth/revoke", url.Values{"token": {aTok}}, b.ClientID, b.ClientSecret)
		if _, err := e.actor(aTok); err != nil {
			t.Errorf("another client revoked a token: %v", err)
		}
		if status, _ := postForm(t, e.iss+"/oauth/revoke", url.Values{"token": {aTok}, "token_type_hint": {"access_token"}}, a.ClientID, a.ClientSecret); status != 200 {
			t.Errorf("revoke: %d", status)
		}
		if _, err := e.actor(aTok); cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED {
			t.Errorf("revoked token still works: %v", err)
		}
		if status, out := postForm(t, e.iss+"/oauth/introspect", url.Values{"token": {aTok}}, a.ClientID, a.ClientSecret); status != 200 || out["active"] != false {
			t.Errorf("introspect a revoked token: %d %v", status, out)
		}
	})
}

// poll asks once for the device's token, as a device does.
func poll(t *testing.T, e *env, clientID, deviceCode string) (int, string) {
	t.Helper()
	status, out := postForm(t, e.iss+"/oauth/token", url.Values{"grant_type": {cairn.GrantDeviceCode},
		"client_id": {clientID}, "device_code": {deviceCode}}, "", "")
	code, _ := out["error"].(string)
	return status, code
}

func TestDeviceFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		conf := e.publicApp(cairn.ScopeActivityRead, cairn.ScopeHealthRead, cairn.ScopeOfflineAccess)
		conf.Scopes = []string{"activity:read", "offline_access"}
		da, err := conf.DeviceAuth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}$`).MatchString(da.UserCode) ||
			da.VerificationURI != e.iss+"/oauth/device" || da.Interval != 1 || !strings.HasPrefix(da.DeviceCode, oauth.DeviceCodePrefix) {
			t.Fatalf("device authorization %+v", da)
		}
		// Before the user acts: pending; polling faster than the interval:
		// slow_down, and the interval grows by five seconds.
		if status, code := poll(t, e, conf.ClientID, da.DeviceCode); status != 400 || code != "authorization_pending" {
			t.Fatalf("first poll: %d %s", status, code)
		}
		if _, code := poll(t, e, conf.ClientID, da.DeviceCode); code != "slow_down" {
			t.Fatalf("immediate second poll: %s", code)
		}
		e.clock.Advance(5 * time.Second) // the old interval is not enough any more
		if _, code := poll(t, e, conf.ClientID, da.DeviceCode); code != "slow_down" {
			t.Fatalf("poll after the old interval: %s", code)
		}
		e.clock.Advance(11 * time.Second)
		if _, code := poll(t, e, conf.ClientID, da.DeviceCode); code != "authorization_pending" {
			t.Fatalf("poll after the longer interval: %s", code)
		}
		if _, code := poll(t, e, "another-client", da.DeviceCode); code != "invalid_client" {
			t.Errorf("another client polls: %s", code)
		}

		// The user signs in at the verification URI, sees the code and the
		// scopes, and approves.
		b := newBrowser(t)
		resp, body := b.do(http.MethodGet, da.VerificationURIComplete, nil)
		resp, body = b.signIn(e, resp, body, "ada@example.com")
		if resp.Request.URL.Path != "/oauth/device" || !strings.Contains(body, da.UserCode) {
			t.Fatalf("device page: %s %.300s", resp.Request.URL, body)
		}
		f := fields(body)
		f.Set("user_code", "bcdf ghjk") // a wrong code
		if resp, body := b.do(http.MethodPost, e.iss+"/oauth/device", f); resp.StatusCode != 400 || !strings.Contains(body, "unknown") {
			t.Fatalf("wrong user code: %d", resp.StatusCode)
		}
		f.Set("user_code", strings.ToLower(da.UserCode)) // typed loosely
		resp, body = b.do(http.MethodPost, e.iss+"/oauth/device", f)
		if resp.StatusCode != 200 || !strings.Contains(body, "Phone App") || !strings.Contains(body, "activity:read") ||
			!strings.Contains(body, "offline_access") || strings.Contains(body, "health:read") {
			t.Fatalf("device consent page: %d %.500s", resp.StatusCode, body)
		}
		f = fields(body)
		f.Set("decision", "allow")
		if resp, body := b.do(http.MethodPost, e.iss+"/oauth/device", f); resp.StatusCode != 200 || !strings.Contains(body, "connected") {
			t.Fatalf("approve: %d %.300s", resp.StatusCode, body)
		}

		// The device's next poll (x/oauth2 waits the interval) gets tokens.
		e.clock.Advance(11 * time.Second)
		tok, err := conf.DeviceAccessToken(ctx, da)
		if err != nil {
			t.Fatal(err)
		}
		if a, err := e.actor(tok.AccessToken); err != nil || a.UserID != e.ada.ID || !slices.Equal(a.Scopes, []cairn.Scope{"activity:read", "offline_access"}) {
			t.Fatalf("device token acts as %+v, %v", a, err)
		}
		if !strings.HasPrefix(tok.RefreshToken, oauth.RefreshTokenPrefix) {
			t.Errorf("no refresh token with offline_access")
		}
		if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
			t.Errorf("refresh a device token: %v", err)
		}
		e.clock.Advance(11 * time.Second)
		if _, code := poll(t, e, conf.ClientID, da.DeviceCode); code != "invalid_grant" {
			t.Errorf("poll after the tokens were issued: %s", code)
		}

		// Denied.
		denied, err := conf.DeviceAuth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, body = b.do(http.MethodGet, denied.VerificationURIComplete, nil)
		f = fields(body)
		f.Set("user_code", denied.UserCode)
		_, body = b.do(http.MethodPost, e.iss+"/oauth/device", f)
		f = fields(body)
		f.Set("decision", "deny")
		b.do(http.MethodPost, e.iss+"/oauth/device", f)
		if _, code := poll(t, e, conf.ClientID, denied.DeviceCode); code != "access_denied" {
			t.Errorf("denied: %s", code)
		}

		// Expired: the device gives up with expired_token, and the user can
		// no longer enter the code.
		late, err := conf.DeviceAuth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(10*time.Minute + time.Second)
		if _, err := conf.DeviceAccessToken(ctx, late); retrieveCode(err) != "expired_token" {
			t.Errorf("expired device code: %v", err)
		}
		_, body = b.do(http.MethodGet, late.VerificationURIComplete, nil)
		f = fields(body)
		f.Set("user_code", late.UserCode)
		if resp, _ := b.do(http.MethodPost, e.iss+"/oauth/device", f); resp.StatusCode != 400 {
			t.Errorf("entering an expired code: %d", resp.StatusCode)
		}
	})
}

func TestMetadataAndSignOut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db)
		resp, err := http.Get(e.iss + "/.well-known/oauth-authorization-server")
		if err != nil {
			t.Fatal(err)
		}
		var md map[string]any
		json.NewDecoder(resp.Body).Decode(&md)
		resp.Body.Close()
		for k, want := range map[string]string{"issuer": e.iss, "authorization_endpoint": e.iss + "/oauth/authorize",
			"token_endpoint": e.iss + "/oauth/token", "revocation_endpoint": e.iss + "/oauth/revoke",
			"introspection_endpoint": e.iss + "/oauth/introspect", "device_authorization_endpoint": e.iss + "/oauth/device/code"} {
			if md[k] != want {
				t.Errorf("%s = %v, want %s", k, md[k], want)
			}
		}
		list := func(k string) string {
			var s []string
			for _, x := range md[k].([]any) {
				s = append(s, x.(string))
			}
			return strings.Join(s, " ")
		}
		if got := list("grant_types_supported"); got != "authorization_code client_credentials refresh_token urn:ietf:params:oauth:grant-type:device_code" {
			t.Errorf("grant types %q", got)
		}
		if got := list("code_challenge_methods_supported"); got != "S256" {
			t.Errorf("PKCE methods %q", got)
		}
		if got := list("scopes_supported"); !strings.Contains(got, "webhooks:manage") || !strings.Contains(got, "offline_access") {
			t.Errorf("scopes %q", got)
		}

		// Session cookies are HttpOnly and SameSite; signing out ends the
		// session.
		b := newBrowser(t)
		resp, body := b.do(http.MethodGet, e.iss+"/oauth/device", nil)
		resp, _ = b.signIn(e, resp, body, "ada@example.com")
		var session *http.Cookie
		for r := resp; r != nil; r = r.Request.Response {
			for _, c := range r.Cookies() {
				if c.Name == "cairn_session" {
					session = c
				}
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
			t.Fatalf("session cookie %+v (Secure only with TLS)", session)
		}
		_, body = b.do(http.MethodGet, e.iss+"/logout", nil)
		b.do(http.MethodPost, e.iss+"/logout", fields(body))
		if resp, _ := b.do(http.MethodGet, e.iss+"/oauth/device", nil); resp.Request.URL.Path != "/login" {
			t.Errorf("after sign-out the device page is at %s", resp.Request.URL)
		}
		// An open redirect is not possible through return_to.
		_, body = b.do(http.MethodGet, e.iss+"/login?return_to=https://evil.example/", nil)
		if strings.Contains(body, "evil.example") {
			t.Error("the sign-in page carries a foreign return_to")
		}
	})
}
