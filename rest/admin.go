package rest

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/oauth"
	"github.com/cairn-fit/cairn/rest/api"
)

// The admin API: the spec requires the admin scope of every route here;
// each handler then checks the permission the actor's roles give
// (cairn.RolePermissions), and the sensitive ones a recent MFA check.
// Every action is written to the audit log, by the account and MFA
// services or here.

// permit refuses an actor whose roles lack p.
func permit(ctx context.Context, p cairn.Permission) error {
	if a, _ := cairn.ActorFrom(ctx); !a.Can(p) {
		return cairn.Errorf(cairn.EFORBIDDEN, "your role does not allow %s", p)
	}
	return nil
}

// stepUp answers STEP_UP_REQUIRED unless the token's sign-in passed an MFA
// check within the last five minutes (POST /v1/me/mfa/verify).
func (s *Server) stepUp(ctx context.Context) error {
	if s.MFA == nil {
		return cairn.Errorf(cairn.EUNAVAILABLE, "MFA is not available on this server")
	}
	a, _ := cairn.ActorFrom(ctx)
	if a.UserID == "" {
		// A client acting for itself has no second factor to show.
		return cairn.Errorf(cairn.ESTEPUPREQUIRED, "this operation needs a user who passed an MFA check")
	}
	return s.MFA.RequireRecent(ctx, a.UserID, a.Session)
}

// adminGuard checks the permission, the services, and optionally step-up.
func (s *Server) adminGuard(ctx context.Context, p cairn.Permission, sensitive bool) error {
	if err := permit(ctx, p); err != nil {
		return err
	}
	if s.Accounts == nil || s.Audit == nil {
		return cairn.Errorf(cairn.EUNAVAILABLE, "account administration is not available on this server")
	}
	if sensitive {
		return s.stepUp(ctx)
	}
	return nil
}

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
	if err := s.adminGuard(ctx, cairn.PermUsersRead, false); err != nil {
		return nil, err
	}
	page, err := pageRequest(req.Params.Cursor, req.Params.Limit)
	if err != nil {
		return nil, err
	}
	q := strings.TrimSpace(deref(req.Params.Q))
	list, err := s.Users.ListUsers(ctx, cairn.UserFilter{Query: q, Page: page})
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, "", cairn.AuditAdminViewUserData, map[string]any{"search": q, "results": len(list.Data)}); err != nil {
		return nil, err
	}
	return api.AdminListUsers200JSONResponse{Data: mapSlice(list.Data, userOut), NextCursor: list.NextCursor,
		PrevCursor: list.PrevCursor, Total: list.Total}, nil
}

func (s *Server) AdminCreateUser(ctx context.Context, req api.AdminCreateUserRequestObject) (api.AdminCreateUserResponseObject, error) {
	if err := s.adminGuard(ctx, cairn.PermUsersCreate, false); err != nil {
		return nil, err
	}
	b := req.Body
	u := &cairn.User{Email: strings.ToLower(strings.TrimSpace(string(b.Email))), Name: strings.TrimSpace(deref(b.Name)),
		Locale: deref(b.Locale), Timezone: deref(b.Timezone), Status: cairn.UserActive}
	if b.Roles != nil {
		for _, r := range *b.Roles {
			u.Roles = append(u.Roles, string(r))
		}
	}
	if len(u.Roles) == 0 {
		u.Roles = []string{cairn.RoleUser}
	}
	if u.Name == "" {
		u.Name, _, _ = strings.Cut(u.Email, "@")
	}
	if err := s.Users.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, u.ID, cairn.AuditUserCreate, map[string]any{"email": u.Email, "roles": u.Roles}); err != nil {
		return nil, err
	}
	return api.AdminCreateUser201JSONResponse(userOut(u)), nil
}

func (s *Server) AdminDeleteUser(ctx context.Context, req api.AdminDeleteUserRequestObject) (api.AdminDeleteUserResponseObject, error) {
	if err := s.adminGuard(ctx, cairn.PermUsersDelete, true); err != nil {
		return nil, err
	}
	if err := s.Accounts.Delete(ctx, req.UserId); err != nil {
		return nil, err
	}
	return api.AdminDeleteUser204Response{}, nil
}

