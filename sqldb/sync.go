package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
)

// Provider connections, sync sessions and their items, enrichments and
// the shared weather and place caches (see migration 00060).

const connectionColumns = `id, user_id, provider, external_user_id, access_token_enc, refresh_token_enc,
	access_token_hash, expires_at, scopes, status, created_at, updated_at`

func scanConnection(s interface{ Scan(...any) error }) (*cairn.Connection, error) {
	var c cairn.Connection
	err := s.Scan(&c.ID, &c.UserID, &c.Provider, &c.ExternalUserID, &c.AccessTokenEnc, &c.RefreshTokenEnc,
		&c.AccessTokenHash, tmp(&c.ExpiresAt), &c.Scopes, &c.Status, tm(&c.CreatedAt), tm(&c.UpdatedAt))
	return &c, err
}

// ConnectionAD is the "row id" a connection's tokens are sealed for: the
// user and the provider, which identify the row for good (one connection
// per user and provider), whichever id the row has.
func ConnectionAD(userID, provider string) string { return userID + "/" + provider }

// UpsertConnection stores the user's connection to c.Provider: created,
// or updated with new tokens and made active again. c's id and times are
// filled from the stored row.
func (db *DB) UpsertConnection(ctx context.Context, c *cairn.Connection) error {
	if err := reach(ctx, c.UserID); err != nil {
		return err
	}
	now := db.now()
	if c.Status == "" {
		c.Status = cairn.ConnectionActive
	}
	row := db.write.QueryRowContext(ctx, `INSERT INTO provider_connections (`+connectionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
		ON CONFLICT (user_id, provider) DO UPDATE SET external_user_id = excluded.external_user_id,
			access_token_enc = excluded.access_token_enc, refresh_token_enc = excluded.refresh_token_enc,
			`+prevTokenHash+`, access_token_hash = excluded.access_token_hash, expires_at = excluded.expires_at, scopes = excluded.scopes, status = excluded.status,
			updated_at = excluded.updated_at
		RETURNING `+connectionColumns,
		NewID(), c.UserID, c.Provider, c.ExternalUserID, c.AccessTokenEnc, c.RefreshTokenEnc, c.AccessTokenHash, db.tp(c.ExpiresAt),
		c.Scopes, c.Status, db.t(now))
	got, err := scanConnection(row)
	if err != nil {
		return db.translate(err)
	}
	*c = *got
	return nil
}

// FindConnection returns the user's connection to the provider, revoked
// or not.
func (db *DB) FindConnection(ctx context.Context, userID, provider string) (*cairn.Connection, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	c, err := scanConnection(db.read.QueryRowContext(ctx, "SELECT "+connectionColumns+
		" FROM provider_connections WHERE user_id = $1 AND provider = $2", userID, provider))
	return c, db.translate(err)
}

// FindConnectionByExternal returns the active connection of a provider's
// user (a webhook names the provider's user id).
func (db *DB) FindConnectionByExternal(ctx context.Context, provider, externalUserID string) (*cairn.Connection, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	c, err := scanConnection(db.read.QueryRowContext(ctx, "SELECT "+connectionColumns+
		" FROM provider_connections WHERE provider = "+b.add(provider)+" AND external_user_id = "+b.add(externalUserID)+
		" AND status = 'active' AND "+own+" ORDER BY updated_at DESC LIMIT 1", b.args...))
	return c, db.translate(err)
}

// prevTokenHash keeps the hash of the access token being replaced: a
// push sent with it may arrive after the refresh.
const prevTokenHash = `prev_access_token_hash = CASE WHEN provider_connections.access_token_hash = excluded.access_token_hash
	THEN provider_connections.prev_access_token_hash ELSE provider_connections.access_token_hash END`

// FindConnectionByAccessToken returns the active connection of a
// provider whose access token (or the one before its last refresh) has
// this hash (a Garmin push names the user's token).
func (db *DB) FindConnectionByAccessToken(ctx context.Context, provider, tokenHash string) (*cairn.Connection, error) {
	if tokenHash == "" {
		return nil, cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	p, h := b.add(provider), b.add(tokenHash)
	c, err := scanConnection(db.read.QueryRowContext(ctx, "SELECT "+connectionColumns+
		" FROM provider_connections WHERE provider = "+p+" AND (access_token_hash = "+h+" OR prev_access_token_hash = "+h+
		") AND status = 'active' AND "+own+" ORDER BY updated_at DESC LIMIT 1", b.args...))
	return c, db.translate(err)
}

// ListConnections lists the user's connections, oldest first.
func (db *DB) ListConnections(ctx context.Context, userID string) ([]cairn.Connection, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, "SELECT "+connectionColumns+
		" FROM provider_connections WHERE user_id = $1 ORDER BY created_at, id", userID)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	var out []cairn.Connection
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, db.translate(err)
		}
		out = append(out, *c)
	}
	return out, db.translate(rows.Err())
}

// UpdateConnectionTokens writes refreshed tokens of a live connection.
func (db *DB) UpdateConnectionTokens(ctx context.Context, c *cairn.Connection) error {
	if err := reach(ctx, c.UserID); err != nil {
		return err
	}
	c.UpdatedAt = db.now()
	res, err := db.write.ExecContext(ctx, `UPDATE provider_connections SET access_token_enc = $1,
		refresh_token_enc = $2, expires_at = $3, updated_at = $4,
		prev_access_token_hash = CASE WHEN access_token_hash = $7 THEN prev_access_token_hash ELSE access_token_hash END,
		access_token_hash = $7
		WHERE user_id = $5 AND provider = $6 AND status = 'active'`,
		c.AccessTokenEnc, c.RefreshTokenEnc, db.tp(c.ExpiresAt), db.t(c.UpdatedAt), c.UserID, c.Provider, c.AccessTokenHash)
	return db.affected(res, err)
}

// RevokeConnection marks the user's connection revoked and forgets its
// tokens; then, in the same transaction, runs also (events, when the
// outbox is there). NOT_FOUND when there is no live connection.
func (db *DB) RevokeConnection(ctx context.Context, userID, provider string, also func(*Tx, *cairn.Connection) error) (*cairn.Connection, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	var c *cairn.Connection
	err := db.InTx(ctx, func(tx *Tx) error {
		var err error
		c, err = scanConnection(tx.tx.QueryRowContext(ctx, `UPDATE provider_connections SET status = 'revoked',
			access_token_enc = NULL, refresh_token_enc = NULL, access_token_hash = '', prev_access_token_hash = '',
			updated_at = $1
			WHERE user_id = $2 AND provider = $3 AND status = 'active' RETURNING `+connectionColumns,
			db.t(db.now()), userID, provider))
		if err != nil {
			return db.translate(err)
		}
		if also != nil {
			return also(tx, c)
		}
		return nil
	})
	return c, err
}

// AuthState is an OAuth authorization in progress: who asked, for which
// provider, and the PKCE verifier (sealed) when the provider wants one.
type AuthState struct {
	StateHash   string
	UserID      string
	Provider    string
	VerifierEnc []byte
	ExpiresAt   time.Time
}

// CreateAuthState records an authorization in progress.
func (db *DB) CreateAuthState(ctx context.Context, s *AuthState) error {
	if err := reach(ctx, s.UserID); err != nil {
		return err
	}
	now := db.now()
	_, err := db.write.ExecContext(ctx, `INSERT INTO provider_auth_states (state_hash, user_id, provider,
		verifier_enc, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		s.StateHash, s.UserID, s.Provider, s.VerifierEnc, db.t(s.ExpiresAt), db.t(now))
	if err != nil {
		return db.translate(err)
	}
	// Expired states of anyone are of no use: clear them now and then.
	_, err = db.write.ExecContext(ctx, "DELETE FROM provider_auth_states WHERE expires_at < $1", db.t(now))
	return db.translate(err)
}

// TakeAuthState consumes a live authorization state: a state is good once.
// It needs the system actor (the callback has no user yet).
func (db *DB) TakeAuthState(ctx context.Context, stateHash string) (*AuthState, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.System {
		return nil, cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	var s AuthState
	err = db.write.QueryRowContext(ctx, `DELETE FROM provider_auth_states WHERE state_hash = $1 AND expires_at > $2
		RETURNING state_hash, user_id, provider, verifier_enc, expires_at`, stateHash, db.t(db.now())).
		Scan(&s.StateHash, &s.UserID, &s.Provider, &s.VerifierEnc, tm(&s.ExpiresAt))
	if err != nil {
		return nil, db.translate(err)
	}
	return &s, nil
}

const syncColumns = `id, user_id, provider, type, status, phase, range_start, range_end, estimated, fetched,
	enriched, stored, failed, checkpoint, errors, retries, started_at, finished_at, created_at, updated_at`

func scanSync(s interface{ Scan(...any) error }) (*cairn.SyncSession, error) {
	var x cairn.SyncSession
	var cp, errs json.RawMessage
	c := &x.Counters
	err := s.Scan(&x.ID, &x.UserID, &x.Provider, &x.Type, &x.Status, &x.Phase, tmp(&x.RangeStart), tmp(&x.RangeEnd),
		&c.Estimated, &c.Fetched, &c.Enriched, &c.Stored, &c.Failed, js(&cp), js(&errs), &x.Retries,
		tmp(&x.StartedAt), tmp(&x.FinishedAt), tm(&x.CreatedAt), tm(&x.UpdatedAt))
	if err != nil {
		return nil, err
	}
	if len(cp) > 0 {
		if err := json.Unmarshal(cp, &x.Checkpoint); err != nil {
			return nil, err
		}
	}
	if len(errs) > 0 {
		if err := json.Unmarshal(errs, &x.Errors); err != nil {
			return nil, err
		}
	}
	if x.Errors == nil {
		x.Errors = []cairn.SyncError{}
	}
	return &x, nil
}

// CreateSyncSession records a new session; also runs in the same
// transaction (to enqueue its job).
func (db *DB) CreateSyncSession(ctx context.Context, s *cairn.SyncSession, also func(*Tx) error) error {
	if err := reach(ctx, s.UserID); err != nil {
		return err
	}
	if s.ID == "" {
		s.ID = NewID()
	}
	now := db.now()
	s.CreatedAt, s.UpdatedAt = now, now
	if s.Status == "" {
		s.Status, s.Phase = cairn.SyncInitiated, cairn.SyncInitiated
	}
	if s.Errors == nil {
		s.Errors = []cairn.SyncError{}
	}
	cp, err := jsonOf(s.Checkpoint)
	if err != nil {
		return err
	}
	errs, err := jsonOf(s.Errors)
	if err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO sync_sessions (`+syncColumns+`) VALUES
			($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, 0, 0, 0, $9, $10, 0, NULL, NULL, $11, $11)`,
			s.ID, s.UserID, s.Provider, s.Type, string(s.Status), string(s.Phase), db.tp(s.RangeStart), db.tp(s.RangeEnd),
			cp, errs, db.t(now))
		if err != nil {
			return db.translate(err)
		}
		if also != nil {
			return also(tx)
		}
		return nil
	})
}

// FindSyncSession returns a session the actor may see.
func (db *DB) FindSyncSession(ctx context.Context, id string) (*cairn.SyncSession, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	s, err := scanSync(db.read.QueryRowContext(ctx, "SELECT "+syncColumns+" FROM sync_sessions WHERE id = "+
		b.add(id)+" AND "+own, b.args...))
	return s, db.translate(err)
}

// ListSyncSessions lists the user's sessions, newest first.
func (db *DB) ListSyncSessions(ctx context.Context, userID string, page cairn.PageRequest) (*cairn.Page[cairn.SyncSession], error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	q := pageQuery{columns: syncColumns, table: "sync_sessions", timeCol: "created_at", page: page,
		filter: fingerprint("sync_sessions", userID)}
	q.where = []string{"user_id = " + q.args.add(userID)}
	return queryPage(ctx, db, q, func(r *sql.Rows) (keyed[cairn.SyncSession], error) {
		s, err := scanSync(r)
		if err != nil {
			return keyed[cairn.SyncSession]{}, err
		}
		return keyed[cairn.SyncSession]{row: *s, time: s.CreatedAt, id: s.ID}, nil
	})
}

// ClaimSyncSession takes the session's lease for owner until the given
// time, when nobody else holds a live one, and returns the session. A
// session another worker holds answers CONFLICT.
func (db *DB) ClaimSyncSession(ctx context.Context, id, owner string, until time.Time) (*cairn.SyncSession, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	now := db.now()
	s, err := scanSync(db.write.QueryRowContext(ctx, "UPDATE sync_sessions SET lease_owner = "+b.add(owner)+
		", lease_until = "+b.add(db.t(until))+" WHERE id = "+b.add(id)+" AND "+own+
		" AND (lease_owner = "+b.add(owner)+" OR lease_until IS NULL OR lease_until < "+b.add(db.t(now))+
		") RETURNING "+syncColumns, b.args...))
	if err == sql.ErrNoRows {
		if _, ferr := db.FindSyncSession(ctx, id); ferr != nil {
			return nil, ferr
		}
		return nil, cairn.Errorf(cairn.ECONFLICT, "another worker runs this sync session")
	}
	return s, db.translate(err)
}

// ReleaseSyncSession gives up owner's lease.
func (db *DB) ReleaseSyncSession(ctx context.Context, id, owner string) error {
	_, err := db.write.ExecContext(ctx, `UPDATE sync_sessions SET lease_owner = '', lease_until = NULL
		WHERE id = $1 AND lease_owner = $2`, id, owner)
	return db.translate(err)
}

// SaveSyncSession writes the session's state (status, phase, checkpoint,
// errors, retries, times) and extends owner's lease; the counters are
// the items' to change. PRECONDITION_FAILED when owner lost the lease.
func (db *DB) SaveSyncSession(ctx context.Context, s *cairn.SyncSession, owner string, leaseUntil time.Time) error {
	if err := reach(ctx, s.UserID); err != nil {
		return err
	}
	return db.InTx(ctx, func(tx *Tx) error { return tx.SaveSyncSession(ctx, s, owner, leaseUntil) })
}

// SaveSyncSession is DB.SaveSyncSession inside a transaction.
func (tx *Tx) SaveSyncSession(ctx context.Context, s *cairn.SyncSession, owner string, leaseUntil time.Time) error {
	db := tx.db
	if err := reach(ctx, s.UserID); err != nil {
		return err
	}
	cp, err := jsonOf(s.Checkpoint)
	if err != nil {
		return err
	}
	errs, err := jsonOf(s.Errors)
	if err != nil {
		return err
	}
	s.UpdatedAt = db.now()
	res, err := tx.tx.ExecContext(ctx, `UPDATE sync_sessions SET status = $1, phase = $2, checkpoint = $3,
		errors = $4, retries = $5, started_at = $6, finished_at = $7, updated_at = $8, lease_until = $9
		WHERE id = $10 AND user_id = $11 AND lease_owner = $12`,
		string(s.Status), string(s.Phase), cp, errs, s.Retries, db.tp(s.StartedAt), db.tp(s.FinishedAt),
		db.t(s.UpdatedAt), db.t(leaseUntil), s.ID, s.UserID, owner)
	if err != nil {
		return db.translate(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return cairn.Errorf(cairn.EPRECONDITION, "the sync session's lease was lost")
	}
	return nil
}

// ResumableSyncSessions lists the sessions nobody works on that should
// go on: not completed, not failed for good, lease expired or never
// taken. It needs the system actor.
func (db *DB) ResumableSyncSessions(ctx context.Context, limit int) ([]cairn.SyncSession, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, "SELECT "+syncColumns+` FROM sync_sessions
		WHERE status NOT IN ('COMPLETED', 'FAILED') AND (lease_until IS NULL OR lease_until < `+b.add(db.t(db.now()))+
		") AND "+own+" ORDER BY updated_at LIMIT "+b.add(limit), b.args...)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	var out []cairn.SyncSession
	for rows.Next() {
		s, err := scanSync(rows)
		if err != nil {
			return nil, db.translate(err)
		}
		out = append(out, *s)
	}
	return out, db.translate(rows.Err())
}

// Sync item states: listed (seen in a list page), fetched (details and
// streams staged), enriched (weather and place looked up), stored (an
// activity), linked (the same recording was already there: one more
// source), failed (given up).
const (
	ItemListed   = "listed"
	ItemFetched  = "fetched"
	ItemEnriched = "enriched"
	ItemStored   = "stored"
	ItemLinked   = "linked"
	ItemFailed   = "failed"
)

// SyncItem is one provider activity a session works on.
type SyncItem struct {
	SessionID        string
	UserID           string
	Provider         string
	ExternalID       string
	Start, End       time.Time
	State            string
	Summary          json.RawMessage
	DetailRef        string
	StreamsRef       string
	Weather          *cairn.Weather
	Place            *cairn.Place
	EnrichmentStatus cairn.EnrichmentStatus
	ActivityID       *string
	Error            string
}

const itemColumns = `session_id, user_id, provider, external_id, start_time, end_time, state, summary,
	detail_ref, streams_ref, weather, place, enrichment_status, activity_id, error`

func scanItem(s interface{ Scan(...any) error }) (*SyncItem, error) {
	var it SyncItem
	var weather, place json.RawMessage
	var status string
	var activity sql.NullString
	err := s.Scan(&it.SessionID, &it.UserID, &it.Provider, &it.ExternalID, tm(&it.Start), tm(&it.End), &it.State,
		js(&it.Summary), &it.DetailRef, &it.StreamsRef, js(&weather), js(&place), &status, &activity, &it.Error)
	if err != nil {
		return nil, err
	}
	if len(weather) > 0 && string(weather) != "null" {
		it.Weather = &cairn.Weather{}
		if err := json.Unmarshal(weather, it.Weather); err != nil {
			return nil, err
		}
	}
	if len(place) > 0 && string(place) != "null" {
		it.Place = &cairn.Place{}
		if err := json.Unmarshal(place, it.Place); err != nil {
			return nil, err
		}
	}
	it.EnrichmentStatus = cairn.ParseEnrichmentStatus(status)
	if activity.Valid {
		it.ActivityID = &activity.String
	}
	return &it, nil
}

// AddSyncItems records listed items (those already recorded in the
// session are left alone) and the session's checkpoint, in one
// transaction: a page is listed once. It counts the new items into the
// session's estimate and returns how many were new.
func (db *DB) AddSyncItems(ctx context.Context, s *cairn.SyncSession, owner string, leaseUntil time.Time, items []SyncItem) (int, error) {
	if err := reach(ctx, s.UserID); err != nil {
		return 0, err
	}
	added := 0
	err := db.InTx(ctx, func(tx *Tx) error {
		now := db.t(db.now())
		for _, it := range items {
			res, err := tx.tx.ExecContext(ctx, `INSERT INTO sync_items (session_id, user_id, provider, external_id,
				start_time, end_time, state, summary, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (session_id, external_id) DO NOTHING`,
				s.ID, s.UserID, it.Provider, it.ExternalID, db.t(it.Start), db.t(it.End), ItemListed,
				jsonArg(it.Summary), now)
			if err != nil {
				return db.translate(err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				added++
			}
		}
		if _, err := tx.tx.ExecContext(ctx, "UPDATE sync_sessions SET estimated = estimated + $1 WHERE id = $2",
			added, s.ID); err != nil {
			return db.translate(err)
		}
		return tx.SaveSyncSession(ctx, s, owner, leaseUntil)
	})
	if err == nil {
		s.Counters.Estimated += added
	}
	return added, err
}

// SyncItems returns up to limit of the session's items in the state,
// oldest first, starting after the given external id ("" from the start).
func (db *DB) SyncItems(ctx context.Context, userID, sessionID, state string, limit int) ([]SyncItem, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, "SELECT "+itemColumns+` FROM sync_items
		WHERE session_id = $1 AND user_id = $2 AND state = $3 ORDER BY start_time, external_id LIMIT $4`,
		sessionID, userID, state, limit)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	var out []SyncItem
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, db.translate(err)
		}
		out = append(out, *it)
	}
	return out, db.translate(rows.Err())
}

// counterOf names the session counter an item state adds to.
var counterOf = map[string]string{ItemFetched: "fetched", ItemEnriched: "enriched", ItemStored: "stored",
	ItemFailed: "failed"}

// AdvanceSyncItem writes the item's new state and what came with it, and
// adds one to the session's counters the state reaches: a linked item
// counts as fetched, enriched and stored (nothing was needed), a stored
// one as stored. Works inside tx when given (the transaction that stored
// the activity), else in its own.
func (db *DB) AdvanceSyncItem(ctx context.Context, tx *Tx, it *SyncItem) error {
	if tx == nil {
		return db.InTx(ctx, func(tx *Tx) error { return db.AdvanceSyncItem(ctx, tx, it) })
	}
	if err := reach(ctx, it.UserID); err != nil {
		return err
	}
	weather, err := jsonOrNull(it.Weather)
	if err != nil {
		return err
	}
	place, err := jsonOrNull(it.Place)
	if err != nil {
		return err
	}
	res, err := tx.tx.ExecContext(ctx, `UPDATE sync_items SET state = $1, detail_ref = $2, streams_ref = $3,
		weather = $4, place = $5, enrichment_status = $6, activity_id = $7, error = $8, updated_at = $9
		WHERE session_id = $10 AND external_id = $11 AND user_id = $12 AND state <> $1`,
		it.State, it.DetailRef, it.StreamsRef, weather, place, it.EnrichmentStatus.String(), it.ActivityID,
		it.Error, db.t(db.now()), it.SessionID, it.ExternalID, it.UserID)
	if err != nil {
		return db.translate(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // already there: counted before
	}
	var counters []string
	switch it.State {
	case ItemLinked:
		counters = []string{"fetched", "enriched", "stored"}
	case ItemListed:
	default:
		counters = []string{counterOf[it.State]}
	}
	if len(counters) == 0 {
		return nil
	}
	set := make([]string, len(counters))
	for i, c := range counters {
		set[i] = c + " = " + c + " + 1"
	}
	_, err = tx.tx.ExecContext(ctx, "UPDATE sync_sessions SET "+strings.Join(set, ", ")+", updated_at = $1 WHERE id = $2",
		db.t(db.now()), it.SessionID)
	return db.translate(err)
}

// UpdateSyncItemStaging records what was staged for an item that stays in
// its state (its details, before its streams).
func (db *DB) UpdateSyncItemStaging(ctx context.Context, it *SyncItem) error {
	if err := reach(ctx, it.UserID); err != nil {
		return err
	}
	_, err := db.write.ExecContext(ctx, `UPDATE sync_items SET detail_ref = $1, streams_ref = $2, updated_at = $3
		WHERE session_id = $4 AND external_id = $5 AND user_id = $6`,
		it.DetailRef, it.StreamsRef, db.t(db.now()), it.SessionID, it.ExternalID, it.UserID)
	return db.translate(err)
}

// KnownExternalIDs returns which of the provider's ids the user already
// has as a source of a live activity.
func (db *DB) KnownExternalIDs(ctx context.Context, userID, provider string, ids []string) (map[string]bool, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		var b argList
		marks := make([]string, n)
		for i := range n {
			marks[i] = b.add(ids[i])
		}
		rows, err := db.read.QueryContext(ctx, `SELECT s.external_id FROM activity_sources s
			JOIN activities a ON a.id = s.activity_id AND a.deleted_at IS NULL
			WHERE s.user_id = `+b.add(userID)+" AND s.provider = "+b.add(provider)+
			" AND s.external_id IN ("+strings.Join(marks, ", ")+")", b.args...)
		if err != nil {
			return nil, db.translate(err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, db.translate(err)
			}
			known[id] = true
		}
		rows.Close()
		ids = ids[n:]
	}
	return known, nil
}

func jsonOrNull[T any](v *T) (any, error) {
	if v == nil {
		return nil, nil
	}
	return jsonOf(v)
}

// WeatherDays returns the cached hours of a weather cell for the days
// (YYYY-MM-DD) it has.
func (db *DB) WeatherDays(ctx context.Context, cellLat, cellLon int, days []string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	for len(days) > 0 {
		n := min(len(days), 500)
		var b argList
		marks := make([]string, n)
		for i := range n {
			marks[i] = b.add(days[i])
		}
		rows, err := db.read.QueryContext(ctx, "SELECT day, hours FROM weather_days WHERE cell_lat = "+b.add(cellLat)+
			" AND cell_lon = "+b.add(cellLon)+" AND day IN ("+strings.Join(marks, ", ")+")", b.args...)
		if err != nil {
			return nil, db.translate(err)
		}
		for rows.Next() {
			var day string
			var hours json.RawMessage
			if err := rows.Scan(&day, js(&hours)); err != nil {
				rows.Close()
				return nil, db.translate(err)
			}
			out[day] = hours
		}
		rows.Close()
		days = days[n:]
	}
	return out, nil
}

// PutWeatherDays caches a cell's hours by day.
func (db *DB) PutWeatherDays(ctx context.Context, cellLat, cellLon int, days map[string]json.RawMessage) error {
	return db.InTx(ctx, func(tx *Tx) error {
		now := db.t(db.now())
		for day, hours := range days {
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO weather_days (cell_lat, cell_lon, day, hours, fetched_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cell_lat, cell_lon, day) DO UPDATE SET hours = excluded.hours,
				fetched_at = excluded.fetched_at`, cellLat, cellLon, day, string(hours), now); err != nil {
				return db.translate(err)
			}
		}
		return nil
	})
}

