-- The sending side of warm-up (src/kiln/warmup/source.h): what a sender sends next (a peer's
-- owed answer, its own continuation of a thread, or a new thread with the counterpart pairing
-- picks), the counts behind every counterpart's room today, and settling the rows.
-- Rows sent through a sender's transport are 'out' rows (sender_id sends) and 'back' rows with a
-- peer_sender_id (the peer sends); a bot's 'back' rows belong to the bot runner (botrun.sql).

-- What a sender sends ---------------------------------------------------------------------------

-- name: warmup.owed_peer_reply
-- (a) An answer sender $1 owes as a peer, scheduled by the receiving side, due by $2.
SELECT w.id, w.workspace_id, w.sender_id, w.bot_id, w.peer_sender_id, w.direction, w.thread_id,
       w.parent_id, w.exchange, w.token, w.message_id_header, w.subject, w.scheduled_at,
       COALESCE(b.text_body, '') AS text_body, COALESCE(b.html_body, '') AS html_body
FROM warmup_messages w
LEFT JOIN warmup_bodies b ON b.message_id = w.id
WHERE w.peer_sender_id = $1 AND w.direction = 'back' AND w.status = 'scheduled'
  AND w.scheduled_at <= $2
ORDER BY w.scheduled_at, w.id
LIMIT 1;

-- name: warmup.own_continuation
-- (b) Sender $1's next mail in a thread its counterpart answered, due by $2.
SELECT w.id, w.workspace_id, w.sender_id, w.bot_id, w.peer_sender_id, w.direction, w.thread_id,
       w.parent_id, w.exchange, w.token, w.message_id_header, w.subject, w.scheduled_at,
       COALESCE(b.text_body, '') AS text_body, COALESCE(b.html_body, '') AS html_body
FROM warmup_messages w
LEFT JOIN warmup_bodies b ON b.message_id = w.id
WHERE w.sender_id = $1 AND w.direction = 'out' AND w.status = 'scheduled'
  AND w.scheduled_at <= $2
ORDER BY w.scheduled_at, w.id
LIMIT 1;

-- name: warmup.claim
-- $1 id, $2 now, $3 Message-ID header (kept when the row has one), $4 subject (what is sent; bodies
-- composed at send time are stored by warmup.set_bodies in the same transaction).
-- A sender's row's sent_at is when its send began (the claim, here or in warmup.new_thread):
-- warmup.mark_sent keeps it, so settling moves no entry of the (..., sent_at) indexes, and
-- warmup.mark_failed clears it (nothing went out). Rows claimed before this rule may still hold
-- NULL while open; every count takes open claims by their status, so both count once.
UPDATE warmup_messages
SET status = 'sending', message_id_header = COALESCE(message_id_header, $3), subject = $4,
    sent_at = $2, updated_at = $2
WHERE id = $1 AND status = 'scheduled';

-- name: warmup.set_bodies
-- Message $1's bodies: $2 text, $3 html (warmup_bodies, 0019).
INSERT INTO warmup_bodies (message_id, text_body, html_body) VALUES ($1, $2, $3)
ON CONFLICT (message_id) DO UPDATE SET text_body = excluded.text_body,
                                       html_body = excluded.html_body;

-- name: warmup.postpone
-- A sender's own next mail in a thread whose counterpart has no room left today: due again at $3,
-- in the counterpart's next day.
UPDATE warmup_messages SET scheduled_at = $3, updated_at = $2
WHERE id = $1 AND status = 'scheduled';

-- name: warmup.cancel
-- A scheduled row that cannot be sent any more: $3 says why.
UPDATE warmup_messages SET status = 'canceled', error = $3, updated_at = $2
WHERE id = $1 AND status = 'scheduled';

-- name: warmup.parent_of
-- The mail message $1 answers (NULL for the first of a thread): settling a sent answer marks it.
SELECT parent_id FROM warmup_messages WHERE id = $1;

-- name: warmup.parent
-- The mail a scheduled row answers: its Message-ID, and what to quote if the row has no bodies.
SELECT w.id, w.message_id_header, w.subject, COALESCE(b.text_body, '') AS text_body, w.sent_at,
       w.created_at, w.direction, w.sender_id, w.bot_id, w.peer_sender_id
