package rest

import (
	"context"
	"encoding/json"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/account"
	"github.com/cairn-fit/cairn/oauth"
	"github.com/cairn-fit/cairn/rest/api"
)

// The admin API: the spec requires the admin scope of every route here;
// the handlers turn parameters into calls of account.Admin, which GraphQL
// calls too: it checks the permission the actor's roles give
// (cairn.RolePermissions), the sensitive operations' step-up, and writes
// the audit log.

// newAdmin is the admin operations over the server's services.
func newAdmin(d Deps) *account.Admin {
	return &account.Admin{Accounts: d.Accounts, MFA: d.MFA, Users: d.Users, Audit: d.Audit, OAuthClients: d.OAuthClients,
		NewClientSecret: oauth.NewClientSecret, ClientSecretGrace: d.ClientSecretGrace, Now: d.Now}
}

// Admin returns the admin operations the REST API runs, for the GraphQL
// API to run the same.
func (s *Server) Admin() *account.Admin { return s.admin }

// audit records an action of the actor on target.
func (s *Server) audit(ctx context.Context, target, action string, details map[string]any) error {
	if s.Audit == nil {
		return nil
	}
	var raw json.RawMessage
	if details != nil {
		b, err := json.Marshal(details)
		if err != nil {
			return cairn.Wrap(cairn.EINTERNAL, err, "internal error")
		}
		raw = b
	}
	return s.Audit.RecordAudit(ctx, &cairn.AuditEntry{UserID: target, Action: action, Details: raw})
}

func (s *Server) AdminListUsers(ctx context.Context, req api.AdminListUsersRequestObject) (api.AdminListUsersResponseObject, error) {
	page, err := pageRequest(req.Params.Cursor, req.Params.Limit)
	if err != nil {
		return nil, err
	}
	list, err := s.admin.SearchUsers(ctx, deref(req.Params.Q), page)
	if err != nil {
		return nil, err
	}
	return api.AdminListUsers200JSONResponse{Data: mapSlice(list.Data, userOut), NextCursor: list.NextCursor,
		PrevCursor: list.PrevCursor, Total: list.Total}, nil
}

func (s *Server) AdminCreateUser(ctx context.Context, req api.AdminCreateUserRequestObject) (api.AdminCreateUserResponseObject, error) {
	b := req.Body
	in := account.NewUser{Email: string(b.Email), Name: deref(b.Name), Locale: deref(b.Locale), Timezone: deref(b.Timezone)}
	if b.Roles != nil {
		for _, r := range *b.Roles {
			in.Roles = append(in.Roles, string(r))
		}
	}
	u, err := s.admin.CreateUser(ctx, in)
	if err != nil {
		return nil, err
	}
	return api.AdminCreateUser201JSONResponse(userOut(u)), nil
}

func (s *Server) AdminDeleteUser(ctx context.Context, req api.AdminDeleteUserRequestObject) (api.AdminDeleteUserResponseObject, error) {
	if err := s.admin.Delete(ctx, req.UserId); err != nil {
		return nil, err
	}
	return api.AdminDeleteUser204Response{}, nil
}

func (s *Server) AdminInviteUser(ctx context.Context, req api.AdminInviteUserRequestObject) (api.AdminInviteUserResponseObject, error) {
	if err := s.admin.Invite(ctx, req.UserId); err != nil {
		return nil, err
	}
	return api.AdminInviteUser204Response{}, nil
}

func (s *Server) AdminResetPassword(ctx context.Context, req api.AdminResetPasswordRequestObject) (api.AdminResetPasswordResponseObject, error) {
	if err := s.admin.ResetPassword(ctx, req.UserId); err != nil {
		return nil, err
	}
	return api.AdminResetPassword204Response{}, nil
}

func (s *Server) AdminResetMFA(ctx context.Context, req api.AdminResetMFARequestObject) (api.AdminResetMFAResponseObject, error) {
	if err := s.admin.ResetMFA(ctx, req.UserId); err != nil {
		return nil, err
	}
	return api.AdminResetMFA204Response{}, nil
}

