// Package oauth is cairn's OAuth2 authorization server, an adapter around
// ory/fosite: the authorization code grant with PKCE (S256), client
// credentials, refresh tokens rotated on use (reusing a spent one revokes
// its whole family), the device authorization grant (RFC 8628),
// revocation (RFC 7009), introspection (RFC 7662) and metadata (RFC 8414);
// and the pages a person sees on the way: sign-in, consent, device code
// entry. Tokens are opaque HMAC values stored as hashes (see strategy.go);
// state lives in a cairn.OAuthStore.
//
// Access tokens reach the REST API through Server.Introspect, a
// cairn.TokenIntrospector. A token issued for a user acts as that user
// with the granted scopes. A client-credentials token acts as the client,
// which is no user: it reaches no user's rows (every store lookup answers
// NOT_FOUND) unless it was granted the admin scope, which only a client
// registered for client_credentials alone can hold (cairn.OAuthClient.Validate).
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/argon2id"
	"github.com/cairn-fit/cairn/mfa"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/telemetry"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
)

// MaxAccessTokenLifespan bounds how long an access token lives.
const MaxAccessTokenLifespan = 15 * time.Minute

// Config configures the server. Issuer, Secret, Store and Users are
// required; the lifespans have defaults.
type Config struct {
	// Issuer is the server's public base URL, without a trailing slash
	// (https://cairn.example). With https, cookies are Secure.
	Issuer string
	// Secret (at least 32 bytes) keys token HMACs and CSRF tokens.
	Secret []byte

	AccessTokenLifespan   time.Duration // default and maximum 15 minutes
	RefreshTokenLifespan  time.Duration // default 30 days
	AuthorizeCodeLifespan time.Duration // default 10 minutes
	DeviceCodeLifespan    time.Duration // default 10 minutes
	DeviceInterval        time.Duration // least time between device polls; default 5 s
	SessionLifespan       time.Duration // sign-in on the pages; default 12 hours

	Store cairn.OAuthStore
	Users cairn.UserStore
	// Limiter slows down password, client secret and user code guessing;
	// nil limits nothing.
	Limiter *ratelimit.Limiter
	// Accounts backs the account pages (password reset, sign-up); nil
	// turns them off.
	Accounts Accounts
	// TrustedProxies may name the client in X-Forwarded-For (for the
	// limits and the audit log); without them the peer is the client.
	TrustedProxies ratelimit.Proxies
	// MFA asks for a second factor after the password, and makes whoever
	// must use one (Policy.Required) enroll first; its Limiter should be
	// this one's. nil signs in with the password alone.
	MFA *mfa.Service
	// Audit records sign-ins (success and failure), issued and revoked
	// tokens; nil records nothing.
	Audit   cairn.AuditLog
	Log     *slog.Logger
	Metrics *telemetry.Metrics
	// Now is the clock of sessions and device grants (tokens use fosite's
	// own); replaceable in tests.
	Now func() time.Time
}

// Server is the authorization server.
type Server struct {
	cfg      Config
	provider *fosite.Fosite
	store    *store
	strategy *strategy
	csrfKey  []byte
	// dummyHash is verified against when the email is unknown, so that
	// a failed sign-in takes as long whether or not the account exists.
	dummyHash string
	pages     *template.Template
	secure    bool
	log       *slog.Logger
}

