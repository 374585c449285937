// Package syncer brings users' activities from Strava and Garmin into
// cairn: it connects accounts (OAuth, tokens sealed at rest), runs sync
// sessions through their state machine
//
//	INITIATED → FETCHING_ACTIVITIES → ENRICHING_WEATHER → STORING_DATA → COMPLETED
//	(any working state) → FAILED → RETRYING → the phase that failed
//
// with every step persisted (the session's state, counters and listing
// checkpoint; each activity's progress in sync_items, its provider
// answers staged in the blob store), so that a process killed at any
// point resumes where it stopped without fetching again what it has. It
// also turns providers' webhooks into sync jobs and enriches activities
// with the weather and place of their start.
package syncer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/garmin"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/provider"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/strava"
	"github.com/cairn-fit/cairn/weather"
	"github.com/riverqueue/river"
	"gocloud.dev/blob"
)

// Queue enqueues jobs: inside a transaction (with the rows that cause
// them) or on their own.
type Queue interface {
	InsertTx(ctx context.Context, tx *sqldb.Tx, args river.JobArgs, opts *river.InsertOpts) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
}

// Config is what the service works with. Strava, Garmin, Weather and
// Geocoder may be nil: that provider (or enrichment) is then not
// available.
type Config struct {
	DB       *sqldb.DB
	Ingest   *ingest.Service
	Bucket   *blob.Bucket // staging of provider answers
	Keys     *secrets.Keyring
	Strava   *strava.Client
	Garmin   *garmin.Client
	Weather  *weather.Client
	Geocoder *weather.Geocoder
	Queue    Queue
	Clock    provider.Clock
	Log      *slog.Logger
	// BaseURL is where providers reach cairn (OAuth callbacks,
	// webhooks): http://127.0.0.1:8080 or the public address.
	BaseURL string
	// Lease is how long a worker's hold on a session lasts without
	// renewal (default 30 s): a killed worker's session is taken over
	// after it.
	Lease time.Duration
	// Concurrency is how many activities of a session are fetched or
	// stored at once (default 4).
	Concurrency int
	// PageSize is how many activities a list page asks for (default 200,
	// Strava's maximum).
	PageSize int
	// MaxRetries bounds FAILED → RETRYING rounds of a session (default 8).
	MaxRetries int
	// Events records events in the transaction of the change (the
	// outbox); nil records none.
	Events func(ctx context.Context, tx *sqldb.Tx, ev cairn.Event) error
	// StravaVerifyToken is what Strava's subscription validation must
	// echo (hub.verify_token).
	StravaVerifyToken string
}

