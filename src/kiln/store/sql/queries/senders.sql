-- Senders. Every statement is scoped by workspace_id ($1): an id of another workspace matches nothing.

-- name: senders.insert
INSERT INTO senders (workspace_id, name, email, from_name,
                     smtp_host, smtp_port, smtp_security, smtp_username,
                     imap_host, imap_port, imap_security, imap_username,
                     allow_self_signed, source_ip, proxy_url, daily_quota, warmup_end_at,
                     status, status_reason, health_score, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
        'unverified', '', 100, $18, $18)
RETURNING id;

-- name: senders.get
SELECT id, name, email, from_name, smtp_host, smtp_port, smtp_security, smtp_username, smtp_secret,
       imap_host, imap_port, imap_security, imap_username, imap_secret, allow_self_signed,
       source_ip, proxy_url, daily_quota, warmup_end_at, status, status_reason, health_score,
       timezone, warmup_enabled, warmup_start_at, warmup_start_volume, warmup_daily_increase,
       warmup_daily_target, warmup_weekdays_only, warmup_reply_rate_percent, created_at, updated_at
FROM senders WHERE workspace_id = $1 AND id = $2;

-- name: senders.list
SELECT id, name, email, from_name, smtp_host, smtp_port, smtp_security, smtp_username, smtp_secret,
       imap_host, imap_port, imap_security, imap_username, imap_secret, allow_self_signed,
       source_ip, proxy_url, daily_quota, warmup_end_at, status, status_reason, health_score,
       timezone, warmup_enabled, warmup_start_at, warmup_start_volume, warmup_daily_increase,
       warmup_daily_target, warmup_weekdays_only, warmup_reply_rate_percent, created_at, updated_at
FROM senders WHERE workspace_id = $1
ORDER BY id;

-- name: senders.update
UPDATE senders SET name = $3, email = $4, from_name = $5,
       smtp_host = $6, smtp_port = $7, smtp_security = $8, smtp_username = $9,
       imap_host = $10, imap_port = $11, imap_security = $12, imap_username = $13,
       allow_self_signed = $14, source_ip = $15, proxy_url = $16, daily_quota = $17,
       warmup_end_at = $18, updated_at = $19
WHERE workspace_id = $1 AND id = $2;

-- name: senders.set_plan
-- The sender's calendar and warm-up plan (0004): $3 timezone, $4 enabled, $5 start, $6 start
-- volume, $7 daily increase, $8 maximum, $9 weekdays only, $10 reply rate, $11 end, $12 now.
UPDATE senders SET timezone = $3, warmup_enabled = $4, warmup_start_at = $5,
       warmup_start_volume = $6, warmup_daily_increase = $7, warmup_daily_target = $8,
       warmup_weekdays_only = $9, warmup_reply_rate_percent = $10, warmup_end_at = $11,
       updated_at = $12
WHERE workspace_id = $1 AND id = $2;

-- name: senders.set_smtp_secret
UPDATE senders SET smtp_secret = $3 WHERE workspace_id = $1 AND id = $2;

-- name: senders.set_imap_secret
UPDATE senders SET imap_secret = $3 WHERE workspace_id = $1 AND id = $2;

-- name: senders.delete
DELETE FROM senders WHERE workspace_id = $1 AND id = $2;

-- Sender checks run from the API (POST .../senders/{id}/verify). Scoped by workspace_id ($1).

-- name: senders.set_checked_status
-- $2 sender, $3 status ('active' or 'failed'), $4 reason ('' when active), $5 now. A paused
-- sender stays paused: a check does not undo a pause (the engine's or a person's).
UPDATE senders SET status = CASE WHEN status = 'paused' THEN status ELSE $3 END,
       status_reason = CASE WHEN status = 'paused' THEN status_reason ELSE $4 END,
       updated_at = $5
WHERE workspace_id = $1 AND id = $2;