// New returns the server.
func New(c Config) (*Server, error) {
	if c.Store == nil || c.Users == nil {
		return nil, errors.New("oauth: Store and Users are required")
	}
	if len(c.Secret) < 32 {
		return nil, errors.New("oauth: the secret must be at least 32 bytes")
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("oauth: the issuer %q is not an http(s) base URL", c.Issuer)
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.AccessTokenLifespan, MaxAccessTokenLifespan)
	def(&c.RefreshTokenLifespan, 30*24*time.Hour)
	def(&c.AuthorizeCodeLifespan, 10*time.Minute)
	def(&c.DeviceCodeLifespan, 10*time.Minute)
	def(&c.DeviceInterval, 5*time.Second)
	def(&c.SessionLifespan, 12*time.Hour)
	if c.AccessTokenLifespan > MaxAccessTokenLifespan {
		return nil, fmt.Errorf("oauth: access tokens live at most %v", MaxAccessTokenLifespan)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = telemetry.NewMetrics()
	}
	dummy, err := argon2id.Hash(randomString(16), argon2id.OWASP)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: c, csrfKey: deriveKey(c.Secret, "csrf"), dummyHash: dummy, pages: pages,
		secure: u.Scheme == "https", log: c.Log}
	s.store = &store{db: c.Store, now: c.Now}
	fc := &fosite.Config{
		AccessTokenLifespan:   c.AccessTokenLifespan,
		RefreshTokenLifespan:  c.RefreshTokenLifespan,
		AuthorizeCodeLifespan: c.AuthorizeCodeLifespan,
		GlobalSecret:          deriveKey(c.Secret, "tokens"),
		// PKCE: S256 only, required of public clients.
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		// Refresh tokens only for grants that include offline_access.
		RefreshTokenScopes:       []string{string(cairn.ScopeOfflineAccess)},
		ScopeStrategy:            fosite.ExactScopeStrategy,
		AudienceMatchingStrategy: fosite.DefaultAudienceMatchingStrategy,
		ClientSecretsHasher:      secretHasher{},
		TokenURL:                 c.Issuer + "/oauth/token",
		AccessTokenIssuer:        c.Issuer,
		IDTokenIssuer:            c.Issuer,
		MinParameterEntropy:      fosite.MinParameterEntropy,
		OmitRedirectScopeParam:   false,
	}
	s.strategy = newStrategy(fc)
	device := func(fosite.Configurator, any, any) any { return &deviceHandler{s: s, strategy: s.strategy} }
	provider, ok := compose.Compose(fc, s.store, s.strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2PKCEFactory, // after the explicit handler: it needs the code
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		device,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	).(*fosite.Fosite)
	if !ok {
		return nil, errors.New("oauth: unexpected provider type")
	}
	s.provider = provider
	return s, nil
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// Paths are the URL paths (and subtrees) the server answers, for mounting
// it next to the REST API.
var Paths = []string{"/oauth/", "/login", "/login/mfa", "/logout", "/.well-known/oauth-authorization-server",
	"/forgot-password", "/reset-password", "/signup", "/signup/confirm"}

// Handler returns the HTTP handler for every OAuth route.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.metadata)
	mux.HandleFunc("GET /oauth/authorize", s.authorize)
	mux.HandleFunc("POST /oauth/authorize", s.authorize)
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("POST /oauth/revoke", s.revoke)
	mux.HandleFunc("POST /oauth/introspect", s.introspect)
	mux.HandleFunc("POST /oauth/device/code", s.deviceCode)
	mux.HandleFunc("GET /oauth/device", s.devicePage)
	mux.HandleFunc("POST /oauth/device", s.devicePage)
	mux.HandleFunc("GET /login", s.login)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("GET /login/mfa", s.loginMFA)
	mux.HandleFunc("POST /login/mfa", s.loginMFA)
	mux.HandleFunc("GET /logout", s.logout)
	mux.HandleFunc("POST /logout", s.logout)
	for path, h := range map[string]http.HandlerFunc{"/forgot-password": s.forgotPassword,
		"/reset-password": s.resetPassword, "/signup": s.signUp, "/signup/confirm": s.confirmSignUp} {
		mux.HandleFunc("GET "+path, h)
		mux.HandleFunc("POST "+path, h)
	}
	return s.observe(limitBody(mux))
}

// limitBody bounds request bodies: every form here is small.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		next.ServeHTTP(w, r)
	})
}

// token is the token endpoint of every grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ip, account := s.clientIP(r), clientIDOf(r)
	if err := s.allow(actionToken, ip, account); err != nil {
		s.writeRateLimited(w, err)
		return
	}
	ar, err := s.provider.NewAccessRequest(ctx, r, newSession(""))
	if err != nil {
		s.tokenOutcome(ip, account, err)
		s.writeAccessError(ctx, w, ar, err)
		return
	}
	if ar.GetGrantTypes().ExactOne(cairn.GrantClientCredentials) {
		// The client acts for itself: it gets what it asked for, which
		// fosite checked against its registration.
		for _, sc := range ar.GetRequestedScopes() {
			ar.GrantScope(sc)
		}
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.tokenOutcome(ip, account, err)
		s.writeAccessError(ctx, w, ar, err)
		return
	}
	s.succeed(actionToken, ip, account)
	scopes := ar.GetGrantedScopes()
	s.audit(r, &cairn.AuditEntry{ActorID: "client:" + ar.GetClient().GetID(), UserID: ar.GetSession().GetSubject(),
		Action: cairn.AuditTokenIssue, Details: auditDetails(map[string]any{"grant_type": ar.GetGrantTypes(), "scopes": scopes})})
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

