package account

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/mfa"
)

// DefaultClientSecretGrace is how long a rotated OAuth client secret keeps
// working.
const DefaultClientSecretGrace = 24 * time.Hour

// Admin is the admin API's operations, which REST (/v1/admin) and GraphQL
// both call so that they cannot drift: each checks that the actor's roles
// grant the permission (cairn.Actor.Can), the sensitive ones also a recent
// MFA check of the actor's sign-in (step-up), then acts and writes the
// audit log.
type Admin struct {
	Accounts *Service
	// MFA answers step-up checks and removes factors.
	MFA   *mfa.Service
	Users cairn.UserStore
	Audit cairn.AuditLog
	// OAuthClients and NewClientSecret (oauth.NewClientSecret) rotate OAuth
	// client secrets; without them rotation answers UNAVAILABLE. The old
	// secret works for ClientSecretGrace more (DefaultClientSecretGrace
	// when zero).
	OAuthClients      cairn.OAuthStore
	NewClientSecret   func() (secret string, hash []byte)
	ClientSecretGrace time.Duration
	Now               func() time.Time
}

// guard refuses an actor whose roles lack p, a server without the
// services, and, for sensitive operations, an actor without a recent MFA
// check.
func (a *Admin) guard(ctx context.Context, p cairn.Permission, sensitive bool) error {
	if actor, _ := cairn.ActorFrom(ctx); !actor.Can(p) {
		return cairn.Errorf(cairn.EFORBIDDEN, "your role does not allow %s", p)
	}
	if a == nil || a.Accounts == nil || a.Audit == nil || a.Users == nil {
		return cairn.Errorf(cairn.EUNAVAILABLE, "account administration is not available on this server")
	}
	if sensitive {
		return a.StepUp(ctx)
	}
	return nil
}

// StepUp answers STEP_UP_REQUIRED unless the actor's sign-in passed an MFA
// check within mfa.StepUpWindow.
func (a *Admin) StepUp(ctx context.Context) error {
	if a.MFA == nil {
		return cairn.Errorf(cairn.EUNAVAILABLE, "MFA is not available on this server")
	}
	actor, _ := cairn.ActorFrom(ctx)
	if actor.UserID == "" {
		// A client acting for itself has no second factor to show.
		return cairn.Errorf(cairn.ESTEPUPREQUIRED, "this operation needs a user who passed an MFA check")
	}
	return a.MFA.RequireRecent(ctx, actor.UserID, actor.Session)
}

