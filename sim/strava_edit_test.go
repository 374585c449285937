package sim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// TestEditDeleteEvents: renaming, retyping and hiding an activity (the
// control API) changes what the API answers and sends an "update" event
// with Strava's keys; a privacy change reaches only applications granted
// activity:read_all; deleting sends "delete" and the activity is gone.
func TestEditDeleteEvents(t *testing.T) {
	sv := newServer(t, Config{Seed: 12, StravaActivities: 5,
		StravaApps: []App{{ClientID: "1001", Secret: "strava-secret"}, {ClientID: "2002", Secret: "other-secret"}}})
	ath := sv.Athletes()[0]
	full, _ := sv.IssueToken(ProviderStrava, "1001", ath, "read,activity:read_all")
	sv.IssueToken(ProviderStrava, "2002", ath, "read,activity:read")
	cbs := map[string]*callback{}
	for _, app := range []App{{"1001", "strava-secret"}, {"2002", "other-secret"}} {
		cb := newCallback(t)
		form := url.Values{"client_id": {app.ClientID}, "client_secret": {app.Secret}, "callback_url": {cb.URL + "/hook"},
			"verify_token": {"right"}}
		if resp, b := sv.call(t, http.MethodPost, "/api/v3/push_subscriptions", "", form); resp.StatusCode != http.StatusCreated {
			t.Fatalf("subscribe %s: %d %s", app.ClientID, resp.StatusCode, b)
		}
		cbs[app.ClientID] = cb
	}
	a := sv.Activities(ath)[1]
	id := itoa(a.ID)

	resp, b := sv.call(t, http.MethodPatch, "/sim/strava/activities/"+id, "", nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("PATCH without a body: %d %s", resp.StatusCode, b)
	}
	if _, err := sv.EditActivity(a.ID, ActivityEdit{Name: ptr("Renamed"), SportType: ptr("Hike")}); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	sv.get(t, "/api/v3/activities/"+id, full, http.StatusOK, &got)
	if got["name"] != "Renamed" || got["sport_type"] != "Hike" || got["type"] != "Hike" {
		t.Errorf("after the edit: %v %v %v", got["name"], got["sport_type"], got["type"])
	}
	if _, err := sv.EditActivity(a.ID, ActivityEdit{Private: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if n := sv.Deliver(t.Context()); n != 3 {
		t.Fatalf("%d events delivered, want 3 (two edits to 1001, the title and type to 2002)", n)
	}
	events := func(cb *callback) []StravaEvent {
		var out []StravaEvent
		for _, b := range cb.received() {
			var ev StravaEvent
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatal(err)
			}
			out = append(out, ev)
		}
		return out
	}
	evs := events(cbs["1001"])
	if len(evs) != 2 || evs[0].AspectType != "update" || evs[0].ObjectID != a.ID || evs[0].Updates["title"] != "Renamed" ||
		evs[0].Updates["type"] != "Hike" || evs[1].Updates["private"] != "true" || len(evs[1].Updates) != 1 {
		t.Errorf("events to the app with activity:read_all: %+v", evs)
	}
	if evs := events(cbs["2002"]); len(evs) != 1 || evs[0].Updates["private"] != "" {
		t.Errorf("events to the app without activity:read_all: %+v", evs)
	}

	resp, _ = sv.call(t, http.MethodDelete, "/sim/strava/activities/"+id, "", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	sv.get(t, "/api/v3/activities/"+id, full, http.StatusNotFound, nil)
	if n := len(sv.Activities(ath)); n != 4 {
		t.Errorf("%d activities after the delete, want 4", n)
	}
	sv.Deliver(t.Context())
	if evs := events(cbs["1001"]); len(evs) != 3 || evs[2].AspectType != "delete" || evs[2].ObjectID != a.ID {
		t.Errorf("delete event: %+v", evs)
	}
	if resp, _ := sv.call(t, http.MethodDelete, "/sim/strava/activities/"+id, "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("deleting it again: %d", resp.StatusCode)
	}
}
