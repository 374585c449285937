package webhooks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/jobs"
	"github.com/cairn-fit/cairn/postgres"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/sqlite"
	"github.com/cairn-fit/cairn/webhooks"
	"github.com/riverqueue/river"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

// receiver is a real HTTP endpoint on 127.0.0.1 that records what it gets
// and answers with the status answer gives for the n-th request (from 1).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	notify chan received
	answer atomic.Pointer[func(n int) int]
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{notify: make(chan received, 10000)}
	r.setAnswer(func(int) int { return 200 })
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		got := received{header: req.Header.Clone(), body: body, at: time.Now()}
		r.mu.Lock()
		r.got = append(r.got, got)
		n := len(r.got)
		r.mu.Unlock()
		w.WriteHeader((*r.answer.Load())(n))
		r.notify <- got
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) setAnswer(f func(n int) int) { r.answer.Store(&f) }

// next waits for the next request.
func (r *receiver) next(t testing.TB) received {
	t.Helper()
	select {
	case g := <-r.notify:
		return g
	case <-time.After(30 * time.Second):
		t.Fatal("no request reached the receiver within 30s")
		return received{}
	}
}

// none checks that no request arrives for a while.
func (r *receiver) none(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case g := <-r.notify:
		t.Fatalf("unexpected request %s", g.body)
	case <-time.After(d):
	}
}

// env is a webhook service with a running queue on a fresh database.
type env struct {
	t      testing.TB
	db     *dbtest.DB
	svc    *webhooks.Service
	user   *cairn.User
	ctx    context.Context // acting as user
	offset atomic.Int64    // added to the service's clock
}

func newEnv(t testing.TB, db *dbtest.DB, cfg webhooks.Config) *env {
	t.Helper()
	line, err := secrets.NewKey("test")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secrets.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	e := &env{t: t, db: db}
	e.svc = webhooks.New(db.DB, keys, cfg, nil, nil)
	e.svc.Now = func() time.Time { return time.Now().Add(time.Duration(e.offset.Load())) }
	workers := river.NewWorkers()
	e.svc.Register(workers)
	q, err := jobs.New(db.DB, db.Pool, jobs.Config{Workers: workers, PollInterval: 20 * time.Millisecond,
		Queues: map[string]river.QueueConfig{webhooks.QueueName: e.svc.Queue()}})
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Attach(q)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	e.user = e.newUser("ada@example.com")
	e.ctx = cairn.WithActor(context.Background(), cairn.Actor{UserID: e.user.ID})
	return e
}

