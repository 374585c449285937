package rest

import (
	"encoding/json"
	"math"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

// pageRequest checks a list's cursor and limit parameters.
func pageRequest(cursor *string, limit *int) (cairn.PageRequest, error) {
	p := cairn.PageRequest{}
	if cursor != nil {
		p.Cursor = *cursor
	}
	if limit != nil {
		if *limit < 1 || *limit > cairn.MaxPageSize {
			return p, cairn.Invalid(map[string]string{"limit": "must be between 1 and 200"})
		}
		p.Limit = *limit
	}
	return p, nil
}

// mapSlice converts a list, never nil, so that empty lists encode as [].
func mapSlice[T, U any](xs []T, f func(*T) U) []U {
	out := make([]U, len(xs))
	for i := range xs {
		out[i] = f(&xs[i])
	}
	return out
}

// enum checks an optional enum parameter or field.
func enum[T interface{ Valid() bool }](field string, v *T) error {
	if v != nil && !(*v).Valid() {
		return cairn.Invalid(map[string]string{field: "is not one of the allowed values"})
	}
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptrIf[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// finiteOrNil drops NaN, which JSON cannot carry.
func finiteOrNil(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// objectOf decodes stored JSON metadata for a response.
func objectOf(raw json.RawMessage) *map[string]any {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return &m
}

// rawOf encodes a request's object for storage; nil stays nil.
func rawOf(m *map[string]any) json.RawMessage {
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(*m) // decoded from JSON: cannot fail
	return b
}

func deviceOut(d *cairn.Device) api.Device {
	return api.Device{Id: d.ID, UserId: d.UserID, Manufacturer: d.Manufacturer, Model: d.Model,
		SerialNumber: d.SerialNumber, FirmwareVersion: d.FirmwareVersion, LastSyncAt: d.LastSyncAt,
		Status: api.DeviceStatus(d.Status), CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

func activityOut(a *cairn.Activity) api.Activity {
	return api.Activity{Id: a.ID, UserId: a.UserID, DeviceId: a.DeviceID, ParentId: a.ParentID,
		Type: api.ActivityType(a.Type), Sport: ptrIf(a.Sport), Name: a.Name, StartTime: a.StartTime,
		EndTime: a.EndTime, Timezone: a.Timezone, Source: api.ActivitySource(a.Source),
		Provider: ptrIf(a.Provider), ExternalId: ptrIf(a.ExternalID), FileHash: ptrIf(a.FileHash),
		Rpe: a.RPE, Partial: a.Partial, Metadata: objectOf(a.Metadata), CreatedAt: a.CreatedAt,
		UpdatedAt: a.UpdatedAt, DeletedAt: a.DeletedAt}
}

// detailOf is an activity with its parts; the fields are activityOut's.
func detailOf(a api.Activity, summary *api.Summary, metrics []api.MetricLink, links api.ActivityLinks) api.ActivityDetail {
	return api.ActivityDetail{Id: a.Id, UserId: a.UserId, DeviceId: a.DeviceId, ParentId: a.ParentId,
		Type: a.Type, Sport: a.Sport, Name: a.Name, StartTime: a.StartTime, EndTime: a.EndTime,
		Timezone: a.Timezone, Source: a.Source, Provider: a.Provider, ExternalId: a.ExternalId,
		FileHash: a.FileHash, Rpe: a.Rpe, Partial: a.Partial, Metadata: a.Metadata, CreatedAt: a.CreatedAt,
		UpdatedAt: a.UpdatedAt, DeletedAt: a.DeletedAt, Summary: summary, Metrics: metrics, Links: links}
}

func summaryOut(s *cairn.Summary) api.Summary {
	out := api.Summary{ActivityId: s.ActivityID, UserId: s.UserID, DistanceM: s.DistanceM, DurationS: s.DurationS,
		MovingTimeS: s.MovingTimeS, TimerTimeS: s.TimerTimeS, Calories: s.Calories, AvgHr: s.AvgHR, MaxHr: s.MaxHR,
		AvgPace: s.AvgPace, AvgSpeed: s.AvgSpeed, MaxSpeed: s.MaxSpeed, AvgPower: s.AvgPower,
		AvgCadence: s.AvgCadence, Steps: s.Steps, StrideLength: s.StrideLength, IntensityMinutes: s.IntensityMinutes,
		ElevationGain: s.ElevationGain, ElevationLoss: s.ElevationLoss, Sources: s.Sources, UpdatedAt: s.UpdatedAt}
	if out.Sources == nil {
		out.Sources = map[string]string{}
	}
	if len(s.HRZones) > 0 {
		out.HrZonesS = &s.HRZones
	}
	return out
}

func summaryIn(b *api.SummaryInput) cairn.Summary {
	s := cairn.Summary{DistanceM: b.DistanceM, DurationS: b.DurationS, MovingTimeS: b.MovingTimeS,
		TimerTimeS: b.TimerTimeS, Calories: b.Calories, AvgHR: b.AvgHr, MaxHR: b.MaxHr, AvgPace: b.AvgPace,
		AvgSpeed: b.AvgSpeed, MaxSpeed: b.MaxSpeed, AvgPower: b.AvgPower, AvgCadence: b.AvgCadence, Steps: b.Steps,
		StrideLength: b.StrideLength, IntensityMinutes: b.IntensityMinutes, ElevationGain: b.ElevationGain,
		ElevationLoss: b.ElevationLoss, Sources: map[string]string{}}
	if b.HrZonesS != nil {
		s.HRZones = *b.HrZonesS
	}
	names := []string{"distance_m", "duration_s", "moving_time_s", "timer_time_s", "calories", "avg_hr",
		"max_hr", "avg_pace", "avg_speed", "max_speed", "avg_power", "avg_cadence", "steps",
		"stride_length", "intensity_minutes", "elevation_gain", "elevation_loss"}
	for i, v := range s.Figures() {
		if v != nil {
			s.Sources[names[i]] = cairn.SummaryFromClient
		}
	}
	return s
}

func metricOut(m *cairn.Metric) api.Metric {
	return api.Metric{Id: m.ID, UserId: m.UserID, ActivityId: m.ActivityID, Type: api.MetricType(m.Type),
		Unit: m.Unit, SamplingRate: m.SamplingRate, Count: m.Count, Min: m.Min, Max: m.Max, Avg: m.Avg,
		StartTime: m.StartTime, EndTime: m.EndTime, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

func healthOut(m *cairn.HealthMetric) api.HealthMetric {
	return api.HealthMetric{Id: m.ID, UserId: m.UserID, Type: api.HealthMetricType(m.Type), Timestamp: m.Time,
		Value: m.Value, Unit: m.Unit, Source: m.Source, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

func workoutOut(w *cairn.Workout) api.Workout {
	// The stored definition is []cairn.WorkoutStep, whose JSON is the
	// API's WorkoutStep.
	steps := []api.WorkoutStep{}
	if len(w.Definition) > 0 {
		_ = json.Unmarshal(w.Definition, &steps)
	}
	return api.Workout{Id: w.ID, UserId: w.UserID, Name: w.Name, Description: w.Description,
		Sport: string(w.Sport), Steps: steps, UploadedToGarminAt: w.UploadedToGarminAt,
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// stepsIn converts the API's steps to the domain's (same JSON).
func stepsIn(in *[]api.WorkoutStep) *[]cairn.WorkoutStep {
	if in == nil {
		return nil
	}
	b, _ := json.Marshal(*in) // plain numbers and strings: cannot fail
	var steps []cairn.WorkoutStep
	_ = json.Unmarshal(b, &steps)
	return &steps
}
