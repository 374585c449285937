package oauth

import (
	"context"
	"crypto/rand"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/google/uuid"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
)

// The device authorization grant (RFC 8628). A device asks
// /oauth/device/code for a device code and a user code; the user signs in
// at /oauth/device, enters the user code and approves; meanwhile the
// device polls the token endpoint with grant_type
// urn:ietf:params:oauth:grant-type:device_code, answered by deviceHandler,
// a fosite token endpoint handler.

// Device grant errors of RFC 8628 section 3.5, which fosite lacks.
func errAuthorizationPending() *fosite.RFC6749Error {
	return &fosite.RFC6749Error{ErrorField: "authorization_pending", CodeField: http.StatusBadRequest,
		DescriptionField: "The user has not yet approved this device."}
}

func errSlowDown() *fosite.RFC6749Error {
	return &fosite.RFC6749Error{ErrorField: "slow_down", CodeField: http.StatusBadRequest,
		DescriptionField: "The device polls too fast: wait five seconds longer between polls from now on."}
}

func errExpiredToken() *fosite.RFC6749Error {
	return &fosite.RFC6749Error{ErrorField: "expired_token", CodeField: http.StatusBadRequest,
		DescriptionField: "The device code has expired: start again."}
}

// userCodeAlphabet has no vowels (no words) and no look-alikes; RFC 8628
// section 6.1 suggests it. Eight letters: 20^8 ≈ 2.6·10^10 codes.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

func newUserCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for i, x := range b {
		if i == 4 {
			sb.WriteByte('-')
		}
		// 256 = 12·20 + 16: the bias towards the first 16 letters is
		// small and costs a guesser nothing worth having.
		sb.WriteByte(userCodeAlphabet[int(x)%len(userCodeAlphabet)])
	}
	return sb.String()
}

