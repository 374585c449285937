package mfa

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/cairn-fit/cairn"
)

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// A recovery code is 80 random bits in 16 base32 characters, shown as
// xxxx-xxxx-xxxx-xxxx. With that much entropy a salted SHA-256 is a safe
// stored form (no offline guessing), and checking needs no slow hash.
var recoveryAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

func newRecoveryCode() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	var sb strings.Builder
	for i, x := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(recoveryAlphabet[x&31])
	}
	return sb.String()
}

// recoveryHash is the stored form of a code, bound to its user.
func recoveryHash(userID, code string) []byte {
	code = strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, code)
	h := sha256.Sum256([]byte("cairn recovery code\x00" + userID + "\x00" + code))
	return h[:]
}

func (s *Service) newRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		hashes[i] = recoveryHash(userID, codes[i])
	}
	if err := s.DB.ReplaceRecoveryCodes(ctx, userID, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes with new ones,
// returned once. It needs a confirmed factor and, for the user, a recent
// MFA check in this session.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID, sessionID string) ([]string, error) {
	fs, err := s.Factors(ctx, userID)
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, cairn.Errorf(cairn.EPRECONDITION, "enroll a second factor first")
	}
	if err := s.requireOwnerStepUp(ctx, userID, sessionID); err != nil {
		return nil, err
	}
	codes, err := s.newRecoveryCodes(ctx, userID)
	if err != nil {
		return nil, err
	}
	return codes, s.audit(ctx, userID, cairn.AuditMFARecoveryCodes, nil)
}

// VerifyRecoveryCode checks a recovery code and uses it up. The code is
// compared with every unused code of the user, in constant time each.
func (s *Service) VerifyRecoveryCode(ctx context.Context, userID, sessionID, code string) error {
	if err := s.allow(ctx, userID); err != nil {
		return err
	}
	codes, err := s.DB.UnusedRecoveryCodes(ctx, userID)
	if err != nil {
		return err
	}
	given := recoveryHash(userID, code)
	match := -1
	for i, c := range codes {
		if subtle.ConstantTimeCompare(c.Hash, given) == 1 {
			match = i
		}
	}
	if match < 0 {
		return s.outcome(ctx, userID, sessionID, cairn.MFARecoveryCode, false)
	}
	err = s.DB.UseRecoveryCode(ctx, userID, codes[match].ID)
	if cairn.ErrorCode(err) == cairn.ECONFLICT {
		return s.outcome(ctx, userID, sessionID, cairn.MFARecoveryCode, false)
	} else if err != nil {
		return err
	}
	if err := s.outcome(ctx, userID, sessionID, cairn.MFARecoveryCode, true); err != nil {
		return err
	}
	return s.audit(ctx, userID, cairn.AuditMFARecoveryUsed, map[string]any{"left": len(codes) - 1})
}
