package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// App is an API application registered with a provider: Strava's
// client_id and client_secret, or Garmin's consumer key and secret.
type App struct {
	ClientID string
	Secret   string
}

// Limits are Strava's per-application request limits: overall and
// "non-upload" (read) requests per 15-minute window and per UTC day.
type Limits struct {
	Short, Daily         int
	ReadShort, ReadDaily int
}

// Notification modes of a Garmin summary endpoint.
const (
	ModePush = "push" // the summaries themselves are POSTed
	ModePing = "ping" // a notification with a callbackURL to pull from
)

// Endpoint is a partner's configured Garmin callback for one summary type
// (Garmin's Endpoint Configuration Tool).
type Endpoint struct {
	URL  string `json:"url"`
	Mode string `json:"mode"`
}

// Config is everything a simulator is built from. Zero fields take the
// defaults documented on each.
type Config struct {
	Seed             uint64
	Athletes         int       // default 1
	StravaActivities int       // per athlete; default 200
	Until            time.Time // generated history ends here; default 2026-01-01 UTC
	// Now is the clock for token expiry, rate-limit windows and event
	// times; tests pass a fake one. Default time.Now.
	Now func() time.Time
	// BaseURL is where clients reach the simulator; Garmin ping
	// notifications carry callback URLs under it.
	BaseURL string

	StravaApps []App // default one app, 1001 / "strava-secret"
	GarminApp  App   // default "garmin-client" / "garmin-secret"
	Limits     Limits
	// StravaTokenTTL and GarminTokenTTL are access-token lifetimes
	// (default 6 h and 24 h, as the providers document).
	StravaTokenTTL, GarminTokenTTL time.Duration
	// TokenCalls makes an access token expire after that many API calls
	// (0: only by time), so that clients must refresh mid-sync.
	TokenCalls int

	FaultRate    float64       // fraction of API calls that fail
	FaultTimeout time.Duration // longest hang of a "timeout" fault; default 2 s

	GarminEndpoints map[string]Endpoint // by summary type
	HTTPClient      *http.Client        // for callbacks; default 5 s timeout
}

// DefaultLimits are Strava's documented default limits.
var DefaultLimits = Limits{Short: 200, Daily: 2000, ReadShort: 100, ReadDaily: 1000}

func (c Config) withDefaults() Config {
	if c.Athletes == 0 {
		c.Athletes = 1
	}
	if c.StravaActivities == 0 {
		c.StravaActivities = 200
	}
	if c.Until.IsZero() {
		c.Until = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(c.StravaApps) == 0 {
		c.StravaApps = []App{{ClientID: "1001", Secret: "strava-secret"}}
	}
	if c.GarminApp.ClientID == "" {
		c.GarminApp = App{ClientID: "garmin-client", Secret: "garmin-secret"}
	}
	if c.Limits == (Limits{}) {
		c.Limits = DefaultLimits
	}
	if c.StravaTokenTTL == 0 {
		c.StravaTokenTTL = 6 * time.Hour
	}
	if c.GarminTokenTTL == 0 {
		c.GarminTokenTTL = 24 * time.Hour
	}
	if c.FaultTimeout == 0 {
		c.FaultTimeout = 2 * time.Second
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Athletes < 0 || c.StravaActivities < 0 {
		errs = append(errs, errors.New("athletes and activities must not be negative"))
	}
	if c.FaultRate < 0 || c.FaultRate > 1 {
		errs = append(errs, fmt.Errorf("fault rate %v is not within [0, 1]", c.FaultRate))
	}
	if c.TokenCalls < 0 || c.FaultTimeout < 0 {
		errs = append(errs, errors.New("token calls and fault timeout must not be negative"))
	}
	for typ, e := range c.GarminEndpoints {
		if !garminTypes[typ] || (e.Mode != ModePush && e.Mode != ModePing) {
			errs = append(errs, fmt.Errorf("garmin endpoint %q: unknown type or mode %q", typ, e.Mode))
		}
	}
	return errors.Join(errs...)
}

// Sim is the simulator: an http.Handler serving every simulated API at
// the real services' paths, plus accessors for tests.
type Sim struct {
	cfg      Config
	mux      *http.ServeMux
	athletes []*Athlete
	faultN   atomic.Uint64 // API calls seen by fault injection

	mu        sync.Mutex // guards everything below
	ids       *rand.Rand // tokens, codes, ids handed out
	tokens    tokenStore
	usage     map[string]*appUsage
	subs      map[string]*subscription // Strava push subscription by client id
	nextSub   int64
	backfills map[backfillKey]time.Time
	endpoints map[string]Endpoint
	workouts  map[int64]map[string]any
	// the highest ids handed out, for activities and workouts added later
	lastStrava, lastGarmin, lastWorkout int64
	outbox                              []*delivery
	stats                               stats
}

// New builds a simulator from cfg. Seeded data is generated here, and
// stream detail lazily on first use, always from cfg.Seed alone.
func New(cfg Config) (*Sim, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:       cfg,
		ids:       rand.New(rand.NewPCG(cfg.Seed, 0x70_6b_65_6e)),
		tokens:    newTokenStore(),
		usage:     map[string]*appUsage{},
		subs:      map[string]*subscription{},
		backfills: map[backfillKey]time.Time{},
		endpoints: map[string]Endpoint{},
		workouts:  map[int64]map[string]any{},
		stats:     newStats(),
	}
	for k, v := range cfg.GarminEndpoints {
		s.endpoints[k] = v
	}
	s.athletes = generateAthletes(cfg)
	s.lastStrava, s.lastGarmin = lastIDs(s.athletes)
	s.lastWorkout = 500_000_000
	s.routes()
	return s, nil
}

func (s *Sim) now() time.Time { return s.cfg.Now() }

// ServeHTTP serves the simulated APIs.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Athletes returns the seeded athletes with their activities. They are
// shared with the simulator: read them, do not change them.
func (s *Sim) Athletes() []*Athlete { return s.athletes }

// route kinds decide which middleware a route gets.
const (
	kindStrava    = iota // bearer token, rate limits, faults
	kindStravaApp        // client credentials, rate limits, faults
	kindGarmin           // bearer token, faults
	kindOpen             // faults only (OAuth token endpoints, weather, geocoding)
	kindRedirect         // OAuth authorize pages: no faults
	kindControl          // /sim/…: nothing, not counted
)

func (s *Sim) routes() {
	s.mux = http.NewServeMux()
	for _, rt := range s.stravaRoutes() {
		s.handle(rt)
	}
	for _, rt := range s.garminRoutes() {
		s.handle(rt)
	}
	s.handle(route{"GET /v1/archive", kindOpen, s.weather})
	s.handle(route{"GET /reverse", kindOpen, s.reverse})
	for _, rt := range s.controlRoutes() {
		s.handle(rt)
	}
}

type route struct {
	pattern string
	kind    int
	h       http.HandlerFunc
}

// handle registers a route wrapped in what its kind needs: counting by
// pattern and status, then (for API kinds) authentication, rate limits
// and faults, each of which may answer instead of the handler.
func (s *Sim) handle(rt route) {
	h := rt.h
	switch rt.kind {
	case kindStrava:
		h = s.stravaAuth(s.stravaLimit(s.faults(h)))
	case kindStravaApp:
		h = s.stravaLimit(s.faults(h))
	case kindGarmin:
		h = s.garminAuth(s.faults(h))
	case kindOpen:
		h = s.faults(h)
	}
	if rt.kind != kindControl {
		h = s.count(rt.pattern, h)
	}
	s.mux.HandleFunc(rt.pattern, h)
}