// normalizeUserCode keeps the letters of what a user typed, upper-cased,
// so that "bcdf-ghjk", "BCDFGHJK" and "bcdf ghjk" are one code.
func normalizeUserCode(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToUpper(s) {
		if r >= 'A' && r <= 'Z' {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// deviceCode answers the device authorization request (RFC 8628 3.1-3.2).
func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar := fosite.NewAccessRequest(newSession(""))
	if err := r.ParseForm(); err != nil {
		s.provider.WriteAccessError(ctx, w, ar, fosite.ErrInvalidRequest.WithHint("The body is not a form."))
		return
	}
	ip, account := s.clientIP(r), clientIDOf(r)
	if err := s.allow(actionToken, ip, account); err != nil {
		s.writeRateLimited(w, err)
		return
	}
	client, err := s.provider.AuthenticateClient(ctx, r, r.PostForm)
	if err != nil {
		s.fail(actionToken, ip, account)
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	s.succeed(actionToken, ip, account)
	if !client.GetGrantTypes().Has(cairn.GrantDeviceCode) {
		s.provider.WriteAccessError(ctx, w, ar, fosite.ErrUnauthorizedClient.WithHint("The client may not use the device authorization grant."))
		return
	}
	var scopes []cairn.Scope
	for _, sc := range strings.Fields(r.PostForm.Get("scope")) {
		if !slices.Contains(client.GetScopes(), sc) {
			s.provider.WriteAccessError(ctx, w, ar, fosite.ErrInvalidScope.WithHintf("The client may not request scope '%s'.", sc))
			return
		}
		if !slices.Contains(scopes, cairn.Scope(sc)) {
			scopes = append(scopes, cairn.Scope(sc))
		}
	}
	device := DeviceCodePrefix + randomString(32)
	g := &cairn.DeviceGrant{DeviceCodeHash: hashOf(device), RequestID: uuid.NewString(), ClientID: client.GetID(),
		Scopes: scopes, Interval: s.cfg.DeviceInterval, ExpiresAt: s.now().Add(s.cfg.DeviceCodeLifespan)}
	var user string
	for range 3 { // a user code may collide with a live one: draw again
		user = newUserCode()
		g.UserCodeHash = hashOf(normalizeUserCode(user))
		if err = s.cfg.Store.CreateDeviceGrant(sys(ctx), g); cairn.ErrorCode(err) != cairn.ECONFLICT {
			break
		}
	}
	if err != nil {
		s.log.ErrorContext(ctx, "device authorization", "err", err)
		s.provider.WriteAccessError(ctx, w, ar, fosite.ErrServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               device,
		"user_code":                 user,
		"verification_uri":          s.cfg.Issuer + "/oauth/device",
		"verification_uri_complete": s.cfg.Issuer + "/oauth/device?user_code=" + user,
		"expires_in":                int(s.cfg.DeviceCodeLifespan.Seconds()),
		"interval":                  int(s.cfg.DeviceInterval.Seconds()),
	})
}

// deviceHandler is the token endpoint's side of the device grant.
type deviceHandler struct {
	s        *Server
	strategy oauth2.CoreStrategy
}

var _ fosite.TokenEndpointHandler = (*deviceHandler)(nil)

func (h *deviceHandler) CanHandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) bool {
	return r.GetGrantTypes().ExactOne(cairn.GrantDeviceCode)
}

// CanSkipClientAuth is false: confidential clients authenticate, public
// ones name themselves with client_id.
func (h *deviceHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool { return false }

// HandleTokenEndpointRequest checks one poll: expiry first, then the
// polling rate (slow_down adds five seconds to the interval for good),
// then the user's decision.
func (h *deviceHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	client := r.GetClient()
	if !client.GetGrantTypes().Has(cairn.GrantDeviceCode) {
		return fosite.ErrUnauthorizedClient.WithHint("The client may not use the device authorization grant.")
	}
	hash := hashOf(r.GetRequestForm().Get("device_code"))
	g, err := h.s.cfg.Store.FindDeviceGrant(sys(ctx), hash)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return fosite.ErrInvalidGrant.WithHint("The device code is not valid.")
	} else if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if g.ClientID != client.GetID() {
		return fosite.ErrInvalidGrant.WithHint("The device code was issued to another client.")
	}
	now := h.s.now()
	if !now.Before(g.ExpiresAt) {
		return errExpiredToken()
	}
	interval := g.Interval
	tooSoon := g.LastPolledAt != nil && now.Sub(*g.LastPolledAt) < interval
	if tooSoon {
		interval += 5 * time.Second
	}
	if err := h.s.cfg.Store.RecordDevicePoll(sys(ctx), hash, now, interval); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if tooSoon {
		return errSlowDown()
	}
	switch g.Status {
	case cairn.DevicePending:
		return errAuthorizationPending()
	case cairn.DeviceDenied:
		return fosite.ErrAccessDenied.WithHint("The user denied this device.")
	case cairn.DeviceApproved:
	default:
		return fosite.ErrInvalidGrant.WithHint("The device code was already used.")
	}
	r.SetID(g.RequestID)
	sess, ok := r.GetSession().(*fosite.DefaultSession)
	if !ok {
		return fosite.ErrServerError.WithDebug("unexpected session type")
	}
	sess.Subject = g.UserID
	var names []string
	for _, sc := range g.Scopes {
		names = append(names, string(sc))
		r.GrantScope(string(sc))
	}
	r.SetRequestedScopes(names)
	issued := time.Now().UTC()
	sess.SetExpiresAt(fosite.AccessToken, issued.Add(h.s.cfg.AccessTokenLifespan).Round(time.Second))
	sess.SetExpiresAt(fosite.RefreshToken, issued.Add(h.s.cfg.RefreshTokenLifespan).Round(time.Second))
	return nil
}

// PopulateTokenEndpointResponse spends the grant and stores the tokens in
// one transaction: of two polls that both saw the approval, one gets the
// tokens.
func (h *deviceHandler) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) (err error) {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	access, accessSig, err := h.strategy.GenerateAccessToken(ctx, r)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	var refresh, refreshSig string
	if r.GetGrantedScopes().Has(string(cairn.ScopeOfflineAccess)) && r.GetClient().GetGrantTypes().Has(cairn.GrantRefreshToken) {
		if refresh, refreshSig, err = h.strategy.GenerateRefreshToken(ctx, r); err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
	}
	st := h.s.store
	tx, err := st.BeginTX(ctx)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	defer func() {
		if err != nil {
			_ = st.Rollback(tx)
		}
	}()
	if err = h.s.cfg.Store.UseDeviceGrant(sys(tx), hashOf(r.GetRequestForm().Get("device_code"))); cairn.ErrorCode(err) == cairn.ECONFLICT {
		return fosite.ErrInvalidGrant.WithHint("The device code was already used.")
	} else if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	stored := r.Sanitize(nil)
	if err = st.CreateAccessTokenSession(tx, accessSig, stored); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if refreshSig != "" {
		if err = st.CreateRefreshTokenSession(tx, refreshSig, accessSig, stored); err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
	}
	if err = st.Commit(tx); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	resp.SetAccessToken(access)
	resp.SetTokenType("bearer")
	resp.SetExpiresIn(time.Until(r.GetSession().GetExpiresAt(fosite.AccessToken)))
	resp.SetScopes(r.GetGrantedScopes())
	if refresh != "" {
		resp.SetExtra("refresh_token", refresh)
	}
	return nil
}
