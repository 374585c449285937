package oauth_test

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/mfa"
	"github.com/cairn-fit/cairn/mfa/mfatest"
	"github.com/cairn-fit/cairn/oauth"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/rest"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Sign-in's second step, end to end: the authorization server with the
// MFA service (on the test's clock, sharing the server's limiter), and
// the REST API checking step-up with the tokens the code flow issues.

const (
	rpID   = "cairn.example"
	origin = "https://cairn.example"
)

type mfaEnv struct {
	*env
	mfa *mfa.Service
	api string // the REST API's base URL
}

func newMFAEnv(t *testing.T, db *dbtest.DB) *mfaEnv { return newMFAEnvWith(t, db, mfa.Policy{}) }

func newMFAEnvWith(t *testing.T, db *dbtest.DB, policy mfa.Policy) *mfaEnv {
	t.Helper()
	line, _ := secrets.NewKey("test")
	keys, err := secrets.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	w, err := mfa.NewWebAuthn(rpID, []string{origin})
	if err != nil {
		t.Fatal(err)
	}
	m := &mfaEnv{}
	m.env = newEnvWith(t, db, func(c *oauth.Config) {
		m.mfa = &mfa.Service{DB: db.DB, Keys: keys, Limiter: c.Limiter, WebAuthn: w, Policy: policy, Now: c.Now}
		c.MFA = m.mfa
		// The test's requests come from loopback: as a trusted proxy it
		// may name other clients in X-Forwarded-For.
		c.TrustedProxies = ratelimit.Proxies{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	})
	api, err := rest.New(rest.Deps{Users: db, Tokens: db, OAuth: m.auth, MFA: m.mfa, Audit: db})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	m.api = srv.URL
	return m
}

// as acts as u towards the MFA service, as its REST routes would.
func as(u *cairn.User) context.Context {
	return cairn.WithActor(context.Background(), cairn.UserActor(u, nil, "setup"))
}

// enrollTOTP gives u an authenticator app, returning its secret and the
// recovery codes; the clock then moves one TOTP step on, so that the
// next code is a new one.
func (e *mfaEnv) enrollTOTP(u *cairn.User) ([]byte, []string) {
	e.t.Helper()
	en, err := e.mfa.EnrollTOTP(as(u), u, "setup", "phone")
	if err != nil {
		e.t.Fatal(err)
	}
	secret := decodeSecret(e.t, en.Secret)
	done, err := e.mfa.ConfirmTOTP(as(u), u.ID, "setup", en.FactorID, e.totp(secret))
	if err != nil {
		e.t.Fatal(err)
	}
	e.clock.Advance(mfa.Period)
	return secret, done.RecoveryCodes
}

func decodeSecret(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// totp is the RFC 6238 code of secret now.
func (e *mfaEnv) totp(secret []byte) string {
	e.t.Helper()
	c, err := mfa.Code(secret, e.clock.Now(), mfa.Digits)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// toSecondStep starts the code flow in b and signs in with the password,
// which must lead to the second step's page.
func (e *mfaEnv) toSecondStep(b *browser, conf *oauth2.Config, verifier, email string) (*http.Response, string) {
	e.t.Helper()
	resp, body := b.do(http.MethodGet, conf.AuthCodeURL("state-1234567890", oauth2.S256ChallengeOption(verifier)), nil)
	resp, body = b.signIn(e.env, resp, body, email)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/login/mfa" {
		e.t.Fatalf("expected the second step, got %s %d: %.500s", resp.Request.URL, resp.StatusCode, body)
	}
	return resp, body
}

// submitFactor posts the second step's form for method.
func (e *mfaEnv) submitFactor(b *browser, page, method string, extra url.Values) (*http.Response, string) {
	e.t.Helper()
	f := fields(page)
	f.Set("method", method)
	for k, v := range extra {
		f[k] = v
	}
	return b.do(http.MethodPost, e.iss+"/login/mfa", f)
}

// consent allows on the consent page and exchanges the code.
func (e *mfaEnv) consent(b *browser, conf *oauth2.Config, verifier string, resp *http.Response, body string) *oauth2.Token {
	e.t.Helper()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/oauth/authorize" || !strings.Contains(body, "asks to:") {
		e.t.Fatalf("expected the consent page, got %s %d: %.500s", resp.Request.URL, resp.StatusCode, body)
	}
	f := fields(body)
	f.Set("decision", "allow")
	q := b.callback(http.MethodPost, e.iss+"/oauth/authorize", f)
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	return tok
}

// stepUpCall makes a REST call that needs a recent MFA check (replacing
// the recovery codes), returning its status and error code.
func (e *mfaEnv) stepUpCall(token string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.api+"/v1/me/mfa/recovery-codes", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Error.Code
}

// auditCount counts u's audit entries of action.
func (e *mfaEnv) auditCount(u *cairn.User, action string) int {
	e.t.Helper()
	page, err := e.db.SearchAudit(sys, cairn.AuditFilter{UserID: u.ID, Action: action, Page: cairn.PageRequest{Limit: 100}})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(page.Data)
}

func TestSignInWithTOTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newMFAEnv(t, db)
		secret, _ := e.enrollTOTP(e.ada)
		conf := e.publicApp(cairn.ScopeProfileRead, cairn.ScopeOfflineAccess)
		conf.Scopes = []string{"profile:read", "offline_access"}
		b := newBrowser(t)
		verifier := oauth2.GenerateVerifier()
		_, page := e.toSecondStep(b, conf, verifier, "ada@example.com")
		if !strings.Contains(page, `value="totp"`) || !strings.Contains(page, `value="recovery_code"`) || strings.Contains(page, `value="webauthn"`) {
			t.Fatalf("second step offers: %.1000s", page)
		}
		// The password alone signs nobody in: the authorization request
		// still asks for a sign-in.
		if resp, _ := b.do(http.MethodGet, conf.AuthCodeURL("s-1234567890", oauth2.S256ChallengeOption(verifier)), nil); resp.Request.URL.Path != "/login" {
			t.Fatalf("after the password only: %s", resp.Request.URL)
		}
		// The form is CSRF-protected; a wrong code is refused and audited.
		f := fields(page)
		f.Set("method", cairn.MFATOTP)
		f.Set("code", e.totp(secret))
		f.Del("csrf")
		if resp, _ := b.do(http.MethodPost, e.iss+"/login/mfa", f); resp.StatusCode != 403 {
			t.Fatalf("without the CSRF token: %d", resp.StatusCode)
		}
		wrong := strings.Repeat("0", mfa.Digits)
		if wrong == e.totp(secret) {
			wrong = strings.Repeat("1", mfa.Digits)
		}
		resp, page := e.submitFactor(b, page, cairn.MFATOTP, url.Values{"code": {wrong}})
		if resp.StatusCode != 401 || !strings.Contains(page, "did not work") {
			t.Fatalf("wrong code: %d %.300s", resp.StatusCode, page)
		}
		if n := e.auditCount(e.ada, cairn.AuditMFAFailure); n != 1 {
			t.Errorf("%d mfa.failure entries", n)
		}
		// The right code signs in and continues to the consent page.
		used := e.totp(secret)
		resp, body := e.submitFactor(b, page, cairn.MFATOTP, url.Values{"code": {used}})
		signedIn := e.clock.Now()
		tok := e.consent(b, conf, verifier, resp, body)
		if n := e.auditCount(e.ada, cairn.AuditMFAVerify); n != 1 {
			t.Errorf("%d mfa.verify entries", n)
		}
		// A code works once: another browser cannot replay it.
		b2 := newBrowser(t)
		_, page = e.toSecondStep(b2, conf, verifier, "ada@example.com")
		if resp, _ := e.submitFactor(b2, page, cairn.MFATOTP, url.Values{"code": {used}}); resp.StatusCode != 401 {
			t.Fatalf("a replayed code: %d", resp.StatusCode)
		}

		// The token passes step-up for five minutes after the check, its
		// refreshed tokens too (same grant), and not after. (Refreshing
		// revokes the first access token.)
		if status, code := e.stepUpCall(tok.AccessToken); status != 200 {
			t.Fatalf("step-up right after the MFA sign-in: %d %s", status, code)
		}
		e.clock.Advance(mfa.StepUpWindow - time.Second - e.clock.Now().Sub(signedIn))
		refreshed, err := conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatal(err)
		}
		if status, code := e.stepUpCall(refreshed.AccessToken); status != 200 {
			t.Fatalf("step-up with a refreshed token inside the window: %d %s", status, code)
		}
		e.clock.Advance(2 * time.Second)
		if status, code := e.stepUpCall(refreshed.AccessToken); status != 401 || code != "STEP_UP_REQUIRED" {
			t.Fatalf("step-up after the window: %d %s", status, code)
		}

	})
}

