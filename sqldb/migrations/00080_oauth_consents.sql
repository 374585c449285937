-- OAuth consents and client-owned webhook endpoints. A consent is a
-- user's standing permission for an OAuth client (written when the user
-- allows it on the consent or device page; its scopes widen with each
-- new consent; revoked_at stops it). A client's webhook endpoints receive
-- the events of the users with an active consent whose scopes cover the
-- event (cairn.ConsentCovers). An endpoint belongs to exactly one owner:
-- a user (user_id) or a client (client_id), a CHECK on PostgreSQL and
-- triggers on SQLite, which cannot add a constraint to a table without
-- rebuilding it (and a rebuild would cascade-delete the deliveries).
-- The other indexes serve the fan-out, the client's endpoint list and
-- the retention job (old events, finished deliveries, and the deliveries
-- of an event).

-- +goose Up
{{if eq .DIALECT "postgres"}}
-- Ids sort and compare bytewise ({{.ID}}): the fan-out joins client_id to
-- oauth_consents.client_id, which a default-collation index cannot serve.
ALTER TABLE webhook_endpoints ALTER COLUMN client_id TYPE {{.ID}};
{{end}}
CREATE TABLE oauth_consents (
    user_id    {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  {{.ID}} NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes     TEXT NOT NULL,
    granted_at {{.TIME}} NOT NULL,
    updated_at {{.TIME}} NOT NULL,
    revoked_at {{.TIME}},
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX oauth_consents_client ON oauth_consents (client_id);
CREATE INDEX webhook_endpoints_client_created ON webhook_endpoints (client_id, created_at, id);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (updated_at) WHERE status <> 'pending';
CREATE INDEX events_created ON events (created_at);
{{if eq .DIALECT "postgres"}}
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_one_owner
    CHECK ((user_id IS NOT NULL) <> (client_id <> ''));
{{else}}
-- +goose StatementBegin
CREATE TRIGGER webhook_endpoints_one_owner_insert BEFORE INSERT ON webhook_endpoints
WHEN (NEW.user_id IS NOT NULL) = (NEW.client_id <> '')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: webhook_endpoints_one_owner');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER webhook_endpoints_one_owner_update BEFORE UPDATE OF user_id, client_id ON webhook_endpoints
WHEN (NEW.user_id IS NOT NULL) = (NEW.client_id <> '')
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: webhook_endpoints_one_owner');
END;
-- +goose StatementEnd
{{end}}

-- +goose Down
{{if eq .DIALECT "postgres"}}
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_one_owner;
ALTER TABLE webhook_endpoints ALTER COLUMN client_id TYPE TEXT COLLATE "default";
{{else}}
DROP TRIGGER webhook_endpoints_one_owner_update;
DROP TRIGGER webhook_endpoints_one_owner_insert;
{{end}}
DROP INDEX events_created;
DROP INDEX webhook_deliveries_finished;
DROP INDEX webhook_deliveries_event;
DROP INDEX webhook_endpoints_client_created;
DROP INDEX oauth_consents_client;
DROP TABLE oauth_consents;
