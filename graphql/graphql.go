// Package graphql serves cairn's GraphQL API (graph-gophers/graphql-go)
// at /graphql, over the same domain services and rules as the REST API:
// the same bearer tokens (rest.Server.Authenticate), the same scope per
// kind of data (the REST operation's, from the OpenAPI document), the same
// validation and idempotency, and the same error codes, in
// extensions.code. The schema is schema.graphql, served at
// /graphql/schema.graphql.
//
// Lists are Relay connections over the store's keyset pages. A list's
// objects share loaders (graph-gophers/dataloader) for what hangs off
// them: the first of them to ask for its device, summary, route or metrics
// queues every sibling's key, and the loader's batch, sized to those keys,
// runs at once as one query (cairn.BatchStore). A page of activities with
// their devices, summaries and metrics costs the same few queries whatever
// its length.
package graphql

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/account"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/tracks"
	graphql "github.com/graph-gophers/graphql-go"
	gqlerrors "github.com/graph-gophers/graphql-go/errors"
)

//go:embed schema.graphql
var schemaSDL string

// SDL returns the schema's source, as /graphql/schema.graphql serves it.
func SDL() string { return schemaSDL }

// Deps are the domain services the API serves and its settings.
type Deps struct {
	Users       cairn.UserStore
	Devices     cairn.DeviceStore
	Activities  cairn.ActivityStore
	Summaries   cairn.SummaryStore
	Series      cairn.MetricStore
	Health      cairn.HealthStore
	Workouts    cairn.WorkoutStore
	Idempotency cairn.IdempotencyStore
	Batch       cairn.BatchStore
	// Tracks reads and writes series and routes with their blobs.
	Tracks *tracks.Service
	// Admin runs the admin fields, the same operations as REST's
	// /v1/admin (rest.Server.Admin); nil answers them UNAVAILABLE.
	Admin *account.Admin
	// Authenticate turns a request's bearer token into an actor, as the
	// REST API does (rest.Server.Authenticate).
	Authenticate func(*http.Request) (cairn.Actor, error)
	// TrustedProxies may name the client in X-Forwarded-For (audit log,
	// rate limits), as for REST.
	TrustedProxies ratelimit.Proxies
	// Scopes are the REST operations' scope alternatives by operationId
	// (rest.Server.OperationScopes): a field needs the scope of the REST
	// operation that reads or writes the same data.
	Scopes map[string][][]cairn.Scope
	Log    *slog.Logger
	Limits Limits
	// Introspection allows __schema and __type queries.
	Introspection bool
	// GraphiQL serves a query page at GET /graphql to browsers.
	GraphiQL bool
}

// Limits bound what one request may ask for. Zero values take the
// defaults.
type Limits struct {
	// MaxDepth bounds field nesting (default 15; the standard
	// introspection query needs 13).
	MaxDepth int
	// MaxSelections bounds the fields of an operation once its fragments
	// are expanded (default 2,000).
	MaxSelections int
	// MaxQueryBytes bounds the query text (default 16 KiB).
	MaxQueryBytes int
	// MaxBodyBytes bounds a POST body, variables included (default 1 MiB).
	MaxBodyBytes int64
	// MaxNodes bounds the objects a request's lists may return, all
	// connections and nodes(ids:) together (default 10,000): a query's
	// complexity, counted as it runs.
	MaxNodes int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxDepth, 15)
	def(&l.MaxSelections, 2000)
	def(&l.MaxQueryBytes, 16<<10)
	def(&l.MaxNodes, 10_000)
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = 1 << 20
	}
	return l
}

// Server is the GraphQL API.
type Server struct {
	d      Deps
	log    *slog.Logger
	limits Limits
	schema *graphql.Schema
}

// operations names every REST operation whose scopes GraphQL fields use.
func operations() []string {
	return append([]string{opGetUser, opListDevices, opGetDevice, opListActivities, opGetActivity,
		opListMetrics, opGetMetric, opGetRoute, opGetSummary, opListHealth, opListDaily, opListWorkouts,
		opGetWorkout, opCreateDevice, opCreateActivity, opPutMetric, opPutRoute, opPutSummary}, adminOperations()...)
}

// The REST operations whose scopes GraphQL fields need.
const (
	opGetUser        = "GetUser"
	opListDevices    = "ListDevices"
	opGetDevice      = "GetDevice"
	opListActivities = "ListActivities"
	opGetActivity    = "GetActivity"
	opListMetrics    = "ListActivityMetrics"
	opGetMetric      = "GetActivityMetric"
	opGetRoute       = "GetActivityRoute"
	opGetSummary     = "GetActivitySummary"
	opListHealth     = "ListHealthMetrics"
	opListDaily      = "ListDailyMetrics"
	opListWorkouts   = "ListWorkouts"
	opGetWorkout     = "GetWorkout"
	opCreateDevice   = "CreateDevice"
	opCreateActivity = "CreateActivity"
	opPutMetric      = "PutActivityMetric"
	opPutRoute       = "PutActivityRoute"
	opPutSummary     = "PutActivitySummary"
)

