package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/cairn-fit/cairn"
)

// Second factors, recovery codes, per-session MFA checks and WebAuthn
// ceremonies. Every method takes the user the rows belong to and checks
// that the actor may reach that user.

const factorColumns = `id, user_id, kind, name, secret_enc, last_step, credential_id, credential,
	confirmed_at, last_used_at, created_at, updated_at`

func scanFactor(s interface{ Scan(...any) error }) (*cairn.MFAFactor, error) {
	var f cairn.MFAFactor
	err := s.Scan(&f.ID, &f.UserID, &f.Kind, &f.Name, &f.SecretEnc, &f.LastStep, &f.CredentialID, js(&f.Credential),
		tmp(&f.ConfirmedAt), tmp(&f.LastUsedAt), tm(&f.CreatedAt), tm(&f.UpdatedAt))
	return &f, err
}

// CreateMFAFactor stores a new factor, filling its times (and its id when
// empty: a TOTP factor's id is chosen first, as its secret is sealed for it).
func (db *DB) CreateMFAFactor(ctx context.Context, f *cairn.MFAFactor) error {
	if err := reach(ctx, f.UserID); err != nil {
		return err
	}
	if f.ID == "" {
		f.ID = NewID()
	}
	now := db.now()
	f.CreatedAt, f.UpdatedAt = now, now
	var credID any
	if len(f.CredentialID) > 0 {
		credID = f.CredentialID
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO mfa_factors (id, user_id, kind, name, secret_enc, last_step,
		credential_id, credential, confirmed_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
		f.ID, f.UserID, f.Kind, f.Name, f.SecretEnc, f.LastStep, credID, jsonArg(f.Credential), db.tp(f.ConfirmedAt), db.t(now))
	if cairn.ErrorCode(db.translate(err)) == cairn.ECONFLICT {
		return cairn.Errorf(cairn.ECONFLICT, "this authenticator is already registered")
	}
	return db.translate(err)
}

// MFAFactors returns the user's factors, oldest first, confirmed or not.
func (db *DB) MFAFactors(ctx context.Context, userID string) ([]cairn.MFAFactor, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, "SELECT "+factorColumns+" FROM mfa_factors WHERE user_id = $1 ORDER BY created_at, id", userID)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	var out []cairn.MFAFactor
	for rows.Next() {
		f, err := scanFactor(rows)
		if err != nil {
			return nil, db.translate(err)
		}
		out = append(out, *f)
	}
	return out, db.translate(rows.Err())
}

// FindMFAFactor returns one of the user's factors.
func (db *DB) FindMFAFactor(ctx context.Context, userID, id string) (*cairn.MFAFactor, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	f, err := scanFactor(db.read.QueryRowContext(ctx,
		"SELECT "+factorColumns+" FROM mfa_factors WHERE id = $1 AND user_id = $2", id, userID))
	return f, db.translate(err)
}

// ConfirmTOTPFactor marks a TOTP factor confirmed by a first code of step
// (which is then used up). CONFLICT when it is already confirmed.
func (db *DB) ConfirmTOTPFactor(ctx context.Context, userID, id string, step int64) error {
	if err := reach(ctx, userID); err != nil {
		return err
	}
	now := db.now()
	res, err := db.write.ExecContext(ctx, `UPDATE mfa_factors SET confirmed_at = $1, last_used_at = $1, updated_at = $1,
		last_step = $2 WHERE id = $3 AND user_id = $4 AND kind = 'totp' AND confirmed_at IS NULL`,
		db.t(now), step, id, userID)
	return db.conflictUnlessChanged(res, err, "the factor is already confirmed")
}

// UseTOTPStep records that a code of step was accepted, if no code of this
// step or a later one was: CONFLICT otherwise (a replayed code, or a race
// with another request using the same code).
func (db *DB) UseTOTPStep(ctx context.Context, userID, id string, step int64) error {
	if err := reach(ctx, userID); err != nil {
		return err
	}
	now := db.now()
	res, err := db.write.ExecContext(ctx, `UPDATE mfa_factors SET last_step = $1, last_used_at = $2, updated_at = $2
		WHERE id = $3 AND user_id = $4 AND kind = 'totp' AND confirmed_at IS NOT NULL AND last_step < $1`,
		step, db.t(now), id, userID)
	return db.conflictUnlessChanged(res, err, "the code was already used")
}

// UpdateWebAuthnCredential stores a passkey's credential record after a
// login (its sign count and flags move).
func (db *DB) UpdateWebAuthnCredential(ctx context.Context, userID, id string, credential json.RawMessage) error {
	if err := reach(ctx, userID); err != nil {
		return err
	}
	now := db.now()
	res, err := db.write.ExecContext(ctx, `UPDATE mfa_factors SET credential = $1, last_used_at = $2, updated_at = $2
		WHERE id = $3 AND user_id = $4 AND kind = 'webauthn'`, jsonArg(credential), db.t(now), id, userID)
	return db.affected(res, err)
}

// DeleteMFAFactor removes one of the user's factors.
func (db *DB) DeleteMFAFactor(ctx context.Context, userID, id string) error {
	if err := reach(ctx, userID); err != nil {
		return err
	}
	res, err := db.write.ExecContext(ctx, "DELETE FROM mfa_factors WHERE id = $1 AND user_id = $2", id, userID)
	return db.affected(res, err)
}

