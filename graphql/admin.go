package graphql

import (
	"context"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/account"
	graphql "github.com/graph-gophers/graphql-go"
)

// The admin API. Every field first needs the scope of its REST operation
// (admin), then calls the same account.Admin operation as the REST
// handler, which checks the role's permission and, for the sensitive
// ones, step-up (STEP_UP_REQUIRED), and writes the same audit entries.

// The REST admin operations whose scopes the admin fields need.
const (
	opAdminListUsers   = "AdminListUsers"
	opAdminCreateUser  = "AdminCreateUser"
	opAdminInvite      = "AdminInviteUser"
	opAdminResetPass   = "AdminResetPassword"
	opAdminResetMFA    = "AdminResetMFA"
	opAdminFreeze      = "AdminFreezeUser"
	opAdminUnfreeze    = "AdminUnfreezeUser"
	opAdminDelete      = "AdminDeleteUser"
	opAdminRotate      = "AdminRotateOAuthClient"
	opAdminRotateUser  = "AdminRotateUserOAuthClient"
	opAdminCreateApp   = "AdminCreateOAuthClient"
	opAdminSearchAudit = "AdminSearchAudit"
)

func adminOperations() []string {
	return []string{opAdminListUsers, opAdminCreateUser, opAdminInvite, opAdminResetPass, opAdminResetMFA,
		opAdminFreeze, opAdminUnfreeze, opAdminDelete, opAdminRotate, opAdminRotateUser, opAdminCreateApp, opAdminSearchAudit}
}

// staffUser resolves a user an admin operation answered: its profile
// fields need no profile:read, the operation's permission covered them
// (as REST answers the user).
func (s *Server) staffUser(u *cairn.User) *userResolver {
	r := s.userOf(u)
	r.granted = true
	return r
}

type adminUsersArgs struct {
	pageArgs
	Query *string
}

func (r *root) AdminUsers(ctx context.Context, args adminUsersArgs) (*connection[*userResolver], error) {
	s := r.s
	if err := s.need(ctx, opAdminListUsers); err != nil {
		return nil, err
	}
	p, err := args.request()
	if err != nil {
		return nil, err
	}
	page, err := s.d.Admin.SearchUsers(ctx, deref(args.Query), p)
	if err != nil {
		return nil, err
	}
	return newConnection(ctx, page, func(i int) *userResolver { return s.staffUser(&page.Data[i]) })
}

type auditLogArgs struct {
	pageArgs
	ActorID *string
	UserID  *graphql.ID
	Action  *string
	Since   *dateTime
	Until   *dateTime
}

func (r *root) AuditLog(ctx context.Context, args auditLogArgs) (*connection[*auditResolver], error) {
	s := r.s
	if err := s.need(ctx, opAdminSearchAudit); err != nil {
		return nil, err
	}
	p, err := args.request()
	if err != nil {
		return nil, err
	}
	userID, err := optID(args.UserID, kindUser, "userId")
	if err != nil {
		return nil, err
	}
	page, err := s.d.Admin.SearchAudit(ctx, cairn.AuditFilter{ActorID: deref(args.ActorID), UserID: deref(userID),
		Action: deref(args.Action), Since: timep(args.Since), Until: timep(args.Until), Page: p})
	if err != nil {
		return nil, err
	}
	return newConnection(ctx, page, func(i int) *auditResolver { return &auditResolver{&page.Data[i]} })
}

// auditResolver is one audit entry.
type auditResolver struct{ e *cairn.AuditEntry }

func (r *auditResolver) DatabaseID() graphql.ID { return graphql.ID(r.e.ID) }
func (r *auditResolver) ActorID() string        { return r.e.ActorID }
func (r *auditResolver) Action() string         { return r.e.Action }
func (r *auditResolver) IP() string             { return r.e.IP }
func (r *auditResolver) UserAgent() string      { return r.e.UserAgent }
func (r *auditResolver) Details() *jsonValue    { return jsonOf(r.e.Details) }
func (r *auditResolver) CreatedAt() dateTime    { return dt(r.e.CreatedAt) }
func (r *auditResolver) UserID() *graphql.ID {
	if r.e.UserID == "" {
		return nil
	}
	id := graphql.ID(r.e.UserID)
	return &id
}

type adminCreateUserArgs struct {
	Input struct {
		Email    string
		Name     *string
		Locale   *string
		Timezone *string
		Roles    *[]string
	}
	IdempotencyKey *string
}

func (r *root) AdminCreateUser(ctx context.Context, args adminCreateUserArgs) (*userResolver, error) {
	s := r.s
	u, err := idempotent(ctx, s, opAdminCreateUser, args.IdempotencyKey, args, func() (*cairn.User, error) {
		in := args.Input
		return s.d.Admin.CreateUser(ctx, account.NewUser{Email: in.Email, Name: deref(in.Name), Locale: deref(in.Locale),
			Timezone: deref(in.Timezone), Roles: deref(in.Roles)})
	})
	if err != nil {
		return nil, err
	}
	return s.staffUser(u), nil
}

type userIDArgs struct{ UserID graphql.ID }

// onUser runs an admin mutation of REST operation op on the user named by
// args.
func (s *Server) onUser(ctx context.Context, op string, args userIDArgs, run func(string) (*cairn.User, error)) (*cairn.User, error) {
	return idempotent(ctx, s, op, nil, args, func() (*cairn.User, error) {
		id, err := idOf(args.UserID, kindUser, "userId")
		if err != nil {
			return nil, err
		}
		return run(id)
	})
}

// done adapts an operation that answers nothing to onUser.
func done(err error) (*cairn.User, error) { return nil, err }

