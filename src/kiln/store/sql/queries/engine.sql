-- Engine: the queue manager's claim -> send -> record of messages (docs/decisions/0004-exactly-once.md).
-- A message is keyed by (campaign_id, contact_id, step_id). Every state change is guarded by the
-- state it expects, so a statement that changes 0 rows means "someone else got there first".

-- name: engine.message_schedule
-- Creates the message in state 'scheduled' unless it already exists (in any state).
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, variant_id, sender_id,
                      status, scheduled_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'scheduled', $7, $8, $8)
ON CONFLICT (campaign_id, contact_id, step_id) DO NOTHING;

-- name: engine.message_by_key
SELECT id, workspace_id, campaign_id, contact_id, step_id, variant_id, sender_id, status,
       attempts, message_id_header, claimed_by, lease_until, next_attempt_at, sent_at, error
FROM messages WHERE campaign_id = $1 AND contact_id = $2 AND step_id = $3;

-- name: engine.message_get
SELECT id, workspace_id, campaign_id, contact_id, step_id, variant_id, sender_id, status,
       attempts, message_id_header, thread_root_header, in_reply_to_header, subject, claimed_by,
       lease_until, next_attempt_at, scheduled_at, sent_at, smtp_code, smtp_enhanced_code,
       smtp_response, error
FROM messages WHERE id = $1;

-- name: engine.message_claim
-- $1 id, $2 worker, $3 lease_until, $4 now, $5 sender_id, $6 subject, $7 Message-ID header,
-- $8 In-Reply-To header, $9 thread root header. Claimable: scheduled, or retry whose time came.
UPDATE messages
SET status = 'sending', claimed_by = $2, lease_until = $3, attempts = attempts + 1,
    sender_id = $5, subject = $6, message_id_header = $7, in_reply_to_header = $8,
    thread_root_header = $9, updated_at = $4
WHERE id = $1
  AND (status = 'scheduled' OR (status = 'retry' AND next_attempt_at <= $4));

-- name: engine.message_record_sent
-- A claim lapsed into 'unknown' is still ours to settle: the server accepted it, that is the truth.
UPDATE messages
SET status = 'sent', sent_at = $3, smtp_code = $4, smtp_enhanced_code = $5, smtp_response = $6,
    error = '', lease_until = NULL, next_attempt_at = NULL, updated_at = $3
WHERE id = $1 AND claimed_by = $2 AND status IN ('sending', 'unknown');

-- name: engine.message_record_retry
UPDATE messages
SET status = 'retry', next_attempt_at = $4, smtp_code = $5, smtp_enhanced_code = $6,
    smtp_response = $7, error = $8, lease_until = NULL, updated_at = $3
WHERE id = $1 AND claimed_by = $2 AND status IN ('sending', 'unknown');

-- name: engine.message_record_failed
-- $8 is 'failed' or 'bounced'.
UPDATE messages
SET status = $8, smtp_code = $4, smtp_enhanced_code = $5, smtp_response = $6, error = $7,
    lease_until = NULL, next_attempt_at = NULL,
    bounced_at = CASE WHEN $8 = 'bounced' THEN $3 ELSE bounced_at END, updated_at = $3
WHERE id = $1 AND claimed_by = $2 AND status IN ('sending', 'unknown');

-- name: engine.messages_lapsed
-- Claims whose lease ran out before their outcome was recorded: the worker died mid-send.
SELECT id, workspace_id, campaign_id, claimed_by, lease_until
FROM messages WHERE status = 'sending' AND lease_until < $1 ORDER BY id LIMIT $2;

-- name: engine.message_mark_unknown
UPDATE messages SET status = 'unknown', error = $3, updated_at = $2
WHERE id = $1 AND status = 'sending' AND lease_until < $2;

-- name: engine.event_insert
INSERT INTO events (workspace_id, message_id, campaign_id, type, detail, created_at)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: engine.campaign_unknown_count
SELECT COUNT(*) AS n FROM messages
WHERE workspace_id = $1 AND campaign_id = $2 AND status = 'unknown';

-- name: engine.message_events
SELECT type, detail, created_at FROM events WHERE message_id = $1 ORDER BY id;
