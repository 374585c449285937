// Package webhooks delivers cairn's events to the URLs users and OAuth
// clients register (a client's endpoints receive the events of the users
// who consented to it):
// Standard Webhooks signatures, an HTTP client guarded against server-side
// request forgery, River jobs with a retry schedule, dead letters, replay,
// and the rules that disable an endpoint (410 Gone, failing for days).
//
// Events and their deliveries are written by sqldb's outbox in the
// transaction of the change; the Service is the sqldb.Outbox that
// enqueues their jobs in that transaction.
package webhooks

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/jobs"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
)

// QueueName is the River queue deliveries are worked on, apart from the
// default queue so that slow endpoints never hold up uploads.
const QueueName = "webhooks"

// DefaultRetrySchedule is the delay before each retry: a delivery is
// tried eight times over about 33 hours.
var DefaultRetrySchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Config tunes delivery.
type Config struct {
	// RetrySchedule is the delay before each retry (jittered by up to
	// ±10%); after the last one fails the delivery is dead.
	RetrySchedule []time.Duration
	// Timeout bounds one attempt: connection, request and answer.
	Timeout time.Duration
	// AllowPrivate lets endpoints point at loopback, private and
	// link-local addresses.
	AllowPrivate bool
	// Workers is how many deliveries run at once in the process.
	Workers int
	// EndpointConcurrency is how many deliveries to one endpoint run at
	// once in the process.
	EndpointConcurrency int
	// DisableAfter disables an endpoint that has been failing this long.
	DisableAfter time.Duration
	// RotationGrace is how long a rotated secret keeps signing, unless the
	// rotation names another period.
	RotationGrace time.Duration
	// PollInterval is how often workers look for due deliveries when not
	// notified (always on SQLite).
	PollInterval time.Duration
	// EventRetention and DeliveryRetention are how long events and
	// finished deliveries are kept (RetentionWorker).
	EventRetention, DeliveryRetention time.Duration
}

// Defaults.
const (
	DefaultTimeout             = 15 * time.Second
	DefaultWorkers             = 50
	DefaultEndpointConcurrency = 10
	DefaultDisableAfter        = 5 * 24 * time.Hour
	DefaultRotationGrace       = 24 * time.Hour
	MaxRotationGrace           = 7 * 24 * time.Hour
)

