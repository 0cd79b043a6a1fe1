-- The receiving side of warm-up (src/kiln/warmup/bot_runner.h): scanning bots' and senders'
-- mailboxes for warm-up mail, recording what happened to it, scheduling and sending the bots'
-- replies. Every change of a warmup_messages row is guarded by the state it expects (a column
-- still NULL, a status), so running a statement twice changes nothing the second time.

-- Mailboxes -----------------------------------------------------------------------------------------

-- name: botrun.active_bots
SELECT id, workspace_id FROM bots WHERE status = 'active' AND imap_host <> '' ORDER BY id;

-- name: botrun.warmup_senders
-- Senders whose own mailbox receives warm-up mail: replies to their warm-up mail (sender_id), or
-- warm-up mail from another sender of the workspace (peer_sender_id).
SELECT s.id, s.workspace_id FROM senders s
WHERE s.status = 'active' AND s.imap_host <> ''
  AND (EXISTS (SELECT 1 FROM warmup_messages w WHERE w.sender_id = s.id AND w.direction = 'back')
       OR EXISTS (SELECT 1 FROM warmup_messages w
                  WHERE w.peer_sender_id = s.id AND w.direction = 'out'))
ORDER BY s.id;

-- name: botrun.bot
SELECT id, workspace_id, name, email, status, imap_host, imap_port, imap_security, imap_username,
       imap_secret, smtp_host, smtp_port, smtp_security, smtp_username, smtp_secret,
       allow_self_signed, oauth_provider, timezone, aging_start_at, aging_end_at,
       aging_start_volume, daily_send_limit, important_rate_percent, reply_delay_min_minutes,
       reply_delay_max_minutes
FROM bots WHERE id = $1;

-- name: botrun.sender
SELECT id, workspace_id, name, email, from_name, status, imap_host, imap_port, imap_security,
       imap_username, imap_secret, allow_self_signed, oauth_provider, warmup_reply_rate_percent
FROM senders WHERE id = $1;

-- name: botrun.bot_failed
-- A bot whose mailbox refuses its credentials stops until someone fixes them.
UPDATE bots SET status = 'failed', status_reason = $2, last_checked_at = $3, updated_at = $3
WHERE id = $1 AND status = 'active';

-- name: botrun.bot_checked
UPDATE bots SET last_checked_at = $2 WHERE id = $1;

-- name: botrun.sender_checked
UPDATE senders SET last_checked_at = $2 WHERE id = $1;

-- Leases: one queue_tasks row per mailbox (kind 'warmup_scan', dedupe_key
-- 'warmup_scan:<kind>:<id>') holds the cadence (run_at) and the lease of the worker scanning it.

-- name: botrun.task_ensure
-- $1 dedupe_key, $2 workspace_id, $3 payload, $4 now.
INSERT INTO queue_tasks (workspace_id, kind, priority, run_at, status, payload, dedupe_key,
                         created_at, updated_at)
VALUES ($2, 'warmup_scan', 0, $4, 'pending', $3, $1, $4, $4)
ON CONFLICT (dedupe_key) DO NOTHING;

-- name: botrun.task_claim
-- $1 dedupe_key, $2 worker, $3 lease_until, $4 now. 1 row: the lease is ours.
UPDATE queue_tasks
SET status = 'leased', lease_owner = $2, lease_until = $3, updated_at = $4
WHERE dedupe_key = $1
  AND ((status = 'pending' AND run_at <= $4) OR (status = 'leased' AND lease_until < $4));

-- name: botrun.task_renew
-- $1 dedupe_key, $2 worker, $3 lease_until, $4 now. 0 rows: the lease was lost (it lapsed and
-- another worker took the mailbox).
UPDATE queue_tasks SET lease_until = $3, updated_at = $4
WHERE dedupe_key = $1 AND lease_owner = $2 AND status = 'leased';

-- name: botrun.task_release
-- $1 dedupe_key, $2 worker, $3 next run_at, $4 now, $5 last_error ('' when the scan went well).
UPDATE queue_tasks
SET status = 'pending', run_at = $3, lease_owner = NULL, lease_until = NULL, last_error = $5,
    updated_at = $4
WHERE dedupe_key = $1 AND lease_owner = $2 AND status = 'leased';

-- name: botrun.task_release_all
-- On shutdown: the mailboxes this worker holds become due at once for the others.
UPDATE queue_tasks
SET status = 'pending', lease_owner = NULL, lease_until = NULL, updated_at = $2
WHERE kind = 'warmup_scan' AND lease_owner = $1 AND status = 'leased';

-- name: botrun.task
SELECT dedupe_key, status, run_at, lease_owner, lease_until, last_error
FROM queue_tasks WHERE dedupe_key = $1;

-- Scan positions --------------------------------------------------------------------------------------

-- name: botrun.scan_state
SELECT uidvalidity, last_uid FROM mailbox_scan_state
WHERE owner_kind = $1 AND owner_id = $2 AND purpose = 'warmup' AND folder = $3;

-- name: botrun.scan_state_put
INSERT INTO mailbox_scan_state (owner_kind, owner_id, purpose, folder, uidvalidity, last_uid,
                                updated_at)
VALUES ($1, $2, 'warmup', $3, $4, $5, $6)
ON CONFLICT (owner_kind, owner_id, purpose, folder)
DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,
              updated_at = excluded.updated_at;

-- Receiving -----------------------------------------------------------------------------------------