func (e *env) newUser(email string) *cairn.User {
	e.t.Helper()
	u := &cairn.User{Email: email, Name: email}
	if err := e.db.CreateUser(cairn.SystemContext(context.Background()), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// endpoint registers url for the env's user.
func (e *env) endpoint(url string, types ...cairn.EventType) *cairn.WebhookEndpoint {
	e.t.Helper()
	ep := &cairn.WebhookEndpoint{URL: url, EventTypes: types, Enabled: true}
	if err := e.svc.CreateEndpoint(e.ctx, ep); err != nil {
		e.t.Fatal(err)
	}
	return ep
}

// activity creates an activity through the store, with its event.
func (e *env) activity(name string) *cairn.Activity {
	e.t.Helper()
	a := &cairn.Activity{UserID: e.user.ID, Type: cairn.ActivityRun, Name: name, Source: cairn.SourceAPI,
		StartTime: time.Date(2026, 5, 1, 7, 0, 0, 0, time.UTC)}
	if err := e.db.CreateActivity(e.ctx, a, cairn.EventActivityCreated); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// deliveries lists the endpoint's deliveries with a status.
func (e *env) deliveries(ep *cairn.WebhookEndpoint, status string) []cairn.WebhookDelivery {
	e.t.Helper()
	p, err := e.svc.ListDeliveries(e.ctx, cairn.DeliveryFilter{EndpointID: ep.ID, Status: status})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Data
}

// eventually waits for cond.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not within 30s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func verify(t testing.TB, secret string, g received) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(g.body, g.header); err != nil {
		t.Fatalf("Standard Webhooks verifier: %v (headers %v)", err, g.header)
	}
}

// TestDeliverySigned: an activity's event reaches the endpoint, signed as
// the Standard Webhooks library verifies, with the documented envelope.
func TestDeliverySigned(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, webhooks.Config{AllowPrivate: true})
		r := newReceiver(t)
		ep := e.endpoint(r.URL)
		if len(ep.Secret) < 40 || ep.Secret[:6] != "whsec_" {
			t.Fatalf("secret %q", ep.Secret)
		}
		if key, err := webhooks.ParseSecret(ep.Secret); err != nil || len(key) != 32 {
			t.Fatalf("secret's key: %d bytes, %v", len(key), err)
		}
		a := e.activity("Morning run")
		g := r.next(t)
		verify(t, ep.Secret, g)
		if ct := g.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		var ev struct {
			ID        string    `json:"id"`
			Type      string    `json:"type"`
			Version   int       `json:"version"`
			UserID    string    `json:"user_id"`
			CreatedAt time.Time `json:"created_at"`
			Data      struct {
				ActivityID string `json:"activity_id"`
				Type       string `json:"activity_type"`
				Name       string `json:"name"`
				Href       string `json:"href"`
			} `json:"data"`
		}
		if err := json.Unmarshal(g.body, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type != "activity.created" || ev.Version != 1 || ev.UserID != e.user.ID || ev.Data.ActivityID != a.ID ||
			ev.Data.Type != "run" || ev.Data.Name != "Morning run" || ev.Data.Href != "/v1/activities/"+a.ID || ev.CreatedAt.IsZero() {
			t.Errorf("payload %s", g.body)
		}
		e.eventually("delivered", func() bool { return len(e.deliveries(ep, cairn.DeliveryDelivered)) == 1 })
		d := e.deliveries(ep, "")[0]
		if g.header.Get("webhook-id") != d.ID || d.EventID != ev.ID || d.EventType != cairn.EventActivityCreated ||
			d.AttemptCount != 1 || len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 200 || d.Attempts[0].Error != "" ||
			d.NextAttemptAt != nil {
			t.Errorf("delivery %+v, webhook-id %s", d, g.header.Get("webhook-id"))
		}
		// The event is listed for polling clients too.
		events, err := db.ListEvents(e.ctx, cairn.EventFilter{})
		if err != nil || len(events.Data) != 1 || events.Data[0].ID != ev.ID {
			t.Fatalf("events %+v, %v", events, err)
		}
		r.none(t, 200*time.Millisecond)
	})
}

// TestEventTypesFilter: an endpoint receives only the types it asked for.
func TestEventTypesFilter(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, "sqlite"), webhooks.Config{AllowPrivate: true})
	r := newReceiver(t)
	ep := e.endpoint(r.URL, cairn.EventActivityDeleted)
	a := e.activity("kept")
	if err := e.db.SoftDeleteActivity(e.ctx, a.ID, cairn.EventActivityDeleted); err != nil {
		t.Fatal(err)
	}
	g := r.next(t)
	verify(t, ep.Secret, g)
	var ev cairn.Event
	if err := json.Unmarshal(g.body, &ev); err != nil || ev.Type != cairn.EventActivityDeleted {
		t.Fatalf("%s, %v", g.body, err)
	}
	r.none(t, 300*time.Millisecond)
}

