package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/cairn-fit/cairn"
)

const deviceColumns = "id, user_id, manufacturer, model, serial_number, firmware_version, last_sync_at, status, created_at, updated_at"

func scanDevice(s interface{ Scan(...any) error }) (*cairn.Device, error) {
	var d cairn.Device
	err := s.Scan(&d.ID, &d.UserID, &d.Manufacturer, &d.Model, &d.SerialNumber, &d.FirmwareVersion,
		tmp(&d.LastSyncAt), &d.Status, tm(&d.CreatedAt), tm(&d.UpdatedAt))
	return &d, err
}

// CreateDevice registers a device for d.UserID.
func (db *DB) CreateDevice(ctx context.Context, d *cairn.Device) error {
	return db.createDevice(ctx, db.write, d)
}

// CreateDevice registers a device inside the transaction.
func (tx *Tx) CreateDevice(ctx context.Context, d *cairn.Device) error {
	return tx.db.createDevice(ctx, tx.tx, d)
}

func (db *DB) createDevice(ctx context.Context, q queryer, d *cairn.Device) error {
	if err := reach(ctx, d.UserID); err != nil {
		return err
	}
	if d.ID == "" {
		d.ID = NewID()
	}
	if d.Status == "" {
		d.Status = cairn.DeviceActive
	}
	now := db.now()
	d.CreatedAt, d.UpdatedAt = now, now
	_, err := q.ExecContext(ctx, `INSERT INTO devices (`+deviceColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		d.ID, d.UserID, d.Manufacturer, d.Model, d.SerialNumber, d.FirmwareVersion, db.tp(d.LastSyncAt),
		d.Status, db.t(d.CreatedAt), db.t(d.UpdatedAt))
	return db.translate(err)
}

// FindDevice returns a device the actor may see.
func (db *DB) FindDevice(ctx context.Context, id string) (*cairn.Device, error) {
	return db.findDevice(ctx, db.read, id)
}

func (db *DB) findDevice(ctx context.Context, q queryer, id string) (*cairn.Device, error) {
	var b argList
	own, err := ownerFilter(ctx, &b, "user_id")
	if err != nil {
		return nil, err
	}
	d, err := scanDevice(q.QueryRowContext(ctx,
		"SELECT "+deviceColumns+" FROM devices WHERE id = "+b.add(id)+" AND "+own, b.args...))
	return d, db.translate(err)
}

// FindDeviceBySerial returns the user's device with this model and serial
// number, so that files from one watch attach to one device.
func (tx *Tx) FindDeviceBySerial(ctx context.Context, userID, model, serial string) (*cairn.Device, error) {
	if err := reach(ctx, userID); err != nil {
		return nil, err
	}
	d, err := scanDevice(tx.tx.QueryRowContext(ctx, "SELECT "+deviceColumns+
		" FROM devices WHERE user_id = $1 AND model = $2 AND serial_number = $3 ORDER BY created_at LIMIT 1",
		userID, model, serial))
	return d, tx.db.translate(err)
}

// ListDevices lists a user's devices, newest first.
func (db *DB) ListDevices(ctx context.Context, f cairn.DeviceFilter) (*cairn.Page[cairn.Device], error) {
	if err := reach(ctx, f.UserID); err != nil {
		return nil, err
	}
	q := pageQuery{columns: deviceColumns, table: "devices", timeCol: "created_at", page: f.Page,
		filter: fingerprint("devices", f.UserID, f.Status, f.Model)}
	q.where = []string{"user_id = " + q.args.add(f.UserID)}
	if f.Status != "" {
		q.where = append(q.where, "status = "+q.args.add(f.Status))
	}
	if f.Model != "" {
		q.where = append(q.where, "model = "+q.args.add(f.Model))
	}
	return queryPage(ctx, db, q, func(r *sql.Rows) (keyed[cairn.Device], error) {
		d, err := scanDevice(r)
		if err != nil {
			return keyed[cairn.Device]{}, err
		}
		return keyed[cairn.Device]{row: *d, time: d.CreatedAt, id: d.ID}, nil
	})
}

// UpdateDevice writes d's mutable fields (firmware, status, last sync)
// when the stored device was last changed at seen.
func (db *DB) UpdateDevice(ctx context.Context, d *cairn.Device, seen time.Time) error {
	if err := reach(ctx, d.UserID); err != nil {
		return err
	}
	next := db.nextVersion(seen)
	res, err := db.write.ExecContext(ctx, `UPDATE devices SET manufacturer = $1, model = $2,
		serial_number = $3, firmware_version = $4, last_sync_at = $5, status = $6, updated_at = $7
		WHERE id = $8 AND user_id = $9 AND updated_at = $10`,
		d.Manufacturer, d.Model, d.SerialNumber, d.FirmwareVersion, db.tp(d.LastSyncAt), d.Status,
		db.t(next), d.ID, d.UserID, db.t(seen))
	if err := db.guarded(ctx, db.write, res, err, "devices", d.ID, d.UserID); err != nil {
		return err
	}
	d.UpdatedAt = next
	return nil
}

// affected turns "no row changed" into NOT_FOUND.
func (db *DB) affected(res sql.Result, err error) error {
	if err != nil {
		return db.translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return db.translate(err)
	}
	if n == 0 {
		return cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return nil
}

// MarkDeviceSynced records when a device's data last reached cairn.
func (tx *Tx) MarkDeviceSynced(ctx context.Context, userID, deviceID string, at time.Time) error {
	if err := reach(ctx, userID); err != nil {
		return err
	}
	at = at.UTC().Truncate(time.Microsecond)
	res, err := tx.tx.ExecContext(ctx, "UPDATE devices SET last_sync_at = $1, updated_at = $1 WHERE id = $2 AND user_id = $3",
		tx.db.t(at), deviceID, userID)
	return tx.db.affected(res, err)
}
