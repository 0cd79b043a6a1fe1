-- Warm-up inboxes ("bots"). Every statement is scoped by workspace_id ($1): an id of another
-- workspace matches nothing. Secrets are sealed by the application (AAD "bots:<id>:<field>").

-- name: bots.insert
INSERT INTO bots (workspace_id, name, email, provider,
                  smtp_host, smtp_port, smtp_security, smtp_username,
                  imap_host, imap_port, imap_security, imap_username, allow_self_signed,
                  aging_start_at, aging_start_volume, aging_end_at,
                  daily_send_limit, daily_receive_limit, reply_rate_percent,
                  reply_delay_min_minutes, reply_delay_max_minutes, important_rate_percent,
                  timezone, provisioned_by, status, status_reason, health_score,
                  created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        $20, $21, $22, $23, $24, 'unverified', '', 100, $25, $25)
RETURNING id;

-- name: bots.get
SELECT id, name, email, provider, smtp_host, smtp_port, smtp_security, smtp_username, smtp_secret,
       imap_host, imap_port, imap_security, imap_username, imap_secret, allow_self_signed,
       aging_start_at, aging_start_volume, aging_end_at, daily_send_limit, daily_receive_limit,
       reply_rate_percent, reply_delay_min_minutes, reply_delay_max_minutes,
       important_rate_percent, timezone, provisioned_by, status, status_reason, health_score,
       last_checked_at, created_at, updated_at
FROM bots WHERE workspace_id = $1 AND id = $2;

-- name: bots.list
-- $2: a status to filter on ('' = every status).
SELECT id, name, email, provider, smtp_host, smtp_port, smtp_security, smtp_username, smtp_secret,
       imap_host, imap_port, imap_security, imap_username, imap_secret, allow_self_signed,
       aging_start_at, aging_start_volume, aging_end_at, daily_send_limit, daily_receive_limit,
       reply_rate_percent, reply_delay_min_minutes, reply_delay_max_minutes,
       important_rate_percent, timezone, provisioned_by, status, status_reason, health_score,
       last_checked_at, created_at, updated_at
FROM bots WHERE workspace_id = $1 AND ($2 = '' OR status = $2)
ORDER BY id;

-- name: bots.update
UPDATE bots SET name = $3, email = $4, provider = $5,
       smtp_host = $6, smtp_port = $7, smtp_security = $8, smtp_username = $9,
       imap_host = $10, imap_port = $11, imap_security = $12, imap_username = $13,
       allow_self_signed = $14, aging_start_at = $15, aging_start_volume = $16, aging_end_at = $17,
       daily_send_limit = $18, daily_receive_limit = $19, reply_rate_percent = $20,
       reply_delay_min_minutes = $21, reply_delay_max_minutes = $22,
       important_rate_percent = $23, timezone = $24, updated_at = $25
WHERE workspace_id = $1 AND id = $2;

-- name: bots.set_smtp_secret
UPDATE bots SET smtp_secret = $3 WHERE workspace_id = $1 AND id = $2;

-- name: bots.set_imap_secret
UPDATE bots SET imap_secret = $3 WHERE workspace_id = $1 AND id = $2;

-- name: bots.set_status
-- $3 status, $4 reason, $5 now; last_checked_at moves only when $6 = 1 (a verification ran).
UPDATE bots SET status = $3, status_reason = $4, updated_at = $5,
       last_checked_at = CASE WHEN $6 = 1 THEN $5 ELSE last_checked_at END
WHERE workspace_id = $1 AND id = $2;

-- name: bots.delete
DELETE FROM bots WHERE workspace_id = $1 AND id = $2;

-- name: bots.by_email
SELECT id FROM bots WHERE workspace_id = $1 AND lower(email) = lower($2);
