package cairn

import (
	"context"
	"strings"
)

// Scope is an OAuth-style permission carried by a token.
type Scope string

const (
	ScopeProfileRead    Scope = "profile:read"
	ScopeActivityRead   Scope = "activity:read"
	ScopeActivityWrite  Scope = "activity:write"
	ScopeHealthRead     Scope = "health:read"
	ScopeHealthWrite    Scope = "health:write"
	ScopeAdmin          Scope = "admin"
	ScopeWebhooksManage Scope = "webhooks:manage"
	ScopeExport         Scope = "export"
	ScopeOfflineAccess  Scope = "offline_access"
)

// KnownScopes lists every scope a token may carry.
var KnownScopes = []Scope{ScopeProfileRead, ScopeActivityRead, ScopeActivityWrite,
	ScopeHealthRead, ScopeHealthWrite, ScopeAdmin, ScopeWebhooksManage, ScopeExport, ScopeOfflineAccess}

// ValidScope reports whether s is a known scope.
func ValidScope(s Scope) bool {
	for _, k := range KnownScopes {
		if k == s {
			return true
		}
	}
	return false
}

// Actor is who performs a request. Every storage query reads it from the
// context and filters rows on UserID unless the actor is an admin (or the
// system itself, for CLI commands and background jobs).
type Actor struct {
	UserID string
	Scopes []Scope
	// Admin is true when an admin user acts with the admin scope: it reaches
	// every user's rows.
	Admin bool
	// System is the process itself (migrations, CLI, jobs).
	System bool
	// Roles are the user's roles (they map to permissions: Can).
	Roles []string
	// Session names the sign-in the token belongs to ("pat:<token id>",
	// "grant:<OAuth request id>"): step-up MFA checks are recorded for it.
	Session string
	// ClientID is the OAuth client a token was issued to. A
	// client-credentials token has it and no UserID: it acts as the
	// client, which owns its own webhook endpoints and reaches no user's
	// rows.
	ClientID string
}

// IsClient reports whether the actor is an OAuth client acting as
// itself (client credentials), not for a user.
func (a Actor) IsClient() bool { return a.ClientID != "" && a.UserID == "" && !a.System }

// Has reports whether the actor's token carries scope s. The system actor
// has every scope.
func (a Actor) Has(s Scope) bool {
	if a.System {
		return true
	}
	for _, x := range a.Scopes {
		if x == s {
			return true
		}
	}
	return false
}

// CanReach reports whether the actor may see rows owned by userID.
func (a Actor) CanReach(userID string) bool {
	return a.System || a.Admin || (a.UserID != "" && a.UserID == userID)
}

type actorKey struct{}

// WithActor returns a context carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// SystemContext returns a context acting as the system (full access).
func SystemContext(ctx context.Context) context.Context {
	return WithActor(ctx, Actor{System: true})
}

// ActorFrom returns the actor in ctx and whether there is one.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// HasAny reports whether the actor carries every scope of at least one of
// the alternatives (an OpenAPI security requirement list).
func (a Actor) HasAny(alternatives [][]Scope) bool {
	for _, all := range alternatives {
		ok := true
		for _, s := range all {
			ok = ok && a.Has(s)
		}
		if ok {
			return true
		}
	}
	return len(alternatives) == 0
}

// DescribeScopes names scope alternatives for an error message:
// "a and b or c".
func DescribeScopes(alternatives [][]Scope) string {
	var out []string
	for _, all := range alternatives {
		names := make([]string, len(all))
		for i, s := range all {
			names[i] = string(s)
		}
		out = append(out, strings.Join(names, " and "))
	}
	return strings.Join(out, " or ")
}
