package cairn

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"
)

// WebhookEndpoint is a URL that receives a user's events, signed with the
// endpoint's secret (Standard Webhooks). After a rotation the previous
// secret keeps signing alongside the new one until PreviousSecretExpiresAt.
type WebhookEndpoint struct {
	ID     string `json:"id"`
	UserID string `json:"user_id"`
	// ClientID is set on an OAuth client's endpoint.
	ClientID string `json:"client_id,omitempty"`
	URL      string `json:"url"`
	// EventTypes lists what the endpoint receives; empty means every type.
	EventTypes     []EventType `json:"event_types"`
	Enabled        bool        `json:"enabled"`
	DisabledReason string      `json:"disabled_reason,omitempty"`
	// FailingSince is when the current run of failed attempts began.
	FailingSince            *time.Time `json:"failing_since,omitempty"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
	// Secret is the signing secret (whsec_…): set only in the answer to
	// the creation or rotation that made it, never read back.
	Secret string `json:"-"`
}

// MaxWebhookURL bounds an endpoint's URL.
const MaxWebhookURL = 2048

// Wants reports whether the endpoint receives events of type t.
func (e *WebhookEndpoint) Wants(t EventType) bool {
	return len(e.EventTypes) == 0 || slices.Contains(e.EventTypes, t)
}

// Validate checks the endpoint's URL and event types. Where the URL may
// point (no private networks) is checked when it is delivered to.
func (e *WebhookEndpoint) Validate() error {
	f := map[string]string{}
	u, err := url.Parse(e.URL)
	switch {
	case e.URL == "":
		f["url"] = "is required"
	case len(e.URL) > MaxWebhookURL:
		f["url"] = "is longer than 2048 characters"
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Hostname() == "":
		f["url"] = "must be an absolute http or https URL"
	case u.User != nil:
		f["url"] = "must not carry a user name or password"
	case u.Fragment != "" || strings.ContainsAny(e.URL, " \t\r\n"):
		f["url"] = "must not have a fragment or white space"
	}
	for _, t := range e.EventTypes {
		if !t.Valid() {
			f["event_types"] = "unknown event type " + string(t)
		}
	}
	if len(f) > 0 {
		return Invalid(f)
	}
	return nil
}

// WebhookEndpointPatch changes an endpoint; nil fields keep their value.
// Enabling an endpoint clears why it was disabled and its failing run.
type WebhookEndpointPatch struct {
	URL        *string
	EventTypes *[]EventType
	Enabled    *bool
}

// Apply writes the patch onto e and validates the result.
func (p WebhookEndpointPatch) Apply(e *WebhookEndpoint) error {
	if p.URL != nil {
		e.URL = *p.URL
	}
	if p.EventTypes != nil {
		e.EventTypes = *p.EventTypes
	}
	if p.Enabled != nil {
		if *p.Enabled && !e.Enabled {
			e.DisabledReason, e.FailingSince = "", nil
		}
		if !*p.Enabled && e.Enabled {
			e.DisabledReason = "disabled by the user"
		}
		e.Enabled = *p.Enabled
	}
	return e.Validate()
}

// AuditWebhookDisable is the audit action of cairn disabling an endpoint.
const AuditWebhookDisable = "webhook.disable"

// Delivery statuses: pending until an attempt succeeds (delivered) or the
// last attempt of the retry schedule fails (dead).
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// DeliveryStatuses lists the delivery statuses.
var DeliveryStatuses = []string{DeliveryPending, DeliveryDelivered, DeliveryDead}

// WebhookDelivery is one event sent to one endpoint: one message, whose
// id (the webhook-id header) is the same on every attempt and replay.
type WebhookDelivery struct {
	ID            string            `json:"id"`
	UserID        string            `json:"user_id"`
	EndpointID    string            `json:"webhook_id"`
	EventID       string            `json:"event_id"`
	EventType     EventType         `json:"event_type"`
	Status        string            `json:"status"`
	Attempts      []DeliveryAttempt `json:"attempts"`
	AttemptCount  int               `json:"attempt_count"`
	NextAttemptAt *time.Time        `json:"next_attempt_at"`
	CreatedAt     time.Time         `json:"created_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

// DeliveryAttempt is one HTTP request of a delivery and its outcome.
type DeliveryAttempt struct {
	At time.Time `json:"at"`
	// StatusCode is the answer's HTTP status, 0 when there was none.
	StatusCode int     `json:"status_code"`
	LatencyMS  float64 `json:"latency_ms"`
	// Error says why the attempt failed; empty when it succeeded.
	Error string `json:"error,omitempty"`
}

// DeliveryFilter selects an endpoint's deliveries.
type DeliveryFilter struct {
	EndpointID string
	Status     string // one of DeliveryStatuses, or "" for all
	Page       PageRequest
}

// WebhookStats is the state of webhook delivery across all users.
type WebhookStats struct {
	EndpointsEnabled  int                 `json:"endpoints_enabled"`
	EndpointsDisabled int                 `json:"endpoints_disabled"`
	EndpointsFailing  int                 `json:"endpoints_failing"`
	Deliveries        map[string]int      `json:"deliveries"` // by status
	OldestPendingAt   *time.Time          `json:"oldest_pending_at"`
	DeadByEndpoint    []EndpointDeadCount `json:"dead_by_endpoint"`
}

// EndpointDeadCount is how many dead deliveries an endpoint has.
type EndpointDeadCount struct {
	EndpointID string `json:"webhook_id"`
	Dead       int    `json:"dead"`
}

// WebhookService manages the actor's webhook endpoints and their
// deliveries.
type WebhookService interface {
	// CreateEndpoint registers e for the actor's user and sets e.Secret.
	CreateEndpoint(ctx context.Context, e *WebhookEndpoint) error
	ListEndpoints(ctx context.Context, page PageRequest) (*Page[WebhookEndpoint], error)
	FindEndpoint(ctx context.Context, id string) (*WebhookEndpoint, error)
	// UpdateEndpoint applies p once check (an If-Match test, say; nil for
	// none) accepts the endpoint's current state.
	UpdateEndpoint(ctx context.Context, id string, p WebhookEndpointPatch, check func(*WebhookEndpoint) error) (*WebhookEndpoint, error)
	DeleteEndpoint(ctx context.Context, id string) error
	// RotateSecret gives the endpoint a new secret (set in Secret); the
	// previous one keeps signing alongside it for grace.
	RotateSecret(ctx context.Context, id string, grace time.Duration) (*WebhookEndpoint, error)
	ListDeliveries(ctx context.Context, f DeliveryFilter) (*Page[WebhookDelivery], error)
	// Replay sends a delivery again with a fresh retry schedule.
	Replay(ctx context.Context, endpointID, deliveryID string) (*WebhookDelivery, error)
	// ReplayDead replays the endpoint's dead deliveries created since,
	// returning how many.
	ReplayDead(ctx context.Context, endpointID string, since time.Time) (int, error)
	// Stats is for administrators.
	Stats(ctx context.Context) (*WebhookStats, error)
}
