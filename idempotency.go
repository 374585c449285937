package cairn

import (
	"context"
	"time"
)

// IdempotencyTTL is how long a key and its response are kept (the IETF
// idempotency-key draft asks for at least a day).
const IdempotencyTTL = 24 * time.Hour

// IdempotentRequest is a write made with an Idempotency-Key: the key is
// its owner's (IdempotencyOwner), and the fingerprint (Hash) of method,
// path and body tells a retry from a different request that reuses the
// key.
type IdempotentRequest struct {
	Owner, Key   string
	Method, Path string
	Hash         string
	// Response is the first answer, once the request has finished.
	Response  *StoredResponse
	CreatedAt time.Time
	ExpiresAt time.Time
}

// StoredResponse is what a retry replays.
type StoredResponse struct {
	Status int               `json:"-"`
	Header map[string]string `json:"header"`
	Body   []byte            `json:"-"`
}

// IdempotencyOwner is whose keys an actor's requests use: the user's, or,
// for an OAuth client acting as itself, "client:<id>" (its keys are not
// any user's).
func IdempotencyOwner(a Actor) string {
	if a.IsClient() {
		return "client:" + a.ClientID
	}
	return a.UserID
}

// IdempotencyStore keeps Idempotency-Keys per owner (IdempotencyOwner).
type IdempotencyStore interface {
	// BeginRequest claims r.Key for r. It returns nil when the caller now
	// holds the key and must run the request, or the request that holds
	// it: finished (Response set) or still running.
	BeginRequest(ctx context.Context, r *IdempotentRequest) (*IdempotentRequest, error)
	// CompleteRequest stores the response of a claimed key.
	CompleteRequest(ctx context.Context, owner, key string, resp StoredResponse) error
	// ReleaseRequest gives a claimed key up, so that a retry runs again.
	ReleaseRequest(ctx context.Context, owner, key string) error
}