// Service is the sync orchestrator and connection manager.
type Service struct {
	cfg   Config
	clock provider.Clock
	log   *slog.Logger
	// tokens serializes token refreshes per connection.
	tokens sync.Map // ConnectionAD → *sync.Mutex
	// runs counts Run calls, for lease owner names.
	process string
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Clock == nil {
		cfg.Clock = provider.RealClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 200
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 8
	}
	return &Service{cfg: cfg, clock: cfg.Clock, log: cfg.Log, process: randomID(6)}
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand does not fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// userContext acts as the user (with the scopes a sync needs), so that
// every store call keeps to the user's rows.
func userContext(ctx context.Context, userID string) context.Context {
	return cairn.WithActor(ctx, cairn.Actor{UserID: userID,
		Scopes: []cairn.Scope{cairn.ScopeActivityRead, cairn.ScopeActivityWrite, cairn.ScopeHealthWrite}})
}

func (s *Service) available(p string) error {
	if (p == cairn.ProviderStrava && s.cfg.Strava == nil) || (p == cairn.ProviderGarmin && s.cfg.Garmin == nil) {
		return cairn.Errorf(cairn.EUNAVAILABLE, "%s is not configured on this server", p)
	}
	if !cairn.ValidProvider(p) {
		return cairn.Invalid(map[string]string{"provider": "must be strava or garmin"})
	}
	return nil
}

func (s *Service) event(ctx context.Context, tx *sqldb.Tx, ev cairn.Event) error {
	if s.cfg.Events == nil {
		return nil
	}
	return s.cfg.Events(ctx, tx, ev)
}

// CallbackURL is where a provider sends the user back after consent.
func (s *Service) CallbackURL(p string) string { return s.cfg.BaseURL + "/oauth/callback/" + p }

// AuthorizeURL starts connecting userID to the provider: it records a
// single-use state (and for Garmin a PKCE verifier, sealed) and returns
// the provider's consent page.
func (s *Service) AuthorizeURL(ctx context.Context, userID, p string) (string, error) {
	if err := s.available(p); err != nil {
		return "", err
	}
	state := randomID(24)
	st := &sqldb.AuthState{StateHash: hashState(state), UserID: userID, Provider: p,
		ExpiresAt: s.cfg.DB.Now().Add(15 * time.Minute)} // the store's clock judges it
	var verifier string
	if p == cairn.ProviderGarmin {
		verifier = randomID(48)
		enc, err := s.cfg.Keys.Seal([]byte(verifier), secrets.AD("provider_auth_states", "verifier_enc", st.StateHash))
		if err != nil {
			return "", err
		}
		st.VerifierEnc = enc
	}
	if err := s.cfg.DB.CreateAuthState(ctx, st); err != nil {
		return "", err
	}
	if p == cairn.ProviderGarmin {
		return s.cfg.Garmin.AuthorizeURL(s.CallbackURL(p), state, verifier), nil
	}
	return s.cfg.Strava.AuthorizeURL(s.CallbackURL(p), state), nil
}

func hashState(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// Callback finishes connecting: it consumes the state, exchanges the code
// for tokens, learns the provider's user id and stores the connection
// with its tokens sealed.
func (s *Service) Callback(ctx context.Context, p, code, state string) (*cairn.Connection, error) {
	if err := s.available(p); err != nil {
		return nil, err
	}
	st, err := s.cfg.DB.TakeAuthState(cairn.SystemContext(ctx), hashState(state))
	if cairn.ErrorCode(err) == cairn.ENOTFOUND || (err == nil && st.Provider != p) {
		return nil, cairn.Errorf(cairn.EVALIDATION, "the authorization is unknown or has expired: connect again")
	} else if err != nil {
		return nil, err
	}
	if code == "" {
		return nil, cairn.Errorf(cairn.EFORBIDDEN, "the authorization was declined")
	}
	c := &cairn.Connection{UserID: st.UserID, Provider: p}
	var access, refresh string
	var expires time.Time
	switch p {
	case cairn.ProviderStrava:
		t, err := s.cfg.Strava.Exchange(ctx, code)
		if err != nil {
			return nil, err
		}
		access, refresh, expires, c.Scopes = t.AccessToken, t.RefreshToken, t.Expiry(), strava.Scope
		if t.Athlete != nil {
			c.ExternalUserID = fmt.Sprint(t.Athlete.ID)
		}
	case cairn.ProviderGarmin:
		verifier, err := s.cfg.Keys.Open(st.VerifierEnc, secrets.AD("provider_auth_states", "verifier_enc", st.StateHash))
		if err != nil {
			return nil, err
		}
		t, err := s.cfg.Garmin.Exchange(ctx, code, s.CallbackURL(p), string(verifier))
		if err != nil {
			return nil, err
		}
		access, refresh, expires, c.Scopes = t.AccessToken, t.RefreshToken, t.Expiry(s.clock.Now()), t.Scope
		if c.ExternalUserID, err = s.cfg.Garmin.UserID(ctx, access); err != nil {
			return nil, err
		}
	}
	if err := s.seal(c, access, refresh, expires); err != nil {
		return nil, err
	}
	if err := s.cfg.DB.UpsertConnection(userContext(ctx, c.UserID), c); err != nil {
		return nil, err
	}
	return c, nil
}

func tokenAD(c *cairn.Connection, column string) []byte {
	return secrets.AD("provider_connections", column, sqldb.ConnectionAD(c.UserID, c.Provider))
}

// seal puts the tokens, sealed, into c.
func (s *Service) seal(c *cairn.Connection, access, refresh string, expires time.Time) error {
	var err error
	if c.AccessTokenEnc, err = s.cfg.Keys.Seal([]byte(access), tokenAD(c, "access_token_enc")); err != nil {
		return err
	}
	if c.RefreshTokenEnc, err = s.cfg.Keys.Seal([]byte(refresh), tokenAD(c, "refresh_token_enc")); err != nil {
		return err
	}
	e := expires.UTC()
	c.ExpiresAt = &e
	c.AccessTokenHash = tokenHash(access)
	return nil
}

// open returns c's tokens in the clear.
func (s *Service) open(c *cairn.Connection) (access, refresh string, err error) {
	if len(c.AccessTokenEnc) == 0 {
		return "", "", cairn.Errorf(cairn.EUNAUTHENTICATED, "the %s connection has no tokens: connect again", c.Provider)
	}
	a, err := s.cfg.Keys.Open(c.AccessTokenEnc, tokenAD(c, "access_token_enc"))
	if err != nil {
		return "", "", err
	}
	r, err := s.cfg.Keys.Open(c.RefreshTokenEnc, tokenAD(c, "refresh_token_enc"))
	if err != nil {
		return "", "", err
	}
	return string(a), string(r), nil
}

// ListConnections lists the user's connections.
func (s *Service) ListConnections(ctx context.Context, userID string) ([]cairn.Connection, error) {
	return s.cfg.DB.ListConnections(ctx, userID)
}

// RevokeConnection tells the provider to forget cairn's access (when it
// can be reached) and marks the connection revoked, recording
// connection.revoked.
func (s *Service) RevokeConnection(ctx context.Context, userID, p string) error {
	c, err := s.cfg.DB.FindConnection(ctx, userID, p)
	if err != nil {
		return err
	}
	if c.Status == cairn.ConnectionActive && s.available(p) == nil {
		if access, _, err := s.open(c); err == nil {
			var derr error
			if p == cairn.ProviderStrava {
				derr = s.cfg.Strava.Deauthorize(ctx, access)
			} else {
				derr = s.cfg.Garmin.Deregister(ctx, access)
			}
			if derr != nil {
				// The user's wish holds: cairn forgets the tokens anyway.
				s.log.WarnContext(ctx, "provider deauthorization failed", "provider", p, "err", derr)
			}
		}
	}
	return s.revoke(ctx, userID, p)
}

// revoke marks the connection revoked in cairn only (the provider told
// us, or was told).
func (s *Service) revoke(ctx context.Context, userID, p string) error {
	_, err := s.cfg.DB.RevokeConnection(ctx, userID, p, func(tx *sqldb.Tx, c *cairn.Connection) error {
		return s.event(ctx, tx, cairn.ConnectionRevokedEvent(userID, c.ID, p))
	})
	return err
}

// tokenSource hands out a connection's access token, refreshing it
// (once, however many callers find it stale) and storing the new tokens
// sealed.
type tokenSource struct {
	s      *Service
	userID string
	p      string
	mu     *sync.Mutex
	conn   *cairn.Connection
	access string
	expiry time.Time
}

func (s *Service) tokenSource(ctx context.Context, userID, p string) (*tokenSource, error) {
	c, err := s.cfg.DB.FindConnection(ctx, userID, p)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return nil, cairn.Kinded(cairn.EUNPROCESSABLE, cairn.KindAuthentication, nil, p+" is not connected")
	} else if err != nil {
		return nil, err
	}
	if c.Status != cairn.ConnectionActive {
		return nil, cairn.Kinded(cairn.EUNPROCESSABLE, cairn.KindAuthentication, nil, "the "+p+" connection was revoked: connect again")
	}
	access, _, err := s.open(c)
	if err != nil {
		return nil, err
	}
	mu, _ := s.tokens.LoadOrStore(sqldb.ConnectionAD(userID, p), &sync.Mutex{})
	ts := &tokenSource{s: s, userID: userID, p: p, mu: mu.(*sync.Mutex), conn: c, access: access}
	if c.ExpiresAt != nil {
		ts.expiry = *c.ExpiresAt
	}
	return ts, nil
}

// token returns a live access token, refreshing one about to expire.
func (ts *tokenSource) token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if !ts.expiry.IsZero() && ts.s.clock.Now().Add(2*time.Minute).After(ts.expiry) {
		return ts.refreshLocked(ctx, ts.access)
	}
	return ts.access, nil
}

