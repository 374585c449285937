package cairn

import "slices"

// Permission is something a role lets its users do through the admin API.
// Roles map to permissions here, in one table; a permission is only used
// while acting with the admin scope.
type Permission string

// Permissions of the admin API.
const (
	PermUsersRead         Permission = "users:read"           // search users, see their data
	PermUsersCreate       Permission = "users:create"         // create users
	PermUsersInvite       Permission = "users:invite"         // mail an invitation
	PermUsersResetPass    Permission = "users:reset_password" // mail a password reset
	PermUsersResetMFA     Permission = "users:reset_mfa"      // remove a user's second factors
	PermUsersFreeze       Permission = "users:freeze"         // freeze and unfreeze
	PermUsersDelete       Permission = "users:delete"         // delete (then purge)
	PermOAuthClientRotate Permission = "oauth_clients:rotate"
	PermOAuthClientCreate Permission = "oauth_clients:create"
	PermAuditRead         Permission = "audit:read"
)

// RolePermissions is what each role may do. Admins may do everything;
// support helps users back in (invitations, password and MFA resets) and
// reads what it needs for that; users have no admin permission.
var RolePermissions = map[string][]Permission{
	RoleAdmin: {PermUsersRead, PermUsersCreate, PermUsersInvite, PermUsersResetPass, PermUsersResetMFA,
		PermUsersFreeze, PermUsersDelete, PermOAuthClientRotate, PermOAuthClientCreate, PermAuditRead},
	RoleSupport: {PermUsersRead, PermUsersInvite, PermUsersResetPass, PermUsersResetMFA, PermAuditRead},
	RoleUser:    nil,
}

// Staff reports whether u has a role that administers (admin or support).
func (u *User) Staff() bool { return u.HasRole(RoleAdmin) || u.HasRole(RoleSupport) }

// Can reports whether the actor may use permission p: the system always,
// a user only while acting with the admin scope and holding a role that
// grants p.
func (a Actor) Can(p Permission) bool {
	if a.System {
		return true
	}
	if !a.Has(ScopeAdmin) {
		return false
	}
	for _, r := range a.Roles {
		if slices.Contains(RolePermissions[r], p) {
			return true
		}
	}
	return false
}

// UserActor is the actor of a request authenticated as u with scopes; the
// session names the token's sign-in (a personal access token, an OAuth
// grant) for step-up checks. Staff (admin and support) acting with the
// admin scope reach every user's rows; what they may change is then
// limited by their roles' permissions (Can).
func UserActor(u *User, scopes []Scope, session string) Actor {
	a := Actor{UserID: u.ID, Scopes: scopes, Roles: u.Roles, Session: session}
	a.Admin = u.Staff() && a.Has(ScopeAdmin)
	return a
}

// Audited actions of the admin API and of authentication.
const (
	AuditUserCreate        = "user.create"
	AuditUserInvite        = "user.invite"
	AuditAdminResetPass    = "admin.password_reset"
	AuditAdminResetMFA     = "admin.mfa_reset"
	AuditAdminViewUserData = "admin.view_user_data"
	AuditOAuthClientRotate = "oauth_client.rotate"
	AuditOAuthClientCreate = "oauth_client.create"
	AuditLoginSuccess      = "login.success"
	AuditLoginFailure      = "login.failure"
	AuditMFAVerify         = "mfa.verify"
	AuditMFAFailure        = "mfa.failure"
	AuditTokenIssue        = "token.issue"
	AuditTokenRevoke       = "token.revoke"
)
