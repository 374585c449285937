package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/account"
	"github.com/cairn-fit/cairn/argon2id"
	"github.com/cairn-fit/cairn/oauth"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"golang.org/x/oauth2"
)

// The account pages end to end: a cookie-jar browser follows the links
// of the mails that a recording mailer keeps, on both databases.

// mailbox records mail instead of sending it.
type mailbox struct {
	mu    sync.Mutex
	mails []cairn.Mail
}

func (m *mailbox) Send(_ context.Context, mail cairn.Mail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mails = append(m.mails, mail)
	return nil
}

// to returns the mails sent to addr.
func (m *mailbox) to(addr string) []cairn.Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []cairn.Mail
	for _, x := range m.mails {
		if x.To == addr {
			out = append(out, x)
		}
	}
	return out
}

var mailLink = regexp.MustCompile(`https?://\S+`)

// link returns the link of the last mail to addr.
func (m *mailbox) link(t *testing.T, addr string) string {
	t.Helper()
	ms := m.to(addr)
	if len(ms) == 0 {
		t.Fatalf("no mail to %s", addr)
	}
	l := mailLink.FindString(ms[len(ms)-1].Text)
	if l == "" {
		t.Fatalf("no link in the mail to %s: %q", addr, ms[len(ms)-1].Text)
	}
	return l
}

type accountEnv struct {
	*env
	mail *mailbox
	acc  *account.Service
}

// newAccountEnv is newEnv with the account pages, open to sign-ups or not.
// The database runs on the test's clock too, so that links expire when
// the clock moves.
func newAccountEnv(t *testing.T, db *dbtest.DB, open bool) *accountEnv {
	t.Helper()
	e := &env{t: t, db: db, clock: &clock{t: time.Now()}}
	db.Now = e.clock.Now
	e.ada = e.user("ada@example.com", cairn.RoleUser)
	e.bob = e.user("bob@example.com", cairn.RoleUser)
	srv := httptest.NewUnstartedServer(nil)
	e.iss = "http://" + srv.Listener.Addr().String()
	box := &mailbox{}
	acc := &account.Service{DB: db.DB, Mailer: box, Limiter: ratelimit.New(nil, e.clock.Now),
		ResetURL: e.iss + "/reset-password", ConfirmURL: e.iss + "/signup/confirm", OpenSignUp: open,
		Password: argon2id.Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32}}
	auth, err := oauth.New(oauth.Config{Issuer: e.iss, Secret: []byte("0123456789abcdef0123456789abcdef"),
		Store: db, Users: db, Audit: db, Accounts: acc, Limiter: ratelimit.New(nil, e.clock.Now), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.auth = auth
	srv.Config.Handler = auth.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return &accountEnv{env: e, mail: box, acc: acc}
}

// submit GETs a page and posts its form with the hidden fields and set.
func (b *browser) submit(page string, set url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, body := b.do(http.MethodGet, page, nil)
	if resp.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: %d %.300s", page, resp.StatusCode, body)
	}
	f := fields(body)
	for k, v := range set {
		f[k] = v
	}
	u, _ := url.Parse(page)
	u.RawQuery = ""
	return b.do(http.MethodPost, u.String(), f)
}

func (e *accountEnv) login(b *browser, email, pw string) int {
	e.t.Helper()
	resp, _ := b.submit(e.iss+"/login", url.Values{"email": {email}, "password": {pw}})
	return resp.StatusCode
}

// signedIn reports whether the browser has a session (the device page
// sends it to sign in otherwise).
func (e *accountEnv) signedIn(b *browser) bool {
	resp, _ := b.do(http.MethodGet, e.iss+"/oauth/device", nil)
	return resp.Request.URL.Path == "/oauth/device"
}

func want(t *testing.T, resp *http.Response, body string, status int, text string) {
	t.Helper()
	if resp.StatusCode != status || !strings.Contains(body, text) {
		t.Fatalf("got %d, want %d with %q: %.600s", resp.StatusCode, status, text, body)
	}
}

func (e *accountEnv) audits(userID, action string) []cairn.AuditEntry {
	e.t.Helper()
	p, err := e.db.SearchAudit(sys, cairn.AuditFilter{UserID: userID, Action: action})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Data
}

const newPassword = "a brand new passphrase"

func TestForgotAndResetPassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newAccountEnv(t, db, false)
		b := newBrowser(t)
		resp, body := b.do(http.MethodGet, e.iss+"/login", nil)
		want(t, resp, body, 200, `href="/forgot-password"`)
		if strings.Contains(body, `href="/signup"`) {
			t.Error("the sign-in page links to sign-up in invite mode")
		}

		// Ada is signed in elsewhere and an app holds a refresh token: the
		// reset must end both.
		other := newBrowser(t)
		conf := e.publicApp(cairn.ScopeActivityRead, cairn.ScopeOfflineAccess)
		conf.Scopes = []string{"activity:read", "offline_access"}
		tok := e.codeFlow(other, conf, "ada@example.com")
		if !e.signedIn(other) {
			t.Fatal("no session after the code flow")
		}

		// No enumeration: a known and an unknown address get the same page;
		// only the known one gets mail.
		resp, known := b.submit(e.iss+"/forgot-password", url.Values{"email": {"ada@example.com"}})
		want(t, resp, known, 200, "Check your mail")
		resp, unknown := b.submit(e.iss+"/forgot-password", url.Values{"email": {"nobody@example.com"}})
		want(t, resp, unknown, 200, "Check your mail")
		if strings.ReplaceAll(known, "ada@", "x@") != strings.ReplaceAll(unknown, "nobody@", "x@") {
			t.Errorf("the answers differ:\n%s\n%s", known, unknown)
		}
		if n := len(e.mail.to("nobody@example.com")); n != 0 {
			t.Errorf("%d mails to an unknown address", n)
		}
		link := e.mail.link(t, "ada@example.com")
		resp, body = b.do(http.MethodPost, e.iss+"/forgot-password", url.Values{"email": {"ada@example.com"}})
		want(t, resp, body, 403, "The form has expired")
		if n := len(e.mail.to("ada@example.com")); n != 1 {
			t.Errorf("%d mails, want 1 (none without CSRF)", n)
		}

		// The link's page: a form for ada; checks before anything changes.
		resp, body = b.do(http.MethodGet, link, nil)
		want(t, resp, body, 200, "Choose a new password")
		want(t, resp, body, 200, "ada@example.com")
		resp, body = b.submit(link, url.Values{"password": {newPassword}, "password_confirm": {newPassword + "x"}})
		want(t, resp, body, 400, "confirmation differ")
		resp, body = b.submit(link, url.Values{"password": {"short"}, "password_confirm": {"short"}})
		want(t, resp, body, 400, "at least 10 characters")
		resp, body = b.do(http.MethodPost, e.iss+"/reset-password", url.Values{"token": {tokenOf(t, link)},
			"password": {newPassword}, "password_confirm": {newPassword}})
		want(t, resp, body, 403, "The form has expired")

		resp, body = b.submit(link, url.Values{"password": {newPassword}, "password_confirm": {newPassword}})
		want(t, resp, body, 200, "Your password is set")
		want(t, resp, body, 200, `href="/login"`)

		// The new password works, the old one does not.
		if got := e.login(newBrowser(t), "ada@example.com", password); got != http.StatusUnauthorized {
			t.Errorf("the old password: %d", got)
		}
		if got := e.login(newBrowser(t), "ada@example.com", newPassword); got != http.StatusOK {
			t.Errorf("the new password: %d", got)
		}
		// Every session and OAuth token of ada's ended; bob's did not.
		if e.signedIn(other) {
			t.Error("the other browser is still signed in")
		}
		if _, err := e.actor(tok.AccessToken); err == nil {
			t.Error("the access token survived the reset")
		}
		if _, err := conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); retrieveCode(err) != "invalid_grant" {
			t.Errorf("the refresh token survived the reset: %v", err)
		}
		if bob := newBrowser(t); e.login(bob, "bob@example.com", password) != 200 || !e.signedIn(bob) {
			t.Error("bob cannot sign in")
		}
		entries := e.audits(e.ada.ID, cairn.AuditPasswordReset)
		var details map[string]int
		if len(entries) != 1 || json.Unmarshal(entries[0].Details, &details) != nil || details["sessions_ended"] != 1 || details["oauth_tokens_revoked"] < 2 {
			t.Errorf("audit %+v %v", entries, details)
		}

		// The link works once.
		resp, body = b.do(http.MethodGet, link, nil)
		want(t, resp, body, 404, "already used")

		// A link expires.
		b.submit(e.iss+"/forgot-password", url.Values{"email": {"ada@example.com"}})
		late := e.mail.link(t, "ada@example.com")
		if late == link {
			t.Fatal("the same link twice")
		}
		resp, page := b.do(http.MethodGet, late, nil)
		want(t, resp, page, 200, "Choose a new password")
		e.clock.Advance(account.DefaultResetTTL + time.Second)
		resp, body = b.do(http.MethodGet, late, nil)
		want(t, resp, body, 404, "expired")
		f := fields(page)
		f.Set("password", "yet another passphrase")
		f.Set("password_confirm", "yet another passphrase")
		resp, body = b.do(http.MethodPost, e.iss+"/reset-password", f)
		want(t, resp, body, 404, "expired")
		if got := e.login(newBrowser(t), "ada@example.com", newPassword); got != http.StatusOK {
			t.Errorf("an expired link changed the password: %d", got)
		}

		// An unknown or mangled token.
		for _, tok := range []string{"cairn_prt_unknown", "", "garbage"} {
			resp, body = b.do(http.MethodGet, e.iss+"/reset-password?token="+url.QueryEscape(tok), nil)
			want(t, resp, body, 404, "not valid")
		}
	})
}