func TestSignInWithRecoveryCode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newMFAEnv(t, db)
		_, codes := e.enrollTOTP(e.ada)
		conf := e.publicApp(cairn.ScopeProfileRead)
		conf.Scopes = []string{"profile:read"}
		verifier := oauth2.GenerateVerifier()

		b := newBrowser(t)
		_, page := e.toSecondStep(b, conf, verifier, "ada@example.com")
		resp, body := e.submitFactor(b, page, cairn.MFARecoveryCode, url.Values{"code": {strings.ToUpper(codes[0])}})
		tok := e.consent(b, conf, verifier, resp, body)
		if status, code := e.stepUpCall(tok.AccessToken); status != 200 {
			t.Fatalf("step-up after a recovery code sign-in: %d %s", status, code)
		}
		// That call replaced the codes: the old ones are gone, and a used
		// code never works twice.
		b2 := newBrowser(t)
		_, page = e.toSecondStep(b2, conf, verifier, "ada@example.com")
		if resp, _ := e.submitFactor(b2, page, cairn.MFARecoveryCode, url.Values{"code": {codes[1]}}); resp.StatusCode != 401 {
			t.Fatalf("a replaced recovery code: %d", resp.StatusCode)
		}
		fresh, err := e.mfa.RegenerateRecoveryCodes(cairn.SystemContext(context.Background()), e.ada.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		resp, body = e.submitFactor(b2, page, cairn.MFARecoveryCode, url.Values{"code": {fresh[0]}})
		e.consent(b2, conf, verifier, resp, body)
		b3 := newBrowser(t)
		_, page = e.toSecondStep(b3, conf, verifier, "ada@example.com")
		if resp, _ := e.submitFactor(b3, page, cairn.MFARecoveryCode, url.Values{"code": {fresh[0]}}); resp.StatusCode != 401 {
			t.Fatalf("a recovery code used twice: %d", resp.StatusCode)
		}
	})
}

