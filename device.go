package cairn

import (
	"context"
	"time"
)

// Device status values.
const (
	DeviceActive   = "active"
	DeviceInactive = "inactive"
	DeviceRetired  = "retired"
)

// Device is a watch, bike computer, scale or app that records data.
type Device struct {
	ID              string     `json:"id"`
	UserID          string     `json:"user_id"`
	Manufacturer    string     `json:"manufacturer"`
	Model           string     `json:"model"`
	SerialNumber    string     `json:"serial_number"`
	FirmwareVersion string     `json:"firmware_version"`
	LastSyncAt      *time.Time `json:"last_sync_at"`
	Status          string     `json:"status"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// DeviceFilter selects a user's devices.
type DeviceFilter struct {
	UserID string
	Status string
	Model  string
	Page   PageRequest
}

// DeviceStore persists devices.
type DeviceStore interface {
	CreateDevice(ctx context.Context, d *Device) error
	FindDevice(ctx context.Context, id string) (*Device, error)
	ListDevices(ctx context.Context, f DeviceFilter) (*Page[Device], error)
	// UpdateDevice writes d's mutable fields when the stored device still
	// has UpdatedAt == seen; otherwise PRECONDITION_FAILED or NOT_FOUND.
	UpdateDevice(ctx context.Context, d *Device, seen time.Time) error
}
