package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/telemetry"
	"github.com/cairn-fit/cairn/webhooks"
)

// WebhookSettings tune webhook delivery (Config.Webhooks).
type WebhookSettings struct {
	RetrySchedule       durations
	Timeout             time.Duration
	AllowPrivate        bool
	Workers             int
	EndpointConcurrency int
	DisableAfter        time.Duration
	// EventRetention and DeliveryRetention: how long events and finished
	// (delivered or dead) deliveries are kept.
	EventRetention    time.Duration
	DeliveryRetention time.Duration
	registered        bool // by serve's flags; other commands deliver nothing
}

// webhookFlags registers the webhook settings.
func (c *Config) webhookFlags(fs *flag.FlagSet) {
	w := &c.Webhooks
	w.registered = true
	w.RetrySchedule = append(durations(nil), webhooks.DefaultRetrySchedule...)
	fs.Var(&w.RetrySchedule, "webhook-retry-schedule", "delays before each retry of a webhook delivery, comma-separated; after the last the delivery is dead")
	fs.DurationVar(&w.Timeout, "webhook-timeout", webhooks.DefaultTimeout, "how long one webhook delivery attempt may take")
	fs.BoolVar(&w.AllowPrivate, "webhook-allow-private", false, "let webhook endpoints point at loopback, private and link-local addresses")
	fs.IntVar(&w.Workers, "webhook-workers", webhooks.DefaultWorkers, "webhook deliveries in flight at once in this process")
	fs.IntVar(&w.EndpointConcurrency, "webhook-endpoint-concurrency", webhooks.DefaultEndpointConcurrency, "webhook deliveries in flight at once to one endpoint in this process")
	fs.DurationVar(&w.DisableAfter, "webhook-disable-after", webhooks.DefaultDisableAfter, "disable a webhook endpoint that has been failing this long")
	fs.DurationVar(&w.EventRetention, "event-retention", webhooks.DefaultRetention, "how long events are kept (GET /v1/events reaches this far back); longer while a delivery of them is kept")
	fs.DurationVar(&w.DeliveryRetention, "delivery-retention", webhooks.DefaultRetention, "how long delivered and dead webhook deliveries are kept (dead ones stay replayable until then)")
}

func (w *WebhookSettings) validate() []error {
	if !w.registered {
		return nil
	}
	var errs []error
	if len(w.RetrySchedule) == 0 {
		errs = append(errs, errors.New("--webhook-retry-schedule needs at least one delay"))
	}
	if w.Timeout <= 0 || w.Workers < 1 || w.EndpointConcurrency < 1 || w.DisableAfter <= 0 {
		errs = append(errs, errors.New("--webhook-timeout, --webhook-workers, --webhook-endpoint-concurrency and --webhook-disable-after must be positive"))
	}
	if w.EventRetention < time.Hour || w.DeliveryRetention < time.Hour {
		errs = append(errs, errors.New("--event-retention and --delivery-retention must be at least 1h"))
	}
	return errs
}

// durations is a comma-separated list of durations as a flag.
type durations []time.Duration

func (d *durations) String() string {
	s := make([]string, len(*d))
	for i, x := range *d {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}

func (d *durations) Set(v string) error {
	var out durations
	for _, f := range strings.Split(v, ",") {
		x, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || x <= 0 {
			return fmt.Errorf("%q is not a positive duration", f)
		}
		out = append(out, x)
	}
	*d = out
	return nil
}

// newWebhooks builds the webhook service; its secrets are sealed with the
// keys that seal every secret at rest.
func newWebhooks(c *Config, s *store, keys *secrets.Keyring, log *slog.Logger, metrics *telemetry.Metrics) *webhooks.Service {
	w := c.Webhooks
	return webhooks.New(s.DB, keys, webhooks.Config{RetrySchedule: w.RetrySchedule, Timeout: w.Timeout,
		AllowPrivate: w.AllowPrivate, Workers: w.Workers, EndpointConcurrency: w.EndpointConcurrency,
		DisableAfter: w.DisableAfter, EventRetention: w.EventRetention, DeliveryRetention: w.DeliveryRetention},
		metrics.Registry, log)
}
