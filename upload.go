package cairn

import (
	"context"
	"io"
	"time"
)

// Upload statuses.
const (
	UploadPending    = "pending"
	UploadProcessing = "processing"
	UploadCompleted  = "completed"
	UploadDuplicate  = "duplicate"
	UploadFailed     = "failed"
)

// Upload is one file sent for ingestion and what became of it.
type Upload struct {
	ID       string `json:"id"`
	UserID   string `json:"user_id"`
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	FileHash string `json:"file_hash,omitempty"`
	BlobKey  string `json:"-"`
	Status   string `json:"status"`
	Kind     string `json:"kind,omitempty"`
	UploadResult
	Partial   bool         `json:"partial"`
	Warnings  []string     `json:"warnings"`
	Error     *UploadError `json:"error"`
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// UploadResult holds the ids of what an upload created (or, for a
// duplicate, what it matched).
type UploadResult struct {
	ActivityIDs   []string `json:"activity_ids"`
	WorkoutIDs    []string `json:"workout_ids"`
	HealthMetrics int      `json:"health_metrics"`
}

// UploadError says why an upload failed, in the API's error terms.
type UploadError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// UploadService accepts files for ingestion in the background.
type UploadService interface {
	// Accept stores the file and queues its ingestion for userID; what the
	// file may hold follows the actor's scopes.
	Accept(ctx context.Context, userID, filename string, r io.Reader) (*Upload, error)
	FindUpload(ctx context.Context, id string) (*Upload, error)
}
