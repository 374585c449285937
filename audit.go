package cairn

import (
	"context"
	"encoding/json"
	"net"
	"time"
)

// AuditEntry is one line of the append-only audit log: who (ActorID) did
// what (Action) to whom (UserID, the target user, if any), from where.
type AuditEntry struct {
	ID        string          `json:"id"`
	ActorID   string          `json:"actor_id"`
	UserID    string          `json:"user_id,omitempty"`
	Action    string          `json:"action"`
	IP        string          `json:"ip,omitempty"`
	UserAgent string          `json:"user_agent,omitempty"`
	Details   json.RawMessage `json:"details,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// AuditSystem is the actor id of the process itself (CLI, jobs).
const AuditSystem = "system"

// Audited actions.
const (
	AuditUserFreeze         = "user.freeze"
	AuditUserUnfreeze       = "user.unfreeze"
	AuditUserDelete         = "user.delete"
	AuditUserRestore        = "user.restore"
	AuditUserPurge          = "user.purge"
	AuditPasswordResetAsked = "password.reset_requested"
	AuditPasswordReset      = "password.reset"
	AuditMFAEnroll          = "mfa.enroll"
	AuditMFARemove          = "mfa.remove"
	AuditMFARecoveryCodes   = "mfa.recovery_codes"
	AuditMFARecoveryUsed    = "mfa.recovery_code_used"
	AuditKeysRotate         = "keys.rotate"
)

// AuditFilter selects audit entries. Empty fields do not filter; Since is
// inclusive and Until exclusive.
type AuditFilter struct {
	ActorID string
	UserID  string
	Action  string
	Since   *time.Time
	Until   *time.Time
	Page    PageRequest
}

// AuditLog records and searches the audit log. There is no update or
// delete: entries are never changed.
type AuditLog interface {
	RecordAudit(ctx context.Context, e *AuditEntry) error
	SearchAudit(ctx context.Context, f AuditFilter) (*Page[AuditEntry], error)
}

// Client is where a request comes from, for the audit log and rate limits.
type Client struct {
	IP        string
	UserAgent string
}

type clientKey struct{}

// WithClient returns a context carrying the request's client.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// PeerClient is the client of a request from the peer at remoteAddr
// (host:port), for the APIs to put in the context. A proxy in front
// should be the only peer: X-Forwarded-For is not read.
func PeerClient(remoteAddr, userAgent string) Client {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	return Client{IP: host, UserAgent: userAgent}
}

// ClientFrom returns the context's client (zero when there is none).
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}
