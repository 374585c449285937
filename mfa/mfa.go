// Package mfa is multi-factor authentication: TOTP authenticator apps
// (RFC 6238 through github.com/pquerna/otp), single-use recovery codes,
// WebAuthn passkeys (github.com/go-webauthn/webauthn), the record of when
// each session last passed an MFA check (for step-up), and the policy of
// who must use MFA.
//
// Every check that passes records the session it was made for; callers
// protect sensitive operations with RequireRecent (a check within the last
// StepUpWindow, else STEP_UP_REQUIRED). Managing one's factors needs such
// a recent check once a first factor exists, so that a stolen session
// cannot add an attacker's authenticator or remove the owner's.
package mfa

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/go-webauthn/webauthn/webauthn"
)

// StepUpWindow is how recent an MFA check must be for a sensitive
// operation.
const StepUpWindow = 5 * time.Minute

// Service runs enrollment and checks.
type Service struct {
	DB   *sqldb.DB
	Keys *secrets.Keyring
	// WebAuthn is the relying party (see NewWebAuthn); nil turns passkeys off.
	WebAuthn *webauthn.WebAuthn
	// Limiter slows down code guessing (ratelimit.MFA, per IP and per user);
	// nil does not limit.
	Limiter *ratelimit.Limiter
	Policy  Policy
	// Issuer names cairn in authenticator apps; "cairn" when empty.
	Issuer string
	// Now is the clock of TOTP steps and of step-up checks; time.Now when nil.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Policy says who must use MFA.
type Policy struct {
	// RequireAll requires MFA of every user, not only of admins and support.
	RequireAll bool
}

// Required reports whether u must pass MFA to sign in: always for the
// admin and support roles, and for everyone under RequireAll.
func (p Policy) Required(u *cairn.User) bool {
	return p.RequireAll || u.HasRole(cairn.RoleAdmin) || u.HasRole(cairn.RoleSupport)
}

// Status is what the login flow needs to know of a user.
type Status struct {
	// Required: the user must pass MFA (Policy.Required).
	Required bool `json:"required"`
	// Methods the user can pass MFA with: totp, webauthn, recovery_code.
	// None while Required means the user must enroll before going on.
	Methods []string `json:"methods"`
}

// Status returns whether u must pass MFA and by which methods it can.
func (s *Service) Status(ctx context.Context, u *cairn.User) (*Status, error) {
	fs, err := s.Factors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	st := &Status{Required: s.Policy.Required(u), Methods: []string{}}
	seen := map[string]bool{}
	for _, f := range fs {
		if !seen[f.Kind] && (f.Kind != cairn.MFAWebAuthn || s.WebAuthn != nil) {
			seen[f.Kind] = true
			st.Methods = append(st.Methods, f.Kind)
		}
	}
	if len(st.Methods) > 0 {
		codes, err := s.DB.UnusedRecoveryCodes(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if len(codes) > 0 {
			st.Methods = append(st.Methods, cairn.MFARecoveryCode)
		}
	}
	return st, nil
}

// Factors returns the user's confirmed factors, oldest first.
func (s *Service) Factors(ctx context.Context, userID string) ([]cairn.MFAFactor, error) {
	all, err := s.DB.MFAFactors(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]cairn.MFAFactor, 0, len(all))
	for _, f := range all {
		if f.ConfirmedAt != nil {
			out = append(out, f)
		}
	}
	return out, nil
}

// RemoveFactor removes one of the user's factors. The user needs a recent
// MFA check in this session; an admin acting on another user (who lost a
// device, say) does not. Removing the last factor also removes the
// recovery codes.
func (s *Service) RemoveFactor(ctx context.Context, userID, sessionID, factorID string) error {
	if err := s.requireOwnerStepUp(ctx, userID, sessionID); err != nil {
		return err
	}
	f, err := s.DB.FindMFAFactor(ctx, userID, factorID)
	if err != nil {
		return err
	}
	if err := s.DB.DeleteMFAFactor(ctx, userID, factorID); err != nil {
		return err
	}
	left, err := s.Factors(ctx, userID)
	if err != nil {
		return err
	}
	if len(left) == 0 {
		if err := s.DB.ReplaceRecoveryCodes(ctx, userID, nil); err != nil {
			return err
		}
	}
	return s.audit(ctx, userID, cairn.AuditMFARemove, map[string]any{"factor_id": f.ID, "kind": f.Kind, "name": f.Name})
}

// MarkVerified records that a session passed an MFA check by method now
// (the checks here do it themselves; a login flow that checks elsewhere
// may call it).
func (s *Service) MarkVerified(ctx context.Context, userID, sessionID, method string) error {
	if sessionID == "" {
		return nil
	}
	_, err := s.DB.RecordMFASession(ctx, userID, sessionID, method)
	return err
}

// MarkVerifiedAt records that a session passed an MFA check by method at
// a given time: an OAuth grant issued from a browser that passed MFA at
// sign-in inherits that check, and its step-up window ends when the
// browser's does.
func (s *Service) MarkVerifiedAt(ctx context.Context, userID, sessionID, method string, at time.Time) error {
	if sessionID == "" {
		return nil
	}
	return s.DB.RecordMFASessionAt(ctx, userID, sessionID, method, at)
}

// RequireRecent answers STEP_UP_REQUIRED unless the session passed an MFA
// check within StepUpWindow.
func (s *Service) RequireRecent(ctx context.Context, userID, sessionID string) error {
	stepUp := cairn.Errorf(cairn.ESTEPUPREQUIRED, "confirm with a second factor to continue")
	if sessionID == "" {
		return stepUp
	}
	at, _, err := s.DB.MFASessionVerifiedAt(ctx, userID, sessionID)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return stepUp
	} else if err != nil {
		return err
	}
	if s.now().Sub(at) > StepUpWindow {
		return stepUp
	}
	return nil
}

