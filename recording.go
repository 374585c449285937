package cairn

import (
	"encoding/json"
	"time"
)

// File formats cairn decodes.
const (
	FormatFIT = "fit"
	FormatGPX = "gpx"
	FormatTCX = "tcx"
)

// What a decoded file holds.
const (
	KindActivity = "activity"
	KindWorkout  = "workout"
	KindHealth   = "health"
)

// Record is one sample of a recording. A field that the sample lacks is NaN
// (Lat and Lon both NaN when there is no position); Time is zero when the
// source has no timestamps (a GPX route, say).
type Record struct {
	Time        time.Time
	Lat, Lon    float64 // degrees
	Altitude    float64 // metres
	HeartRate   float64 // beats per minute
	Cadence     float64 // rpm (cycling) or steps per minute per foot as the source gives it
	Power       float64 // watts
	Speed       float64 // metres per second
	Distance    float64 // cumulative metres
	Temperature float64 // degrees Celsius
}

// Lap is a device-marked split of a session.
type Lap struct {
	Start     time.Time `json:"start"`
	ElapsedS  float64   `json:"elapsed_s"`
	TimerS    float64   `json:"timer_s"`
	DistanceM float64   `json:"distance_m"`
	Calories  float64   `json:"calories"`
	AvgHR     float64   `json:"avg_hr,omitempty"`
	MaxHR     float64   `json:"max_hr,omitempty"`
}

// DeviceTotals are the totals a device wrote into the file itself (the FIT
// session message, TCX laps). Nil means the file does not say.
type DeviceTotals struct {
	DistanceM  *float64
	ElapsedS   *float64
	TimerS     *float64
	Calories   *float64
	AvgHR      *float64
	MaxHR      *float64
	AscentM    *float64
	DescentM   *float64
	AvgSpeed   *float64
	MaxSpeed   *float64
	AvgPower   *float64
	AvgCadence *float64
	Steps      *float64
}

// DeviceInfo identifies the recording device as the file names it.
type DeviceInfo struct {
	Manufacturer    string
	Model           string
	SerialNumber    string
	FirmwareVersion string
}

// DecodedActivity is one session of a recording. A multisport FIT file
// decodes to one DecodedActivity per session.
type DecodedActivity struct {
	Type    ActivityType
	Sport   string // the source's own sport name (FIT sport/sub-sport, GPX type, TCX Sport)
	Name    string
	Start   time.Time
	End     time.Time
	Indoor  bool
	Records []Record
	Laps    []Lap
	Totals  DeviceTotals
	// Metadata holds what has no column: developer fields, lap list, …
	Metadata map[string]any
}

// DecodedFile is everything a decoder found in one file.
type DecodedFile struct {
	Format        string
	Kind          string // KindActivity, KindWorkout or KindHealth
	Device        *DeviceInfo
	Activities    []DecodedActivity
	HealthMetrics []HealthMetric
	Workouts      []Workout
	// Partial is true when the file broke part way and only the records
	// before the break were kept; Warnings say what happened.
	Partial  bool
	Warnings []string
}

// MarshalMetadata encodes metadata for storage, nil when empty.
func MarshalMetadata(m map[string]any) (json.RawMessage, error) {
	if len(m) == 0 {
		return nil, nil
	}
	return json.Marshal(m)
}
