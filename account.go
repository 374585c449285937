package cairn

import (
	"context"
	"time"
)

// PasswordResetPrefix marks password reset tokens.
const PasswordResetPrefix = "cairn_prt_"

// PasswordReset is a single-use, expiring password reset token. Only the
// hash of the token is stored (HashToken: it has 256 bits of entropy).
type PasswordReset struct {
	ID        string
	UserID    string
	Hash      []byte
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// SignUpPrefix marks sign-up confirmation tokens.
const SignUpPrefix = "cairn_sut_"

// SignUp is a self-service sign-up waiting for its email address to be
// confirmed: the account is created only from it, when the owner of the
// address opens the mailed link. PasswordHash is the argon2id hash of the
// password chosen at sign-up; Hash the SHA-256 of the confirmation token
// (HashToken).
type SignUp struct {
	ID           string
	Email        string
	Name         string
	PasswordHash string
	Hash         []byte
	ExpiresAt    time.Time
	UsedAt       *time.Time
	CreatedAt    time.Time
}

// Mail is a plain-text message to one recipient.
type Mail struct {
	To      string
	Subject string
	Text    string
}

// Mailer sends mail: through SMTP, or into the log when none is configured.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}
