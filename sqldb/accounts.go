package sqldb

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cairn-fit/cairn"
)

// Account lifecycle: freezing, soft deletion and purging of users, and
// password reset tokens.

// adminOnly refuses actors other than admins and the system.
func adminOnly(ctx context.Context) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if !a.Admin && !a.System {
		return cairn.Errorf(cairn.EFORBIDDEN, "only admins manage accounts")
	}
	return nil
}

// SetUserStatus freezes (cairn.UserFrozen) or unfreezes (cairn.UserActive)
// a live user; admins and the system only. It returns the user as it is now.
func (tx *Tx) SetUserStatus(ctx context.Context, id, status string) (*cairn.User, error) {
	if err := adminOnly(ctx); err != nil {
		return nil, err
	}
	if status != cairn.UserActive && status != cairn.UserFrozen {
		return nil, cairn.Invalid(map[string]string{"status": "must be active or frozen"})
	}
	u, err := scanUser(tx.tx.QueryRowContext(ctx, `UPDATE users SET status = $1, updated_at = $2
		WHERE id = $3 AND deleted_at IS NULL RETURNING `+userColumns, status, tx.db.t(tx.db.now()), id))
	return u, tx.db.translate(err)
}

// SoftDeleteUser marks a live user deleted: it disappears from every
// lookup and its tokens stop working, while its rows wait for the purge.
// It returns the deletion time, which the purge job checks.
func (tx *Tx) SoftDeleteUser(ctx context.Context, id string) (time.Time, error) {
	if err := adminOnly(ctx); err != nil {
		return time.Time{}, err
	}
	now := tx.db.now()
	res, err := tx.tx.ExecContext(ctx, "UPDATE users SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
		tx.db.t(now), id)
	return now, tx.db.affected(res, err)
}

// RestoreUser undoes a soft deletion that has not been purged yet.
func (tx *Tx) RestoreUser(ctx context.Context, id string) (*cairn.User, error) {
	if err := adminOnly(ctx); err != nil {
		return nil, err
	}
	u, err := scanUser(tx.tx.QueryRowContext(ctx, `UPDATE users SET deleted_at = NULL, updated_at = $1
		WHERE id = $2 AND deleted_at IS NOT NULL RETURNING `+userColumns, tx.db.t(tx.db.now()), id))
	return u, tx.db.translate(err)
}

// purgeBatch is how many rows one purge statement deletes, so that no
// single statement holds the writer for long.
const purgeBatch = 5000

// PurgeUser deletes every row of a user deleted at deletedAt: the rows of
// every table with a user_id column (batch by batch), then the user. The
// audit log keeps its entries. It is idempotent: a user already purged
// answers (nil, nil); PRECONDITION_FAILED when the user is live, or was
// restored and deleted again since (another job will purge it). It
// returns how many rows went, per table. The system only.
func (db *DB) PurgeUser(ctx context.Context, id string, deletedAt time.Time) (map[string]int64, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.System {
		return nil, cairn.Errorf(cairn.EFORBIDDEN, "only the system purges users")
	}
	var at *time.Time
	err = db.write.QueryRowContext(ctx, "SELECT deleted_at FROM users WHERE id = $1", id).Scan(tmp(&at))
	if cairn.ErrorCode(db.translate(err)) == cairn.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, db.translate(err)
	}
	if at == nil || !at.Equal(deletedAt.UTC().Truncate(time.Microsecond)) {
		return nil, cairn.Errorf(cairn.EPRECONDITION, "the user is not deleted, or was deleted again since")
	}
	tables, err := db.userTables(ctx)
	if err != nil {
		return nil, err
	}
	key := "rowid"
	if db.d.Name == "postgres" {
		key = "ctid"
	}
	counts := map[string]int64{}
	for _, t := range tables {
		q := fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE user_id = $1 LIMIT %d)", t, key, key, t, purgeBatch)
		for {
			res, err := db.write.ExecContext(ctx, q, id)
			if err != nil {
				return nil, db.translate(fmt.Errorf("purge %s: %w", t, err))
			}
			n, err := res.RowsAffected()
			if err != nil {
				return nil, db.translate(err)
			}
			counts[t] += n
			if n < purgeBatch {
				break
			}
		}
	}
	res, err := db.write.ExecContext(ctx, "DELETE FROM users WHERE id = $1 AND deleted_at IS NOT NULL", id)
	if err != nil {
		return nil, db.translate(err)
	}
	n, _ := res.RowsAffected()
	counts["users"] = n
	return counts, nil
}

