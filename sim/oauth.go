package sim

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Providers, as IssueToken takes them.
const (
	ProviderStrava = "strava"
	ProviderGarmin = "garmin"
)

const (
	codeTTL       = 10 * time.Minute
	garminRefresh = 90 * 24 * time.Hour
)

// grant is what a user approved: an application's access to an athlete.
type grant struct {
	provider string
	clientID string
	athlete  *Athlete
	scope    string
}

type token struct {
	grant
	access, refresh string
	expiresAt       time.Time
	refreshExpires  time.Time // zero: never (Strava)
	calls           int
	revoked         bool
}

type authCode struct {
	grant
	redirectURI, challenge string
	expires                time.Time
}

type tokenStore struct {
	byAccess  map[string]*token
	byRefresh map[string]*token
	codes     map[string]*authCode
}

func newTokenStore() tokenStore {
	return tokenStore{byAccess: map[string]*token{}, byRefresh: map[string]*token{}, codes: map[string]*authCode{}}
}

// secret returns a fresh 40-hex-digit value (the length of Strava's
// tokens). Callers hold s.mu.
func (s *Sim) secret() string {
	return fmt.Sprintf("%016x%016x%08x", s.ids.Uint64(), s.ids.Uint64(), s.ids.Uint32())
}

// issue creates a token for g. Callers hold s.mu.
func (s *Sim) issue(g grant) *token {
	ttl := s.cfg.StravaTokenTTL
	if g.provider == ProviderGarmin {
		ttl = s.cfg.GarminTokenTTL
	}
	t := &token{grant: g, access: s.secret(), refresh: s.secret(), expiresAt: s.now().Add(ttl)}
	if g.provider == ProviderGarmin {
		t.refreshExpires = s.now().Add(garminRefresh)
	}
	s.tokens.byAccess[t.access] = t
	s.tokens.byRefresh[t.refresh] = t
	return t
}

// IssueToken grants the application access to the athlete and returns
// the access and refresh tokens, skipping the OAuth dance in tests.
func (s *Sim) IssueToken(provider, clientID string, athlete *Athlete, scope string) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.issue(grant{provider: provider, clientID: clientID, athlete: athlete, scope: scope})
	return t.access, t.refresh
}

// ExpireTokens makes every access token expired now, as if the sync ran
// past their lifetime.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens.byAccess {
		t.expiresAt = s.now()
	}
}

// bearer finds a live access token of the provider and counts the call
// against it; an expired, revoked or unknown one is nil.
func (s *Sim) bearer(r *http.Request, provider string) *token {
	v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens.byAccess[strings.TrimSpace(v)]
	if t == nil || t.provider != provider || t.revoked || !s.now().Before(t.expiresAt) {
		return nil
	}
	t.calls++
	if s.cfg.TokenCalls > 0 && t.calls >= s.cfg.TokenCalls {
		t.expiresAt = s.now() // this call is its last
	}
	return t
}

type tokenKey struct{}

func tokenOf(r *http.Request) *token { t, _ := r.Context().Value(tokenKey{}).(*token); return t }

func withToken(r *http.Request, t *token) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), tokenKey{}, t))
}

// pickAthlete is the user who "logs in" on an authorize page: the one
// named by the simulator's own athlete parameter (a Strava athlete id),
// else the first.
func (s *Sim) pickAthlete(q url.Values) *Athlete {
	if id, err := strconv.ParseInt(q.Get("athlete"), 10, 64); err == nil {
		for _, a := range s.athletes {
			if a.ID == id {
				return a
			}
		}
	}
	if len(s.athletes) == 0 {
		return nil
	}
	return s.athletes[0]
}

// redirect sends the browser back to the application with params added
// to its redirect_uri.
func redirect(w http.ResponseWriter, r *http.Request, to string, params url.Values) {
	u, err := url.Parse(to)
	if err != nil || !u.IsAbs() {
		http.Error(w, "invalid redirect_uri", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// s256 is PKCE's S256 transform of a code verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// takeCode consumes an authorization code: codes are single-use.
// Callers hold s.mu.
func (s *Sim) takeCode(code, provider, clientID string) *authCode {
	c := s.tokens.codes[code]
	if c == nil || c.provider != provider || c.clientID != clientID || s.now().After(c.expires) {
		return nil
	}
	delete(s.tokens.codes, code)
	return c
}

// rotate replaces t's tokens after a refresh: the old refresh token is
// spent, the old access token lives out its time. Callers hold s.mu.
func (s *Sim) rotate(t *token) *token {
	delete(s.tokens.byRefresh, t.refresh)
	return s.issue(t.grant)
}
