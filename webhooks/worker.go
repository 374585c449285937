package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/riverqueue/river"
)

// DeliverArgs is the job that sends one delivery. Its attempts are the
// delivery's: River retries it on the Service's schedule (NextRetry) and
// the last failure makes the delivery dead.
type DeliverArgs struct {
	DeliveryID string `json:"delivery_id"`
}

// Kind names the job in River's table.
func (DeliverArgs) Kind() string { return "webhook_deliver" }

// InsertOpts puts deliveries on their own queue.
func (DeliverArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: QueueName} }

// Worker sends deliveries.
type Worker struct {
	river.WorkerDefaults[DeliverArgs]
	Service *Service
}

// Work makes one attempt.
func (w *Worker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	var meta struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(job.Metadata, &meta) // River's own metadata; absent is zero
	return w.Service.attempt(ctx, job.Args.DeliveryID, job.Attempt, job.MaxAttempts, meta.Snoozes)
}

// NextRetry follows the retry schedule.
func (w *Worker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return time.Now().Add(w.Service.retryDelay(job.Args.DeliveryID, job.Attempt))
}

// Timeout leaves the HTTP client's own timeout room to fire first.
func (w *Worker) Timeout(*river.Job[DeliverArgs]) time.Duration {
	return w.Service.Config.Timeout + 10*time.Second
}

// retryDelay is the delay after the attempt-th attempt: the schedule's,
// jittered by up to ±10% (the same for a given delivery and attempt, so
// that the time shown in the delivery is the one River uses).
func (s *Service) retryDelay(deliveryID string, attempt int) time.Duration {
	sched := s.Config.RetrySchedule
	d := sched[min(max(attempt, 1), len(sched))-1]
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", deliveryID, attempt)
	f := float64(h.Sum64()%2001)/10000 - 0.1 // -0.1 … +0.1
	return d + time.Duration(float64(d)*f)
}

// errAttempt is a failed attempt that River retries.
type errAttempt struct {
	id  string
	why string
}

func (e *errAttempt) Error() string { return "webhook delivery " + e.id + ": " + e.why }

// Waiting for a free slot at a busy endpoint: a worker waits a little,
// then snoozes its job (which spends no attempt), for longer each time.
const (
	slotWait      = 250 * time.Millisecond
	snoozeBase    = 100 * time.Millisecond
	snoozeMaximum = 10 * time.Second
)

// snooze is how long a job that found its endpoint busy n times before
// waits: doubling from 100 ms to 10 s, jittered.
func snooze(n int) time.Duration {
	d := snoozeMaximum
	if n < 7 {
		d = min(snoozeBase<<n, snoozeMaximum)
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)))
}

// attempt sends one delivery once and records the outcome.
func (s *Service) attempt(ctx context.Context, id string, attempt, maxAttempts, snoozes int) error {
	ctx = cairn.SystemContext(ctx)
	t, err := s.DB.FindDeliveryTarget(ctx, id)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return nil // the endpoint or the event was deleted
	} else if err != nil {
		return err
	}
	d := &t.Delivery
	if d.Status != cairn.DeliveryPending {
		return nil // recorded by an earlier run of this job
	}
	if !t.Endpoint.Enabled {
		// Disabled meanwhile: the delivery waits among the dead, to be
		// replayed once the endpoint is enabled again.
		d.Status, d.NextAttemptAt = cairn.DeliveryDead, nil
		d.Attempts = append(d.Attempts, cairn.DeliveryAttempt{At: s.now(), Error: "not sent: the webhook is disabled"})
		if _, err := s.DB.RecordDeliveryAttempt(ctx, d, sqldb.EndpointUnchanged, ""); err != nil {
			return err
		}
		s.Metrics.Dead.Inc()
		return nil
	}
	keys, err := s.signingKeys(t)
	if err != nil {
		return err
	}
	if !s.limit.acquire(ctx, d.EndpointID, slotWait) {
		// The endpoint has as many deliveries in flight as allowed: try
		// again later, without spending an attempt.
		return river.JobSnooze(snooze(snoozes))
	}
	a, outcome := s.send(ctx, t, keys)
	s.limit.release(d.EndpointID)
	d.Attempts = append(d.Attempts, a)
	d.AttemptCount++
	now := s.now()
	change, reason := sqldb.EndpointUnchanged, ""
	switch outcome {
	case outcomeDelivered:
		d.Status, d.NextAttemptAt = cairn.DeliveryDelivered, nil
		if t.Endpoint.FailingSince != nil {
			change = sqldb.EndpointHealthy
		}
	case outcomeGone:
		d.Status, d.NextAttemptAt = cairn.DeliveryDead, nil
		change, reason = sqldb.EndpointDisable, "the endpoint answered 410 Gone"
	default:
		if since := t.Endpoint.FailingSince; since == nil {
			change = sqldb.EndpointFailing
		} else if now.Sub(*since) >= s.Config.DisableAfter {
			change = sqldb.EndpointDisable
			reason = "the endpoint has been failing since " + since.Format(time.RFC3339)
		}
		if attempt >= maxAttempts {
			d.Status, d.NextAttemptAt = cairn.DeliveryDead, nil
		} else {
			next := now.Add(s.retryDelay(id, attempt))
			d.NextAttemptAt = &next
		}
	}
	var disabled bool
	if change == sqldb.EndpointUnchanged {
		err = s.recorder.record(ctx, d) // the common case, written in groups
	} else {
		disabled, err = s.DB.RecordDeliveryAttempt(ctx, d, change, reason)
	}
	if err != nil {
		return err
	}
	s.Metrics.Attempts.WithLabelValues(string(outcome)).Inc()
	s.Metrics.Latency.WithLabelValues(string(outcome)).Observe(a.LatencyMS / 1000)
	if disabled {
		why := "failing"
		if outcome == outcomeGone {
			why = "gone"
		}
		s.Metrics.Disabled.WithLabelValues(why).Inc()
		s.Log.WarnContext(ctx, "webhook disabled", "webhook_id", d.EndpointID, "reason", reason)
	}
	if d.Status == cairn.DeliveryDead {
		s.Metrics.Dead.Inc()
		s.Log.InfoContext(ctx, "webhook delivery dead", "delivery_id", d.ID, "webhook_id", d.EndpointID,
			"attempts", d.AttemptCount, "error", a.Error)
	}
	if d.Status == cairn.DeliveryPending {
		return &errAttempt{id: d.ID, why: a.Error}
	}
	return nil
}