// refresh renews the tokens after the provider refused stale, unless
// another caller did meanwhile.
func (ts *tokenSource) refresh(ctx context.Context, stale string) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.refreshLocked(ctx, stale)
}

func (ts *tokenSource) refreshLocked(ctx context.Context, stale string) (string, error) {
	s := ts.s
	// Another process may have refreshed: read the stored tokens first.
	c, err := s.cfg.DB.FindConnection(ctx, ts.userID, ts.p)
	if err != nil {
		return "", err
	}
	if c.Status != cairn.ConnectionActive {
		return "", cairn.Kinded(cairn.EUNPROCESSABLE, cairn.KindAuthentication, nil, "the "+ts.p+" connection was revoked: connect again")
	}
	access, refresh, err := s.open(c)
	if err != nil {
		return "", err
	}
	if access != stale && c.ExpiresAt != nil && s.clock.Now().Add(2*time.Minute).Before(*c.ExpiresAt) {
		ts.conn, ts.access, ts.expiry = c, access, *c.ExpiresAt
		return access, nil
	}
	var newAccess, newRefresh string
	var expires time.Time
	switch ts.p {
	case cairn.ProviderStrava:
		t, err := s.cfg.Strava.Refresh(ctx, refresh)
		if err != nil {
			return "", providerAuth(err, ts.p)
		}
		newAccess, newRefresh, expires = t.AccessToken, t.RefreshToken, t.Expiry()
	case cairn.ProviderGarmin:
		t, err := s.cfg.Garmin.Refresh(ctx, refresh)
		if err != nil {
			return "", providerAuth(err, ts.p)
		}
		newAccess, newRefresh, expires = t.AccessToken, t.RefreshToken, t.Expiry(s.clock.Now())
	}
	if newAccess == stale && !expires.After(s.clock.Now()) {
		return "", cairn.Errorf(cairn.EUNAUTHENTICATED, "%s keeps refusing the refreshed token", ts.p)
	}
	if err := s.seal(c, newAccess, newRefresh, expires); err != nil {
		return "", err
	}
	if err := s.cfg.DB.UpdateConnectionTokens(ctx, c); err != nil {
		return "", err
	}
	ts.conn, ts.access, ts.expiry = c, newAccess, expires
	return newAccess, nil
}