-- name: botrun.message_by_header
-- $1: the Message-ID header with its angle brackets.
SELECT id, workspace_id, sender_id, bot_id, peer_sender_id, direction, thread_id, exchange, token,
       message_id_header, subject, status, placement, sent_at, delivered_at, opened_at, flagged_at,
       rescued_at
FROM warmup_messages WHERE message_id_header = $1;

-- name: botrun.mark_delivered
-- Also corrects a 'missing' placement when the mail turns up late.
UPDATE warmup_messages SET delivered_at = $2, placement = $3, updated_at = $2
WHERE id = $1 AND delivered_at IS NULL;

-- name: botrun.mark_opened
UPDATE warmup_messages SET opened_at = $2, updated_at = $2 WHERE id = $1 AND opened_at IS NULL;

-- name: botrun.mark_flagged
UPDATE warmup_messages SET flagged_at = $2, updated_at = $2 WHERE id = $1 AND flagged_at IS NULL;

-- name: botrun.mark_rescued
UPDATE warmup_messages SET rescued_at = $2, updated_at = $2
WHERE id = $1 AND rescued_at IS NULL AND placement = 'spam';

-- name: botrun.reply_of
SELECT id, status, scheduled_at FROM warmup_messages WHERE parent_id = $1;

-- name: botrun.reply_insert
-- $1 workspace, $2 sender, $3 bot, $4 peer sender, $5 direction, $6 thread, $7 parent,
-- $8 exchange, $9 token, $10 Message-ID header, $11 subject, $12 scheduled_at, $13 now: the new
-- row's id (its bodies: warmup.set_bodies in the same transaction). A second reply to the same
-- parent is refused by warmup_messages_parent_key: no row.
INSERT INTO warmup_messages (workspace_id, sender_id, bot_id, peer_sender_id, direction,
                             thread_id, parent_id, exchange, token, message_id_header, subject,
                             status, scheduled_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'scheduled', $12, $13, $13)
ON CONFLICT DO NOTHING
RETURNING id;

-- name: botrun.mark_missing
-- Sent warm-up mail that no scanned mailbox has found by the deadline ($2: sent before it).
UPDATE warmup_messages SET placement = 'missing', updated_at = $1
WHERE status = 'sent' AND delivered_at IS NULL AND placement = 'unknown' AND sent_at < $2;

-- Bots' replies -------------------------------------------------------------------------------------

-- name: botrun.replies_lapsed
-- At the start of a bot's turn (its lease held) a reply still 'sending' was caught mid-send by a
-- crash: it may have gone out, so it becomes 'unknown' and is never resent.
UPDATE warmup_messages SET status = 'unknown', error = $3, updated_at = $2
WHERE bot_id = $1 AND direction = 'back' AND status = 'sending';

-- name: botrun.replies_due
SELECT w.id, w.sender_id, w.parent_id, w.exchange, w.token, w.message_id_header, w.subject,
       COALESCE(bd.text_body, '') AS text_body, COALESCE(bd.html_body, '') AS html_body,
       w.scheduled_at, s.email AS to_email, s.from_name AS to_name,
       p.message_id_header AS parent_header
FROM warmup_messages w
JOIN senders s ON s.id = w.sender_id
LEFT JOIN warmup_messages p ON p.id = w.parent_id
LEFT JOIN warmup_bodies bd ON bd.message_id = w.id
WHERE w.bot_id = $1 AND w.direction = 'back' AND w.status = 'scheduled' AND w.scheduled_at <= $2
ORDER BY w.scheduled_at, w.id
LIMIT $3;

-- name: botrun.thread_headers
-- The Message-IDs of a thread before exchange $2, oldest first: the References of a reply.
SELECT message_id_header FROM warmup_messages
WHERE token = $1 AND exchange < $2 AND message_id_header IS NOT NULL
ORDER BY exchange, id;

-- name: botrun.bot_sends_between
-- A bot's replies in [$2, $3): sent, plus claims whose outcome is open or unknown (they may have
-- gone out, so they count against its daily limit). The sent ones are that day's range of
-- warmup_messages_bot_sent_idx (0017), the open claims come through the status index: neither
-- walks the bot's history.
SELECT
  (SELECT COUNT(*) FROM warmup_messages
   WHERE bot_id = $1 AND sent_at >= $2 AND sent_at < $3 AND direction = 'back')
  + (SELECT COUNT(*) FROM warmup_messages
     WHERE status IN ('sending', 'unknown') AND updated_at >= $2 AND updated_at < $3
       AND +bot_id = $1 AND direction = 'back'
       AND (sent_at IS NULL OR sent_at < $2 OR sent_at >= $3)) AS n;

-- name: botrun.reply_defer
UPDATE warmup_messages SET scheduled_at = $2, updated_at = $3
WHERE id = $1 AND status = 'scheduled';

-- name: botrun.reply_claim
UPDATE warmup_messages SET status = 'sending', updated_at = $2
WHERE id = $1 AND status = 'scheduled';

-- name: botrun.reply_sent
UPDATE warmup_messages
SET status = 'sent', sent_at = $2, smtp_code = $3, smtp_response = $4, error = '', updated_at = $2
WHERE id = $1 AND status = 'sending';

-- name: botrun.reply_failed
UPDATE warmup_messages
SET status = 'failed', smtp_code = $3, smtp_response = $4, error = $5, updated_at = $2
WHERE id = $1 AND status = 'sending';

-- name: botrun.parent_replied
UPDATE warmup_messages SET replied_at = $2, updated_at = $2 WHERE id = $1 AND replied_at IS NULL;
