-- The current rate window of each provider application, counted for
-- every process of a deployment (provider.Budget with Share): a call is
-- reserved with one upsert per window, in one transaction, before it is
-- sent. app names the application ("strava:<client_id>"), name the
-- window ("15-minute", "daily", …).

-- +goose Up
CREATE TABLE provider_rate_windows (
    app          TEXT NOT NULL,
    name         TEXT NOT NULL,
    window_start {{.TIME}} NOT NULL,
    used         INTEGER NOT NULL,
    PRIMARY KEY (app, name)
);

-- +goose Down
DROP TABLE provider_rate_windows;
