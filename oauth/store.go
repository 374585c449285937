package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/pkce"
	fstorage "github.com/ory/fosite/storage"
)

// store adapts cairn.OAuthStore to fosite's storage interfaces. Requests
// are stored as JSON of the fields fosite needs (never the form's secrets:
// fosite sanitizes the form first); tokens by the hash of their signature.
type store struct {
	db  cairn.OAuthStore
	now func() time.Time
}

var (
	_ fosite.Storage                = (*store)(nil)
	_ oauth2.CoreStorage            = (*store)(nil)
	_ oauth2.TokenRevocationStorage = (*store)(nil)
	_ pkce.PKCERequestStorage       = (*store)(nil)
	_ fstorage.Transactional        = (*store)(nil)
)

// sys runs a storage call as the system: the authorization server itself.
func sys(ctx context.Context) context.Context { return cairn.SystemContext(ctx) }

// fositeErr maps NOT_FOUND to fosite's error and keeps the others.
func fositeErr(err error) error {
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return fosite.ErrNotFound.WithWrap(err)
	}
	return err
}

func (s *store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.db.FindOAuthClient(sys(ctx), id)
	if err != nil {
		return nil, fositeErr(err)
	}
	return s.client(c), nil
}

// client is the fosite view of a registered client. The previous secret
// is offered only during its grace period.
func (s *store) client(c *cairn.OAuthClient) *fosite.DefaultClient {
	dc := &fosite.DefaultClient{ID: c.ID, Secret: c.SecretHash, RedirectURIs: c.RedirectURIs,
		GrantTypes: c.GrantTypes, ResponseTypes: []string{"code"}, Public: c.Public}
	for _, sc := range c.Scopes {
		dc.Scopes = append(dc.Scopes, string(sc))
	}
	if len(c.PreviousSecretHash) > 0 && c.PreviousSecretExpiresAt != nil && s.now().Before(*c.PreviousSecretExpiresAt) {
		dc.RotatedSecrets = [][]byte{c.PreviousSecretHash}
	}
	return dc
}

var errNoJWTAuth = errors.New("oauth: JWT client authentication is not supported")

// ClientAssertionJWTValid and SetClientAssertionJWT serve private_key_jwt
// client authentication, which cairn does not offer.
func (s *store) ClientAssertionJWTValid(context.Context, string) error { return errNoJWTAuth }

func (s *store) SetClientAssertionJWT(context.Context, string, time.Time) error { return errNoJWTAuth }

// storedRequest is what a code or token remembers of its request.
type storedRequest struct {
	ID                string          `json:"id"`
	RequestedAt       time.Time       `json:"requested_at"`
	ClientID          string          `json:"client_id"`
	RequestedScopes   []string        `json:"requested_scopes"`
	GrantedScopes     []string        `json:"granted_scopes"`
	RequestedAudience []string        `json:"requested_audience"`
	GrantedAudience   []string        `json:"granted_audience"`
	Form              url.Values      `json:"form"`
	Session           json.RawMessage `json:"session"`
}

// expiryOf names the session expiry that bounds each kind.
var expiryOf = map[string]fosite.TokenType{
	cairn.OAuthCode: fosite.AuthorizeCode, cairn.OAuthPKCE: fosite.AuthorizeCode,
	cairn.OAuthAccess: fosite.AccessToken, cairn.OAuthRefresh: fosite.RefreshToken,
}

func (s *store) create(ctx context.Context, kind, signature string, r fosite.Requester) error {
	sess, err := json.Marshal(r.GetSession())
	if err != nil {
		return err
	}
	data, err := json.Marshal(storedRequest{ID: r.GetID(), RequestedAt: r.GetRequestedAt(), ClientID: r.GetClient().GetID(),
		RequestedScopes: r.GetRequestedScopes(), GrantedScopes: r.GetGrantedScopes(),
		RequestedAudience: r.GetRequestedAudience(), GrantedAudience: r.GetGrantedAudience(),
		Form: r.GetRequestForm(), Session: sess})
	if err != nil {
		return err
	}
	t := &cairn.OAuthToken{Kind: kind, Hash: hashOf(signature), RequestID: r.GetID(), ClientID: r.GetClient().GetID(),
		Request: data}
	if r.GetSession() != nil {
		t.UserID = r.GetSession().GetSubject()
		if exp := r.GetSession().GetExpiresAt(expiryOf[kind]); !exp.IsZero() {
			t.ExpiresAt = &exp
		}
	}
	return s.db.CreateOAuthToken(sys(ctx), t)
}

// get loads a stored request into session (a fresh one when nil). The
// token comes back too, for its Active flag.
func (s *store) get(ctx context.Context, kind, signature string, session fosite.Session) (*fosite.Request, *cairn.OAuthToken, error) {
	t, err := s.db.FindOAuthToken(sys(ctx), kind, hashOf(signature))
	if err != nil {
		return nil, nil, fositeErr(err)
	}
	var d storedRequest
	if err := json.Unmarshal(t.Request, &d); err != nil {
		return nil, nil, err
	}
	if session == nil {
		session = newSession("")
	}
	if len(d.Session) > 0 && string(d.Session) != "null" {
		if err := json.Unmarshal(d.Session, session); err != nil {
			return nil, nil, err
		}
	}
	client, err := s.GetClient(ctx, d.ClientID)
	if err != nil {
		return nil, nil, err
	}
	if d.Form == nil {
		d.Form = url.Values{}
	}
	return &fosite.Request{ID: d.ID, RequestedAt: d.RequestedAt, Client: client, RequestedScope: d.RequestedScopes,
		GrantedScope: d.GrantedScopes, Form: d.Form, Session: session, RequestedAudience: d.RequestedAudience,
		GrantedAudience: d.GrantedAudience}, t, nil
}

