package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// stravaCallbackTimeout is how long Strava waits for a callback to
// answer, both the validation GET and event POSTs.
const stravaCallbackTimeout = 2 * time.Second

// subscription is an application's Strava push subscription (one each).
type subscription struct {
	ID          int64
	ClientID    string
	CallbackURL string
	Created     time.Time
}

// StravaEvent is the body of a Strava webhook POST.
type StravaEvent struct {
	ObjectType     string            `json:"object_type"` // "activity" or "athlete"
	ObjectID       int64             `json:"object_id"`
	AspectType     string            `json:"aspect_type"` // "create", "update" or "delete"
	Updates        map[string]string `json:"updates"`
	OwnerID        int64             `json:"owner_id"`
	SubscriptionID int64             `json:"subscription_id"`
	EventTime      int64             `json:"event_time"`
}

// appFromForm authenticates push-subscription calls, made with the
// application's own credentials rather than an athlete's token.
func (s *Sim) appFromForm(w http.ResponseWriter, r *http.Request) *App {
	app := s.stravaApp(r.FormValue("client_id"))
	if app == nil || app.Secret != r.FormValue("client_secret") {
		stravaError(w, http.StatusUnauthorized, "Authorization Error", "Application", "client_id", "invalid")
		return nil
	}
	return app
}

// createSubscription validates the callback as Strava does, with a GET
// carrying hub.challenge that must be echoed back within two seconds.
func (s *Sim) createSubscription(w http.ResponseWriter, r *http.Request) {
	app := s.appFromForm(w, r)
	if app == nil {
		return
	}
	callback, verify := r.FormValue("callback_url"), r.FormValue("verify_token")
	if callback == "" || verify == "" {
		stravaError(w, http.StatusBadRequest, "Bad Request", "PushSubscription", "callback_url", "invalid")
		return
	}
	s.mu.Lock()
	exists, challenge := s.subs[app.ClientID] != nil, s.secret()
	s.mu.Unlock()
	if exists {
		stravaError(w, http.StatusBadRequest, "Bad Request", "PushSubscription", "", "already exists")
		return
	}
	if !s.validateCallback(r.Context(), callback, challenge, verify) {
		stravaError(w, http.StatusBadRequest, "Bad Request", "PushSubscription", "callback url", "GET to callback URL does not return 200")
		return
	}
	s.mu.Lock()
	s.nextSub++
	sub := &subscription{ID: s.nextSub, ClientID: app.ClientID, CallbackURL: callback, Created: s.now()}
	s.subs[app.ClientID] = sub
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]int64{"id": sub.ID})
}

func (s *Sim) validateCallback(ctx context.Context, callback, challenge, verify string) bool {
	u, err := url.Parse(callback)
	if err != nil || !u.IsAbs() {
		return false
	}
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.challenge", challenge)
	q.Set("hub.verify_token", verify)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, stravaCallbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return false
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var echo map[string]string
	err = json.NewDecoder(resp.Body).Decode(&echo)
	return resp.StatusCode == http.StatusOK && err == nil && echo["hub.challenge"] == challenge
}

func (s *Sim) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	app := s.appFromForm(w, r)
	if app == nil {
		return
	}
	out := []map[string]any{}
	s.mu.Lock()
	if sub := s.subs[app.ClientID]; sub != nil {
		created := sub.Created.UTC().Format(stravaTime)
		appID, _ := strconv.ParseInt(app.ClientID, 10, 64)
		out = append(out, map[string]any{"id": sub.ID, "resource_state": 2, "application_id": appID,
			"callback_url": sub.CallbackURL, "created_at": created, "updated_at": created})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) deleteSubscription(w http.ResponseWriter, r *http.Request) {
	app := s.appFromForm(w, r)
	if app == nil {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	sub := s.subs[app.ClientID]
	found := sub != nil && sub.ID == id
	if found {
		delete(s.subs, app.ClientID)
	}
	s.mu.Unlock()
	if !found {
		stravaError(w, http.StatusNotFound, "Record Not Found", "PushSubscription", "id", "not found")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// PushStravaEvent queues ev for every application with a push
// subscription that the owner has authorized; Deliver sends it.
func (s *Sim) PushStravaEvent(ev StravaEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pushLocked(ev, false)
}

// pushLocked queues ev for every subscribed application the owner has
// authorized (with activity:read_all when private says the event tells
// of a privacy change). Callers hold s.mu.
func (s *Sim) pushLocked(ev StravaEvent, private bool) {
	for clientID := range s.subs {
		if s.authorized(clientID, ev.OwnerID, private) {
			s.enqueueStravaEvent(clientID, ev)
		}
	}
}

// authorized tells whether the athlete granted the application access
// that is not revoked (including activity:read_all when readAll). Callers
// hold s.mu.
func (s *Sim) authorized(clientID string, athleteID int64, readAll bool) bool {
	for _, t := range s.tokens.byAccess {
		if t.provider == ProviderStrava && t.clientID == clientID && t.athlete.ID == athleteID && !t.revoked &&
			(!readAll || hasScope(t, "activity:read_all")) {
			return true
		}
	}
	return false
}

// enqueueStravaEvent stamps ev for the application's subscription, if
// any, and queues it. Callers hold s.mu.
func (s *Sim) enqueueStravaEvent(clientID string, ev StravaEvent) {
	sub := s.subs[clientID]
	if sub == nil {
		return
	}
	ev.SubscriptionID, ev.EventTime = sub.ID, s.now().Unix()
	if ev.Updates == nil {
		ev.Updates = map[string]string{}
	}
	body, _ := json.Marshal(ev) // plain fields: cannot fail
	s.outbox = append(s.outbox, &delivery{kind: "strava_event", url: sub.CallbackURL, body: body,
		max: 3, timeout: stravaCallbackTimeout})
}

// delivery is one queued callback POST.
type delivery struct {
	kind, url string
	body      []byte
	header    http.Header
	attempts  int
	max       int
	timeout   time.Duration
}

// Deliver POSTs every queued callback once, in order, and returns how
// many were acknowledged with 200. Failed ones stay queued until their
// provider's attempts run out (Strava: three in all).
func (s *Sim) Deliver(ctx context.Context) int {
	s.mu.Lock()
	queue := s.outbox
	s.outbox = nil
	s.mu.Unlock()
	ok := 0
	var retry []*delivery
	for _, d := range queue {
		status := s.post(ctx, d)
		d.attempts++
		if status == http.StatusOK {
			ok++
		} else if d.attempts < d.max && ctx.Err() == nil {
			retry = append(retry, d)
		}
		s.mu.Lock()
		bump(s.stats.deliveries, d.kind, status)
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.outbox = append(retry, s.outbox...)
	s.mu.Unlock()
	return ok
}

// Pending is how many callbacks are queued.
func (s *Sim) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.outbox)
}

func (s *Sim) post(ctx context.Context, d *delivery) int {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range d.header {
		req.Header[k] = v
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Run delivers queued callbacks every interval until ctx ends.
func (s *Sim) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Deliver(ctx)
		}
	}
}