// New returns the API. It fails when an operation whose scopes a field
// needs has no rule: access fails closed.
func New(d Deps) (*Server, error) {
	if d.Authenticate == nil {
		return nil, errors.New("graphql: Deps.Authenticate is required")
	}
	for _, op := range operations() {
		if alts, ok := d.Scopes[op]; !ok || len(alts) == 0 {
			return nil, fmt.Errorf("graphql: REST operation %s has no scope rule", op)
		}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{d: d, log: d.Log, limits: d.Limits.withDefaults()}
	opts := []graphql.SchemaOpt{
		graphql.UseStringDescriptions(),
		graphql.MaxDepth(s.limits.MaxDepth),
		graphql.MaxSelections(s.limits.MaxSelections),
		graphql.MaxQueryLength(s.limits.MaxQueryBytes),
		graphql.MaxParallelism(20),
		graphql.PanicHandler(panics{}),
		graphql.Logger(panics{log: s.log}),
		graphql.RestrictIntrospection(func(context.Context) bool { return d.Introspection }),
	}
	schema, err := graphql.ParseSchema(schemaSDL, &root{s: s}, opts...)
	if err != nil {
		return nil, fmt.Errorf("graphql: %w", err)
	}
	s.schema = schema
	return s, nil
}

// Paths returns the paths the handler serves, for a parent mux.
func Paths() []string { return []string{"/graphql", "/graphql/schema.graphql"} }

// Handler serves POST /graphql (and GET for queries), GET
// /graphql/schema.graphql and, when enabled, the query page at GET
// /graphql for browsers.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/graphql/schema.graphql" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			w.Header().Set("Content-Type", "application/graphql; charset=utf-8")
			_, _ = io.WriteString(w, schemaSDL)
		case r.URL.Path != "/graphql":
			s.fail(w, http.StatusNotFound, cairn.Errorf(cairn.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path))
		case r.Method == http.MethodGet && s.d.GraphiQL && r.URL.Query().Get("query") == "" &&
			strings.Contains(r.Header.Get("Accept"), "text/html"):
			servePage(w)
		case r.Method == http.MethodGet || r.Method == http.MethodPost:
			s.serve(w, r)
		default:
			w.Header().Set("Allow", "GET, POST")
			s.fail(w, http.StatusMethodNotAllowed, cairn.Errorf(cairn.EVALIDATION, "use GET or POST"))
		}
	})
}

// params is a GraphQL request.
type params struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	actor, err := s.d.Authenticate(r)
	if err != nil {
		status := http.StatusUnauthorized
		if cairn.ErrorCode(err) == cairn.EFORBIDDEN {
			status = http.StatusForbidden
		} else if c := cairn.ErrorCode(err); c != cairn.EUNAUTHENTICATED && c != cairn.ESTEPUPREQUIRED {
			status = http.StatusInternalServerError
		}
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cairn"`)
		}
		s.fail(w, status, err)
		return
	}
	p, err := s.readParams(w, r)
	if err != nil {
		status := http.StatusBadRequest
		if cairn.ErrorCode(err) == cairn.ETOOLARGE {
			status = http.StatusRequestEntityTooLarge
		}
		s.fail(w, status, err)
		return
	}
	req := &request{actor: actor, readOnly: r.Method == http.MethodGet, maxNodes: s.limits.MaxNodes}
	// The client (for the audit log and rate limits), as REST has it.
	ctx := cairn.WithClient(r.Context(), s.d.TrustedProxies.Client(r))
	ctx = withRequest(cairn.WithActor(ctx, actor), req)
	resp := s.schema.Exec(ctx, p.Query, p.OperationName, p.Variables)
	s.translate(ctx, resp.Errors)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "private, no-store")
	if err := json.NewEncoder(w).Encode(resp); err != nil {
		s.log.DebugContext(ctx, "write response", "err", err)
	}
}

