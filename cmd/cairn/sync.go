package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/garmin"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/provider"
	"github.com/cairn-fit/cairn/rest"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/strava"
	"github.com/cairn-fit/cairn/syncer"
	"github.com/cairn-fit/cairn/weather"
	"gocloud.dev/blob"
)

// SyncSettings are the providers cairn syncs with and how.
type SyncSettings struct {
	StravaAPIURL, StravaOAuthURL       string
	StravaClientID, StravaClientSecret string
	StravaVerifyToken                  string
	GarminAPIURL, GarminOAuthURL       string
	GarminTokenURL                     string
	GarminClientID, GarminClientSecret string
	WeatherURL, GeocodeURL             string
	GeocodePerSecond                   float64
	// PublicURL is where providers reach cairn (OAuth callbacks,
	// webhooks); empty: http://<addr>.
	PublicURL   string
	Lease       time.Duration
	Concurrency int
	CallTimeout time.Duration
	ResumeEvery time.Duration
	// Demo serves the provider simulator in-process and points every
	// provider setting at it.
	Demo bool
}

// syncSecretFlags may be given as files.
var syncSecretFlags = []string{"strava-client-secret", "garmin-client-secret", "strava-verify-token"}

func (c *Config) syncFlags(fs *flag.FlagSet) {
	s := &c.Sync
	fs.StringVar(&s.StravaAPIURL, "strava-api-url", "https://www.strava.com/api/v3", "Strava API base URL")
	fs.StringVar(&s.StravaOAuthURL, "strava-oauth-url", "https://www.strava.com/oauth", "Strava OAuth base URL")
	fs.StringVar(&s.StravaClientID, "strava-client-id", "", "Strava application client_id (empty: Strava is off)")
	fs.StringVar(&s.StravaClientSecret, "strava-client-secret", "", "Strava application client_secret")
	fs.StringVar(&s.StravaVerifyToken, "strava-verify-token", "", "token Strava's push subscription validation echoes (empty: the webhook refuses validation)")
	fs.StringVar(&s.GarminAPIURL, "garmin-api-url", "https://apis.garmin.com", "Garmin Health, Activity and Training API base URL")
	fs.StringVar(&s.GarminOAuthURL, "garmin-oauth-url", "https://connect.garmin.com", "Garmin OAuth consent page base URL")
	fs.StringVar(&s.GarminTokenURL, "garmin-token-url", "https://diauth.garmin.com", "Garmin OAuth token endpoint base URL")
	fs.StringVar(&s.GarminClientID, "garmin-client-id", "", "Garmin consumer key (empty: Garmin is off)")
	fs.StringVar(&s.GarminClientSecret, "garmin-client-secret", "", "Garmin consumer secret")
	fs.StringVar(&s.WeatherURL, "weather-url", "https://archive-api.open-meteo.com", "Open-Meteo historical weather API base URL")
	fs.StringVar(&s.GeocodeURL, "geocode-url", "https://nominatim.openstreetmap.org", "Nominatim reverse geocoding base URL")
	fs.Float64Var(&s.GeocodePerSecond, "geocode-rate", 1, "reverse geocoding calls per second at most (Nominatim's policy: 1)")
	fs.StringVar(&s.PublicURL, "public-url", "", "where providers reach cairn for OAuth callbacks and webhooks; empty: http://<addr>")
	fs.DurationVar(&s.Lease, "sync-lease", 30*time.Second, "how long a sync worker's hold on a session lasts unrenewed (a killed worker's session resumes after it)")
	fs.IntVar(&s.Concurrency, "sync-concurrency", 4, "activities of one sync session fetched or stored at once")
	fs.DurationVar(&s.CallTimeout, "provider-timeout", 30*time.Second, "timeout of one call to a provider")
	fs.DurationVar(&s.ResumeEvery, "sync-resume-every", 15*time.Second, "how often sessions nobody works on are taken up again")
	fs.BoolVar(&s.Demo, "demo", false, "serve the Strava/Garmin/weather simulator in-process and sync with it (no credentials needed)")
}

func (s *SyncSettings) validate() error {
	var errs []error
	if s.Lease < time.Second || s.Concurrency < 1 || s.CallTimeout <= 0 || s.ResumeEvery <= 0 || s.GeocodePerSecond < 0 {
		errs = append(errs, errors.New("--sync-lease (at least 1s), --sync-concurrency, --provider-timeout and --sync-resume-every must be positive"))
	}
	if (s.StravaClientID == "") != (s.StravaClientSecret == "") && !s.Demo {
		errs = append(errs, errors.New("--strava-client-id and --strava-client-secret go together"))
	}
	if (s.GarminClientID == "") != (s.GarminClientSecret == "") && !s.Demo {
		errs = append(errs, errors.New("--garmin-client-id and --garmin-client-secret go together"))
	}
	return errors.Join(errs...)
}

