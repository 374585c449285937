package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
)

// Webhook endpoints and deliveries. Secrets arrive sealed (the webhooks
// package seals them, bound to their row and column) and are stored as
// they come.

const endpointColumns = `id, user_id, client_id, url, event_types, enabled, disabled_reason, failing_since,
	old_secret_expires_at, created_at, updated_at`

func scanEndpoint(s interface{ Scan(...any) error }) (*cairn.WebhookEndpoint, error) {
	var e cairn.WebhookEndpoint
	var user sql.NullString
	var types string
	err := s.Scan(&e.ID, &user, &e.ClientID, &e.URL, &types, &e.Enabled, &e.DisabledReason, tmp(&e.FailingSince),
		tmp(&e.PreviousSecretExpiresAt), tm(&e.CreatedAt), tm(&e.UpdatedAt))
	e.UserID = user.String
	e.EventTypes = splitSpaces[cairn.EventType](types)
	return &e, err
}

// endpointOwner returns a WHERE fragment restricting endpoints to the
// actor's: an OAuth client's own (client credentials; never a user's), a
// user's own (never a client's, whose user_id is NULL), or every one for
// admin users and the system. prefix qualifies the columns ("e.").
func endpointOwner(ctx context.Context, b *argList, prefix string) (string, error) {
	a, err := actor(ctx)
	if err != nil {
		return "", err
	}
	if a.IsClient() {
		return prefix + "client_id = " + b.add(a.ClientID) + " AND " + prefix + "user_id IS NULL", nil
	}
	return ownerFilter(ctx, b, prefix+"user_id")
}

// reachEndpoint checks that the actor may write e: a client its own, a
// user theirs.
func reachEndpoint(ctx context.Context, e *cairn.WebhookEndpoint) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if a.IsClient() || e.ClientID != "" {
		if !(a.System || a.IsClient() && e.ClientID == a.ClientID && e.UserID == "") {
			return cairn.Errorf(cairn.ENOTFOUND, "not found")
		}
		return nil
	}
	return reach(ctx, e.UserID)
}

