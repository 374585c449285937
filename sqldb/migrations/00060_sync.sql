-- Sync with providers (Strava, Garmin): a lease on each session so that
-- one worker at a time runs it and a killed one's session is taken over;
-- the items a session has listed with where each stands, so that a
-- restarted process fetches nothing twice; the enrichment of activities
-- (weather at the start, place); shared caches of weather and places (not
-- user data: no user_id); OAuth states of connections being made; the id
-- Garmin gave an uploaded workout.

-- +goose Up
ALTER TABLE sync_sessions ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_sessions ADD COLUMN lease_until {{.TIME}};
CREATE INDEX sync_sessions_status ON sync_sessions (status, updated_at);

CREATE TABLE sync_items (
    session_id        {{.ID}} NOT NULL REFERENCES sync_sessions (id) ON DELETE CASCADE,
    user_id           {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider          TEXT NOT NULL,
    external_id       TEXT NOT NULL,
    start_time        {{.TIME}} NOT NULL,
    end_time          {{.TIME}} NOT NULL,
    state             TEXT NOT NULL,
    summary           {{.JSON}},
    detail_ref        TEXT NOT NULL DEFAULT '',
    streams_ref       TEXT NOT NULL DEFAULT '',
    weather           {{.JSON}},
    place             {{.JSON}},
    enrichment_status TEXT NOT NULL DEFAULT '',
    activity_id       {{.ID}},
    error             TEXT NOT NULL DEFAULT '',
    created_at        {{.TIME}} NOT NULL,
    updated_at        {{.TIME}} NOT NULL,
    PRIMARY KEY (session_id, external_id)
);
CREATE INDEX sync_items_state ON sync_items (session_id, state, start_time);
CREATE INDEX sync_items_user ON sync_items (user_id);

CREATE TABLE activity_enrichments (
    activity_id        {{.ID}} PRIMARY KEY REFERENCES activities (id) ON DELETE CASCADE,
    user_id            {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    latitude           {{.FLOAT}},
    longitude          {{.FLOAT}},
    observed_at        {{.TIME}},
    temperature_c      {{.FLOAT}},
    feels_like_c       {{.FLOAT}},
    humidity_pct       {{.FLOAT}},
    pressure_hpa       {{.FLOAT}},
    wind_speed_ms      {{.FLOAT}},
    wind_direction_deg {{.FLOAT}},
    weather_code       INTEGER,
    conditions         TEXT NOT NULL DEFAULT '',
    uv_index           {{.FLOAT}},
    city               TEXT NOT NULL DEFAULT '',
    state              TEXT NOT NULL DEFAULT '',
    country            TEXT NOT NULL DEFAULT '',
    updated_at         {{.TIME}} NOT NULL
);
CREATE INDEX activity_enrichments_user ON activity_enrichments (user_id);
CREATE INDEX activities_enrichment_missing ON activities (user_id, start_time) WHERE enrichment_status LIKE '%missing%';

CREATE TABLE weather_days (
    cell_lat INTEGER NOT NULL, -- tenths of a degree
    cell_lon INTEGER NOT NULL,
    day      TEXT NOT NULL,    -- YYYY-MM-DD, UTC
    hours    {{.JSON}} NOT NULL,
    fetched_at {{.TIME}} NOT NULL,
    PRIMARY KEY (cell_lat, cell_lon, day)
);

CREATE TABLE geocode_places (
    lat_key    INTEGER NOT NULL, -- hundredths of a degree
    lon_key    INTEGER NOT NULL,
    found      BOOLEAN NOT NULL,
    city       TEXT NOT NULL DEFAULT '',
    state      TEXT NOT NULL DEFAULT '',
    country    TEXT NOT NULL DEFAULT '',
    fetched_at {{.TIME}} NOT NULL,
    PRIMARY KEY (lat_key, lon_key)
);

CREATE TABLE provider_auth_states (
    state_hash   TEXT PRIMARY KEY,
    user_id      {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    verifier_enc {{.BYTES}},
    expires_at   {{.TIME}} NOT NULL,
    created_at   {{.TIME}} NOT NULL
);
CREATE INDEX provider_auth_states_user ON provider_auth_states (user_id);

ALTER TABLE workouts ADD COLUMN garmin_workout_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE workouts DROP COLUMN garmin_workout_id;
DROP TABLE provider_auth_states;
DROP TABLE geocode_places;
DROP TABLE weather_days;
DROP INDEX activities_enrichment_missing;
DROP TABLE activity_enrichments;
DROP TABLE sync_items;
DROP INDEX sync_sessions_status;
ALTER TABLE sync_sessions DROP COLUMN lease_until;
ALTER TABLE sync_sessions DROP COLUMN lease_owner;
