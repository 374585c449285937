package rest

import (
	"context"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

// consents returns the consent store, or UNAVAILABLE on a server without
// one.
func (s *Server) consents() (cairn.ConsentStore, error) {
	if s.Consents == nil {
		return nil, cairn.Errorf(cairn.EUNAVAILABLE, "OAuth consents are not available on this server")
	}
	return s.Consents, nil
}

func (s *Server) ListOAuthConsents(ctx context.Context, _ api.ListOAuthConsentsRequestObject) (api.ListOAuthConsentsResponseObject, error) {
	c, err := s.consents()
	if err != nil {
		return nil, err
	}
	list, err := c.ListOAuthConsents(ctx)
	if err != nil {
		return nil, err
	}
	return api.ListOAuthConsents200JSONResponse{Data: mapSlice(list, func(c *cairn.OAuthConsent) api.OAuthConsent {
		scopes := make([]string, len(c.Scopes))
		for i, sc := range c.Scopes {
			scopes[i] = string(sc)
		}
		return api.OAuthConsent{ClientId: c.ClientID, ClientName: c.ClientName, Scopes: scopes, GrantedAt: c.GrantedAt,
			UpdatedAt: c.UpdatedAt}
	})}, nil
}

func (s *Server) RevokeOAuthConsent(ctx context.Context, req api.RevokeOAuthConsentRequestObject) (api.RevokeOAuthConsentResponseObject, error) {
	c, err := s.consents()
	if err != nil {
		return nil, err
	}
	if err := c.RevokeOAuthConsent(ctx, req.ClientId); err != nil {
		return nil, err
	}
	return api.RevokeOAuthConsent204Response{}, nil
}