var passkeyOptions = regexp.MustCompile(`data-options="([^"]*)"`)

func TestSignInWithPasskey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newMFAEnv(t, db)
		key := mfatest.New(rpID, origin)
		answer := func(b []byte, err error) string {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		c, err := e.mfa.BeginPasskeyRegistration(as(e.ada), e.ada, "setup")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.mfa.FinishPasskeyRegistration(as(e.ada), e.ada, "setup", c.ID, "key", []byte(answer(key.Create(c.Options)))); err != nil {
			t.Fatal(err)
		}
		conf := e.publicApp(cairn.ScopeProfileRead)
		conf.Scopes = []string{"profile:read"}
		verifier := oauth2.GenerateVerifier()
		b := newBrowser(t)
		resp, page := e.toSecondStep(b, conf, verifier, "ada@example.com")

		// The page's script may run, and no other.
		csp := resp.Header.Get("Content-Security-Policy")
		nonce := regexp.MustCompile(`script-src 'nonce-([^']+)'`).FindStringSubmatch(csp)
		if nonce == nil || !strings.Contains(page, `<script nonce="`+nonce[1]+`">`) || !strings.Contains(page, "navigator.credentials.get") {
			t.Fatalf("CSP %q and page %.2000s", csp, page)
		}
		// What the page's script does: the options to the authenticator,
		// its assertion back in the form.
		options := func(page string) json.RawMessage {
			m := passkeyOptions.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no passkey options: %.1000s", page)
			}
			return json.RawMessage(html.UnescapeString(m[1]))
		}
		forged := mfatest.New(rpID, origin)
		forged.CredentialID, forged.UserHandle = key.CredentialID, key.UserHandle
		resp, page = e.submitFactor(b, page, cairn.MFAWebAuthn, url.Values{"assertion": {answer(forged.Get(options(page)))}})
		if resp.StatusCode != 401 {
			t.Fatalf("a forged assertion: %d %.300s", resp.StatusCode, page)
		}
		resp, body := e.submitFactor(b, page, cairn.MFAWebAuthn, url.Values{"assertion": {answer(key.Get(options(page)))}})
		tok := e.consent(b, conf, verifier, resp, body)
		if status, code := e.stepUpCall(tok.AccessToken); status != 200 {
			t.Fatalf("step-up after a passkey sign-in: %d %s", status, code)
		}
	})
}