// GeocodePlace returns a cached place: found false with a nil place when
// the geocoder had none there; NOT_FOUND when it was never asked.
func (db *DB) GeocodePlace(ctx context.Context, latKey, lonKey int) (*cairn.Place, error) {
	var p cairn.Place
	var found bool
	err := db.read.QueryRowContext(ctx, `SELECT found, city, state, country FROM geocode_places
		WHERE lat_key = $1 AND lon_key = $2`, latKey, lonKey).Scan(&found, &p.City, &p.State, &p.Country)
	if err != nil {
		return nil, db.translate(err)
	}
	if !found {
		return nil, nil
	}
	return &p, nil
}

// PutGeocodePlace caches a place (nil: the geocoder had none).
func (db *DB) PutGeocodePlace(ctx context.Context, latKey, lonKey int, p *cairn.Place) error {
	found := p != nil
	if p == nil {
		p = &cairn.Place{}
	}
	_, err := db.write.ExecContext(ctx, `INSERT INTO geocode_places (lat_key, lon_key, found, city, state, country,
		fetched_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (lat_key, lon_key) DO UPDATE SET
		found = excluded.found, city = excluded.city, state = excluded.state, country = excluded.country,
		fetched_at = excluded.fetched_at`, latKey, lonKey, found, p.City, p.State, p.Country, db.t(db.now()))
	return db.translate(err)
}

