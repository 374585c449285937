-- Webhook deliveries: the event's type (lists show it without a join),
-- and whether the delivery's River job was enqueued in the transaction
-- that wrote it. A process without a queue (cairn import) leaves it
-- FALSE and the server's relay enqueues it. Partial indexes serve the
-- relay, the queue depth and the per-endpoint lists.

-- +goose Up
ALTER TABLE webhook_deliveries ADD COLUMN event_type TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_deliveries ADD COLUMN enqueued BOOLEAN NOT NULL DEFAULT TRUE;
CREATE INDEX webhook_deliveries_endpoint_created ON webhook_deliveries (endpoint_id, created_at, id);
CREATE INDEX webhook_deliveries_unenqueued ON webhook_deliveries (created_at) WHERE enqueued = FALSE;
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (created_at) WHERE status = 'pending';
CREATE INDEX webhook_endpoints_user_created ON webhook_endpoints (user_id, created_at, id);

-- +goose Down
DROP INDEX webhook_endpoints_user_created;
DROP INDEX webhook_deliveries_pending;
DROP INDEX webhook_deliveries_unenqueued;
DROP INDEX webhook_deliveries_endpoint_created;
ALTER TABLE webhook_deliveries DROP COLUMN enqueued;
ALTER TABLE webhook_deliveries DROP COLUMN event_type;
