-- Idempotency-Keys belong to their owner: a user, or an OAuth client
-- acting as itself (client credentials: "client:<id>"), which has no
-- users row for the old table's user_id to reference. The rows move to a
-- table keyed by owner; user_id stays for the users' rows (tenancy, and
-- the cascade when a user is purged).

-- +goose Up
CREATE TABLE idempotency_requests (
    owner            TEXT NOT NULL,
    user_id          {{.ID}} REFERENCES users (id) ON DELETE CASCADE,
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
    PRIMARY KEY (owner, idem_key)
);
INSERT INTO idempotency_requests (owner, user_id, idem_key, method, path, request_hash, state,
    response_status, response_headers, response_body, created_at, expires_at)
SELECT user_id, user_id, idem_key, method, path, request_hash, state,
    response_status, response_headers, response_body, created_at, expires_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
CREATE INDEX idempotency_requests_expires ON idempotency_requests (expires_at);
CREATE INDEX idempotency_requests_user ON idempotency_requests (user_id);

-- +goose Down
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
INSERT INTO idempotency_keys SELECT user_id, idem_key, method, path, request_hash, state,
    response_status, response_headers, response_body, created_at, expires_at
    FROM idempotency_requests WHERE user_id IS NOT NULL;
DROP TABLE idempotency_requests;
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
