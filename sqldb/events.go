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

// The outbox. An event is written in the transaction of the change that
// causes it, together with one delivery row per enabled webhook endpoint
// that wants it, and the deliveries' jobs are enqueued in that same
// transaction through the Outbox (River's transactional insert; this
// package does not know River). So a committed change always has its
// event, its deliveries and their jobs, exactly once, and a rolled back
// one has none of them. A process without an Outbox (cairn import) marks
// its deliveries not enqueued, and the server's relay (RelayDeliveries)
// enqueues them later, in one transaction with the mark.

// Outbox enqueues the jobs that send deliveries, inside tx.
type Outbox interface {
	EnqueueDeliveries(ctx context.Context, tx *Tx, ds []cairn.WebhookDelivery) error
}

type outboxHolder struct{ Outbox }

// SetOutbox installs the queue that delivery jobs are enqueued on. Until
// it is set, deliveries wait for the relay.
func (db *DB) SetOutbox(o Outbox) { db.outbox.Store(&outboxHolder{o}) }

func (db *DB) currentOutbox() Outbox {
	if h := db.outbox.Load(); h != nil {
		return h.Outbox
	}
	return nil
}

// AppendEvent records ev in the transaction, with its deliveries to the
// user's enabled endpoints that want it and to those of the OAuth clients
// the user consents to whose consent covers it (cairn.ConsentCovers), and
// enqueues their jobs. Every delivery carries the event's user_id. It fills
// ev's id and time.
func (tx *Tx) AppendEvent(ctx context.Context, ev *cairn.Event) error {
	db := tx.db
	if err := reach(ctx, ev.UserID); err != nil {
		return err
	}
	if !ev.Type.Valid() {
		return cairn.Wrap(cairn.EINTERNAL, fmt.Errorf("sqldb: unknown event type %q", ev.Type), "internal error")
	}
	if ev.ID == "" {
		ev.ID = NewID()
	}
	if ev.Version == 0 {
		ev.Version = cairn.EventVersion
	}
	if len(ev.Data) == 0 {
		ev.Data = json.RawMessage("{}")
	}
	ev.CreatedAt = db.now()
	payload, err := json.Marshal(ev)
	if err != nil {
		return cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	if _, err := tx.tx.ExecContext(ctx, "INSERT INTO events (id, user_id, type, payload, created_at) VALUES ($1, $2, $3, $4, $5)",
		ev.ID, ev.UserID, string(ev.Type), string(payload), db.t(ev.CreatedAt)); err != nil {
		return db.translate(err)
	}
	// The user's endpoints, and the endpoints of the clients the user
	// consents to (with the consent's scopes; NULL for the user's own).
	// Both halves are index lookups: webhook_endpoints_user, then the
	// consents' primary key and webhook_endpoints_client_created. (An
	// endpoint with a client_id has no user_id, by constraint: testing
	// user_id IS NULL here would lead the planners to scan every client's
	// endpoints instead.)
	rows, err := tx.tx.QueryContext(ctx, `SELECT id, event_types, NULL FROM webhook_endpoints
		WHERE user_id = $1 AND enabled = TRUE
		UNION ALL
		SELECT e.id, e.event_types, c.scopes FROM oauth_consents c
		JOIN webhook_endpoints e ON e.client_id = c.client_id AND e.enabled = TRUE
		WHERE c.user_id = $1 AND c.revoked_at IS NULL`, ev.UserID)
	if err != nil {
		return db.translate(err)
	}
	var ds []cairn.WebhookDelivery
	for rows.Next() {
		var e cairn.WebhookEndpoint
		var types string
		var consent sql.NullString
		if err := rows.Scan(&e.ID, &types, &consent); err != nil {
			rows.Close()
			return db.translate(err)
		}
		e.EventTypes = splitSpaces[cairn.EventType](types)
		covered := !consent.Valid || cairn.ConsentCovers(ev.Type, splitSpaces[cairn.Scope](consent.String))
		if covered && e.Wants(ev.Type) {
			ds = append(ds, cairn.WebhookDelivery{ID: NewID(), UserID: ev.UserID, EndpointID: e.ID, EventID: ev.ID,
				EventType: ev.Type, Status: cairn.DeliveryPending, CreatedAt: ev.CreatedAt, UpdatedAt: ev.CreatedAt})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return db.translate(err)
	}
	if len(ds) == 0 {
		return nil
	}
	outbox := db.currentOutbox()
	if err := tx.insertDeliveries(ctx, ds, outbox != nil); err != nil {
		return err
	}
	if outbox == nil {
		return nil
	}
	return outbox.EnqueueDeliveries(ctx, tx, ds)
}

func (tx *Tx) insertDeliveries(ctx context.Context, ds []cairn.WebhookDelivery, enqueued bool) error {
	var b argList
	values := make([]string, len(ds))
	for i, d := range ds {
		at := tx.db.t(d.CreatedAt)
		values[i] = "(" + strings.Join([]string{b.add(d.ID), b.add(d.UserID), b.add(d.EndpointID), b.add(d.EventID),
			b.add(string(d.EventType)), b.add(d.Status), b.add(at), b.add(at), b.add(at), b.add(enqueued)}, ", ") + ")"
	}
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, user_id, endpoint_id, event_id, event_type,
		status, next_attempt_at, created_at, updated_at, enqueued) VALUES `+strings.Join(values, ", "), b.args...)
	return tx.db.translate(err)
}

// RelayDeliveries enqueues up to limit deliveries that were written
// without a queue, marking them enqueued in the same transaction, and
// returns how many it enqueued. It runs as the system.
func (db *DB) RelayDeliveries(ctx context.Context, limit int) (int, error) {
	outbox := db.currentOutbox()
	if outbox == nil {
		return 0, nil
	}
	ctx = cairn.SystemContext(ctx)
	lock := ""
	if db.d.Name == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED" // another process relays the rest
	}
	var n int
	err := db.InTx(ctx, func(tx *Tx) error {
		rows, err := tx.tx.QueryContext(ctx, `SELECT id, user_id, endpoint_id, event_id, event_type FROM webhook_deliveries
			WHERE enqueued = FALSE ORDER BY created_at LIMIT `+fmt.Sprint(limit)+lock)
		if err != nil {
			return db.translate(err)
		}
		var ds []cairn.WebhookDelivery
		for rows.Next() {
			var d cairn.WebhookDelivery
			if err := rows.Scan(&d.ID, &d.UserID, &d.EndpointID, &d.EventID, &d.EventType); err != nil {
				rows.Close()
				return db.translate(err)
			}
			ds = append(ds, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(ds) == 0 {
			return db.translate(err)
		}
		var b argList
		ids := make([]string, len(ds))
		for i, d := range ds {
			ids[i] = b.add(d.ID)
		}
		if _, err := tx.tx.ExecContext(ctx, "UPDATE webhook_deliveries SET enqueued = TRUE WHERE id IN ("+
			strings.Join(ids, ", ")+")", b.args...); err != nil {
			return db.translate(err)
		}
		n = len(ds)
		return outbox.EnqueueDeliveries(ctx, tx, ds)
	})
	return n, err
}

// activityEvents records the events of the given types about a.
func (tx *Tx) activityEvents(ctx context.Context, a *cairn.Activity, types []cairn.EventType) error {
	for _, t := range types {
		ev := cairn.ActivityEvent(t, a)
		if err := tx.AppendEvent(ctx, &ev); err != nil {
			return err
		}
	}
	return nil
}

// ListEvents lists the actor's events (every user's for admins), newest
// first.
func (db *DB) ListEvents(ctx context.Context, f cairn.EventFilter) (*cairn.Page[cairn.Event], error) {
	q := pageQuery{columns: "id, user_id, type, payload, created_at", table: "events", timeCol: "created_at",
		page: f.Page}
	own, err := ownerFilter(ctx, &q.args, "user_id")
	if err != nil {
		return nil, err
	}
	a, _ := actor(ctx)
	q.filter = fingerprint("events", a.UserID, a.Admin, f.Types, f.Since)
	q.where = []string{own}
	if len(f.Types) > 0 {
		in := make([]string, len(f.Types))
		for i, t := range f.Types {
			in[i] = q.args.add(string(t))
		}
		q.where = append(q.where, "type IN ("+strings.Join(in, ", ")+")")
	}
	if f.Since != nil {
		q.where = append(q.where, "created_at >= "+q.args.add(db.t(*f.Since)))
	}
	return queryPage(ctx, db, q, func(r *sql.Rows) (keyed[cairn.Event], error) {
		var ev cairn.Event
		var user sql.NullString
		var payload json.RawMessage
		if err := r.Scan(&ev.ID, &user, &ev.Type, js(&payload), tm(&ev.CreatedAt)); err != nil {
			return keyed[cairn.Event]{}, err
		}
		if err := json.Unmarshal(payload, &ev); err != nil {
			return keyed[cairn.Event]{}, fmt.Errorf("sqldb: event %s: %w", ev.ID, err)
		}
		ev.UserID = user.String
		return keyed[cairn.Event]{row: ev, time: ev.CreatedAt, id: ev.ID}, nil
	})
}

// PurgeEventHistory deletes, in statements of at most batch rows each,
// the finished deliveries (delivered or dead) last changed before
// deliveriesBefore, then the events created before eventsBefore that no
// delivery refers to any more: an event with a pending delivery, or a
// dead one still replayable, is kept with it. It returns how many of
// each it deleted. The system only (the retention job).
func (db *DB) PurgeEventHistory(ctx context.Context, eventsBefore, deliveriesBefore time.Time, batch int) (events, deliveries int64, err error) {
	if err := system(ctx); err != nil {
		return 0, 0, err
	}
	limit := fmt.Sprint(batch)
	// The subqueries match the partial index webhook_deliveries_finished
	// and events_created; the NOT EXISTS uses webhook_deliveries_event.
	deliveries, err = db.deleteBatches(ctx, batch, `DELETE FROM webhook_deliveries WHERE id IN (
		SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND updated_at < $1 LIMIT `+limit+`)`,
		db.t(deliveriesBefore))
	if err != nil {
		return 0, deliveries, err
	}
	events, err = db.deleteBatches(ctx, batch, `DELETE FROM events WHERE id IN (
		SELECT ev.id FROM events ev WHERE ev.created_at < $1
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = ev.id) LIMIT `+limit+`)`,
		db.t(eventsBefore))
	return events, deliveries, err
}

// deleteBatches runs a DELETE of at most batch rows until it deletes
// fewer, each in its own transaction so that no lock is held long.
func (db *DB) deleteBatches(ctx context.Context, batch int, q string, args ...any) (int64, error) {
	var total int64
	for {
		res, err := db.write.ExecContext(ctx, q, args...)
		if err != nil {
			return total, db.translate(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, db.translate(err)
		}
		total += n
		if n < int64(batch) {
			return total, nil
		}
	}
}
