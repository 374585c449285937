package cairn

import (
	"context"
	"time"
)

// Role names. Admins are users with the admin role.
const (
	RoleUser    = "user"
	RoleAdmin   = "admin"
	RoleSupport = "support"
)

// User status values.
const (
	UserActive  = "active"
	UserFrozen  = "frozen"
	UserInvited = "invited"
)

// User is an account: an athlete, a coach or an operator.
type User struct {
	ID           string     `json:"id"`
	Email        string     `json:"email"`
	Name         string     `json:"name"`
	Locale       string     `json:"locale"`
	Timezone     string     `json:"timezone"`
	Roles        []string   `json:"roles"`
	Status       string     `json:"status"`
	PasswordHash string     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	DeletedAt    *time.Time `json:"deleted_at,omitempty"`
}

// HasRole reports whether u has role r.
func (u *User) HasRole(r string) bool {
	for _, x := range u.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// UserFilter selects users for listing.
type UserFilter struct {
	Query string // email or id
	Page  PageRequest
}

// UserStore persists users.
type UserStore interface {
	CreateUser(ctx context.Context, u *User) error
	FindUser(ctx context.Context, id string) (*User, error)
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	ListUsers(ctx context.Context, f UserFilter) (*Page[User], error)
}

// PersonalAccessToken is a long-lived bearer token. Only the hash of the
// secret is stored; the secret is shown once at creation.
type PersonalAccessToken struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Name       string     `json:"name"`
	Hash       []byte     `json:"-"`
	Scopes     []Scope    `json:"scopes"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// TokenStore persists personal access tokens.
type TokenStore interface {
	CreateToken(ctx context.Context, t *PersonalAccessToken) error
	// FindTokenByHash is used before any actor exists; it is the one lookup
	// not filtered by user.
	FindTokenByHash(ctx context.Context, hash []byte) (*PersonalAccessToken, error)
	// FindTokenUser returns the token with this hash and its user, in one
	// lookup (every request authenticates): NOT_FOUND when either is
	// missing or the user is deleted.
	FindTokenUser(ctx context.Context, hash []byte) (*PersonalAccessToken, *User, error)
	// TouchToken records that token id was used at t, unless its
	// last_used_at is already after t minus TokenTouchInterval: a write
	// per token per interval, not per request.
	TouchToken(ctx context.Context, id string, t time.Time) error
}

// TokenTouchInterval is how stale a token's last_used_at may get: the
// field answers "is this token still in use?", which an hour answers.
const TokenTouchInterval = time.Hour

// NeedsTouch reports whether a use at now should update LastUsedAt.
func (t *PersonalAccessToken) NeedsTouch(now time.Time) bool {
	return t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= TokenTouchInterval
}
