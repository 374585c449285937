-- A sign-in on the OAuth pages passes a second factor before it counts.
-- pending: the password was right but the second factor is still due (or
-- must be enrolled); such a session signs nobody in and lives minutes.
-- mfa_at and mfa_method: when and how this browser passed the second
-- factor, copied to the OAuth grants issued from it (step-up).

-- +goose Up
ALTER TABLE web_sessions ADD COLUMN pending BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE web_sessions ADD COLUMN mfa_at {{.TIME}};
ALTER TABLE web_sessions ADD COLUMN mfa_method TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE web_sessions DROP COLUMN mfa_method;
ALTER TABLE web_sessions DROP COLUMN mfa_at;
ALTER TABLE web_sessions DROP COLUMN pending;
