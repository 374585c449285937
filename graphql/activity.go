package graphql

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/cairn-fit/cairn"
	graphql "github.com/graph-gophers/graphql-go"
)

// activityList is a list of activities (a page, nodes(ids:), a mutation's
// result) and what their fields load together: one query per kind of part
// for the whole list.
type activityList struct {
	s *Server
	// ctx is the request's, for the fields resolved without one (see
	// must).
	ctx       context.Context
	items     []cairn.Activity
	devices   *siblings[string, *deviceResolver]
	summaries *siblings[string, *cairn.Summary]
	routes    *siblings[string, *cairn.Route]
	users     *siblings[string, *userResolver]
	parents   *siblings[string, *activityResolver]

	mu      sync.Mutex
	metrics map[string]*siblings[string, *cairn.Page[cairn.Metric]] // by the field's arguments
}

func (s *Server) activityList(ctx context.Context, items []cairn.Activity) *activityList {
	l := &activityList{s: s, ctx: ctx, items: items, metrics: map[string]*siblings[string, *cairn.Page[cairn.Metric]]{}}
	l.devices = newSiblings(l.keys(func(a *cairn.Activity) string { return deref(a.DeviceID) }),
		func(ctx context.Context, ids []string) (map[string]*deviceResolver, error) {
			rows, err := s.d.Batch.FindDevices(ctx, ids)
			list := s.deviceList(l.ctx, rows)
			out := make(map[string]*deviceResolver, len(rows))
			for i := range rows {
				out[rows[i].ID] = list.resolver(i)
			}
			return out, err
		})
	l.summaries = newSiblings(l.keys(func(a *cairn.Activity) string { return a.ID }),
		func(ctx context.Context, ids []string) (map[string]*cairn.Summary, error) {
			rows, err := s.d.Batch.FindSummaries(ctx, ids)
			return byKey(rows, func(s *cairn.Summary) string { return s.ActivityID }), err
		})
	l.routes = newSiblings(l.keys(func(a *cairn.Activity) string { return a.ID }),
		func(ctx context.Context, ids []string) (map[string]*cairn.Route, error) {
			rows, err := s.d.Batch.FindRoutes(ctx, ids)
			return byKey(rows, func(r *cairn.Route) string { return r.ActivityID }), err
		})
	l.users = newSiblings(l.keys(func(a *cairn.Activity) string { return a.UserID }),
		func(ctx context.Context, ids []string) (map[string]*userResolver, error) {
			users, err := s.loadUsers(ctx, ids)
			out := make(map[string]*userResolver, len(users))
			for id, u := range users {
				out[id] = s.userOf(u)
			}
			return out, err
		})
	l.parents = newSiblings(l.keys(func(a *cairn.Activity) string { return deref(a.ParentID) }), s.loadActivities)
	return l
}

func (l *activityList) keys(key func(*cairn.Activity) string) func() []string {
	return func() []string {
		out := make([]string, len(l.items))
		for i := range l.items {
			out[i] = key(&l.items[i])
		}
		return out
	}
}

func (l *activityList) resolver(i int) *activityResolver {
	return &activityResolver{list: l, a: &l.items[i]}
}

// loadActivities reads live activities by id in one query, as one list.
func (s *Server) loadActivities(ctx context.Context, ids []string) (map[string]*activityResolver, error) {
	rows, err := s.d.Batch.FindActivities(ctx, ids)
	if err != nil {
		return nil, err
	}
	live := rows[:0]
	for _, a := range rows {
		if a.DeletedAt == nil {
			live = append(live, a)
		}
	}
	list := s.activityList(ctx, live)
	out := make(map[string]*activityResolver, len(live))
	for i := range live {
		out[live[i].ID] = list.resolver(i)
	}
	return out, nil
}

// metricPages is the loader of the first metric pages under one set of
// arguments.
func (l *activityList) metricPages(f cairn.MetricFilter) *siblings[string, *cairn.Page[cairn.Metric]] {
	key := fmt.Sprint(f.Types, f.Page.Limit)
	l.mu.Lock()
	defer l.mu.Unlock()
	if m, ok := l.metrics[key]; ok {
		return m
	}
	m := newSiblings(l.keys(func(a *cairn.Activity) string { return a.ID }),
		func(ctx context.Context, ids []string) (map[string]*cairn.Page[cairn.Metric], error) {
			return l.s.d.Batch.FirstMetricPages(ctx, ids, f)
		})
	l.metrics[key] = m
	return m
}

type activityResolver struct {
	list *activityList
	a    *cairn.Activity
}

