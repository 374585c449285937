package syncer_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest"
	"github.com/cairn-fit/cairn/sim"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// endpoint answers the provider endpoints' errors as the server does:
// through REST's error writer.
func endpoint(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return rest.HandleErrors(nil, fn)
}

// stravaActivity is the stored activity that came from the Strava
// activity, deleted ones included.
func (e *env) stravaStored(id int64) *cairn.Activity {
	e.t.Helper()
	p, err := e.db.ListActivities(e.ctx, cairn.ActivityFilter{UserID: e.user.ID, IncludeDeleted: true,
		Page: cairn.PageRequest{Limit: 200}})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, a := range p.Data {
		if a.Provider == cairn.ProviderStrava && a.ExternalID == strconv.FormatInt(id, 10) {
			return &a
		}
	}
	return nil
}

// events are the user's recorded events of a type (the outbox).
func (e *env) events(t cairn.EventType) []cairn.Event {
	e.t.Helper()
	p, err := e.db.ListEvents(e.ctx, cairn.EventFilter{Types: []cairn.EventType{t}, Page: cairn.PageRequest{Limit: 200}})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Data
}

// simCall drives the simulator's control API over HTTP.
func (e *env) simCall(method, path, body string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.simURL+path, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
}

// TestStravaUpdateDeleteEvents: on both databases, an activity renamed,
// retyped and made private on Strava (the simulator's control API) is
// pushed to POST /webhooks/strava, whose job applies the changes to the
// stored activity with activity.updated recorded; deleted on Strava, it
// is soft-deleted with activity.deleted. Events for activities cairn does
// not have, and after the connection is revoked, change nothing.
func TestStravaUpdateDeleteEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbtest.DB) {
		e := newEnv(t, db, envOptions{sim: sim.Config{Seed: 53, StravaActivities: 3}, verifyToken: "cairn-test"})
		hooks := e.withJobs()
		if err := e.svc.SubscribeStrava(context.Background(), hooks+"/webhooks/strava"); err != nil {
			t.Fatal(err)
		}
		e.connect(cairn.ProviderStrava)
		if s := e.syncAll(cairn.ProviderStrava); s.Status != cairn.SyncCompleted {
			t.Fatalf("sync %s", s.Status)
		}
		acts := e.sim.Activities(e.sim.Athletes()[0])
		first, second, third := acts[0].ID, acts[1].ID, acts[2].ID
		before := e.stravaStored(first)
		if before == nil {
			t.Fatal("the synced activity is not stored")
		}

		e.simCall("PATCH", "/sim/strava/activities/"+strconv.FormatInt(first, 10),
			`{"name": "Renamed on Strava", "sport_type": "Hike", "private": true}`)
		e.deliver(1)
		e.waitFor("the update applied", func() bool { return e.stravaStored(first).Name == "Renamed on Strava" })
		after := e.stravaStored(first)
		var meta map[string]any
		if err := json.Unmarshal(after.Metadata, &meta); err != nil {
			t.Fatal(err)
		}
		if after.Type != cairn.MapSport("strava", "Hike", "") || meta["private"] != true || meta["strava_id"] == nil {
			t.Errorf("after the update: type %s, metadata %s", after.Type, after.Metadata)
		}
		if !after.UpdatedAt.After(before.UpdatedAt) {
			t.Errorf("updated_at %v, was %v", after.UpdatedAt, before.UpdatedAt)
		}
		e.waitFor("activity.updated", func() bool { return len(e.events(cairn.EventActivityUpdated)) == 1 })

		e.simCall("DELETE", "/sim/strava/activities/"+strconv.FormatInt(second, 10), "")
		e.deliver(1)
		e.waitFor("the soft delete", func() bool { return e.stravaStored(second).DeletedAt != nil })
		e.waitFor("activity.deleted", func() bool { return len(e.events(cairn.EventActivityDeleted)) == 1 })
		if n := len(e.activities()); n != 2 {
			t.Errorf("%d live activities, want 2", n)
		}

		// An activity cairn does not have: acknowledged, nothing changes
		// (the job ends without error: nothing is retried).
		e.sim.PushStravaEvent(sim.StravaEvent{ObjectType: "activity", ObjectID: 1, AspectType: "update",
			OwnerID: e.sim.Athletes()[0].ID, Updates: map[string]string{"title": "ghost"}})
		e.deliver(1)
		e.waitForJobs()

		// After the connection is revoked, events change nothing.
		if err := e.svc.RevokeConnection(e.ctx, e.user.ID, cairn.ProviderStrava); err != nil {
			t.Fatal(err)
		}
		if _, err := e.sim.EditActivity(third, sim.ActivityEdit{Name: ptr("after revoking")}); err != nil {
			t.Fatal(err)
		}
		e.sim.Deliver(context.Background())
		e.waitForJobs()
		if a := e.stravaStored(third); a == nil || a.Name == "after revoking" {
			t.Errorf("the revoked connection's event was applied: %+v", a)
		}
		if n := len(e.events(cairn.EventActivityUpdated)); n != 1 {
			t.Errorf("%d activity.updated events, want 1", n)
		}
	})
}

// deliver sends the simulator's queued events and wants n acknowledged.
func (e *env) deliver(n int) {
	e.t.Helper()
	if got := e.sim.Deliver(context.Background()); got != n {
		e.t.Fatalf("%d events acknowledged, want %d", got, n)
	}
}

func ptr[T any](v T) *T { return &v }

// TestWebhookErrorShape: the provider endpoints answer errors with the
// API's statuses and body shape.
func TestWebhookErrorShape(t *testing.T) {
	e := newEnv(t, dbtest.Open(t, "sqlite"), envOptions{sim: sim.Config{Seed: 54, StravaActivities: 1}, verifyToken: "cairn-test"})
	hooks := e.withJobs()
	for _, c := range []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", "/webhooks/strava", "not json", http.StatusBadRequest, cairn.EVALIDATION},
		{"GET", "/webhooks/strava?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=x", "", http.StatusForbidden, cairn.EFORBIDDEN},
		{"GET", "/oauth/callback/strava?code=x&state=unknown", "", 0, ""},
	} {
		req, _ := http.NewRequest(c.method, hooks+c.path, strings.NewReader(c.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct {
				Code    string            `json:"code"`
				Message string            `json:"message"`
				Fields  map[string]string `json:"fields"`
			} `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if c.status == 0 { // whatever the callback says, in REST's table
			c.status, c.code = rest.StatusOf(cairn.Errorf(body.Error.Code, "")), body.Error.Code
		}
		if err != nil || resp.StatusCode != c.status || body.Error.Code != c.code || body.Error.Message == "" {
			t.Errorf("%s %s: %d %+v %v, want %d %s", c.method, c.path, resp.StatusCode, body, err, c.status, c.code)
		}
		if c.body != "" && body.Error.Fields["body"] == "" {
			t.Errorf("no field named: %+v", body)
		}
	}
}

// waitForJobs waits until every strava_event job has completed (one that
// failed would be retried, not completed).
func (e *env) waitForJobs() {
	e.t.Helper()
	e.waitFor("the event jobs", func() bool {
		var open int
		err := e.db.Reader().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'strava_event' AND state <> 'completed'`).Scan(&open)
		return err == nil && open == 0
	})
}
