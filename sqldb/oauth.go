package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/cairn-fit/cairn"
)

// The OAuth2 authorization server's state. Its rows carry user_id where
// they act for a user, but its queries are keyed by the hashes of secrets
// (tokens, codes, session cookies), which prove ownership before any user
// is known: every method requires the system actor, which only the
// authorization server and the CLI use.

var _ cairn.OAuthStore = (*DB)(nil)

// system refuses callers other than the system itself.
func system(ctx context.Context) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if !a.System {
		return cairn.Errorf(cairn.EFORBIDDEN, "only the authorization server reaches OAuth state")
	}
	return nil
}

type oauthTxKey struct{}

// BeginOAuthTx starts a write transaction that travels in the context.
func (db *DB) BeginOAuthTx(ctx context.Context) (context.Context, error) {
	if err := system(ctx); err != nil {
		return ctx, err
	}
	if _, ok := ctx.Value(oauthTxKey{}).(*sql.Tx); ok {
		return ctx, cairn.Wrap(cairn.EINTERNAL, errors.New("sqldb: nested OAuth transaction"), "internal error")
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return ctx, db.translate(err)
	}
	return context.WithValue(ctx, oauthTxKey{}, tx), nil
}

// CommitOAuthTx commits the context's transaction.
func (db *DB) CommitOAuthTx(ctx context.Context) error {
	tx, ok := ctx.Value(oauthTxKey{}).(*sql.Tx)
	if !ok {
		return cairn.Wrap(cairn.EINTERNAL, errors.New("sqldb: no OAuth transaction to commit"), "internal error")
	}
	return db.translate(tx.Commit())
}

// RollbackOAuthTx rolls the context's transaction back; rolling back a
// finished one is not an error.
func (db *DB) RollbackOAuthTx(ctx context.Context) error {
	tx, ok := ctx.Value(oauthTxKey{}).(*sql.Tx)
	if !ok {
		return nil
	}
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return db.translate(err)
	}
	return nil
}

// ow is where a write goes: the context's transaction, or the writer.
func (db *DB) ow(ctx context.Context) queryer {
	if tx, ok := ctx.Value(oauthTxKey{}).(*sql.Tx); ok {
		return tx
	}
	return db.write
}

// or is where a read goes: the context's transaction (to see its own
// writes), or the reader pool.
func (db *DB) or(ctx context.Context) queryer {
	if tx, ok := ctx.Value(oauthTxKey{}).(*sql.Tx); ok {
		return tx
	}
	return db.read
}