func (s *store) CreateAuthorizeCodeSession(ctx context.Context, code string, r fosite.Requester) error {
	return s.create(ctx, cairn.OAuthCode, code, r)
}

// GetAuthorizeCodeSession returns the request with ErrInvalidatedAuthorizeCode
// for a spent code, so that fosite revokes what the code issued.
func (s *store) GetAuthorizeCodeSession(ctx context.Context, code string, session fosite.Session) (fosite.Requester, error) {
	r, t, err := s.get(ctx, cairn.OAuthCode, code, session)
	if err != nil {
		return nil, err
	}
	if !t.Active {
		return r, fosite.ErrInvalidatedAuthorizeCode
	}
	return r, nil
}

func (s *store) InvalidateAuthorizeCodeSession(ctx context.Context, code string) error {
	err := s.db.SpendOAuthToken(sys(ctx), cairn.OAuthCode, hashOf(code))
	if cairn.ErrorCode(err) == cairn.ECONFLICT {
		return fosite.ErrInvalidatedAuthorizeCode
	}
	return fositeErr(err)
}

func (s *store) CreatePKCERequestSession(ctx context.Context, code string, r fosite.Requester) error {
	return s.create(ctx, cairn.OAuthPKCE, code, r)
}

func (s *store) GetPKCERequestSession(ctx context.Context, code string, session fosite.Session) (fosite.Requester, error) {
	r, _, err := s.get(ctx, cairn.OAuthPKCE, code, session)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *store) DeletePKCERequestSession(ctx context.Context, code string) error {
	return fositeErr(s.db.DeleteOAuthToken(sys(ctx), cairn.OAuthPKCE, hashOf(code)))
}

func (s *store) CreateAccessTokenSession(ctx context.Context, signature string, r fosite.Requester) error {
	return s.create(ctx, cairn.OAuthAccess, signature, r)
}

func (s *store) GetAccessTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	r, _, err := s.get(ctx, cairn.OAuthAccess, signature, session)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (s *store) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return fositeErr(s.db.DeleteOAuthToken(sys(ctx), cairn.OAuthAccess, hashOf(signature)))
}

func (s *store) CreateRefreshTokenSession(ctx context.Context, signature, _ string, r fosite.Requester) error {
	return s.create(ctx, cairn.OAuthRefresh, signature, r)
}

// GetRefreshTokenSession returns a spent refresh token's request with
// ErrInactiveToken: fosite then treats the use as a reuse and revokes
// the whole family (RevokeRefreshToken and RevokeAccessToken below).
func (s *store) GetRefreshTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	r, t, err := s.get(ctx, cairn.OAuthRefresh, signature, session)
	if err != nil {
		return nil, err
	}
	if !t.Active {
		return r, fosite.ErrInactiveToken
	}
	return r, nil
}

func (s *store) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	return fositeErr(s.db.DeleteOAuthToken(sys(ctx), cairn.OAuthRefresh, hashOf(signature)))
}

// RotateRefreshToken spends the refresh token being used (kept, inactive,
// to recognise a reuse) and revokes the family's access tokens; fosite
// then stores the new pair in the same transaction. Of two concurrent
// refreshes with one token only one spends it.
func (s *store) RotateRefreshToken(ctx context.Context, requestID, signature string) error {
	err := s.db.SpendOAuthToken(sys(ctx), cairn.OAuthRefresh, hashOf(signature))
	if cairn.ErrorCode(err) == cairn.ECONFLICT {
		return fosite.ErrSerializationFailure.WithWrap(err)
	} else if err != nil {
		return fositeErr(err)
	}
	return s.db.DeleteOAuthTokens(sys(ctx), cairn.OAuthAccess, requestID)
}

// RevokeRefreshToken deactivates every refresh token of the family.
func (s *store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	return s.db.DeactivateOAuthTokens(sys(ctx), cairn.OAuthRefresh, requestID)
}

// RevokeAccessToken deletes every access token of the family.
func (s *store) RevokeAccessToken(ctx context.Context, requestID string) error {
	return s.db.DeleteOAuthTokens(sys(ctx), cairn.OAuthAccess, requestID)
}

func (s *store) BeginTX(ctx context.Context) (context.Context, error) {
	return s.db.BeginOAuthTx(sys(ctx))
}
func (s *store) Commit(ctx context.Context) error   { return s.db.CommitOAuthTx(ctx) }
func (s *store) Rollback(ctx context.Context) error { return s.db.RollbackOAuthTx(ctx) }

// newSession returns the session stored with every code and token:
// subject is the user's id, "" for client credentials.
func newSession(subject string) *fosite.DefaultSession {
	return &fosite.DefaultSession{Subject: subject, ExpiresAt: map[fosite.TokenType]time.Time{}}
}
