package rest

import (
	"context"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

func (s *Server) ListWorkouts(ctx context.Context, req api.ListWorkoutsRequestObject) (api.ListWorkoutsResponseObject, error) {
	p := req.Params
	page, err := pageRequest(p.Cursor, p.Limit)
	if err == nil {
		err = enum("sport", p.Sport)
	}
	if err != nil {
		return nil, err
	}
	list, err := s.Workouts.ListWorkouts(ctx, cairn.WorkoutFilter{UserID: req.UserId,
		Sport: cairn.ActivityType(deref(p.Sport)), Page: page})
	if err != nil {
		return nil, err
	}
	return api.ListWorkouts200JSONResponse{Data: mapSlice(list.Data, workoutOut), NextCursor: list.NextCursor,
		PrevCursor: list.PrevCursor, Total: list.Total}, nil
}

func (s *Server) CreateWorkout(ctx context.Context, req api.CreateWorkoutRequestObject) (api.CreateWorkoutResponseObject, error) {
	b := req.Body
	w := &cairn.Workout{UserID: req.UserId, Name: b.Name, Description: deref(b.Description),
		Sport: cairn.ActivityType(deref(b.Sport))}
	w.SetSteps(deref(stepsIn(b.Steps)))
	if err := w.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.Users.FindUser(ctx, req.UserId); err != nil {
		return nil, err
	}
	if err := s.Workouts.CreateWorkout(ctx, w); err != nil {
		return nil, err
	}
	loc := "/v1/workouts/" + w.ID
	return api.CreateWorkout201JSONResponse{Body: workoutOut(w), Headers: api.CreateWorkout201ResponseHeaders{Location: &loc}}, nil
}

func (s *Server) GetWorkout(ctx context.Context, req api.GetWorkoutRequestObject) (api.GetWorkoutResponseObject, error) {
	w, err := s.Workouts.FindWorkout(ctx, req.WorkoutId)
	if err != nil {
		return nil, err
	}
	return api.GetWorkout200JSONResponse(workoutOut(w)), nil
}

func (s *Server) UpdateWorkout(ctx context.Context, req api.UpdateWorkoutRequestObject) (api.UpdateWorkoutResponseObject, error) {
	b := req.Body
	patch := cairn.WorkoutPatch{Name: b.Name, Description: b.Description, Sport: (*cairn.ActivityType)(b.Sport),
		Steps: stepsIn(b.Steps)}
	var w *cairn.Workout
	err := retryStale(req.Params.IfMatch, func() (err error) {
		if w, err = s.Workouts.FindWorkout(ctx, req.WorkoutId); err != nil {
			return err
		}
		if err := checkIfMatch(req.Params.IfMatch, workoutOut(w)); err != nil {
			return err
		}
		seen := w.UpdatedAt
		if err := patch.Apply(w); err != nil {
			return err
		}
		return s.Workouts.UpdateWorkout(ctx, w, seen)
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateWorkout200JSONResponse(workoutOut(w)), nil
}

func (s *Server) DeleteWorkout(ctx context.Context, req api.DeleteWorkoutRequestObject) (api.DeleteWorkoutResponseObject, error) {
	if err := s.Workouts.SoftDeleteWorkout(ctx, req.WorkoutId); err != nil {
		return nil, err
	}
	return api.DeleteWorkout204Response{}, nil
}
