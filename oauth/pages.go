package oauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/argon2id"
	"github.com/ory/fosite"
)

// The pages a person sees: sign-in, consent, device code entry. Every
// form carries a CSRF token: an HMAC, under a key derived from the
// server's secret, of a random per-browser cookie and the session cookie
// (signed double submit, bound to the session). Cookies are HttpOnly,
// SameSite=Lax (the authorization request arrives as a top-level
// navigation from the client's site) and Secure when the issuer is https
// or the request came over TLS.

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("").ParseFS(templateFS, "templates/*.html"))

const (
	sessionCookie = "cairn_session"
	csrfCookie    = "cairn_csrf"
)

// scopeText explains each scope on the consent pages.
var scopeText = map[cairn.Scope]string{
	cairn.ScopeProfileRead:    "See your profile: name, email, locale and time zone",
	cairn.ScopeActivityRead:   "See your activities, with their metrics, routes and summaries",
	cairn.ScopeActivityWrite:  "Add, change and delete your activities and workouts",
	cairn.ScopeHealthRead:     "See your health data: daily metrics, sleep, body composition",
	cairn.ScopeHealthWrite:    "Add and change your health data",
	cairn.ScopeAdmin:          "Administer cairn, with access to every user's data",
	cairn.ScopeWebhooksManage: "Manage webhook subscriptions",
	cairn.ScopeExport:         "Export your data",
	cairn.ScopeOfflineAccess:  "Keep this access while you are not using the app",
}

type scopeView struct{ Name, Text string }

// pageData is what every template gets.
type pageData struct {
	Title    string
	CSRF     string
	Error    string
	Message  string
	User     *cairn.User
	Email    string
	ReturnTo string
	Client   string
	Scopes   []scopeView
	Hidden   url.Values // the authorization request's parameters
	UserCode string
	Account  accountView // the account pages' fields (account_pages.go)
	MFA      *mfaView    // sign-in's second step
	Nonce    string      // allows the page's inline script (CSP)
}

func (s *Server) render(w http.ResponseWriter, status int, name string, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	csp := "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
	if d.Nonce != "" {
		csp += "; script-src 'nonce-" + d.Nonce + "'"
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	s.linkAccounts(&d)
	if err := pages.ExecuteTemplate(w, name, d); err != nil {
		s.log.Error("render page", "page", name, "err", err)
	}
}

func (s *Server) errorPage(w http.ResponseWriter, status int, msg string) {
	s.render(w, status, "message.html", pageData{Title: "Something is wrong", Error: msg})
}

func (s *Server) secureRequest(r *http.Request) bool { return s.secure || r.TLS != nil }

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.secureRequest(r), SameSite: http.SameSiteLaxMode})
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

func (s *Server) csrfMAC(browser, session string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(browser))
	m.Write([]byte{0})
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfToken returns the token for the forms of this response, setting the
// browser cookie first if there is none. session is the session cookie
// the next request will carry.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request, session string) string {
	browser := cookieValue(r, csrfCookie)
	if len(browser) < 32 {
		browser = randomString(32)
		s.setCookie(w, r, csrfCookie, browser, 0)
	}
	return s.csrfMAC(browser, session)
}

// checkCSRF verifies a posted form's token in constant time.
func (s *Server) checkCSRF(r *http.Request) bool {
	browser := cookieValue(r, csrfCookie)
	if browser == "" {
		return false
	}
	want := s.csrfMAC(browser, cookieValue(r, sessionCookie))
	return hmac.Equal([]byte(want), []byte(r.PostForm.Get("csrf")))
}

// user returns the signed-in user, or nil. A session still waiting for
// its second factor signs nobody in, nor does one without MFA of a user
// who must use it (a session from before the policy or the role).
func (s *Server) user(r *http.Request) (*cairn.User, error) {
	ws, u, err := s.webSession(r)
	if err != nil || ws == nil || ws.Pending {
		return nil, err
	}
	if s.cfg.MFA != nil && ws.MFAAt == nil && s.cfg.MFA.Policy.Required(u) {
		return nil, nil
	}
	return u, nil
}

