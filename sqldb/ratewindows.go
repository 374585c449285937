package sqldb

import (
	"context"
	"database/sql"
	"errors"

	"github.com/cairn-fit/cairn/provider"
)

// The rate windows of provider applications, shared by the processes of
// a deployment: DB is a provider.Shared. The rows belong to no user (an
// application's limits are everyone's), like the weather cache.

var _ provider.Shared = (*DB)(nil)

// errWindowFull rolls back a reservation that met a full window.
var errWindowFull = errors.New("sqldb: rate window full")

// reserveWindow takes one call in a window with one statement: a row of
// an earlier window starts over at carry+1; a row of this window counts
// one more unless it is at its limit ($5, 0: none); a row of a later
// window (another process's clock is ahead) is left as it is, and is full
// for us until our clock gets there. The row's lock holds concurrent
// reservations back until this transaction ends, so that every window's
// count stays within its limit whatever the processes.
const reserveWindow = `INSERT INTO provider_rate_windows AS w (app, name, window_start, used) VALUES ($1, $2, $3, $4 + 1)
	ON CONFLICT (app, name) DO UPDATE SET
		used = CASE WHEN w.window_start < excluded.window_start THEN excluded.used ELSE w.used + 1 END,
		window_start = CASE WHEN w.window_start < excluded.window_start THEN excluded.window_start ELSE w.window_start END
	WHERE w.window_start < excluded.window_start OR $5 = 0 OR (w.window_start = excluded.window_start AND w.used < $5)
	RETURNING used`

// Reserve takes one call in every slot's window, all or none, and
// returns the counts after it; when a window is full, nothing is taken
// and the counts are as they are (a window whose stored start is later
// than the slot's counts as full).
func (db *DB) Reserve(ctx context.Context, app string, carry int, slots []provider.Slot) ([]int, bool, error) {
	used := make([]int, len(slots))
	err := db.InTx(ctx, func(tx *Tx) error {
		for i, s := range slots {
			err := tx.tx.QueryRowContext(ctx, reserveWindow, app, s.Name, db.t(s.Start), carry, s.Limit).Scan(&used[i])
			if errors.Is(err, sql.ErrNoRows) {
				return errWindowFull
			} else if err != nil {
				return db.translate(err)
			}
		}
		return nil
	})
	if errors.Is(err, errWindowFull) {
		used, err = db.windowUse(ctx, app, slots)
		return used, false, err
	}
	return used, err == nil, err
}

// windowUse reads the slots' counts: 0 for a window not begun, the limit
// for one whose stored start is later.
func (db *DB) windowUse(ctx context.Context, app string, slots []provider.Slot) ([]int, error) {
	used := make([]int, len(slots))
	for i, s := range slots {
		var n int
		var later bool
		err := db.read.QueryRowContext(ctx, `SELECT used, window_start > $3 FROM provider_rate_windows
			WHERE app = $1 AND name = $2 AND window_start >= $3`, app, s.Name, db.t(s.Start)).Scan(&n, &later)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, db.translate(err)
		case later:
			used[i] = max(s.Limit, 1)
		default:
			used[i] = n
		}
	}
	return used, nil
}

// Raise sets the window's count to used when that is more (the
// provider's own count), if the stored window is the slot's.
func (db *DB) Raise(ctx context.Context, app string, s provider.Slot, used int) error {
	_, err := db.write.ExecContext(ctx, `UPDATE provider_rate_windows SET used = $4
		WHERE app = $1 AND name = $2 AND window_start = $3 AND used < $4`, app, s.Name, db.t(s.Start), used)
	return db.translate(err)
}