var totpSecret = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7]+)</code>`)

func TestMFARequiredEnrollsAtSignIn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newMFAEnv(t, db)
		admin := e.user("root@example.com", cairn.RoleAdmin)
		conf := e.publicApp(cairn.ScopeProfileRead)
		conf.Scopes = []string{"profile:read"}
		verifier := oauth2.GenerateVerifier()
		b := newBrowser(t)
		_, page := e.toSecondStep(b, conf, verifier, admin.Email)
		m := totpSecret.FindStringSubmatch(page)
		if m == nil || !strings.Contains(page, "otpauth://totp/") {
			t.Fatalf("enrollment page: %.1000s", page)
		}
		secret := decodeSecret(t, m[1])
		// Not signed in before enrolling.
		if resp, _ := b.do(http.MethodGet, conf.AuthCodeURL("s-1234567890", oauth2.S256ChallengeOption(verifier)), nil); resp.Request.URL.Path != "/login" {
			t.Fatalf("before enrolling: %s", resp.Request.URL)
		}
		// A wrong code shows the same key again.
		f := fields(page)
		f.Set("code", "000000")
		if f.Get("code") == e.totp(secret) {
			f.Set("code", "111111")
		}
		resp, page := b.do(http.MethodPost, e.iss+"/login/mfa", f)
		if m2 := totpSecret.FindStringSubmatch(page); resp.StatusCode != 401 || m2 == nil || m2[1] != m[1] {
			t.Fatalf("wrong code while enrolling: %d %.500s", resp.StatusCode, page)
		}
		f = fields(page)
		f.Set("code", e.totp(secret))
		resp, page = b.do(http.MethodPost, e.iss+"/login/mfa", f)
		codes := regexp.MustCompile(`<li><code>([a-z2-7-]{19})</code></li>`).FindAllStringSubmatch(page, -1)
		if resp.StatusCode != 200 || len(codes) != mfa.RecoveryCodeCount {
			t.Fatalf("recovery codes page: %d %.1000s", resp.StatusCode, page)
		}
		cont := regexp.MustCompile(`<a href="([^"]+)">Continue</a>`).FindStringSubmatch(page)
		if cont == nil {
			t.Fatalf("no way on: %.1000s", page)
		}
		resp, body := b.do(http.MethodGet, e.iss+html.UnescapeString(cont[1]), nil)
		tok := e.consent(b, conf, verifier, resp, body)
		// Next time the admin passes the factor; the recovery codes shown
		// work.
		b2 := newBrowser(t)
		_, page = e.toSecondStep(b2, conf, verifier, admin.Email)
		resp, body = e.submitFactor(b2, page, cairn.MFARecoveryCode, url.Values{"code": {codes[3][1]}})
		e.consent(b2, conf, verifier, resp, body)
		// (This replaces the recovery codes.)
		if status, code := e.stepUpCall(tok.AccessToken); status != 200 {
			t.Fatalf("step-up after enrolling at sign-in: %d %s", status, code)
		}
		// A session of an admin from before MFA (or before the role) no
		// longer signs in.
		old := "old-session-cookie-value-0123456789"
		if err := db.CreateWebSession(sys, &cairn.WebSession{Hash: oauth.HashForTest(old), UserID: admin.ID,
			ExpiresAt: e.clock.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		b3 := newBrowser(t)
		u, _ := url.Parse(e.iss)
		b3.c.Jar.SetCookies(u, []*http.Cookie{{Name: "cairn_session", Value: old}})
		if resp, _ := b3.do(http.MethodGet, conf.AuthCodeURL("s-1234567890", oauth2.S256ChallengeOption(verifier)), nil); resp.Request.URL.Path != "/login" {
			t.Fatalf("an admin session without MFA: %s", resp.Request.URL)
		}
		// Without the policy for everyone, a user without a factor signs in
		// with the password.
		if tok := e.codeFlow(newBrowser(t), conf, "bob@example.com"); tok.AccessToken == "" {
			t.Fatal("no token")
		}
	})
}