func tokenOf(t *testing.T, link string) string {
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

func TestInvitationPage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newAccountEnv(t, db, false)
		root := e.user("root@example.com", cairn.RoleAdmin)
		admin := cairn.WithActor(context.Background(), cairn.Actor{UserID: root.ID, Admin: true, Scopes: []cairn.Scope{cairn.ScopeAdmin}})
		cleo := &cairn.User{Email: "cleo@example.com", Name: "Cleo"}
		if err := db.CreateUser(admin, cleo); err != nil {
			t.Fatal(err)
		}
		if err := e.acc.Invite(admin, cleo.ID); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		link := e.mail.link(t, "cleo@example.com")
		resp, body := b.do(http.MethodGet, link, nil)
		want(t, resp, body, 200, "Choose your password")
		if got := e.login(newBrowser(t), "cleo@example.com", ""); got == http.StatusOK {
			t.Fatal("an invited user signs in without a password")
		}
		resp, body = b.submit(link, url.Values{"password": {newPassword}, "password_confirm": {newPassword}})
		want(t, resp, body, 200, "Your password is set")
		if got := e.login(b, "cleo@example.com", newPassword); got != http.StatusOK || !e.signedIn(b) {
			t.Errorf("sign-in after the invitation: %d", got)
		}
		resp, body = b.do(http.MethodGet, link, nil)
		want(t, resp, body, 404, "already used")
	})
}

func TestSignUpInviteMode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newAccountEnv(t, db, false)
		b := newBrowser(t)
		resp, body := b.do(http.MethodGet, e.iss+"/signup", nil)
		want(t, resp, body, 200, "by invitation")
		if strings.Contains(body, `name="password"`) {
			t.Error("a sign-up form in invite mode")
		}
		_, login := b.do(http.MethodGet, e.iss+"/login", nil)
		resp, body = b.do(http.MethodPost, e.iss+"/signup", url.Values{"csrf": fields(login)["csrf"],
			"email": {"dan@example.com"}, "password": {newPassword}, "password_confirm": {newPassword}})
		want(t, resp, body, 403, "by invitation")
		if len(e.mail.to("dan@example.com")) != 0 {
			t.Error("mail in invite mode")
		}
		if err := e.acc.SignUp(sys, "dan@example.com", "", newPassword); cairn.ErrorCode(err) != cairn.EFORBIDDEN {
			t.Errorf("the service signs up in invite mode: %v", err)
		}
		if _, err := db.FindUserByEmail(sys, "dan@example.com"); cairn.ErrorCode(err) != cairn.ENOTFOUND {
			t.Errorf("a user was made: %v", err)
		}
	})
}

