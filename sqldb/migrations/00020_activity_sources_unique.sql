-- One row per origin of an activity: recording the same source twice (a
-- chained FIT file holding one recording twice, say) is a no-op.

-- +goose Up
CREATE UNIQUE INDEX activity_sources_origin ON activity_sources (activity_id, source, provider, external_id, file_hash);

-- +goose Down
DROP INDEX activity_sources_origin;