FROM warmup_messages w LEFT JOIN warmup_bodies b ON b.message_id = w.id
WHERE w.id = $1;

-- name: warmup.thread_headers
-- The Message-IDs of thread $1 (its token) before exchange $2, oldest first: References.
SELECT message_id_header FROM warmup_messages
WHERE token = $1 AND exchange < $2 AND message_id_header IS NOT NULL
ORDER BY exchange, id;

-- name: warmup.sender_address
-- Sender $1's address and status: the recipient of an answer it is owed (no room is taken).
SELECT id, name, from_name, email, status FROM senders WHERE id = $1;

-- New threads -----------------------------------------------------------------------------------

-- name: warmup.new_thread
-- $1 workspace, $2 sender, $3 bot, $4 peer sender, $5 token, $6 Message-ID header, $7 subject,
-- $8 now. Claimed at once ('sending'): nothing is sent before this commits. Its bodies:
-- warmup.set_bodies in the same transaction.
INSERT INTO warmup_messages (workspace_id, sender_id, bot_id, peer_sender_id, direction,
                             exchange, token, message_id_header, subject, status, scheduled_at,
                             sent_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, 'out', 1, $5, $6, $7, 'sending', $8, $8, $8, $8)
RETURNING id;

-- name: warmup.set_thread
UPDATE warmup_messages SET thread_id = id WHERE id = $1 AND thread_id IS NULL;

-- name: warmup.workspace_bots
-- Pairing candidates: the workspace's active bots and their aging ramps.
SELECT id, email, provider, timezone, aging_start_at, aging_end_at, aging_start_volume,
       daily_send_limit, daily_receive_limit
FROM bots WHERE workspace_id = $1 AND status = 'active'
ORDER BY id;

-- name: warmup.workspace_fingerprint
-- Whether workspace $1's bots or senders changed since the candidates were read: how many there
-- are and their latest updated_at (every settings, status and plan change sets it).
SELECT (SELECT COUNT(*) FROM bots WHERE workspace_id = $1) AS bots,
       (SELECT COALESCE(MAX(updated_at), 0) FROM bots WHERE workspace_id = $1) AS bots_changed,
       (SELECT COUNT(*) FROM senders WHERE workspace_id = $1) AS senders,
       (SELECT COALESCE(MAX(updated_at), 0) FROM senders WHERE workspace_id = $1)
         AS senders_changed;

-- name: warmup.workspace_peers
-- Peer candidates: the workspace's other active senders with warm-up on, and their plans.
SELECT id, email, timezone, warmup_start_at, warmup_end_at, warmup_start_volume,
       warmup_daily_increase, warmup_daily_target, warmup_weekdays_only, created_at
FROM senders
WHERE workspace_id = $1 AND id <> $2 AND status = 'active' AND warmup_enabled = 1
ORDER BY id;

-- Counts in [$3, $4), a day on the counterparts' calendar in one time zone ($2): sent mail, plus
-- claims whose outcome is open or unknown (they may have gone out), plus mail scheduled for that
-- day (continuations and owed answers are coming). One branch per way a row counts, each found
-- through its own index (0015) so a count reads that day's rows only; CROSS JOIN keeps SQLite
-- from walking the counterparts' whole histories instead, and a unary + keeps it off an index
-- that would read more rows than the branch's own.

-- name: warmup.bot_received_between
SELECT c.id, COUNT(*) AS n FROM (
  SELECT w.bot_id AS id FROM warmup_messages w CROSS JOIN bots b
  WHERE w.workspace_id = $1 AND w.sent_at >= $3 AND w.sent_at < $4 AND w.status = 'sent'
    AND w.direction = 'out' AND b.id = w.bot_id AND b.timezone = $2
  UNION ALL
  SELECT w.bot_id FROM warmup_messages w CROSS JOIN bots b
  WHERE w.status IN ('sending', 'unknown') AND w.updated_at >= $3 AND w.updated_at < $4
    AND +w.workspace_id = $1 AND w.direction = 'out' AND b.id = w.bot_id AND b.timezone = $2
  UNION ALL
  SELECT w.bot_id FROM warmup_messages w CROSS JOIN bots b
  WHERE w.status = 'scheduled' AND w.scheduled_at >= $3 AND w.scheduled_at < $4
    AND +w.workspace_id = $1 AND w.direction = 'out' AND b.id = w.bot_id AND b.timezone = $2
) c
GROUP BY c.id;

