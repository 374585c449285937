package oauth

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/mfa"
)

// Sign-in's second step. After the right password, a user who has a
// second factor, or must have one (mfa.Policy.Required: admin, support,
// or everyone by policy), gets a pending session instead of a signed-in
// one and is sent to /login/mfa: to pass a TOTP code, a recovery code or
// a passkey, or, without any factor yet, to enroll an authenticator app.
//
// The pending state is a web_sessions row marked pending, under the usual
// session cookie, that signs nobody in (webSession refuses it) and lives
// pendingLifespan. A row rather than a signed cookie: the row is spent
// when the second step succeeds (a new session id replaces it, as after
// any sign-in), sign-out ends it, and the CSRF tokens are already bound
// to the session cookie; a signed cookie would stay valid for its whole
// lifetime however often it was presented, and could not be ended.

// pendingLifespan is how long the second step may take after the password.
const pendingLifespan = 10 * time.Minute

// mfaView is what the second step's pages show.
type mfaView struct {
	TOTP, Recovery, Passkey bool   // the ways this user can pass
	Ceremony                string // a passkey ceremony's id
	PasskeyOptions          string // its options, for navigator.credentials.get()
	FactorID, Secret, URL   string // an authenticator app being enrolled
	RecoveryCodes           []string
}

// secondStepDue reports whether u must pass (or enroll) a second factor
// before being signed in.
func (s *Server) secondStepDue(r *http.Request, u *cairn.User) (bool, error) {
	if s.cfg.MFA == nil {
		return false, nil
	}
	st, err := s.cfg.MFA.Status(s.userContext(r, u), u)
	if err != nil {
		return false, err
	}
	return st.Required || len(st.Methods) > 0, nil
}