func (r *activityResolver) ID() graphql.ID         { return globalID(kindActivity, r.a.ID) }
func (r *activityResolver) DatabaseID() graphql.ID { return graphql.ID(r.a.ID) }
func (r *activityResolver) Type() string           { return enumOut(r.a.Type) }
func (r *activityResolver) Sport() *string         { return ptrIf(r.a.Sport) }
func (r *activityResolver) Name() string           { return r.a.Name }
func (r *activityResolver) StartTime() dateTime    { return dt(r.a.StartTime) }
func (r *activityResolver) EndTime() *dateTime     { return dtp(r.a.EndTime) }
func (r *activityResolver) Timezone() string       { return r.a.Timezone }
func (r *activityResolver) Source() string         { return enumOut(r.a.Source) }
func (r *activityResolver) Provider() *string      { return ptrIf(r.a.Provider) }
func (r *activityResolver) ExternalID() *string    { return ptrIf(r.a.ExternalID) }
func (r *activityResolver) FileHash() *string      { return ptrIf(r.a.FileHash) }
func (r *activityResolver) Partial() bool          { return r.a.Partial }
func (r *activityResolver) Metadata() *jsonValue   { return jsonOf(r.a.Metadata) }
func (r *activityResolver) CreatedAt() dateTime    { return dt(r.a.CreatedAt) }
func (r *activityResolver) UpdatedAt() dateTime    { return dt(r.a.UpdatedAt) }

func (r *activityResolver) Rpe() *int32 {
	if r.a.RPE == nil {
		return nil
	}
	v := int32(*r.a.RPE)
	return &v
}

// Parent, Device, User and Summary are resolved without a context and
// report errors through must: see there.

func (r *activityResolver) Parent() *activityResolver {
	if r.a.ParentID == nil {
		return nil
	}
	ctx := r.list.ctx
	must(0, r.list.s.need(ctx, opGetActivity))
	return must(r.list.parents.load(ctx, *r.a.ParentID))
}

func (r *activityResolver) Device() *deviceResolver {
	if r.a.DeviceID == nil {
		return nil
	}
	ctx := r.list.ctx
	must(0, r.list.s.need(ctx, opGetDevice))
	return must(r.list.devices.load(ctx, *r.a.DeviceID))
}

func (r *activityResolver) User() *userResolver {
	u, err := r.list.users.load(r.list.ctx, r.a.UserID)
	if err == nil && u == nil {
		// The activity is visible, so its owner is: an admin reads
		// another user's, or the user was deleted since.
		err = cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return must(u, err)
}

func (r *activityResolver) Summary() *summaryResolver {
	ctx := r.list.ctx
	must(0, r.list.s.need(ctx, opGetSummary))
	sum := must(r.list.summaries.load(ctx, r.a.ID))
	if sum == nil {
		return nil
	}
	return &summaryResolver{sum: sum, activity: r}
}

type metricsArgs struct {
	pageArgs
	Types *[]string
}

func (r *activityResolver) Metrics(ctx context.Context, args metricsArgs) (*connection[*metricResolver], error) {
	s := r.list.s
	if err := s.need(ctx, opListMetrics); err != nil {
		return nil, err
	}
	p, err := args.request()
	if err != nil {
		return nil, err
	}
	f := cairn.MetricFilter{ActivityID: r.a.ID, Page: p}
	if args.Types != nil {
		for _, t := range *args.Types {
			f.Types = append(f.Types, enumIn[cairn.MetricType](t))
		}
	}
	var page *cairn.Page[cairn.Metric]
	if args.paged() {
		// Paging through one activity's series: one list at a time.
		page, err = s.d.Series.ListMetrics(ctx, f)
	} else {
		// First pages: one query for every activity of the list.
		page, err = r.list.metricPages(f).load(ctx, r.a.ID)
	}
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = &cairn.Page[cairn.Metric]{}
	}
	return newConnection(ctx, page, func(i int) *metricResolver {
		return &metricResolver{s: s, m: &page.Data[i], activity: r}
	})
}

type routeArgs struct {
	Format            string // POLYLINE by default
	SimplifyTolerance float64
}

func (r *activityResolver) Route(ctx context.Context, args routeArgs) (*routeResolver, error) {
	s := r.list.s
	if err := s.need(ctx, opGetRoute); err != nil {
		return nil, err
	}
	format, tol := strings.ToLower(args.Format), args.SimplifyTolerance
	if tol < 0 || math.IsInf(tol, 0) || math.IsNaN(tol) {
		return nil, cairn.Invalid(map[string]string{"simplifyTolerance": "must be a number of metres, 0 or more"})
	}
	row, err := r.list.routes.load(ctx, r.a.ID)
	if err != nil || row == nil {
		return nil, err
	}
	return &routeResolver{s: s, r: row, activity: r, format: format, tolerance: tol}, nil
}

func ptrIf[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}