func TestMFAPolicyForEveryone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newMFAEnvWith(t, db, mfa.Policy{RequireAll: true})
		conf := e.publicApp(cairn.ScopeProfileRead)
		conf.Scopes = []string{"profile:read"}
		_, page := e.toSecondStep(newBrowser(t), conf, oauth2.GenerateVerifier(), "bob@example.com")
		if !totpSecret.MatchString(page) {
			t.Fatalf("a user without a factor under the policy: %.500s", page)
		}
	})
}

// TestDeviceGrantInheritsMFA: a device approved from a browser that passed
// MFA gets tokens that pass step-up until the browser's window ends.
func TestDeviceGrantInheritsMFA(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newMFAEnv(t, db)
		secret, _ := e.enrollTOTP(e.ada)
		ctx := context.Background()
		conf := e.publicApp(cairn.ScopeProfileRead)
		conf.Scopes = []string{"profile:read"}
		da, err := conf.DeviceAuth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		resp, body := b.do(http.MethodGet, da.VerificationURIComplete, nil)
		resp, body = b.signIn(e.env, resp, body, "ada@example.com")
		if resp.Request.URL.Path != "/login/mfa" {
			t.Fatalf("after the password: %s", resp.Request.URL)
		}
		resp, body = e.submitFactor(b, body, cairn.MFATOTP, url.Values{"code": {e.totp(secret)}})
		if resp.Request.URL.Path != "/oauth/device" {
			t.Fatalf("after the second factor: %s %.300s", resp.Request.URL, body)
		}
		e.clock.Advance(4 * time.Minute) // the check is 4 minutes old when the device is approved
		f := fields(body)
		f.Set("user_code", da.UserCode)
		_, body = b.do(http.MethodPost, e.iss+"/oauth/device", f)
		f = fields(body)
		f.Set("decision", "allow")
		if resp, body := b.do(http.MethodPost, e.iss+"/oauth/device", f); resp.StatusCode != 200 || !strings.Contains(body, "connected") {
			t.Fatalf("approve: %d %.300s", resp.StatusCode, body)
		}
		e.clock.Advance(2 * time.Second)
		tok, err := conf.DeviceAccessToken(ctx, da)
		if err != nil {
			t.Fatal(err)
		}
		if status, code := e.stepUpCall(tok.AccessToken); status != 200 {
			t.Fatalf("step-up within the browser's window: %d %s", status, code)
		}
		e.clock.Advance(time.Minute)
		if status, code := e.stepUpCall(tok.AccessToken); status != 401 || code != "STEP_UP_REQUIRED" {
			t.Fatalf("step-up after the browser's window: %d %s", status, code)
		}
	})
}

// Brute force: the limits engage over HTTP, with Retry-After.

// postFrom posts a form as if from ip, behind the trusted proxy.
func (b *browser) postFrom(ip, u string, form url.Values) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// retryAfter is a 429's Retry-After in seconds; it fails without one.
func retryAfter(t *testing.T, resp *http.Response) time.Duration {
	t.Helper()
	n, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != http.StatusTooManyRequests || err != nil || n < 1 {
		t.Fatalf("want 429 with Retry-After, got %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	return time.Duration(n) * time.Second
}

// untilLimited repeats attempt (given its number) until it answers 429,
// at most max times, and returns that response.
func untilLimited(t *testing.T, max int, attempt func(i int) *http.Response) *http.Response {
	t.Helper()
	for i := range max {
		resp := attempt(i)
		if resp.StatusCode == http.StatusTooManyRequests {
			t.Logf("limited after %d attempts", i)
			return resp
		}
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i, resp.StatusCode)
		}
	}
	t.Fatalf("no 429 after %d attempts", max)
	return nil
}

