package oauth

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/cairn-fit/cairn"
)

// The account pages a person reaches from the sign-in page or a mail:
// asking for a password reset, choosing a password from a reset or
// invitation link, signing up (when the server is open to it) and
// confirming a sign-up. They share the sign-in page's rendering, CSRF,
// cookies and headers; the rules (tokens, password policy, hashing,
// mail, rate limits of mails) are the account service's.

// Accounts is what the account pages need of the account service
// (account.Service). Without it the pages answer 404.
type Accounts interface {
	// RequestPasswordReset mails a reset link, answering nil whether or
	// not the address has an account; RATE_LIMITED per IP and address.
	RequestPasswordReset(ctx context.Context, email string) error
	// ResetTokenUser returns whose password a reset or invitation token
	// sets, or why it cannot be used (NOT_FOUND, with a message saying
	// whether it is unknown, used or expired).
	ResetTokenUser(ctx context.Context, token string) (*cairn.User, error)
	// ResetPassword sets the password and signs the user out everywhere.
	ResetPassword(ctx context.Context, token, password string) error
	// SignUpOpen reports whether anyone may sign up.
	SignUpOpen() bool
	// SignUp mails a confirmation link, answering the same whether or not
	// the address has an account.
	SignUp(ctx context.Context, email, name, password string) error
	// SignUpEmail returns the address a sign-up token confirms, or why it
	// cannot be used.
	SignUpEmail(ctx context.Context, token string) (string, error)
	// ConfirmSignUp creates the account, given the password chosen at
	// sign-up (UNAUTHENTICATED when it is not).
	ConfirmSignUp(ctx context.Context, token, password string) (*cairn.User, error)
}

// accountView holds the account pages' fields of pageData.
type accountView struct {
	Enabled    bool // the account pages exist: the sign-in page links to them
	SignUpOpen bool // anyone may sign up: the sign-in page links there
	Token      string
	Name       string
	Link       string // where a notice sends the person next
	LinkText   string
}

// linkAccounts tells every page which account pages exist.
func (s *Server) linkAccounts(d *pageData) {
	d.Account.Enabled = s.cfg.Accounts != nil
	d.Account.SignUpOpen = d.Account.Enabled && s.cfg.Accounts.SignUpOpen()
}

const (
	formExpired = "The form has expired. Go back, reload the page and try again."
	ourFault    = "Something went wrong on our side. Please try again."
	tooMany     = "Too many attempts. Wait a while and try again."
)

// accounts returns the account service, or answers 404 without one.
func (s *Server) accounts(w http.ResponseWriter, r *http.Request) Accounts {
	if s.cfg.Accounts == nil {
		s.errorPage(w, http.StatusNotFound, "This page is not available on this server.")
	}
	return s.cfg.Accounts
}

// posted parses a POST form and checks its CSRF token, answering 403 when
// it fails.
func (s *Server) posted(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil || !s.checkCSRF(r) {
		s.errorPage(w, http.StatusForbidden, formExpired)
		return false
	}
	return true
}

// clientCtx carries the request's client, for the account service's rate
// limits and audit entries.
func (s *Server) clientCtx(r *http.Request) context.Context {
	return cairn.WithClient(r.Context(), s.cfg.TrustedProxies.Client(r))
}

// notice shows a message and where to go next.
func (s *Server) notice(w http.ResponseWriter, status int, d pageData, link, linkText string) {
	d.Account.Link, d.Account.LinkText = link, linkText
	s.render(w, status, "notice.html", d)
}

// form renders a form page again with an error: 429 with Retry-After
// when rate limited, 400 for invalid input, 500 (logged) otherwise.
func (s *Server) formError(w http.ResponseWriter, r *http.Request, name string, d pageData, err error) {
	status := http.StatusBadRequest
	switch cairn.ErrorCode(err) {
	case cairn.ERATELIMITED:
		setRetryAfter(w, err)
		status, d.Error = http.StatusTooManyRequests, tooMany
	case cairn.EVALIDATION:
		d.Error = fieldsMessage(err)
	case cairn.EUNAUTHENTICATED:
		status, d.Error = http.StatusUnauthorized, cairn.ErrorMessage(err)
	case cairn.ECONFLICT:
		status, d.Error = http.StatusConflict, cairn.ErrorMessage(err)
	default:
		s.log.ErrorContext(r.Context(), "account page", "page", name, "err", err)
		status, d.Error = http.StatusInternalServerError, ourFault
	}
	d.CSRF = s.csrfToken(w, r, cookieValue(r, sessionCookie))
	s.render(w, status, name, d)
}