func TestSignUpOpen(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newAccountEnv(t, db, true)
		b := newBrowser(t)
		resp, body := b.do(http.MethodGet, e.iss+"/login", nil)
		want(t, resp, body, 200, `href="/signup"`)
		signUp := func(b *browser, email, name, pw string) (*http.Response, string) {
			return b.submit(e.iss+"/signup", url.Values{"email": {email}, "name": {name}, "password": {pw}, "password_confirm": {pw}})
		}

		// CSRF and the password rules first.
		resp, body = b.do(http.MethodPost, e.iss+"/signup", url.Values{"email": {"dan@example.com"},
			"password": {newPassword}, "password_confirm": {newPassword}})
		want(t, resp, body, 403, "The form has expired")
		resp, body = signUp(b, "dan@example.com", "Dan", "short")
		want(t, resp, body, 400, "at least 10 characters")
		resp, body = signUp(b, "not an address", "Dan", newPassword)
		want(t, resp, body, 400, "email must be an email address")
		if len(e.mail.mails) != 0 {
			t.Fatalf("mail for refused sign-ups: %v", e.mail.mails)
		}

		resp, fresh := signUp(b, "Dan@Example.com", "Dan", newPassword)
		want(t, resp, fresh, 200, "Check your mail")
		link := e.mail.link(t, "dan@example.com")
		if !strings.HasPrefix(link, e.iss+"/signup/confirm?token=") {
			t.Fatalf("link %s", link)
		}
		// Not confirmed: no account, no sign-in.
		if got := e.login(newBrowser(t), "dan@example.com", newPassword); got != http.StatusUnauthorized {
			t.Errorf("an unconfirmed sign-up signs in: %d", got)
		}

		// An existing address: the same answer; its owner is told by mail,
		// and nothing about the account changes.
		resp, dup := signUp(b, "ada@example.com", "Not Ada", "the intruder's password")
		want(t, resp, dup, 200, "Check your mail")
		if strings.ReplaceAll(fresh, "dan@", "x@") != strings.ReplaceAll(dup, "ada@", "x@") {
			t.Errorf("the answers differ:\n%s\n%s", fresh, dup)
		}
		if ms := e.mail.to("ada@example.com"); len(ms) != 1 || !strings.Contains(ms[0].Text, "already has an account") {
			t.Errorf("mail to the owner: %+v", ms)
		}
		if got := e.login(newBrowser(t), "ada@example.com", password); got != http.StatusOK {
			t.Errorf("ada's password changed: %d", got)
		}

		// Someone else signs up with dan's address: that link needs their
		// password, so dan cannot be made to confirm it by mistake.
		signUp(newBrowser(t), "dan@example.com", "Mallory", "mallory's password")
		intruder := e.mail.link(t, "dan@example.com")
		resp, body = b.submit(intruder, url.Values{"password": {newPassword}})
		want(t, resp, body, 401, "not the password you chose")

		// Dan confirms his own: signed in at once.
		resp, body = b.do(http.MethodGet, link, nil)
		want(t, resp, body, 200, "dan@example.com")
		resp, body = b.submit(link, url.Values{"password": {"wrong password!"}})
		want(t, resp, body, 401, "not the password you chose")
		resp, body = b.submit(link, url.Values{"password": {newPassword}})
		want(t, resp, body, 200, "You are signed in")
		if !e.signedIn(b) {
			t.Error("not signed in after confirming")
		}
		dan, err := db.FindUserByEmail(sys, "dan@example.com")
		if err != nil || dan.Name != "Dan" || dan.Status != cairn.UserActive || !strings.HasPrefix(dan.PasswordHash, "$argon2id$") {
			t.Fatalf("dan %+v %v", dan, err)
		}
		if got := e.login(newBrowser(t), "dan@example.com", newPassword); got != http.StatusOK {
			t.Errorf("dan's sign-in: %d", got)
		}
		if n := len(e.audits(dan.ID, cairn.AuditSignUp)); n != 1 {
			t.Errorf("%d sign-up audit entries", n)
		}
		// Both links are spent now.
		for _, l := range []string{link, intruder} {
			resp, body = b.do(http.MethodGet, l, nil)
			want(t, resp, body, 404, "already used")
		}
		resp, body = b.do(http.MethodGet, e.iss+"/signup/confirm?token=cairn_sut_nope", nil)
		want(t, resp, body, 404, "not valid")
		// A sign-up link expires.
		signUp(b, "erin@example.com", "", newPassword)
		late := e.mail.link(t, "erin@example.com")
		e.clock.Advance(account.DefaultSignUpTTL + time.Second)
		resp, body = b.do(http.MethodGet, late, nil)
		want(t, resp, body, 404, "expired")
	})
}

func TestAccountPagesRateLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newAccountEnv(t, db, true)
		b := newBrowser(t)
		limited := func(resp *http.Response, body string) bool {
			t.Helper()
			if resp.StatusCode != http.StatusTooManyRequests {
				return false
			}
			if resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many attempts") {
				t.Fatalf("429 without Retry-After or message: %v %.300s", resp.Header, body)
			}
			return true
		}
		// Reset mails: per address, then per IP.
		var n int
		for n = 1; n <= 10; n++ {
			if limited(b.submit(e.iss+"/forgot-password", url.Values{"email": {"ada@example.com"}})) {
				break
			}
		}
		if n != 4 || len(e.mail.to("ada@example.com")) != 3 {
			t.Errorf("limited at the %dth reset of one address, %d mails", n, len(e.mail.to("ada@example.com")))
		}
		e.clock.Advance(time.Hour)
		for n = 1; n <= 10; n++ {
			if limited(b.submit(e.iss+"/forgot-password", url.Values{"email": {"user" + string(rune('a'+n)) + "@example.com"}})) {
				break
			}
		}
		if n != 6 {
			t.Errorf("limited at the %dth reset from one IP", n)
		}
		// Sign-ups per IP.
		for n = 1; n <= 10; n++ {
			pw := url.Values{"password": {newPassword}, "password_confirm": {newPassword}}
			pw.Set("email", "new"+string(rune('a'+n))+"@example.com")
			if limited(b.submit(e.iss+"/signup", pw)) {
				break
			}
		}
		if n != 6 {
			t.Errorf("limited at the %dth sign-up from one IP", n)
		}
	})
}
