package fit

import (
	"encoding/json"
	"fmt"

	"github.com/cairn-fit/cairn"
	"github.com/muktihari/fit/profile/basetype"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/profile/untyped/mesgnum"
	"github.com/muktihari/fit/proto"
)

// workoutBuilder turns a workout file into one cairn.Workout. Its
// Definition is the JSON of []cairn.WorkoutStep, in these units:
//
//   - DurationType and TargetType are the FIT names (time, distance,
//     repeat_until_steps_cmplt, heart_rate, power, …).
//   - DurationValue: seconds for time, metres for distance, kcal, bpm or
//     watts for the hr_ and power_ types, a count for reps. For the
//     repeat_until_ types, RepeatFrom is the step to go back to and
//     RepeatCount (steps_cmplt) or DurationValue (time, distance, …) when
//     to stop.
//   - TargetLow/TargetHigh: m/s for speed, bpm for heart_rate, watts for
//     power, rpm for cadence. FIT also allows heart rate in % of max and
//     power in % of FTP: those types get a "_percent" suffix. A target
//     given as a zone has the type suffix "_zone" and Low = High = zone.
type workoutBuilder struct {
	seen              bool
	name, description string
	sport, subSport   string
	steps             []cairn.WorkoutStep
	dropped           int
}

func (w *workoutBuilder) usable() bool { return w.seen || len(w.steps) > 0 }

// add takes workout and workout_step messages.
func (w *workoutBuilder) add(m *proto.Message) {
	switch m.Num {
	case mesgnum.Workout:
		wk := mesgdef.NewWorkout(m)
		w.seen = true
		w.name, w.description = wk.WktName, wk.WktDescription
		w.sport, w.subSport = sportName(wk.Sport), subSportName(wk.SubSport)
	case mesgnum.WorkoutStep:
		if len(w.steps) >= maxSteps {
			w.dropped++
			return
		}
		w.steps = append(w.steps, workoutStep(mesgdef.NewWorkoutStep(m), len(w.steps)))
	}
}

func (w *workoutBuilder) finish() (cairn.Workout, []string, bool) {
	def, _ := json.Marshal(w.steps) // plain numbers and strings: cannot fail
	if w.steps == nil {
		def = []byte("[]")
	}
	wk := cairn.Workout{
		Name:        w.name,
		Description: w.description,
		Sport:       cairn.MapSport(cairn.FormatFIT, w.sport, w.subSport),
		Definition:  def,
	}
	if w.dropped > 0 {
		return wk, []string{fmt.Sprintf("kept the first %d workout steps, dropped %d", maxSteps, w.dropped)}, true
	}
	return wk, nil, false
}

// workoutStep converts a workout_step message; pos is its position in the
// file, the index when the message has no message_index.
func workoutStep(s *mesgdef.WorkoutStep, pos int) cairn.WorkoutStep {
	step := cairn.WorkoutStep{
		Index:     pos,
		Name:      s.WktStepName,
		Intensity: enumName(s.Intensity, s.Intensity == typedef.IntensityInvalid, "intensity", int(s.Intensity)),
	}
	if s.MessageIndex != typedef.MessageIndexInvalid {
		step.Index = int(s.MessageIndex & typedef.MessageIndexMask)
	}
	dt := s.DurationType
	step.DurationType = enumName(dt, dt == typedef.WktStepDurationInvalid, "duration", int(dt))
	if repeats(dt) {
		repeatStep(&step, s)
		return step
	}
	durationValue(&step, s)
	target(&step, s)
	return step
}

func repeats(dt typedef.WktStepDuration) bool {
	switch dt {
	case typedef.WktStepDurationRepeatUntilStepsCmplt, typedef.WktStepDurationRepeatUntilTime,
		typedef.WktStepDurationRepeatUntilDistance, typedef.WktStepDurationRepeatUntilCalories,
		typedef.WktStepDurationRepeatUntilHrLessThan, typedef.WktStepDurationRepeatUntilHrGreaterThan,
		typedef.WktStepDurationRepeatUntilPowerLessThan, typedef.WktStepDurationRepeatUntilPowerGreaterThan:
		return true
	}
	return false
}