// ReplaceRecoveryCodes replaces every recovery code of the user by the
// given hashes (none: the user has no recovery codes any more).
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte) error {
	if err := reach(ctx, userID); err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, "DELETE FROM mfa_recovery_codes WHERE user_id = $1", userID); err != nil {
			return db.translate(err)
		}
		now := db.t(db.now())
		for _, h := range hashes {
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO mfa_recovery_codes (id, user_id, code_hash, created_at)
				VALUES ($1, $2, $3, $4)`, NewID(), userID, h, now); err != nil {
				return db.translate(err)
			}
		}
		return nil
	})
}

// UnusedRecoveryCodes returns the user's recovery codes not used yet.
func (db *DB) UnusedRecoveryCodes(ctx context.Context, userID string) ([]cairn.RecoveryCode, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT id, user_id, code_hash, used_at, created_at FROM mfa_recovery_codes
		WHERE user_id = $1 AND used_at IS NULL ORDER BY id`, userID)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	var out []cairn.RecoveryCode
	for rows.Next() {
		var c cairn.RecoveryCode
		if err := rows.Scan(&c.ID, &c.UserID, &c.Hash, tmp(&c.UsedAt), tm(&c.CreatedAt)); err != nil {
			return nil, db.translate(err)
		}
		out = append(out, c)
	}
	return out, db.translate(rows.Err())
}

// UseRecoveryCode marks a recovery code used: CONFLICT when it already was
// (by a concurrent request, say).
func (db *DB) UseRecoveryCode(ctx context.Context, userID, id string) error {
	if err := reach(ctx, userID); err != nil {
		return err
	}
	res, err := db.write.ExecContext(ctx, `UPDATE mfa_recovery_codes SET used_at = $1
		WHERE id = $2 AND user_id = $3 AND used_at IS NULL`, db.t(db.now()), id, userID)
	return db.conflictUnlessChanged(res, err, "the recovery code was already used")
}

// RecordMFASession records that a session passed an MFA check by method now.
func (db *DB) RecordMFASession(ctx context.Context, userID, sessionID, method string) (time.Time, error) {
	now := db.now()
	return now, db.RecordMFASessionAt(ctx, userID, sessionID, method, now)
}

// RecordMFASessionAt records that a session passed an MFA check by method
// at a given time: an OAuth grant issued from a browser that passed MFA
// at sign-in inherits that check, with its original time.
func (db *DB) RecordMFASessionAt(ctx context.Context, userID, sessionID, method string, at time.Time) error {
	if err := reach(ctx, userID); err != nil {
		return err
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO mfa_sessions (user_id, session_id, method, verified_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, session_id)
		DO UPDATE SET method = excluded.method, verified_at = excluded.verified_at`,
		userID, sessionID, method, db.t(at))
	return db.translate(err)
}

// MFASessionVerifiedAt returns when a session last passed an MFA check, and
// by which method; NOT_FOUND when it never did.
func (db *DB) MFASessionVerifiedAt(ctx context.Context, userID, sessionID string) (time.Time, string, error) {
	if err := reach(ctx, userID); err != nil {
		return time.Time{}, "", err
	}
	var at time.Time
	var method string
	err := db.read.QueryRowContext(ctx, "SELECT verified_at, method FROM mfa_sessions WHERE user_id = $1 AND session_id = $2",
		userID, sessionID).Scan(tm(&at), &method)
	return at, method, db.translate(err)
}

// CreateWebAuthnCeremony keeps a WebAuthn ceremony's session data until it
// is finished (or expires).
func (db *DB) CreateWebAuthnCeremony(ctx context.Context, userID, kind string, session json.RawMessage, expires time.Time) (string, error) {
	if err := reach(ctx, userID); err != nil {
		return "", err
	}
	id := NewID()
	_, err := db.write.ExecContext(ctx, `INSERT INTO webauthn_ceremonies (id, user_id, kind, session, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, userID, kind, jsonArg(session), db.t(expires), db.t(db.now()))
	return id, db.translate(err)
}

// TakeWebAuthnCeremony removes and returns a ceremony's session data: a
// ceremony finishes once. NOT_FOUND when it does not exist, belongs to
// another user, is of another kind or has expired.
func (db *DB) TakeWebAuthnCeremony(ctx context.Context, userID, id, kind string) (json.RawMessage, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	var session json.RawMessage
	var gotKind string
	var expires time.Time
	err := db.write.QueryRowContext(ctx, `DELETE FROM webauthn_ceremonies WHERE id = $1 AND user_id = $2
		RETURNING kind, session, expires_at`, id, userID).Scan(&gotKind, js(&session), tm(&expires))
	if err != nil {
		return nil, db.translate(err)
	}
	if gotKind != kind || !db.now().Before(expires) {
		return nil, cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return session, nil
}

// conflictUnlessChanged turns "no row changed" into CONFLICT with message.
func (db *DB) conflictUnlessChanged(res sql.Result, err error, message string) error {
	if err != nil {
		return db.translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return db.translate(err)
	}
	if n == 0 {
		return cairn.Errorf(cairn.ECONFLICT, "%s", message)
	}
	return nil
}
