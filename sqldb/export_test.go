package sqldb

import "context"

// MigrateDownTo undoes migrations down to version, for the test that
// every migration's Down works.
func (db *DB) MigrateDownTo(ctx context.Context, version int64) error {
	p, err := db.migrator(nil)
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}
