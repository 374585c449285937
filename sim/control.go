package sim

import (
	"encoding/json"
	"net/http"
	"time"
)

// controlRoutes are the simulator's own endpoints under /sim/, for tests
// and demos driving it over HTTP. They are neither counted nor faulted.
func (s *Sim) controlRoutes() []route {
	return []route{
		{"GET /sim/stats", kindControl, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Stats()) }},
		{"POST /sim/reset", kindControl, func(w http.ResponseWriter, r *http.Request) { s.Reset(); w.WriteHeader(http.StatusNoContent) }},
		{"GET /sim/athletes", kindControl, s.listAthletes},
		{"POST /sim/activities", kindControl, s.postActivity},
		{"POST /sim/strava/events", kindControl, s.postStravaEvent},
		{"PATCH /sim/strava/activities/{id}", kindControl, s.patchActivity},
		{"DELETE /sim/strava/activities/{id}", kindControl, s.deleteActivity},
		{"PUT /sim/garmin/endpoints/{type}", kindControl, s.putEndpoint},
		{"POST /sim/deliver", kindControl, func(w http.ResponseWriter, r *http.Request) {
			n := s.Deliver(r.Context())
			writeJSON(w, http.StatusOK, map[string]int{"delivered": n, "pending": s.Pending()})
		}},
		{"POST /sim/expire-tokens", kindControl, func(w http.ResponseWriter, r *http.Request) {
			s.ExpireTokens()
			w.WriteHeader(http.StatusNoContent)
		}},
	}
}

func (s *Sim) listAthletes(w http.ResponseWriter, r *http.Request) {
	out := make([]map[string]any, len(s.athletes))
	for i, a := range s.athletes {
		acts := s.Activities(a)
		j := map[string]any{"id": a.ID, "garmin_user_id": a.GarminUserID, "firstname": a.Firstname,
			"lastname": a.Lastname, "city": a.Home.City, "activities": len(acts)}
		if len(acts) > 0 {
			j["first_start"], j["last_start"] = acts[0].Start, acts[len(acts)-1].Start
		}
		out[i] = j
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) athleteByID(id int64) *Athlete {
	for _, a := range s.athletes {
		if a.ID == id {
			return a
		}
	}
	return nil
}

// postActivity records a new activity for ?athlete= (a Strava id; the
// first athlete by default) and queues its webhooks.
func (s *Sim) postActivity(w http.ResponseWriter, r *http.Request) {
	ath := s.pickAthlete(r.URL.Query())
	if ath == nil {
		http.Error(w, "no athletes", http.StatusNotFound)
		return
	}
	a := s.AddActivity(ath)
	writeJSON(w, http.StatusCreated, map[string]any{"id": a.ID, "garmin_id": a.GarminID, "start_date": a.Start})
}

func (s *Sim) postStravaEvent(w http.ResponseWriter, r *http.Request) {
	var ev StravaEvent
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.PushStravaEvent(ev)
	w.WriteHeader(http.StatusAccepted)
}

func (s *Sim) putEndpoint(w http.ResponseWriter, r *http.Request) {
	var ep Endpoint
	if err := json.NewDecoder(r.Body).Decode(&ep); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.SetGarminEndpoint(r.PathValue("type"), ep); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// AddActivity records a new activity for the athlete a few hours after
// their latest one, as an upload would, and queues what announces it: a
// Strava "create" event and Garmin's activity, details and file
// notifications.
func (s *Sim) AddActivity(ath *Athlete) *Activity {
	s.mu.Lock()
	n := len(ath.Activities)
	r := rng(s.cfg.Seed, 0xadd, uint64(ath.index), uint64(n))
	a := newActivity(r, ath, uint64(n)+1<<32)
	last := s.cfg.Until
	if n > 0 {
		last = ath.Activities[n-1].End()
	}
	a.Start = last.Add(time.Duration(2+r.IntN(20)) * time.Hour).Truncate(time.Second)
	if a.Name == "" {
		a.Name = defaultName(a)
	}
	s.lastStrava += 1 + r.Int64N(4_000_000)
	a.ID = s.lastStrava
	if a.GarminID != 0 {
		s.lastGarmin += 1 + r.Int64N(900_000)
		a.GarminID = s.lastGarmin
	}
	ath.Activities = append(ath.Activities, a)
	s.mu.Unlock()
	s.PushStravaEvent(StravaEvent{ObjectType: "activity", ObjectID: a.ID, AspectType: "create", OwnerID: ath.ID})
	if a.GarminID != 0 {
		for _, typ := range []string{"activities", "activityDetails", "activityFiles"} {
			s.NotifyGarmin(ath, typ, a.Start, a.Start.Add(time.Second))
		}
	}
	return a
}

// lastIDs finds the highest ids handed out, for activities added later.
func lastIDs(athletes []*Athlete) (strava, garmin int64) {
	for _, ath := range athletes {
		for _, a := range ath.Activities {
			strava, garmin = max(strava, a.ID), max(garmin, a.GarminID)
		}
	}
	return strava, garmin
}
