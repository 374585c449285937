package cairn

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Providers cairn syncs with.
const (
	ProviderStrava = SourceStrava
	ProviderGarmin = SourceGarmin
)

// Providers lists every provider a user can connect.
var Providers = []string{ProviderStrava, ProviderGarmin}

// ValidProvider reports whether p is a provider cairn syncs with.
func ValidProvider(p string) bool { return p == ProviderStrava || p == ProviderGarmin }

// Connection statuses.
const (
	ConnectionActive  = "active"
	ConnectionRevoked = "revoked"
)

// Connection is a user's link to a provider account. The tokens are sealed
// (secrets.Keyring) before they reach the store and never leave the
// process: AccessTokenEnc and RefreshTokenEnc are ciphertexts.
type Connection struct {
	ID              string     `json:"id"`
	UserID          string     `json:"user_id"`
	Provider        string     `json:"provider"`
	ExternalUserID  string     `json:"external_user_id"`
	AccessTokenEnc  []byte     `json:"-"`
	RefreshTokenEnc []byte     `json:"-"`
	AccessTokenHash string     `json:"-"` // SHA-256 (hex): Garmin pushes carry the token
	ExpiresAt       *time.Time `json:"expires_at"`
	Scopes          string     `json:"scopes"`
	Status          string     `json:"status"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// SyncStatus is the state of a sync session. A session moves
//
//	INITIATED → FETCHING_ACTIVITIES → ENRICHING_WEATHER → STORING_DATA → COMPLETED
//
// and, from any working state, to FAILED; a retryable failure goes
// FAILED → RETRYING → the phase that failed.
type SyncStatus string

const (
	SyncInitiated  SyncStatus = "INITIATED"
	SyncFetching   SyncStatus = "FETCHING_ACTIVITIES"
	SyncEnriching  SyncStatus = "ENRICHING_WEATHER"
	SyncStoring    SyncStatus = "STORING_DATA"
	SyncCompleted  SyncStatus = "COMPLETED"
	SyncFailed     SyncStatus = "FAILED"
	SyncRetrying   SyncStatus = "RETRYING"
	syncStatusNone SyncStatus = ""
)

// syncNext lists the states each state may move to.
var syncNext = map[SyncStatus][]SyncStatus{
	syncStatusNone: {SyncInitiated},
	SyncInitiated:  {SyncFetching, SyncFailed},
	SyncFetching:   {SyncEnriching, SyncFailed},
	SyncEnriching:  {SyncStoring, SyncFailed},
	SyncStoring:    {SyncCompleted, SyncFailed},
	SyncFailed:     {SyncRetrying},
	SyncRetrying:   {SyncFetching, SyncEnriching, SyncStoring, SyncFailed},
}

// CanMove reports whether a session in state s may move to next.
func (s SyncStatus) CanMove(next SyncStatus) bool {
	for _, n := range syncNext[s] {
		if n == next {
			return true
		}
	}
	return false
}

// Done reports whether s is final for now: completed, or failed (a failed
// session may still be retried).
func (s SyncStatus) Done() bool { return s == SyncCompleted || s == SyncFailed }

// Sync session types.
const (
	SyncBackfill = "backfill" // the user asked: everything missing in a range
	SyncWebhook  = "webhook"  // a provider told cairn about new data
)

// SyncCounters are a session's progress: activities the provider has that
// cairn lacks (Estimated, growing while pages are listed), and how many
// have been fetched, enriched, stored or given up on.
type SyncCounters struct {
	Estimated int `json:"estimated"`
	Fetched   int `json:"fetched"`
	Enriched  int `json:"enriched"`
	Stored    int `json:"stored"`
	Failed    int `json:"failed"`
}

// SyncCheckpoint is where a session's listing stands, persisted with every
// page so that a restarted process goes on from there.
type SyncCheckpoint struct {
	// Page is the number of list pages (or backfill windows) done.
	Page int `json:"page"`
	// After is the start of the newest activity listed so far: the next
	// page lists what starts after it.
	After *time.Time `json:"after,omitempty"`
	// IDs are the provider's activity ids a webhook session fetches
	// (instead of listing); Page counts those done.
	IDs []string `json:"ids,omitempty"`
	// ListDone is true once every page has been listed.
	ListDone bool `json:"list_done"`
	// WaitUntil is set while the session waits for a provider's rate
	// window to open.
	WaitUntil *time.Time `json:"wait_until,omitempty"`
}

// SyncError is one failure a session met.
type SyncError struct {
	Kind      string     `json:"kind"` // ErrorKind
	Code      string     `json:"code"`
	Message   string     `json:"message"`
	Phase     SyncStatus `json:"phase"`
	Retryable bool       `json:"retryable"`
	At        time.Time  `json:"at"`
}

// SyncSession is one run of fetching a provider's data for a user.
type SyncSession struct {
	ID         string         `json:"id"`
	UserID     string         `json:"user_id"`
	Provider   string         `json:"provider"`
	Type       string         `json:"type"`
	Status     SyncStatus     `json:"status"`
	Phase      SyncStatus     `json:"phase"` // the working state it is in, or failed in
	RangeStart *time.Time     `json:"range_start"`
	RangeEnd   *time.Time     `json:"range_end"`
	Counters   SyncCounters   `json:"counters"`
	Checkpoint SyncCheckpoint `json:"checkpoint"`
	Errors     []SyncError    `json:"errors"`
	Retries    int            `json:"retries"`
	StartedAt  *time.Time     `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

// SyncRequest asks for a sync: providers (every connected one when
// empty) and a time range (everything when open).
type SyncRequest struct {
	UserID    string
	Providers []string
	Start     *time.Time
	End       *time.Time
}

// SyncService connects users to providers, starts and reports sync
// sessions, and serves what syncing added.
type SyncService interface {
	StartSync(ctx context.Context, req SyncRequest) ([]*SyncSession, error)
	FindSyncSession(ctx context.Context, id string) (*SyncSession, error)
	ListSyncSessions(ctx context.Context, userID string, page PageRequest) (*Page[SyncSession], error)
	// AuthorizeURL starts connecting: the URL of the provider's consent
	// page, which redirects to cairn's callback.
	AuthorizeURL(ctx context.Context, userID, provider string) (string, error)
	ListConnections(ctx context.Context, userID string) ([]Connection, error)
	RevokeConnection(ctx context.Context, userID, provider string) error
	FindEnrichment(ctx context.Context, activityID string) (*Enrichment, error)
	// UploadWorkoutToGarmin sends a workout through Garmin's Training API.
	UploadWorkoutToGarmin(ctx context.Context, workoutID string) (*GarminWorkoutUpload, error)
}

// GarminWorkoutUpload is a workout sent to Garmin.
type GarminWorkoutUpload struct {
	WorkoutID          string    `json:"workout_id"`
	GarminWorkoutID    string    `json:"garmin_workout_id"`
	UploadedToGarminAt time.Time `json:"uploaded_to_garmin_at"`
}

// Enrichment statuses, per kind of enrichment.
const (
	EnrichmentDone    = "done"
	EnrichmentMissing = "missing"   // the provider failed: a later job retries
	EnrichmentNone    = "no_data"   // nothing to look up (no position), or nothing there
	EnrichmentPending = "pending"   // not tried yet
	EnrichWeather     = "weather"   // key in EnrichmentStatus
	EnrichGeocode     = "geocoding" // key in EnrichmentStatus
)

// EnrichmentStatus records, per kind (weather, geocoding), how an
// activity's enrichment went. Stored as JSON in activities.enrichment_status.
type EnrichmentStatus map[string]string

// Complete reports whether nothing is left to retry.
func (s EnrichmentStatus) Complete() bool {
	for _, v := range s {
		if v == EnrichmentMissing || v == EnrichmentPending {
			return false
		}
	}
	return true
}

// String encodes s for the enrichment_status column.
func (s EnrichmentStatus) String() string {
	if len(s) == 0 {
		return ""
	}
	b, _ := json.Marshal(map[string]string(s)) // a map of strings always encodes
	return string(b)
}

// ParseEnrichmentStatus reads the enrichment_status column.
func ParseEnrichmentStatus(v string) EnrichmentStatus {
	s := EnrichmentStatus{}
	if v != "" {
		_ = json.Unmarshal([]byte(v), (*map[string]string)(&s))
	}
	return s
}

// Weather is the weather at an activity's start, from an hourly archive.
type Weather struct {
	ObservedAt    time.Time `json:"observed_at"` // the hour the figures are for
	TemperatureC  *float64  `json:"temperature_c"`
	FeelsLikeC    *float64  `json:"feels_like_c"`
	HumidityPct   *float64  `json:"humidity_pct"`
	PressureHPa   *float64  `json:"pressure_hpa"`
	WindSpeedMS   *float64  `json:"wind_speed_ms"`
	WindDirection *float64  `json:"wind_direction_deg"`
	Conditions    string    `json:"conditions"`
	WeatherCode   *int      `json:"weather_code"`
	UVIndex       *float64  `json:"uv_index"`
}

// Place is where an activity started, reverse geocoded.
type Place struct {
	City    string `json:"city"`
	State   string `json:"state"`
	Country string `json:"country"`
}

// Enrichment is what cairn added to an activity from other services.
type Enrichment struct {
	ActivityID string           `json:"activity_id"`
	UserID     string           `json:"user_id"`
	Weather    *Weather         `json:"weather"`
	Place      *Place           `json:"place"`
	Status     EnrichmentStatus `json:"status"`
	UpdatedAt  time.Time        `json:"updated_at"`
}

// Kinds of error, as a sync classifies them: the first four are worth
// retrying, the others are not.
const (
	KindNetwork          = "network"
	KindRateLimit        = "rate_limit"
	KindTemporary        = "temporary_api_error"
	KindDatabaseTimeout  = "database_timeout"
	KindAuthentication   = "authentication"
	KindInvalidData      = "invalid_data"
	KindPermissionDenied = "permission_denied"
	KindQuotaExceeded    = "quota_exceeded"
	KindUnknown          = "unknown"
)

// EQUOTAEXCEEDED is a provider's quota that waiting a little will not
// restore (a refused backfill window, a plan's allowance).
const EQUOTAEXCEEDED = "QUOTA_EXCEEDED"

// ErrorKind classifies err for retrying. Provider clients return
// *Error with the code that says it: UNAVAILABLE (network, the provider's
// temporary faults, a database timeout: Unavailable names which),
// RATE_LIMITED, UNAUTHENTICATED, FORBIDDEN, VALIDATION_ERROR /
// INVALID_FILE / UNPROCESSABLE / NOT_FOUND (invalid data) and
// QUOTA_EXCEEDED.
func ErrorKind(err error) string {
	if err == nil {
		return ""
	}
	var k *kindError
	if errors.As(err, &k) {
		return k.kind
	}
	switch ErrorCode(err) {
	case EUNAVAILABLE:
		if errors.Is(err, context.DeadlineExceeded) {
			return KindNetwork
		}
		return KindTemporary
	case ERATELIMITED:
		return KindRateLimit
	case EUNAUTHENTICATED:
		return KindAuthentication
	case EFORBIDDEN:
		return KindPermissionDenied
	case EVALIDATION, EINVALIDFILE, EUNPROCESSABLE, EUNSUPPORTEDFILE, ENOTFOUND:
		return KindInvalidData
	case EQUOTAEXCEEDED:
		return KindQuotaExceeded
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return KindNetwork
	}
	return KindUnknown
}

// kindError carries the kind of an UNAVAILABLE error as its cause.
type kindError struct {
	kind string
	err  error
}

func (k *kindError) Error() string {
	if k.err == nil {
		return k.kind
	}
	return k.kind + ": " + k.err.Error()
}

func (k *kindError) Unwrap() error { return k.err }

// Unavailable returns an UNAVAILABLE error of a retryable kind (network,
// temporary API error, database timeout) caused by err.
func Unavailable(kind string, err error, message string) *Error {
	return &Error{Code: EUNAVAILABLE, Message: message, Err: &kindError{kind: kind, err: err}}
}

// Kinded returns an error with code and message whose kind, for
// retrying, is kind (an UNPROCESSABLE "not connected" that is, for a
// sync, an authentication failure).
func Kinded(code, kind string, cause error, message string) *Error {
	return &Error{Code: code, Message: message, Err: &kindError{kind: kind, err: cause}}
}

// Retryable reports whether err is of a kind worth retrying.
func Retryable(err error) bool {
	switch ErrorKind(err) {
	case KindNetwork, KindRateLimit, KindTemporary, KindDatabaseTimeout:
		return true
	}
	return false
}