// repeatStep fills a repeat step: duration_value is the step to repeat
// from and target_value when to stop.
func repeatStep(step *cairn.WorkoutStep, s *mesgdef.WorkoutStep) {
	if s.DurationValue != basetype.Uint32Invalid {
		from := int(s.DurationValue)
		step.RepeatFrom = &from
	}
	v := s.TargetValue
	if v == basetype.Uint32Invalid {
		return
	}
	switch s.DurationType {
	case typedef.WktStepDurationRepeatUntilStepsCmplt:
		n := int(v)
		step.RepeatCount = &n
	case typedef.WktStepDurationRepeatUntilTime:
		step.DurationValue = num(float64(v) / 1000)
	case typedef.WktStepDurationRepeatUntilDistance:
		step.DurationValue = num(float64(v) / 100)
	case typedef.WktStepDurationRepeatUntilCalories:
		step.DurationValue = num(float64(v))
	case typedef.WktStepDurationRepeatUntilHrLessThan, typedef.WktStepDurationRepeatUntilHrGreaterThan:
		step.DurationValue, step.DurationType = heartRate(v, step.DurationType)
	default: // power
		step.DurationValue, step.DurationType = power(v, step.DurationType)
	}
}

func durationValue(step *cairn.WorkoutStep, s *mesgdef.WorkoutStep) {
	v := s.DurationValue
	if v == basetype.Uint32Invalid {
		return
	}
	switch s.DurationType {
	case typedef.WktStepDurationTime, typedef.WktStepDurationRepetitionTime:
		step.DurationValue = num(float64(v) / 1000)
	case typedef.WktStepDurationDistance:
		step.DurationValue = num(float64(v) / 100)
	case typedef.WktStepDurationCalories, typedef.WktStepDurationReps:
		step.DurationValue = num(float64(v))
	case typedef.WktStepDurationHrLessThan, typedef.WktStepDurationHrGreaterThan:
		step.DurationValue, step.DurationType = heartRate(v, step.DurationType)
	case typedef.WktStepDurationPowerLessThan, typedef.WktStepDurationPowerGreaterThan:
		step.DurationValue, step.DurationType = power(v, step.DurationType)
	}
}

func target(step *cairn.WorkoutStep, s *mesgdef.WorkoutStep) {
	tt := s.TargetType
	step.TargetType = enumName(tt, tt == typedef.WktStepTargetInvalid, "target", int(tt))
	switch tt {
	case typedef.WktStepTargetSpeed, typedef.WktStepTargetHeartRate,
		typedef.WktStepTargetCadence, typedef.WktStepTargetPower:
	default:
		return
	}
	if zone := s.TargetValue; zone != 0 && zone != basetype.Uint32Invalid {
		step.TargetType += "_zone"
		step.TargetLow, step.TargetHigh = num(float64(zone)), num(float64(zone))
		return
	}
	low, high := s.CustomTargetValueLow, s.CustomTargetValueHigh
	if low == basetype.Uint32Invalid || high == basetype.Uint32Invalid {
		return
	}
	name := step.TargetType
	switch tt {
	case typedef.WktStepTargetSpeed:
		step.TargetLow, step.TargetHigh = num(float64(low)/1000), num(float64(high)/1000)
	case typedef.WktStepTargetCadence:
		step.TargetLow, step.TargetHigh = num(float64(low)), num(float64(high))
	case typedef.WktStepTargetHeartRate:
		step.TargetLow, step.TargetType = heartRate(low, name)
		step.TargetHigh, _ = heartRate(high, name)
	case typedef.WktStepTargetPower:
		step.TargetLow, step.TargetType = power(low, name)
		step.TargetHigh, _ = power(high, name)
	}
}

// heartRate decodes a FIT workout_hr: 0–100 is % of max heart rate, above
// that bpm + 100.
func heartRate(v uint32, name string) (*float64, string) {
	if v <= 100 {
		return num(float64(v)), name + "_percent"
	}
	return num(float64(v - 100)), name
}

// power decodes a FIT workout_power: 0–1000 is % of FTP, above that
// watts + 1000.
func power(v uint32, name string) (*float64, string) {
	if v <= 1000 {
		return num(float64(v)), name + "_percent"
	}
	return num(float64(v - 1000)), name
}

func num(v float64) *float64 { return &v }
