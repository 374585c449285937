package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
)

// Idempotency-Keys, per owner: a user, or "client:<id>". A key is "running" from BeginRequest until
// CompleteRequest stores the response ("done") or ReleaseRequest deletes
// it. Claiming is one INSERT … ON CONFLICT DO NOTHING, so two concurrent
// requests with one key cannot both run.

// abandonAfter is when a key still running is taken to belong to a
// request whose process died, and may be claimed again.
const abandonAfter = 10 * time.Minute

const (
	keyRunning = "running"
	keyDone    = "done"
)

// BeginRequest claims r.Key for r, or returns the request holding it.
func (db *DB) BeginRequest(ctx context.Context, r *cairn.IdempotentRequest) (*cairn.IdempotentRequest, error) {
	userID, err := reachOwner(ctx, r.Owner)
	if err != nil {
		return nil, err
	}
	now := db.now()
	r.CreatedAt, r.ExpiresAt = now, now.Add(cairn.IdempotencyTTL)
	res, err := db.write.ExecContext(ctx, `INSERT INTO idempotency_requests
		(owner, user_id, idem_key, method, path, request_hash, state, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (owner, idem_key) DO NOTHING`,
		r.Owner, nullString(userID), r.Key, r.Method, r.Path, r.Hash, keyRunning, db.t(r.CreatedAt), db.t(r.ExpiresAt))
	if claimed, err := db.claimed(res, err); claimed || err != nil {
		return nil, err
	}
	// An expired key, or one abandoned while running, is claimed afresh.
	res, err = db.write.ExecContext(ctx, `UPDATE idempotency_requests SET method = $1, path = $2,
		request_hash = $3, state = $4, response_status = NULL, response_headers = NULL, response_body = NULL,
		created_at = $5, expires_at = $6
		WHERE owner = $7 AND idem_key = $8 AND (expires_at < $5 OR (state = $4 AND created_at < $9))`,
		r.Method, r.Path, r.Hash, keyRunning, db.t(r.CreatedAt), db.t(r.ExpiresAt), r.Owner, r.Key,
		db.t(now.Add(-abandonAfter)))
	if claimed, err := db.claimed(res, err); claimed || err != nil {
		return nil, err
	}
	return db.findRequest(ctx, r.Owner, r.Key)
}

func (db *DB) claimed(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, db.translate(err)
	}
	n, err := res.RowsAffected()
	return n == 1, db.translate(err)
}

func (db *DB) findRequest(ctx context.Context, owner, key string) (*cairn.IdempotentRequest, error) {
	p := &cairn.IdempotentRequest{Owner: owner, Key: key}
	var state string
	var status sql.NullInt64
	var header json.RawMessage
	var body []byte
	err := db.write.QueryRowContext(ctx, `SELECT method, path, request_hash, state, response_status,
		response_headers, response_body, created_at, expires_at FROM idempotency_requests
		WHERE owner = $1 AND idem_key = $2`, owner, key).Scan(&p.Method, &p.Path, &p.Hash, &state,
		&status, js(&header), &body, tm(&p.CreatedAt), tm(&p.ExpiresAt))
	if err != nil {
		return nil, db.translate(err)
	}
	if state == keyDone {
		p.Response = &cairn.StoredResponse{Status: int(status.Int64), Body: body}
		if len(header) > 0 {
			if err := json.Unmarshal(header, &p.Response.Header); err != nil {
				return nil, db.translate(err)
			}
		}
	}
	return p, nil
}

// CompleteRequest stores the response of a key claimed by BeginRequest.
func (db *DB) CompleteRequest(ctx context.Context, owner, key string, resp cairn.StoredResponse) error {
	if _, err := reachOwner(ctx, owner); err != nil {
		return err
	}
	header, err := jsonOf(resp.Header)
	if err != nil {
		return err
	}
	body := resp.Body
	if body == nil {
		body = []byte{}
	}
	res, err := db.write.ExecContext(ctx, `UPDATE idempotency_requests SET state = $1, response_status = $2,
		response_headers = $3, response_body = $4 WHERE owner = $5 AND idem_key = $6 AND state = $7`,
		keyDone, resp.Status, header, body, owner, key, keyRunning)
	return db.affected(res, err)
}

// ReleaseRequest deletes a running key, so that a retry runs again.
func (db *DB) ReleaseRequest(ctx context.Context, owner, key string) error {
	if _, err := reachOwner(ctx, owner); err != nil {
		return err
	}
	_, err := db.write.ExecContext(ctx, "DELETE FROM idempotency_requests WHERE owner = $1 AND idem_key = $2 AND state = $3",
		owner, key, keyRunning)
	return db.translate(err)
}

// reachOwner checks that the actor may use owner's keys, and returns the
// owner's user id ("" for a client).
func reachOwner(ctx context.Context, owner string) (string, error) {
	client, isClient := strings.CutPrefix(owner, "client:")
	if !isClient {
		return owner, reach(ctx, owner)
	}
	a, err := actor(ctx)
	if err != nil {
		return "", err
	}
	if !a.System && !(a.IsClient() && a.ClientID == client) {
		return "", cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return "", nil
}
