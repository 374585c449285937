package cairn

import (
	"encoding/json"
	"time"
)

// Patches are partial updates: a nil field keeps the stored value. Apply
// changes the entity and validates the result, so that every transport
// (REST, GraphQL) updates by the same rules.

// ActivityPatch changes an activity's user-editable fields.
type ActivityPatch struct {
	Type      *ActivityType
	Name      *string
	StartTime *time.Time
	EndTime   *time.Time
	Timezone  *string
	DeviceID  *string
	RPE       *int
	Metadata  json.RawMessage
}

// Apply writes p onto a and validates the result.
func (p ActivityPatch) Apply(a *Activity) error {
	set(&a.Type, p.Type)
	set(&a.Name, p.Name)
	set(&a.StartTime, p.StartTime)
	set(&a.Timezone, p.Timezone)
	if p.EndTime != nil {
		a.EndTime = p.EndTime
	}
	if p.DeviceID != nil {
		a.DeviceID = p.DeviceID
	}
	if p.RPE != nil {
		a.RPE = p.RPE
	}
	if p.Metadata != nil {
		a.Metadata = p.Metadata
	}
	return a.Validate()
}

// DevicePatch changes what a device reports about itself.
type DevicePatch struct {
	FirmwareVersion *string
	Status          *string
	LastSyncAt      *time.Time
}

// Apply writes p onto d and validates the result.
func (p DevicePatch) Apply(d *Device) error {
	set(&d.FirmwareVersion, p.FirmwareVersion)
	set(&d.Status, p.Status)
	if p.LastSyncAt != nil {
		d.LastSyncAt = p.LastSyncAt
	}
	return d.Validate()
}

// WorkoutPatch changes a workout.
type WorkoutPatch struct {
	Name        *string
	Description *string
	Sport       *ActivityType
	Steps       *[]WorkoutStep
}

// Apply writes p onto w and validates the result.
func (p WorkoutPatch) Apply(w *Workout) error {
	set(&w.Name, p.Name)
	set(&w.Description, p.Description)
	set(&w.Sport, p.Sport)
	if p.Steps != nil {
		w.SetSteps(*p.Steps)
	}
	return w.Validate()
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
