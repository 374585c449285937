-- Sign-ups waiting for their email address to be confirmed. No user row
-- exists until the owner of the address opens the mailed link (and shows
-- the password chosen at sign-up): an unconfirmed address holds no
-- account, so it can neither sign in nor squat the address of someone
-- else. The password's argon2id hash waits here; the token is stored
-- hashed, like password reset tokens. Rows are purged once used or
-- expired. No user_id: there is no user yet.

-- +goose Up
CREATE TABLE signups (
    id            {{.ID}} PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    token_hash    {{.BYTES}} NOT NULL,
    expires_at    {{.TIME}} NOT NULL,
    used_at       {{.TIME}},
    created_at    {{.TIME}} NOT NULL
);
CREATE UNIQUE INDEX signups_token ON signups (token_hash);
CREATE INDEX signups_expires ON signups (expires_at);

-- +goose Down
DROP TABLE signups;
