package graphql

import (
	"context"
	"sync/atomic"

	"github.com/cairn-fit/cairn"
)

// request is one GraphQL request's state, in its context.
type request struct {
	actor cairn.Actor
	// readOnly is set for GET: mutations refuse to run.
	readOnly bool
	// nodes counts the objects the request's lists returned, against
	// maxNodes.
	nodes    atomic.Int64
	maxNodes int
}

type requestKey struct{}

func withRequest(ctx context.Context, r *request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

func requestOf(ctx context.Context) *request {
	r, _ := ctx.Value(requestKey{}).(*request)
	if r == nil {
		// Outside an HTTP request (tests of the resolvers): no budget.
		a, _ := cairn.ActorFrom(ctx)
		r = &request{actor: a}
	}
	return r
}

// charge counts n more objects against the request's budget.
func charge(ctx context.Context, n int) error {
	r := requestOf(ctx)
	if r.maxNodes <= 0 {
		return nil
	}
	if total := r.nodes.Add(int64(n)); total > int64(r.maxNodes) {
		return cairn.Errorf(cairn.EUNPROCESSABLE,
			"the query asks for more than %d objects in all: ask for smaller pages or fewer nested lists", r.maxNodes)
	}
	return nil
}

// need checks that the actor's token carries the scopes of the REST
// operation op.
func (s *Server) need(ctx context.Context, op string) error {
	a, _ := cairn.ActorFrom(ctx)
	alts := s.d.Scopes[op]
	if len(alts) == 0 || !a.HasAny(alts) {
		return cairn.Errorf(cairn.EFORBIDDEN, "the token lacks the scope this field needs: %s", cairn.DescribeScopes(alts))
	}
	return nil
}
