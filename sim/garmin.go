package sim

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// garminTypes are the summary types whose callbacks a partner can
// configure; deregistrations is the user-disconnect notice.
var garminTypes = map[string]bool{"dailies": true, "epochs": true, "sleeps": true, "hrv": true,
	"bodyComps": true, "activities": true, "activityDetails": true, "activityFiles": true, "deregistrations": true}

// maxPull is the longest upload window a pull may ask for.
const maxPull = 86400

func (s *Sim) garminRoutes() []route {
	return []route{
		{"GET /oauth2Confirm", kindRedirect, s.garminAuthorize},
		{"POST /di-oauth2-service/oauth/token", kindOpen, s.garminToken},
		{"GET /wellness-api/rest/user/id", kindGarmin, s.garminUserID},
		{"GET /wellness-api/rest/user/permissions", kindGarmin, s.garminPermissions},
		{"DELETE /wellness-api/rest/user/registration", kindGarmin, s.garminDeregister},
		{"GET /wellness-api/rest/backfill/{type}", kindGarmin, s.garminBackfill},
		{"GET /wellness-api/rest/activityFile", kindGarmin, s.garminActivityFile},
		{"GET /wellness-api/rest/{type}", kindGarmin, s.garminPull},
		{"POST /training-api/workout", kindGarmin, s.createWorkout},
		{"GET /training-api/workout/{id}", kindGarmin, s.getWorkout},
		{"DELETE /training-api/workout/{id}", kindGarmin, s.deleteWorkout},
	}
}

// garminError writes the simulator's error body for Garmin's APIs: their
// error bodies are not publicly documented, the statuses are.
func garminError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"errorMessage": msg})
}

// oauthError writes an OAuth 2.0 error (RFC 6749 §5.2).
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (s *Sim) garminAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t := s.bearer(r, ProviderGarmin)
		if t == nil {
			garminError(w, http.StatusUnauthorized, "invalid or expired access token")
			return
		}
		h(w, withToken(r, t))
	}
}

// garminAuthorize is Garmin's OAuth 2.0 PKCE consent page, approving at
// once: PKCE with S256 is required.
func (s *Sim) garminAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("client_id") != s.cfg.GarminApp.ClientID:
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "unknown client_id")
		return
	case q.Get("response_type") != "code" || q.Get("redirect_uri") == "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "response_type=code and redirect_uri are required")
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		oauthError(w, http.StatusBadRequest, "invalid_request", "PKCE code_challenge with method S256 is required")
		return
	}
	s.mu.Lock()
	code := s.secret()
	s.tokens.codes[code] = &authCode{grant: grant{provider: ProviderGarmin, clientID: q.Get("client_id"),
		athlete: s.pickAthlete(q), scope: "ACTIVITY_EXPORT HEALTH_EXPORT WORKOUT_IMPORT"},
		redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), expires: s.now().Add(codeTTL)}
	s.mu.Unlock()
	redirect(w, r, q.Get("redirect_uri"), url.Values{"code": {code}, "state": {q.Get("state")}})
}

func (s *Sim) garminToken(w http.ResponseWriter, r *http.Request) {
	app := s.cfg.GarminApp
	if r.FormValue("client_id") != app.ClientID || r.FormValue("client_secret") != app.Secret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "bad client credentials")
		return
	}
	var t *token
	s.mu.Lock()
	switch r.FormValue("grant_type") {
	case "authorization_code":
		c := s.takeCode(r.FormValue("code"), ProviderGarmin, app.ClientID)
		if c != nil && c.redirectURI == r.FormValue("redirect_uri") && c.challenge == s256(r.FormValue("code_verifier")) {
			t = s.issue(c.grant)
		}
	case "refresh_token":
		old := s.tokens.byRefresh[r.FormValue("refresh_token")]
		if old != nil && old.provider == ProviderGarmin && !old.revoked && s.now().Before(old.refreshExpires) {
			t = s.rotate(old)
		}
	}
	s.mu.Unlock()
	if t == nil {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the code, verifier or refresh token is not valid")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": t.access, "token_type": "bearer", "expires_in": int64(t.expiresAt.Sub(s.now()).Seconds()),
		"refresh_token": t.refresh, "refresh_token_expires_in": int64(t.refreshExpires.Sub(s.now()).Seconds()),
		"scope": t.scope,
	})
}

func (s *Sim) garminUserID(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"userId": tokenOf(r).athlete.GarminUserID})
}

func (s *Sim) garminPermissions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []string{"ACTIVITY_EXPORT", "HEALTH_EXPORT", "WORKOUT_IMPORT", "HISTORICAL_DATA_EXPORT"})
}

// garminDeregister ends the user's connection: every token of the grant
// is revoked and a deregistration notice goes to its callback.
func (s *Sim) garminDeregister(w http.ResponseWriter, r *http.Request) {
	t := tokenOf(r)
	s.mu.Lock()
	for _, other := range s.tokens.byAccess {
		if other.grant == t.grant {
			other.revoked = true
		}
	}
	s.mu.Unlock()
	s.enqueueGarmin("deregistrations", []map[string]any{{"userId": t.athlete.GarminUserID}})
	w.WriteHeader(http.StatusNoContent)
}

// window reads a pair of epoch-second parameters, start before end.
func epochWindow(q url.Values, from, to string) (int64, int64, bool) {
	a, err1 := strconv.ParseInt(q.Get(from), 10, 64)
	b, err2 := strconv.ParseInt(q.Get(to), 10, 64)
	return a, b, err1 == nil && err2 == nil && a < b
}

// garminPull answers a ping's callback: the summaries of the type whose
// upload time is in the window (at most 24 h), and those a backfill
// requested within it.
func (s *Sim) garminPull(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	if !garminTypes[typ] || typ == "deregistrations" {
		garminError(w, http.StatusNotFound, "unknown summary type "+typ)
		return
	}
	from, to, ok := epochWindow(r.URL.Query(), "uploadStartTimeInSeconds", "uploadEndTimeInSeconds")
	if !ok || to-from > maxPull {
		garminError(w, http.StatusBadRequest, "uploadStartTimeInSeconds and uploadEndTimeInSeconds must span at most 86400 seconds")
		return
	}
	ath := tokenOf(r).athlete
	items := s.uploadedBetween(ath, typ, from, to)
	items = append(items, s.backfilledBetween(ath, typ, from, to)...)
	writeJSON(w, http.StatusOK, bodies(items))
}

func bodies(items []gsum) []map[string]any {
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = it.body
	}
	return out
}

// uploadedBetween is what reached Garmin in [from, to): uploads lag
// summaries by at most two days.
func (s *Sim) uploadedBetween(ath *Athlete, typ string, from, to int64) []gsum {
	var out []gsum
	for _, it := range s.summaries(ath, typ, time.Unix(from-2*86400, 0), time.Unix(to, 0)) {
		if it.upload >= from && it.upload < to {
			out = append(out, it)
		}
	}
	return out
}
