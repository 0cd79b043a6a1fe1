-- Outgoing webhooks (subscriptions, deliveries, the events watermark) and inbound provider events.
-- Every API statement is scoped by workspace_id ($1). See src/kiln/webhooks/dispatcher.h.

-- Subscriptions -------------------------------------------------------------------------------

-- name: webhooks.insert
INSERT INTO webhooks (workspace_id, url, description, event_types, is_enabled, created_at,
                      updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
RETURNING id;

-- name: webhooks.set_secret
UPDATE webhooks SET secret = $3 WHERE workspace_id = $1 AND id = $2;

-- name: webhooks.list
SELECT id, url, description, event_types, is_enabled, disabled_reason, failure_count,
       failing_since, last_success_at, last_failure_at, created_at, updated_at
FROM webhooks WHERE workspace_id = $1 ORDER BY id;

-- name: webhooks.get
SELECT id, url, description, event_types, is_enabled, disabled_reason, failure_count,
       failing_since, last_success_at, last_failure_at, created_at, updated_at
FROM webhooks WHERE workspace_id = $1 AND id = $2;

-- Re-enabling clears the failure streak; disabling by hand leaves no reason.
-- name: webhooks.update
UPDATE webhooks
SET url = $3, description = $4, event_types = $5, is_enabled = $6,
    disabled_reason = CASE WHEN $6 = 1 THEN '' ELSE disabled_reason END,
    failing_since = CASE WHEN $6 = 1 AND is_enabled = 0 THEN NULL ELSE failing_since END,
    failure_count = CASE WHEN $6 = 1 AND is_enabled = 0 THEN 0 ELSE failure_count END,
    updated_at = $7
WHERE workspace_id = $1 AND id = $2;

-- name: webhooks.delete
DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2;

-- Fan-out --------------------------------------------------------------------------------------

-- Locks the watermark row (PostgreSQL: row lock; SQLite: the write transaction), so one
-- dispatcher at a time fans out.
-- name: webhooks.cursor_lock
UPDATE webhook_cursor SET updated_at = $1 WHERE name = 'events' RETURNING last_event_id;

-- name: webhooks.cursor_advance
UPDATE webhook_cursor SET last_event_id = $1, updated_at = $2 WHERE name = 'events';

-- name: webhooks.events_after
SELECT e.id, e.workspace_id, e.message_id, e.campaign_id, e.type, e.detail, e.is_machine,
       e.created_at, m.message_id_header, m.contact_id, m.step_id, m.sender_id, c.email,
       cp.name AS campaign_name
FROM events e
JOIN messages m ON m.id = e.message_id
JOIN contacts c ON c.id = m.contact_id
LEFT JOIN campaigns cp ON cp.id = e.campaign_id
WHERE e.id > $1
ORDER BY e.id
LIMIT $2;

-- name: webhooks.active_for_workspace
SELECT id, event_types, created_at FROM webhooks
WHERE workspace_id = $1 AND is_enabled = 1 ORDER BY id;

-- name: webhooks.delivery_insert
INSERT INTO webhook_deliveries (workspace_id, webhook_id, event_id, event_type, payload, status,
                                next_attempt_at, created_at)
VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)
ON CONFLICT (webhook_id, event_id) DO NOTHING;

-- A test ping: sent at once by the API under its own lease. Should that process die before it
-- records the outcome, the ping falls due when the lease lapses and a worker sends it.
-- name: webhooks.ping_insert
INSERT INTO webhook_deliveries (workspace_id, webhook_id, event_id, event_type, payload, status,
                                next_attempt_at, lease_owner, lease_until, created_at)
VALUES ($1, $2, NULL, 'ping', $3, 'pending', $5, $4, $5, $6)
RETURNING id;

-- Deliveries -----------------------------------------------------------------------------------

-- Leases up to $4 due deliveries of enabled subscriptions to worker $1 until $2. The outer
-- conditions are checked again on each row by PostgreSQL when a concurrent claim changed it first,
-- so two workers never hold one delivery.
-- name: webhooks.claim_due
UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2
WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.status = 'pending' AND d.next_attempt_at <= $3
               AND (d.lease_until IS NULL OR d.lease_until < $3) AND w.is_enabled = 1
             ORDER BY d.next_attempt_at, d.id LIMIT $4)
  AND status = 'pending' AND (lease_until IS NULL OR lease_until < $3)
RETURNING id, webhook_id;

-- name: webhooks.delivery_for_send
SELECT d.id, d.workspace_id, d.webhook_id, d.event_id, d.event_type, d.payload, d.attempts,
       w.url, w.secret
FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
WHERE d.id = $1;

-- name: webhooks.delivery_succeeded
UPDATE webhook_deliveries
SET status = 'delivered', attempts = attempts + 1, last_attempt_at = $3, last_status_code = $4,
    last_error = '', next_attempt_at = NULL, delivered_at = $3, lease_owner = NULL,
    lease_until = NULL
WHERE id = $1 AND lease_owner = $2;

