package sqldb

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
)

const userColumns = "id, email, name, locale, timezone, password_hash, roles, status, created_at, updated_at, deleted_at"

func scanUser(s interface{ Scan(...any) error }) (*cairn.User, error) {
	var u cairn.User
	var roles string
	err := s.Scan(&u.ID, &u.Email, &u.Name, &u.Locale, &u.Timezone, &u.PasswordHash, &roles,
		&u.Status, tm(&u.CreatedAt), tm(&u.UpdatedAt), tmp(&u.DeletedAt))
	u.Roles = splitSpaces[string](roles)
	return &u, err
}

// CreateUser inserts u, filling ID and timestamps. Only the system and
// admins create users.
func (db *DB) CreateUser(ctx context.Context, u *cairn.User) error {
	return db.createUser(ctx, db.write, u)
}

// CreateUser inserts u in the transaction (a confirmed sign-up creates
// its user with the confirmation).
func (tx *Tx) CreateUser(ctx context.Context, u *cairn.User) error {
	return tx.db.createUser(ctx, tx.tx, u)
}

func (db *DB) createUser(ctx context.Context, q queryer, u *cairn.User) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if !a.System && !a.Admin {
		return cairn.Errorf(cairn.EFORBIDDEN, "only admins create users")
	}
	if u.ID == "" {
		u.ID = NewID()
	}
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	now := db.now()
	u.CreatedAt, u.UpdatedAt = now, now
	if u.Status == "" {
		u.Status = cairn.UserActive
	}
	if u.Locale == "" {
		u.Locale = "en"
	}
	if u.Timezone == "" {
		u.Timezone = "UTC"
	}
	if len(u.Roles) == 0 {
		u.Roles = []string{cairn.RoleUser}
	}
	_, err = q.ExecContext(ctx, `INSERT INTO users
		(id, email, name, locale, timezone, password_hash, roles, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		u.ID, u.Email, u.Name, u.Locale, u.Timezone, u.PasswordHash, joinSpaces(u.Roles), u.Status,
		db.t(u.CreatedAt), db.t(u.UpdatedAt))
	if cairn.ErrorCode(db.translate(err)) == cairn.ECONFLICT {
		return cairn.Errorf(cairn.ECONFLICT, "a user with this email already exists")
	}
	return db.translate(err)
}

// FindUser returns the user with id if the actor may see it.
func (db *DB) FindUser(ctx context.Context, id string) (*cairn.User, error) {
	if err := reach(ctx, id); err != nil {
		return nil, err
	}
	u, err := scanUser(db.read.QueryRowContext(ctx,
		"SELECT "+userColumns+" FROM users WHERE id = $1 AND deleted_at IS NULL", id))
	return u, db.translate(err)
}

// FindUserByEmail returns the user with email; the system and admins only
// (login and the CLI look users up by email).
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*cairn.User, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	u, err := scanUser(db.read.QueryRowContext(ctx,
		"SELECT "+userColumns+" FROM users WHERE email = $1 AND deleted_at IS NULL",
		strings.ToLower(strings.TrimSpace(email))))
	if err != nil {
		return nil, db.translate(err)
	}
	if !a.CanReach(u.ID) {
		return nil, cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return u, nil
}

// ListUsers lists users matching the query, newest first (admins only).
func (db *DB) ListUsers(ctx context.Context, f cairn.UserFilter) (*cairn.Page[cairn.User], error) {
	q := pageQuery{columns: userColumns, table: "users", timeCol: "created_at", page: f.Page,
		filter: fingerprint("users", f.Query)}
	own, err := ownerFilter(ctx, &q.args, "id")
	if err != nil {
		return nil, err
	}
	q.where = []string{own, "deleted_at IS NULL"}
	if f.Query != "" {
		like := "%" + strings.ToLower(f.Query) + "%"
		q.where = append(q.where, "(email LIKE "+q.args.add(like)+" OR id = "+q.args.add(f.Query)+")")
	}
	return queryPage(ctx, db, q, func(r *sql.Rows) (keyed[cairn.User], error) {
		u, err := scanUser(r)
		if err != nil {
			return keyed[cairn.User]{}, err
		}
		return keyed[cairn.User]{row: *u, time: u.CreatedAt, id: u.ID}, nil
	})
}

// CreateToken stores a personal access token (its hash only).
func (db *DB) CreateToken(ctx context.Context, t *cairn.PersonalAccessToken) error {
	if err := reach(ctx, t.UserID); err != nil {
		return err
	}
	if t.ID == "" {
		t.ID = NewID()
	}
	t.CreatedAt = db.now()
	_, err := db.write.ExecContext(ctx, `INSERT INTO personal_access_tokens
		(id, user_id, name, token_hash, scopes, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.UserID, t.Name, t.Hash, joinSpaces(t.Scopes), db.tp(t.ExpiresAt), db.t(t.CreatedAt))
	return db.translate(err)
}

// FindTokenUser looks a token and its live user up by the hash of the
// token's secret, before there is an actor.
func (db *DB) FindTokenUser(ctx context.Context, hash []byte) (*cairn.PersonalAccessToken, *cairn.User, error) {
	var t cairn.PersonalAccessToken
	var u cairn.User
	var scopes, roles string
	err := db.read.QueryRowContext(ctx, `SELECT t.id, t.user_id, t.name, t.token_hash, t.scopes, t.expires_at,
		t.last_used_at, t.revoked_at, t.created_at, u.id, u.email, u.name, u.locale, u.timezone, u.password_hash,
		u.roles, u.status, u.created_at, u.updated_at, u.deleted_at
		FROM personal_access_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND u.deleted_at IS NULL`, hash).
		Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &scopes, tmp(&t.ExpiresAt), tmp(&t.LastUsedAt),
			tmp(&t.RevokedAt), tm(&t.CreatedAt), &u.ID, &u.Email, &u.Name, &u.Locale, &u.Timezone,
			&u.PasswordHash, &roles, &u.Status, tm(&u.CreatedAt), tm(&u.UpdatedAt), tmp(&u.DeletedAt))
	if err != nil {
		return nil, nil, db.translate(err)
	}
	t.Scopes, u.Roles = splitSpaces[cairn.Scope](scopes), splitSpaces[string](roles)
	return &t, &u, nil
}

// TouchToken sets a token's last_used_at to t when it is older than
// cairn.TokenTouchInterval; the condition in the UPDATE makes processes
// racing on one token write once. It runs before there is an actor, like
// FindTokenUser: the caller holds the token's secret.
func (db *DB) TouchToken(ctx context.Context, id string, t time.Time) error {
	_, err := db.write.ExecContext(ctx, `UPDATE personal_access_tokens SET last_used_at = $1
		WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)`,
		db.t(t), id, db.t(t.Add(-cairn.TokenTouchInterval)))
	return db.translate(err)
}

// FindTokenByHash looks a token up by the hash of its secret. It runs
// before there is an actor: the hash itself is the proof of ownership.
func (db *DB) FindTokenByHash(ctx context.Context, hash []byte) (*cairn.PersonalAccessToken, error) {
	var t cairn.PersonalAccessToken
	var scopes string
	err := db.read.QueryRowContext(ctx, `SELECT id, user_id, name, token_hash, scopes, expires_at,
		last_used_at, revoked_at, created_at FROM personal_access_tokens WHERE token_hash = $1`, hash).
		Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &scopes, tmp(&t.ExpiresAt), tmp(&t.LastUsedAt),
			tmp(&t.RevokedAt), tm(&t.CreatedAt))
	t.Scopes = splitSpaces[cairn.Scope](scopes)
	return &t, db.translate(err)
}
