package cairn

import (
	"context"
	"time"
)

// MetricType is the kind of samples in a metric series.
type MetricType string

const (
	MetricHeartRate   MetricType = "heart_rate"
	MetricPower       MetricType = "power"
	MetricCadence     MetricType = "cadence"
	MetricSpeed       MetricType = "speed"
	MetricAltitude    MetricType = "altitude"
	MetricTemperature MetricType = "temperature"
	MetricSteps       MetricType = "steps"
	MetricDistance    MetricType = "distance"
	MetricPosition    MetricType = "position"
)

// MetricTypes lists every MetricType with its unit.
var MetricTypes = map[MetricType]string{
	MetricHeartRate:   "bpm",
	MetricPower:       "W",
	MetricCadence:     "rpm",
	MetricSpeed:       "m/s",
	MetricAltitude:    "m",
	MetricTemperature: "C",
	MetricSteps:       "steps",
	MetricDistance:    "m",
	MetricPosition:    "deg",
}

// Valid reports whether t is a known metric type.
func (t MetricType) Valid() bool { _, ok := MetricTypes[t]; return ok }

// Metric is the metadata of one stored series; the samples live in the blob
// store under BlobKey, encoded by the series codec.
type Metric struct {
	ID           string     `json:"id"`
	UserID       string     `json:"user_id"`
	ActivityID   string     `json:"activity_id"`
	Type         MetricType `json:"type"`
	Unit         string     `json:"unit"`
	SamplingRate float64    `json:"sampling_rate"` // samples per second, 0 if irregular
	Count        int        `json:"count"`
	Min          *float64   `json:"min"`
	Max          *float64   `json:"max"`
	Avg          *float64   `json:"avg"`
	StartTime    *time.Time `json:"start_time"`
	EndTime      *time.Time `json:"end_time"`
	BlobKey      string     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// Point is one sample of a series. Timestamps are Unix milliseconds so that
// series encode compactly and compare exactly.
type Point struct {
	T int64   `json:"t"`
	V float64 `json:"v"`
}

// MetricFilter selects an activity's metrics.
type MetricFilter struct {
	ActivityID string
	Types      []MetricType
	Page       PageRequest
}

// MetricStore reads metric metadata; series are written with their blobs
// (see the tracks package).
type MetricStore interface {
	FindMetric(ctx context.Context, id string) (*Metric, error)
	ListMetrics(ctx context.Context, f MetricFilter) (*Page[Metric], error)
}

// LatLng is a WGS84 position in degrees.
type LatLng struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Route is an activity's track: an encoded polyline for display and the
// full-resolution points in the blob store.
type Route struct {
	ID            string    `json:"id"`
	UserID        string    `json:"user_id"`
	ActivityID    string    `json:"activity_id"`
	Polyline      string    `json:"polyline"`
	BlobKey       string    `json:"-"`
	PointCount    int       `json:"point_count"`
	Start         *LatLng   `json:"start"`
	End           *LatLng   `json:"end"`
	BBox          []float64 `json:"bbox"` // min lng, min lat, max lng, max lat
	ElevationGain *float64  `json:"elevation_gain"`
	ElevationLoss *float64  `json:"elevation_loss"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// RouteStore reads routes (one per activity); routes are written with
// their blobs (see the tracks package).
type RouteStore interface {
	FindRoute(ctx context.Context, activityID string) (*Route, error)
}

// Summary sources.
const (
	SummaryFromDevice   = "device"
	SummaryFromComputed = "computed"
	SummaryFromClient   = "client" // sent through the API
)

// Summary is an activity's rollup. Fields hold which figures came from the
// device's own totals and which were computed from the records.
type Summary struct {
	ActivityID       string            `json:"activity_id"`
	UserID           string            `json:"user_id"`
	DistanceM        *float64          `json:"distance_m"`
	DurationS        *float64          `json:"duration_s"` // elapsed
	MovingTimeS      *float64          `json:"moving_time_s"`
	TimerTimeS       *float64          `json:"timer_time_s"`
	Calories         *float64          `json:"calories"`
	AvgHR            *float64          `json:"avg_hr"`
	MaxHR            *float64          `json:"max_hr"`
	AvgPace          *float64          `json:"avg_pace"` // seconds per km
	AvgSpeed         *float64          `json:"avg_speed"`
	MaxSpeed         *float64          `json:"max_speed"`
	AvgPower         *float64          `json:"avg_power"`
	AvgCadence       *float64          `json:"avg_cadence"`
	Steps            *float64          `json:"steps"`
	StrideLength     *float64          `json:"stride_length"`
	IntensityMinutes *float64          `json:"intensity_minutes"`
	ElevationGain    *float64          `json:"elevation_gain"`
	ElevationLoss    *float64          `json:"elevation_loss"`
	HRZones          []float64         `json:"hr_zones_s,omitempty"` // seconds in zones 1..5
	Sources          map[string]string `json:"sources"`              // field -> device|computed
	UpdatedAt        time.Time         `json:"updated_at"`
}

// SummaryStore persists summaries (one per activity).
type SummaryStore interface {
	UpsertSummary(ctx context.Context, s *Summary) error
	FindSummary(ctx context.Context, activityID string) (*Summary, error)
}
