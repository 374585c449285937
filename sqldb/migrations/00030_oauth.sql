-- OAuth2 authorization server: registered clients, authorization codes,
-- PKCE requests, access and refresh tokens (stored as hashes of their
-- signatures), device grants, the sign-in pages' sessions and, on
-- PostgreSQL, the deployment's token signing secret.

-- +goose Up
CREATE TABLE oauth_clients (
    id                         {{.ID}} PRIMARY KEY,
    name                       TEXT NOT NULL,
    secret_hash                {{.BYTES}},
    previous_secret_hash       {{.BYTES}},
    previous_secret_expires_at {{.TIME}},
    redirect_uris              TEXT NOT NULL DEFAULT '',
    grant_types                TEXT NOT NULL,
    scopes                     TEXT NOT NULL,
    public                     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at                 {{.TIME}} NOT NULL,
    updated_at                 {{.TIME}} NOT NULL
);

-- kind: code, pkce, access or refresh. request_id is the grant: a code,
-- its tokens and every token refreshed from them share it (the family a
-- reused refresh token revokes). user_id is NULL for client credentials.
CREATE TABLE oauth_tokens (
    kind       TEXT NOT NULL,
    hash       {{.BYTES}} NOT NULL,
    request_id {{.ID}} NOT NULL,
    client_id  {{.ID}} NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    user_id    {{.ID}} REFERENCES users (id) ON DELETE CASCADE,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    request    {{.JSON}} NOT NULL,
    expires_at {{.TIME}},
    created_at {{.TIME}} NOT NULL,
    PRIMARY KEY (kind, hash)
);
CREATE INDEX oauth_tokens_request ON oauth_tokens (request_id, kind);
CREATE INDEX oauth_tokens_user ON oauth_tokens (user_id);
CREATE INDEX oauth_tokens_expires ON oauth_tokens (expires_at);

CREATE TABLE oauth_device_grants (
    device_code_hash {{.BYTES}} PRIMARY KEY,
    user_code_hash   {{.BYTES}} NOT NULL,
    request_id       {{.ID}} NOT NULL,
    client_id        {{.ID}} NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes           TEXT NOT NULL DEFAULT '',
    user_id          {{.ID}} REFERENCES users (id) ON DELETE CASCADE,
    status           TEXT NOT NULL DEFAULT 'pending',
    interval_ms      {{.BIGINT}} NOT NULL,
    last_polled_at   {{.TIME}},
    expires_at       {{.TIME}} NOT NULL,
    created_at       {{.TIME}} NOT NULL
);
CREATE UNIQUE INDEX oauth_device_grants_user_code ON oauth_device_grants (user_code_hash);
CREATE INDEX oauth_device_grants_expires ON oauth_device_grants (expires_at);

CREATE TABLE web_sessions (
    hash       {{.BYTES}} PRIMARY KEY,
    user_id    {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at {{.TIME}} NOT NULL,
    created_at {{.TIME}} NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- One row (id 1): the HMAC secret every process of a PostgreSQL deployment
-- signs tokens with, unless CAIRN_OAUTH_SECRET sets one.
CREATE TABLE oauth_server_secrets (
    id         INTEGER PRIMARY KEY,
    secret     {{.BYTES}} NOT NULL,
    created_at {{.TIME}} NOT NULL
);

-- +goose Down
DROP TABLE oauth_server_secrets;
DROP TABLE web_sessions;
DROP TABLE oauth_device_grants;
DROP TABLE oauth_tokens;
DROP TABLE oauth_clients;
