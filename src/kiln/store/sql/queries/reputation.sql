-- Reputation (warmup/reputation.h): what each sender's and bot's mail did, per day and per window,
-- and the health score history. Times are [start $2, end $3) in Unix ms.

-- name: reputation.sender_warmup
-- Warm-up mail the sender ($1) sent: its own mail to a counterpart, and its answers as a peer of
-- another sender. Placement counts only mail that was looked for (not 'unknown').
SELECT COUNT(*) AS sent,
       COALESCE(SUM(CASE WHEN placement = 'inbox' THEN 1 ELSE 0 END), 0) AS inbox,
       COALESCE(SUM(CASE WHEN placement = 'spam' THEN 1 ELSE 0 END), 0) AS spam,
       COALESCE(SUM(CASE WHEN placement = 'other_folder' THEN 1 ELSE 0 END), 0) AS other_folder,
       COALESCE(SUM(CASE WHEN placement = 'missing' THEN 1 ELSE 0 END), 0) AS missing,
       COALESCE(SUM(CASE WHEN replied_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS replies
FROM warmup_messages
WHERE status = 'sent' AND sent_at >= $2 AND sent_at < $3
  AND ((sender_id = $1 AND direction = 'out') OR (peer_sender_id = $1 AND direction = 'back'));

-- name: reputation.bot_warmup
-- Warm-up mail the bot ($1) sent: its answers to senders.
SELECT COUNT(*) AS sent,
       COALESCE(SUM(CASE WHEN placement = 'inbox' THEN 1 ELSE 0 END), 0) AS inbox,
       COALESCE(SUM(CASE WHEN placement = 'spam' THEN 1 ELSE 0 END), 0) AS spam,
       COALESCE(SUM(CASE WHEN placement = 'other_folder' THEN 1 ELSE 0 END), 0) AS other_folder,
       COALESCE(SUM(CASE WHEN placement = 'missing' THEN 1 ELSE 0 END), 0) AS missing,
       COALESCE(SUM(CASE WHEN replied_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS replies
FROM warmup_messages
WHERE status = 'sent' AND sent_at >= $2 AND sent_at < $3 AND bot_id = $1 AND direction = 'back';

-- name: reputation.sender_cold
-- Cold mail of the sender ($1) by its events: attempted (sent, or refused with a bounce), hard
-- bounces (a 'bounced' event whose detail does not say "kind":"soft"), replies (not auto-replies)
-- and complaints. Each message counts once per kind.
SELECT COUNT(DISTINCT CASE WHEN e.type IN ('sent', 'bounced') THEN e.message_id END) AS cold_sent,
       COUNT(DISTINCT CASE WHEN e.type = 'bounced' AND e.detail NOT LIKE '%"kind":"soft"%'
                           THEN e.message_id END) AS bounced,
       COUNT(DISTINCT CASE WHEN e.type = 'replied' THEN e.message_id END) AS replies,
       COUNT(DISTINCT CASE WHEN e.type = 'complained' THEN e.message_id END) AS complaints
FROM events e JOIN messages m ON m.id = e.message_id
WHERE m.sender_id = $1 AND e.created_at >= $2 AND e.created_at < $3;

-- name: reputation.subjects
-- Every sender and bot, with its calendar.
SELECT 'sender' AS kind, id, workspace_id, timezone FROM senders
UNION ALL
SELECT 'bot' AS kind, id, workspace_id, timezone FROM bots
ORDER BY workspace_id, kind, id;

-- name: reputation.sender
SELECT id, health_score, timezone FROM senders WHERE workspace_id = $1 AND id = $2;

-- name: reputation.bot
SELECT id, health_score, timezone FROM bots WHERE workspace_id = $1 AND id = $2;

-- name: reputation.upsert_daily
INSERT INTO reputation_daily (subject_kind, subject_id, workspace_id, day, warmup_sent, inbox, spam,
                              other_folder, missing, replies, cold_sent, bounced, complaints,
                              score, computed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (subject_kind, subject_id, day) DO UPDATE SET
  warmup_sent = excluded.warmup_sent, inbox = excluded.inbox, spam = excluded.spam,
  other_folder = excluded.other_folder, missing = excluded.missing, replies = excluded.replies,
  cold_sent = excluded.cold_sent, bounced = excluded.bounced, complaints = excluded.complaints,
  score = excluded.score, computed_at = excluded.computed_at;

-- name: reputation.daily
-- The newest $4 days of history of one subject, newest first.
SELECT day, warmup_sent, inbox, spam, other_folder, missing, replies, cold_sent, bounced,
       complaints, score, computed_at
FROM reputation_daily
WHERE subject_kind = $1 AND workspace_id = $2 AND subject_id = $3
ORDER BY day DESC
LIMIT $4;

-- name: reputation.set_sender_score
UPDATE senders SET health_score = $2 WHERE id = $1 AND health_score <> $2;

-- name: reputation.set_bot_score
UPDATE bots SET health_score = $2 WHERE id = $1 AND health_score <> $2;