type outcome string

const (
	outcomeDelivered outcome = "delivered"
	outcomeFailed    outcome = "failed"
	outcomeGone      outcome = "gone"
)

// send makes the HTTP request of one attempt.
func (s *Service) send(ctx context.Context, t *sqldb.DeliveryTarget, keys [][]byte) (cairn.DeliveryAttempt, outcome) {
	at := s.now()
	a := cairn.DeliveryAttempt{At: at.Truncate(time.Microsecond)}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.Endpoint.URL, bytes.NewReader(t.Payload))
	if err != nil {
		a.Error = "the URL cannot be requested: " + err.Error()
		s.Metrics.Failures.WithLabelValues("network").Inc()
		return a, outcomeFailed
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cairn-webhooks/1")
	req.Header.Set(HeaderID, t.Delivery.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(t.Delivery.ID, at, t.Payload, keys...))
	start := time.Now()
	resp, err := s.client.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
		resp.Body.Close()
	}
	a.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		reason, text := describe(err, s.Config.Timeout)
		a.Error = text
		s.Metrics.Failures.WithLabelValues(reason).Inc()
		return a, outcomeFailed
	}
	a.StatusCode = resp.StatusCode
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return a, outcomeDelivered
	case resp.StatusCode == http.StatusGone:
		a.Error = "the endpoint answered 410 Gone"
		s.Metrics.Failures.WithLabelValues("status").Inc()
		return a, outcomeGone
	}
	a.Error = fmt.Sprintf("the endpoint answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	s.Metrics.Failures.WithLabelValues("status").Inc()
	return a, outcomeFailed
}

// describe says why a request failed, for the delivery's attempts, and
// the failure's reason label.
func describe(err error, timeout time.Duration) (reason, text string) {
	var ne net.Error
	switch {
	case errors.Is(err, ErrForbiddenTarget):
		return "refused", "not sent: the URL resolves to a private, loopback or link-local address"
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return "timeout", fmt.Sprintf("no answer within %s", timeout)
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			err = inner // drop "Post <url>:", the URL is known
		}
	}
	return "network", err.Error()
}

// limiter bounds the deliveries in flight per endpoint in this process.
type limiter struct {
	mu    sync.Mutex
	n     map[string]int
	freed map[string]chan struct{} // closed when a slot of the key frees
	max   int
}

func newLimiter(max int) *limiter {
	return &limiter{n: map[string]int{}, freed: map[string]chan struct{}{}, max: max}
}

// acquire takes a slot for key, waiting at most wait for one to free.
func (l *limiter) acquire(ctx context.Context, key string, wait time.Duration) bool {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		l.mu.Lock()
		if l.n[key] < l.max {
			l.n[key]++
			l.mu.Unlock()
			return true
		}
		ch, ok := l.freed[key]
		if !ok {
			ch = make(chan struct{})
			l.freed[key] = ch
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

func (l *limiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[key] <= 1 {
		delete(l.n, key)
	} else {
		l.n[key]--
	}
	if ch, ok := l.freed[key]; ok {
		close(ch)
		delete(l.freed, key)
	}
}

// RelayArgs is the periodic job that enqueues deliveries written by a
// process without a queue (cairn import).
type RelayArgs struct{}

// Kind names the job in River's table.
func (RelayArgs) Kind() string { return "webhook_relay" }

// RelayWorker runs the relay.
type RelayWorker struct {
	river.WorkerDefaults[RelayArgs]
	DB *sqldb.DB
}

// Work enqueues waiting deliveries, a thousand at a time.
func (w *RelayWorker) Work(ctx context.Context, _ *river.Job[RelayArgs]) error {
	for {
		n, err := w.DB.RelayDeliveries(ctx, 1000)
		if err != nil || n < 1000 {
			return err
		}
	}
}

// RelayEvery schedules the relay.
func RelayEvery(d time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(d),
		func() (river.JobArgs, *river.InsertOpts) { return RelayArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