// startSecondStep gives the browser a pending session and sends it to the
// second step.
func (s *Server) startSecondStep(w http.ResponseWriter, r *http.Request, u *cairn.User, returnTo string) {
	value := randomString(32)
	ws := &cairn.WebSession{Hash: hashOf(value), UserID: u.ID, Pending: true, ExpiresAt: s.now().Add(pendingLifespan)}
	if err := s.cfg.Store.CreateWebSession(sys(r.Context()), ws); err != nil {
		s.log.ErrorContext(r.Context(), "create pending session", "err", err)
		s.errorPage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return
	}
	s.setCookie(w, r, sessionCookie, value, int(pendingLifespan.Seconds()))
	next := "/login/mfa"
	if returnTo != "" {
		next += "?return_to=" + url.QueryEscape(returnTo)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// userContext acts as u, from the request's client (the MFA limits count
// per IP and per user).
func (s *Server) userContext(r *http.Request, u *cairn.User) context.Context {
	return cairn.WithActor(s.clientCtx(r), cairn.UserActor(u, nil, ""))
}

// loginMFA is the second step: GET shows it, POST checks a factor or
// confirms an enrollment.
func (s *Server) loginMFA(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "The request is malformed.")
		return
	}
	returnTo := safeReturn(r.Form.Get("return_to"))
	ws, u, err := s.webSession(r)
	if err != nil {
		s.log.ErrorContext(r.Context(), "session lookup", "err", err)
		s.errorPage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return
	}
	if ws == nil || !ws.Pending || s.cfg.MFA == nil {
		// Nothing waits for a second factor here: expired, finished, or
		// never started. Start again from the password.
		if r.Method == http.MethodGet {
			http.Redirect(w, r, "/login?return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
			return
		}
		s.errorPage(w, http.StatusUnauthorized, "Your sign-in has expired. Please sign in again.")
		return
	}
	if r.Method == http.MethodPost && !s.checkCSRF(r) {
		s.errorPage(w, http.StatusForbidden, "The form has expired. Go back, reload the page and try again.")
		return
	}
	ctx := s.userContext(r, u)
	st, err := s.cfg.MFA.Status(ctx, u)
	if err != nil {
		s.log.ErrorContext(r.Context(), "MFA status", "err", err)
		s.errorPage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return
	}
	d := pageData{Title: "Confirm it is you", Email: u.Email, ReturnTo: returnTo, MFA: &mfaView{
		TOTP:     slices.Contains(st.Methods, cairn.MFATOTP),
		Recovery: slices.Contains(st.Methods, cairn.MFARecoveryCode),
		Passkey:  slices.Contains(st.Methods, cairn.MFAWebAuthn),
	}}
	switch {
	case len(st.Methods) > 0:
		s.verifyStep(ctx, w, r, ws, u, d)
	case st.Required:
		s.enrollStep(ctx, w, r, ws, u, d)
	default:
		// The user's last factor went meanwhile and none is required.
		if s.promote(w, r, ws, u, "") {
			s.afterSignIn(w, r, u, returnTo)
		}
	}
}

// verifyStep checks the factor the form names.
func (s *Server) verifyStep(ctx context.Context, w http.ResponseWriter, r *http.Request, ws *cairn.WebSession, u *cairn.User, d pageData) {
	if r.Method == http.MethodGet {
		s.renderVerify(ctx, w, r, u, d, http.StatusOK)
		return
	}
	// No session id: the check is recorded on the new web session below,
	// and from there on the grants issued from it.
	method, code := r.PostForm.Get("method"), r.PostForm.Get("code")
	var err error
	switch method {
	case cairn.MFATOTP:
		err = s.cfg.MFA.VerifyTOTP(ctx, u.ID, "", code)
	case cairn.MFARecoveryCode:
		err = s.cfg.MFA.VerifyRecoveryCode(ctx, u.ID, "", code)
	case cairn.MFAWebAuthn:
		err = s.cfg.MFA.FinishPasskeyLogin(ctx, u, "", r.PostForm.Get("ceremony"), []byte(r.PostForm.Get("assertion")))
	default:
		err = cairn.Errorf(cairn.EVALIDATION, "Choose how to confirm it is you.")
	}
	if err != nil {
		status, ok := s.mfaRefused(w, r, u, method, err, &d)
		if ok {
			s.renderVerify(ctx, w, r, u, d, status)
		}
		return
	}
	s.audit(r, &cairn.AuditEntry{ActorID: u.ID, UserID: u.ID, Action: cairn.AuditMFAVerify,
		Details: auditDetails(map[string]any{"method": method, "session": "web"})})
	if s.promote(w, r, ws, u, method) {
		s.afterSignIn(w, r, u, d.ReturnTo)
	}
}

// renderVerify shows the second step's page, with a new passkey ceremony
// when the user has passkeys.
func (s *Server) renderVerify(ctx context.Context, w http.ResponseWriter, r *http.Request, u *cairn.User, d pageData, status int) {
	if d.MFA.Passkey {
		c, err := s.cfg.MFA.BeginPasskeyLogin(ctx, u)
		if err != nil {
			s.log.ErrorContext(r.Context(), "begin passkey login", "err", err)
			d.MFA.Passkey = false
		} else {
			d.MFA.Ceremony, d.MFA.PasskeyOptions, d.Nonce = c.ID, string(c.Options), randomString(16)
		}
	}
	d.CSRF = s.csrfToken(w, r, cookieValue(r, sessionCookie))
	s.render(w, status, "mfa.html", d)
}

// enrollStep makes a user who must use MFA but has no factor add an
// authenticator app: GET shows a new key, POST confirms it with a code
// and shows the recovery codes, once.
func (s *Server) enrollStep(ctx context.Context, w http.ResponseWriter, r *http.Request, ws *cairn.WebSession, u *cairn.User, d pageData) {
	d.Title = "Set up a second factor"
	if r.Method == http.MethodGet {
		s.renderEnroll(ctx, w, r, u, d, "", http.StatusOK)
		return
	}
	factorID := r.PostForm.Get("factor_id")
	done, err := s.cfg.MFA.ConfirmTOTP(ctx, u.ID, "", factorID, r.PostForm.Get("code"))
	if err != nil {
		status, ok := s.mfaRefused(w, r, u, cairn.MFATOTP, err, &d)
		if ok {
			s.renderEnroll(ctx, w, r, u, d, factorID, status)
		}
		return
	}
	if !s.promote(w, r, ws, u, cairn.MFATOTP) {
		return
	}
	d.Title, d.User, d.MFA = "Save your recovery codes", u, &mfaView{RecoveryCodes: done.RecoveryCodes}
	s.render(w, http.StatusOK, "mfa_codes.html", d)
}

// renderEnroll shows the key being enrolled (factorID), or a new one.
func (s *Server) renderEnroll(ctx context.Context, w http.ResponseWriter, r *http.Request, u *cairn.User, d pageData, factorID string, status int) {
	var en *mfa.TOTPEnrollment
	var err error
	if factorID != "" {
		en, err = s.cfg.MFA.PendingTOTP(ctx, u, "", factorID)
	}
	if factorID == "" || cairn.ErrorCode(err) == cairn.ENOTFOUND || cairn.ErrorCode(err) == cairn.ECONFLICT {
		en, err = s.cfg.MFA.EnrollTOTP(ctx, u, "", "Authenticator app")
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "enroll TOTP at sign-in", "err", err)
		s.errorPage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return
	}
	d.MFA.FactorID, d.MFA.Secret, d.MFA.URL = en.FactorID, en.Secret, en.URL
	d.CSRF = s.csrfToken(w, r, cookieValue(r, sessionCookie))
	s.render(w, status, "mfa_enroll.html", d)
}