-- $5: the next attempt, or NULL when none is left (the delivery failed for good).
-- name: webhooks.delivery_failed
UPDATE webhook_deliveries
SET status = CASE WHEN CAST($5 AS BIGINT) IS NULL THEN 'failed' ELSE 'pending' END, attempts = attempts + 1,
    last_attempt_at = $3, last_status_code = $4, last_error = $6, next_attempt_at = $5,
    lease_owner = NULL, lease_until = NULL
WHERE id = $1 AND lease_owner = $2;

-- name: webhooks.mark_success
UPDATE webhooks SET failure_count = 0, failing_since = NULL, last_success_at = $2 WHERE id = $1;

-- name: webhooks.mark_failure
UPDATE webhooks
SET failure_count = failure_count + 1, failing_since = COALESCE(failing_since, $2),
    last_failure_at = $2
WHERE id = $1
RETURNING failing_since, last_success_at;

-- name: webhooks.disable
UPDATE webhooks SET is_enabled = 0, disabled_reason = $2, updated_at = $3
WHERE id = $1 AND is_enabled = 1;

-- The delivery log, newest first; $3 status filter ('' for all), $4 before id, $5 limit.
-- name: webhooks.deliveries
SELECT id, webhook_id, event_id, event_type, status, attempts, next_attempt_at, last_attempt_at,
       last_status_code, last_error, created_at, delivered_at
FROM webhook_deliveries
WHERE workspace_id = $1 AND webhook_id = $2 AND (CAST($3 AS TEXT) = '' OR status = $3) AND id < $4
ORDER BY id DESC
LIMIT $5;

-- name: webhooks.delivery_get
SELECT id, webhook_id, event_id, event_type, status, attempts, next_attempt_at, last_attempt_at,
       last_status_code, last_error, created_at, delivered_at, lease_until
FROM webhook_deliveries WHERE workspace_id = $1 AND webhook_id = $2 AND id = $3;

-- A retry by hand: due now, with the attempts it has had (a failed delivery gets one more
-- schedule step only after it fails again).
-- name: webhooks.delivery_retry
UPDATE webhook_deliveries
SET status = 'pending', next_attempt_at = $4, lease_owner = NULL, lease_until = NULL
WHERE workspace_id = $1 AND webhook_id = $2 AND id = $3 AND status <> 'delivered'
  AND (lease_until IS NULL OR lease_until < $4);

-- Inbound provider events ------------------------------------------------------------------------

-- name: webhooks.inbound_get
SELECT workspace_id, token_hash, mailgun_signing_key, created_at, updated_at
FROM webhook_inbound WHERE workspace_id = $1;

-- name: webhooks.inbound_by_token
SELECT workspace_id, mailgun_signing_key FROM webhook_inbound WHERE token_hash = $1;

-- name: webhooks.inbound_put
INSERT INTO webhook_inbound (workspace_id, token_hash, mailgun_signing_key, created_at, updated_at)
VALUES ($1, $2, $3, $4, $4)
ON CONFLICT (workspace_id) DO UPDATE
  SET token_hash = excluded.token_hash, mailgun_signing_key = excluded.mailgun_signing_key,
      updated_at = excluded.updated_at;

-- name: webhooks.inbound_claim
INSERT INTO inbound_provider_events (workspace_id, provider, provider_event_id, type, message_id,
                                     outcome, received_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (workspace_id, provider, provider_event_id) DO NOTHING;

-- The message a provider event names by our Message-ID header.
-- name: webhooks.message_by_header
SELECT m.id, m.campaign_id, m.contact_id, c.email
FROM messages m JOIN contacts c ON c.id = m.contact_id
WHERE m.workspace_id = $1 AND m.message_id_header = $2;

-- The latest message sent to an address (for events that name only the recipient).
-- name: webhooks.message_by_email
SELECT m.id, m.campaign_id, m.contact_id, c.email
FROM messages m JOIN contacts c ON c.id = m.contact_id
WHERE m.workspace_id = $1 AND lower(c.email) = lower(CAST($2 AS TEXT)) AND m.sent_at IS NOT NULL
ORDER BY m.sent_at DESC, m.id DESC
LIMIT 1;

-- name: webhooks.contact_by_email
SELECT id, email FROM contacts WHERE workspace_id = $1 AND lower(email) = lower(CAST($2 AS TEXT));

-- name: webhooks.ping_payload
UPDATE webhook_deliveries SET payload = $2 WHERE id = $1;

-- Read-only checks so an idle tick writes nothing.
-- name: webhooks.cursor_get
SELECT last_event_id FROM webhook_cursor WHERE name = 'events';

-- name: webhooks.first_event_after
SELECT id, created_at FROM events WHERE id > $1 ORDER BY id LIMIT 1;

-- name: webhooks.any_due
SELECT 1 AS one FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
WHERE d.status = 'pending' AND d.next_attempt_at <= $1
  AND (d.lease_until IS NULL OR d.lease_until < $1) AND w.is_enabled = 1
LIMIT 1;
