-- An OAuth client may belong to a user (the developer who registered the
-- app), so that admins can rotate "that user's client"
-- (POST /v1/admin/users/{id}/rotate-oauth-client). Deleting the user
-- leaves the client ownerless, not gone: partners' integrations keep
-- working until an admin decides.

-- +goose Up
ALTER TABLE oauth_clients ADD COLUMN owner_id {{.ID}} REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX oauth_clients_owner ON oauth_clients (owner_id);

-- +goose Down
DROP INDEX oauth_clients_owner;
ALTER TABLE oauth_clients DROP COLUMN owner_id;