// TestRetryThenDelivered: failed attempts are retried on the schedule with
// the same webhook-id and body until one succeeds; every attempt is kept.
func TestRetryThenDelivered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		sched := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, time.Hour}
		e := newEnv(t, db, webhooks.Config{AllowPrivate: true, RetrySchedule: sched})
		r := newReceiver(t)
		r.setAnswer(func(n int) int {
			if n <= 2 {
				return 500
			}
			return 204
		})
		ep := e.endpoint(r.URL)
		e.activity("retried")
		first := r.next(t)
		e.eventually("failing run recorded", func() bool {
			got, _ := e.svc.FindEndpoint(e.ctx, ep.ID)
			return got.FailingSince != nil
		})
		second, third := r.next(t), r.next(t)
		for _, g := range []received{first, second, third} {
			verify(t, ep.Secret, g)
			if g.header.Get("webhook-id") != first.header.Get("webhook-id") || string(g.body) != string(first.body) {
				t.Errorf("attempts differ: %v %s vs %v %s", g.header, g.body, first.header, first.body)
			}
		}
		// The schedule's delays (±10% jitter) separate the attempts.
		if d := second.at.Sub(first.at); d < 90*time.Millisecond {
			t.Errorf("second attempt %s after the first, want ≥ 90ms", d)
		}
		if d := third.at.Sub(second.at); d < 180*time.Millisecond {
			t.Errorf("third attempt %s after the second, want ≥ 180ms", d)
		}
		e.eventually("delivered", func() bool { return len(e.deliveries(ep, cairn.DeliveryDelivered)) == 1 })
		d := e.deliveries(ep, "")[0]
		var codes []int
		for _, a := range d.Attempts {
			codes = append(codes, a.StatusCode)
			if a.LatencyMS <= 0 || a.At.IsZero() {
				t.Errorf("attempt %+v", a)
			}
		}
		if !slices.Equal(codes, []int{500, 500, 204}) || d.AttemptCount != 3 ||
			d.Attempts[0].Error != "the endpoint answered 500 Internal Server Error" {
			t.Errorf("attempts %+v", d.Attempts)
		}
		got, _ := e.svc.FindEndpoint(e.ctx, ep.ID)
		if got.FailingSince != nil || !got.Enabled {
			t.Errorf("endpoint after success: %+v", got)
		}
	})
}

// TestDeadLetterAndReplay: a delivery whose last attempt fails is dead,
// listed with every attempt; it can be replayed alone, or with every dead
// one since a time, with the same webhook-id.
func TestDeadLetterAndReplay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, webhooks.Config{AllowPrivate: true,
			RetrySchedule: []time.Duration{50 * time.Millisecond, 50 * time.Millisecond}})
		r := newReceiver(t)
		r.setAnswer(func(int) int { return 503 })
		ep := e.endpoint(r.URL)
		e.activity("first")
		for range 3 {
			r.next(t)
		}
		e.eventually("dead", func() bool { return len(e.deliveries(ep, cairn.DeliveryDead)) == 1 })
		dead := e.deliveries(ep, cairn.DeliveryDead)[0]
		if dead.AttemptCount != 3 || len(dead.Attempts) != 3 || dead.NextAttemptAt != nil {
			t.Fatalf("dead delivery %+v", dead)
		}
		for _, a := range dead.Attempts {
			if a.StatusCode != 503 || a.Error != "the endpoint answered 503 Service Unavailable" || a.LatencyMS <= 0 {
				t.Errorf("attempt %+v", a)
			}
		}
		r.none(t, 300*time.Millisecond) // no fourth attempt
		if got := e.deliveries(ep, cairn.DeliveryPending); len(got) != 0 {
			t.Fatalf("pending %+v", got)
		}

		// Replay one, now that the receiver works.
		r.setAnswer(func(int) int { return 200 })
		replayed, err := e.svc.Replay(e.ctx, ep.ID, dead.ID)
		if err != nil || replayed.Status != cairn.DeliveryPending {
			t.Fatalf("replay: %+v, %v", replayed, err)
		}
		g := r.next(t)
		verify(t, ep.Secret, g)
		if g.header.Get("webhook-id") != dead.ID {
			t.Errorf("replay webhook-id %s, want %s", g.header.Get("webhook-id"), dead.ID)
		}
		e.eventually("replay delivered", func() bool { return len(e.deliveries(ep, cairn.DeliveryDelivered)) == 1 })
		if _, err := e.svc.Replay(e.ctx, ep.ID, sqldb.NewID()); cairn.ErrorCode(err) != cairn.ENOTFOUND {
			t.Errorf("replay of an unknown delivery: %v", err)
		}

		// Two more die; replaying since a time sends both again.
		r.setAnswer(func(int) int { return 500 })
		since := time.Now().Add(-time.Second)
		e.activity("second")
		e.activity("third")
		for range 6 {
			r.next(t)
		}
		e.eventually("two dead", func() bool { return len(e.deliveries(ep, cairn.DeliveryDead)) == 2 })
		r.setAnswer(func(int) int { return 200 })
		n, err := e.svc.ReplayDead(e.ctx, ep.ID, since)
		if err != nil || n != 2 {
			t.Fatalf("replay since: %d, %v", n, err)
		}
		ids := map[string]bool{r.next(t).header.Get("webhook-id"): true, r.next(t).header.Get("webhook-id"): true}
		e.eventually("all delivered", func() bool { return len(e.deliveries(ep, cairn.DeliveryDelivered)) == 3 })
		for _, d := range e.deliveries(ep, cairn.DeliveryDelivered) {
			if d.Attempts[len(d.Attempts)-1].StatusCode != 200 {
				t.Errorf("delivery %+v", d)
			}
			delete(ids, d.ID)
		}
		if len(ids) != 0 {
			t.Errorf("replayed ids that are not deliveries: %v", ids)
		}
		if n, err := e.svc.ReplayDead(e.ctx, ep.ID, since); err != nil || n != 0 {
			t.Errorf("nothing left to replay: %d, %v", n, err)
		}
	})
}