func (r *root) AdminInviteUser(ctx context.Context, args userIDArgs) (bool, error) {
	_, err := r.s.onUser(ctx, opAdminInvite, args, func(id string) (*cairn.User, error) { return done(r.s.d.Admin.Invite(ctx, id)) })
	return err == nil, err
}

func (r *root) AdminResetPassword(ctx context.Context, args userIDArgs) (bool, error) {
	_, err := r.s.onUser(ctx, opAdminResetPass, args, func(id string) (*cairn.User, error) {
		return done(r.s.d.Admin.ResetPassword(ctx, id))
	})
	return err == nil, err
}

func (r *root) AdminResetMFA(ctx context.Context, args userIDArgs) (bool, error) {
	_, err := r.s.onUser(ctx, opAdminResetMFA, args, func(id string) (*cairn.User, error) { return done(r.s.d.Admin.ResetMFA(ctx, id)) })
	return err == nil, err
}

func (r *root) AdminDeleteUser(ctx context.Context, args userIDArgs) (bool, error) {
	_, err := r.s.onUser(ctx, opAdminDelete, args, func(id string) (*cairn.User, error) { return done(r.s.d.Admin.Delete(ctx, id)) })
	return err == nil, err
}

func (r *root) AdminFreezeUser(ctx context.Context, args userIDArgs) (*userResolver, error) {
	u, err := r.s.onUser(ctx, opAdminFreeze, args, func(id string) (*cairn.User, error) { return r.s.d.Admin.Freeze(ctx, id) })
	if err != nil {
		return nil, err
	}
	return r.s.staffUser(u), nil
}

func (r *root) AdminUnfreezeUser(ctx context.Context, args userIDArgs) (*userResolver, error) {
	u, err := r.s.onUser(ctx, opAdminUnfreeze, args, func(id string) (*cairn.User, error) { return r.s.d.Admin.Unfreeze(ctx, id) })
	if err != nil {
		return nil, err
	}
	return r.s.staffUser(u), nil
}

// clientSecretResolver is an OAuth client's new secret.
type clientSecretResolver struct{ c *account.ClientSecret }

func (r *clientSecretResolver) ClientID() string                  { return r.c.ClientID }
func (r *clientSecretResolver) ClientSecret() string              { return r.c.Secret }
func (r *clientSecretResolver) PreviousSecretExpiresAt() dateTime { return dt(r.c.PreviousExpiresAt) }

type rotateArgs struct {
	ClientID *string
	UserID   *graphql.ID
}

func (r *root) AdminRotateOAuthClientSecret(ctx context.Context, args rotateArgs) (*clientSecretResolver, error) {
	op := opAdminRotate
	if args.UserID != nil {
		op = opAdminRotateUser
	}
	c, err := idempotent(ctx, r.s, op, nil, args, func() (*account.ClientSecret, error) {
		clientID := deref(args.ClientID)
		if args.UserID == nil {
			if clientID == "" {
				return nil, cairn.Invalid(map[string]string{"clientId": "name the client, or the user whose client it is"})
			}
			return r.s.d.Admin.RotateClientSecret(ctx, clientID)
		}
		userID, err := idOf(*args.UserID, kindUser, "userId")
		if err != nil {
			return nil, err
		}
		return r.s.d.Admin.RotateUserClientSecret(ctx, userID, clientID)
	})
	if err != nil {
		return nil, err
	}
	return &clientSecretResolver{c}, nil
}

type adminCreateClientArgs struct {
	Input struct {
		Name         string
		GrantTypes   []string
		Scopes       []string
		RedirectUris *[]string
		Public       *bool
		OwnerID      *graphql.ID
	}
}

// createdClient is a new OAuth client with its secret (shown once).
type createdClient struct {
	c      *cairn.OAuthClient
	secret string
}

func (r *root) AdminCreateOAuthClient(ctx context.Context, args adminCreateClientArgs) (*createdClient, error) {
	return idempotent(ctx, r.s, opAdminCreateApp, nil, args, func() (*createdClient, error) {
		in := args.Input
		owner, err := optID(in.OwnerID, kindUser, "ownerId")
		if err != nil {
			return nil, err
		}
		c := &cairn.OAuthClient{Name: in.Name, GrantTypes: in.GrantTypes, RedirectURIs: deref(in.RedirectUris),
			Public: deref(in.Public), OwnerID: deref(owner)}
		for _, sc := range in.Scopes {
			c.Scopes = append(c.Scopes, cairn.Scope(sc))
		}
		c, secret, err := r.s.d.Admin.CreateClient(ctx, c)
		if err != nil {
			return nil, err
		}
		return &createdClient{c, secret}, nil
	})
}

func (r *createdClient) ClientID() string       { return r.c.ID }
func (r *createdClient) Name() string           { return r.c.Name }
func (r *createdClient) GrantTypes() []string   { return r.c.GrantTypes }
func (r *createdClient) RedirectUris() []string { return append([]string{}, r.c.RedirectURIs...) }
func (r *createdClient) Public() bool           { return r.c.Public }
func (r *createdClient) CreatedAt() dateTime    { return dt(r.c.CreatedAt) }
func (r *createdClient) Scopes() []string {
	out := make([]string, 0, len(r.c.Scopes))
	for _, s := range r.c.Scopes {
		out = append(out, string(s))
	}
	return out
}

func (r *createdClient) ClientSecret() *string {
	if r.secret == "" {
		return nil // a public client
	}
	return &r.secret
}

func (r *createdClient) OwnerID() *graphql.ID {
	if r.c.OwnerID == "" {
		return nil
	}
	id := globalID(kindUser, r.c.OwnerID)
	return &id
}