-- name: warmup.bot_replies_between
SELECT c.id, COUNT(*) AS n FROM (
  SELECT w.bot_id AS id FROM warmup_messages w CROSS JOIN bots b
  WHERE w.workspace_id = $1 AND w.sent_at >= $3 AND w.sent_at < $4 AND w.status = 'sent'
    AND w.direction = 'back' AND b.id = w.bot_id AND b.timezone = $2
  UNION ALL
  SELECT w.bot_id FROM warmup_messages w CROSS JOIN bots b
  WHERE w.status IN ('sending', 'unknown') AND w.updated_at >= $3 AND w.updated_at < $4
    AND +w.workspace_id = $1 AND w.direction = 'back' AND b.id = w.bot_id AND b.timezone = $2
  UNION ALL
  SELECT w.bot_id FROM warmup_messages w CROSS JOIN bots b
  WHERE w.status = 'scheduled' AND w.scheduled_at >= $3 AND w.scheduled_at < $4
    AND +w.workspace_id = $1 AND w.direction = 'back' AND b.id = w.bot_id AND b.timezone = $2
) c
GROUP BY c.id;

-- name: warmup.peer_received_between
SELECT c.id, COUNT(*) AS n FROM (
  SELECT w.peer_sender_id AS id FROM warmup_messages w CROSS JOIN senders s
  WHERE w.workspace_id = $1 AND w.sent_at >= $3 AND w.sent_at < $4 AND w.status = 'sent'
    AND w.direction = 'out' AND s.id = w.peer_sender_id AND s.timezone = $2
  UNION ALL
  SELECT w.peer_sender_id FROM warmup_messages w CROSS JOIN senders s
  WHERE w.status IN ('sending', 'unknown') AND w.updated_at >= $3 AND w.updated_at < $4
    AND +w.workspace_id = $1 AND w.direction = 'out' AND s.id = w.peer_sender_id
    AND s.timezone = $2
  UNION ALL
  SELECT w.peer_sender_id FROM warmup_messages w CROSS JOIN senders s
  WHERE w.status = 'scheduled' AND w.scheduled_at >= $3 AND w.scheduled_at < $4
    AND +w.workspace_id = $1 AND w.direction = 'out' AND s.id = w.peer_sender_id
    AND s.timezone = $2
) c
GROUP BY c.id;

-- The same for one counterpart $1 in [$2, $3), counted again under its row lock.

-- name: warmup.bot_received_one
SELECT
  (SELECT COUNT(*) FROM warmup_messages w
   WHERE w.bot_id = $1 AND w.sent_at >= $2 AND w.sent_at < $3 AND w.status = 'sent'
     AND w.direction = 'out')
  + (SELECT COUNT(*) FROM warmup_messages w
     WHERE w.status IN ('sending', 'unknown') AND w.updated_at >= $2 AND w.updated_at < $3
       AND +w.bot_id = $1 AND w.direction = 'out')
  + (SELECT COUNT(*) FROM warmup_messages w
     WHERE w.bot_id = $1 AND w.scheduled_at >= $2 AND w.scheduled_at < $3
       AND w.status = 'scheduled' AND w.direction = 'out') AS n;

-- name: warmup.bot_replies_one
SELECT
  (SELECT COUNT(*) FROM warmup_messages w
   WHERE w.bot_id = $1 AND w.sent_at >= $2 AND w.sent_at < $3 AND w.status = 'sent'
     AND w.direction = 'back')
  + (SELECT COUNT(*) FROM warmup_messages w
     WHERE w.status IN ('sending', 'unknown') AND w.updated_at >= $2 AND w.updated_at < $3
       AND +w.bot_id = $1 AND w.direction = 'back')
  + (SELECT COUNT(*) FROM warmup_messages w
     WHERE w.bot_id = $1 AND w.scheduled_at >= $2 AND w.scheduled_at < $3
       AND w.status = 'scheduled' AND w.direction = 'back') AS n;