// changed turns an UPDATE's result into NOT_FOUND when no row matched.
func (db *DB) changed(res sql.Result, err error, code, msg string) error {
	if err != nil {
		return db.translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return db.translate(err)
	}
	if n == 0 {
		return cairn.Errorf(code, "%s", msg)
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const oauthClientColumns = `id, name, secret_hash, previous_secret_hash, previous_secret_expires_at,
	redirect_uris, grant_types, scopes, public, owner_id, created_at, updated_at`

func scanOAuthClient(s interface{ Scan(...any) error }) (*cairn.OAuthClient, error) {
	var c cairn.OAuthClient
	var redirects, grants, scopes string
	var owner sql.NullString
	err := s.Scan(&c.ID, &c.Name, &c.SecretHash, &c.PreviousSecretHash, tmp(&c.PreviousSecretExpiresAt),
		&redirects, &grants, &scopes, &c.Public, &owner, tm(&c.CreatedAt), tm(&c.UpdatedAt))
	c.OwnerID = owner.String
	c.RedirectURIs = splitSpaces[string](redirects)
	c.GrantTypes = splitSpaces[string](grants)
	c.Scopes = splitSpaces[cairn.Scope](scopes)
	return &c, err
}

// CreateOAuthClient registers a client, filling ID and timestamps.
func (db *DB) CreateOAuthClient(ctx context.Context, c *cairn.OAuthClient) error {
	if err := system(ctx); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if c.ID == "" {
		c.ID = NewID()
	}
	now := db.now()
	c.CreatedAt, c.UpdatedAt = now, now
	_, err := db.ow(ctx).ExecContext(ctx, `INSERT INTO oauth_clients
		(id, name, secret_hash, redirect_uris, grant_types, scopes, public, owner_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		c.ID, c.Name, c.SecretHash, joinSpaces(c.RedirectURIs), joinSpaces(c.GrantTypes), joinSpaces(c.Scopes),
		c.Public, nullString(c.OwnerID), db.t(c.CreatedAt), db.t(c.UpdatedAt))
	return db.translate(err)
}

// FindOAuthClient returns the client with id.
func (db *DB) FindOAuthClient(ctx context.Context, id string) (*cairn.OAuthClient, error) {
	if err := system(ctx); err != nil {
		return nil, err
	}
	c, err := scanOAuthClient(db.or(ctx).QueryRowContext(ctx,
		"SELECT "+oauthClientColumns+" FROM oauth_clients WHERE id = $1", id))
	if err != nil {
		return nil, db.translate(err)
	}
	return c, nil
}

// ListOAuthClientsByOwner returns the clients ownerID registered, oldest
// first.
func (db *DB) ListOAuthClientsByOwner(ctx context.Context, ownerID string) ([]*cairn.OAuthClient, error) {
	if err := system(ctx); err != nil {
		return nil, err
	}
	rows, err := db.or(ctx).QueryContext(ctx, "SELECT "+oauthClientColumns+
		" FROM oauth_clients WHERE owner_id = $1 ORDER BY created_at, id", ownerID)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	var out []*cairn.OAuthClient
	for rows.Next() {
		c, err := scanOAuthClient(rows)
		if err != nil {
			return nil, db.translate(err)
		}
		out = append(out, c)
	}
	return out, db.translate(rows.Err())
}

// RotateOAuthClientSecret sets a new secret hash; the current one becomes
// the previous, valid until graceUntil. Public clients have no secret.
func (db *DB) RotateOAuthClientSecret(ctx context.Context, id string, hash []byte, graceUntil time.Time) (*cairn.OAuthClient, error) {
	if err := system(ctx); err != nil {
		return nil, err
	}
	res, err := db.ow(ctx).ExecContext(ctx, `UPDATE oauth_clients SET previous_secret_hash = secret_hash,
		previous_secret_expires_at = $1, secret_hash = $2, updated_at = $3 WHERE id = $4 AND NOT public`,
		db.t(graceUntil), hash, db.t(db.now()), id)
	err = db.changed(res, err, cairn.ENOTFOUND, "no confidential client with this id")
	if err != nil {
		return nil, err
	}
	return db.FindOAuthClient(ctx, id)
}

// CreateOAuthToken stores a code, PKCE request or token by its hash.
func (db *DB) CreateOAuthToken(ctx context.Context, t *cairn.OAuthToken) error {
	if err := system(ctx); err != nil {
		return err
	}
	t.CreatedAt = db.now()
	t.Active = true
	_, err := db.ow(ctx).ExecContext(ctx, `INSERT INTO oauth_tokens
		(kind, hash, request_id, client_id, user_id, active, request, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.Kind, t.Hash, t.RequestID, t.ClientID, nullString(t.UserID), true, string(t.Request),
		db.tp(t.ExpiresAt), db.t(t.CreatedAt))
	return db.translate(err)
}

// FindOAuthToken returns the stored token of kind with hash, active or not.
func (db *DB) FindOAuthToken(ctx context.Context, kind string, hash []byte) (*cairn.OAuthToken, error) {
	if err := system(ctx); err != nil {
		return nil, err
	}
	var t cairn.OAuthToken
	var user sql.NullString
	var req json.RawMessage
	err := db.or(ctx).QueryRowContext(ctx, `SELECT kind, hash, request_id, client_id, user_id, active, request,
		expires_at, created_at FROM oauth_tokens WHERE kind = $1 AND hash = $2`, kind, hash).
		Scan(&t.Kind, &t.Hash, &t.RequestID, &t.ClientID, &user, &t.Active, js(&req),
			tmp(&t.ExpiresAt), tm(&t.CreatedAt))
	if err != nil {
		return nil, db.translate(err)
	}
	t.UserID, t.Request = user.String, req
	return &t, nil
}

// DeleteOAuthToken deletes one token; deleting a missing one is no error.
func (db *DB) DeleteOAuthToken(ctx context.Context, kind string, hash []byte) error {
	if err := system(ctx); err != nil {
		return err
	}
	_, err := db.ow(ctx).ExecContext(ctx, "DELETE FROM oauth_tokens WHERE kind = $1 AND hash = $2", kind, hash)
	return db.translate(err)
}

// SpendOAuthToken marks one active token inactive. Of two concurrent
// spends exactly one succeeds: the other finds no active row.
func (db *DB) SpendOAuthToken(ctx context.Context, kind string, hash []byte) error {
	if err := system(ctx); err != nil {
		return err
	}
	res, err := db.ow(ctx).ExecContext(ctx,
		"UPDATE oauth_tokens SET active = FALSE WHERE kind = $1 AND hash = $2 AND active", kind, hash)
	err = db.changed(res, err, cairn.ECONFLICT, "the token was already used")
	if cairn.ErrorCode(err) == cairn.ECONFLICT {
		if _, ferr := db.FindOAuthToken(ctx, kind, hash); cairn.ErrorCode(ferr) == cairn.ENOTFOUND {
			return ferr
		}
	}
	return err
}

// DeactivateOAuthTokens marks every token of kind in the family inactive.
func (db *DB) DeactivateOAuthTokens(ctx context.Context, kind, requestID string) error {
	if err := system(ctx); err != nil {
		return err
	}
	_, err := db.ow(ctx).ExecContext(ctx,
		"UPDATE oauth_tokens SET active = FALSE WHERE request_id = $1 AND kind = $2", requestID, kind)
	return db.translate(err)
}

// DeleteOAuthTokens deletes every token of kind in the family.
func (db *DB) DeleteOAuthTokens(ctx context.Context, kind, requestID string) error {
	if err := system(ctx); err != nil {
		return err
	}
	_, err := db.ow(ctx).ExecContext(ctx, "DELETE FROM oauth_tokens WHERE request_id = $1 AND kind = $2", requestID, kind)
	return db.translate(err)
}

const deviceGrantColumns = `device_code_hash, user_code_hash, request_id, client_id, scopes, user_id, status,
	interval_ms, last_polled_at, expires_at, created_at`

func scanDeviceGrant(s interface{ Scan(...any) error }) (*cairn.DeviceGrant, error) {
	var g cairn.DeviceGrant
	var scopes string
	var user sql.NullString
	var interval int64
	err := s.Scan(&g.DeviceCodeHash, &g.UserCodeHash, &g.RequestID, &g.ClientID, &scopes, &user, &g.Status,
		&interval, tmp(&g.LastPolledAt), tm(&g.ExpiresAt), tm(&g.CreatedAt))
	g.Scopes, g.UserID, g.Interval = splitSpaces[cairn.Scope](scopes), user.String, time.Duration(interval)*time.Millisecond
	return &g, err
}

// CreateDeviceGrant stores a pending device authorization. A user code
// that collides with a live one answers CONFLICT.
func (db *DB) CreateDeviceGrant(ctx context.Context, g *cairn.DeviceGrant) error {
	if err := system(ctx); err != nil {
		return err
	}
	g.CreatedAt, g.Status = db.now(), cairn.DevicePending
	_, err := db.ow(ctx).ExecContext(ctx, `INSERT INTO oauth_device_grants
		(device_code_hash, user_code_hash, request_id, client_id, scopes, status, interval_ms, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		g.DeviceCodeHash, g.UserCodeHash, g.RequestID, g.ClientID, joinSpaces(g.Scopes), g.Status,
		g.Interval.Milliseconds(), db.t(g.ExpiresAt), db.t(g.CreatedAt))
	return db.translate(err)
}

// FindDeviceGrant returns the grant with this device code hash.
func (db *DB) FindDeviceGrant(ctx context.Context, deviceCodeHash []byte) (*cairn.DeviceGrant, error) {
	if err := system(ctx); err != nil {
		return nil, err
	}
	g, err := scanDeviceGrant(db.or(ctx).QueryRowContext(ctx,
		"SELECT "+deviceGrantColumns+" FROM oauth_device_grants WHERE device_code_hash = $1", deviceCodeHash))
	if err != nil {
		return nil, db.translate(err)
	}
	return g, nil
}

// FindDeviceGrantByUserCode returns the grant with this user code hash.
func (db *DB) FindDeviceGrantByUserCode(ctx context.Context, userCodeHash []byte) (*cairn.DeviceGrant, error) {
	if err := system(ctx); err != nil {
		return nil, err
	}
	g, err := scanDeviceGrant(db.or(ctx).QueryRowContext(ctx,
		"SELECT "+deviceGrantColumns+" FROM oauth_device_grants WHERE user_code_hash = $1", userCodeHash))
	if err != nil {
		return nil, db.translate(err)
	}
	return g, nil
}

// RecordDevicePoll stores when the device last polled and the interval due.
func (db *DB) RecordDevicePoll(ctx context.Context, deviceCodeHash []byte, at time.Time, interval time.Duration) error {
	if err := system(ctx); err != nil {
		return err
	}
	res, err := db.ow(ctx).ExecContext(ctx,
		"UPDATE oauth_device_grants SET last_polled_at = $1, interval_ms = $2 WHERE device_code_hash = $3",
		db.t(at), interval.Milliseconds(), deviceCodeHash)
	return db.changed(res, err, cairn.ENOTFOUND, "not found")
}

// DecideDeviceGrant approves or denies a pending grant that has not
// expired at now.
func (db *DB) DecideDeviceGrant(ctx context.Context, userCodeHash []byte, userID string, scopes []cairn.Scope, approve bool, now time.Time) error {
	if err := system(ctx); err != nil {
		return err
	}
	status := cairn.DeviceDenied
	if approve {
		status = cairn.DeviceApproved
	}
	res, err := db.ow(ctx).ExecContext(ctx, `UPDATE oauth_device_grants SET status = $1, user_id = $2, scopes = $3
		WHERE user_code_hash = $4 AND status = $5 AND expires_at > $6`,
		status, userID, joinSpaces(scopes), userCodeHash, cairn.DevicePending, db.t(now))
	return db.changed(res, err,
		cairn.ENOTFOUND, "no pending device authorization with this code")
}

// UseDeviceGrant marks an approved grant used, once.
func (db *DB) UseDeviceGrant(ctx context.Context, deviceCodeHash []byte) error {
	if err := system(ctx); err != nil {
		return err
	}
	res, err := db.ow(ctx).ExecContext(ctx,
		"UPDATE oauth_device_grants SET status = $1 WHERE device_code_hash = $2 AND status = $3",
		cairn.DeviceUsed, deviceCodeHash, cairn.DeviceApproved)
	return db.changed(res, err, cairn.ECONFLICT, "the device code was already used")
}

// CreateWebSession stores a signed-in browser session.
func (db *DB) CreateWebSession(ctx context.Context, s *cairn.WebSession) error {
	if err := system(ctx); err != nil {
		return err
	}
	s.CreatedAt = db.now()
	_, err := db.ow(ctx).ExecContext(ctx,
		`INSERT INTO web_sessions (hash, user_id, pending, mfa_at, mfa_method, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		s.Hash, s.UserID, s.Pending, db.tp(s.MFAAt), s.MFAMethod, db.t(s.ExpiresAt), db.t(s.CreatedAt))
	return db.translate(err)
}

// FindWebSession returns the session with this cookie hash.
func (db *DB) FindWebSession(ctx context.Context, hash []byte) (*cairn.WebSession, error) {
	if err := system(ctx); err != nil {
		return nil, err
	}
	var s cairn.WebSession
	err := db.or(ctx).QueryRowContext(ctx,
		`SELECT hash, user_id, pending, mfa_at, mfa_method, expires_at, created_at
		FROM web_sessions WHERE hash = $1`, hash).
		Scan(&s.Hash, &s.UserID, &s.Pending, tmp(&s.MFAAt), &s.MFAMethod, tm(&s.ExpiresAt), tm(&s.CreatedAt))
	if err != nil {
		return nil, db.translate(err)
	}
	return &s, nil
}

// DeleteWebSession ends a session (sign-out).
func (db *DB) DeleteWebSession(ctx context.Context, hash []byte) error {
	if err := system(ctx); err != nil {
		return err
	}
	_, err := db.ow(ctx).ExecContext(ctx, "DELETE FROM web_sessions WHERE hash = $1", hash)
	return db.translate(err)
}

// EnsureOAuthSecret stores candidate unless a secret exists and returns
// the stored one; of processes starting together, the first insert wins.
func (db *DB) EnsureOAuthSecret(ctx context.Context, candidate []byte) ([]byte, error) {
	if err := system(ctx); err != nil {
		return nil, err
	}
	if _, err := db.ow(ctx).ExecContext(ctx, `INSERT INTO oauth_server_secrets (id, secret, created_at)
		VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`, candidate, db.t(db.now())); err != nil {
		return nil, db.translate(err)
	}
	var secret []byte
	err := db.ow(ctx).QueryRowContext(ctx, "SELECT secret FROM oauth_server_secrets WHERE id = 1").Scan(&secret)
	return secret, db.translate(err)
}

// PurgeExpiredOAuth deletes expired codes, tokens, device grants and web
// sessions; it runs as the system. A spent refresh token is kept until
// it expires, so a reuse is recognised (and its family revoked) for as
// long as the token itself could have been used.
func (db *DB) PurgeExpiredOAuth(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, table := range []string{"oauth_tokens", "oauth_device_grants", "web_sessions"} {
		res, err := db.write.ExecContext(cairn.SystemContext(ctx), "DELETE FROM "+table+" WHERE expires_at < $1", db.t(now))
		if err != nil {
			return total, db.translate(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, db.translate(err)
		}
		total += n
	}
	return total, nil
}