func (c *Config) defaults() {
	if len(c.RetrySchedule) == 0 {
		c.RetrySchedule = DefaultRetrySchedule
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.EndpointConcurrency <= 0 {
		c.EndpointConcurrency = DefaultEndpointConcurrency
	}
	if c.DisableAfter <= 0 {
		c.DisableAfter = DefaultDisableAfter
	}
	if c.RotationGrace <= 0 {
		c.RotationGrace = DefaultRotationGrace
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.EventRetention <= 0 {
		c.EventRetention = DefaultRetention
	}
	if c.DeliveryRetention <= 0 {
		c.DeliveryRetention = DefaultRetention
	}
}

// Sealer seals secrets at rest (secrets.Keyring).
type Sealer interface {
	Seal(plaintext, ad []byte) ([]byte, error)
	Open(ciphertext, ad []byte) ([]byte, error)
}

// Where the sealed secrets live: the associated data binds each to its
// row and column.
const (
	table          = "webhook_endpoints"
	columnSecret   = "secret_enc"
	columnPrevious = "old_secret_enc"
)

// Service manages endpoints and delivers events. It implements
// cairn.WebhookService for the API and sqldb.Outbox for the store.
type Service struct {
	DB      *sqldb.DB
	Keys    Sealer
	Config  Config
	Metrics *Metrics
	Log     *slog.Logger
	// Now is the clock, replaceable in tests.
	Now func() time.Time

	queue    *jobs.Queue
	client   *http.Client
	limit    *limiter
	recorder *recorder
}

// New returns the service; metrics go to reg (nil: not registered).
func New(db *sqldb.DB, keys Sealer, cfg Config, reg prometheus.Registerer, log *slog.Logger) *Service {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	return &Service{DB: db, Keys: keys, Config: cfg, Log: log, Now: time.Now,
		Metrics: NewMetrics(reg, db.PendingDeliveries),
		client:  newClient(cfg.Timeout, cfg.AllowPrivate, max(cfg.Workers, cfg.EndpointConcurrency)),
		limit:   newLimiter(cfg.EndpointConcurrency), recorder: newRecorder(db)}
}

// Queue is the River queue configuration deliveries need. A producer
// fetches at most once per FetchCooldown, up to its free workers: a short
// cooldown lets a busy queue go past Workers deliveries per 100 ms.
func (s *Service) Queue() river.QueueConfig {
	return river.QueueConfig{MaxWorkers: s.Config.Workers, FetchPollInterval: s.Config.PollInterval,
		FetchCooldown: min(s.Config.PollInterval, 10*time.Millisecond)}
}

// Register adds the delivery, relay and retention workers to workers.
func (s *Service) Register(workers *river.Workers) {
	river.AddWorker(workers, &Worker{Service: s})
	river.AddWorker(workers, &RelayWorker{DB: s.DB})
	river.AddWorker(workers, s.Retention())
}

// Retention is the worker that deletes old events and deliveries.
func (s *Service) Retention() *RetentionWorker {
	return &RetentionWorker{DB: s.DB, Events: s.Config.EventRetention, Deliveries: s.Config.DeliveryRetention, Now: s.now}
}

// Attach makes q the queue deliveries are enqueued on, inside the
// transactions that write them.
func (s *Service) Attach(q *jobs.Queue) {
	s.queue = q
	s.DB.SetOutbox(s)
}

// EnqueueDeliveries enqueues one job per delivery inside tx (sqldb.Outbox).
func (s *Service) EnqueueDeliveries(ctx context.Context, tx *sqldb.Tx, ds []cairn.WebhookDelivery) error {
	params := make([]river.InsertManyParams, len(ds))
	opts := &river.InsertOpts{Queue: QueueName, MaxAttempts: len(s.Config.RetrySchedule) + 1}
	for i, d := range ds {
		params[i] = river.InsertManyParams{Args: DeliverArgs{DeliveryID: d.ID}, InsertOpts: opts}
	}
	if err := s.queue.InsertManyTx(ctx, tx, params); err != nil {
		return cairn.Wrap(cairn.EUNAVAILABLE, err, "the job queue is unavailable")
	}
	return nil
}

var _ sqldb.Outbox = (*Service)(nil)
var _ cairn.WebhookService = (*Service)(nil)

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) seal(id, column string, key []byte) ([]byte, error) {
	b, err := s.Keys.Seal(key, secrets.AD(table, column, id))
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	return b, nil
}

func (s *Service) open(id, column string, sealed []byte) ([]byte, error) {
	b, err := s.Keys.Open(sealed, secrets.AD(table, column, id))
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	return b, nil
}

// CreateEndpoint registers e, with a new secret, for the actor's user or,
// for a client-credentials token, for the OAuth client: a client's
// endpoint receives the events of the users who consented to it.
func (s *Service) CreateEndpoint(ctx context.Context, e *cairn.WebhookEndpoint) error {
	a, ok := cairn.ActorFrom(ctx)
	switch {
	case ok && a.IsClient():
		e.UserID, e.ClientID = "", a.ClientID
	case ok && a.UserID != "":
		e.UserID, e.ClientID = a.UserID, ""
	default:
		return cairn.Errorf(cairn.EFORBIDDEN, "webhooks belong to a user or an OAuth client")
	}
	if err := e.Validate(); err != nil {
		return err
	}
	if err := checkTarget(e.URL, s.Config.AllowPrivate); err != nil {
		return err
	}
	e.ID = sqldb.NewID()
	secret, key := NewSecret()
	sealed, err := s.seal(e.ID, columnSecret, key)
	if err != nil {
		return err
	}
	if err := s.DB.CreateWebhookEndpoint(ctx, e, sealed); err != nil {
		return err
	}
	e.Secret = secret
	return nil
}

// ListEndpoints lists the actor's endpoints.
func (s *Service) ListEndpoints(ctx context.Context, page cairn.PageRequest) (*cairn.Page[cairn.WebhookEndpoint], error) {
	return s.DB.ListWebhookEndpoints(ctx, page)
}

// FindEndpoint returns one of the actor's endpoints.
func (s *Service) FindEndpoint(ctx context.Context, id string) (*cairn.WebhookEndpoint, error) {
	return s.DB.FindWebhookEndpoint(ctx, id)
}

// UpdateEndpoint applies p to the endpoint, after check (an If-Match
// test, say) accepts its current state.
func (s *Service) UpdateEndpoint(ctx context.Context, id string, p cairn.WebhookEndpointPatch, check func(*cairn.WebhookEndpoint) error) (*cairn.WebhookEndpoint, error) {
	e, err := s.DB.FindWebhookEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(e); err != nil {
			return nil, err
		}
	}
	seen := e.UpdatedAt
	if err := p.Apply(e); err != nil {
		return nil, err
	}
	if err := checkTarget(e.URL, s.Config.AllowPrivate); err != nil {
		return nil, err
	}
	if err := s.DB.UpdateWebhookEndpoint(ctx, e, seen); err != nil {
		return nil, err
	}
	return e, nil
}