// mfaRefused explains a refused check on d and returns the page's status,
// or answers itself (false). Wrong codes are audited; the limits were
// counted by the MFA service.
func (s *Server) mfaRefused(w http.ResponseWriter, r *http.Request, u *cairn.User, method string, err error, d *pageData) (int, bool) {
	switch cairn.ErrorCode(err) {
	case cairn.ERATELIMITED:
		setRetryAfter(w, err)
		d.Error = "Too many attempts. Wait a while and try again."
		return http.StatusTooManyRequests, true
	case cairn.EUNAUTHENTICATED:
		s.audit(r, &cairn.AuditEntry{ActorID: u.ID, UserID: u.ID, Action: cairn.AuditMFAFailure,
			Details: auditDetails(map[string]any{"method": method, "session": "web"})})
		d.Error = "That did not work: the code is wrong or was already used."
		return http.StatusUnauthorized, true
	case cairn.EVALIDATION, cairn.EPRECONDITION:
		// A passkey ceremony that is gone, or passkeys turned off.
		d.Error = cairn.ErrorMessage(err)
		return http.StatusBadRequest, true
	case cairn.ENOTFOUND, cairn.ECONFLICT:
		// An enrollment confirmed or gone meanwhile: a new key is shown.
		d.Error = "That key is no longer being set up. Add this one to your app instead."
		return http.StatusConflict, true
	}
	s.log.ErrorContext(r.Context(), "MFA check", "err", err)
	s.errorPage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
	return 0, false
}

// promote signs the browser in: a new session (a new id: no fixation),
// which passed MFA by method now unless method is empty, replaces the
// pending one.
func (s *Server) promote(w http.ResponseWriter, r *http.Request, pending *cairn.WebSession, u *cairn.User, method string) bool {
	ctx := sys(r.Context())
	value := randomString(32)
	ws := &cairn.WebSession{Hash: hashOf(value), UserID: u.ID, ExpiresAt: s.now().Add(s.cfg.SessionLifespan)}
	if method != "" {
		at := s.now()
		ws.MFAAt, ws.MFAMethod = &at, method
	}
	if err := s.cfg.Store.CreateWebSession(ctx, ws); err != nil {
		s.log.ErrorContext(r.Context(), "create session", "err", err)
		s.errorPage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again.")
		return false
	}
	if pending != nil {
		if err := s.cfg.Store.DeleteWebSession(ctx, pending.Hash); err != nil {
			// It expires within minutes and signs nobody in meanwhile.
			s.log.ErrorContext(r.Context(), "delete pending session", "err", err)
		}
	}
	s.setCookie(w, r, sessionCookie, value, int(s.cfg.SessionLifespan.Seconds()))
	return true
}

// afterSignIn sends a signed-in browser back where it came from.
func (s *Server) afterSignIn(w http.ResponseWriter, r *http.Request, u *cairn.User, returnTo string) {
	if returnTo != "" {
		http.Redirect(w, r, returnTo, http.StatusSeeOther)
		return
	}
	s.render(w, http.StatusOK, "message.html", pageData{Title: "Signed in", User: u,
		Message: "You are signed in. Go back to the app that sent you here."})
}

// grantMFA gives the grant about to be issued from this browser
// (requestID: the session of its tokens, "grant:<id>") the MFA check the
// browser passed at sign-in, at that check's own time: the tokens pass
// step-up until mfa.StepUpWindow after the check, as the browser would,
// and not longer.
func (s *Server) grantMFA(r *http.Request, u *cairn.User, requestID string) error {
	if s.cfg.MFA == nil {
		return nil
	}
	ws, _, err := s.webSession(r)
	if err != nil || ws == nil || ws.MFAAt == nil {
		return err
	}
	return s.cfg.MFA.MarkVerifiedAt(s.userContext(r, u), u.ID, "grant:"+requestID, ws.MFAMethod, *ws.MFAAt)
}
