package cairn

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
	_ "time/tzdata" // time zone names validate the same on every host
	"unicode/utf8"
)

// The rules an entity must meet before it is stored, whoever sends it
// (REST, GraphQL, the CLI). Field names in errors are the API's JSON names.

// fieldErrors collects validation problems by field.
type fieldErrors map[string]string

func (f fieldErrors) check(ok bool, field, message string) {
	if !ok && f[field] == "" {
		f[field] = message
	}
}

func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return Invalid(f)
}

func maxLen(s string, n int) bool { return utf8.RuneCountInString(s) <= n }

// Validate checks an activity's fields.
func (a *Activity) Validate() error {
	f := fieldErrors{}
	f.check(a.Type.Valid(), "type", "is not a known activity type")
	f.check(!a.StartTime.IsZero() && a.StartTime.Year() >= 1900 && a.StartTime.Year() <= 2200, "start_time", "is required, between the years 1900 and 2200")
	f.check(a.EndTime == nil || !a.EndTime.Before(a.StartTime), "end_time", "is before start_time")
	f.check(a.Timezone == "" || validZone(a.Timezone), "timezone", "is not an IANA time zone name")
	f.check(maxLen(a.Name, 200), "name", "is longer than 200 characters")
	f.check(a.RPE == nil || (*a.RPE >= 1 && *a.RPE <= 10), "rpe", "must be between 1 and 10")
	f.check(validSource(a.Source), "source", "is not a known source")
	f.check(len(a.Metadata) == 0 || isObject(a.Metadata), "metadata", "must be a JSON object")
	return f.err()
}

func validZone(name string) bool {
	_, err := time.LoadLocation(name)
	return err == nil && name != "Local"
}

func validSource(s string) bool {
	switch s {
	case SourceFile, SourceManual, SourceAPI, SourceStrava, SourceGarmin:
		return true
	}
	return false
}

func isObject(raw json.RawMessage) bool {
	var m map[string]any
	return json.Unmarshal(raw, &m) == nil && m != nil
}

// ValidDeviceStatus reports whether s is a device status.
func ValidDeviceStatus(s string) bool {
	return s == DeviceActive || s == DeviceInactive || s == DeviceRetired
}

// Validate checks a device's fields.
func (d *Device) Validate() error {
	f := fieldErrors{}
	f.check(d.Model != "" && maxLen(d.Model, 200), "model", "is required, at most 200 characters")
	f.check(maxLen(d.Manufacturer, 200), "manufacturer", "is longer than 200 characters")
	f.check(maxLen(d.SerialNumber, 200), "serial_number", "is longer than 200 characters")
	f.check(maxLen(d.FirmwareVersion, 100), "firmware_version", "is longer than 100 characters")
	f.check(d.Status == "" || ValidDeviceStatus(d.Status), "status", "must be active, inactive or retired")
	return f.err()
}

// Validate checks a summary's figures: finite and not negative.
func (s *Summary) Validate() error {
	f := fieldErrors{}
	names := []string{"distance_m", "duration_s", "moving_time_s", "timer_time_s", "calories", "avg_hr",
		"max_hr", "avg_pace", "avg_speed", "max_speed", "avg_power", "avg_cadence", "steps",
		"stride_length", "intensity_minutes", "elevation_gain", "elevation_loss"}
	for i, v := range s.Figures() {
		f.check(v == nil || (*v >= 0 && !math.IsInf(*v, 0)), names[i], "must be a number not below 0")
	}
	f.check(len(s.HRZones) == 0 || len(s.HRZones) == 5, "hr_zones_s", "must hold five zones")
	for _, z := range s.HRZones {
		f.check(z >= 0 && !math.IsInf(z, 0), "hr_zones_s", "must hold numbers not below 0")
	}
	return f.err()
}

// Figures returns the summary's optional figures in a fixed order, the
// order of Validate's names.
func (s *Summary) Figures() []*float64 {
	return []*float64{s.DistanceM, s.DurationS, s.MovingTimeS, s.TimerTimeS, s.Calories, s.AvgHR,
		s.MaxHR, s.AvgPace, s.AvgSpeed, s.MaxSpeed, s.AvgPower, s.AvgCadence, s.Steps,
		s.StrideLength, s.IntensityMinutes, s.ElevationGain, s.ElevationLoss}
}

// MaxWorkoutSteps bounds a workout definition.
const MaxWorkoutSteps = 500

// Validate checks a workout's fields and its definition.
func (w *Workout) Validate() error {
	f := fieldErrors{}
	f.check(w.Name != "" && maxLen(w.Name, 200), "name", "is required, at most 200 characters")
	f.check(maxLen(w.Description, 2000), "description", "is longer than 2000 characters")
	f.check(w.Sport == "" || w.Sport.Valid(), "sport", "is not a known activity type")
	steps, err := w.Steps()
	if err != nil {
		f.check(false, "steps", "is not a list of workout steps")
	}
	f.check(len(steps) <= MaxWorkoutSteps, "steps", fmt.Sprintf("holds more than %d steps", MaxWorkoutSteps))
	for i, s := range steps {
		field := fmt.Sprintf("steps[%d]", i)
		f.check(s.Index == i, field+".index", fmt.Sprintf("must be %d: steps are numbered in order from 0", i))
		f.check(s.DurationType != "", field+".duration_type", "is required")
		f.check(s.RepeatFrom == nil || (*s.RepeatFrom >= 0 && *s.RepeatFrom < i), field+".repeat_from", "must name an earlier step")
		f.check(s.TargetLow == nil || s.TargetHigh == nil || *s.TargetLow <= *s.TargetHigh, field+".target_low", "is above target_high")
	}
	return f.err()
}

// Steps decodes the workout's definition; an empty one has no steps.
func (w *Workout) Steps() ([]WorkoutStep, error) {
	if len(w.Definition) == 0 {
		return nil, nil
	}
	var steps []WorkoutStep
	if err := json.Unmarshal(w.Definition, &steps); err != nil {
		return nil, Wrap(EVALIDATION, err, "the workout definition is not a list of steps")
	}
	return steps, nil
}

// SetSteps stores steps as the workout's definition.
func (w *Workout) SetSteps(steps []WorkoutStep) {
	if steps == nil {
		steps = []WorkoutStep{}
	}
	w.Definition, _ = json.Marshal(steps) // numbers and strings only: cannot fail
}
