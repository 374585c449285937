-- activity_versions counts every change to a user's activities, in the
-- same transactions, so that a cached list page is known to be current.
--
-- Activity totals per user, kept in the same transaction as every insert,
-- soft delete and change of type, source or device (sqldb/counts.go), so
-- that a list's total needs no count(*) over a user's activities: any
-- filter without a date range is a sum over a few groups. device_id is ''
-- for activities without a device.

-- +goose Up
CREATE TABLE activity_counts (
    user_id   {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type      TEXT NOT NULL,
    source    TEXT NOT NULL,
    device_id TEXT NOT NULL DEFAULT '',
    deleted   BOOLEAN NOT NULL,
    n         {{.BIGINT}} NOT NULL,
    PRIMARY KEY (user_id, type, source, device_id, deleted)
);
INSERT INTO activity_counts (user_id, type, source, device_id, deleted, n)
SELECT user_id, type, source, COALESCE(device_id, ''), deleted_at IS NOT NULL, count(*)
FROM activities
GROUP BY user_id, type, source, COALESCE(device_id, ''), deleted_at IS NOT NULL;

CREATE TABLE activity_versions (
    user_id {{.ID}} PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version {{.BIGINT}} NOT NULL
);

-- +goose Down
DROP TABLE activity_versions;
DROP TABLE activity_counts;
