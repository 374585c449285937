package mfa

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: RFC 6238's defaults, which every authenticator app
// supports.
const (
	Period     = 30 * time.Second
	Digits     = 6
	secretSize = 20 // bytes: SHA-1's block-friendly 160 bits
	// Drift is how many time steps a code may be early or late.
	Drift = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Code returns the RFC 6238 code (HMAC-SHA-1) of secret at time t, with
// digits digits.
func Code(secret []byte, t time.Time, digits int) (string, error) {
	return code(secret, step(t), digits)
}

func step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

func code(secret []byte, step int64, digits int) (string, error) {
	return hotp.GenerateCodeCustom(b32.EncodeToString(secret), uint64(step), hotp.ValidateOpts{
		Digits: otp.Digits(digits), Algorithm: otp.AlgorithmSHA1,
	})
}

// TOTPEnrollment is a TOTP factor waiting for its first code.
type TOTPEnrollment struct {
	FactorID string `json:"factor_id"`
	// Secret is the base32 secret to type into an app; URL the otpauth://
	// URL to show as a QR code. Shown once.
	Secret string `json:"secret"`
	URL    string `json:"otpauth_url"`
}

// EnrollTOTP starts enrolling an authenticator app for u: the secret is
// stored sealed and the factor counts once ConfirmTOTP checks a first code.
// A user who already has a factor needs a recent MFA check in this session.
func (s *Service) EnrollTOTP(ctx context.Context, u *cairn.User, sessionID, name string) (*TOTPEnrollment, error) {
	if err := s.requireOwnerStepUp(ctx, u.ID, sessionID); err != nil {
		return nil, err
	}
	key, err := s.totpKey(u, nil)
	if err != nil {
		return nil, err
	}
	secret, err := b32.DecodeString(key.Secret())
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	f := &cairn.MFAFactor{ID: sqldb.NewID(), UserID: u.ID, Kind: cairn.MFATOTP, Name: strings.TrimSpace(name)}
	if f.Name == "" {
		f.Name = "Authenticator app"
	}
	if f.SecretEnc, err = s.Keys.Seal(secret, secrets.AD("mfa_factors", "secret_enc", f.ID)); err != nil {
		return nil, err
	}
	if err := s.DB.CreateMFAFactor(ctx, f); err != nil {
		return nil, err
	}
	return &TOTPEnrollment{FactorID: f.ID, Secret: key.Secret(), URL: key.URL()}, nil
}

// totpKey is u's authenticator app key with secret (a new random one when
// nil).
func (s *Service) totpKey(u *cairn.User, secret []byte) (*otp.Key, error) {
	issuer := s.Issuer
	if issuer == "" {
		issuer = "cairn"
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: u.Email, Period: uint(Period / time.Second),
		SecretSize: secretSize, Secret: secret, Digits: otp.Digits(Digits), Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	return key, nil
}

// PendingTOTP returns again the key of an enrollment still waiting for
// its first code, so that a page can show it again after a mistyped code
// instead of making the user add a new key to the app. It needs what
// EnrollTOTP needs.
func (s *Service) PendingTOTP(ctx context.Context, u *cairn.User, sessionID, factorID string) (*TOTPEnrollment, error) {
	if err := s.requireOwnerStepUp(ctx, u.ID, sessionID); err != nil {
		return nil, err
	}
	f, err := s.DB.FindMFAFactor(ctx, u.ID, factorID)
	if err != nil {
		return nil, err
	}
	if f.Kind != cairn.MFATOTP || f.ConfirmedAt != nil {
		return nil, cairn.Errorf(cairn.ECONFLICT, "this factor is not waiting for confirmation")
	}
	secret, err := s.Keys.Open(f.SecretEnc, secrets.AD("mfa_factors", "secret_enc", f.ID))
	if err != nil {
		return nil, err
	}
	key, err := s.totpKey(u, secret)
	if err != nil {
		return nil, err
	}
	return &TOTPEnrollment{FactorID: f.ID, Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTP confirms an enrollment with a first code from the app. The
// session counts as having passed MFA. The user's recovery codes come with
// the first factor.
func (s *Service) ConfirmTOTP(ctx context.Context, userID, sessionID, factorID, code string) (*Enrolled, error) {
	if err := s.allow(ctx, userID); err != nil {
		return nil, err
	}
	f, err := s.DB.FindMFAFactor(ctx, userID, factorID)
	if err != nil {
		return nil, err
	}
	if f.Kind != cairn.MFATOTP || f.ConfirmedAt != nil {
		return nil, cairn.Errorf(cairn.ECONFLICT, "this factor is not waiting for confirmation")
	}
	st, ok, err := s.match(f, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, s.outcome(ctx, userID, sessionID, cairn.MFATOTP, false)
	}
	if err := s.DB.ConfirmTOTPFactor(ctx, userID, f.ID, st); err != nil {
		return nil, err
	}
	if err := s.outcome(ctx, userID, sessionID, cairn.MFATOTP, true); err != nil {
		return nil, err
	}
	if f, err = s.DB.FindMFAFactor(ctx, userID, factorID); err != nil {
		return nil, err
	}
	return s.enrolled(ctx, f)
}

// VerifyTOTP checks a code against the user's authenticator apps. A code
// is accepted one step early or late, and once: a code of a step at or
// before the last accepted one is refused.
func (s *Service) VerifyTOTP(ctx context.Context, userID, sessionID, code string) error {
	if err := s.allow(ctx, userID); err != nil {
		return err
	}
	fs, err := s.Factors(ctx, userID)
	if err != nil {
		return err
	}
	for i := range fs {
		if fs[i].Kind != cairn.MFATOTP {
			continue
		}
		st, ok, err := s.match(&fs[i], code)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		err = s.DB.UseTOTPStep(ctx, userID, fs[i].ID, st)
		if cairn.ErrorCode(err) == cairn.ECONFLICT {
			continue // used meanwhile by a concurrent request
		} else if err != nil {
			return err
		}
		return s.outcome(ctx, userID, sessionID, cairn.MFATOTP, true)
	}
	return s.outcome(ctx, userID, sessionID, cairn.MFATOTP, false)
}

// match returns the latest time step within the drift, after the factor's
// last used step, whose code is the given one. Every candidate is compared
// in constant time.
func (s *Service) match(f *cairn.MFAFactor, given string) (int64, bool, error) {
	given = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, given)
	if len(given) != Digits {
		return 0, false, nil
	}
	secret, err := s.Keys.Open(f.SecretEnc, secrets.AD("mfa_factors", "secret_enc", f.ID))
	if err != nil {
		return 0, false, err
	}
	now := step(s.now())
	var found int64
	ok := false
	for st := now - Drift; st <= now+Drift; st++ {
		c, err := code(secret, st, Digits)
		if err != nil {
			return 0, false, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
		}
		if subtle.ConstantTimeCompare([]byte(c), []byte(given)) == 1 && st > f.LastStep {
			found, ok = st, true
		}
	}
	return found, ok, nil
}
