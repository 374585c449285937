package sqldb

import (
	"context"
	"fmt"

	"github.com/cairn-fit/cairn"
)

// EncryptedColumn is a column holding secrets sealed by the keyring
// (package secrets), each bound to its place: secrets.AD(Table, Column,
// place), where place is the row's id, or the value of the SQL expression
// Place when the table binds its secrets to something else.
type EncryptedColumn struct {
	Table, Column string
	Place         string // SQL expression of the place; empty: id
}

func (c EncryptedColumn) place() string {
	if c.Place == "" {
		return "id"
	}
	return c.Place
}

func (c EncryptedColumn) String() string { return c.Table + "." + c.Column }

// connectionPlace is user_id + "/" + provider, in SQL.
const connectionPlace = "user_id || '/' || provider"

// EncryptedColumns lists every column of the schema that holds sealed
// secrets; key rotation reseals each. A new sealed column belongs here.
func EncryptedColumns() []EncryptedColumn {
	return []EncryptedColumn{
		// A connection's tokens are bound to its user and provider, which
		// identify the row for good (sqldb.ConnectionAD), not to its id.
		{"provider_connections", "access_token_enc", connectionPlace},
		{"provider_connections", "refresh_token_enc", connectionPlace},
		{"webhook_endpoints", "secret_enc", ""},
		{"webhook_endpoints", "old_secret_enc", ""},
		{"mfa_factors", "secret_enc", ""},
	}
}

// ResealStats counts one column's rotation.
type ResealStats struct {
	Column   string `json:"column"`
	Scanned  int    `json:"scanned"`
	Resealed int    `json:"resealed"`
	// Skipped rows changed between being read and being written back;
	// whoever changed them sealed them afresh (run the rotation again if
	// that process still had an older key list).
	Skipped int `json:"skipped"`
}

// ResealFunc returns a stored secret sealed anew for its place (see
// EncryptedColumn), or nil when it is already sealed under the newest key.
type ResealFunc func(col EncryptedColumn, place string, sealed []byte) ([]byte, error)

// ResealSecrets passes every sealed secret of every encrypted column to
// reseal, batch rows at a time in id order, and writes back what reseal
// changed, one transaction per batch. Each write checks that the row still
// holds what was read, so it never overwrites a concurrent change. Running
// it again reseals nothing more. The system only.
func (db *DB) ResealSecrets(ctx context.Context, batch int, reseal ResealFunc) ([]ResealStats, error) {
	a, err := actor(ctx)
	if err != nil {
		return nil, err
	}
	if !a.System {
		return nil, cairn.Errorf(cairn.EFORBIDDEN, "only the system rotates keys")
	}
	if batch <= 0 {
		batch = 500
	}
	var out []ResealStats
	for _, col := range EncryptedColumns() {
		st := ResealStats{Column: col.String()}
		after := ""
		for {
			ids, places, vals, err := db.sealedBatch(ctx, col, after, batch)
			if err != nil {
				return out, err
			}
			if len(ids) == 0 {
				break
			}
			st.Scanned += len(ids)
			after = ids[len(ids)-1]
			// Sealing happens outside the transaction, which only writes.
			type change struct {
				id        string
				old, next []byte
			}
			var changes []change
			for i, id := range ids {
				next, err := reseal(col, places[i], vals[i])
				if err != nil {
					return out, cairn.Wrap(cairn.EINTERNAL, fmt.Errorf("%s row %s: %w", col, id, err), "internal error")
				}
				if next != nil {
					changes = append(changes, change{id, vals[i], next})
				}
			}
			err = db.InTx(ctx, func(tx *Tx) error {
				for _, c := range changes {
					res, err := tx.tx.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s = $1 WHERE id = $2 AND %s = $3",
						col.Table, col.Column, col.Column), c.next, c.id, c.old)
					if err != nil {
						return db.translate(err)
					}
					if n, _ := res.RowsAffected(); n == 1 {
						st.Resealed++
					} else {
						st.Skipped++
					}
				}
				return nil
			})
			if err != nil {
				return out, err
			}
			if len(ids) < batch {
				break
			}
		}
		out = append(out, st)
	}
	return out, nil
}

func (db *DB) sealedBatch(ctx context.Context, col EncryptedColumn, after string, n int) (ids, places []string, vals [][]byte, err error) {
	rows, err := db.write.QueryContext(ctx, fmt.Sprintf("SELECT id, %s, %s FROM %s WHERE %s IS NOT NULL AND id > $1 ORDER BY id LIMIT %d",
		col.place(), col.Column, col.Table, col.Column, n), after)
	if err != nil {
		return nil, nil, nil, db.translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, place string
		var v []byte
		if err := rows.Scan(&id, &place, &v); err != nil {
			return nil, nil, nil, db.translate(err)
		}
		ids, places, vals = append(ids, id), append(places, place), append(vals, v)
	}
	return ids, places, vals, db.translate(rows.Err())
}