// CreateWebhookEndpoint inserts e (its id already set, since the sealed
// secret is bound to it) for its owner: e.UserID or e.ClientID.
func (db *DB) CreateWebhookEndpoint(ctx context.Context, e *cairn.WebhookEndpoint, sealedSecret []byte) error {
	if err := reachEndpoint(ctx, e); err != nil {
		return err
	}
	var user any
	if e.UserID != "" {
		user = e.UserID
	}
	if e.ID == "" {
		return cairn.Wrap(cairn.EINTERNAL, fmt.Errorf("sqldb: webhook endpoint without id"), "internal error")
	}
	now := db.now()
	e.CreatedAt, e.UpdatedAt = now, now
	_, err := db.write.ExecContext(ctx, `INSERT INTO webhook_endpoints (id, user_id, client_id, url, event_types,
		secret_enc, enabled, disabled_reason, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.ID, user, e.ClientID, e.URL, joinSpaces(e.EventTypes), sealedSecret, e.Enabled, e.DisabledReason,
		db.t(now), db.t(now))
	return db.translate(err)
}

// FindWebhookEndpoint returns an endpoint the actor may see.
func (db *DB) FindWebhookEndpoint(ctx context.Context, id string) (*cairn.WebhookEndpoint, error) {
	return db.findEndpoint(ctx, db.read, id)
}

func (db *DB) findEndpoint(ctx context.Context, q queryer, id string) (*cairn.WebhookEndpoint, error) {
	var b argList
	own, err := endpointOwner(ctx, &b, "")
	if err != nil {
		return nil, err
	}
	e, err := scanEndpoint(q.QueryRowContext(ctx, "SELECT "+endpointColumns+" FROM webhook_endpoints WHERE id = "+
		b.add(id)+" AND "+own, b.args...))
	return e, db.translate(err)
}

// ListWebhookEndpoints lists the actor's endpoints (every user's for
// admins), newest first.
func (db *DB) ListWebhookEndpoints(ctx context.Context, page cairn.PageRequest) (*cairn.Page[cairn.WebhookEndpoint], error) {
	q := pageQuery{columns: endpointColumns, table: "webhook_endpoints", timeCol: "created_at", page: page}
	own, err := endpointOwner(ctx, &q.args, "")
	if err != nil {
		return nil, err
	}
	a, _ := actor(ctx)
	q.filter = fingerprint("webhook_endpoints", a.UserID, a.ClientID, a.Admin)
	q.where = []string{own}
	return queryPage(ctx, db, q, func(r *sql.Rows) (keyed[cairn.WebhookEndpoint], error) {
		e, err := scanEndpoint(r)
		if err != nil {
			return keyed[cairn.WebhookEndpoint]{}, err
		}
		return keyed[cairn.WebhookEndpoint]{row: *e, time: e.CreatedAt, id: e.ID}, nil
	})
}

// UpdateWebhookEndpoint writes e's url, event types and state while the
// stored endpoint was last changed at seen.
func (db *DB) UpdateWebhookEndpoint(ctx context.Context, e *cairn.WebhookEndpoint, seen time.Time) error {
	if err := reachEndpoint(ctx, e); err != nil {
		return err
	}
	next := db.nextVersion(seen)
	b := argList{args: []any{e.URL, joinSpaces(e.EventTypes), e.Enabled, e.DisabledReason, db.tp(e.FailingSince),
		db.t(next), e.ID, db.t(seen)}}
	own, err := endpointOwner(ctx, &b, "")
	if err != nil {
		return err
	}
	res, err := db.write.ExecContext(ctx, `UPDATE webhook_endpoints SET url = $1, event_types = $2, enabled = $3,
		disabled_reason = $4, failing_since = $5, updated_at = $6 WHERE id = $7 AND updated_at = $8 AND `+own, b.args...)
	if err != nil {
		return db.translate(err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return db.translate(err)
	} else if n == 0 {
		if _, err := db.FindWebhookEndpoint(ctx, e.ID); err != nil {
			return err
		}
		return cairn.Errorf(cairn.EPRECONDITION, "the resource was changed by another request; read it again")
	}
	e.UpdatedAt = next
	return nil
}

// DeleteWebhookEndpoint deletes an endpoint and its deliveries.
func (db *DB) DeleteWebhookEndpoint(ctx context.Context, id string) error {
	var b argList
	own, err := endpointOwner(ctx, &b, "")
	if err != nil {
		return err
	}
	res, err := db.write.ExecContext(ctx, "DELETE FROM webhook_endpoints WHERE id = "+b.add(id)+" AND "+own, b.args...)
	if err != nil {
		return db.translate(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return nil
}

// WebhookSecret returns an endpoint's sealed current secret.
func (db *DB) WebhookSecret(ctx context.Context, id string) ([]byte, error) {
	var b argList
	own, err := endpointOwner(ctx, &b, "")
	if err != nil {
		return nil, err
	}
	var sealed []byte
	err = db.read.QueryRowContext(ctx, "SELECT secret_enc FROM webhook_endpoints WHERE id = "+b.add(id)+" AND "+own,
		b.args...).Scan(&sealed)
	return sealed, db.translate(err)
}

// RotateWebhookSecret replaces the endpoint's secret, which must still be
// was, by secret, keeping previous (the old one, sealed for its new
// column) until expires.
func (db *DB) RotateWebhookSecret(ctx context.Context, id string, was, secret, previous []byte, expires time.Time) (*cairn.WebhookEndpoint, error) {
	var b argList
	own, err := endpointOwner(ctx, &b, "")
	if err != nil {
		return nil, err
	}
	e, err := scanEndpoint(db.write.QueryRowContext(ctx, "UPDATE webhook_endpoints SET secret_enc = "+b.add(secret)+
		", old_secret_enc = "+b.add(previous)+", old_secret_expires_at = "+b.add(db.t(expires))+
		", updated_at = "+b.add(db.t(db.now()))+" WHERE id = "+b.add(id)+" AND secret_enc = "+b.add(was)+
		" AND "+own+" RETURNING "+endpointColumns, b.args...))
	if err == sql.ErrNoRows {
		if _, ferr := db.FindWebhookEndpoint(ctx, id); ferr != nil {
			return nil, ferr
		}
		return nil, cairn.Errorf(cairn.ECONFLICT, "the secret was rotated meanwhile; try again")
	}
	return e, db.translate(err)
}

const deliveryColumns = `id, user_id, endpoint_id, event_id, event_type, status, attempts, attempt_count,
	next_attempt_at, created_at, updated_at`

func scanDelivery(s interface{ Scan(...any) error }) (*cairn.WebhookDelivery, error) {
	var d cairn.WebhookDelivery
	var user sql.NullString
	var attempts json.RawMessage
	err := s.Scan(&d.ID, &user, &d.EndpointID, &d.EventID, &d.EventType, &d.Status, js(&attempts), &d.AttemptCount,
		tmp(&d.NextAttemptAt), tm(&d.CreatedAt), tm(&d.UpdatedAt))
	if err != nil {
		return nil, err
	}
	d.UserID = user.String
	d.Attempts = []cairn.DeliveryAttempt{}
	if len(attempts) > 0 {
		if err := json.Unmarshal(attempts, &d.Attempts); err != nil {
			return nil, fmt.Errorf("sqldb: delivery %s attempts: %w", d.ID, err)
		}
	}
	return &d, nil
}

// ListWebhookDeliveries lists an endpoint's deliveries, newest first.
func (db *DB) ListWebhookDeliveries(ctx context.Context, f cairn.DeliveryFilter) (*cairn.Page[cairn.WebhookDelivery], error) {
	if _, err := db.FindWebhookEndpoint(ctx, f.EndpointID); err != nil {
		return nil, err
	}
	q := pageQuery{columns: deliveryColumns, table: "webhook_deliveries", timeCol: "created_at", page: f.Page,
		filter: fingerprint("webhook_deliveries", f.EndpointID, f.Status)}
	// The endpoint is the actor's (found above): all its deliveries are
	// theirs. A client's carry the user_id of each consenting user.
	q.where = []string{"endpoint_id = " + q.args.add(f.EndpointID)}
	if f.Status != "" {
		q.where = append(q.where, "status = "+q.args.add(f.Status))
	}
	return queryPage(ctx, db, q, func(r *sql.Rows) (keyed[cairn.WebhookDelivery], error) {
		d, err := scanDelivery(r)
		if err != nil {
			return keyed[cairn.WebhookDelivery]{}, err
		}
		return keyed[cairn.WebhookDelivery]{row: *d, time: d.CreatedAt, id: d.ID}, nil
	})
}

// FindWebhookDelivery returns a delivery the actor may see.
func (db *DB) FindWebhookDelivery(ctx context.Context, id string) (*cairn.WebhookDelivery, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	d, err := scanDelivery(db.read.QueryRowContext(ctx, "SELECT "+deliveryColumns+" FROM webhook_deliveries WHERE id = "+
		b.add(id)+" AND "+own, b.args...))
	return d, db.translate(err)
}

// replayable checks, in tx, that the endpoint exists for the actor and is
// enabled.
func (tx *Tx) replayable(ctx context.Context, endpointID string) error {
	e, err := tx.db.findEndpoint(ctx, tx.tx, endpointID)
	if err != nil {
		return err
	}
	if !e.Enabled {
		return cairn.Errorf(cairn.ECONFLICT, "the webhook is disabled: enable it before replaying")
	}
	return nil
}

// ReplayWebhookDelivery makes a delivered or dead delivery pending again
// and enqueues it, in one transaction.
func (db *DB) ReplayWebhookDelivery(ctx context.Context, endpointID, deliveryID string) (*cairn.WebhookDelivery, error) {
	var d *cairn.WebhookDelivery
	err := db.InTx(ctx, func(tx *Tx) error {
		if err := tx.replayable(ctx, endpointID); err != nil {
			return err
		}
		outbox := db.currentOutbox()
		now := db.t(db.now())
		var err error
		d, err = scanDelivery(tx.tx.QueryRowContext(ctx, `UPDATE webhook_deliveries SET status = $1, next_attempt_at = $2,
			updated_at = $3, enqueued = $4 WHERE id = $5 AND endpoint_id = $6 AND status <> $7 RETURNING `+deliveryColumns,
			cairn.DeliveryPending, now, now, outbox != nil, deliveryID, endpointID, cairn.DeliveryPending))
		if err == sql.ErrNoRows {
			var one int
			if tx.tx.QueryRowContext(ctx, "SELECT 1 FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2",
				deliveryID, endpointID).Scan(&one) == nil {
				return cairn.Errorf(cairn.ECONFLICT, "the delivery is pending: it is still being attempted")
			}
			return cairn.Errorf(cairn.ENOTFOUND, "not found")
		} else if err != nil {
			return db.translate(err)
		}
		if outbox == nil {
			return nil
		}
		return outbox.EnqueueDeliveries(ctx, tx, []cairn.WebhookDelivery{*d})
	})
	return d, err
}

// replayBatch bounds the deliveries one transaction of ReplayDead touches.
const replayBatch = 500

// ReplayDeadWebhookDeliveries replays the endpoint's dead deliveries
// created since, in transactions of a few hundred, and returns how many.
func (db *DB) ReplayDeadWebhookDeliveries(ctx context.Context, endpointID string, since time.Time) (int, error) {
	total := 0
	lock := ""
	if db.d.Name == "postgres" {
		lock = " FOR UPDATE"
	}
	for {
		var n int
		err := db.InTx(ctx, func(tx *Tx) error {
			if err := tx.replayable(ctx, endpointID); err != nil {
				return err
			}
			rows, err := tx.tx.QueryContext(ctx, "SELECT "+deliveryColumns+` FROM webhook_deliveries
				WHERE endpoint_id = $1 AND status = $2 AND created_at >= $3 ORDER BY created_at, id LIMIT `+
				fmt.Sprint(replayBatch)+lock, endpointID, cairn.DeliveryDead, db.t(since))
			if err != nil {
				return db.translate(err)
			}
			var ds []cairn.WebhookDelivery
			for rows.Next() {
				d, err := scanDelivery(rows)
				if err != nil {
					rows.Close()
					return db.translate(err)
				}
				ds = append(ds, *d)
			}
			rows.Close()
			if err := rows.Err(); err != nil || len(ds) == 0 {
				return db.translate(err)
			}
			outbox := db.currentOutbox()
			var b argList
			now := db.t(db.now())
			set := "status = " + b.add(cairn.DeliveryPending) + ", next_attempt_at = " + b.add(now) +
				", updated_at = " + b.add(now) + ", enqueued = " + b.add(outbox != nil)
			ids := make([]string, len(ds))
			for i, d := range ds {
				ids[i] = b.add(d.ID)
			}
			if _, err := tx.tx.ExecContext(ctx, "UPDATE webhook_deliveries SET "+set+" WHERE id IN ("+
				strings.Join(ids, ", ")+")", b.args...); err != nil {
				return db.translate(err)
			}
			n = len(ds)
			if outbox == nil {
				return nil
			}
			return outbox.EnqueueDeliveries(ctx, tx, ds)
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < replayBatch {
			return total, nil
		}
	}
}

// DeliveryTarget is what the delivery worker needs for one attempt: the
// delivery, its endpoint with the sealed secrets, and the event's
// envelope, the exact bytes sent.
type DeliveryTarget struct {
	Delivery       cairn.WebhookDelivery
	Endpoint       cairn.WebhookEndpoint
	Secret         []byte // sealed
	PreviousSecret []byte // sealed; nil without a rotation in grace
	Payload        []byte
}

// FindDeliveryTarget loads a delivery for an attempt, in one query.
func (db *DB) FindDeliveryTarget(ctx context.Context, deliveryID string) (*DeliveryTarget, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "d.user_id")
	if err != nil {
		return nil, err
	}
	var t DeliveryTarget
	var user sql.NullString
	var attempts, payload json.RawMessage
	d, e := &t.Delivery, &t.Endpoint
	err = db.read.QueryRowContext(ctx, `SELECT d.id, d.user_id, d.endpoint_id, d.event_id, d.event_type, d.status,
		d.attempts, d.attempt_count, d.created_at, e.url, e.enabled, e.secret_enc, e.old_secret_enc,
		e.old_secret_expires_at, e.failing_since, ev.payload
		FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id JOIN events ev ON ev.id = d.event_id
		WHERE d.id = `+b.add(deliveryID)+" AND "+own, b.args...).Scan(&d.ID, &user, &d.EndpointID, &d.EventID,
		&d.EventType, &d.Status, js(&attempts), &d.AttemptCount, tm(&d.CreatedAt), &e.URL, &e.Enabled, &t.Secret,
		&t.PreviousSecret, tmp(&e.PreviousSecretExpiresAt), tmp(&e.FailingSince), js(&payload))
	if err != nil {
		return nil, db.translate(err)
	}
	d.UserID, e.ID, e.UserID, t.Payload = user.String, d.EndpointID, user.String, payload
	if len(attempts) > 0 {
		if err := json.Unmarshal(attempts, &d.Attempts); err != nil {
			return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
		}
	}
	return &t, nil
}

// EndpointChange is what an attempt changes about its endpoint.
type EndpointChange int

const (
	EndpointUnchanged EndpointChange = iota
	// EndpointHealthy ends the endpoint's run of failures.
	EndpointHealthy
	// EndpointFailing starts a run of failures, unless one is running.
	EndpointFailing
	// EndpointDisable disables the endpoint, with an event and an audit
	// entry.
	EndpointDisable
)

// RecordDeliveryAttempt writes d's outcome (status, attempts, next
// attempt) while it is pending, and applies change to its endpoint (with
// reason for EndpointDisable). It reports whether it disabled the
// endpoint.
func (db *DB) RecordDeliveryAttempt(ctx context.Context, d *cairn.WebhookDelivery, change EndpointChange, reason string) (disabled bool, err error) {
	if err := reach(ctx, d.UserID); err != nil {
		return false, err
	}
	attempts, err := jsonOf(d.Attempts)
	if err != nil {
		return false, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	now := db.now()
	d.UpdatedAt = now
	update := func(q queryer) error {
		_, err := q.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $1, attempts = $2, attempt_count = $3,
			next_attempt_at = $4, updated_at = $5 WHERE id = $6 AND status = $7`,
			d.Status, attempts, d.AttemptCount, db.tp(d.NextAttemptAt), db.t(now), d.ID, cairn.DeliveryPending)
		return db.translate(err)
	}
	if change == EndpointUnchanged {
		return false, update(db.write) // the common case: one statement
	}
	err = db.InTx(ctx, func(tx *Tx) error {
		if err := update(tx.tx); err != nil {
			return err
		}
		var err error
		switch change {
		case EndpointHealthy:
			_, err = tx.tx.ExecContext(ctx, "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL", d.EndpointID)
		case EndpointFailing:
			_, err = tx.tx.ExecContext(ctx, "UPDATE webhook_endpoints SET failing_since = $1 WHERE id = $2 AND failing_since IS NULL", db.t(now), d.EndpointID)
		case EndpointDisable:
			disabled, err = tx.disableEndpoint(ctx, d.EndpointID, reason)
			return err
		}
		return db.translate(err)
	})
	return disabled, err
}

