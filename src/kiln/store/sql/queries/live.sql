-- Live progress (api/live.cpp): what the live WebSocket streams. One set of these per workspace
-- with listeners, once a second at most, not per connection. Every statement is scoped by
-- workspace_id ($1) except live.max_event_id, a position (no data).

-- name: live.max_event_id
-- The newest event of the whole instance: where the feed continues from (primary key, O(1)).
SELECT COALESCE(MAX(id), 0) AS id FROM events;

-- name: live.events_after
-- Events of the workspace newer than position $2, newest first, at most $3 (a range of the
-- primary key: only what arrived since the last poll is read).
SELECT e.id, e.type, e.campaign_id, e.is_machine, e.created_at, c.email AS lead_email,
       camp.name AS campaign_name
FROM events e
JOIN messages m ON m.id = e.message_id
JOIN contacts c ON c.id = m.contact_id
LEFT JOIN campaigns camp ON camp.id = e.campaign_id
WHERE e.id > $2 AND e.workspace_id = $1
ORDER BY e.id DESC
LIMIT $3;

-- name: live.events_recent
-- The workspace's latest $2 feed events (events_workspace_idx, read backwards): a new listener's
-- snapshot.
SELECT e.id, e.type, e.campaign_id, e.is_machine, e.created_at, c.email AS lead_email,
       camp.name AS campaign_name
FROM events e
JOIN messages m ON m.id = e.message_id
JOIN contacts c ON c.id = m.contact_id
LEFT JOIN campaigns camp ON camp.id = e.campaign_id
WHERE e.workspace_id = $1
  AND e.type IN ('sent', 'replied', 'bounced', 'opened', 'clicked', 'unsubscribed')
ORDER BY e.created_at DESC, e.id DESC
LIMIT $2;

-- name: live.campaigns_signature
-- Changes when a campaign is created, launched, paused, edited or completed.
SELECT COUNT(*) AS n, COALESCE(MAX(updated_at), 0) AS updated FROM campaigns
WHERE workspace_id = $1;

-- name: live.running_campaigns
-- Running campaigns with their progress: messages sent (bounced ones were sent too), failed and
-- bounced; leads that replied, still in progress, enrolled; sends since $2 (the rate window).
-- Each count is a range of an index on (campaign_id, status, ...) or (campaign_id, type, ...).
SELECT c.id, c.name,
       (SELECT COUNT(*) FROM messages m
        WHERE m.campaign_id = c.id AND m.status IN ('sent', 'bounced')) AS sent,
       (SELECT COUNT(*) FROM messages m WHERE m.campaign_id = c.id AND m.status = 'failed') AS failed,
       (SELECT COUNT(*) FROM messages m
        WHERE m.campaign_id = c.id AND m.status = 'bounced') AS bounced,
       (SELECT COUNT(*) FROM campaign_contacts cc
        WHERE cc.campaign_id = c.id AND cc.status = 'replied') AS replied,
       (SELECT COUNT(*) FROM campaign_contacts cc
        WHERE cc.campaign_id = c.id AND cc.status IN ('pending', 'active')) AS remaining,
       (SELECT COUNT(*) FROM campaign_contacts cc WHERE cc.campaign_id = c.id) AS enrolled,
       (SELECT COUNT(*) FROM events e
        WHERE e.campaign_id = c.id AND e.type = 'sent' AND e.created_at >= $2) AS sent_recent
FROM campaigns c
WHERE c.workspace_id = $1 AND c.status = 'running'
ORDER BY c.id;

-- name: live.sender_zones
-- The time zones of the workspace's senders: each sender's day runs midnight to midnight there.
SELECT DISTINCT timezone FROM senders WHERE workspace_id = $1 ORDER BY timezone;

-- name: live.senders
-- The senders whose time zone is $3, with their cold sends since $2 (the start of their day) and
-- warm-up mails sent since $2 (sent or on their way: a claim's sent_at is its instant), the
-- latter one range of warmup_messages_sender_sent_idx (0017) with no table row read.
SELECT s.id, s.email, s.status, s.daily_quota, s.health_score, s.warmup_enabled,
       s.warmup_daily_target,
       (SELECT COUNT(*) FROM messages m WHERE m.sender_id = s.id AND m.sent_at >= $2) AS sent_today,
       (SELECT COUNT(*) FROM warmup_messages w
        WHERE w.sender_id = s.id AND w.direction = 'out' AND w.sent_at >= $2) AS warmup_today
FROM senders s
WHERE s.workspace_id = $1 AND s.timezone = $3
ORDER BY s.id;

-- name: live.imports
-- The workspace's lead imports that are running or ended (or were last touched) at or after $2,
-- oldest first: what the stream's `import` frames show (upload_jobs_workspace_idx).
SELECT id, file_name, status, processed_rows, imported_rows, skipped_rows, error_rows, bytes_read,
       bytes_total, updated_at
FROM upload_jobs
WHERE workspace_id = $1 AND kind = 'contacts_csv' AND status <> 'pending'
  AND (status = 'running' OR updated_at >= $2)
ORDER BY id;
