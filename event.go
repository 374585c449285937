package cairn

import (
	"context"
	"encoding/json"
	"time"
)

// EventType names a domain event. Partners subscribe to types; the names
// are part of the public API.
type EventType string

const (
	EventActivityCreated   EventType = "activity.created"
	EventActivityUpdated   EventType = "activity.updated"
	EventActivityDeleted   EventType = "activity.deleted"
	EventDeviceSynced      EventType = "device.synced"
	EventSyncCompleted     EventType = "sync.completed"
	EventSyncFailed        EventType = "sync.failed"
	EventConnectionRevoked EventType = "connection.revoked"
	EventUserDeleted       EventType = "user.deleted"
	EventExportReady       EventType = "export.ready"
	// EventWebhookDisabled tells a user that cairn disabled one of their
	// webhook endpoints (410 Gone, or failing for days).
	EventWebhookDisabled EventType = "webhook.disabled"
)

// EventTypes lists every event type.
var EventTypes = []EventType{EventActivityCreated, EventActivityUpdated, EventActivityDeleted,
	EventDeviceSynced, EventSyncCompleted, EventSyncFailed, EventConnectionRevoked, EventUserDeleted,
	EventExportReady, EventWebhookDisabled}

// Valid reports whether t is a known event type.
func (t EventType) Valid() bool {
	for _, x := range EventTypes {
		if x == t {
			return true
		}
	}
	return false
}

// EventVersion is the version of the event envelope and of every type's
// data. A change that is not backwards compatible gets a new version.
const EventVersion = 1

// Event is one thing that happened, recorded in the transaction of the
// change that caused it (the outbox) and then delivered to webhooks and
// listed for polling clients. Data carries ids and a short summary;
// details are fetched through the API.
type Event struct {
	ID        string          `json:"id"`
	Type      EventType       `json:"type"`
	Version   int             `json:"version"`
	UserID    string          `json:"user_id"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// NewEvent returns an event of type t about userID's data; the store
// fills its id and time when it records it.
func NewEvent(t EventType, userID string, data any) Event {
	raw, err := json.Marshal(data)
	if err != nil {
		// data is one of the small structs below: it always encodes.
		panic("cairn: event data does not encode: " + err.Error())
	}
	return Event{Type: t, Version: EventVersion, UserID: userID, Data: raw}
}

// ActivityEventData is the data of the activity.* events.
type ActivityEventData struct {
	ActivityID string       `json:"activity_id"`
	Type       ActivityType `json:"activity_type,omitempty"`
	Name       string       `json:"name,omitempty"`
	StartTime  *time.Time   `json:"start_time,omitempty"`
	Source     string       `json:"source,omitempty"`
	Href       string       `json:"href"`
}

// ActivityEvent returns the event t (activity.created, .updated or
// .deleted) about a.
func ActivityEvent(t EventType, a *Activity) Event {
	d := ActivityEventData{ActivityID: a.ID, Type: a.Type, Name: a.Name, Source: a.Source,
		Href: "/v1/activities/" + a.ID}
	if !a.StartTime.IsZero() {
		st := a.StartTime.UTC()
		d.StartTime = &st
	}
	return NewEvent(t, a.UserID, d)
}

// TimeWindow is a range of time [Start, End).
type TimeWindow struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// DeviceSyncedEvent says that a device's data for the window reached cairn.
func DeviceSyncedEvent(userID, deviceID string, window TimeWindow) Event {
	return NewEvent(EventDeviceSynced, userID, struct {
		DeviceID   string     `json:"device_id"`
		SyncWindow TimeWindow `json:"sync_window"`
	}{deviceID, window})
}

// SyncEvent is sync.completed or sync.failed (with the error's safe
// message) for one sync session with a provider.
func SyncEvent(t EventType, userID, syncID, provider, message string) Event {
	return NewEvent(t, userID, struct {
		SyncID   string `json:"sync_id"`
		Provider string `json:"provider"`
		Error    string `json:"error,omitempty"`
	}{syncID, provider, message})
}

// ConnectionRevokedEvent says that a provider connection was revoked.
func ConnectionRevokedEvent(userID, connectionID, provider string) Event {
	return NewEvent(EventConnectionRevoked, userID, struct {
		ConnectionID string `json:"connection_id"`
		Provider     string `json:"provider"`
	}{connectionID, provider})
}

// UserDeletedEvent says that a user deleted their account.
func UserDeletedEvent(userID string) Event {
	return NewEvent(EventUserDeleted, userID, struct {
		UserID string `json:"user_id"`
	}{userID})
}

// ExportReadyEvent says that an export can be downloaded.
func ExportReadyEvent(userID, exportID string) Event {
	return NewEvent(EventExportReady, userID, struct {
		ExportID string `json:"export_id"`
		Href     string `json:"href"`
	}{exportID, "/v1/exports/" + exportID})
}

// WebhookDisabledEvent says that cairn disabled a webhook endpoint.
func WebhookDisabledEvent(userID, endpointID, reason string) Event {
	return NewEvent(EventWebhookDisabled, userID, struct {
		WebhookID string `json:"webhook_id"`
		Reason    string `json:"reason"`
	}{endpointID, reason})
}

// EventFilter selects the actor's events.
type EventFilter struct {
	// Types, when not empty, keeps only these types.
	Types []EventType
	// Since keeps events at or after this time.
	Since *time.Time
	Page  PageRequest
}

// EventStore lists recorded events, for clients that poll instead of
// receiving webhooks. Events are written by the stores' transactions.
type EventStore interface {
	ListEvents(ctx context.Context, f EventFilter) (*Page[Event], error)
}
