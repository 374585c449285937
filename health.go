package cairn

import (
	"context"
	"encoding/json"
	"time"
)

// Health metric types.
const (
	HealthSteps            = "steps"
	HealthHeartRate        = "heart_rate"
	HealthRestingHeartRate = "resting_heart_rate"
	HealthStress           = "stress"
	HealthIntensityMinutes = "intensity_minutes"
	HealthCalories         = "calories"
	HealthWeight           = "weight"
	HealthBodyFat          = "body_fat_percent"
	HealthBodyWater        = "body_water_percent"
	HealthMuscleMass       = "muscle_mass"
	HealthBoneMass         = "bone_mass"
	HealthBMI              = "bmi"
	HealthVisceralFat      = "visceral_fat_rating"
	HealthHRV              = "hrv_rmssd"
	HealthSleep            = "sleep_hours"
)

// Health metric types of providers' day and night summaries (Garmin's
// dailies, sleeps and HRV) that the types above have no place for. A
// day's totals are stamped at the day's start, a night's at its start.
const (
	HealthDistance           = "distance"
	HealthActiveCalories     = "active_calories"
	HealthFloors             = "floors_climbed"
	HealthMinHeartRate       = "min_heart_rate"
	HealthAvgHeartRate       = "avg_heart_rate"
	HealthMaxHeartRate       = "max_heart_rate"
	HealthAvgStress          = "avg_stress"
	HealthMaxStress          = "max_stress"
	HealthBodyBatteryCharged = "body_battery_charged"
	HealthBodyBatteryDrained = "body_battery_drained"
	HealthSleepDeep          = "sleep_deep_hours"
	HealthSleepLight         = "sleep_light_hours"
	HealthSleepREM           = "sleep_rem_hours"
	HealthSleepAwake         = "sleep_awake_hours"
	HealthSleepScore         = "sleep_score"
	// HealthHRVReading is one reading of a night's HRV (rMSSD every few
	// minutes); HealthHRV is the night's average.
	HealthHRVReading  = "hrv_reading"
	HealthHRV5MinHigh = "hrv_5min_high"
)

// HealthMetric is one timestamped health measurement, unique per user, type
// and timestamp.
type HealthMetric struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	Type      string    `json:"type"`
	Time      time.Time `json:"timestamp"`
	Value     float64   `json:"value"`
	Unit      string    `json:"unit"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// HealthSummary is a provider's summary of a day, a night or a
// measurement (Garmin's dailies, sleeps, hrv, bodyComps), stored with the
// health metrics (and the day's DailyMetric fields) it brought. It is
// identified by its kind and start, which stay the same when the
// provider sends it again updated (Garmin's summary ids do not: they
// encode the duration so far); the latest version replaces the rows of
// the one before.
type HealthSummary struct {
	ID        string
	UserID    string
	Source    string // garmin
	Kind      string // the provider's summary type
	Start     time.Time
	SummaryID string // the provider's id of the latest version
	CreatedAt time.Time
	UpdatedAt time.Time
}

// HealthFilter selects a user's health metrics.
type HealthFilter struct {
	UserID     string
	Type       string
	Start, End *time.Time
	Page       PageRequest
}

// DailyMetric is a user's per-day readiness inputs.
type DailyMetric struct {
	ID        string    `json:"id"`
	UserID    string    `json:"user_id"`
	Date      string    `json:"date"` // YYYY-MM-DD in the user's timezone
	RestingHR *float64  `json:"resting_hr"`
	HRVRMSSD  *float64  `json:"hrv_rmssd"`
	SleepH    *float64  `json:"sleep_hours"`
	Soreness  *int      `json:"soreness"`
	Stress    *int      `json:"stress"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// HealthStore persists health and daily metrics.
type HealthStore interface {
	ListHealthMetrics(ctx context.Context, f HealthFilter) (*Page[HealthMetric], error)
	// UpsertDailyMetric writes a user's day, replacing what it held.
	UpsertDailyMetric(ctx context.Context, d *DailyMetric) error
	ListDailyMetrics(ctx context.Context, f DailyFilter) (*Page[DailyMetric], error)
}

// DailyFilter selects a user's days: Start <= date < End, as YYYY-MM-DD.
type DailyFilter struct {
	UserID     string
	Start, End string
	Page       PageRequest
}

// Workout is a structured workout definition (steps, targets, repeats).
type Workout struct {
	ID                 string          `json:"id"`
	UserID             string          `json:"user_id"`
	Name               string          `json:"name"`
	Description        string          `json:"description"`
	Sport              ActivityType    `json:"sport"`
	Definition         json.RawMessage `json:"definition"`
	FileHash           string          `json:"-"` // SHA-256 of the file it was imported from
	UploadedToGarminAt *time.Time      `json:"uploaded_to_garmin_at"`
	UploadedToStravaAt *time.Time      `json:"uploaded_to_strava_at,omitempty"`
	CreatedAt          time.Time       `json:"created_at"`
	UpdatedAt          time.Time       `json:"updated_at"`
	DeletedAt          *time.Time      `json:"deleted_at,omitempty"`
}

// WorkoutStep is one step of a structured workout definition.
type WorkoutStep struct {
	Index         int      `json:"index"`
	Name          string   `json:"name,omitempty"`
	Intensity     string   `json:"intensity,omitempty"` // warmup, active, rest, cooldown, recovery
	DurationType  string   `json:"duration_type"`       // time, distance, open, repeat_until_steps_cmplt, …
	DurationValue *float64 `json:"duration_value,omitempty"`
	TargetType    string   `json:"target_type,omitempty"` // heart_rate, power, speed, cadence, open
	TargetLow     *float64 `json:"target_low,omitempty"`
	TargetHigh    *float64 `json:"target_high,omitempty"`
	RepeatFrom    *int     `json:"repeat_from,omitempty"`
	RepeatCount   *int     `json:"repeat_count,omitempty"`
}

// WorkoutStore persists workouts.
type WorkoutStore interface {
	CreateWorkout(ctx context.Context, w *Workout) error
	// FindWorkout returns a live workout.
	FindWorkout(ctx context.Context, id string) (*Workout, error)
	ListWorkouts(ctx context.Context, f WorkoutFilter) (*Page[Workout], error)
	// UpdateWorkout writes w's mutable fields when the stored workout is
	// live and still has UpdatedAt == seen; otherwise PRECONDITION_FAILED
	// or NOT_FOUND.
	UpdateWorkout(ctx context.Context, w *Workout, seen time.Time) error
	SoftDeleteWorkout(ctx context.Context, id string) error
}

// WorkoutFilter selects a user's live workouts.
type WorkoutFilter struct {
	UserID string
	Sport  ActivityType
	Page   PageRequest
}