// readParams reads a POST's JSON body (or application/graphql text) or a
// GET's query string.
func (s *Server) readParams(w http.ResponseWriter, r *http.Request) (params, error) {
	var p params
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		p.Query, p.OperationName = q.Get("query"), q.Get("operationName")
		if v := q.Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &p.Variables); err != nil {
				return p, cairn.Invalid(map[string]string{"variables": "must be a JSON object"})
			}
		}
	} else {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.limits.MaxBodyBytes))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return p, cairn.Errorf(cairn.ETOOLARGE, "the body is larger than %d bytes", s.limits.MaxBodyBytes)
		} else if err != nil {
			return p, cairn.Wrap(cairn.EVALIDATION, err, "the body cannot be read")
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt == "application/graphql" {
			p.Query = string(body)
		} else if err := json.Unmarshal(body, &p); err != nil {
			return p, cairn.Invalid(map[string]string{"body": "must be a JSON object with query, operationName and variables"})
		}
	}
	if strings.TrimSpace(p.Query) == "" {
		return p, cairn.Invalid(map[string]string{"query": "is required"})
	}
	return p, nil
}

// fail answers a request that did not run, in GraphQL's error shape.
func (s *Server) fail(w http.ResponseWriter, status int, err error) {
	qe := &gqlerrors.QueryError{Message: cairn.ErrorMessage(err), ResolverError: err}
	s.translate(context.Background(), []*gqlerrors.QueryError{qe})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []*gqlerrors.QueryError{qe}})
}

// translate gives every error its code from the one table of codes:
// a resolver's *cairn.Error its own (with its safe message and fields);
// graphql-go's syntax, validation and limit errors VALIDATION_ERROR. Only
// server faults are logged as errors, with their cause.
func (s *Server) translate(ctx context.Context, errs []*gqlerrors.QueryError) {
	for _, e := range errs {
		err := e.ResolverError
		if err == nil {
			code := cairn.EVALIDATION
			if errors.Is(e.Err, context.Canceled) || errors.Is(e.Err, context.DeadlineExceeded) {
				code = cairn.EUNAVAILABLE
			}
			e.Extensions = map[string]any{"code": code}
			continue
		}
		code := cairn.ErrorCode(err)
		switch code {
		case cairn.EINTERNAL, cairn.EUNAVAILABLE:
			s.log.ErrorContext(ctx, "graphql field failed", "err", err, "path", e.Path)
		default:
			s.log.DebugContext(ctx, "graphql field refused", "err", err, "path", e.Path)
		}
		e.Message = cairn.ErrorMessage(err)
		ext := map[string]any{"code": code}
		if f := cairn.ErrorFields(err); len(f) > 0 {
			fields := make(map[string]string, len(f))
			for k, v := range f {
				fields[camel(k)] = v
			}
			ext["fields"] = fields
		}
		if d := cairn.ErrorRetryAfter(err); d > 0 {
			ext["retryAfterSeconds"] = int((d.Seconds()) + 0.999)
		}
		e.Extensions = ext
	}
}

// camel turns the domain's JSON field names (serial_number,
// steps[0].duration_type) into GraphQL's (serialNumber,
// steps[0].durationType).
func camel(s string) string {
	var b strings.Builder
	up := false
	for _, c := range s {
		switch {
		case c == '_':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(c)))
			up = false
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// must returns v, or fails the field being resolved with err.
//
// graphql-go runs every field of a selection set in a goroutine of its
// own as soon as one of them takes a context, arguments or returns an
// error; a page of 50 activities with their summaries then costs some
// 2,000 goroutines and twice the time. So the fields that a list's
// objects load together (an activity's device, summary, user and parent,
// a device's user) take none: they use the request's context kept by
// their list, and report an error by panicking with it, which the panic
// handler below turns into the field's error, with its code, as if it
// had been returned.
func must[T any](v T, err error) T {
	if err != nil {
		panic(fieldError{err})
	}
	return v
}

// fieldError is a field's error raised through must.
type fieldError struct{ err error }

// panics turns a resolver's panic into an INTERNAL error and logs it,
// and a fieldError into its error.
type panics struct{ log *slog.Logger }

func (panics) MakePanicError(ctx context.Context, value any) *gqlerrors.QueryError {
	if fe, ok := value.(fieldError); ok {
		return &gqlerrors.QueryError{Message: cairn.ErrorMessage(fe.err), ResolverError: fe.err}
	}
	err := cairn.Wrap(cairn.EINTERNAL, fmt.Errorf("panic: %v", value), "internal error")
	return &gqlerrors.QueryError{Message: err.Message, ResolverError: err}
}

func (p panics) LogPanic(ctx context.Context, value any) {
	if _, ok := value.(fieldError); ok {
		return // an error, logged with the others by translate
	}
	p.log.ErrorContext(ctx, "graphql resolver panicked", "panic", fmt.Sprint(value), "stack", string(debug.Stack()))
}