// audit appends e to the audit log, with the request's client; a failure
// is logged, never shown to the person or client.
func (s *Server) audit(r *http.Request, e *cairn.AuditEntry) {
	if s.cfg.Audit == nil {
		return
	}
	ctx := cairn.WithClient(sys(r.Context()), cairn.Client{IP: s.clientIP(r), UserAgent: r.UserAgent()})
	if err := s.cfg.Audit.RecordAudit(ctx, e); err != nil {
		s.log.ErrorContext(r.Context(), "audit", "action", e.Action, "err", err)
	}
}

func auditDetails(v map[string]any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// tokenOutcome counts wrong credentials and grants as failures; a device
// still waiting for its user is not guessing.
func (s *Server) tokenOutcome(ip, account string, err error) {
	if err == nil {
		return
	}
	switch fosite.ErrorToRFC6749Error(err).ErrorField {
	case "invalid_client", "invalid_grant", "unauthorized_client":
		s.fail(actionToken, ip, account)
	}
}

func (s *Server) writeAccessError(ctx context.Context, w http.ResponseWriter, ar fosite.AccessRequester, err error) {
	if rfc := fosite.ErrorToRFC6749Error(err); rfc.CodeField >= 500 {
		s.log.ErrorContext(ctx, "token request failed", "err", err, "cause", rfc.Cause())
	}
	s.provider.WriteAccessError(ctx, w, ar, err)
}

// revoke is RFC 7009 revocation: a client revokes its own tokens; revoking
// a refresh token revokes its family's access tokens, and the reverse.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ip, account := s.clientIP(r), clientIDOf(r)
	if err := s.allow(actionToken, ip, account); err != nil {
		s.writeRateLimited(w, err)
		return
	}
	err := s.provider.NewRevocationRequest(ctx, r)
	s.tokenOutcome(ip, account, err)
	if err == nil {
		s.audit(r, &cairn.AuditEntry{ActorID: "client:" + account, Action: cairn.AuditTokenRevoke})
	}
	s.provider.WriteRevocationResponse(ctx, w, err)
}

// introspect is RFC 7662 introspection for confidential clients, which
// authenticate with HTTP Basic. A client learns only about its own
// tokens: any other answers inactive.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, _, basic := r.BasicAuth()
	if !basic {
		s.provider.WriteIntrospectionError(ctx, w, fosite.ErrRequestUnauthorized.WithHint("Authenticate the client with HTTP Basic."))
		return
	}
	id, _ = url.QueryUnescape(id)
	ip := s.clientIP(r)
	if err := s.allow(actionToken, ip, id); err != nil {
		s.writeRateLimited(w, err)
		return
	}
	ir, err := s.provider.NewIntrospectionRequest(ctx, r, newSession(""))
	if errors.Is(err, fosite.ErrRequestUnauthorized) {
		s.fail(actionToken, ip, id)
	}
	if err != nil {
		s.provider.WriteIntrospectionError(ctx, w, err)
		return
	}
	if ir.GetAccessRequester().GetClient().GetID() != id {
		s.provider.WriteIntrospectionError(ctx, w, fosite.ErrInactiveToken)
		return
	}
	s.provider.WriteIntrospectionResponse(ctx, w, ir)
}

// metadata is RFC 8414 authorization server metadata.
func (s *Server) metadata(w http.ResponseWriter, _ *http.Request) {
	iss := s.cfg.Issuer
	scopes := make([]string, len(cairn.KnownScopes))
	for i, sc := range cairn.KnownScopes {
		scopes[i] = string(sc)
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                        iss,
		"authorization_endpoint":                        iss + "/oauth/authorize",
		"token_endpoint":                                iss + "/oauth/token",
		"revocation_endpoint":                           iss + "/oauth/revoke",
		"introspection_endpoint":                        iss + "/oauth/introspect",
		"device_authorization_endpoint":                 iss + "/oauth/device/code",
		"scopes_supported":                              scopes,
		"response_types_supported":                      []string{"code"},
		"response_modes_supported":                      []string{"query"},
		"grant_types_supported":                         cairn.GrantTypes,
		"code_challenge_methods_supported":              []string{"S256"},
		"token_endpoint_auth_methods_supported":         []string{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported":    []string{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic"},
	})
}

