-- The whole data model, written once for both dialects. Tokens in double
-- braces are column types rendered per dialect by sqldb.renderMigrations:
-- ID (text ids, bytewise ordered), TIME, JSON, BYTES, FLOAT, BIGINT, DATE.
-- Every table that holds a user's data carries user_id.

-- +goose Up
CREATE TABLE users (
    id            {{.ID}} PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    locale        TEXT NOT NULL DEFAULT 'en',
    timezone      TEXT NOT NULL DEFAULT 'UTC',
    password_hash TEXT NOT NULL DEFAULT '',
    roles         TEXT NOT NULL DEFAULT 'user',
    status        TEXT NOT NULL DEFAULT 'active',
    created_at    {{.TIME}} NOT NULL,
    updated_at    {{.TIME}} NOT NULL,
    deleted_at    {{.TIME}}
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE personal_access_tokens (
    id           {{.ID}} PRIMARY KEY,
    user_id      {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    token_hash   {{.BYTES}} NOT NULL,
    scopes       TEXT NOT NULL,
    expires_at   {{.TIME}},
    last_used_at {{.TIME}},
    revoked_at   {{.TIME}},
    created_at   {{.TIME}} NOT NULL
);
CREATE UNIQUE INDEX personal_access_tokens_hash ON personal_access_tokens (token_hash);
CREATE INDEX personal_access_tokens_user ON personal_access_tokens (user_id);

CREATE TABLE devices (
    id               {{.ID}} PRIMARY KEY,
    user_id          {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    manufacturer     TEXT NOT NULL DEFAULT '',
    model            TEXT NOT NULL,
    serial_number    TEXT NOT NULL DEFAULT '',
    firmware_version TEXT NOT NULL DEFAULT '',
    last_sync_at     {{.TIME}},
    status           TEXT NOT NULL DEFAULT 'active',
    created_at       {{.TIME}} NOT NULL,
    updated_at       {{.TIME}} NOT NULL
);
CREATE INDEX devices_user ON devices (user_id, created_at, id);
CREATE INDEX devices_user_serial ON devices (user_id, model, serial_number);

CREATE TABLE activities (
    id                {{.ID}} PRIMARY KEY,
    user_id           {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id         {{.ID}} REFERENCES devices (id) ON DELETE SET NULL,
    parent_id         {{.ID}} REFERENCES activities (id) ON DELETE SET NULL,
    type              TEXT NOT NULL,
    sport             TEXT NOT NULL DEFAULT '',
    name              TEXT NOT NULL DEFAULT '',
    start_time        {{.TIME}} NOT NULL,
    end_time          {{.TIME}},
    timezone          TEXT NOT NULL DEFAULT 'UTC',
    source            TEXT NOT NULL,
    provider          TEXT NOT NULL DEFAULT '',
    external_id       TEXT NOT NULL DEFAULT '',
    raw_file_ref      TEXT NOT NULL DEFAULT '',
    file_hash         TEXT NOT NULL DEFAULT '',
    rpe               INTEGER,
    partial           BOOLEAN NOT NULL DEFAULT FALSE,
    metadata          {{.JSON}},
    enrichment_status TEXT NOT NULL DEFAULT '',
    created_at        {{.TIME}} NOT NULL,
    updated_at        {{.TIME}} NOT NULL,
    deleted_at        {{.TIME}}
);
CREATE INDEX activities_user_start ON activities (user_id, start_time, id);
CREATE INDEX activities_user_device_start ON activities (user_id, device_id, start_time);
CREATE INDEX activities_user_file_hash ON activities (user_id, file_hash);
CREATE INDEX activities_parent ON activities (parent_id);

-- Every origin of a canonical activity: the same recording uploaded as a
-- file and later synced from a provider is one activity with two sources.
CREATE TABLE activity_sources (
    id          {{.ID}} PRIMARY KEY,
    activity_id {{.ID}} NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    user_id     {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    provider    TEXT NOT NULL DEFAULT '',
    external_id TEXT NOT NULL DEFAULT '',
    file_hash   TEXT NOT NULL DEFAULT '',
    created_at  {{.TIME}} NOT NULL
);
CREATE INDEX activity_sources_activity ON activity_sources (activity_id);
CREATE INDEX activity_sources_user_file ON activity_sources (user_id, file_hash);
CREATE INDEX activity_sources_user_external ON activity_sources (user_id, provider, external_id);

CREATE TABLE metrics (
    id            {{.ID}} PRIMARY KEY,
    user_id       {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    activity_id   {{.ID}} NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    unit          TEXT NOT NULL DEFAULT '',
    sampling_rate {{.FLOAT}} NOT NULL DEFAULT 0,
    point_count   INTEGER NOT NULL DEFAULT 0,
    min_value     {{.FLOAT}},
    max_value     {{.FLOAT}},
    avg_value     {{.FLOAT}},
    start_time    {{.TIME}},
    end_time      {{.TIME}},
    blob_key      TEXT NOT NULL DEFAULT '',
    created_at    {{.TIME}} NOT NULL,
    updated_at    {{.TIME}} NOT NULL
);
CREATE UNIQUE INDEX metrics_activity_type ON metrics (activity_id, type);
CREATE INDEX metrics_user ON metrics (user_id);

CREATE TABLE routes (
    id             {{.ID}} PRIMARY KEY,
    user_id        {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    activity_id    {{.ID}} NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    polyline       TEXT NOT NULL DEFAULT '',
    blob_key       TEXT NOT NULL DEFAULT '',
    point_count    INTEGER NOT NULL DEFAULT 0,
    start_lat      {{.FLOAT}},
    start_lng      {{.FLOAT}},
    end_lat        {{.FLOAT}},
    end_lng        {{.FLOAT}},
    min_lng        {{.FLOAT}},
    min_lat        {{.FLOAT}},
    max_lng        {{.FLOAT}},
    max_lat        {{.FLOAT}},
    elevation_gain {{.FLOAT}},
    elevation_loss {{.FLOAT}},
    created_at     {{.TIME}} NOT NULL,
    updated_at     {{.TIME}} NOT NULL
);
CREATE UNIQUE INDEX routes_activity ON routes (activity_id);

CREATE TABLE summaries (
    activity_id       {{.ID}} PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
    user_id           {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    distance_m        {{.FLOAT}},
    duration_s        {{.FLOAT}},
    moving_time_s     {{.FLOAT}},
    timer_time_s      {{.FLOAT}},
    calories          {{.FLOAT}},
    avg_hr            {{.FLOAT}},
    max_hr            {{.FLOAT}},
    avg_pace          {{.FLOAT}},
    avg_speed         {{.FLOAT}},
    max_speed         {{.FLOAT}},
    avg_power         {{.FLOAT}},
    avg_cadence       {{.FLOAT}},
    steps             {{.FLOAT}},
    stride_length     {{.FLOAT}},
    intensity_minutes {{.FLOAT}},
    elevation_gain    {{.FLOAT}},
    elevation_loss    {{.FLOAT}},
    hr_zones          {{.JSON}},
    sources           {{.JSON}},
    updated_at        {{.TIME}} NOT NULL
);
CREATE INDEX summaries_user ON summaries (user_id);

CREATE TABLE health_metrics (
    id         {{.ID}} PRIMARY KEY,
    user_id    {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type       TEXT NOT NULL,
    ts         {{.TIME}} NOT NULL,
    value      {{.FLOAT}} NOT NULL,
    unit       TEXT NOT NULL DEFAULT '',
    source     TEXT NOT NULL DEFAULT '',
    created_at {{.TIME}} NOT NULL,
    updated_at {{.TIME}} NOT NULL
);
CREATE UNIQUE INDEX health_metrics_user_type_ts ON health_metrics (user_id, type, ts);
CREATE INDEX health_metrics_user_ts ON health_metrics (user_id, ts, id);

CREATE TABLE daily_metrics (
    id          {{.ID}} PRIMARY KEY,
    user_id     {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day         {{.DATE}} NOT NULL,
    resting_hr  {{.FLOAT}},
    hrv_rmssd   {{.FLOAT}},
    sleep_hours {{.FLOAT}},
    soreness    INTEGER,
    stress      INTEGER,
    created_at  {{.TIME}} NOT NULL,
    updated_at  {{.TIME}} NOT NULL
);
CREATE UNIQUE INDEX daily_metrics_user_day ON daily_metrics (user_id, day);

CREATE TABLE workouts (
    id                    {{.ID}} PRIMARY KEY,
    user_id               {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                  TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    sport                 TEXT NOT NULL DEFAULT '',
    definition            {{.JSON}},
    file_hash             TEXT NOT NULL DEFAULT '',
    uploaded_to_garmin_at {{.TIME}},
    uploaded_to_strava_at {{.TIME}},
    created_at            {{.TIME}} NOT NULL,
    updated_at            {{.TIME}} NOT NULL,
    deleted_at            {{.TIME}}
);
CREATE INDEX workouts_user ON workouts (user_id, created_at, id);

CREATE TABLE training_plans (
    id            {{.ID}} PRIMARY KEY,
    user_id       {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL DEFAULT '',
    goal          TEXT NOT NULL DEFAULT '',
    goal_date     {{.DATE}},
    current_phase TEXT NOT NULL DEFAULT '',
    start_date    {{.DATE}},
    end_date      {{.DATE}},
    created_at    {{.TIME}} NOT NULL,
    updated_at    {{.TIME}} NOT NULL
);
CREATE INDEX training_plans_user ON training_plans (user_id);

CREATE TABLE scheduled_workouts (
    id          {{.ID}} PRIMARY KEY,
    user_id     {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    plan_id     {{.ID}} NOT NULL REFERENCES training_plans (id) ON DELETE CASCADE,
    workout_id  {{.ID}} REFERENCES workouts (id) ON DELETE SET NULL,
    activity_id {{.ID}} REFERENCES activities (id) ON DELETE SET NULL,
    day         {{.DATE}} NOT NULL,
    type        TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    targets     {{.JSON}},
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'skipped')),
    created_at  {{.TIME}} NOT NULL,
    updated_at  {{.TIME}} NOT NULL
);
CREATE INDEX scheduled_workouts_user_day ON scheduled_workouts (user_id, day);
CREATE INDEX scheduled_workouts_plan ON scheduled_workouts (plan_id, day);

CREATE TABLE provider_connections (
    id                {{.ID}} PRIMARY KEY,
    user_id           {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider          TEXT NOT NULL,
    external_user_id  TEXT NOT NULL DEFAULT '',
    access_token_enc  {{.BYTES}},
    refresh_token_enc {{.BYTES}},
    expires_at        {{.TIME}},
    scopes            TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL DEFAULT 'active',
    created_at        {{.TIME}} NOT NULL,
    updated_at        {{.TIME}} NOT NULL
);
CREATE UNIQUE INDEX provider_connections_user_provider ON provider_connections (user_id, provider);
CREATE INDEX provider_connections_external ON provider_connections (provider, external_user_id);

CREATE TABLE sync_sessions (
    id          {{.ID}} PRIMARY KEY,
    user_id     {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    type        TEXT NOT NULL DEFAULT 'backfill',
    status      TEXT NOT NULL,
    phase       TEXT NOT NULL,
    range_start {{.TIME}},
    range_end   {{.TIME}},
    estimated   INTEGER NOT NULL DEFAULT 0,
    fetched     INTEGER NOT NULL DEFAULT 0,
    enriched    INTEGER NOT NULL DEFAULT 0,
    stored      INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    checkpoint  {{.JSON}},
    errors      {{.JSON}},
    retries     INTEGER NOT NULL DEFAULT 0,
    started_at  {{.TIME}},
    finished_at {{.TIME}},
    created_at  {{.TIME}} NOT NULL,
    updated_at  {{.TIME}} NOT NULL
);
CREATE INDEX sync_sessions_user ON sync_sessions (user_id, created_at, id);

CREATE TABLE milestones (
    id            {{.ID}} PRIMARY KEY,
    user_id       {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    target_value  {{.FLOAT}},
    current_value {{.FLOAT}},
    unit          TEXT NOT NULL DEFAULT '',
    achieved_at   {{.TIME}},
    created_at    {{.TIME}} NOT NULL,
    updated_at    {{.TIME}} NOT NULL
);
CREATE INDEX milestones_user ON milestones (user_id);

CREATE TABLE insights (
    id          {{.ID}} PRIMARY KEY,
    user_id     {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    activity_id {{.ID}} REFERENCES activities (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL DEFAULT '',
    confidence  {{.FLOAT}},
    data        {{.JSON}},
    created_at  {{.TIME}} NOT NULL
);
CREATE INDEX insights_user ON insights (user_id, created_at);

CREATE TABLE export_jobs (
    id           {{.ID}} PRIMARY KEY,
    user_id      {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    scope        {{.JSON}},
    format       TEXT NOT NULL DEFAULT '',
    blob_key     TEXT NOT NULL DEFAULT '',
    error        TEXT NOT NULL DEFAULT '',
    completed_at {{.TIME}},
    expires_at   {{.TIME}},
    created_at   {{.TIME}} NOT NULL,
    updated_at   {{.TIME}} NOT NULL
);
CREATE INDEX export_jobs_user ON export_jobs (user_id, created_at, id);

-- The transactional outbox: written in the same transaction as the change.
CREATE TABLE events (
    id         {{.ID}} PRIMARY KEY,
    user_id    {{.ID}} REFERENCES users (id) ON DELETE SET NULL,
    type       TEXT NOT NULL,
    payload    {{.JSON}} NOT NULL,
    created_at {{.TIME}} NOT NULL
);
CREATE INDEX events_user_created ON events (user_id, created_at, id);

-- A webhook endpoint belongs to a user or to an OAuth client.
CREATE TABLE webhook_endpoints (
    id                    {{.ID}} PRIMARY KEY,
    user_id               {{.ID}} REFERENCES users (id) ON DELETE CASCADE,
    client_id             TEXT NOT NULL DEFAULT '',
    url                   TEXT NOT NULL,
    event_types           TEXT NOT NULL DEFAULT '',
    secret_enc            {{.BYTES}} NOT NULL,
    old_secret_enc        {{.BYTES}},
    old_secret_expires_at {{.TIME}},
    enabled               BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason       TEXT NOT NULL DEFAULT '',
    failing_since         {{.TIME}},
    created_at            {{.TIME}} NOT NULL,
    updated_at            {{.TIME}} NOT NULL
);
CREATE INDEX webhook_endpoints_user ON webhook_endpoints (user_id);

CREATE TABLE webhook_deliveries (
    id              {{.ID}} PRIMARY KEY,
    user_id         {{.ID}} REFERENCES users (id) ON DELETE CASCADE,
    endpoint_id     {{.ID}} NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        {{.ID}} NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    status          TEXT NOT NULL,
    attempts        {{.JSON}},
    attempt_count   INTEGER NOT NULL DEFAULT 0,
    next_attempt_at {{.TIME}},
    created_at      {{.TIME}} NOT NULL,
    updated_at      {{.TIME}} NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint_status ON webhook_deliveries (endpoint_id, status, created_at);

CREATE TABLE idempotency_keys (
    user_id          {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idem_key         TEXT NOT NULL,
    method           TEXT NOT NULL,
    path             TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    state            TEXT NOT NULL,
    response_status  INTEGER,
    response_headers {{.JSON}},
    response_body    {{.BYTES}},
    created_at       {{.TIME}} NOT NULL,
    expires_at       {{.TIME}} NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);

-- Append-only: the store has no update or delete for it.
CREATE TABLE audit_log (
    id         {{.ID}} PRIMARY KEY,
    actor_id   TEXT NOT NULL DEFAULT '',
    user_id    {{.ID}},
    action     TEXT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    details    {{.JSON}},
    created_at {{.TIME}} NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_at, id);
CREATE INDEX audit_log_user ON audit_log (user_id, created_at);

CREATE TABLE uploads (
    id            {{.ID}} PRIMARY KEY,
    user_id       {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    filename      TEXT NOT NULL DEFAULT '',
    size          {{.BIGINT}} NOT NULL DEFAULT 0,
    file_hash     TEXT NOT NULL DEFAULT '',
    blob_key      TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,
    kind          TEXT NOT NULL DEFAULT '',
    result        {{.JSON}},
    partial       BOOLEAN NOT NULL DEFAULT FALSE,
    warnings      {{.JSON}},
    error_code    TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT '',
    created_at    {{.TIME}} NOT NULL,
    updated_at    {{.TIME}} NOT NULL
);
CREATE INDEX uploads_user ON uploads (user_id, created_at, id);

-- +goose Down
DROP TABLE uploads;
DROP TABLE audit_log;
DROP TABLE idempotency_keys;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE events;
DROP TABLE export_jobs;
DROP TABLE insights;
DROP TABLE milestones;
DROP TABLE sync_sessions;
DROP TABLE provider_connections;
DROP TABLE scheduled_workouts;
DROP TABLE training_plans;
DROP TABLE workouts;
DROP TABLE daily_metrics;
DROP TABLE health_metrics;
DROP TABLE summaries;
DROP TABLE routes;
DROP TABLE metrics;
DROP TABLE activity_sources;
DROP TABLE activities;
DROP TABLE devices;
DROP TABLE personal_access_tokens;
DROP TABLE users;
