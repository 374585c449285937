package oauth

import (
	"context"

	"github.com/cairn-fit/cairn"
)

// recordConsent records that the user allowed the client these scopes
// (on the consent page or the device page), which lets the client's
// webhook endpoints receive the user's events; false, logged, when it
// could not be stored, so that no grant is issued without its consent.
func (s *Server) recordConsent(ctx context.Context, userID, clientID string, scopes []cairn.Scope) bool {
	if err := s.cfg.Store.RecordOAuthConsent(sys(ctx), userID, clientID, scopes, s.now()); err != nil {
		s.log.ErrorContext(ctx, "record consent", "client", clientID, "err", err)
		return false
	}
	return true
}

func asScopes(names []string) []cairn.Scope {
	out := make([]cairn.Scope, len(names))
	for i, n := range names {
		out[i] = cairn.Scope(n)
	}
	return out
}
