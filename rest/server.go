// Package rest serves cairn's public REST API. Routes, parameters and
// response types are generated from openapi.yaml (oapi-codegen, strict
// server, net/http ServeMux); handlers return errors, and one table maps
// error codes to statuses.
package rest

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/account"
	"github.com/cairn-fit/cairn/mfa"
	"github.com/cairn-fit/cairn/ratelimit"
	"github.com/cairn-fit/cairn/rest/api"
	"github.com/cairn-fit/cairn/telemetry"
	"github.com/cairn-fit/cairn/tracks"
)

// Deps are the domain services the API serves.
type Deps struct {
	Users       cairn.UserStore
	Tokens      cairn.TokenStore
	Uploads     cairn.UploadService
	Devices     cairn.DeviceStore
	Activities  cairn.ActivityStore
	Summaries   cairn.SummaryStore
	Series      cairn.MetricStore // metric series metadata
	Routes      cairn.RouteStore
	Health      cairn.HealthStore
	Workouts    cairn.WorkoutStore
	Idempotency cairn.IdempotencyStore
	// OAuth checks bearer tokens that are not personal access tokens
	// (OAuth2 access tokens); nil refuses them.
	OAuth cairn.TokenIntrospector
	// Tracks reads and writes series and routes with their blobs.
	Tracks *tracks.Service
	// Ready reports whether the server can serve: database reachable and
	// migrated.
	Ready   func(context.Context) error
	Log     *slog.Logger
	Metrics *telemetry.Metrics
	// Now is the clock, replaceable in tests.
	Now func() time.Time
	// AuthCacheTTL is how long a token's lookup is reused (0: not at
	// all); revocations and frozen accounts take effect within it.
	AuthCacheTTL time.Duration
	// PageCacheSize is how many encoded pages of activities are kept
	// (about 20 kB each): 0 for the default, negative for none.
	PageCacheSize int
	// Sync connects users to Strava and Garmin and runs sync sessions;
	// without it those routes answer 503.
	Sync cairn.SyncService
	// Events lists events for polling clients; Webhooks manages webhook
	// endpoints and deliveries. Without them those routes answer 503.
	Events   cairn.EventStore
	Webhooks cairn.WebhookService
	// Consents lists and revokes the apps a user allowed; without it
	// those routes answer 503.
	Consents cairn.ConsentStore
	// Identity and access: the account lifecycle, MFA, the audit log and
	// OAuth client secrets (ClientSecretGrace: how long a rotated secret
	// stays valid, 24 hours when zero). Without them the admin and MFA
	// routes answer 503.
	Accounts          *account.Service
	MFA               *mfa.Service
	Audit             cairn.AuditLog
	OAuthClients      cairn.OAuthStore
	ClientSecretGrace time.Duration
	// TrustedProxies may name the client in X-Forwarded-For, for the
	// audit log and the rate limits; without them the peer is the client.
	TrustedProxies ratelimit.Proxies
}

// defaultPageCacheSize bounds the cached pages of activities.
const defaultPageCacheSize = 2000

// Server is the REST API.
type Server struct {
	Deps
	log *slog.Logger
	ops map[string]operation // by route pattern, "GET /v1/users/{userId}"
	// bodies holds each operation's JSON request body type, by pattern.
	bodies map[string]reflect.Type
	routes []string
	pages  *pageCache // encoded pages of activities
	auth   *authCache
	admin  *account.Admin
}

// New returns the API server.
func New(d Deps) (*Server, error) {
	ops, err := loadOperations()
	if err != nil {
		return nil, err
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = telemetry.NewMetrics()
	}
	if d.PageCacheSize == 0 {
		d.PageCacheSize = defaultPageCacheSize
	}
	return &Server{Deps: d, log: d.Log, ops: ops, bodies: bodyTypes(ops),
		pages: newPageCache(d.PageCacheSize), auth: newAuthCache(d.AuthCacheTTL), admin: newAdmin(d)}, nil
}

// Handler returns the HTTP handler for every route. Each route runs, in
// order: authorize (token and scopes), readBody (size limit, strict JSON),
// idempotent (Idempotency-Key), cache (ETag, 304), then the generated
// binding and the handler.
func (s *Server) Handler() http.Handler {
	strict := api.NewStrictHandlerWithOptions(s, nil, api.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  s.requestError,
		ResponseErrorHandlerFunc: s.writeError,
	})
	mux := &recordingMux{ServeMux: http.NewServeMux()}
	api.HandlerWithOptions(strict, api.StdHTTPServerOptions{
		BaseRouter:       mux,
		ErrorHandlerFunc: s.requestError,
		// The last runs first.
		Middlewares: []api.MiddlewareFunc{s.cache, s.idempotent, s.readBody, s.authorize},
	})
	s.routes = mux.patterns
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, cairn.Errorf(cairn.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path))
	})
	return s.observe(s.withSyncEvents(mux))
}

// Patterns lists the route patterns the handler serves, as "METHOD /path".
func (s *Server) Patterns() []string { return s.routes }

// recordingMux remembers the patterns registered on it.
type recordingMux struct {
	*http.ServeMux
	patterns []string
}

func (m *recordingMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

// requestError answers a request the generated code could not bind.
func (s *Server) requestError(w http.ResponseWriter, r *http.Request, err error) {
	fields := map[string]string{}
	switch e := err.(type) {
	case *api.InvalidParamFormatError:
		fields[e.ParamName] = "has an invalid format"
	case *api.RequiredParamError:
		fields[e.ParamName] = "is required"
	case *api.RequiredHeaderError:
		fields[e.ParamName] = "is required"
	case *api.UnescapedCookieParamError:
		fields[e.ParamName] = "has an invalid format"
	case *api.TooManyValuesForParamError:
		fields[e.ParamName] = "has too many values"
	default:
		// readBody has checked JSON bodies already; what remains are
		// multipart bodies, and the decoder's words are Go's, not the API's.
		fields["body"] = "is not a valid body for this operation"
	}
	s.writeError(w, r, cairn.Invalid(fields))
}

// observe is the shared request observation; a panic answers 500 in the
// error shape.
func (s *Server) observe(next http.Handler) http.Handler {
	return telemetry.Observe(s.log, s.Metrics, next, func(w http.ResponseWriter, r *http.Request, err error) {
		s.writeError(w, r, cairn.Wrap(cairn.EINTERNAL, err, "internal error"))
	})
}

// Starting is the handler while the server starts: /healthz answers 200,
// everything else 503 in the error shape.
func Starting() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			writeJSON(w, http.StatusOK, api.Status{Status: "ok"})
			return
		}
		writeJSON(w, http.StatusServiceUnavailable, errorBody(cairn.Errorf(cairn.EUNAVAILABLE, "starting up, try again shortly")))
	})
}
