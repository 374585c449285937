package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/cairn-fit/cairn"
)

// authorize runs first on every route: public operations pass; the rest
// need a valid bearer token carrying every scope of one of the
// alternatives the spec names. The actor goes into the request's context.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, known := s.ops[r.Pattern]
		if !known {
			// Fail closed: a route missing from the spec has no rule.
			s.writeError(w, r, cairn.Errorf(cairn.EINTERNAL, "route %s has no access rule", r.Pattern))
			return
		}
		r = r.WithContext(cairn.WithClient(r.Context(), s.TrustedProxies.Client(r)))
		if op.Public {
			next.ServeHTTP(w, r)
			return
		}
		a, err := s.authenticate(r.Context(), r)
		if err == nil && !a.HasAny(op.Scopes) {
			err = cairn.Errorf(cairn.EFORBIDDEN, "the token lacks the scope this operation needs: %s", cairn.DescribeScopes(op.Scopes))
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ctx := cairn.WithActor(r.Context(), a)
		if err := s.auditStaffRead(ctx, r, a); err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// auditStaffRead records an admin or support user reading another user's
// data through a route named by the user's id (one insert; routes named by
// another resource's id are not traced to their owner here).
func (s *Server) auditStaffRead(ctx context.Context, r *http.Request, a cairn.Actor) error {
	target := r.PathValue("userId")
	if !a.Admin || r.Method != http.MethodGet || target == "" || target == a.UserID || s.Audit == nil ||
		strings.HasPrefix(r.Pattern, "GET /v1/admin/") {
		return nil
	}
	details, _ := json.Marshal(map[string]string{"route": r.Pattern})
	return s.Audit.RecordAudit(ctx, &cairn.AuditEntry{UserID: target, Action: cairn.AuditAdminViewUserData, Details: details})
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
	if secret = strings.TrimSpace(secret); !strings.HasPrefix(secret, cairn.TokenPrefix) {
		// Not a personal access token: an OAuth2 access token, if the
		// authorization server runs.
		if s.OAuth == nil {
			return cairn.Actor{}, cairn.Errorf(cairn.EUNAUTHENTICATED, "invalid or expired token")
		}
		return s.OAuth.Introspect(ctx, secret)
	}
	hash := cairn.HashToken(secret)
	tok, u, cached := s.auth.get(hash, s.Now())
	if !cached {
		var err error
		tok, u, err = s.Tokens.FindTokenUser(ctx, hash)
		if cairn.ErrorCode(err) == cairn.ENOTFOUND {
			// No such token, or its user was deleted.
			return cairn.Actor{}, cairn.Errorf(cairn.EUNAUTHENTICATED, "invalid or expired token")
		} else if err != nil {
			return cairn.Actor{}, err
		}
		s.auth.put(hash, tok, u, s.Now())
		s.touch(ctx, tok)
	}
	if why := tok.Usable(s.Now()); why != "" {
		return cairn.Actor{}, cairn.Errorf(cairn.EUNAUTHENTICATED, "%s", why)
	}
	if u.Status == cairn.UserFrozen {
		return cairn.Actor{}, cairn.Errorf(cairn.EFORBIDDEN, "the account is frozen")
	}
	return cairn.UserActor(u, tok.Scopes, "pat:"+tok.ID), nil
}

// touch records the token's use, at most once per cairn.TokenTouchInterval
// (and only on a cache miss); a failure is not the request's.
func (s *Server) touch(ctx context.Context, tok *cairn.PersonalAccessToken) {
	if now := s.Now(); tok.Usable(now) == "" && tok.NeedsTouch(now) {
		if err := s.Tokens.TouchToken(ctx, tok.ID, now); err != nil {
			s.log.WarnContext(ctx, "record token use", "token_id", tok.ID, "err", err)
		}
	}
}
