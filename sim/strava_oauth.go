package sim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// stravaScopes are the scopes Strava's authorize page accepts.
var stravaScopes = []string{"read", "read_all", "profile:read_all", "profile:write",
	"activity:read", "activity:read_all", "activity:write"}

func (s *Sim) stravaApp(clientID string) *App {
	for i := range s.cfg.StravaApps {
		if s.cfg.StravaApps[i].ClientID == clientID {
			return &s.cfg.StravaApps[i]
		}
	}
	return nil
}

// stravaAuthorize approves at once: Strava would show a consent page,
// the simulator redirects straight back with a code.
func (s *Sim) stravaAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	scope := q.Get("scope")
	if scope == "" {
		scope = "read"
	}
	switch {
	case s.stravaApp(q.Get("client_id")) == nil:
		stravaError(w, http.StatusBadRequest, "Bad Request", "Application", "client_id", "invalid")
		return
	case q.Get("response_type") != "code":
		stravaError(w, http.StatusBadRequest, "Bad Request", "Application", "response_type", "invalid")
		return
	case q.Get("redirect_uri") == "":
		stravaError(w, http.StatusBadRequest, "Bad Request", "Application", "redirect_uri", "invalid")
		return
	case !validScopes(scope):
		stravaError(w, http.StatusBadRequest, "Bad Request", "Application", "scope", "invalid")
		return
	}
	ath := s.pickAthlete(q)
	s.mu.Lock()
	code := s.secret()
	s.tokens.codes[code] = &authCode{grant: grant{provider: ProviderStrava, clientID: q.Get("client_id"), athlete: ath, scope: scope},
		redirectURI: q.Get("redirect_uri"), expires: s.now().Add(codeTTL)}
	s.mu.Unlock()
	redirect(w, r, q.Get("redirect_uri"), url.Values{"state": {q.Get("state")}, "code": {code}, "scope": {scope}})
}

func validScopes(scope string) bool {
	for sc := range strings.SplitSeq(scope, ",") {
		if !slices.Contains(stravaScopes, strings.TrimSpace(sc)) {
			return false
		}
	}
	return true
}

func hasScope(t *token, scopes ...string) bool {
	for sc := range strings.SplitSeq(t.scope, ",") {
		if slices.Contains(scopes, strings.TrimSpace(sc)) {
			return true
		}
	}
	return false
}

// stravaToken exchanges a code, or refreshes, as POST /oauth/token does.
func (s *Sim) stravaToken(w http.ResponseWriter, r *http.Request) {
	app := s.stravaApp(r.FormValue("client_id"))
	if app == nil || app.Secret != r.FormValue("client_secret") {
		stravaError(w, http.StatusBadRequest, "Bad Request", "Application", "client_id", "invalid")
		return
	}
	switch r.FormValue("grant_type") {
	case "authorization_code":
		s.stravaExchange(w, r, app)
	case "refresh_token":
		s.stravaRefresh(w, r, app)
	default:
		stravaError(w, http.StatusBadRequest, "Bad Request", "Application", "grant_type", "invalid")
	}
}

func (s *Sim) stravaExchange(w http.ResponseWriter, r *http.Request, app *App) {
	s.mu.Lock()
	c := s.takeCode(r.FormValue("code"), ProviderStrava, app.ClientID)
	var t *token
	if c != nil {
		t = s.issue(c.grant)
	}
	s.mu.Unlock()
	if t == nil {
		stravaError(w, http.StatusBadRequest, "Bad Request", "AuthorizationCode", "code", "invalid")
		return
	}
	body := s.stravaTokenJSON(t)
	body["athlete"] = athleteJSON(t.athlete, false)
	writeJSON(w, http.StatusOK, body)
}

// stravaRefresh follows Strava: the current access token comes back
// unchanged while it has more than an hour to live; otherwise a new one
// is issued (the previous one stays valid until it expires).
func (s *Sim) stravaRefresh(w http.ResponseWriter, r *http.Request, app *App) {
	s.mu.Lock()
	t := s.tokens.byRefresh[r.FormValue("refresh_token")]
	if t != nil && (t.clientID != app.ClientID || t.revoked) {
		t = nil
	}
	if t != nil && t.expiresAt.Sub(s.now()) <= time.Hour {
		t = s.rotate(t)
	}
	s.mu.Unlock()
	if t == nil {
		stravaError(w, http.StatusBadRequest, "Bad Request", "RefreshToken", "refresh_token", "invalid")
		return
	}
	writeJSON(w, http.StatusOK, s.stravaTokenJSON(t))
}

func (s *Sim) stravaTokenJSON(t *token) map[string]any {
	return map[string]any{
		"token_type":    "Bearer",
		"access_token":  t.access,
		"refresh_token": t.refresh,
		"expires_at":    t.expiresAt.Unix(),
		"expires_in":    int64(t.expiresAt.Sub(s.now()).Seconds()),
	}
}

// stravaDeauthorize revokes the application's access to the athlete and
// tells the application's push subscription, as Strava does.
func (s *Sim) stravaDeauthorize(w http.ResponseWriter, r *http.Request) {
	access := r.FormValue("access_token")
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		access = v
	}
	s.mu.Lock()
	t := s.tokens.byAccess[access]
	if t != nil && t.provider == ProviderStrava {
		for _, other := range s.tokens.byAccess {
			if other.grant == t.grant {
				other.revoked = true
			}
		}
		s.enqueueStravaEvent(t.clientID, StravaEvent{ObjectType: "athlete", ObjectID: t.athlete.ID,
			AspectType: "update", OwnerID: t.athlete.ID, Updates: map[string]string{"authorized": "false"}})
	}
	s.mu.Unlock()
	if t == nil || t.provider != ProviderStrava {
		stravaError(w, http.StatusUnauthorized, "Authorization Error", "Athlete", "access_token", "invalid")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"access_token": access})
}
