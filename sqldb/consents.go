package sqldb

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cairn-fit/cairn"
)

// OAuth consents: which clients a user allowed, with which scopes. They
// decide which clients' webhook endpoints receive the user's events (the
// fan-out in AppendEvent).

// RecordOAuthConsent records the user's consent to the client, widening
// an active one's scopes; a revoked one starts afresh. The system only
// (the authorization server's pages).
func (db *DB) RecordOAuthConsent(ctx context.Context, userID, clientID string, scopes []cairn.Scope, at time.Time) error {
	if err := system(ctx); err != nil {
		return err
	}
	lock := ""
	if db.d.Name == "postgres" {
		lock = " FOR UPDATE" // a concurrent consent waits and widens what this one wrote
	}
	return db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.tx.ExecContext(ctx, `INSERT INTO oauth_consents (user_id, client_id, scopes, granted_at, updated_at)
			VALUES ($1, $2, $3, $4, $4) ON CONFLICT (user_id, client_id) DO NOTHING`,
			userID, clientID, joinSpaces(scopes), db.t(at))
		if inserted, err := db.claimed(res, err); inserted || err != nil {
			return err
		}
		var current string
		var revoked bool
		if err := tx.tx.QueryRowContext(ctx, "SELECT scopes, revoked_at IS NOT NULL FROM oauth_consents WHERE user_id = $1 AND client_id = $2"+lock,
			userID, clientID).Scan(&current, &revoked); err != nil {
			return db.translate(err)
		}
		if revoked {
			_, err = tx.tx.ExecContext(ctx, `UPDATE oauth_consents SET scopes = $1, granted_at = $2, updated_at = $2,
				revoked_at = NULL WHERE user_id = $3 AND client_id = $4`, joinSpaces(scopes), db.t(at), userID, clientID)
			return db.translate(err)
		}
		widened := cairn.UnionScopes(splitSpaces[cairn.Scope](current), scopes)
		_, err = tx.tx.ExecContext(ctx, "UPDATE oauth_consents SET scopes = $1, updated_at = $2 WHERE user_id = $3 AND client_id = $4",
			joinSpaces(widened), db.t(at), userID, clientID)
		return db.translate(err)
	})
}

// ListOAuthConsents lists the actor's active consents, with the clients'
// names, most recently changed first.
func (db *DB) ListOAuthConsents(ctx context.Context) ([]cairn.OAuthConsent, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if a.UserID == "" {
		return nil, cairn.Errorf(cairn.ENOTFOUND, "not found") // a client has no consents of its own
	}
	rows, err := db.read.QueryContext(ctx, `SELECT c.user_id, c.client_id, cl.name, c.scopes, c.granted_at, c.updated_at
		FROM oauth_consents c JOIN oauth_clients cl ON cl.id = c.client_id
		WHERE c.user_id = $1 AND c.revoked_at IS NULL ORDER BY c.updated_at DESC, c.client_id`, a.UserID)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	out := []cairn.OAuthConsent{}
	for rows.Next() {
		var c cairn.OAuthConsent
		var scopes string
		if err := rows.Scan(&c.UserID, &c.ClientID, &c.ClientName, &scopes, tm(&c.GrantedAt), tm(&c.UpdatedAt)); err != nil {
			return nil, db.translate(err)
		}
		c.Scopes = splitSpaces[cairn.Scope](scopes)
		out = append(out, c)
	}
	return out, db.translate(rows.Err())
}

// RevokeOAuthConsent ends the actor's consent to the client: the
// client's endpoints stop receiving the actor's events, its tokens for
// the actor (codes, access and refresh tokens) are deleted and its
// approved but unused device grants denied, in one transaction with the
// audit entry.
func (db *DB) RevokeOAuthConsent(ctx context.Context, clientID string) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if a.UserID == "" {
		return cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return db.InTx(ctx, func(tx *Tx) error {
		now := db.t(db.now())
		res, err := tx.tx.ExecContext(ctx, `UPDATE oauth_consents SET revoked_at = $1, updated_at = $1
			WHERE user_id = $2 AND client_id = $3 AND revoked_at IS NULL`, now, a.UserID, clientID)
		if err := db.changed(res, err, cairn.ENOTFOUND, "not found"); err != nil {
			return err
		}
		res, err = tx.tx.ExecContext(ctx, "DELETE FROM oauth_tokens WHERE user_id = $1 AND client_id = $2", a.UserID, clientID)
		if err != nil {
			return db.translate(err)
		}
		tokens, _ := res.RowsAffected()
		if _, err := tx.tx.ExecContext(ctx, `UPDATE oauth_device_grants SET status = $1
			WHERE user_id = $2 AND client_id = $3 AND status = $4`, cairn.DeviceDenied, a.UserID, clientID,
			cairn.DeviceApproved); err != nil {
			return db.translate(err)
		}
		details, _ := json.Marshal(map[string]any{"client_id": clientID, "tokens_revoked": tokens})
		return tx.RecordAudit(ctx, &cairn.AuditEntry{UserID: a.UserID, Action: cairn.AuditOAuthConsentRevoke, Details: details})
	})
}
