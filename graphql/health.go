package graphql

import (
	"github.com/cairn-fit/cairn"
	graphql "github.com/graph-gophers/graphql-go"
)

// Health data and workouts: rows without parts to load.

type healthResolver struct{ m *cairn.HealthMetric }

func (r *healthResolver) ID() graphql.ID         { return globalID(kindHealth, r.m.ID) }
func (r *healthResolver) DatabaseID() graphql.ID { return graphql.ID(r.m.ID) }
func (r *healthResolver) Type() string           { return enumOut(r.m.Type) }
func (r *healthResolver) Timestamp() dateTime    { return dt(r.m.Time) }
func (r *healthResolver) Value() float64         { return r.m.Value }
func (r *healthResolver) Unit() string           { return r.m.Unit }
func (r *healthResolver) Source() string         { return r.m.Source }
func (r *healthResolver) CreatedAt() dateTime    { return dt(r.m.CreatedAt) }
func (r *healthResolver) UpdatedAt() dateTime    { return dt(r.m.UpdatedAt) }

type dailyResolver struct{ d *cairn.DailyMetric }

func (r *dailyResolver) ID() graphql.ID         { return globalID(kindDaily, r.d.ID) }
func (r *dailyResolver) DatabaseID() graphql.ID { return graphql.ID(r.d.ID) }
func (r *dailyResolver) Date() date             { return date(r.d.Date) }
func (r *dailyResolver) RestingHr() *float64    { return r.d.RestingHR }
func (r *dailyResolver) HrvRmssd() *float64     { return r.d.HRVRMSSD }
func (r *dailyResolver) SleepHours() *float64   { return r.d.SleepH }
func (r *dailyResolver) Soreness() *int32       { return int32p(r.d.Soreness) }
func (r *dailyResolver) Stress() *int32         { return int32p(r.d.Stress) }
func (r *dailyResolver) CreatedAt() dateTime    { return dt(r.d.CreatedAt) }
func (r *dailyResolver) UpdatedAt() dateTime    { return dt(r.d.UpdatedAt) }

type workoutResolver struct{ w *cairn.Workout }

func (r *workoutResolver) ID() graphql.ID                { return globalID(kindWorkout, r.w.ID) }
func (r *workoutResolver) DatabaseID() graphql.ID        { return graphql.ID(r.w.ID) }
func (r *workoutResolver) Name() string                  { return r.w.Name }
func (r *workoutResolver) Description() string           { return r.w.Description }
func (r *workoutResolver) UploadedToGarminAt() *dateTime { return dtp(r.w.UploadedToGarminAt) }
func (r *workoutResolver) CreatedAt() dateTime           { return dt(r.w.CreatedAt) }
func (r *workoutResolver) UpdatedAt() dateTime           { return dt(r.w.UpdatedAt) }

func (r *workoutResolver) Sport() *string {
	if r.w.Sport == "" {
		return nil
	}
	s := enumOut(r.w.Sport)
	return &s
}

func (r *workoutResolver) Steps() ([]*workoutStep, error) {
	steps, err := r.w.Steps()
	if err != nil {
		return nil, err
	}
	out := make([]*workoutStep, len(steps))
	for i := range steps {
		out[i] = &workoutStep{&steps[i]}
	}
	return out, nil
}

type workoutStep struct{ s *cairn.WorkoutStep }

func (w *workoutStep) Index() int32            { return int32(w.s.Index) }
func (w *workoutStep) Name() *string           { return ptrIf(w.s.Name) }
func (w *workoutStep) Intensity() *string      { return ptrIf(w.s.Intensity) }
func (w *workoutStep) DurationType() string    { return w.s.DurationType }
func (w *workoutStep) DurationValue() *float64 { return w.s.DurationValue }
func (w *workoutStep) TargetType() *string     { return ptrIf(w.s.TargetType) }
func (w *workoutStep) TargetLow() *float64     { return w.s.TargetLow }
func (w *workoutStep) TargetHigh() *float64    { return w.s.TargetHigh }
func (w *workoutStep) RepeatFrom() *int32      { return int32p(w.s.RepeatFrom) }
func (w *workoutStep) RepeatCount() *int32     { return int32p(w.s.RepeatCount) }

func int32p(p *int) *int32 {
	if p == nil {
		return nil
	}
	v := int32(*p)
	return &v
}