// requireOwnerStepUp asks for a recent check when the user manages their
// own factors and already has one; admins acting on another user and the
// system pass.
func (s *Service) requireOwnerStepUp(ctx context.Context, userID, sessionID string) error {
	a, ok := cairn.ActorFrom(ctx)
	if !ok {
		return cairn.Errorf(cairn.EINTERNAL, "internal error")
	}
	if a.System || (a.Admin && a.UserID != userID) {
		return nil
	}
	fs, err := s.Factors(ctx, userID)
	if err != nil || len(fs) == 0 {
		return err
	}
	return s.RequireRecent(ctx, userID, sessionID)
}

// allow asks the limiter for an attempt by userID from the context's client.
func (s *Service) allow(ctx context.Context, userID string) error {
	if s.Limiter == nil {
		return nil
	}
	return s.Limiter.Allow(ratelimit.MFA, cairn.ClientFrom(ctx).IP, userID)
}

// outcome reports a check's outcome to the limiter and, on success, records
// the session's check.
func (s *Service) outcome(ctx context.Context, userID, sessionID, method string, ok bool) error {
	ip := cairn.ClientFrom(ctx).IP
	if !ok {
		if s.Limiter != nil {
			s.Limiter.Fail(ratelimit.MFA, ip, userID)
		}
		if method == cairn.MFAWebAuthn {
			return cairn.Errorf(cairn.EUNAUTHENTICATED, "the passkey's answer is not valid")
		}
		return cairn.Errorf(cairn.EUNAUTHENTICATED, "the code is not valid")
	}
	if s.Limiter != nil {
		s.Limiter.Succeed(ratelimit.MFA, ip, userID)
	}
	return s.MarkVerified(ctx, userID, sessionID, method)
}

func (s *Service) audit(ctx context.Context, userID, action string, details map[string]any) error {
	b, err := json.Marshal(details)
	if err != nil {
		return cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	return s.DB.RecordAudit(ctx, &cairn.AuditEntry{UserID: userID, Action: action, Details: b})
}

// Enrolled is a newly confirmed factor, with the user's recovery codes when
// this was the first factor (shown once).
type Enrolled struct {
	Factor        cairn.MFAFactor `json:"factor"`
	RecoveryCodes []string        `json:"recovery_codes,omitempty"`
}

// enrolled finishes an enrollment: recovery codes when the user has none,
// and the audit entry.
func (s *Service) enrolled(ctx context.Context, f *cairn.MFAFactor) (*Enrolled, error) {
	out := &Enrolled{Factor: *f}
	codes, err := s.DB.UnusedRecoveryCodes(ctx, f.UserID)
	if err != nil {
		return nil, err
	}
	if len(codes) == 0 {
		if out.RecoveryCodes, err = s.newRecoveryCodes(ctx, f.UserID); err != nil {
			return nil, err
		}
	}
	if err := s.audit(ctx, f.UserID, cairn.AuditMFAEnroll, map[string]any{"factor_id": f.ID, "kind": f.Kind, "name": f.Name}); err != nil {
		return nil, err
	}
	return out, nil
}