// fieldsMessage turns a validation error into one sentence.
func fieldsMessage(err error) string {
	var ce *cairn.Error
	if !errors.As(err, &ce) || len(ce.Fields) == 0 {
		return cairn.ErrorMessage(err)
	}
	var parts []string
	for f, m := range ce.Fields {
		parts = append(parts, "the "+f+" "+m)
	}
	sort.Strings(parts)
	msg := strings.Join(parts, "; ")
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

// linkProblem answers a reset, invitation or sign-up link that cannot be
// used: the service's message says whether it is unknown, used or expired.
func (s *Server) linkProblem(w http.ResponseWriter, r *http.Request, err error, link, linkText string) {
	if cairn.ErrorCode(err) != cairn.ENOTFOUND {
		s.log.ErrorContext(r.Context(), "account link", "err", err)
		s.errorPage(w, http.StatusInternalServerError, ourFault)
		return
	}
	s.notice(w, http.StatusNotFound, pageData{Title: "This link does not work", Error: cairn.ErrorMessage(err)}, link, linkText)
}

// forgotPassword asks for a reset mail. The answer is the same whether or
// not the address has an account, and whether or not the mail could be
// sent (only existing accounts get one, so a mail failure shown here
// would tell that the account exists); failures are logged.
func (s *Server) forgotPassword(w http.ResponseWriter, r *http.Request) {
	acc := s.accounts(w, r)
	if acc == nil {
		return
	}
	d := pageData{Title: "Forgot your password?"}
	if r.Method == http.MethodGet {
		d.CSRF = s.csrfToken(w, r, cookieValue(r, sessionCookie))
		s.render(w, http.StatusOK, "forgot.html", d)
		return
	}
	if !s.posted(w, r) {
		return
	}
	d.Email = strings.TrimSpace(r.PostForm.Get("email"))
	if d.Email == "" {
		s.formError(w, r, "forgot.html", d, cairn.Invalid(map[string]string{"email": "is required"}))
		return
	}
	err := acc.RequestPasswordReset(s.clientCtx(r), d.Email)
	if cairn.ErrorCode(err) == cairn.ERATELIMITED {
		s.formError(w, r, "forgot.html", d, err)
		return
	} else if err != nil {
		s.log.ErrorContext(r.Context(), "password reset request", "err", err)
	}
	s.notice(w, http.StatusOK, pageData{Title: "Check your mail",
		Message: "If an account has the address " + d.Email + ", we sent it a link to choose a new password. " +
			"The link works once, for a limited time. No mail? Check the address and your spam folder, or ask again later."},
		"/login", "Back to sign in")
}

// resetPassword is the page of reset and invitation links: a new password
// twice. The token travels in the query, then in the form.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	acc := s.accounts(w, r)
	if acc == nil {
		return
	}
	if r.Method == http.MethodPost && !s.posted(w, r) {
		return
	}
	token := r.FormValue("token")
	u, err := acc.ResetTokenUser(r.Context(), token)
	if err != nil {
		s.linkProblem(w, r, err, "/forgot-password", "Ask for a new link")
		return
	}
	d := pageData{Title: "Choose a new password", Email: u.Email, Account: accountView{Token: token}}
	if u.PasswordHash == "" {
		d.Title = "Choose your password" // an invitation: the account has none yet
	}
	if r.Method == http.MethodGet {
		d.CSRF = s.csrfToken(w, r, cookieValue(r, sessionCookie))
		s.render(w, http.StatusOK, "reset.html", d)
		return
	}
	password := r.PostForm.Get("password")
	if password != r.PostForm.Get("password_confirm") {
		s.formError(w, r, "reset.html", d, cairn.Invalid(map[string]string{"password": "and its confirmation differ"}))
		return
	}
	switch err := acc.ResetPassword(s.clientCtx(r), token, password); {
	case cairn.ErrorCode(err) == cairn.ENOTFOUND:
		s.linkProblem(w, r, err, "/forgot-password", "Ask for a new link")
		return
	case err != nil:
		s.formError(w, r, "reset.html", d, err)
		return
	}
	// The service ended every session of the user, this browser's too if
	// it had one; its cookie goes as well.
	s.setCookie(w, r, sessionCookie, "", -1)
	s.notice(w, http.StatusOK, pageData{Title: "Your password is set",
		Message: "Sign in with your new password. Every sign-in of your account has ended, and apps you allowed will ask you again."},
		"/login", "Sign in")
}