func TestBruteForceLogin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newMFAEnv(t, db)
		b := newBrowser(t)
		_, page := b.do(http.MethodGet, e.iss+"/login", nil)
		form := func(email, pw string) url.Values {
			f := fields(page)
			f.Set("email", email)
			f.Set("password", pw)
			return f
		}
		// Per IP: one address guessing many accounts.
		resp := untilLimited(t, 10, func(i int) *http.Response {
			return b.postFrom("198.51.100.1", e.iss+"/login", form("user"+strconv.Itoa(i)+"@example.com", "guess"))
		})
		retryAfter(t, resp)
		// Even the right password is not checked from there meanwhile;
		// another address is not affected.
		if r := b.postFrom("198.51.100.1", e.iss+"/login", form("bob@example.com", password)); r.StatusCode != 429 {
			t.Fatalf("right password from the limited address: %d", r.StatusCode)
		}
		if r := b.postFrom("198.51.100.2", e.iss+"/login", form("nobody@example.com", "guess")); r.StatusCode != 401 {
			t.Fatalf("another address: %d", r.StatusCode)
		}

		// Per account: one account guessed from many addresses.
		resp = untilLimited(t, 10, func(i int) *http.Response {
			return b.postFrom("203.0.113."+strconv.Itoa(i+1), e.iss+"/login", form("ada@example.com", "guess"))
		})
		wait := retryAfter(t, resp)
		if r := b.postFrom("192.0.2.99", e.iss+"/login", form("ada@example.com", password)); r.StatusCode != 429 {
			t.Fatalf("right password for the limited account from a new address: %d", r.StatusCode)
		}
		// The limit backs off: after Retry-After the right password works.
		e.clock.Advance(wait)
		if r := b.postFrom("192.0.2.99", e.iss+"/login", form("ada@example.com", password)); r.StatusCode != http.StatusOK {
			t.Fatalf("right password after Retry-After: %d", r.StatusCode)
		}
	})
}

func TestBruteForceClientSecret(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newMFAEnv(t, db)
		id, secret := e.client(&cairn.OAuthClient{Name: "Exporter", GrantTypes: []string{cairn.GrantClientCredentials},
			Scopes: []cairn.Scope{cairn.ScopeExport}})
		cc := clientcredentials.Config{ClientID: id, ClientSecret: "wrong", TokenURL: e.iss + "/oauth/token", Scopes: []string{"export"},
			AuthStyle: oauth2.AuthStyleInHeader}
		attempt := func(cc clientcredentials.Config) *http.Response {
			_, err := cc.Token(context.Background())
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) {
				t.Fatalf("token: %v", err)
			}
			return re.Response
		}
		resp := untilLimited(t, 20, func(int) *http.Response { return attempt(cc) })
		wait := retryAfter(t, resp)
		cc.ClientSecret = secret
		if r := attempt(cc); r.StatusCode != 429 {
			t.Fatalf("right secret while limited: %d", r.StatusCode)
		}
		e.clock.Advance(wait)
		if _, err := cc.Token(context.Background()); err != nil {
			t.Fatalf("right secret after Retry-After: %v", err)
		}
	})
}