// demoSim serves the simulator for --demo on a port of its own and points
// the settings at it: Strava and Garmin apps, weather and geocoding; its
// Garmin notifications and Strava events go to cairn's webhooks.
func demoSim(ctx context.Context, s *SyncSettings, log *slog.Logger) (*sim.Sim, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	base := "http://" + ln.Addr().String()
	endpoints := map[string]sim.Endpoint{}
	for _, typ := range []string{"activities", "activityDetails", "activityFiles", "deregistrations"} {
		endpoints[typ] = sim.Endpoint{URL: s.PublicURL + "/webhooks/garmin/" + typ, Mode: sim.ModePush}
	}
	// Strava's limits twenty times over, so that the demo's sync is not
	// mostly waiting for rate windows (the client learns them from the
	// answers' headers).
	limits := sim.Limits{Short: 20 * sim.DefaultLimits.Short, Daily: 20 * sim.DefaultLimits.Daily,
		ReadShort: 20 * sim.DefaultLimits.ReadShort, ReadDaily: 20 * sim.DefaultLimits.ReadDaily}
	sm, err := sim.New(sim.Config{Seed: 1, Athletes: 3, StravaActivities: 120, BaseURL: base, Limits: limits,
		Until: time.Now().UTC().Truncate(24 * time.Hour), GarminEndpoints: endpoints})
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	srv := &http.Server{Handler: sm, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go sm.Run(runCtx, time.Second)
	s.StravaAPIURL, s.StravaOAuthURL = base+"/api/v3", base+"/oauth"
	s.StravaClientID, s.StravaClientSecret = "1001", "strava-secret"
	s.GarminAPIURL, s.GarminOAuthURL, s.GarminTokenURL = base, base, base
	s.GarminClientID, s.GarminClientSecret = "garmin-client", "garmin-secret"
	s.WeatherURL, s.GeocodeURL, s.GeocodePerSecond = base, base, 0
	if s.StravaVerifyToken == "" {
		s.StravaVerifyToken = "cairn-demo"
	}
	log.Info("demo: provider simulator", "url", base, "athletes", len(sm.Athletes()))
	return sm, func() { cancel(); shutdown(srv, time.Second) }, nil
}

// newSync builds the sync service from the settings; publicURL is where
// providers reach this server. The returned stop ends the demo simulator.
func newSync(ctx context.Context, c *Config, db *sqldb.DB, bucket *blob.Bucket, keys *secrets.Keyring,
	publicURL string, log *slog.Logger) (*syncer.Service, func(), error) {
	s := c.Sync
	if s.PublicURL == "" {
		s.PublicURL = publicURL
	}
	s.PublicURL = strings.TrimRight(s.PublicURL, "/")
	stop := func() {}
	if s.Demo {
		var err error
		if _, stop, err = demoSim(ctx, &s, log); err != nil {
			return nil, nil, fmt.Errorf("demo: %w", err)
		}
	}
	caller := provider.Options{AttemptTimeout: s.CallTimeout, HTTP: &http.Client{}}
	cfg := syncer.Config{
		DB: db, Ingest: &ingest.Service{DB: db, Bucket: bucket, Log: log}, Bucket: bucket, Keys: keys,
		Weather: weather.New(s.WeatherURL, caller),
		Geocoder: weather.NewGeocoder(s.GeocodeURL, "cairn (self-hosted fitness platform)", provider.Options{
			AttemptTimeout: s.CallTimeout, PerSecond: s.GeocodePerSecond}),
		Log: log, BaseURL: s.PublicURL, Lease: s.Lease, Concurrency: s.Concurrency,
		StravaVerifyToken: s.StravaVerifyToken,
		Events:            func(ctx context.Context, tx *sqldb.Tx, ev cairn.Event) error { return tx.AppendEvent(ctx, &ev) },
	}
	if s.StravaClientID != "" {
		sc := strava.Config{APIURL: s.StravaAPIURL, OAuthURL: s.StravaOAuthURL,
			ClientID: s.StravaClientID, ClientSecret: s.StravaClientSecret, Caller: caller, MaxWait: time.Minute}
		if db.Dialect() == "postgres" {
			// Several processes may serve one PostgreSQL: Strava's limits
			// are the application's, so its windows are counted there.
			// SQLite is one process's: its windows are counted in memory.
			sc.Shared = db
		}
		cfg.Strava = strava.New(sc)
	}
	if s.GarminClientID != "" {
		cfg.Garmin = garmin.New(garmin.Config{APIURL: s.GarminAPIURL, OAuthURL: s.GarminOAuthURL, TokenURL: s.GarminTokenURL,
			ClientID: s.GarminClientID, ClientSecret: s.GarminClientSecret, Caller: caller})
	}
	return syncer.New(cfg), stop, nil
}

// subscribeStrava creates the application's Strava push subscription to
// this server's webhook when there is none (in the background: Strava
// validates the callback, which must be served by then).
func subscribeStrava(ctx context.Context, c *Config, svc *syncer.Service, publicURL string, log *slog.Logger) {
	s := c.Sync
	if s.StravaClientID == "" && !s.Demo || svc == nil {
		return
	}
	if err := svc.SubscribeStrava(ctx, strings.TrimRight(publicURL, "/")+"/webhooks/strava"); err != nil {
		log.Warn("strava push subscription", "err", err)
	}
}

// withSync serves the providers' endpoints (OAuth callbacks, webhooks)
// beside the rest, observed and answering errors as the API does.
func withSync(h http.Handler, api *rest.Server, svc *syncer.Service) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	ph := svc.Handler(api.Endpoint)
	for _, p := range syncer.Paths {
		mux.Handle(p, ph)
	}
	return mux
}
