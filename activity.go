package cairn

import (
	"context"
	"encoding/json"
	"time"
)

// ActivityType is cairn's normalized kind of activity, whatever the source
// called it. Source-specific names are mapped by the decoders' sport table.
type ActivityType string

const (
	ActivityRun           ActivityType = "run"
	ActivityTrailRun      ActivityType = "trail_run"
	ActivityTreadmillRun  ActivityType = "treadmill_run"
	ActivityWalk          ActivityType = "walk"
	ActivityHike          ActivityType = "hike"
	ActivityRide          ActivityType = "ride"
	ActivityMountainBike  ActivityType = "mountain_bike"
	ActivityIndoorRide    ActivityType = "indoor_ride"
	ActivityGravelRide    ActivityType = "gravel_ride"
	ActivityPoolSwim      ActivityType = "pool_swim"
	ActivityOpenWaterSwim ActivityType = "open_water_swim"
	ActivityRowing        ActivityType = "rowing"
	ActivityPaddle        ActivityType = "paddle"
	ActivitySki           ActivityType = "ski"
	ActivityStrength      ActivityType = "strength"
	ActivityYoga          ActivityType = "yoga"
	ActivityMultisport    ActivityType = "multisport"
	ActivityTransition    ActivityType = "transition"
	ActivityOther         ActivityType = "other"
)

// ActivityTypes lists every valid ActivityType.
var ActivityTypes = []ActivityType{ActivityRun, ActivityTrailRun, ActivityTreadmillRun,
	ActivityWalk, ActivityHike, ActivityRide, ActivityMountainBike, ActivityIndoorRide,
	ActivityGravelRide, ActivityPoolSwim, ActivityOpenWaterSwim, ActivityRowing,
	ActivityPaddle, ActivitySki, ActivityStrength, ActivityYoga, ActivityMultisport,
	ActivityTransition, ActivityOther}

// Valid reports whether t is a known activity type.
func (t ActivityType) Valid() bool {
	for _, x := range ActivityTypes {
		if x == t {
			return true
		}
	}
	return false
}

// Activity sources.
const (
	SourceFile   = "file"
	SourceManual = "manual"
	SourceAPI    = "api"
	SourceStrava = "strava"
	SourceGarmin = "garmin"
)

// Activity is one recorded session of exercise.
type Activity struct {
	ID         string          `json:"id"`
	UserID     string          `json:"user_id"`
	DeviceID   *string         `json:"device_id"`
	ParentID   *string         `json:"parent_id,omitempty"`
	Type       ActivityType    `json:"type"`
	Sport      string          `json:"sport,omitempty"` // the source's own sport name
	Name       string          `json:"name"`
	StartTime  time.Time       `json:"start_time"`
	EndTime    *time.Time      `json:"end_time"`
	Timezone   string          `json:"timezone"`
	Source     string          `json:"source"`
	Provider   string          `json:"provider,omitempty"`
	ExternalID string          `json:"external_id,omitempty"`
	RawFileRef string          `json:"-"`
	FileHash   string          `json:"file_hash,omitempty"`
	RPE        *int            `json:"rpe"`
	Partial    bool            `json:"partial"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	DeletedAt  *time.Time      `json:"deleted_at,omitempty"`
}

// ActivityFilter selects a user's activities.
type ActivityFilter struct {
	UserID         string
	Start, End     *time.Time // start_time within [Start, End)
	Type           ActivityType
	DeviceID       string
	Source         string
	IncludeDeleted bool
	Page           PageRequest
}

// ActivitySource records one origin of a canonical activity (a file upload,
// a provider's record): the same recording from two sources is stored once.
type ActivitySource struct {
	ActivityID string    `json:"activity_id"`
	UserID     string    `json:"user_id"`
	Source     string    `json:"source"`
	Provider   string    `json:"provider,omitempty"`
	ExternalID string    `json:"external_id,omitempty"`
	FileHash   string    `json:"file_hash,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// ActivityStore persists activities. The write methods record the events
// they are given (activity.created, …, built from the activity as stored)
// in the transaction of the change.
type ActivityStore interface {
	CreateActivity(ctx context.Context, a *Activity, events ...EventType) error
	// FindActivity returns the activity, deleted or not.
	FindActivity(ctx context.Context, id string) (*Activity, error)
	ListActivities(ctx context.Context, f ActivityFilter) (*Page[Activity], error)
	// UpdateActivity writes a's mutable fields when the stored activity is
	// live and still has UpdatedAt == seen; otherwise PRECONDITION_FAILED
	// (changed meanwhile) or NOT_FOUND.
	UpdateActivity(ctx context.Context, a *Activity, seen time.Time, events ...EventType) error
	SoftDeleteActivity(ctx context.Context, id string, events ...EventType) error
	// ActivitiesVersion returns a number that changes whenever any of the
	// user's activities is created, changed or deleted, so that callers
	// can cache what they derive from the list.
	ActivitiesVersion(ctx context.Context, userID string) (int64, error)
}
