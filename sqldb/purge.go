package sqldb

import (
	"context"
	"time"

	"github.com/cairn-fit/cairn"
)

// PurgeExpired deletes rows past their expiry (idempotency keys, reset
// tokens, WebAuthn ceremonies, …) across all users; it runs as the system.
func (db *DB) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.write.ExecContext(cairn.SystemContext(ctx), "DELETE FROM idempotency_requests WHERE expires_at < $1", db.t(now))
	if err != nil {
		return 0, db.translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return n, db.translate(err)
	}
	m, err := db.purgeExpiredIdentity(ctx, now)
	return n + m, err
}
