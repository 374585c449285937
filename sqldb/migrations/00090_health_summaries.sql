-- Providers' health summaries (Garmin's dailies, sleeps, HRV, body
-- compositions): one row per summary, keyed by its kind and start, which
-- stay the same when the provider sends it again updated (Garmin's
-- summary ids encode the duration so far), with the provider's latest
-- summary id. The health metrics a summary brought point to it, so that
-- a new version replaces them all. Connections keep the hash of their
-- access token, and of the one before the last refresh, to place Garmin
-- pushes that carry the user's token but no user id.

-- +goose Up
CREATE TABLE health_summaries (
    id         {{.ID}} PRIMARY KEY,
    user_id    {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    source     TEXT NOT NULL,
    kind       TEXT NOT NULL,
    start_time {{.TIME}} NOT NULL,
    summary_id TEXT NOT NULL,
    created_at {{.TIME}} NOT NULL,
    updated_at {{.TIME}} NOT NULL
);
CREATE UNIQUE INDEX health_summaries_key ON health_summaries (user_id, source, kind, start_time);
ALTER TABLE health_metrics ADD COLUMN summary_ref {{.ID}} REFERENCES health_summaries (id) ON DELETE CASCADE;
CREATE INDEX health_metrics_summary ON health_metrics (summary_ref);
ALTER TABLE provider_connections ADD COLUMN access_token_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE provider_connections ADD COLUMN prev_access_token_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX provider_connections_token ON provider_connections (provider, access_token_hash);
CREATE INDEX provider_connections_prev_token ON provider_connections (provider, prev_access_token_hash);

-- +goose Down
DROP INDEX provider_connections_prev_token;
DROP INDEX provider_connections_token;
ALTER TABLE provider_connections DROP COLUMN prev_access_token_hash;
ALTER TABLE provider_connections DROP COLUMN access_token_hash;
DROP INDEX health_metrics_summary;
ALTER TABLE health_metrics DROP COLUMN summary_ref;
DROP TABLE health_summaries;
