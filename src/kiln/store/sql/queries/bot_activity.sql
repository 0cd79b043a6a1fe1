-- A warm-up inbox's recent activity (GET .../bots/{id}/activity). Scoped by workspace_id ($1).

-- name: bot_activity.list
-- $2 bot, $3 before (an id; newest first below it), $4 limit. The warm-up mail senders sent to the
-- bot, with what the bot did with each: found it (where), read it, marked it important, moved it
-- out of spam, answered it.
SELECT m.id, m.sender_id, s.email AS sender_email, m.subject, m.status, m.placement, m.sent_at,
       m.delivered_at, m.opened_at, m.flagged_at, m.rescued_at, m.replied_at
FROM warmup_messages m JOIN senders s ON s.id = m.sender_id
WHERE m.workspace_id = $1 AND m.bot_id = $2 AND m.direction = 'out' AND m.id < $3
  AND m.status = 'sent'
ORDER BY m.id DESC
LIMIT $4;
