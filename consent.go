package cairn

import (
	"context"
	"slices"
	"strings"
	"time"
)

// OAuthConsent is a user's standing permission for an OAuth client,
// recorded when the user allows the client on the consent or device page.
// Its scopes are the union of every consent since it was last revoked.
// An active consent lets the client's webhook endpoints receive the
// user's events that the scopes cover (ConsentCovers).
type OAuthConsent struct {
	UserID     string     `json:"user_id"`
	ClientID   string     `json:"client_id"`
	ClientName string     `json:"client_name"`
	Scopes     []Scope    `json:"scopes"`
	GrantedAt  time.Time  `json:"granted_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// AuditOAuthConsentRevoke is the audit action of a user revoking an
// app's access.
const AuditOAuthConsentRevoke = "oauth_consent.revoke"

// ConsentStore lets users see and revoke the apps they allowed.
type ConsentStore interface {
	// ListOAuthConsents lists the actor's active consents, most recently
	// changed first.
	ListOAuthConsents(ctx context.Context) ([]OAuthConsent, error)
	// RevokeOAuthConsent ends the actor's consent to the client and
	// deletes the client's tokens for the actor, with an audit entry;
	// NOT_FOUND without an active consent.
	RevokeOAuthConsent(ctx context.Context, clientID string) error
}

// ConsentCovers reports whether a consent with these scopes lets the
// client receive events of type t about the user:
//   - activity.* and device.synced: activity:read;
//   - sync.* and connection.revoked (the user's provider connections,
//     which bring activities and health data): activity:read,
//     health:read or profile:read;
//   - export.ready: export;
//   - user.deleted: any consent (the client must forget the user);
//   - webhook.disabled: never (it is about the user's own endpoints).
func ConsentCovers(t EventType, scopes []Scope) bool {
	has := func(want ...Scope) bool {
		for _, s := range want {
			if slices.Contains(scopes, s) {
				return true
			}
		}
		return false
	}
	switch {
	case strings.HasPrefix(string(t), "activity.") || t == EventDeviceSynced:
		return has(ScopeActivityRead)
	case strings.HasPrefix(string(t), "sync.") || t == EventConnectionRevoked:
		return has(ScopeActivityRead, ScopeHealthRead, ScopeProfileRead)
	case t == EventExportReady:
		return has(ScopeExport)
	case t == EventUserDeleted:
		return true
	}
	return false
}

// UnionScopes returns the scopes in a or b, each once, in a's order then
// b's.
func UnionScopes(a, b []Scope) []Scope {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