// UpsertEnrichment stores an activity's enrichment and its status.
func (tx *Tx) UpsertEnrichment(ctx context.Context, e *cairn.Enrichment, lat, lon *float64) error {
	db := tx.db
	if err := reach(ctx, e.UserID); err != nil {
		return err
	}
	e.UpdatedAt = db.now()
	w := e.Weather
	if w == nil {
		w = &cairn.Weather{}
	}
	p := e.Place
	if p == nil {
		p = &cairn.Place{}
	}
	var observed *time.Time
	if !w.ObservedAt.IsZero() {
		observed = &w.ObservedAt
	}
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO activity_enrichments (activity_id, user_id, latitude, longitude,
		observed_at, temperature_c, feels_like_c, humidity_pct, pressure_hpa, wind_speed_ms, wind_direction_deg,
		weather_code, conditions, uv_index, city, state, country, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		ON CONFLICT (activity_id) DO UPDATE SET latitude = excluded.latitude, longitude = excluded.longitude,
		observed_at = excluded.observed_at, temperature_c = excluded.temperature_c,
		feels_like_c = excluded.feels_like_c, humidity_pct = excluded.humidity_pct,
		pressure_hpa = excluded.pressure_hpa, wind_speed_ms = excluded.wind_speed_ms,
		wind_direction_deg = excluded.wind_direction_deg, weather_code = excluded.weather_code,
		conditions = excluded.conditions, uv_index = excluded.uv_index, city = excluded.city,
		state = excluded.state, country = excluded.country, updated_at = excluded.updated_at`,
		e.ActivityID, e.UserID, lat, lon, db.tp(observed), w.TemperatureC, w.FeelsLikeC, w.HumidityPct, w.PressureHPa,
		w.WindSpeedMS, w.WindDirection, w.WeatherCode, w.Conditions, w.UVIndex, p.City, p.State, p.Country,
		db.t(e.UpdatedAt))
	if err != nil {
		return db.translate(err)
	}
	_, err = tx.tx.ExecContext(ctx, "UPDATE activities SET enrichment_status = $1 WHERE id = $2 AND user_id = $3",
		e.Status.String(), e.ActivityID, e.UserID)
	return db.translate(err)
}

// FindEnrichment returns an activity's enrichment.
func (db *DB) FindEnrichment(ctx context.Context, activityID string) (*cairn.Enrichment, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "e.user_id")
	if err != nil {
		return nil, err
	}
	e := cairn.Enrichment{Weather: &cairn.Weather{}, Place: &cairn.Place{}}
	w := e.Weather
	var observed *time.Time
	var status string
	var code sql.NullInt64
	err = db.read.QueryRowContext(ctx, `SELECT e.activity_id, e.user_id, e.observed_at, e.temperature_c,
		e.feels_like_c, e.humidity_pct, e.pressure_hpa, e.wind_speed_ms, e.wind_direction_deg, e.weather_code,
		e.conditions, e.uv_index, e.city, e.state, e.country, e.updated_at, a.enrichment_status
		FROM activity_enrichments e JOIN activities a ON a.id = e.activity_id
		WHERE e.activity_id = `+b.add(activityID)+" AND "+own, b.args...).Scan(&e.ActivityID, &e.UserID,
		tmp(&observed), &w.TemperatureC, &w.FeelsLikeC, &w.HumidityPct, &w.PressureHPa, &w.WindSpeedMS,
		&w.WindDirection, &code, &w.Conditions, &w.UVIndex, &e.Place.City, &e.Place.State, &e.Place.Country,
		tm(&e.UpdatedAt), &status)
	if err != nil {
		return nil, db.translate(err)
	}
	if observed != nil {
		w.ObservedAt = *observed
	} else {
		e.Weather = nil
	}
	if code.Valid {
		n := int(code.Int64)
		w.WeatherCode = &n
	}
	if *e.Place == (cairn.Place{}) {
		e.Place = nil
	}
	e.Status = cairn.ParseEnrichmentStatus(status)
	return &e, nil
}

// EnrichmentTarget is an activity whose enrichment is missing a part.
type EnrichmentTarget struct {
	ActivityID string
	UserID     string
	Start      time.Time
	Lat, Lon   *float64
	Status     cairn.EnrichmentStatus
}

// MissingEnrichments lists up to limit activities whose enrichment a
// provider failed to give (the system actor reaches everyone's).
func (db *DB) MissingEnrichments(ctx context.Context, limit int) ([]EnrichmentTarget, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "a.user_id")
	if err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT a.id, a.user_id, a.start_time, e.latitude, e.longitude,
		a.enrichment_status FROM activities a LEFT JOIN activity_enrichments e ON e.activity_id = a.id
		WHERE a.enrichment_status LIKE '%missing%' AND a.deleted_at IS NULL AND `+own+
		" ORDER BY a.start_time LIMIT "+b.add(limit), b.args...)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	var out []EnrichmentTarget
	for rows.Next() {
		var t EnrichmentTarget
		var status string
		if err := rows.Scan(&t.ActivityID, &t.UserID, tm(&t.Start), &t.Lat, &t.Lon, &status); err != nil {
			return nil, db.translate(err)
		}
		t.Status = cairn.ParseEnrichmentStatus(status)
		out = append(out, t)
	}
	return out, db.translate(rows.Err())
}