// Introspect turns an access token into the actor it acts as, for the
// REST API (cairn.TokenIntrospector).
func (s *Server) Introspect(ctx context.Context, token string) (cairn.Actor, error) {
	use, ar, err := s.provider.IntrospectToken(ctx, token, fosite.AccessToken, newSession(""))
	if err != nil || use != fosite.AccessToken {
		var ce *cairn.Error
		if errors.As(err, &ce) && (ce.Code == cairn.EINTERNAL || ce.Code == cairn.EUNAVAILABLE) {
			return cairn.Actor{}, ce
		}
		return cairn.Actor{}, cairn.Errorf(cairn.EUNAUTHENTICATED, "invalid or expired token")
	}
	a := cairn.Actor{ClientID: ar.GetClient().GetID()}
	for _, sc := range ar.GetGrantedScopes() {
		a.Scopes = append(a.Scopes, cairn.Scope(sc))
	}
	subject := ar.GetSession().GetSubject()
	if subject == "" {
		// Client credentials: the client itself, no user; it owns its
		// webhook endpoints.
		a.Admin = a.Has(cairn.ScopeAdmin)
		return a, nil
	}
	u, err := s.cfg.Users.FindUser(sys(ctx), subject)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return cairn.Actor{}, cairn.Errorf(cairn.EUNAUTHENTICATED, "invalid or expired token")
	} else if err != nil {
		return cairn.Actor{}, err
	}
	if u.Status == cairn.UserFrozen {
		return cairn.Actor{}, cairn.Errorf(cairn.EFORBIDDEN, "the account is frozen")
	}
	// The grant (request id) is the session: refreshed tokens keep it, so a
	// step-up check holds across refreshes.
	ua := cairn.UserActor(u, a.Scopes, "grant:"+ar.GetID())
	ua.ClientID = a.ClientID
	return ua, nil
}

var _ cairn.TokenIntrospector = (*Server)(nil)

// Rate limiting: thin wrappers that do nothing without a limiter.
const (
	actionToken  = ratelimit.Token
	actionLogin  = ratelimit.Login
	actionDevice = ratelimit.DeviceCode
)

func (s *Server) allow(a ratelimit.Action, ip, account string) error {
	if s.cfg.Limiter == nil {
		return nil
	}
	return s.cfg.Limiter.Allow(a, ip, account)
}

func (s *Server) fail(a ratelimit.Action, ip, account string) {
	if s.cfg.Limiter != nil {
		s.cfg.Limiter.Fail(a, ip, account)
	}
}

func (s *Server) succeed(a ratelimit.Action, ip, account string) {
	if s.cfg.Limiter != nil {
		s.cfg.Limiter.Succeed(a, ip, account)
	}
}

// writeRateLimited answers an OAuth endpoint's 429.
func (s *Server) writeRateLimited(w http.ResponseWriter, err error) {
	setRetryAfter(w, err)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "slow_down",
		"error_description": cairn.ErrorMessage(err)})
}

func setRetryAfter(w http.ResponseWriter, err error) {
	if d := cairn.ErrorRetryAfter(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
}

// clientIP is the client's address: the peer's, or what a trusted proxy
// says in X-Forwarded-For.
func (s *Server) clientIP(r *http.Request) string { return s.cfg.TrustedProxies.ClientIP(r) }

// clientIDOf names the client of a token-endpoint request before it is
// authenticated, for rate limiting.
func clientIDOf(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		id, _ = url.QueryUnescape(id)
		return id
	}
	if err := r.ParseForm(); err != nil {
		return ""
	}
	return r.PostForm.Get("client_id")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// observe is the shared request observation (the REST API's too).
func (s *Server) observe(next http.Handler) http.Handler {
	return telemetry.Observe(s.log, s.cfg.Metrics, next, func(w http.ResponseWriter, r *http.Request, err error) {
		s.log.ErrorContext(r.Context(), "panic", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	})
}
