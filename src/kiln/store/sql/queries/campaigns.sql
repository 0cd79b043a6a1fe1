-- Campaigns: settings, sender pool, audience lists, steps and their variants, enrolment of leads.
-- Every statement is scoped by workspace_id ($1): an id of another workspace matches nothing.

-- name: campaigns.insert
INSERT INTO campaigns (workspace_id, name, status, schedule, timezone, start_at, daily_limit,
                       warmup_mix_percent, track_opens, track_clicks, stop_on_auto_reply,
                       created_by_user_id, created_at, updated_at)
VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
RETURNING id;

-- name: campaigns.get
SELECT id, name, status, schedule, timezone, start_at, daily_limit, warmup_mix_percent,
       track_opens, track_clicks, stop_on_auto_reply, paused_reason, created_by_user_id,
       created_at, updated_at, started_at, completed_at
FROM campaigns WHERE workspace_id = $1 AND id = $2;

-- name: campaigns.list
-- $2 status ('' = any). Counts: leads in the audience lists, leads enrolled, leads still in
-- progress, leads finished (every other enrolment status), messages sent.
SELECT c.id, c.name, c.status, c.paused_reason, c.created_at, c.updated_at, c.started_at,
       c.completed_at,
       (SELECT COUNT(DISTINCT i.contact_id) FROM campaign_lists cl
          JOIN contact_list_items i ON i.list_id = cl.list_id AND i.workspace_id = cl.workspace_id
        WHERE cl.workspace_id = c.workspace_id AND cl.campaign_id = c.id) AS audience,
       (SELECT COUNT(*) FROM campaign_contacts cc
        WHERE cc.workspace_id = c.workspace_id AND cc.campaign_id = c.id) AS enrolled,
       (SELECT COUNT(*) FROM campaign_contacts cc
        WHERE cc.workspace_id = c.workspace_id AND cc.campaign_id = c.id
          AND cc.status IN ('pending', 'active')) AS in_progress,
       (SELECT COUNT(*) FROM messages m
        WHERE m.workspace_id = c.workspace_id AND m.campaign_id = c.id
          AND m.status IN ('sent', 'bounced')) AS sent
FROM campaigns c
WHERE c.workspace_id = $1 AND ($2 = '' OR c.status = $2)
ORDER BY c.id DESC;

-- name: campaigns.update
UPDATE campaigns SET name = $3, schedule = $4, timezone = $5, start_at = $6, daily_limit = $7,
       warmup_mix_percent = $8, track_opens = $9, track_clicks = $10, stop_on_auto_reply = $11,
       updated_at = $12
WHERE workspace_id = $1 AND id = $2;

-- name: campaigns.transition
-- Moves the campaign from status $3 to $4 with paused_reason $5; no row changes when it is no
-- longer in $3 (a concurrent transition won). started_at ($6) and completed_at ($7) are set once:
-- NULL leaves them as they are.
UPDATE campaigns SET status = $4, paused_reason = $5, started_at = COALESCE(started_at, $6),
       completed_at = COALESCE(completed_at, $7), updated_at = $8
WHERE workspace_id = $1 AND id = $2 AND status = $3;

-- name: campaigns.progress
SELECT COUNT(*) AS enrolled,
       COALESCE(SUM(CASE WHEN status IN ('pending', 'active') THEN 1 ELSE 0 END), 0) AS in_progress,
       COALESCE(SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0) AS completed,
       COALESCE(SUM(CASE WHEN status = 'replied' THEN 1 ELSE 0 END), 0) AS replied,
       COALESCE(SUM(CASE WHEN status = 'bounced' THEN 1 ELSE 0 END), 0) AS bounced,
       COALESCE(SUM(CASE WHEN status = 'unsubscribed' THEN 1 ELSE 0 END), 0) AS unsubscribed,
       COALESCE(SUM(CASE WHEN status IN ('paused', 'stopped', 'failed') THEN 1 ELSE 0 END), 0) AS stopped,
       (SELECT COUNT(*) FROM messages m
        WHERE m.workspace_id = $1 AND m.campaign_id = $2 AND m.status IN ('sent', 'bounced')) AS sent,
       (SELECT COUNT(*) FROM messages m
        WHERE m.workspace_id = $1 AND m.campaign_id = $2 AND m.status = 'unknown') AS unknown
