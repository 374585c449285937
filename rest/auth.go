package rest

import (
	"context"
	"net/http"
	"strings"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

// authorize runs before every operation: public operations pass; the rest
// need a valid bearer token carrying every scope the spec names.
func (s *Server) authorize(f api.StrictHandlerFunc, operationID string) api.StrictHandlerFunc {
	op, known := s.ops[operationID]
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, req any) (any, error) {
		if !known {
			// Fail closed: an operation missing from the spec has no rule.
			return nil, cairn.Errorf(cairn.EINTERNAL, "operation %s has no access rule", operationID)
		}
		if op.Public {
			return f(ctx, w, r, req)
		}
		a, err := s.authenticate(ctx, r)
		if err != nil {
			return nil, err
		}
		if !a.HasAny(op.Scopes) {
			return nil, cairn.Errorf(cairn.EFORBIDDEN, "the token lacks the scope this operation needs: %s", describe(op.Scopes))
		}
		return f(cairn.WithActor(ctx, a), w, r, req)
	}
}

// describe lists scope alternatives for an error message.
func describe(alts [][]cairn.Scope) string {
	var out []string
	for _, all := range alts {
		var names []string
		for _, s := range all {
			names = append(names, string(s))
		}
		out = append(out, strings.Join(names, " and "))
	}
	return strings.Join(out, " or ")
}

// authenticate turns the bearer token into an actor.
func (s *Server) authenticate(ctx context.Context, r *http.Request) (cairn.Actor, error) {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if h == "" {
		return cairn.Actor{}, cairn.Errorf(cairn.EUNAUTHENTICATED, "missing bearer token")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return cairn.Actor{}, cairn.Errorf(cairn.EUNAUTHENTICATED, "the Authorization header must be \"Bearer <token>\"")
	}
	invalid := cairn.Errorf(cairn.EUNAUTHENTICATED, "invalid or expired token")
	tok, err := s.Tokens.FindTokenByHash(ctx, cairn.HashToken(strings.TrimSpace(secret)))
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return cairn.Actor{}, invalid
	} else if err != nil {
		return cairn.Actor{}, err
	}
	if why := tok.Usable(s.Now()); why != "" {
		return cairn.Actor{}, cairn.Errorf(cairn.EUNAUTHENTICATED, "%s", why)
	}
	u, err := s.Users.FindUser(cairn.WithActor(ctx, cairn.Actor{UserID: tok.UserID}), tok.UserID)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return cairn.Actor{}, invalid // the user was deleted
	} else if err != nil {
		return cairn.Actor{}, err
	}
	if u.Status == cairn.UserFrozen {
		return cairn.Actor{}, cairn.Errorf(cairn.EFORBIDDEN, "the account is frozen")
	}
	a := cairn.Actor{UserID: u.ID, Scopes: tok.Scopes}
	a.Admin = u.HasRole(cairn.RoleAdmin) && a.Has(cairn.ScopeAdmin)
	return a, nil
}