// webSession returns the browser's unexpired session, pending or not, and
// its active user; nil, nil without one.
func (s *Server) webSession(r *http.Request) (*cairn.WebSession, *cairn.User, error) {
	v := cookieValue(r, sessionCookie)
	if v == "" {
		return nil, nil, nil
	}
	ctx := sys(r.Context())
	ws, err := s.cfg.Store.FindWebSession(ctx, hashOf(v))
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	if !s.now().Before(ws.ExpiresAt) {
		return nil, nil, nil
	}
	u, err := s.cfg.Users.FindUser(ctx, ws.UserID)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	if u.Status != cairn.UserActive {
		return nil, nil, nil
	}
	return ws, u, nil
}

// requireUser returns the signed-in user, or sends the browser to sign in
// and come back to this GET page (nil, handled).
func (s *Server) requireUser(w http.ResponseWriter, r *http.Request) *cairn.User {
	u, err := s.user(r)
	if err != nil {
		s.log.ErrorContext(r.Context(), "session lookup", "err", err)
		s.errorPage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return nil
	}
	if u != nil {
		return u
	}
	if r.Method != http.MethodGet {
		s.errorPage(w, http.StatusUnauthorized, "Your session has ended. Please start again from the app.")
		return nil
	}
	http.Redirect(w, r, "/login?return_to="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return nil
}

// safeReturn accepts only this server's OAuth pages as a place to return
// to after signing in: no open redirect.
func safeReturn(p string) string {
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/oauth/") ||
		strings.HasPrefix(p, "//") || strings.Contains(p, "\\") {
		return ""
	}
	return p
}

// login signs a user in with email and password (argon2id).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	returnTo := safeReturn(r.FormValue("return_to"))
	d := pageData{Title: "Sign in", ReturnTo: returnTo}
	if r.Method == http.MethodGet {
		d.CSRF = s.csrfToken(w, r, cookieValue(r, sessionCookie))
		s.render(w, http.StatusOK, "login.html", d)
		return
	}
	if !s.checkCSRF(r) {
		s.errorPage(w, http.StatusForbidden, "The form has expired. Go back, reload the page and try again.")
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	ip := s.clientIP(r)
	d.Email = email
	if err := s.allow(actionLogin, ip, email); err != nil {
		setRetryAfter(w, err)
		d.CSRF, d.Error = s.csrfToken(w, r, cookieValue(r, sessionCookie)), "Too many attempts. Wait a while and try again."
		s.render(w, http.StatusTooManyRequests, "login.html", d)
		return
	}
	ctx := sys(r.Context())
	u, err := s.cfg.Users.FindUserByEmail(ctx, email)
	if err != nil && cairn.ErrorCode(err) != cairn.ENOTFOUND {
		s.log.ErrorContext(r.Context(), "sign-in lookup", "err", err)
		s.errorPage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return
	}
	hash := s.dummyHash
	if u != nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	ok, _ := argon2id.Verify(password, hash)
	ok = ok && u != nil && u.PasswordHash != "" && u.Status == cairn.UserActive
	if !ok {
		s.fail(actionLogin, ip, email)
		failed := &cairn.AuditEntry{ActorID: "anonymous", Action: cairn.AuditLoginFailure, Details: auditDetails(map[string]any{"email": email})}
		if u != nil {
			failed.UserID = u.ID
		}
		s.audit(r, failed)
		d.CSRF, d.Error = s.csrfToken(w, r, cookieValue(r, sessionCookie)), "The email or the password is wrong."
		s.render(w, http.StatusUnauthorized, "login.html", d)
		return
	}
	s.succeed(actionLogin, ip, email)
	s.audit(r, &cairn.AuditEntry{ActorID: u.ID, UserID: u.ID, Action: cairn.AuditLoginSuccess})
	if s.continueSignIn(w, r, u, returnTo) {
		s.afterSignIn(w, r, u, returnTo)
	}
}

// continueSignIn takes over once u's password is accepted (sign-in, a
// confirmed sign-up): the second step when one is due, else a new
// session. It reports whether u is signed in; when not, it answered.
func (s *Server) continueSignIn(w http.ResponseWriter, r *http.Request, u *cairn.User, returnTo string) bool {
	if due, err := s.secondStepDue(r, u); err != nil {
		s.log.ErrorContext(r.Context(), "MFA status", "err", err)
		s.errorPage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return false
	} else if due {
		s.startSecondStep(w, r, u, returnTo)
		return false
	}
	return s.promote(w, r, nil, u, "")
}

// logout ends the session (POST, with CSRF); GET shows the button.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	session := cookieValue(r, sessionCookie)
	if r.Method == http.MethodGet {
		s.render(w, http.StatusOK, "logout.html", pageData{Title: "Sign out", CSRF: s.csrfToken(w, r, session)})
		return
	}
	if err := r.ParseForm(); err != nil || !s.checkCSRF(r) {
		s.errorPage(w, http.StatusForbidden, "The form has expired. Go back, reload the page and try again.")
		return
	}
	if session != "" {
		if err := s.cfg.Store.DeleteWebSession(sys(r.Context()), hashOf(session)); err != nil {
			s.log.ErrorContext(r.Context(), "delete session", "err", err)
		}
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	s.render(w, http.StatusOK, "message.html", pageData{Title: "Signed out", Message: "You are signed out."})
}

// grantable is what of the requested scopes this user can give: admin
// only by an admin.
func grantable(u *cairn.User, requested []string) []scopeView {
	var out []scopeView
	for _, name := range requested {
		sc := cairn.Scope(name)
		if !cairn.ValidScope(sc) || (sc == cairn.ScopeAdmin && !u.HasRole(cairn.RoleAdmin)) {
			continue
		}
		out = append(out, scopeView{Name: name, Text: scopeText[sc]})
	}
	return out
}

// authorize is the authorization endpoint: GET validates the request and
// shows the consent page (after sign-in); POST, from that page, grants
// or denies.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "The request is malformed.")
		return
	}
	client, msg := s.checkClientRedirect(r)
	if msg != "" {
		// Never redirect to a URI that is not registered exactly.
		s.errorPage(w, http.StatusBadRequest, msg)
		return
	}
	if r.Method == http.MethodPost && !s.checkCSRF(r) {
		s.errorPage(w, http.StatusForbidden, "The form has expired. Start again from the app.")
		return
	}
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err == nil {
		err = checkPKCE(ar)
	}
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	scopes := grantable(u, ar.GetRequestedScopes())
	if r.Method == http.MethodGet {
		hidden := url.Values{}
		for k, v := range r.Form {
			if k != "csrf" && k != "decision" {
				hidden[k] = v
			}
		}
		s.render(w, http.StatusOK, "consent.html", pageData{Title: "Allow access?", User: u, Client: client.Name,
			Scopes: scopes, Hidden: hidden, CSRF: s.csrfToken(w, r, cookieValue(r, sessionCookie))})
		return
	}
	if r.PostForm.Get("decision") != "allow" {
		s.provider.WriteAuthorizeError(ctx, w, ar, fosite.ErrAccessDenied.WithHint("The user denied the request."))
		return
	}
	for _, sc := range scopes {
		ar.GrantScope(sc.Name)
	}
	if err := s.grantMFA(r, u, ar.GetID()); err != nil {
		s.log.ErrorContext(ctx, "grant MFA", "err", err)
		s.provider.WriteAuthorizeError(ctx, w, ar, fosite.ErrServerError)
		return
	}
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, newSession(u.ID))
	if err != nil {
		if fosite.ErrorToRFC6749Error(err).CodeField >= 500 {
			s.log.ErrorContext(ctx, "authorize", "err", err)
		}
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	if !s.recordConsent(ctx, u.ID, ar.GetClient().GetID(), asScopes(ar.GetGrantedScopes())) {
		s.provider.WriteAuthorizeError(ctx, w, ar, fosite.ErrServerError)
		return
	}
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// checkPKCE refuses, before anyone signs in or consents, what fosite's
// PKCE handler would refuse only when issuing the code: a public client
// without a challenge, or a method other than S256.
func checkPKCE(ar fosite.AuthorizeRequester) error {
	challenge, method := ar.GetRequestForm().Get("code_challenge"), ar.GetRequestForm().Get("code_challenge_method")
	switch {
	case challenge == "" && ar.GetClient().IsPublic():
		return fosite.ErrInvalidRequest.WithHint("This client must send a PKCE code_challenge (S256).")
	case challenge != "" && method != "S256":
		return fosite.ErrInvalidRequest.WithHint("The only code_challenge_method is S256.")
	}
	return nil
}

// checkClientRedirect enforces what fosite leaves loose: the redirect URI
// must equal a registered one exactly (fosite lets loopback URIs vary the
// port), and the client must be registered for the code grant. An
// unknown client is left to fosite.
func (s *Server) checkClientRedirect(r *http.Request) (*cairn.OAuthClient, string) {
	c, err := s.cfg.Store.FindOAuthClient(sys(r.Context()), r.Form.Get("client_id"))
	if err != nil {
		return &cairn.OAuthClient{}, ""
	}
	if !c.Allows(cairn.GrantAuthorizationCode) {
		return nil, "This application may not ask for access this way."
	}
	if uri := r.Form.Get("redirect_uri"); uri != "" && !slices.Contains(c.RedirectURIs, uri) {
		return nil, "The application's redirect address is not registered."
	}
	return c, ""
}

// devicePage is the user-code entry page of the device grant: GET shows
// the form, POST with a code shows what the device asks for, POST with a
// decision approves or denies.
func (s *Server) devicePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "The request is malformed.")
		return
	}
	u := s.requireUser(w, r)
	if u == nil {
		return
	}
	session := cookieValue(r, sessionCookie)
	d := pageData{Title: "Connect a device", User: u, UserCode: r.Form.Get("user_code")}
	if r.Method == http.MethodGet {
		d.CSRF = s.csrfToken(w, r, session)
		s.render(w, http.StatusOK, "device.html", d)
		return
	}
	if !s.checkCSRF(r) {
		s.errorPage(w, http.StatusForbidden, "The form has expired. Go back, reload the page and try again.")
		return
	}
	ip := s.clientIP(r)
	if err := s.allow(actionDevice, ip, u.ID); err != nil {
		setRetryAfter(w, err)
		d.CSRF, d.Error = s.csrfToken(w, r, session), "Too many attempts. Wait a while and try again."
		s.render(w, http.StatusTooManyRequests, "device.html", d)
		return
	}
	codeHash := hashOf(normalizeUserCode(d.UserCode))
	g, err := s.cfg.Store.FindDeviceGrantByUserCode(sys(ctx), codeHash)
	if err != nil && cairn.ErrorCode(err) != cairn.ENOTFOUND {
		s.log.ErrorContext(ctx, "device code lookup", "err", err)
		s.errorPage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return
	}
	if err != nil || g.Status != cairn.DevicePending || !s.now().Before(g.ExpiresAt) {
		s.fail(actionDevice, ip, u.ID)
		d.CSRF, d.Error = s.csrfToken(w, r, session), "This code is unknown or has expired. Check the code on your device."
		s.render(w, http.StatusBadRequest, "device.html", d)
		return
	}
	s.succeed(actionDevice, ip, u.ID)
	client, err := s.cfg.Store.FindOAuthClient(sys(ctx), g.ClientID)
	if err != nil {
		s.errorPage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return
	}
	var requested []string
	for _, sc := range g.Scopes {
		requested = append(requested, string(sc))
	}
	scopes := grantable(u, requested)
	switch r.PostForm.Get("decision") {
	case "":
		d.CSRF, d.Client, d.Scopes = s.csrfToken(w, r, session), client.Name, scopes
		s.render(w, http.StatusOK, "device_consent.html", d)
		return
	case "allow":
		granted := make([]cairn.Scope, len(scopes))
		for i, sc := range scopes {
			granted[i] = cairn.Scope(sc.Name)
		}
		if err := s.grantMFA(r, u, g.RequestID); err != nil {
			s.log.ErrorContext(ctx, "grant MFA", "err", err)
			s.errorPage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
			return
		}
		err = s.cfg.Store.DecideDeviceGrant(sys(ctx), codeHash, u.ID, granted, true, s.now())
		if err == nil && !s.recordConsent(ctx, u.ID, g.ClientID, granted) {
			s.errorPage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
			return
		}
		d.Message = "Your device is connected. You can go back to it now."
	default:
		err = s.cfg.Store.DecideDeviceGrant(sys(ctx), codeHash, u.ID, nil, false, s.now())
		d.Message = "The device was not connected."
	}
	if err != nil {
		s.errorPage(w, http.StatusBadRequest, "This code is unknown or has expired. Check the code on your device.")
		return
	}
	s.render(w, http.StatusOK, "message.html", d)
}
