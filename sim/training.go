package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
)

// workoutSports are the Training API's sports.
var workoutSports = []string{"RUNNING", "CYCLING", "LAP_SWIMMING", "STRENGTH_TRAINING", "CARDIO_TRAINING",
	"YOGA", "PILATES", "GENERIC", "MULTI_SPORT"}

// Training API limits: name and description lengths, steps per workout.
const (
	maxWorkoutName = 80
	maxWorkoutDesc = 1024
	maxSteps       = 100
	maxWorkoutBody = 1 << 20
)

// createWorkout stores a workout as Garmin's Training API does and
// answers it with its new workoutId and ownerId.
func (s *Sim) createWorkout(w http.ResponseWriter, r *http.Request) {
	var wk map[string]any
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWorkoutBody))
	if err == nil {
		err = json.Unmarshal(body, &wk)
	}
	if err != nil {
		garminError(w, http.StatusBadRequest, "body is not a JSON workout")
		return
	}
	if msg := checkWorkout(wk); msg != "" {
		garminError(w, http.StatusBadRequest, msg)
		return
	}
	owner := tokenOf(r).athlete
	s.mu.Lock()
	s.lastWorkout++
	id := s.lastWorkout
	wk["workoutId"], wk["ownerId"] = id, owner.ID
	now := s.now().UTC().Format("2006-01-02T15:04:05.0")
	wk["createdDate"], wk["updatedDate"] = now, now
	s.workouts[id] = wk
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, wk)
}

func checkWorkout(wk map[string]any) string {
	name, _ := wk["workoutName"].(string)
	desc, _ := wk["description"].(string)
	sport, _ := wk["sport"].(string)
	steps, _ := wk["steps"].([]any)
	switch {
	case name == "" || len(name) > maxWorkoutName:
		return "workoutName is required, at most 80 characters"
	case len(desc) > maxWorkoutDesc:
		return "description is at most 1024 characters"
	case !slices.Contains(workoutSports, sport):
		return "sport must be one of the Training API's sports"
	case len(steps) == 0 || len(steps) > maxSteps:
		return "a workout has 1 to 100 steps"
	}
	return ""
}

// workout finds the path's workout when it is the caller's.
func (s *Sim) workout(r *http.Request) (int64, map[string]any) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	wk := s.workouts[id]
	if wk == nil || wk["ownerId"] != tokenOf(r).athlete.ID {
		return id, nil
	}
	return id, wk
}

func (s *Sim) getWorkout(w http.ResponseWriter, r *http.Request) {
	if _, wk := s.workout(r); wk != nil {
		s.mu.Lock()
		b, err := json.Marshal(wk)
		s.mu.Unlock()
		if err == nil {
			writeBody(w, http.StatusOK, b)
			return
		}
	}
	garminError(w, http.StatusNotFound, "no such workout")
}

func (s *Sim) deleteWorkout(w http.ResponseWriter, r *http.Request) {
	id, wk := s.workout(r)
	if wk == nil {
		garminError(w, http.StatusNotFound, "no such workout")
		return
	}
	s.mu.Lock()
	delete(s.workouts, id)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Workouts returns copies of the workouts uploaded so far.
func (s *Sim) Workouts() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, len(s.workouts))
	for id := range s.workouts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]map[string]any, len(ids))
	for i, id := range ids {
		out[i] = map[string]any{}
		for k, v := range s.workouts[id] {
			out[i][k] = v
		}
	}
	return out
}
