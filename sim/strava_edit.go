package sim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// ActivityEdit is what an athlete can change about an activity on Strava
// that Strava announces with an "update" event: the title, the sport
// type and the visibility. Nil fields stay.
type ActivityEdit struct {
	Name      *string `json:"name"`
	SportType *string `json:"sport_type"`
	Private   *bool   `json:"private"`
}

// ErrNoActivity is the answer for an activity id the simulator does not
// have.
var ErrNoActivity = errors.New("no such activity")

// EditActivity changes the activity as the athlete would on Strava and
// queues the "update" event, whose updates carry what changed in
// Strava's keys: "title", "type" and "private" ("true" or "false"). A
// privacy change goes only to applications granted activity:read_all,
// as Strava's does.
func (s *Sim) EditActivity(id int64, e ActivityEdit) (*Activity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ath, i := s.findActivity(id)
	if ath == nil {
		return nil, ErrNoActivity
	}
	// Handlers read activities without the lock: the changed one is a
	// new value in a new list, never the old one written over.
	old := ath.Activities[i]
	a := &Activity{ID: old.ID, GarminID: old.GarminID, Athlete: old.Athlete, Name: old.Name, SportType: old.SportType,
		Start: old.Start, Elapsed: old.Elapsed, Private: old.Private, Commute: old.Commute, Device: old.Device,
		sport: old.sport, key: old.key}
	updates := map[string]string{}
	if e.Name != nil {
		a.Name, updates["title"] = *e.Name, *e.Name
	}
	if e.SportType != nil {
		a.SportType, updates["type"] = *e.SportType, *e.SportType
	}
	if e.Private != nil {
		a.Private, updates["private"] = *e.Private, strconv.FormatBool(*e.Private)
	}
	list := append([]*Activity(nil), ath.Activities...)
	list[i] = a
	ath.Activities = list
	ev := StravaEvent{ObjectType: "activity", ObjectID: id, AspectType: "update", OwnerID: ath.ID, Updates: updates}
	s.pushLocked(ev, e.Private != nil)
	return a, nil
}

// DeleteActivity removes the activity, as deleting it on Strava does, and
// queues the "delete" event. The simulated Garmin shares the athlete's
// list: the recording is gone there too.
func (s *Sim) DeleteActivity(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ath, i := s.findActivity(id)
	if ath == nil {
		return ErrNoActivity
	}
	list := make([]*Activity, 0, len(ath.Activities)-1)
	list = append(append(list, ath.Activities[:i]...), ath.Activities[i+1:]...)
	ath.Activities = list
	s.pushLocked(StravaEvent{ObjectType: "activity", ObjectID: id, AspectType: "delete", OwnerID: ath.ID}, false)
	return nil
}

// findActivity finds a Strava activity by id. Callers hold s.mu.
func (s *Sim) findActivity(id int64) (*Athlete, int) {
	for _, ath := range s.athletes {
		for i, a := range ath.Activities {
			if a.ID == id {
				return ath, i
			}
		}
	}
	return nil, -1
}

// patchActivity is PATCH /sim/strava/activities/{id} with an
// ActivityEdit.
func (s *Sim) patchActivity(w http.ResponseWriter, r *http.Request) {
	var e ActivityEdit
	if err := json.NewDecoder(r.Body).Decode(&e); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	a, err := s.EditActivity(id, e)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": a.ID, "name": a.Name, "sport_type": a.SportType, "private": a.Private})
}

// deleteActivity is DELETE /sim/strava/activities/{id}.
func (s *Sim) deleteActivity(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err := s.DeleteActivity(id); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// stravaType is Strava's deprecated "type" of a sport type.
func stravaType(a *Activity) string {
	for _, sp := range sports {
		if sp.SportType == a.SportType {
			return sp.Type
		}
	}
	return a.sport.Type
}