FROM campaign_contacts WHERE workspace_id = $1 AND campaign_id = $2;

-- name: campaigns.audience
-- The leads of the campaign's lists: how many, how many cannot be mailed for their status
-- (unsubscribed, bounced), how many more are suppressed (workspace-wide or for this campaign),
-- and how many of the mailable ones are enrolled already.
SELECT COUNT(*) AS audience,
       COALESCE(SUM(CASE WHEN a.status IN ('unsubscribed', 'bounced') THEN 1 ELSE 0 END), 0) AS excluded_status,
       COALESCE(SUM(CASE WHEN a.status NOT IN ('unsubscribed', 'bounced') AND a.suppressed = 1 THEN 1 ELSE 0 END), 0) AS suppressed,
       COALESCE(SUM(CASE WHEN a.status NOT IN ('unsubscribed', 'bounced') AND a.suppressed = 0 THEN 1 ELSE 0 END), 0) AS mailable
FROM (SELECT c.id, c.status,
             CASE WHEN EXISTS (SELECT 1 FROM suppression_list s
                               WHERE s.workspace_id = c.workspace_id
                                 AND (s.campaign_id IS NULL OR s.campaign_id = $2)
                                 AND s.email = lower(c.email))
                    OR EXISTS (SELECT 1 FROM suppression_list s
                               WHERE s.workspace_id = c.workspace_id
                                 AND (s.campaign_id IS NULL OR s.campaign_id = $2)
                                 AND s.domain IS NOT NULL
                                 AND substr(lower(c.email), length(c.email) - length(s.domain)) = '@' || s.domain)
                  THEN 1 ELSE 0 END AS suppressed
      FROM contacts c
      WHERE c.workspace_id = $1
        AND c.id IN (SELECT i.contact_id FROM campaign_lists cl
                       JOIN contact_list_items i ON i.list_id = cl.list_id AND i.workspace_id = cl.workspace_id
                     WHERE cl.workspace_id = $1 AND cl.campaign_id = $2)) a;

-- name: campaigns.enroll
-- Enrols every mailable lead of the audience that is not enrolled yet (idempotent). $3 next_at,
-- $4 now.
INSERT INTO campaign_contacts (workspace_id, campaign_id, contact_id, current_step, next_at, status,
                               stop_reason, created_at, updated_at)
SELECT CAST($1 AS BIGINT), CAST($2 AS BIGINT), c.id, 0, CAST($3 AS BIGINT), 'pending', '',
       CAST($4 AS BIGINT), CAST($4 AS BIGINT)
FROM contacts c
WHERE c.workspace_id = $1
  AND c.id IN (SELECT i.contact_id FROM campaign_lists cl
                 JOIN contact_list_items i ON i.list_id = cl.list_id AND i.workspace_id = cl.workspace_id
               WHERE cl.workspace_id = $1 AND cl.campaign_id = $2)
  AND c.status NOT IN ('unsubscribed', 'bounced')
  AND NOT EXISTS (SELECT 1 FROM suppression_list s
                  WHERE s.workspace_id = c.workspace_id
                    AND (s.campaign_id IS NULL OR s.campaign_id = $2)
                    AND s.email = lower(c.email))
  AND NOT EXISTS (SELECT 1 FROM suppression_list s
                  WHERE s.workspace_id = c.workspace_id
                    AND (s.campaign_id IS NULL OR s.campaign_id = $2)
                    AND s.domain IS NOT NULL
                    AND substr(lower(c.email), length(c.email) - length(s.domain)) = '@' || s.domain)
ON CONFLICT (campaign_id, contact_id) DO NOTHING;

-- name: campaigns.audience_sample
-- Mailable leads of the audience (as campaigns.enroll picks them), by id, for template checks:
-- $3 rows at most, ids above $4.
SELECT c.id, c.email, c.first_name, c.last_name, c.company, c.title, c.timezone, c.phone,
       c.website, c.custom_fields
