package sqldb

import (
	"context"

	"github.com/cairn-fit/cairn"
)

// Self-service sign-ups waiting for their address to be confirmed, the
// lookup of reset tokens for the reset page, and the end of a user's
// sessions after a password reset. All of it runs before anyone is signed
// in, as the system: the hashes of secret tokens are the proof.

const signUpColumns = "id, email, name, password_hash, token_hash, expires_at, used_at, created_at"

func scanSignUp(s interface{ Scan(...any) error }) (*cairn.SignUp, error) {
	var u cairn.SignUp
	err := s.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Hash, tm(&u.ExpiresAt), tmp(&u.UsedAt), tm(&u.CreatedAt))
	return &u, err
}

// CreateSignUp stores a sign-up waiting for confirmation.
func (db *DB) CreateSignUp(ctx context.Context, s *cairn.SignUp) error {
	if err := system(ctx); err != nil {
		return err
	}
	s.ID = NewID()
	s.CreatedAt = db.now()
	_, err := db.write.ExecContext(ctx, `INSERT INTO signups (id, email, name, password_hash, token_hash, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, s.ID, s.Email, s.Name, s.PasswordHash, s.Hash, db.t(s.ExpiresAt), db.t(s.CreatedAt))
	return db.translate(err)
}

// FindSignUp returns the sign-up with this token hash, used or expired
// alike (the page tells which); NOT_FOUND when there is none.
func (db *DB) FindSignUp(ctx context.Context, hash []byte) (*cairn.SignUp, error) {
	if err := system(ctx); err != nil {
		return nil, err
	}
	s, err := scanSignUp(db.read.QueryRowContext(ctx, "SELECT "+signUpColumns+" FROM signups WHERE token_hash = $1", hash))
	return s, db.translate(err)
}

// ConsumeSignUp uses the unexpired, unused sign-up with this token hash
// and voids the other sign-ups of its address (the address is taken once
// this one becomes an account). NOT_FOUND when it is unknown, used or
// expired; a second confirmation racing this one finds it used.
func (tx *Tx) ConsumeSignUp(ctx context.Context, hash []byte) (*cairn.SignUp, error) {
	if err := system(ctx); err != nil {
		return nil, err
	}
	now := tx.db.t(tx.db.now())
	s, err := scanSignUp(tx.tx.QueryRowContext(ctx, `UPDATE signups SET used_at = $1
		WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING `+signUpColumns, now, hash))
	if err != nil {
		return nil, tx.db.translate(err)
	}
	_, err = tx.tx.ExecContext(ctx, "UPDATE signups SET used_at = $1 WHERE email = $2 AND used_at IS NULL", now, s.Email)
	return s, tx.db.translate(err)
}

// FindPasswordReset returns the reset token with this hash, used or
// expired alike (the reset page tells which); NOT_FOUND when unknown.
func (db *DB) FindPasswordReset(ctx context.Context, hash []byte) (*cairn.PasswordReset, error) {
	if err := system(ctx); err != nil {
		return nil, err
	}
	var r cairn.PasswordReset
	err := db.read.QueryRowContext(ctx, `SELECT id, user_id, token_hash, expires_at, used_at, created_at
		FROM password_resets WHERE token_hash = $1`, hash).
		Scan(&r.ID, &r.UserID, &r.Hash, tm(&r.ExpiresAt), tmp(&r.UsedAt), tm(&r.CreatedAt))
	if err != nil {
		return nil, db.translate(err)
	}
	return &r, nil
}

// EndUserSessions signs a user out everywhere, in the transaction of a
// password reset: it deletes the user's web sessions and OAuth codes and
// tokens (access and refresh: the apps must ask again), and denies device
// grants approved but not yet collected. It returns how many sessions and
// tokens went.
func (tx *Tx) EndUserSessions(ctx context.Context, userID string) (sessions, tokens int64, err error) {
	if err := system(ctx); err != nil {
		return 0, 0, err
	}
	count := func(q string, args ...any) (int64, error) {
		res, err := tx.tx.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, tx.db.translate(err)
		}
		n, err := res.RowsAffected()
		return n, tx.db.translate(err)
	}
	if sessions, err = count("DELETE FROM web_sessions WHERE user_id = $1", userID); err != nil {
		return 0, 0, err
	}
	if tokens, err = count("DELETE FROM oauth_tokens WHERE user_id = $1", userID); err != nil {
		return 0, 0, err
	}
	_, err = count("UPDATE oauth_device_grants SET status = $1 WHERE user_id = $2 AND status = $3",
		cairn.DeviceDenied, userID, cairn.DeviceApproved)
	return sessions, tokens, err
}
