package webhooks

import (
	"context"
	"sync"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the delivery collectors, registered on the process's
// registry (telemetry.Metrics.Registry).
type Metrics struct {
	// Latency of attempts that got an answer or failed, by outcome.
	Latency *prometheus.HistogramVec
	// Attempts by outcome: delivered, failed, gone.
	Attempts *prometheus.CounterVec
	// Failures by reason: status (a non-2xx answer), timeout, refused
	// (SSRF guard), network.
	Failures *prometheus.CounterVec
	// Dead counts deliveries that ran out of attempts.
	Dead prometheus.Counter
	// Disabled counts endpoints cairn disabled, by reason (gone, failing).
	Disabled *prometheus.CounterVec
}

// NewMetrics registers the delivery collectors on reg, with the queue
// depth (pending deliveries) read from depth when scraped, at most every
// few seconds.
func NewMetrics(reg prometheus.Registerer, depth func(context.Context) (int, error)) *Metrics {
	m := &Metrics{
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cairn_webhook_delivery_duration_seconds",
			Help:    "Latency of webhook delivery attempts by outcome.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}, []string{"outcome"}),
		Attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome (delivered, failed, gone).",
		}, []string{"outcome"}),
		Failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_webhook_failures_total",
			Help: "Failed webhook delivery attempts by reason (status, timeout, refused, network).",
		}, []string{"reason"}),
		Dead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_webhook_dead_letters_total",
			Help: "Webhook deliveries that failed their last attempt.",
		}),
		Disabled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_webhook_endpoints_disabled_total",
			Help: "Webhook endpoints disabled by cairn, by reason (gone, failing).",
		}, []string{"reason"}),
	}
	reg.MustRegister(m.Latency, m.Attempts, m.Failures, m.Dead, m.Disabled)
	if depth != nil {
		c := &depthCache{read: depth}
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "cairn_webhook_queue_depth",
			Help: "Webhook deliveries waiting for an attempt (pending).",
		}, c.value))
	}
	return m
}

// depthCache reads the queue depth at most every few seconds, however
// often it is scraped.
type depthCache struct {
	read func(context.Context) (int, error)
	mu   sync.Mutex
	at   time.Time
	n    float64
}

func (c *depthCache) value() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) < 5*time.Second {
		return c.n
	}
	ctx, cancel := context.WithTimeout(cairn.SystemContext(context.Background()), 2*time.Second)
	defer cancel()
	if n, err := c.read(ctx); err == nil {
		c.n, c.at = float64(n), time.Now()
	}
	return c.n
}
