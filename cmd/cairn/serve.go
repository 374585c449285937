package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/cairn-fit/cairn/account"
	"github.com/cairn-fit/cairn/blobs"
	"github.com/cairn-fit/cairn/ingest"
	"github.com/cairn-fit/cairn/jobs"
	"github.com/cairn-fit/cairn/rest"
	"github.com/cairn-fit/cairn/syncer"
	"github.com/cairn-fit/cairn/telemetry"
	"github.com/cairn-fit/cairn/tracks"
	"github.com/cairn-fit/cairn/webhooks"
	"github.com/riverqueue/river"
)

func cmdServe(ctx context.Context, e env, args []string) error {
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.serveFlags(fs)
	if err := c.parse(fs, args, e.getenv); err != nil {
		return err
	}
	log := telemetry.NewLogger(e.stderr, c.LogLevel)
	metrics := telemetry.NewMetrics()

	// Listen first, answering /healthz (and 503 elsewhere) while
	// migrations run; the full API takes over once the store is ready.
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	var handler atomic.Pointer[http.Handler]
	starting := rest.Starting()
	handler.Store(&starting)
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }),
		ReadHeaderTimeout: 10 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())

	s, err := openStore(ctx, &c, log)
	if err != nil {
		shutdown(srv, c.ShutdownTimeout)
		return err
	}
	defer s.Close()
	bucket, err := blobs.Open(ctx, c.BlobURL, c.DataDir)
	if err != nil {
		shutdown(srv, c.ShutdownTimeout)
		return err
	}
	defer bucket.Close()
	ident, err := newIdentity(&c, s, bucket, log)
	if err != nil {
		shutdown(srv, c.ShutdownTimeout)
		return err
	}
	uploads := &ingest.Uploads{Service: &ingest.Service{DB: s.DB, Bucket: bucket, Log: log}}
	hooks := newWebhooks(&c, s, ident.Keys, log, metrics)
	publicURL := "http://" + ln.Addr().String()
	syncs, stopDemo, err := newSync(ctx, &c, s.DB, bucket, ident.Keys, publicURL, log)
	if err != nil {
		shutdown(srv, c.ShutdownTimeout)
		return err
	}
	defer stopDemo()
	queue, err := startQueue(ctx, s, uploads, hooks, ident.Purge, syncs, c.Sync.ResumeEvery, log)
	if err != nil {
		shutdown(srv, c.ShutdownTimeout)
		return err
	}
	ident.Accounts.Queue = queue
	var draining atomic.Bool
	auth, err := newOAuthServer(ctx, &c, s, ident, log, metrics)
	if err != nil {
		shutdown(srv, c.ShutdownTimeout)
		return err
	}
	api, err := rest.New(rest.Deps{
		Users: s, Tokens: s, Uploads: uploads,
		Devices: s, Activities: s, Summaries: s, Series: s, Routes: s, Health: s, Workouts: s,
		Idempotency: s, Events: s, Consents: s, Sync: syncs, Webhooks: hooks, OAuth: auth, Tracks: &tracks.Service{DB: s.DB, Bucket: bucket}, AuthCacheTTL: 5 * time.Second,
		Accounts: ident.Accounts, MFA: ident.MFA, Audit: s, OAuthClients: s, ClientSecretGrace: c.OAuthSecretGrace,
		TrustedProxies: c.TrustedProxies,
		Ready: func(ctx context.Context) error {
			if draining.Load() {
				return errors.New("shutting down")
			}
			return s.Ping(ctx)
		},
		Log: log, Metrics: metrics,
	})
	if err != nil {
		shutdown(srv, c.ShutdownTimeout)
		return err
	}
	full := withSync(withOAuth(api, auth), api, syncs)
	if full, err = withGraphQL(full, &c, s, api, &tracks.Service{DB: s.DB, Bucket: bucket}, log); err != nil {
		shutdown(srv, c.ShutdownTimeout)
		return err
	}
	handler.Store(&full)
	log.Info("ready", "database", s.Dialect())
	go subscribeStrava(ctx, &c, syncs, publicURL, log)

	select {
	case err = <-served:
	case <-ctx.Done():
		log.Info("shutting down: draining requests and jobs")
	}
	draining.Store(true)
	shutdown(srv, c.ShutdownTimeout)
	stopCtx, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	if qerr := queue.Stop(stopCtx); qerr != nil {
		log.Error("stopping jobs", "err", qerr)
	}
	log.Info("stopped")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func shutdown(srv *http.Server, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

func startQueue(ctx context.Context, s *store, uploads *ingest.Uploads, hooks *webhooks.Service, purgeUsers *account.PurgeWorker,
	syncs *syncer.Service, resumeEvery time.Duration, log *slog.Logger) (*jobs.Queue, error) {
	workers := river.NewWorkers()
	river.AddWorker(workers, &jobs.PurgeWorker{Purge: func(ctx context.Context, now time.Time) (int64, error) {
		n, err := s.PurgeExpired(ctx, now)
		m, oerr := s.PurgeExpiredOAuth(ctx, now)
		return n + m, errors.Join(err, oerr)
	}})
	river.AddWorker(workers, &ingest.UploadWorker{Uploads: uploads})
	hooks.Register(workers)
	river.AddWorker(workers, purgeUsers)
	syncJobs := syncs.Register(workers, resumeEvery, time.Hour)
	q, err := jobs.New(s.DB, s.pool, jobs.Config{
		Workers: workers,
		PeriodicJobs: append([]*river.PeriodicJob{jobs.PurgeEvery(time.Hour), webhooks.RelayEvery(10 * time.Second),
			webhooks.RetentionEvery(time.Hour)}, syncJobs...),
		MaxWorkers: 4,
		Queues:     map[string]river.QueueConfig{webhooks.QueueName: hooks.Queue(), syncer.QueueName: syncs.QueueConfig()},
		Logger:     log,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	uploads.Queue = q
	hooks.Attach(q) // deliveries' jobs are enqueued in their events' transactions
	syncs.SetQueue(q)
	// The queue runs until Stop, not until ctx ends, so that SIGTERM lets
	// running jobs finish.
	if err := q.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return q, nil
}