FROM contacts c
WHERE c.workspace_id = $1 AND c.id > $4
  AND c.id IN (SELECT i.contact_id FROM campaign_lists cl
                 JOIN contact_list_items i ON i.list_id = cl.list_id AND i.workspace_id = cl.workspace_id
               WHERE cl.workspace_id = $1 AND cl.campaign_id = $2)
  AND c.status NOT IN ('unsubscribed', 'bounced')
  AND NOT EXISTS (SELECT 1 FROM suppression_list s
                  WHERE s.workspace_id = c.workspace_id
                    AND (s.campaign_id IS NULL OR s.campaign_id = $2)
                    AND s.email = lower(c.email))
  AND NOT EXISTS (SELECT 1 FROM suppression_list s
                  WHERE s.workspace_id = c.workspace_id
                    AND (s.campaign_id IS NULL OR s.campaign_id = $2)
                    AND s.domain IS NOT NULL
                    AND substr(lower(c.email), length(c.email) - length(s.domain)) = '@' || s.domain)
ORDER BY c.id
LIMIT $3;

-- name: campaigns.find_sender
SELECT id, email, status FROM senders WHERE workspace_id = $1 AND id = $2;

-- name: campaigns.sender_fields
-- What templates may say about a sender (sender.name, sender.email, sender.from_name).
SELECT id, name, email, from_name FROM senders WHERE workspace_id = $1 AND id = $2;

-- name: campaigns.contact
SELECT id, email, first_name, last_name, company, title, timezone, phone, website, custom_fields
FROM contacts WHERE workspace_id = $1 AND id = $2;

-- name: campaigns.find_list
SELECT id FROM contact_lists WHERE workspace_id = $1 AND id = $2;

-- name: campaign_senders.list
SELECT cs.sender_id, s.email, s.status, s.status_reason
FROM campaign_senders cs JOIN senders s ON s.id = cs.sender_id AND s.workspace_id = cs.workspace_id
WHERE cs.workspace_id = $1 AND cs.campaign_id = $2
ORDER BY cs.sender_id;

-- name: campaign_senders.clear
DELETE FROM campaign_senders WHERE workspace_id = $1 AND campaign_id = $2;

-- name: campaign_senders.insert
INSERT INTO campaign_senders (campaign_id, sender_id, workspace_id, weight, created_at)
VALUES ($2, $3, $1, 1, $4);

-- name: campaign_lists.list
SELECT list_id FROM campaign_lists WHERE workspace_id = $1 AND campaign_id = $2 ORDER BY list_id;

-- name: campaign_lists.clear
DELETE FROM campaign_lists WHERE workspace_id = $1 AND campaign_id = $2;

-- name: campaign_lists.insert
INSERT INTO campaign_lists (campaign_id, list_id, workspace_id, created_at) VALUES ($2, $3, $1, $4);

-- name: campaign_steps.list
SELECT id, position, delay_minutes, condition FROM campaign_steps
WHERE workspace_id = $1 AND campaign_id = $2
ORDER BY position, id;

-- name: campaign_steps.insert
INSERT INTO campaign_steps (workspace_id, campaign_id, position, delay_minutes, condition,
                            thread_with_previous, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, 1, $6, $6)
RETURNING id;

-- name: campaign_steps.update
UPDATE campaign_steps SET position = $3, delay_minutes = $4, condition = $5, updated_at = $6
WHERE workspace_id = $1 AND id = $2;

-- name: campaign_steps.delete
DELETE FROM campaign_steps WHERE workspace_id = $1 AND id = $2;

-- name: campaign_steps.message_count
SELECT COUNT(*) AS n FROM messages WHERE workspace_id = $1 AND step_id = $2;

-- name: step_variants.list
-- The variants of every step of campaign $2, in step order then creation order.
SELECT v.id, v.step_id, v.label, v.weight, v.subject, v.body_html, v.body_text, v.is_enabled
FROM step_variants v JOIN campaign_steps st ON st.id = v.step_id AND st.workspace_id = v.workspace_id
WHERE v.workspace_id = $1 AND st.campaign_id = $2
ORDER BY st.position, st.id, v.id;

-- name: step_variants.insert
INSERT INTO step_variants (workspace_id, step_id, label, weight, subject, body_html, body_text,
                           is_enabled, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
RETURNING id;

-- name: step_variants.update
UPDATE step_variants SET label = $3, weight = $4, subject = $5, body_html = $6, body_text = $7,
       is_enabled = $8, updated_at = $9
WHERE workspace_id = $1 AND id = $2;

-- name: step_variants.delete
DELETE FROM step_variants WHERE workspace_id = $1 AND id = $2;

-- name: step_variants.message_count
SELECT COUNT(*) AS n FROM messages WHERE workspace_id = $1 AND variant_id = $2;