// providerAuth turns a provider's refusal of cairn's tokens into an
// UNPROCESSABLE error of the authentication kind: to cairn's own API
// callers it is not their credentials that failed (401), but the
// connection, which must be made again.
func providerAuth(err error, p string) error {
	if cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED {
		return err
	}
	return cairn.Kinded(cairn.EUNPROCESSABLE, cairn.KindAuthentication, err, p+" refuses cairn's access: connect again")
}

// withToken calls fn with an access token; when the provider refuses it
// (expired early, revoked and granted again) the token is refreshed and
// fn called again, a few times at most: other calls may use up a
// short-lived token meanwhile.
func withToken[T any](ctx context.Context, ts *tokenSource, fn func(access string) (T, error)) (T, error) {
	var zero T
	access, err := ts.token(ctx)
	if err != nil {
		return zero, err
	}
	for try := 0; ; try++ {
		out, err := fn(access)
		if cairn.ErrorCode(err) != cairn.EUNAUTHENTICATED {
			return out, err
		}
		if try == 3 {
			return out, providerAuth(err, ts.p)
		}
		if access, err = ts.refresh(ctx, access); err != nil {
			return zero, err
		}
	}
}

// The service is what the REST API serves.
var _ cairn.SyncService = (*Service)(nil)

// SetQueue gives the service its job queue (built after the service,
// whose workers it runs).
func (s *Service) SetQueue(q Queue) { s.cfg.Queue = q }

// Register adds the service's workers to a River worker set and returns
// its periodic jobs: resuming orphaned sessions every resumeEvery, and
// retrying missing enrichments every enrichEvery.
func (s *Service) Register(workers *river.Workers, resumeEvery, enrichEvery time.Duration) []*river.PeriodicJob {
	river.AddWorker(workers, &SyncWorker{Sync: s})
	river.AddWorker(workers, &ResumeWorker{Sync: s})
	river.AddWorker(workers, &EnrichWorker{Sync: s})
	river.AddWorker(workers, &StravaEventWorker{Sync: s})
	river.AddWorker(workers, &GarminWorker{Sync: s})
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(resumeEvery),
			func() (river.JobArgs, *river.InsertOpts) { return ResumeArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true}),
		river.NewPeriodicJob(river.PeriodicInterval(enrichEvery),
			func() (river.JobArgs, *river.InsertOpts) { return EnrichArgs{}, nil }, nil),
	}
}