-- name: warmup.peer_received_one
SELECT
  (SELECT COUNT(*) FROM warmup_messages w
   WHERE w.peer_sender_id = $1 AND w.sent_at >= $2 AND w.sent_at < $3 AND w.status = 'sent'
     AND w.direction = 'out')
  + (SELECT COUNT(*) FROM warmup_messages w
     WHERE w.status IN ('sending', 'unknown') AND w.updated_at >= $2 AND w.updated_at < $3
       AND +w.peer_sender_id = $1 AND w.direction = 'out')
  + (SELECT COUNT(*) FROM warmup_messages w
     WHERE w.peer_sender_id = $1 AND w.scheduled_at >= $2 AND w.scheduled_at < $3
       AND w.status = 'scheduled' AND w.direction = 'out') AS n;

-- name: warmup.bot_locked
-- Bot $1's address and status, and what its room today comes from (as warmup.workspace_bots),
-- read by the writer about to take some of that room: on PostgreSQL under the row's lock
-- (warmup.postgres.sql: FOR UPDATE), so two senders cannot both take its last room. SQLite's writers are serial already (BEGIN IMMEDIATE holds the database's write lock for
-- the whole transaction), so here it is the plain read: no page written to lock a row.
SELECT id, name, email, provider, status, timezone, aging_start_at, aging_end_at,
       aging_start_volume, daily_send_limit, daily_receive_limit
FROM bots WHERE id = $1;

-- name: warmup.sender_locked
-- Sender $1's address and status, and what its room as a peer today comes from (as
-- warmup.workspace_peers), read under its lock as warmup.bot_locked.
SELECT id, name, from_name, email, status, timezone, warmup_enabled, warmup_start_at,
       warmup_end_at, warmup_start_volume, warmup_daily_increase, warmup_daily_target,
       warmup_weekdays_only, created_at
FROM senders WHERE id = $1;

-- name: warmup.contacts
-- Sender $1's latest $2 sent mails to its counterparts, newest first: the history pairing ranks
-- by (source.h). One backward range of warmup_messages_sender_sent_idx (0017), which holds both
-- counterpart columns: no table row is read, whatever the sender's days of warm-up.
SELECT bot_id, peer_sender_id
FROM warmup_messages
WHERE sender_id = $1 AND direction = 'out' AND sent_at IS NOT NULL
ORDER BY sent_at DESC
LIMIT $2;

-- Settling ----------------------------------------------------------------------------------------

-- name: warmup.mark_sent
-- A claim lapsed into 'unknown' is still settled: the server's answer is the truth. sent_at stays
-- the claim's (see warmup.claim).
UPDATE warmup_messages
SET status = 'sent', sent_at = COALESCE(sent_at, $2), smtp_code = $3, smtp_response = $4, error = '',
    updated_at = $2
WHERE id = $1 AND status IN ('sending', 'unknown')
  AND (direction = 'out' OR peer_sender_id IS NOT NULL);

-- name: warmup.mark_failed
UPDATE warmup_messages
SET status = 'failed', sent_at = NULL, smtp_code = $3, smtp_response = $4, error = $5,
    updated_at = $2
WHERE id = $1 AND status IN ('sending', 'unknown')
  AND (direction = 'out' OR peer_sender_id IS NOT NULL);

-- name: warmup.mark_parent_replied
UPDATE warmup_messages SET replied_at = $2, updated_at = $2 WHERE id = $1 AND replied_at IS NULL;

-- name: warmup.lapsed_to_unknown
-- Claims of sender-sent rows older than $2 were caught mid-send by a crash: they may have gone
-- out, so they become 'unknown' and are never resent.
UPDATE warmup_messages SET status = 'unknown', error = $3, updated_at = $1
WHERE status = 'sending' AND updated_at < $2
  AND (direction = 'out' OR peer_sender_id IS NOT NULL);
