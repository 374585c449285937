package cairn

import (
	"encoding/json"
	"time"
)

// Second factor kinds, and the methods an MFA check can pass by.
const (
	MFATOTP         = "totp"
	MFAWebAuthn     = "webauthn"
	MFARecoveryCode = "recovery_code"
)

// MFAFactor is a second factor of a user: a TOTP authenticator app or a
// WebAuthn passkey. A factor counts once it is confirmed (a first code
// checked, or a passkey registration finished).
type MFAFactor struct {
	ID     string `json:"id"`
	UserID string `json:"user_id"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	// SecretEnc is a TOTP factor's secret, sealed by the keyring.
	SecretEnc []byte `json:"-"`
	// LastStep is the TOTP time step of the last accepted code: a code of
	// this step or an earlier one is refused (each code works once).
	LastStep int64 `json:"-"`
	// CredentialID and Credential are a passkey's WebAuthn credential id
	// and record (public key, sign count, flags).
	CredentialID []byte          `json:"-"`
	Credential   json.RawMessage `json:"-"`
	ConfirmedAt  *time.Time      `json:"confirmed_at,omitempty"`
	LastUsedAt   *time.Time      `json:"last_used_at,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// RecoveryCode is the stored form of a single-use recovery code: its hash.
type RecoveryCode struct {
	ID        string
	UserID    string
	Hash      []byte
	UsedAt    *time.Time
	CreatedAt time.Time
}