// FindActivityBySource returns the user's live activity that has the
// provider's record as a source.
func (tx *Tx) FindActivityBySource(ctx context.Context, userID, provider, externalID string) (*cairn.Activity, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	a, err := scanActivity(tx.tx.QueryRowContext(ctx, "SELECT "+prefixed("a.", activityColumns)+` FROM activities a
		JOIN activity_sources s ON s.activity_id = a.id
		WHERE s.user_id = $1 AND s.provider = $2 AND s.external_id = $3 AND a.deleted_at IS NULL
		ORDER BY a.created_at LIMIT 1`, userID, provider, externalID))
	return a, tx.db.translate(err)
}

// prefixed qualifies each of a comma-separated column list.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// LinkSameRecording records the item's provider record as one more
// source of the user's activity that is the same recording (start within
// 60 s, overlapping), and marks the item linked, in one transaction. It
// reports whether there was such an activity.
func (db *DB) LinkSameRecording(ctx context.Context, it *SyncItem) (bool, error) {
	linked := false
	err := db.InTx(ctx, func(tx *Tx) error {
		a, err := tx.FindSameRecording(ctx, it.UserID, it.Start, it.End)
		if cairn.ErrorCode(err) == cairn.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if err := tx.AddActivitySource(ctx, &cairn.ActivitySource{ActivityID: a.ID, UserID: it.UserID,
			Source: it.Provider, Provider: it.Provider, ExternalID: it.ExternalID}); err != nil {
			return err
		}
		it.State, it.ActivityID = ItemLinked, &a.ID
		linked = true
		return db.AdvanceSyncItem(ctx, tx, it)
	})
	return linked, err
}

// MarkWorkoutUploadedToGarmin records that the workout went to Garmin,
// under Garmin's id.
func (db *DB) MarkWorkoutUploadedToGarmin(ctx context.Context, userID, workoutID, garminID string, at time.Time) error {
	if err := reach(ctx, userID); err != nil {
		return err
	}
	res, err := db.write.ExecContext(ctx, `UPDATE workouts SET uploaded_to_garmin_at = $1, garmin_workout_id = $2,
		updated_at = $3 WHERE id = $4 AND user_id = $5 AND deleted_at IS NULL`,
		db.t(at), garminID, db.t(db.now()), workoutID, userID)
	return db.affected(res, err)
}
