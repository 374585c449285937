package sqldb

import (
	"context"
	"database/sql"

	"github.com/cairn-fit/cairn"
)

// The audit log is append-only: the store records and searches it, and
// has no method to change or delete an entry.

const auditColumns = "id, actor_id, user_id, action, ip, user_agent, details, created_at"

// RecordAudit appends e, filling its id and time, the actor from the
// context when ActorID is empty, and the client from the context when IP
// and user agent are empty.
func (db *DB) RecordAudit(ctx context.Context, e *cairn.AuditEntry) error {
	return db.recordAudit(ctx, db.write, e)
}

// RecordAudit appends e in the transaction of the change it records.
func (tx *Tx) RecordAudit(ctx context.Context, e *cairn.AuditEntry) error {
	return tx.db.recordAudit(ctx, tx.tx, e)
}

func (db *DB) recordAudit(ctx context.Context, q queryer, e *cairn.AuditEntry) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	if e.Action == "" {
		return cairn.Invalid(map[string]string{"action": "is required"})
	}
	if e.ActorID == "" {
		e.ActorID = a.UserID
		if a.System && e.ActorID == "" {
			e.ActorID = cairn.AuditSystem
		}
	}
	if c := cairn.ClientFrom(ctx); e.IP == "" && e.UserAgent == "" {
		e.IP, e.UserAgent = c.IP, c.UserAgent
	}
	e.ID = NewID()
	e.CreatedAt = db.now()
	var target any
	if e.UserID != "" {
		target = e.UserID
	}
	_, err = q.ExecContext(ctx, `INSERT INTO audit_log (id, actor_id, user_id, action, ip, user_agent, details, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.ID, e.ActorID, target, e.Action, e.IP, e.UserAgent, jsonArg(e.Details), db.t(e.CreatedAt))
	return db.translate(err)
}

// SearchAudit lists audit entries under f, newest first; admins and the
// system only.
func (db *DB) SearchAudit(ctx context.Context, f cairn.AuditFilter) (*cairn.Page[cairn.AuditEntry], error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.Admin && !a.System {
		return nil, cairn.Errorf(cairn.EFORBIDDEN, "only admins read the audit log")
	}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return nil, cairn.Invalid(map[string]string{"until": "must be after since"})
	}
	q := pageQuery{columns: auditColumns, table: "audit_log", timeCol: "created_at", page: f.Page,
		filter: fingerprint("audit", f.ActorID, f.UserID, f.Action, f.Since, f.Until)}
	q.where = []string{"1=1"}
	if f.ActorID != "" {
		q.where = append(q.where, "actor_id = "+q.args.add(f.ActorID))
	}
	if f.UserID != "" {
		q.where = append(q.where, "user_id = "+q.args.add(f.UserID))
	}
	if f.Action != "" {
		q.where = append(q.where, "action = "+q.args.add(f.Action))
	}
	if f.Since != nil {
		q.where = append(q.where, "created_at >= "+q.args.add(db.t(*f.Since)))
	}
	if f.Until != nil {
		q.where = append(q.where, "created_at < "+q.args.add(db.t(*f.Until)))
	}
	return queryPage(ctx, db, q, func(r *sql.Rows) (keyed[cairn.AuditEntry], error) {
		var e cairn.AuditEntry
		var target sql.NullString
		err := r.Scan(&e.ID, &e.ActorID, &target, &e.Action, &e.IP, &e.UserAgent, js(&e.Details), tm(&e.CreatedAt))
		e.UserID = target.String
		return keyed[cairn.AuditEntry]{row: e, time: e.CreatedAt, id: e.ID}, err
	})
}

var _ cairn.AuditLog = (*DB)(nil)