// TestGoneDisables: 410 Gone disables the endpoint at once, with an event
// and an audit entry; it gets nothing more until enabled again.
func TestGoneDisables(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, webhooks.Config{AllowPrivate: true})
		r := newReceiver(t)
		r.setAnswer(func(int) int { return 410 })
		ep := e.endpoint(r.URL, cairn.EventActivityCreated)
		e.activity("gone")
		r.next(t)
		e.eventually("disabled", func() bool {
			got, _ := e.svc.FindEndpoint(e.ctx, ep.ID)
			return !got.Enabled
		})
		got, _ := e.svc.FindEndpoint(e.ctx, ep.ID)
		if got.DisabledReason != "the endpoint answered 410 Gone" {
			t.Errorf("reason %q", got.DisabledReason)
		}
		if dead := e.deliveries(ep, cairn.DeliveryDead); len(dead) != 1 || dead[0].AttemptCount != 1 {
			t.Errorf("dead %+v", dead)
		}
		checkDisabledRecorded(t, e, ep)
		e.activity("not sent")
		r.none(t, 300*time.Millisecond)
		if ds := e.deliveries(ep, ""); len(ds) != 1 {
			t.Errorf("a disabled endpoint got a delivery: %+v", ds)
		}
		if _, err := e.svc.Replay(e.ctx, ep.ID, e.deliveries(ep, "")[0].ID); cairn.ErrorCode(err) != cairn.ECONFLICT {
			t.Errorf("replay to a disabled endpoint: %v", err)
		}
		// Enabled again, it receives new events and replays.
		on := true
		if _, err := e.svc.UpdateEndpoint(e.ctx, ep.ID, cairn.WebhookEndpointPatch{Enabled: &on}, nil); err != nil {
			t.Fatal(err)
		}
		r.setAnswer(func(int) int { return 200 })
		e.activity("sent")
		verify(t, ep.Secret, r.next(t))
	})
}

