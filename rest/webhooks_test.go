package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/jobs"
	"github.com/cairn-fit/cairn/rest"
	"github.com/cairn-fit/cairn/secrets"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
	"github.com/cairn-fit/cairn/telemetry"
	"github.com/cairn-fit/cairn/webhooks"
	"github.com/riverqueue/river"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// newWebhookEnv is the API with events and webhooks, delivering through
// a running queue.
func newWebhookEnv(t *testing.T, db *dbtest.DB) *env {
	t.Helper()
	line, _ := secrets.NewKey("test")
	keys, err := secrets.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	svc := webhooks.New(db.DB, keys, webhooks.Config{AllowPrivate: true, PollInterval: 20 * time.Millisecond,
		RetrySchedule: []time.Duration{50 * time.Millisecond}}, nil, nil)
	workers := river.NewWorkers()
	svc.Register(workers)
	q, err := jobs.New(db.DB, db.Pool, jobs.Config{Workers: workers, PollInterval: 20 * time.Millisecond,
		Queues: map[string]river.QueueConfig{webhooks.QueueName: svc.Queue()}})
	if err != nil {
		t.Fatal(err)
	}
	svc.Attach(q)
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	var log syncBuffer
	d := deps(t, db, telemetry.NewLogger(&log, 0))
	d.Events, d.Webhooks = db, svc
	s, err := rest.New(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, srv: srv, log: &log, api: s}
}

// hook is a receiving endpoint that hands over what it gets.
type hook struct {
	*httptest.Server
	got    chan *http.Request
	bodies chan []byte
	status int
}

func newHook(t *testing.T) *hook {
	h := &hook{got: make(chan *http.Request, 100), bodies: make(chan []byte, 100), status: 200}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(h.status)
		h.got <- r
		h.bodies <- b
	}))
	t.Cleanup(h.Close)
	return h
}

// next returns the next request's headers and body.
func (h *hook) next(t *testing.T) (http.Header, []byte) {
	t.Helper()
	select {
	case r := <-h.got:
		return r.Header, <-h.bodies
	case <-time.After(30 * time.Second):
		t.Fatal("no delivery within 30s")
		return nil, nil
	}
}

type webhookOut struct {
	ID                      string     `json:"id"`
	UserID                  string     `json:"user_id"`
	URL                     string     `json:"url"`
	EventTypes              []string   `json:"event_types"`
	Enabled                 bool       `json:"enabled"`
	DisabledReason          string     `json:"disabled_reason"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at"`
	Secret                  *string    `json:"secret"`
}

func TestWebhooksAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newWebhookEnv(t, db)
		ada := e.user("ada@example.com")
		manage := e.token(ada, time.Hour, cairn.ScopeWebhooksManage, cairn.ScopeActivityWrite, cairn.ScopeActivityRead)
		h := newHook(t)

		var created webhookOut
		resp := e.doJSON("POST", "/v1/webhooks", manage, fmt.Sprintf(`{"url": %q}`, h.URL), &created)
		if resp.StatusCode != 201 || created.Secret == nil || !strings.HasPrefix(*created.Secret, "whsec_") ||
			!created.Enabled || created.UserID != ada.ID || len(created.EventTypes) != 0 ||
			resp.Header.Get("Location") != "/v1/webhooks/"+created.ID {
			t.Fatalf("create: %d %+v %v", resp.StatusCode, created, resp.Header)
		}
		secret := *created.Secret
		// The secret is shown once.
		var got webhookOut
		if resp, body := e.raw("GET", "/v1/webhooks/"+created.ID, manage, "", nil); resp.StatusCode != 200 ||
			strings.Contains(string(body), "secret\"") || json.Unmarshal(body, &got) != nil || got.URL != h.URL {
			t.Fatalf("get: %d %s", resp.StatusCode, body)
		}
		var list struct {
			Data  []webhookOut `json:"data"`
			Total int          `json:"total"`
		}
		if e.do("GET", "/v1/webhooks", manage, &list); list.Total != 1 || list.Data[0].ID != created.ID || list.Data[0].Secret != nil {
			t.Fatalf("list %+v", list)
		}

		// Activities created, changed and deleted over the API are
		// delivered, signed.
		var act struct{ ID string }
		if resp := e.doJSON("POST", "/v1/activities", manage, `{"type": "run", "name": "Lunch run", "start_time": "2026-05-01T12:00:00Z"}`, &act); resp.StatusCode != 201 {
			t.Fatalf("create activity: %d", resp.StatusCode)
		}
		e.doJSON("PATCH", "/v1/activities/"+act.ID, manage, `{"name": "Long lunch run"}`, nil)
		e.do("DELETE", "/v1/activities/"+act.ID, manage, nil)
		wh, _ := standardwebhooks.NewWebhook(secret)
		types := map[string]bool{}
		for range 3 { // in any order: delivery order is not promised
			header, body := h.next(t)
			if err := wh.Verify(body, header); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			var ev struct {
				Type string
				Data struct {
					ActivityID string `json:"activity_id"`
				}
			}
			if json.Unmarshal(body, &ev) != nil || ev.Data.ActivityID != act.ID {
				t.Errorf("got %s", body)
			}
			types[ev.Type] = true
		}
		if !types["activity.created"] || !types["activity.updated"] || !types["activity.deleted"] {
			t.Errorf("event types delivered: %v", types)
		}

		// Polling clients list the same events.
		var events struct {
			Data []struct {
				ID, Type string
				Data     map[string]any
			}
			Total int
		}
		if e.do("GET", "/v1/events", manage, &events); events.Total != 3 || events.Data[0].Type != "activity.deleted" {
			t.Fatalf("events %+v", events)
		}
		if e.do("GET", "/v1/events?type=activity.updated", manage, &events); events.Total != 1 || events.Data[0].Data["activity_id"] != act.ID {
			t.Fatalf("events of a type %+v", events)
		}
		health := e.token(ada, time.Hour, cairn.ScopeHealthRead)
		if e.do("GET", "/v1/events", health, &events); events.Total != 0 {
			t.Errorf("health:read sees activity events: %+v", events)
		}
		e.wantError("GET", "/v1/events?type=activity.created", health, 403, cairn.EFORBIDDEN)
		e.wantError("GET", "/v1/events?type=nothing", manage, 400, cairn.EVALIDATION)
		if e.do("GET", "/v1/events?since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), manage, &events); events.Total != 0 {
			t.Errorf("events since an hour from now: %+v", events)
		}

		// Deliveries, each with its attempts.
		var deliveries struct {
			Data []struct {
				ID, Status string
				EventType  string `json:"event_type"`
				Attempts   []struct {
					StatusCode int     `json:"status_code"`
					LatencyMS  float64 `json:"latency_ms"`
				}
			}
			Total int
		}
		deadline := time.Now().Add(10 * time.Second)
		for e.do("GET", "/v1/webhooks/"+created.ID+"/deliveries?status=delivered", manage, &deliveries); deliveries.Total != 3; e.do("GET", "/v1/webhooks/"+created.ID+"/deliveries?status=delivered", manage, &deliveries) {
			if time.Now().After(deadline) {
				t.Fatalf("delivered: %+v", deliveries)
			}
			time.Sleep(20 * time.Millisecond)
		}
		d := deliveries.Data[0]
		if len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 200 {
			t.Errorf("delivery %+v", d)
		}
		e.wantError("GET", "/v1/webhooks/"+created.ID+"/deliveries?status=lost", manage, 400, cairn.EVALIDATION)
		var replayed struct{ ID, Status string }
		if resp := e.doJSON("POST", "/v1/webhooks/"+created.ID+"/deliveries/"+d.ID+"/replay", manage, "", &replayed); resp.StatusCode != 202 ||
			replayed.ID != d.ID || replayed.Status != "pending" {
			t.Fatalf("replay: %d %+v", resp.StatusCode, replayed)
		}
		if header, _ := h.next(t); header.Get("webhook-id") != d.ID {
			t.Errorf("replayed webhook-id %s", header.Get("webhook-id"))
		}
		var count struct{ Replayed int }
		if resp := e.doJSON("POST", "/v1/webhooks/"+created.ID+"/deliveries/replay", manage, `{"since": "2026-01-01T00:00:00Z"}`, &count); resp.StatusCode != 202 || count.Replayed != 0 {
			t.Errorf("replay dead: %d %+v", resp.StatusCode, count)
		}

		// Rotation: both secrets sign during the grace period.
		var rotated webhookOut
		if resp := e.doJSON("POST", "/v1/webhooks/"+created.ID+"/rotate-secret?grace_period_seconds=600", manage, "", &rotated); resp.StatusCode != 200 ||
			rotated.Secret == nil || *rotated.Secret == secret || rotated.PreviousSecretExpiresAt == nil {
			t.Fatalf("rotate: %d %+v", resp.StatusCode, rotated)
		}
		e.wantError("POST", "/v1/webhooks/"+created.ID+"/rotate-secret?grace_period_seconds=0", manage, 400, cairn.EVALIDATION)
		e.doJSON("POST", "/v1/activities", manage, `{"type": "ride", "start_time": "2026-05-02T12:00:00Z"}`, nil)
		header, body := h.next(t)
		for _, s := range []string{secret, *rotated.Secret} {
			w, _ := standardwebhooks.NewWebhook(s)
			if err := w.Verify(body, header); err != nil {
				t.Errorf("after rotation: %v", err)
			}
		}

		// Changes: a filter, disabling, If-Match.
		var patched webhookOut
		if resp := e.doJSON("PATCH", "/v1/webhooks/"+created.ID, manage, `{"event_types": ["activity.deleted"], "enabled": false}`, &patched); resp.StatusCode != 200 ||
			patched.Enabled || patched.DisabledReason == "" || len(patched.EventTypes) != 1 {
			t.Fatalf("patch: %d %+v", resp.StatusCode, patched)
		}
		if resp, _ := e.raw("PATCH", "/v1/webhooks/"+created.ID, manage, `{"enabled": true}`, map[string]string{"If-Match": `"stale"`}); resp.StatusCode != 412 {
			t.Errorf("stale If-Match: %d", resp.StatusCode)
		}
		e.wantError("PATCH", "/v1/webhooks/"+created.ID, manage, 400, cairn.EVALIDATION) // no body
		e.wantError("POST", "/v1/webhooks", manage, 400, cairn.EVALIDATION)              // no body
		if resp, body := e.raw("POST", "/v1/webhooks", manage, `{"url": "ftp://example.com/x"}`, nil); resp.StatusCode != 400 || !strings.Contains(string(body), `"url"`) {
			t.Errorf("bad URL: %d %s", resp.StatusCode, body)
		}
		if resp, _ := e.raw("POST", "/v1/webhooks", manage, `{"url": "https://example.com/x", "event_types": ["nope"]}`, nil); resp.StatusCode != 400 {
			t.Errorf("bad event type: %d", resp.StatusCode)
		}

		// Another user sees nothing of it; only admins read the stats.
		bob := e.user("bob@example.com")
		bobs := e.token(bob, time.Hour, cairn.ScopeWebhooksManage)
		e.wantError("GET", "/v1/webhooks/"+created.ID, bobs, 404, cairn.ENOTFOUND)
		e.wantError("GET", "/v1/webhooks/"+created.ID+"/deliveries", bobs, 404, cairn.ENOTFOUND)
		e.wantError("POST", "/v1/webhooks/"+created.ID+"/rotate-secret", bobs, 404, cairn.ENOTFOUND)
		e.wantError("DELETE", "/v1/webhooks/"+created.ID, bobs, 404, cairn.ENOTFOUND)
		e.wantError("GET", "/v1/admin/webhooks/stats", e.token(bob, time.Hour, cairn.ScopeAdmin), 403, cairn.EFORBIDDEN)
		admin := e.user("root@example.com", "admin")
		var stats struct {
			EndpointsEnabled  int            `json:"endpoints_enabled"`
			EndpointsDisabled int            `json:"endpoints_disabled"`
			Deliveries        map[string]int `json:"deliveries"`
		}
		rootTok := e.token(admin, time.Hour, cairn.ScopeAdmin)
		deadline = time.Now().Add(10 * time.Second)
		for e.do("GET", "/v1/admin/webhooks/stats", rootTok, &stats); stats.Deliveries["pending"] > 0 && time.Now().Before(deadline); e.do("GET", "/v1/admin/webhooks/stats", rootTok, &stats) {
			time.Sleep(20 * time.Millisecond) // the last outcome is recorded just after its request
		}
		if stats.EndpointsDisabled != 1 || stats.EndpointsEnabled != 0 || stats.Deliveries["delivered"] != 4 || stats.Deliveries["dead"] != 0 {
			t.Errorf("stats: %+v", stats)
		}

		if resp := e.do("DELETE", "/v1/webhooks/"+created.ID, manage, nil); resp.StatusCode != 204 {
			t.Fatalf("delete: %d", resp.StatusCode)
		}
		e.wantError("GET", "/v1/webhooks/"+created.ID, manage, 404, cairn.ENOTFOUND)
	})
}