func (a *Admin) audit(ctx context.Context, target, action string, details map[string]any) error {
	b, err := json.Marshal(details)
	if err != nil {
		return cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	return a.Audit.RecordAudit(ctx, &cairn.AuditEntry{UserID: target, Action: action, Details: b})
}

// SearchUsers finds users by part of their email or by id (users:read).
// The search is audited: staff looked at users' data.
func (a *Admin) SearchUsers(ctx context.Context, query string, page cairn.PageRequest) (*cairn.Page[cairn.User], error) {
	if err := a.guard(ctx, cairn.PermUsersRead, false); err != nil {
		return nil, err
	}
	query = strings.TrimSpace(query)
	list, err := a.Users.ListUsers(ctx, cairn.UserFilter{Query: query, Page: page})
	if err != nil {
		return nil, err
	}
	if err := a.audit(ctx, "", cairn.AuditAdminViewUserData, map[string]any{"search": query, "results": len(list.Data)}); err != nil {
		return nil, err
	}
	return list, nil
}

// NewUser is a user an admin creates.
type NewUser struct {
	Email, Name, Locale, Timezone string
	Roles                         []string
}

func (n *NewUser) validate() error {
	bad := map[string]string{}
	if addr, err := mail.ParseAddress(n.Email); err != nil || addr.Address != n.Email || len(n.Email) > 320 {
		bad["email"] = "must be an email address"
	}
	if len(n.Name) > 200 {
		bad["name"] = "must have at most 200 characters"
	}
	for _, r := range n.Roles {
		if _, ok := cairn.RolePermissions[r]; !ok {
			bad["roles"] = "must be user, admin or support"
		}
	}
	if len(bad) > 0 {
		return cairn.Invalid(bad)
	}
	return nil
}

// CreateUser creates an active user without a password (users:create):
// they choose one through an invitation. Roles default to user, the name
// to the email's local part.
func (a *Admin) CreateUser(ctx context.Context, in NewUser) (*cairn.User, error) {
	if err := a.guard(ctx, cairn.PermUsersCreate, false); err != nil {
		return nil, err
	}
	in.Email, in.Name = strings.ToLower(strings.TrimSpace(in.Email)), strings.TrimSpace(in.Name)
	if err := in.validate(); err != nil {
		return nil, err
	}
	u := &cairn.User{Email: in.Email, Name: in.Name, Locale: in.Locale, Timezone: in.Timezone, Roles: in.Roles,
		Status: cairn.UserActive}
	if len(u.Roles) == 0 {
		u.Roles = []string{cairn.RoleUser}
	}
	if u.Name == "" {
		u.Name, _, _ = strings.Cut(u.Email, "@")
	}
	if err := a.Users.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	if err := a.audit(ctx, u.ID, cairn.AuditUserCreate, map[string]any{"email": u.Email, "roles": u.Roles}); err != nil {
		return nil, err
	}
	return u, nil
}

// Invite mails a user a link to choose a password (users:invite).
func (a *Admin) Invite(ctx context.Context, userID string) error {
	if err := a.guard(ctx, cairn.PermUsersInvite, false); err != nil {
		return err
	}
	return a.Accounts.Invite(ctx, userID)
}

// ResetPassword mails a user a password reset (users:reset_password,
// step-up).
func (a *Admin) ResetPassword(ctx context.Context, userID string) error {
	if err := a.guard(ctx, cairn.PermUsersResetPass, true); err != nil {
		return err
	}
	return a.Accounts.SendPasswordReset(ctx, userID)
}

// ResetMFA removes every second factor of a user who lost their device
// (users:reset_mfa, step-up). Admins remove their own at /v1/me.
func (a *Admin) ResetMFA(ctx context.Context, userID string) error {
	if err := a.guard(ctx, cairn.PermUsersResetMFA, true); err != nil {
		return err
	}
	if actor, _ := cairn.ActorFrom(ctx); actor.UserID == userID {
		return cairn.Errorf(cairn.EVALIDATION, "remove your own factors at /v1/me/mfa/factors")
	}
	u, err := a.Users.FindUser(ctx, userID)
	if err != nil {
		return err
	}
	fs, err := a.MFA.Factors(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, f := range fs {
		// An admin acting on another user needs no step-up of that user's.
		if err := a.MFA.RemoveFactor(ctx, u.ID, "", f.ID); err != nil {
			return err
		}
	}
	return a.audit(ctx, u.ID, cairn.AuditAdminResetMFA, map[string]any{"factors": len(fs)})
}

// Freeze stops a user from signing in (users:freeze).
func (a *Admin) Freeze(ctx context.Context, userID string) (*cairn.User, error) {
	if err := a.guard(ctx, cairn.PermUsersFreeze, false); err != nil {
		return nil, err
	}
	return a.Accounts.Freeze(ctx, userID)
}

// Unfreeze lets a frozen user in again (users:freeze).
func (a *Admin) Unfreeze(ctx context.Context, userID string) (*cairn.User, error) {
	if err := a.guard(ctx, cairn.PermUsersFreeze, false); err != nil {
		return nil, err
	}
	return a.Accounts.Unfreeze(ctx, userID)
}

// Delete soft-deletes a user and schedules the purge (users:delete,
// step-up).
func (a *Admin) Delete(ctx context.Context, userID string) error {
	if err := a.guard(ctx, cairn.PermUsersDelete, true); err != nil {
		return err
	}
	return a.Accounts.Delete(ctx, userID)
}

// ClientSecret is an OAuth client's new secret, shown once.
type ClientSecret struct {
	ClientID string
	Secret   string
	// PreviousExpiresAt is when the replaced secret stops working.
	PreviousExpiresAt time.Time
}

// CreateClient registers an OAuth client, with a secret (shown once) for
// a confidential one (oauth_clients:create, step-up: a client may be given
// the admin scope).
func (a *Admin) CreateClient(ctx context.Context, c *cairn.OAuthClient) (*cairn.OAuthClient, string, error) {
	if err := a.guard(ctx, cairn.PermOAuthClientCreate, true); err != nil {
		return nil, "", err
	}
	if a.OAuthClients == nil || a.NewClientSecret == nil {
		return nil, "", cairn.Errorf(cairn.EUNAVAILABLE, "the OAuth server is not running")
	}
	if err := c.Validate(); err != nil {
		return nil, "", err
	}
	if c.OwnerID != "" {
		if _, err := a.Users.FindUser(ctx, c.OwnerID); err != nil {
			return nil, "", err
		}
	}
	var secret string
	if !c.Public {
		secret, c.SecretHash = a.NewClientSecret()
	}
	// The OAuth store runs as the system; the permission was checked above.
	if err := a.OAuthClients.CreateOAuthClient(cairn.SystemContext(ctx), c); err != nil {
		return nil, "", err
	}
	if err := a.audit(ctx, c.OwnerID, cairn.AuditOAuthClientCreate, map[string]any{"client_id": c.ID}); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// RotateClientSecret gives an OAuth client a new secret; the old one works
// for the grace period (oauth_clients:rotate, step-up).
func (a *Admin) RotateClientSecret(ctx context.Context, clientID string) (*ClientSecret, error) {
	if err := a.guardRotate(ctx); err != nil {
		return nil, err
	}
	return a.rotate(ctx, clientID, "")
}

// RotateUserClientSecret rotates the secret of a confidential client that
// userID registered: clientID, or, when empty, the one such client the
// user has (oauth_clients:rotate, step-up).
func (a *Admin) RotateUserClientSecret(ctx context.Context, userID, clientID string) (*ClientSecret, error) {
	if err := a.guardRotate(ctx); err != nil {
		return nil, err
	}
	if _, err := a.Users.FindUser(ctx, userID); err != nil {
		return nil, err
	}
	owned, err := a.OAuthClients.ListOAuthClientsByOwner(cairn.SystemContext(ctx), userID)
	if err != nil {
		return nil, err
	}
	id, err := ownedClient(owned, clientID)
	if err != nil {
		return nil, err
	}
	return a.rotate(ctx, id, userID)
}

// ownedClient picks the confidential client to rotate among a user's
// (public clients have no secret).
func ownedClient(owned []*cairn.OAuthClient, clientID string) (string, error) {
	var ids []string
	for _, c := range owned {
		if !c.Public {
			ids = append(ids, c.ID)
		}
	}
	switch {
	case clientID != "" && slices.Contains(ids, clientID):
		return clientID, nil
	case clientID != "":
		return "", cairn.Errorf(cairn.ENOTFOUND, "the user has no confidential OAuth client with this id")
	case len(ids) == 0:
		return "", cairn.Errorf(cairn.ENOTFOUND, "the user has no confidential OAuth client")
	case len(ids) > 1:
		return "", cairn.Invalid(map[string]string{"client_id": fmt.Sprintf(
			"the user has %d confidential OAuth clients: name the one to rotate", len(ids))})
	}
	return ids[0], nil
}

func (a *Admin) guardRotate(ctx context.Context) error {
	if err := a.guard(ctx, cairn.PermOAuthClientRotate, true); err != nil {
		return err
	}
	if a.OAuthClients == nil || a.NewClientSecret == nil {
		return cairn.Errorf(cairn.EUNAVAILABLE, "the OAuth server is not running")
	}
	return nil
}

// rotate replaces the client's secret, auditing it against owner (the
// user whose client it is, when the admin named one).
func (a *Admin) rotate(ctx context.Context, clientID, owner string) (*ClientSecret, error) {
	grace := a.ClientSecretGrace
	if grace == 0 {
		grace = DefaultClientSecretGrace
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	secret, hash := a.NewClientSecret()
	until := now().Add(grace).UTC().Truncate(time.Second)
	// The OAuth store runs as the system; the permission was checked above.
	c, err := a.OAuthClients.RotateOAuthClientSecret(cairn.SystemContext(ctx), clientID, hash, until)
	if err != nil {
		return nil, err
	}
	if err := a.audit(ctx, owner, cairn.AuditOAuthClientRotate, map[string]any{"client_id": c.ID}); err != nil {
		return nil, err
	}
	return &ClientSecret{ClientID: c.ID, Secret: secret, PreviousExpiresAt: until}, nil
}

// SearchAudit searches the audit log, newest first (audit:read).
func (a *Admin) SearchAudit(ctx context.Context, f cairn.AuditFilter) (*cairn.Page[cairn.AuditEntry], error) {
	if err := a.guard(ctx, cairn.PermAuditRead, false); err != nil {
		return nil, err
	}
	return a.Audit.SearchAudit(ctx, f)
}