// RecordDeliveryAttempts writes the outcomes of several attempts that
// change nothing about their endpoints, in one transaction (one statement
// on PostgreSQL): the delivery workers' group commit.
func (db *DB) RecordDeliveryAttempts(ctx context.Context, ds []*cairn.WebhookDelivery) error {
	now := db.now()
	var b argList
	rows := make([]string, len(ds))
	for i, d := range ds {
		if err := reach(ctx, d.UserID); err != nil {
			return err
		}
		attempts, err := jsonOf(d.Attempts)
		if err != nil {
			return cairn.Wrap(cairn.EINTERNAL, err, "internal error")
		}
		d.UpdatedAt = now
		rows[i] = fmt.Sprintf("(%s::text, %s::text, %s::jsonb, %s::int, %s::timestamptz, %s::timestamptz)", b.add(d.ID),
			b.add(d.Status), b.add(attempts), b.add(d.AttemptCount), b.add(db.tp(d.NextAttemptAt)), b.add(db.t(now)))
	}
	if db.d.Name == "postgres" {
		_, err := db.write.ExecContext(ctx, `UPDATE webhook_deliveries AS d SET status = v.status, attempts = v.attempts,
			attempt_count = v.attempt_count, next_attempt_at = v.next_attempt_at, updated_at = v.updated_at
			FROM (VALUES `+strings.Join(rows, ", ")+`) AS v (id, status, attempts, attempt_count, next_attempt_at, updated_at)
			WHERE d.id = v.id AND d.status = 'pending'`, b.args...)
		return db.translate(err)
	}
	// SQLite has one writer: one transaction of small updates.
	return db.InTx(ctx, func(tx *Tx) error {
		for i := 0; i < len(b.args); i += 6 {
			if _, err := tx.tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = $2, attempts = $3, attempt_count = $4,
				next_attempt_at = $5, updated_at = $6 WHERE id = $1 AND status = 'pending'`, b.args[i:i+6]...); err != nil {
				return db.translate(err)
			}
		}
		return nil
	})
}

// disableEndpoint disables an enabled endpoint, recording the
// webhook.disabled event and an audit entry; false when it was not
// enabled.
func (tx *Tx) disableEndpoint(ctx context.Context, id, reason string) (bool, error) {
	db := tx.db
	now := db.t(db.now())
	var user sql.NullString
	var client string
	err := tx.tx.QueryRowContext(ctx, `UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $1, updated_at = $2
		WHERE id = $3 AND enabled = TRUE RETURNING user_id, client_id`, reason, now, id).Scan(&user, &client)
	if err == sql.ErrNoRows {
		return false, nil
	} else if err != nil {
		return false, db.translate(err)
	}
	// A client's endpoint has no user to tell: the audit entry names the
	// client.
	if user.Valid {
		ev := cairn.WebhookDisabledEvent(user.String, id, reason)
		if err := tx.AppendEvent(ctx, &ev); err != nil {
			return false, err
		}
	}
	fields := map[string]string{"webhook_id": id, "reason": reason}
	if client != "" {
		fields["client_id"] = client
	}
	details, _ := json.Marshal(fields)
	err = tx.RecordAudit(ctx, &cairn.AuditEntry{ActorID: cairn.AuditSystem, UserID: user.String,
		Action: cairn.AuditWebhookDisable, Details: details})
	return err == nil, err
}

// PendingDeliveries counts the deliveries waiting for an attempt: the
// webhook queue's depth.
func (db *DB) PendingDeliveries(ctx context.Context) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'").Scan(&n)
	return n, db.translate(err)
}

// WebhookStats sums up endpoints and deliveries across users; admins and
// the system only.
func (db *DB) WebhookStats(ctx context.Context) (*cairn.WebhookStats, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.Admin && !a.System {
		return nil, cairn.Errorf(cairn.EFORBIDDEN, "only admins read webhook statistics")
	}
	s := &cairn.WebhookStats{Deliveries: map[string]int{}, DeadByEndpoint: []cairn.EndpointDeadCount{}}
	for _, st := range cairn.DeliveryStatuses {
		s.Deliveries[st] = 0
	}
	err = db.read.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN enabled THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN enabled THEN 0 ELSE 1 END), 0),
		COALESCE(SUM(CASE WHEN enabled AND failing_since IS NOT NULL THEN 1 ELSE 0 END), 0)
		FROM webhook_endpoints`).Scan(&s.EndpointsEnabled, &s.EndpointsDisabled, &s.EndpointsFailing)
	if err != nil {
		return nil, db.translate(err)
	}
	rows, err := db.read.QueryContext(ctx, "SELECT status, count(*) FROM webhook_deliveries GROUP BY status")
	if err != nil {
		return nil, db.translate(err)
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return nil, db.translate(err)
		}
		s.Deliveries[st] = n
	}
	rows.Close()
	if err := db.read.QueryRowContext(ctx, "SELECT min(created_at) FROM webhook_deliveries WHERE status = 'pending'").
		Scan(tmp(&s.OldestPendingAt)); err != nil {
		return nil, db.translate(err)
	}
	rows, err = db.read.QueryContext(ctx, `SELECT endpoint_id, count(*) FROM webhook_deliveries WHERE status = 'dead'
		GROUP BY endpoint_id ORDER BY count(*) DESC, endpoint_id LIMIT 20`)
	if err != nil {
		return nil, db.translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var c cairn.EndpointDeadCount
		if err := rows.Scan(&c.EndpointID, &c.Dead); err != nil {
			return nil, db.translate(err)
		}
		s.DeadByEndpoint = append(s.DeadByEndpoint, c)
	}
	return s, db.translate(rows.Err())
}
