-- 0010_webhooks: outgoing webhooks (subscriptions, a durable delivery queue with leases, a
-- watermark over events) and the ledger of inbound provider events (issue 6 §5).
-- See docs/decisions/0007-webhooks.md.
--
-- webhooks (from 0001) gains why it was disabled and since when it has been failing.
-- webhook_deliveries (from 0001, never used until now) is replaced: one row per (subscription,
-- event), leased by the worker that sends it, with the last attempt's outcome.
-- webhook_cursor holds the id of the last event fanned out to deliveries (the watermark); it starts
-- at the newest event, so history is not sent to new subscribers.
-- webhook_inbound holds each workspace's inbound URL token (as a SHA-256 hash) and its providers'
-- sealed signing keys; inbound_provider_events records each provider event once.

ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN failing_since BIGINT;

DROP INDEX webhook_deliveries_due_idx;
DROP INDEX webhook_deliveries_webhook_idx;
DROP TABLE webhook_deliveries;

CREATE TABLE webhook_deliveries (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id BIGINT,  -- events.id; NULL for a test ping (no foreign key: events may be pruned)
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,  -- the JSON body, identical on every attempt
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,  -- pending only
  lease_owner TEXT,
  lease_until BIGINT,
  last_attempt_at BIGINT,
  last_status_code INTEGER,  -- the receiver's HTTP status; NULL when no answer came
  last_error TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  delivered_at BIGINT
);
CREATE UNIQUE INDEX webhook_deliveries_event_key ON webhook_deliveries (webhook_id, event_id);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
  WHERE status = 'pending';

CREATE TABLE webhook_cursor (
  name TEXT PRIMARY KEY,
  last_event_id BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
INSERT INTO webhook_cursor (name, last_event_id, updated_at)
SELECT 'events', COALESCE(MAX(id), 0), 0 FROM events;

CREATE TABLE webhook_inbound (
  workspace_id BIGINT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
  token_hash TEXT NOT NULL UNIQUE,  -- SHA-256 hex of the URL token
  mailgun_signing_key {{BLOB}},  -- sealed, AAD "webhook_inbound:<ws>:mailgun_signing_key"
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE inbound_provider_events (
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  provider TEXT NOT NULL,  -- 'generic', 'mailgun'
  provider_event_id TEXT NOT NULL,
  type TEXT NOT NULL,  -- bounce, complaint, delivered, unsubscribe
  message_id BIGINT,  -- the message it was matched to, if any
  outcome TEXT NOT NULL,  -- recorded, unmatched, ignored
  received_at BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, provider, provider_event_id)
);