func TestBruteForceMFA(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newMFAEnv(t, db)
		secret, _ := e.enrollTOTP(e.ada)
		conf := e.publicApp(cairn.ScopeProfileRead)
		conf.Scopes = []string{"profile:read"}
		verifier := oauth2.GenerateVerifier()
		b := newBrowser(t)
		_, page := e.toSecondStep(b, conf, verifier, "ada@example.com")
		right := e.totp(secret)
		wrong := func(i int) string {
			c := strconv.Itoa(100000 + i)
			if c == right {
				c = "999999"
			}
			return c
		}
		f := fields(page)
		f.Set("method", cairn.MFATOTP)
		resp := untilLimited(t, 10, func(i int) *http.Response {
			f.Set("code", wrong(i))
			r, _ := b.do(http.MethodPost, e.iss+"/login/mfa", f)
			return r
		})
		wait := retryAfter(t, resp)
		f.Set("code", right)
		if r, _ := b.do(http.MethodPost, e.iss+"/login/mfa", f); r.StatusCode != 429 {
			t.Fatalf("right code while limited: %d", r.StatusCode)
		}
		// The account is limited from any address.
		if r := b.postFrom("198.51.100.7", e.iss+"/login/mfa", f); r.StatusCode != 429 {
			t.Fatalf("right code from another address: %d", r.StatusCode)
		}
		if n := e.auditCount(e.ada, cairn.AuditMFAFailure); n < 4 {
			t.Errorf("%d mfa.failure entries", n)
		}
		e.clock.Advance(wait)
		f.Set("code", e.totp(secret))
		resp, body := b.do(http.MethodPost, e.iss+"/login/mfa", f)
		e.consent(b, conf, verifier, resp, body)
	})
}

// TestSecondStepExpires: the pending sign-in lasts minutes, and the second
// step without one starts again from the password.
func TestSecondStepExpires(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newMFAEnv(t, db)
		secret, _ := e.enrollTOTP(e.ada)
		conf := e.publicApp(cairn.ScopeProfileRead)
		conf.Scopes = []string{"profile:read"}
		b := newBrowser(t)
		_, page := e.toSecondStep(b, conf, oauth2.GenerateVerifier(), "ada@example.com")
		e.clock.Advance(10*time.Minute + time.Second)
		if resp, body := e.submitFactor(b, page, cairn.MFATOTP, url.Values{"code": {e.totp(secret)}}); resp.StatusCode != 401 || !strings.Contains(body, "expired") {
			t.Fatalf("after ten minutes: %d %.300s", resp.StatusCode, body)
		}
		if resp, _ := b.do(http.MethodGet, e.iss+"/login/mfa", nil); resp.Request.URL.Path != "/login" {
			t.Fatalf("the second step without a pending sign-in: %s", resp.Request.URL)
		}
		if resp, _ := newBrowser(t).do(http.MethodPost, e.iss+"/login/mfa", url.Values{"method": {"totp"}, "code": {e.totp(secret)}}); resp.StatusCode != 401 {
			t.Fatalf("a post without any session: %d", resp.StatusCode)
		}
	})
}

// TestBruteForceDeviceCode: guessing user codes on the device page is
// limited per account (the signed-in user) with Retry-After, and the
// right code works again once it has passed.
func TestBruteForceDeviceCode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newMFAEnv(t, db)
		device := e.publicApp(cairn.ScopeActivityRead)
		device.Scopes = []string{"activity:read"}
		da, err := device.DeviceAuth(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		resp, body := b.do(http.MethodGet, e.iss+"/oauth/device", nil)
		resp, body = b.signIn(e.env, resp, body, "bob@example.com")
		if resp.StatusCode != 200 {
			t.Fatalf("sign-in: %d", resp.StatusCode)
		}
		page := body
		enter := func(code string) (*http.Response, string) {
			f := fields(page)
			f.Set("user_code", code)
			return b.do(http.MethodPost, e.iss+"/oauth/device", f)
		}
		var limited *http.Response
		for i := range 20 {
			r, body := enter("WRONG-" + strconv.Itoa(1000+i))
			if r.StatusCode == http.StatusTooManyRequests {
				t.Logf("limited after %d guesses", i)
				limited = r
				break
			}
			if r.StatusCode != http.StatusBadRequest {
				t.Fatalf("guess %d: %d %.300s", i, r.StatusCode, body)
			}
			page = body
		}
		if limited == nil {
			t.Fatal("no 429 after 20 wrong user codes")
		}
		wait := retryAfter(t, limited)
		if r, _ := enter(da.UserCode); r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("the right code while limited: %d", r.StatusCode)
		}
		e.clock.Advance(wait)
		if r, body := enter(da.UserCode); r.StatusCode != 200 || !strings.Contains(body, "decision") {
			t.Fatalf("the right code after Retry-After: %d %.300s", r.StatusCode, body)
		}
	})
}