// userTables lists the tables that hold a user's rows: every table with a
// user_id column but users itself and the append-only audit log. It is read
// from the schema, so that tables added later are purged too.
func (db *DB) userTables(ctx context.Context) ([]string, error) {
	q := `SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND p.name = 'user_id'`
	if db.d.Name == "postgres" {
		q = `SELECT c.table_name FROM information_schema.columns c
			JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
			WHERE c.column_name = 'user_id' AND c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`
	}
	rows, err := db.write.QueryContext(ctx, q)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, db.translate(err)
		}
		if t != "users" && t != "audit_log" {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, db.translate(rows.Err())
}

// CreatePasswordReset stores a reset token (its hash).
func (db *DB) CreatePasswordReset(ctx context.Context, r *cairn.PasswordReset) error {
	if err := reach(ctx, r.UserID); err != nil {
		return err
	}
	r.ID = NewID()
	r.CreatedAt = db.now()
	_, err := db.write.ExecContext(ctx, `INSERT INTO password_resets (id, user_id, token_hash, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5)`, r.ID, r.UserID, r.Hash, db.t(r.ExpiresAt), db.t(r.CreatedAt))
	return db.translate(err)
}

// ConsumePasswordReset uses the unexpired, unused reset token with hash:
// it sets the user's password hash and voids the user's other reset
// tokens. It returns the user's id; NOT_FOUND when the token is unknown,
// used, expired, or its user deleted. The system only (it runs before the
// user is signed in).
func (tx *Tx) ConsumePasswordReset(ctx context.Context, hash []byte, passwordHash string) (string, error) {
	a, err := actor(ctx)
	if err != nil {
		return "", err
	}
	if !a.System {
		return "", cairn.Errorf(cairn.EFORBIDDEN, "only the system resets passwords by token")
	}
	gone := cairn.Errorf(cairn.ENOTFOUND, "the reset link is invalid or has expired")
	now := tx.db.t(tx.db.now())
	var userID string
	err = tx.tx.QueryRowContext(ctx, `UPDATE password_resets SET used_at = $1
		WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id`, now, hash).Scan(&userID)
	if cairn.ErrorCode(tx.db.translate(err)) == cairn.ENOTFOUND {
		return "", gone
	} else if err != nil {
		return "", tx.db.translate(err)
	}
	res, err := tx.tx.ExecContext(ctx, "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND deleted_at IS NULL",
		passwordHash, now, userID)
	if cairn.ErrorCode(tx.db.affected(res, err)) == cairn.ENOTFOUND {
		return "", gone
	} else if err != nil {
		return "", tx.db.translate(err)
	}
	_, err = tx.tx.ExecContext(ctx, "UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL", now, userID)
	return userID, tx.db.translate(err)
}

// purgeExpiredIdentity deletes what has served its time: finished or
// expired reset tokens and sign-ups, WebAuthn ceremonies, TOTP enrollments never
// confirmed within a day, and session MFA records a month old.
func (db *DB) purgeExpiredIdentity(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range []struct {
		sql string
		at  time.Time
	}{
		{"DELETE FROM password_resets WHERE expires_at < $1 OR used_at IS NOT NULL", now},
		{"DELETE FROM signups WHERE expires_at < $1 OR used_at IS NOT NULL", now},
		{"DELETE FROM webauthn_ceremonies WHERE expires_at < $1", now},
		{"DELETE FROM mfa_factors WHERE confirmed_at IS NULL AND created_at < $1", now.Add(-24 * time.Hour)},
		{"DELETE FROM mfa_sessions WHERE verified_at < $1", now.Add(-30 * 24 * time.Hour)},
	} {
		res, err := db.write.ExecContext(ctx, q.sql, db.t(q.at))
		if err != nil {
			return total, db.translate(err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
