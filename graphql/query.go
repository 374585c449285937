package graphql

import (
	"context"

	"github.com/cairn-fit/cairn"
	graphql "github.com/graph-gophers/graphql-go"
)

// root resolves Query and Mutation.
type root struct{ s *Server }

func (r *root) Viewer(ctx context.Context) (*userResolver, error) {
	a, _ := cairn.ActorFrom(ctx)
	if a.UserID == "" {
		return nil, cairn.Errorf(cairn.EUNAUTHENTICATED, "the token acts for no user")
	}
	return r.s.userByID(a.UserID), nil
}

func (r *root) Node(ctx context.Context, args struct{ ID graphql.ID }) (*nodeResolver, error) {
	nodes, err := r.s.nodes(ctx, []graphql.ID{args.ID}, "id")
	if err != nil {
		return nil, err
	}
	if nodes[0] == nil {
		return nil, cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return nodes[0], nil
}

func (r *root) Nodes(ctx context.Context, args struct{ IDs []graphql.ID }) ([]*nodeResolver, error) {
	if len(args.IDs) > cairn.MaxPageSize {
		return nil, cairn.Invalid(map[string]string{"ids": "at most 200 at once"})
	}
	return r.s.nodes(ctx, args.IDs, "ids")
}

// nodes reads objects by global id, one query per kind, in order; nil
// for each one not found (or not the actor's, or deleted).
func (s *Server) nodes(ctx context.Context, ids []graphql.ID, field string) ([]*nodeResolver, error) {
	if err := charge(ctx, len(ids)); err != nil {
		return nil, err
	}
	byKind := map[string][]string{}
	for _, raw := range ids {
		kind, id, ok := parseGlobal(raw)
		if !ok {
			return nil, cairn.Invalid(map[string]string{field: "holds something that is not a global id"})
		}
		byKind[kind] = append(byKind[kind], id)
	}
	found := map[string]map[string]any{}
	for kind, ids := range byKind {
		m, err := s.loadNodes(ctx, kind, ids)
		if err != nil {
			return nil, err
		}
		found[kind] = m
	}
	out := make([]*nodeResolver, len(ids))
	for i, raw := range ids {
		kind, id, _ := parseGlobal(raw)
		if v, ok := found[kind][id]; ok {
			out[i] = &nodeResolver{v}
		}
	}
	return out, nil
}

// loadNodes reads objects of one kind, after checking the scope of the
// REST operation that reads them.
func (s *Server) loadNodes(ctx context.Context, kind string, ids []string) (map[string]any, error) {
	op := map[string]string{kindDevice: opGetDevice, kindActivity: opGetActivity, kindMetric: opListMetrics,
		kindRoute: opGetRoute, kindHealth: opListHealth, kindDaily: opListDaily, kindWorkout: opGetWorkout}[kind]
	if op != "" {
		if err := s.need(ctx, op); err != nil {
			return nil, err
		}
	}
	out := map[string]any{}
	b := s.d.Batch
	switch kind {
	case kindUser:
		users, err := s.loadUsers(ctx, ids)
		for id, u := range users {
			out[id] = s.userOf(u)
		}
		return out, err
	case kindDevice:
		rows, err := b.FindDevices(ctx, ids)
		list := s.deviceList(ctx, rows)
		for i := range rows {
			out[rows[i].ID] = list.resolver(i)
		}
		return out, err
	case kindActivity:
		acts, err := s.loadActivities(ctx, ids)
		for id, a := range acts {
			out[id] = a
		}
		return out, err
	case kindMetric:
		rows, err := b.FindMetrics(ctx, ids)
		if err != nil {
			return nil, err
		}
		parents := make([]string, len(rows))
		for i := range rows {
			parents[i] = rows[i].ActivityID
		}
		acts, err := s.loadActivities(ctx, parents)
		for i := range rows {
			if a, ok := acts[rows[i].ActivityID]; ok {
				out[rows[i].ID] = &metricResolver{s: s, m: &rows[i], activity: a}
			}
		}
		return out, err
	case kindRoute:
		// A route is named by its activity's id.
		acts, err := s.loadActivities(ctx, ids)
		if err != nil {
			return nil, err
		}
		rows, err := b.FindRoutes(ctx, ids)
		for i := range rows {
			if a, ok := acts[rows[i].ActivityID]; ok {
				out[rows[i].ActivityID] = &routeResolver{s: s, r: &rows[i], activity: a, format: "polyline"}
			}
		}
		return out, err
	case kindHealth:
		rows, err := b.FindHealthMetrics(ctx, ids)
		for i := range rows {
			out[rows[i].ID] = &healthResolver{&rows[i]}
		}
		return out, err
	case kindDaily:
		rows, err := b.FindDailyMetrics(ctx, ids)
		for i := range rows {
			out[rows[i].ID] = &dailyResolver{&rows[i]}
		}
		return out, err
	case kindWorkout:
		rows, err := b.FindWorkouts(ctx, ids)
		for i := range rows {
			out[rows[i].ID] = &workoutResolver{&rows[i]}
		}
		return out, err
	}
	return out, nil // an unknown kind: nothing found
}

// nodeResolver is the Node interface.
type nodeResolver struct{ v any }

func (n *nodeResolver) ID() graphql.ID {
	return n.v.(interface{ ID() graphql.ID }).ID()
}

func as[T any](v any) (T, bool) {
	t, ok := v.(T)
	return t, ok
}

func (n *nodeResolver) ToUser() (*userResolver, bool)         { return as[*userResolver](n.v) }
func (n *nodeResolver) ToDevice() (*deviceResolver, bool)     { return as[*deviceResolver](n.v) }
func (n *nodeResolver) ToActivity() (*activityResolver, bool) { return as[*activityResolver](n.v) }
func (n *nodeResolver) ToMetric() (*metricResolver, bool)     { return as[*metricResolver](n.v) }
func (n *nodeResolver) ToRoute() (*routeResolver, bool)       { return as[*routeResolver](n.v) }
func (n *nodeResolver) ToHealthMetric() (*healthResolver, bool) {
	return as[*healthResolver](n.v)
}
func (n *nodeResolver) ToDailyMetric() (*dailyResolver, bool) { return as[*dailyResolver](n.v) }
func (n *nodeResolver) ToWorkout() (*workoutResolver, bool)   { return as[*workoutResolver](n.v) }
