package rest

import (
	"net/http"

	"github.com/cairn-fit/cairn"
)

// What other transports of the same data (GraphQL) share with the REST
// API, so that a token and a scope mean the same everywhere.

// Authenticate turns the request's bearer token into an actor exactly as
// every REST route does: personal access tokens (with the same lookup
// cache) and, when the authorization server runs, OAuth2 access tokens.
func (s *Server) Authenticate(r *http.Request) (cairn.Actor, error) {
	return s.authenticate(r.Context(), r)
}

// OperationScopes returns the scopes each operation of the spec needs,
// by operationId as the generated code names it ("GetUser"): a token
// must carry every scope of at least one of the alternatives. Public
// operations have none.
func (s *Server) OperationScopes() map[string][][]cairn.Scope {
	out := make(map[string][][]cairn.Scope, len(s.ops))
	for _, op := range s.ops {
		out[op.ID] = op.Scopes
	}
	return out
}