func (s *Server) AdminInviteUser(ctx context.Context, req api.AdminInviteUserRequestObject) (api.AdminInviteUserResponseObject, error) {
	if err := s.adminGuard(ctx, cairn.PermUsersInvite, false); err != nil {
		return nil, err
	}
	if err := s.Accounts.Invite(ctx, req.UserId); err != nil {
		return nil, err
	}
	return api.AdminInviteUser204Response{}, nil
}

func (s *Server) AdminResetPassword(ctx context.Context, req api.AdminResetPasswordRequestObject) (api.AdminResetPasswordResponseObject, error) {
	if err := s.adminGuard(ctx, cairn.PermUsersResetPass, true); err != nil {
		return nil, err
	}
	if err := s.Accounts.SendPasswordReset(ctx, req.UserId); err != nil {
		return nil, err
	}
	return api.AdminResetPassword204Response{}, nil
}

func (s *Server) AdminResetMFA(ctx context.Context, req api.AdminResetMFARequestObject) (api.AdminResetMFAResponseObject, error) {
	if err := s.adminGuard(ctx, cairn.PermUsersResetMFA, true); err != nil {
		return nil, err
	}
	if a, _ := cairn.ActorFrom(ctx); a.UserID == req.UserId {
		return nil, cairn.Errorf(cairn.EVALIDATION, "remove your own factors at /v1/me/mfa/factors")
	}
	u, err := s.Users.FindUser(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	fs, err := s.MFA.Factors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		// An admin acting on another user needs no step-up of that user's.
		if err := s.MFA.RemoveFactor(ctx, u.ID, "", f.ID); err != nil {
			return nil, err
		}
	}
	if err := s.audit(ctx, u.ID, cairn.AuditAdminResetMFA, map[string]any{"factors": len(fs)}); err != nil {
		return nil, err
	}
	return api.AdminResetMFA204Response{}, nil
}

func (s *Server) AdminFreezeUser(ctx context.Context, req api.AdminFreezeUserRequestObject) (api.AdminFreezeUserResponseObject, error) {
	if err := s.adminGuard(ctx, cairn.PermUsersFreeze, false); err != nil {
		return nil, err
	}
	u, err := s.Accounts.Freeze(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	return api.AdminFreezeUser200JSONResponse(userOut(u)), nil
}

func (s *Server) AdminUnfreezeUser(ctx context.Context, req api.AdminUnfreezeUserRequestObject) (api.AdminUnfreezeUserResponseObject, error) {
	if err := s.adminGuard(ctx, cairn.PermUsersFreeze, false); err != nil {
		return nil, err
	}
	u, err := s.Accounts.Unfreeze(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	return api.AdminUnfreezeUser200JSONResponse(userOut(u)), nil
}

func (s *Server) AdminRotateOAuthClient(ctx context.Context, req api.AdminRotateOAuthClientRequestObject) (api.AdminRotateOAuthClientResponseObject, error) {
	if err := s.adminGuard(ctx, cairn.PermOAuthClientRotate, true); err != nil {
		return nil, err
	}
	if s.OAuthClients == nil {
		return nil, cairn.Errorf(cairn.EUNAVAILABLE, "the OAuth server is not running")
	}
	grace := s.ClientSecretGrace
	if grace == 0 {
		grace = 24 * time.Hour
	}
	secret, hash := oauth.NewClientSecret()
	until := s.Now().Add(grace).UTC().Truncate(time.Second)
	// The OAuth store runs as the system; the permission was checked above.
	c, err := s.OAuthClients.RotateOAuthClientSecret(cairn.SystemContext(ctx), req.ClientId, hash, until)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, "", cairn.AuditOAuthClientRotate, map[string]any{"client_id": c.ID}); err != nil {
		return nil, err
	}
	return api.AdminRotateOAuthClient200JSONResponse{ClientId: c.ID, ClientSecret: secret, PreviousSecretExpiresAt: until}, nil
}

func (s *Server) AdminSearchAudit(ctx context.Context, req api.AdminSearchAuditRequestObject) (api.AdminSearchAuditResponseObject, error) {
	if err := s.adminGuard(ctx, cairn.PermAuditRead, false); err != nil {
		return nil, err
	}
	p := req.Params
	page, err := pageRequest(p.Cursor, p.Limit)
	if err != nil {
		return nil, err
	}
	list, err := s.Audit.SearchAudit(ctx, cairn.AuditFilter{ActorID: deref(p.ActorId), UserID: deref(p.UserId),
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