// checkDisabledRecorded finds the webhook.disabled event and the audit
// entry of the endpoint's disabling.
func checkDisabledRecorded(t *testing.T, e *env, ep *cairn.WebhookEndpoint) {
	t.Helper()
	events, err := e.db.ListEvents(e.ctx, cairn.EventFilter{Types: []cairn.EventType{cairn.EventWebhookDisabled}})
	if err != nil || len(events.Data) != 1 {
		t.Fatalf("webhook.disabled events: %+v, %v", events, err)
	}
	var data struct {
		WebhookID string `json:"webhook_id"`
		Reason    string `json:"reason"`
	}
	if err := json.Unmarshal(events.Data[0].Data, &data); err != nil || data.WebhookID != ep.ID || data.Reason == "" {
		t.Errorf("event data %s", events.Data[0].Data)
	}
	var n int
	if err := e.db.Reader().QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'webhook.disable'
		AND user_id = $1 AND actor_id = 'system'`, e.user.ID).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit entries: %d, %v", n, err)
	}
}

// TestFailingForDaysDisables: an endpoint failing for DisableAfter is
// disabled on its next failed attempt.
func TestFailingForDaysDisables(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, webhooks.Config{AllowPrivate: true,
			RetrySchedule: []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}})
		r := newReceiver(t)
		r.setAnswer(func(int) int { return 500 })
		ep := e.endpoint(r.URL)
		e.activity("failing")
		r.next(t)
		e.eventually("failing run recorded", func() bool {
			got, _ := e.svc.FindEndpoint(e.ctx, ep.ID)
			return got.FailingSince != nil
		})
		got, _ := e.svc.FindEndpoint(e.ctx, ep.ID)
		if !got.Enabled {
			t.Fatal("disabled after one failure")
		}
		e.offset.Store(int64(webhooks.DefaultDisableAfter + time.Minute)) // five days later
		r.next(t)
		e.eventually("disabled", func() bool {
			got, _ := e.svc.FindEndpoint(e.ctx, ep.ID)
			return !got.Enabled
		})
		got, _ = e.svc.FindEndpoint(e.ctx, ep.ID)
		if got.DisabledReason == "" {
			t.Error("no reason")
		}
		checkDisabledRecorded(t, e, ep)
		e.eventually("dead", func() bool { return len(e.deliveries(ep, cairn.DeliveryDead)) == 1 })
		r.none(t, 300*time.Millisecond)
	})
}

// TestRotation: after a rotation both secrets sign (both signatures in the
// header) until the grace period ends; then only the new one.
func TestRotation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, webhooks.Config{AllowPrivate: true})
		r := newReceiver(t)
		ep := e.endpoint(r.URL)
		old := ep.Secret
		rotated, err := e.svc.RotateSecret(e.ctx, ep.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if rotated.Secret == old || rotated.PreviousSecretExpiresAt == nil ||
			rotated.PreviousSecretExpiresAt.Sub(time.Now()) < 59*time.Minute {
			t.Fatalf("rotated %+v", rotated)
		}
		e.activity("during grace")
		g := r.next(t)
		verify(t, old, g)
		verify(t, rotated.Secret, g)
		if sigs := g.header.Get("webhook-signature"); len(strings.Fields(sigs)) != 2 {
			t.Errorf("signatures %q", sigs)
		}
		e.offset.Store(int64(time.Hour + time.Minute)) // the grace period is over
		e.activity("after grace")
		g = r.next(t)
		// The service's clock is an hour ahead: the timestamp is too.
		wh, _ := standardwebhooks.NewWebhook(rotated.Secret)
		if err := wh.VerifyIgnoringTimestamp(g.body, g.header); err != nil {
			t.Errorf("new secret after the grace period: %v", err)
		}
		wh, _ = standardwebhooks.NewWebhook(old)
		if err := wh.VerifyIgnoringTimestamp(g.body, g.header); err == nil {
			t.Error("the old secret still signs after the grace period")
		}
		if _, err := e.svc.RotateSecret(e.ctx, ep.ID, 8*24*time.Hour); cairn.ErrorCode(err) != cairn.EVALIDATION {
			t.Errorf("grace beyond 7 days: %v", err)
		}
	})
}

// TestPrivateTargetsRefused: without AllowPrivate, loopback URLs are
// refused when saved, and a name that resolves to one when delivered to
// (as after DNS rebinding) is refused at connection time.
func TestPrivateTargetsRefused(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, "sqlite"), webhooks.Config{RetrySchedule: []time.Duration{time.Hour}})
	for _, u := range []string{"http://127.0.0.1:9/x", "http://localhost/x", "https://[::1]/", "http://169.254.169.254/latest",
		"http://10.1.2.3/", "http://192.168.0.10:8080/", "http://[fe80::1]/", "http://100.64.0.1/", "http://0.0.0.0/"} {
		err := e.svc.CreateEndpoint(e.ctx, &cairn.WebhookEndpoint{URL: u, Enabled: true})
		if cairn.ErrorCode(err) != cairn.EVALIDATION || cairn.ErrorFields(err)["url"] == "" {
			t.Errorf("%s: %v", u, err)
		}
	}
	// Saved while its name was public (written past the service's check),
	// then delivered to a loopback address: the dialer refuses it.
	r := newReceiver(t)
	ep := &cairn.WebhookEndpoint{ID: sqldb.NewID(), UserID: e.user.ID, URL: r.URL, Enabled: true}
	line, _ := secrets.NewKey("other")
	keys, _ := secrets.Parse(line)
	sealed, _ := keys.Seal([]byte("0123456789abcdef01234567"), secrets.AD("webhook_endpoints", "secret_enc", ep.ID))
	if err := e.db.CreateWebhookEndpoint(e.ctx, ep, sealed); err != nil {
		t.Fatal(err)
	}
	e.svc.Keys = keys
	e.activity("refused")
	e.eventually("attempt recorded", func() bool {
		ds := e.deliveries(ep, "")
		return len(ds) == 1 && ds[0].AttemptCount == 1
	})
	d := e.deliveries(ep, "")[0]
	if d.Attempts[0].StatusCode != 0 || d.Attempts[0].Error != "not sent: the URL resolves to a private, loopback or link-local address" {
		t.Errorf("attempt %+v", d.Attempts[0])
	}
	r.none(t, 200*time.Millisecond)
}

// TestConcurrencyPerEndpoint: no more than EndpointConcurrency deliveries
// to one endpoint are in flight at once; all of them arrive.
func TestConcurrencyPerEndpoint(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, "sqlite"), webhooks.Config{AllowPrivate: true, EndpointConcurrency: 2, Workers: 10})
	var inFlight, most atomic.Int32
	var count atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
		inFlight.Add(-1)
		count.Add(1)
	}))
	t.Cleanup(srv.Close)
	ep := e.endpoint(srv.URL)
	for i := range 12 {
		e.activity("run " + string(rune('a'+i)))
	}
	e.eventually("all delivered", func() bool { return len(e.deliveries(ep, cairn.DeliveryDelivered)) == 12 })
	if m := most.Load(); m > 2 || m < 1 {
		t.Errorf("at most %d in flight, want 2", m)
	}
	if c := count.Load(); c != 12 {
		t.Errorf("%d requests for 12 deliveries", c)
	}
}

// riverJobs counts the delivery jobs in River's table.
func riverJobs(t testing.TB, db *dbtest.DB) int {
	t.Helper()
	var n int
	if err := db.Reader().QueryRow("SELECT count(*) FROM river_job WHERE kind = 'webhook_deliver'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOutboxTransactional: an event, its deliveries and their jobs commit
// with the change or not at all, one job per delivery.
func TestOutboxTransactional(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, webhooks.Config{AllowPrivate: true})
		r1, r2 := newReceiver(t), newReceiver(t)
		e.endpoint(r1.URL)
		e.endpoint(r2.URL, cairn.EventDeviceSynced) // does not want activities
		e.endpoint(r2.URL, cairn.EventActivityCreated, cairn.EventActivityUpdated)
		other := e.newUser("bob@example.com")
		r3 := newReceiver(t)
		bob := cairn.WithActor(context.Background(), cairn.Actor{UserID: other.ID})
		if err := e.svc.CreateEndpoint(bob, &cairn.WebhookEndpoint{URL: r3.URL, Enabled: true}); err != nil {
			t.Fatal(err)
		}

		rollback := cairn.Errorf(cairn.ECONFLICT, "rolled back")
		err := db.InTx(e.ctx, func(tx *sqldb.Tx) error {
			a := &cairn.Activity{UserID: e.user.ID, Type: cairn.ActivityRide, Source: cairn.SourceAPI, StartTime: time.Now()}
			if err := tx.CreateActivity(e.ctx, a); err != nil {
				return err
			}
			ev := cairn.ActivityEvent(cairn.EventActivityCreated, a)
			if err := tx.AppendEvent(e.ctx, &ev); err != nil {
				return err
			}
			return rollback
		})
		if err != rollback {
			t.Fatal(err)
		}
		var events, deliveries int
		_ = db.Reader().QueryRow("SELECT count(*) FROM events").Scan(&events)
		_ = db.Reader().QueryRow("SELECT count(*) FROM webhook_deliveries").Scan(&deliveries)
		if events != 0 || deliveries != 0 || riverJobs(t, db) != 0 {
			t.Fatalf("after rollback: %d events, %d deliveries, %d jobs", events, deliveries, riverJobs(t, db))
		}

		e.activity("committed")
		_ = db.Reader().QueryRow("SELECT count(*) FROM events").Scan(&events)
		_ = db.Reader().QueryRow("SELECT count(*) FROM webhook_deliveries").Scan(&deliveries)
		if events != 1 || deliveries != 2 || riverJobs(t, db) != 2 {
			t.Fatalf("after commit: %d events, %d deliveries, %d jobs; want 1, 2, 2", events, deliveries, riverJobs(t, db))
		}
		r1.next(t)
		r2.next(t)
		r1.none(t, 200*time.Millisecond)
		r2.none(t, 0)
		r3.none(t, 0) // another user's endpoint gets nothing
	})
}

// TestRelay: deliveries written by a process without a queue are enqueued
// by the relay, once.
func TestRelay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, webhooks.Config{AllowPrivate: true})
		r := newReceiver(t)
		ep := e.endpoint(r.URL)
		// Another handle on the same database, without a queue, like
		// cairn import.
		plain := reopen(t, db)
		a := &cairn.Activity{UserID: e.user.ID, Type: cairn.ActivityRun, Source: cairn.SourceFile, StartTime: time.Now()}
		if err := plain.CreateActivity(e.ctx, a, cairn.EventActivityCreated); err != nil {
			t.Fatal(err)
		}
		if riverJobs(t, db) != 0 {
			t.Fatal("a job without a queue")
		}
		r.none(t, 200*time.Millisecond)
		n, err := db.RelayDeliveries(context.Background(), 1000)
		if err != nil || n != 1 {
			t.Fatalf("relay: %d, %v", n, err)
		}
		verify(t, ep.Secret, r.next(t))
		if n, err := db.RelayDeliveries(context.Background(), 1000); err != nil || n != 0 {
			t.Fatalf("second relay: %d, %v", n, err)
		}
		r.none(t, 200*time.Millisecond)
	})
}

// reopen opens a second handle on db's database.
func reopen(t testing.TB, db *dbtest.DB) *sqldb.DB {
	t.Helper()
	var plain *sqldb.DB
	var err error
	if db.Dialect() == "postgres" {
		var pool interface{ Close() }
		plain, pool, err = postgresOpen(db.URL)
		if err == nil {
			t.Cleanup(pool.Close)
		}
	} else {
		plain, err = sqlite.Open(db.URL)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	return plain
}

func postgresOpen(url string) (*sqldb.DB, interface{ Close() }, error) {
	db, pool, err := postgres.Open(context.Background(), url)
	return db, pool, err
}

// TestRetention: the retention job deletes a delivered delivery and its
// event once past retention, keeps an event whose delivery is still
// pending (with that delivery), and deletes nothing recent.
func TestRetention(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, webhooks.Config{AllowPrivate: true, RetrySchedule: []time.Duration{time.Hour},
			EventRetention: 30 * 24 * time.Hour, DeliveryRetention: 30 * 24 * time.Hour})
		ok, failing := newReceiver(t), newReceiver(t)
		failing.setAnswer(func(int) int { return 503 })
		delivered := e.endpoint(ok.URL, cairn.EventActivityCreated)
		pending := e.endpoint(failing.URL, cairn.EventActivityDeleted)
		a := e.activity("run")
		if err := e.db.SoftDeleteActivity(e.ctx, a.ID, cairn.EventActivityDeleted); err != nil {
			t.Fatal(err)
		}
		ok.next(t)
		failing.next(t)
		e.eventually("one delivered, one waiting for its retry", func() bool {
			p := e.deliveries(pending, cairn.DeliveryPending)
			return len(e.deliveries(delivered, cairn.DeliveryDelivered)) == 1 && len(p) == 1 && p[0].AttemptCount == 1
		})
		job := e.svc.Retention()
		if events, deliveries, err := job.Purge(context.Background()); err != nil || events+deliveries != 0 {
			t.Fatalf("recent rows purged: %d events, %d deliveries, %v", events, deliveries, err)
		}
		e.offset.Store(int64(31 * 24 * time.Hour))
		events, deliveries, err := job.Purge(context.Background())
		if err != nil || events != 1 || deliveries != 1 {
			t.Fatalf("purged %d events and %d deliveries (%v), want 1 and 1", events, deliveries, err)
		}
		left, err := db.ListEvents(e.ctx, cairn.EventFilter{})
		if err != nil || len(left.Data) != 1 || left.Data[0].Type != cairn.EventActivityDeleted {
			t.Errorf("events left: %+v %v", left, err)
		}
		if got := e.deliveries(delivered, ""); len(got) != 0 {
			t.Errorf("delivered deliveries left: %+v", got)
		}
		if got := e.deliveries(pending, cairn.DeliveryPending); len(got) != 1 {
			t.Errorf("the pending delivery: %+v", got)
		}
	})
}

// TestClientEndpoint: an OAuth client's endpoint, created through the
// service with a client-credentials actor, receives the event of a user
// who consented to the client, signed with its own secret and carrying
// the user's id; 410 Gone disables it with an audit entry naming the
// client (there is no user to send webhook.disabled to).
func TestClientEndpoint(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, webhooks.Config{AllowPrivate: true})
		sys := cairn.SystemContext(context.Background())
		c := &cairn.OAuthClient{Name: "Partner", GrantTypes: []string{cairn.GrantClientCredentials},
			Scopes: []cairn.Scope{cairn.ScopeWebhooksManage}, SecretHash: []byte("x")}
		if err := db.CreateOAuthClient(sys, c); err != nil {
			t.Fatal(err)
		}
		client := cairn.WithActor(context.Background(), cairn.Actor{ClientID: c.ID, Scopes: []cairn.Scope{cairn.ScopeWebhooksManage}})
		r := newReceiver(t)
		ep := &cairn.WebhookEndpoint{URL: r.URL, Enabled: true, UserID: e.user.ID} // the owner comes from the actor
		if err := e.svc.CreateEndpoint(client, ep); err != nil {
			t.Fatal(err)
		}
		if ep.ClientID != c.ID || ep.UserID != "" {
			t.Fatalf("endpoint %+v", ep)
		}
		if err := db.RecordOAuthConsent(sys, e.user.ID, c.ID, []cairn.Scope{cairn.ScopeActivityRead}, time.Now()); err != nil {
			t.Fatal(err)
		}
		a := e.activity("shared")
		g := r.next(t)
		verify(t, ep.Secret, g)
		var ev cairn.Event
		var data cairn.ActivityEventData
		if json.Unmarshal(g.body, &ev) != nil || json.Unmarshal(ev.Data, &data) != nil || ev.UserID != e.user.ID ||
			data.ActivityID != a.ID {
			t.Errorf("delivered %s", g.body)
		}

		r.setAnswer(func(int) int { return 410 })
		e.activity("gone")
		r.next(t)
		e.eventually("disabled", func() bool {
			got, err := e.svc.FindEndpoint(client, ep.ID)
			return err == nil && !got.Enabled
		})
		var n int
		if err := db.Reader().QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'webhook.disable'
			AND user_id IS NULL AND CAST(details AS TEXT) LIKE $1`, "%"+c.ID+"%").Scan(&n); err != nil || n != 1 {
			t.Errorf("audit entries naming the client: %d, %v", n, err)
		}
		if events, err := db.ListEvents(e.ctx, cairn.EventFilter{Types: []cairn.EventType{cairn.EventWebhookDisabled}}); err != nil ||
			len(events.Data) != 0 {
			t.Errorf("a client's endpoint told the user it was disabled: %+v %v", events, err)
		}
	})
}