// signUp creates an account waiting for its address to be confirmed, when
// the server is open to sign-ups; otherwise it says accounts come by
// invitation and creates nothing.
func (s *Server) signUp(w http.ResponseWriter, r *http.Request) {
	acc := s.accounts(w, r)
	if acc == nil {
		return
	}
	if !acc.SignUpOpen() {
		status := http.StatusOK
		if r.Method != http.MethodGet {
			status = http.StatusForbidden
		}
		s.notice(w, status, pageData{Title: "Accounts are by invitation",
			Message: "Accounts on this server are made by its administrators, who send an invitation by mail. Ask yours for one."},
			"/login", "Sign in")
		return
	}
	d := pageData{Title: "Create an account"}
	if r.Method == http.MethodGet {
		d.CSRF = s.csrfToken(w, r, cookieValue(r, sessionCookie))
		s.render(w, http.StatusOK, "signup.html", d)
		return
	}
	if !s.posted(w, r) {
		return
	}
	f := r.PostForm
	d.Email, d.Account.Name = strings.TrimSpace(f.Get("email")), strings.TrimSpace(f.Get("name"))
	if f.Get("password") != f.Get("password_confirm") {
		s.formError(w, r, "signup.html", d, cairn.Invalid(map[string]string{"password": "and its confirmation differ"}))
		return
	}
	if err := acc.SignUp(s.clientCtx(r), d.Email, d.Account.Name, f.Get("password")); err != nil {
		s.formError(w, r, "signup.html", d, err)
		return
	}
	// The same answer whether or not the address has an account.
	s.notice(w, http.StatusOK, pageData{Title: "Check your mail",
		Message: "We sent a link to " + strings.ToLower(d.Email) + ". Open it within a day to confirm your address and finish creating your account."},
		"/login", "Back to sign in")
}

// confirmSignUp is the page of sign-up links: the password chosen at
// sign-up creates the account and signs the person in as /login would
// (enrolling a second factor first when the policy wants one). Wrong
// passwords count as failed sign-ins.
func (s *Server) confirmSignUp(w http.ResponseWriter, r *http.Request) {
	acc := s.accounts(w, r)
	if acc == nil {
		return
	}
	if r.Method == http.MethodPost && !s.posted(w, r) {
		return
	}
	token := r.FormValue("token")
	email, err := acc.SignUpEmail(r.Context(), token)
	if err != nil {
		s.linkProblem(w, r, err, "/signup", "Sign up again")
		return
	}
	d := pageData{Title: "Confirm your account", Email: email, Account: accountView{Token: token}}
	if r.Method == http.MethodGet {
		d.CSRF = s.csrfToken(w, r, cookieValue(r, sessionCookie))
		s.render(w, http.StatusOK, "confirm.html", d)
		return
	}
	ip := s.clientIP(r)
	if err := s.allow(actionLogin, ip, email); err != nil {
		s.formError(w, r, "confirm.html", d, err)
		return
	}
	u, err := acc.ConfirmSignUp(s.clientCtx(r), token, r.PostForm.Get("password"))
	switch cairn.ErrorCode(err) {
	case "":
	case cairn.ENOTFOUND:
		s.linkProblem(w, r, err, "/signup", "Sign up again")
		return
	case cairn.EUNAUTHENTICATED:
		s.fail(actionLogin, ip, email)
		s.formError(w, r, "confirm.html", d, err)
		return
	default:
		s.formError(w, r, "confirm.html", d, err)
		return
	}
	s.succeed(actionLogin, ip, email)
	s.audit(r, &cairn.AuditEntry{ActorID: u.ID, UserID: u.ID, Action: cairn.AuditLoginSuccess})
	if !s.continueSignIn(w, r, u, "") {
		return
	}
	s.notice(w, http.StatusOK, pageData{Title: "Welcome to cairn", User: u,
		Message: "Your address is confirmed and your account is ready. You are signed in."}, "", "")
}