func (s *Server) AdminFreezeUser(ctx context.Context, req api.AdminFreezeUserRequestObject) (api.AdminFreezeUserResponseObject, error) {
	u, err := s.admin.Freeze(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	return api.AdminFreezeUser200JSONResponse(userOut(u)), nil
}

func (s *Server) AdminUnfreezeUser(ctx context.Context, req api.AdminUnfreezeUserRequestObject) (api.AdminUnfreezeUserResponseObject, error) {
	u, err := s.admin.Unfreeze(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	return api.AdminUnfreezeUser200JSONResponse(userOut(u)), nil
}

func (s *Server) AdminRotateOAuthClient(ctx context.Context, req api.AdminRotateOAuthClientRequestObject) (api.AdminRotateOAuthClientResponseObject, error) {
	c, err := s.admin.RotateClientSecret(ctx, req.ClientId)
	if err != nil {
		return nil, err
	}
	return api.AdminRotateOAuthClient200JSONResponse{ClientId: c.ClientID, ClientSecret: c.Secret,
		PreviousSecretExpiresAt: c.PreviousExpiresAt}, nil
}

func (s *Server) AdminCreateOAuthClient(ctx context.Context, req api.AdminCreateOAuthClientRequestObject) (api.AdminCreateOAuthClientResponseObject, error) {
	b := req.Body
	c := &cairn.OAuthClient{Name: b.Name, RedirectURIs: deref(b.RedirectUris), Public: deref(b.Public), OwnerID: deref(b.OwnerId)}
	for _, g := range b.GrantTypes {
		c.GrantTypes = append(c.GrantTypes, string(g))
	}
	for _, sc := range b.Scopes {
		c.Scopes = append(c.Scopes, cairn.Scope(sc))
	}
	c, secret, err := s.admin.CreateClient(ctx, c)
	if err != nil {
		return nil, err
	}
	out := api.AdminCreateOAuthClient201JSONResponse{ClientId: c.ID, Name: c.Name, GrantTypes: c.GrantTypes,
		Scopes: make([]string, 0, len(c.Scopes)), RedirectUris: append([]string{}, c.RedirectURIs...), Public: c.Public,
		CreatedAt: c.CreatedAt, ClientSecret: ptrIf(secret), OwnerId: ptrIf(c.OwnerID)}
	for _, sc := range c.Scopes {
		out.Scopes = append(out.Scopes, string(sc))
	}
	return out, nil
}

func (s *Server) AdminRotateUserOAuthClient(ctx context.Context, req api.AdminRotateUserOAuthClientRequestObject) (api.AdminRotateUserOAuthClientResponseObject, error) {
	c, err := s.admin.RotateUserClientSecret(ctx, req.UserId, deref(req.Body.ClientId))
	if err != nil {
		return nil, err
	}
	return api.AdminRotateUserOAuthClient200JSONResponse{ClientId: c.ClientID, ClientSecret: c.Secret,
		PreviousSecretExpiresAt: c.PreviousExpiresAt}, nil
}

func (s *Server) AdminSearchAudit(ctx context.Context, req api.AdminSearchAuditRequestObject) (api.AdminSearchAuditResponseObject, error) {
	p := req.Params
	page, err := pageRequest(p.Cursor, p.Limit)
	if err != nil {
		return nil, err
	}
	list, err := s.admin.SearchAudit(ctx, cairn.AuditFilter{ActorID: deref(p.ActorId), UserID: deref(p.UserId),
		Action: deref(p.Action), Since: p.Since, Until: p.Until, Page: page})
	if err != nil {
		return nil, err
	}
	out := api.AdminSearchAudit200JSONResponse{NextCursor: list.NextCursor, PrevCursor: list.PrevCursor, Total: list.Total,
		Data: make([]api.AuditEntry, len(list.Data))}
	for i, e := range list.Data {
		out.Data[i] = api.AuditEntry{Id: e.ID, ActorId: e.ActorID, UserId: ptrIf(e.UserID), Action: e.Action, Ip: e.IP,
			UserAgent: e.UserAgent, Details: objectOf(e.Details), CreatedAt: e.CreatedAt}
	}
	return out, nil
}
