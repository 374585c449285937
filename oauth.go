package cairn

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"
)

// OAuth2 grant types cairn's authorization server offers.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantClientCredentials = "client_credentials"
	GrantRefreshToken      = "refresh_token"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// GrantTypes lists the grant types a client may be registered for.
var GrantTypes = []string{GrantAuthorizationCode, GrantClientCredentials, GrantRefreshToken, GrantDeviceCode}

// OAuthClient is an application registered with cairn's OAuth2 server.
// Confidential clients authenticate with a secret, of which only the hash
// is stored; after a rotation the previous secret stays valid until
// PreviousSecretExpiresAt. Public clients (apps on a user's device) have
// no secret and must use PKCE.
type OAuthClient struct {
	ID                      string     `json:"client_id"`
	Name                    string     `json:"name"`
	SecretHash              []byte     `json:"-"`
	PreviousSecretHash      []byte     `json:"-"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	RedirectURIs            []string   `json:"redirect_uris"`
	GrantTypes              []string   `json:"grant_types"`
	Scopes                  []Scope    `json:"scopes"`
	Public                  bool       `json:"public"`
	// OwnerID is the user who registered the client, if any.
	OwnerID   string    `json:"owner_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Allows reports whether the client is registered for grant type g.
func (c *OAuthClient) Allows(g string) bool { return slices.Contains(c.GrantTypes, g) }

// Validate checks the client's registration. The admin scope is only for
// clients that use nothing but client_credentials: a client acting for
// users can never obtain it, so no consent screen can hand out admin.
func (c *OAuthClient) Validate() error {
	f := map[string]string{}
	if strings.TrimSpace(c.Name) == "" {
		f["name"] = "a client needs a name"
	}
	if len(c.GrantTypes) == 0 {
		f["grant_types"] = "at least one grant type is required"
	}
	for _, g := range c.GrantTypes {
		if !slices.Contains(GrantTypes, g) {
			f["grant_types"] = "unknown grant type " + g
		}
	}
	if len(c.Scopes) == 0 {
		f["scopes"] = "at least one scope is required"
	}
	for _, s := range c.Scopes {
		if !ValidScope(s) {
			f["scopes"] = "unknown scope " + string(s)
		}
	}
	if slices.Contains(c.Scopes, ScopeAdmin) && (len(c.GrantTypes) != 1 || c.GrantTypes[0] != GrantClientCredentials) {
		f["scopes"] = "the admin scope is only for clients whose one grant type is client_credentials"
	}
	if c.Public && c.Allows(GrantClientCredentials) {
		f["grant_types"] = "a public client cannot use client_credentials"
	}
	if c.Allows(GrantRefreshToken) && !c.Allows(GrantAuthorizationCode) && !c.Allows(GrantDeviceCode) {
		f["grant_types"] = "refresh_token needs authorization_code or the device grant"
	}
	if c.Allows(GrantAuthorizationCode) && len(c.RedirectURIs) == 0 {
		f["redirect_uris"] = "authorization_code needs at least one redirect URI"
	}
	for _, u := range c.RedirectURIs {
		p, err := url.Parse(u)
		if err != nil || p.Scheme == "" || p.Fragment != "" || strings.ContainsAny(u, " \t\n") ||
			(p.Scheme == "http" && !isLoopback(p.Hostname())) || (p.Scheme == "https" && p.Host == "") {
			f["redirect_uris"] = "redirect URIs are absolute, without fragment, and https (http only on localhost): " + u
		}
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "127.0.0.1" || host == "::1"
}

// Kinds of stored OAuth tokens.
const (
	OAuthCode    = "code"    // authorization code
	OAuthPKCE    = "pkce"    // the PKCE challenge of an authorization code
	OAuthAccess  = "access"  // access token
	OAuthRefresh = "refresh" // refresh token
)

// OAuthToken is the stored form of an authorization code, a PKCE request,
// an access or a refresh token: the SHA-256 of the token's signature (never
// the token) and the request it was issued for.
type OAuthToken struct {
	Kind string
	Hash []byte
	// RequestID names the grant: the code, its tokens and every token
	// refreshed from them share it, so it is the family that a reused
	// refresh token revokes.
	RequestID string
	ClientID  string
	UserID    string // "" for client credentials
	// Active is false once a code or refresh token has been spent.
	Active    bool
	ExpiresAt *time.Time
	// Request is the serialized request (scopes, session), opaque here.
	Request   []byte
	CreatedAt time.Time
}

// Device grant states.
const (
	DevicePending  = "pending"
	DeviceApproved = "approved"
	DeviceDenied   = "denied"
	DeviceUsed     = "used"
)

// DeviceGrant is one device authorization (RFC 8628): the device polls with
// the device code while the user enters the user code on a signed-in page.
// Both codes are stored hashed.
type DeviceGrant struct {
	DeviceCodeHash []byte
	UserCodeHash   []byte
	RequestID      string
	ClientID       string
	// Scopes are the requested scopes, and after approval the granted ones.
	Scopes       []Scope
	UserID       string // who approved or denied
	Status       string
	Interval     time.Duration // the least time between two polls
	LastPolledAt *time.Time
	ExpiresAt    time.Time
	CreatedAt    time.Time
}

// WebSession is a signed-in browser on the authorization pages; the
// cookie's value is the secret, the store keeps its hash.
type WebSession struct {
	Hash   []byte
	UserID string
	// Pending: the password was right but a second factor is still due
	// (or must be enrolled first); a pending session signs nobody in.
	Pending bool
	// MFAAt is when this browser passed a second factor, by MFAMethod;
	// nil when it signed in without one.
	MFAAt     *time.Time
	MFAMethod string
	ExpiresAt time.Time
	CreatedAt time.Time
}

// OAuthStore persists the authorization server's state. Every method runs
// as the system (the authorization server, or the CLI): its lookups are
// keyed by the hashes of secrets, which are the proof of ownership.
type OAuthStore interface {
	CreateOAuthClient(ctx context.Context, c *OAuthClient) error
	FindOAuthClient(ctx context.Context, id string) (*OAuthClient, error)
	// ListOAuthClientsByOwner returns the clients ownerID registered,
	// oldest first.
	ListOAuthClientsByOwner(ctx context.Context, ownerID string) ([]*OAuthClient, error)
	// RotateOAuthClientSecret replaces the secret's hash, keeping the
	// current one valid until graceUntil.
	RotateOAuthClientSecret(ctx context.Context, id string, hash []byte, graceUntil time.Time) (*OAuthClient, error)

	CreateOAuthToken(ctx context.Context, t *OAuthToken) error
	FindOAuthToken(ctx context.Context, kind string, hash []byte) (*OAuthToken, error)
	DeleteOAuthToken(ctx context.Context, kind string, hash []byte) error
	// SpendOAuthToken marks an active token inactive; CONFLICT when it
	// was not active (spent concurrently), NOT_FOUND when missing.
	SpendOAuthToken(ctx context.Context, kind string, hash []byte) error
	// DeactivateOAuthTokens marks every token of kind in the family inactive.
	DeactivateOAuthTokens(ctx context.Context, kind, requestID string) error
	// DeleteOAuthTokens deletes every token of kind in the family.
	DeleteOAuthTokens(ctx context.Context, kind, requestID string) error

	CreateDeviceGrant(ctx context.Context, g *DeviceGrant) error
	FindDeviceGrant(ctx context.Context, deviceCodeHash []byte) (*DeviceGrant, error)
	FindDeviceGrantByUserCode(ctx context.Context, userCodeHash []byte) (*DeviceGrant, error)
	// RecordDevicePoll stores the time of a poll and the interval now due.
	RecordDevicePoll(ctx context.Context, deviceCodeHash []byte, at time.Time, interval time.Duration) error
	// DecideDeviceGrant approves (with the granted scopes) or denies a
	// pending, unexpired grant; NOT_FOUND when there is none.
	DecideDeviceGrant(ctx context.Context, userCodeHash []byte, userID string, scopes []Scope, approve bool, now time.Time) error
	// UseDeviceGrant marks an approved grant used; CONFLICT if it was not
	// approved (used already).
	UseDeviceGrant(ctx context.Context, deviceCodeHash []byte) error

	// RecordOAuthConsent records that the user allowed the client these
	// scopes: a new consent, or the active one widened (a revoked one
	// starts afresh).
	RecordOAuthConsent(ctx context.Context, userID, clientID string, scopes []Scope, at time.Time) error

	CreateWebSession(ctx context.Context, s *WebSession) error
	FindWebSession(ctx context.Context, hash []byte) (*WebSession, error)
	DeleteWebSession(ctx context.Context, hash []byte) error

	// EnsureOAuthSecret stores candidate as the deployment's token signing
	// secret unless one exists, and returns the stored one, so that every
	// process of a deployment signs alike.
	EnsureOAuthSecret(ctx context.Context, candidate []byte) ([]byte, error)

	// BeginOAuthTx starts a transaction carried by the returned context:
	// the methods above called with it run in it, until CommitOAuthTx or
	// RollbackOAuthTx.
	BeginOAuthTx(ctx context.Context) (context.Context, error)
	CommitOAuthTx(ctx context.Context) error
	RollbackOAuthTx(ctx context.Context) error
}

// TokenIntrospector turns a bearer token that is not a personal access
// token (an OAuth2 access token) into the actor it acts as.
type TokenIntrospector interface {
	Introspect(ctx context.Context, token string) (Actor, error)
}