// DeleteEndpoint deletes an endpoint and its deliveries.
func (s *Service) DeleteEndpoint(ctx context.Context, id string) error {
	return s.DB.DeleteWebhookEndpoint(ctx, id)
}

// RotateSecret gives the endpoint a new secret; the current one keeps
// signing alongside it for grace (the configured default when 0).
func (s *Service) RotateSecret(ctx context.Context, id string, grace time.Duration) (*cairn.WebhookEndpoint, error) {
	if grace < 0 || grace > MaxRotationGrace {
		return nil, cairn.Invalid(map[string]string{"grace_period_seconds": "must be between 0 and 604800 (7 days)"})
	}
	if grace == 0 {
		grace = s.Config.RotationGrace
	}
	was, err := s.DB.WebhookSecret(ctx, id)
	if err != nil {
		return nil, err
	}
	old, err := s.open(id, columnSecret, was)
	if err != nil {
		return nil, err
	}
	previous, err := s.seal(id, columnPrevious, old)
	if err != nil {
		return nil, err
	}
	secret, key := NewSecret()
	sealed, err := s.seal(id, columnSecret, key)
	if err != nil {
		return nil, err
	}
	e, err := s.DB.RotateWebhookSecret(ctx, id, was, sealed, previous, s.now().Add(grace))
	if err != nil {
		return nil, err
	}
	e.Secret = secret
	return e, nil
}

// ListDeliveries lists an endpoint's deliveries.
func (s *Service) ListDeliveries(ctx context.Context, f cairn.DeliveryFilter) (*cairn.Page[cairn.WebhookDelivery], error) {
	if f.Status != "" && f.Status != cairn.DeliveryPending && f.Status != cairn.DeliveryDelivered && f.Status != cairn.DeliveryDead {
		return nil, cairn.Invalid(map[string]string{"status": "must be pending, delivered or dead"})
	}
	return s.DB.ListWebhookDeliveries(ctx, f)
}

// Replay sends a delivered or dead delivery again, with the same
// webhook-id and body and a fresh retry schedule.
func (s *Service) Replay(ctx context.Context, endpointID, deliveryID string) (*cairn.WebhookDelivery, error) {
	return s.DB.ReplayWebhookDelivery(ctx, endpointID, deliveryID)
}

// ReplayDead replays the endpoint's dead deliveries created since.
func (s *Service) ReplayDead(ctx context.Context, endpointID string, since time.Time) (int, error) {
	return s.DB.ReplayDeadWebhookDeliveries(ctx, endpointID, since)
}

// Stats sums up webhook delivery for administrators.
func (s *Service) Stats(ctx context.Context) (*cairn.WebhookStats, error) {
	return s.DB.WebhookStats(ctx)
}

// signingKeys opens the keys a delivery is signed with: the current one,
// and the previous one during a rotation's grace period.
func (s *Service) signingKeys(t *sqldb.DeliveryTarget) ([][]byte, error) {
	id := t.Endpoint.ID
	key, err := s.open(id, columnSecret, t.Secret)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", id, err)
	}
	keys := [][]byte{key}
	if exp := t.Endpoint.PreviousSecretExpiresAt; len(t.PreviousSecret) > 0 && exp != nil && s.now().Before(*exp) {
		prev, err := s.open(id, columnPrevious, t.PreviousSecret)
		if err != nil {
			return nil, fmt.Errorf("webhook %s: %w", id, err)
		}
		keys = append(keys, prev)
	}
	return keys, nil
}
