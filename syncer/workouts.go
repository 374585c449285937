package syncer

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/garmin"
)

// FindEnrichment returns an activity's enrichment.
func (s *Service) FindEnrichment(ctx context.Context, activityID string) (*cairn.Enrichment, error) {
	return s.cfg.DB.FindEnrichment(ctx, activityID)
}

// UploadWorkoutToGarmin sends the workout through Garmin's Training API
// and records when, and under which Garmin id.
func (s *Service) UploadWorkoutToGarmin(ctx context.Context, workoutID string) (*cairn.GarminWorkoutUpload, error) {
	w, err := s.cfg.DB.FindWorkout(ctx, workoutID)
	if err != nil {
		return nil, err
	}
	if w.DeletedAt != nil {
		return nil, cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	if err := s.available(cairn.ProviderGarmin); err != nil {
		return nil, err
	}
	gw, err := garminWorkout(w)
	if err != nil {
		return nil, err
	}
	ts, err := s.tokenSource(ctx, w.UserID, cairn.ProviderGarmin)
	if err != nil {
		return nil, err
	}
	got, err := withToken(ctx, ts, func(access string) (*garmin.Workout, error) {
		return s.cfg.Garmin.CreateWorkout(ctx, access, gw)
	})
	if err != nil {
		return nil, err
	}
	up := &cairn.GarminWorkoutUpload{WorkoutID: w.ID, GarminWorkoutID: strconv.FormatInt(got.WorkoutID, 10),
		UploadedToGarminAt: s.clock.Now().UTC()}
	if err := s.cfg.DB.MarkWorkoutUploadedToGarmin(ctx, w.UserID, w.ID, up.GarminWorkoutID, up.UploadedToGarminAt); err != nil {
		return nil, err
	}
	return up, nil
}

// garminSports maps cairn's activity types to the Training API's sports.
var garminSports = map[cairn.ActivityType]string{
	cairn.ActivityRun: "RUNNING", cairn.ActivityTrailRun: "RUNNING", cairn.ActivityTreadmillRun: "RUNNING",
	cairn.ActivityRide: "CYCLING", cairn.ActivityIndoorRide: "CYCLING", cairn.ActivityMountainBike: "CYCLING",
	cairn.ActivityGravelRide: "CYCLING", cairn.ActivityPoolSwim: "LAP_SWIMMING", cairn.ActivityStrength: "STRENGTH_TRAINING",
	cairn.ActivityYoga: "YOGA", cairn.ActivityMultisport: "MULTI_SPORT",
}

// garminWorkout turns a workout's steps (fit/workout.go's units) into the
// Training API's: durations in seconds or metres, targets in bpm, watts
// or m/s.
func garminWorkout(w *cairn.Workout) (*garmin.Workout, error) {
	var steps []cairn.WorkoutStep
	if err := json.Unmarshal(w.Definition, &steps); err != nil || len(steps) == 0 {
		return nil, cairn.Invalid(map[string]string{"definition": "the workout has no steps to send"})
	}
	sport := garminSports[w.Sport]
	if sport == "" {
		sport = "GENERIC"
	}
	name := w.Name
	if len(name) > 80 {
		name = name[:80]
	}
	gw := &garmin.Workout{WorkoutName: name, Description: w.Description, Sport: sport}
	for i, st := range steps {
		g := garmin.WorkoutStep{Type: "WorkoutStep", StepOrder: i + 1, Intensity: strings.ToUpper(st.Intensity),
			Description: st.Name, DurationType: "OPEN", TargetType: "OPEN"}
		if g.Intensity == "" {
			g.Intensity = "ACTIVE"
		}
		switch st.DurationType {
		case "time":
			g.DurationType, g.DurationValue = "TIME", st.DurationValue
		case "distance":
			g.DurationType, g.DurationValue = "DISTANCE", st.DurationValue
		}
		switch st.TargetType {
		case "heart_rate":
			g.TargetType = "HEART_RATE"
		case "power":
			g.TargetType = "POWER"
		case "speed":
			g.TargetType = "SPEED"
		case "cadence":
			g.TargetType = "CADENCE"
		}
		if g.TargetType != "OPEN" {
			g.TargetValueLow, g.TargetValueHigh = st.TargetLow, st.TargetHigh
		}
		gw.Steps = append(gw.Steps, g)
	}
	return gw, nil
}
