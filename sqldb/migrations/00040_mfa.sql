-- Identity and access: second factors (TOTP, passkeys), recovery codes,
-- when each session last passed an MFA check, WebAuthn ceremonies in
-- progress, password reset tokens, and indexes for searching the audit log.

-- +goose Up
-- A TOTP factor keeps its secret sealed (secrets.AD("mfa_factors",
-- "secret_enc", id)) and the last time step used, so that a code works
-- once; a passkey keeps its WebAuthn credential record.
CREATE TABLE mfa_factors (
    id            {{.ID}} PRIMARY KEY,
    user_id       {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('totp', 'webauthn')),
    name          TEXT NOT NULL DEFAULT '',
    secret_enc    {{.BYTES}},
    last_step     {{.BIGINT}} NOT NULL DEFAULT 0,
    credential_id {{.BYTES}},
    credential    {{.JSON}},
    confirmed_at  {{.TIME}},
    last_used_at  {{.TIME}},
    created_at    {{.TIME}} NOT NULL,
    updated_at    {{.TIME}} NOT NULL
);
CREATE INDEX mfa_factors_user ON mfa_factors (user_id, created_at);
CREATE UNIQUE INDEX mfa_factors_credential ON mfa_factors (credential_id);

CREATE TABLE mfa_recovery_codes (
    id         {{.ID}} PRIMARY KEY,
    user_id    {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  {{.BYTES}} NOT NULL,
    used_at    {{.TIME}},
    created_at {{.TIME}} NOT NULL
);
CREATE INDEX mfa_recovery_codes_user ON mfa_recovery_codes (user_id);

-- When a web or API session last passed an MFA check (step-up).
CREATE TABLE mfa_sessions (
    user_id     {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  TEXT NOT NULL,
    method      TEXT NOT NULL,
    verified_at {{.TIME}} NOT NULL,
    PRIMARY KEY (user_id, session_id)
);
CREATE INDEX mfa_sessions_verified ON mfa_sessions (verified_at);

-- A WebAuthn registration or login between its begin and its finish;
-- finishing consumes it.
CREATE TABLE webauthn_ceremonies (
    id         {{.ID}} PRIMARY KEY,
    user_id    {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('registration', 'login')),
    session    {{.JSON}} NOT NULL,
    expires_at {{.TIME}} NOT NULL,
    created_at {{.TIME}} NOT NULL
);
CREATE INDEX webauthn_ceremonies_user ON webauthn_ceremonies (user_id);
CREATE INDEX webauthn_ceremonies_expires ON webauthn_ceremonies (expires_at);

-- Single-use password reset tokens; only the SHA-256 of the token is kept.
CREATE TABLE password_resets (
    id         {{.ID}} PRIMARY KEY,
    user_id    {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash {{.BYTES}} NOT NULL,
    expires_at {{.TIME}} NOT NULL,
    used_at    {{.TIME}},
    created_at {{.TIME}} NOT NULL
);
CREATE UNIQUE INDEX password_resets_hash ON password_resets (token_hash);
CREATE INDEX password_resets_user ON password_resets (user_id);
CREATE INDEX password_resets_expires ON password_resets (expires_at);

CREATE INDEX audit_log_actor ON audit_log (actor_id, created_at);
CREATE INDEX audit_log_action ON audit_log (action, created_at);

-- +goose Down
DROP INDEX audit_log_action;
DROP INDEX audit_log_actor;
DROP TABLE password_resets;
DROP TABLE webauthn_ceremonies;
DROP TABLE mfa_sessions;
DROP TABLE mfa_recovery_codes;
DROP TABLE mfa_factors;
