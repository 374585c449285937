package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/cairn-fit/cairn/sim"
)

// simFlags are the settings of cairn sim.
type simFlags struct {
	addr, baseURL         string
	until                 string
	cfg                   sim.Config
	stravaID, stravaKey   string
	garminID, garminKey   string
	garminURL, garminMode string
	deliverEvery          time.Duration
}

func (f *simFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8090", "address to listen on")
	fs.StringVar(&f.baseURL, "base-url", "", "URL clients reach the simulator at (default http://ADDR)")
	fs.Uint64Var(&f.cfg.Seed, "seed", 1, "seed of every generated answer")
	fs.IntVar(&f.cfg.Athletes, "athletes", 1, "number of athletes")
	fs.IntVar(&f.cfg.StravaActivities, "strava-activities", 200, "activities per athlete")
	fs.StringVar(&f.until, "until", "2026-01-01", "date (UTC) the generated history ends")
	fs.Float64Var(&f.cfg.FaultRate, "fault-rate", 0, "fraction of API calls that fail (429, 5xx, hangs, malformed bodies)")
	fs.DurationVar(&f.cfg.FaultTimeout, "fault-timeout", 2*time.Second, "longest hang of a timeout fault")
	fs.IntVar(&f.cfg.TokenCalls, "token-calls", 0, "access tokens expire after this many calls (0: by time only)")
	fs.IntVar(&f.cfg.Limits.Short, "rate-limit", sim.DefaultLimits.Short, "Strava requests per 15 minutes")
	fs.IntVar(&f.cfg.Limits.Daily, "rate-limit-daily", sim.DefaultLimits.Daily, "Strava requests per day")
	fs.IntVar(&f.cfg.Limits.ReadShort, "read-rate-limit", sim.DefaultLimits.ReadShort, "Strava read requests per 15 minutes")
	fs.IntVar(&f.cfg.Limits.ReadDaily, "read-rate-limit-daily", sim.DefaultLimits.ReadDaily, "Strava read requests per day")
	fs.StringVar(&f.stravaID, "strava-client-id", "1001", "Strava application client_id")
	fs.StringVar(&f.stravaKey, "strava-client-secret", "strava-secret", "Strava application client_secret")
	fs.StringVar(&f.garminID, "garmin-client-id", "garmin-client", "Garmin consumer key (OAuth client_id)")
	fs.StringVar(&f.garminKey, "garmin-client-secret", "garmin-secret", "Garmin consumer secret")
	fs.StringVar(&f.garminURL, "garmin-callback", "", "partner URL that receives every Garmin notification type")
	fs.StringVar(&f.garminMode, "garmin-mode", sim.ModePush, "push or ping")
	fs.DurationVar(&f.deliverEvery, "deliver-every", time.Second, "how often queued webhooks and notifications are sent")
}

// config turns the flags into the simulator's configuration.
func (f *simFlags) config(listen string) (sim.Config, error) {
	c := f.cfg
	until, err := time.Parse(time.DateOnly, f.until)
	if err != nil {
		return c, fmt.Errorf("--until: %w", err)
	}
	if f.deliverEvery <= 0 {
		return c, errors.New("--deliver-every must be positive")
	}
	c.Until = until
	c.BaseURL = f.baseURL
	if c.BaseURL == "" {
		c.BaseURL = "http://" + listen
	}
	c.StravaApps = []sim.App{{ClientID: f.stravaID, Secret: f.stravaKey}}
	c.GarminApp = sim.App{ClientID: f.garminID, Secret: f.garminKey}
	if f.garminURL != "" {
		c.GarminEndpoints = map[string]sim.Endpoint{}
		for _, typ := range []string{"dailies", "epochs", "sleeps", "hrv", "bodyComps", "activities",
			"activityDetails", "activityFiles", "deregistrations"} {
			c.GarminEndpoints[typ] = sim.Endpoint{URL: f.garminURL, Mode: f.garminMode}
		}
	}
	return c, nil
}

// cmdSim serves the provider simulator until ctx ends.
func cmdSim(ctx context.Context, e env, args []string) error {
	var f simFlags
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
		}
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	cfg, err := f.config(ln.Addr().String())
	if err == nil {
		err = serveSim(ctx, e, ln, cfg, f.deliverEvery)
	}
	ln.Close()
	return err
}

func serveSim(ctx context.Context, e env, ln net.Listener, cfg sim.Config, every time.Duration) error {
	s, err := sim.New(cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	go s.Run(ctx, every)
	fmt.Fprintf(e.stdout, "cairn sim: listening on %s (seed %d, %d athletes × %d activities)\n",
		cfg.BaseURL, cfg.Seed, len(s.Athletes()), cfg.StravaActivities)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		shutdown(srv, 5*time.Second)
		return nil
	}
}
