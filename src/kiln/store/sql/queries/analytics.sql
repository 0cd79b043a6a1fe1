-- Campaign analytics (analytics/rollup.h, analytics/stats.h;
-- docs/decisions/0008-analytics-rollups.md).
--
-- Every counter is computed by one rule, written out in full in three blocks below (the roll-up job
-- and the two live tails must agree to the letter): an event counts for its message's (campaign,
-- step, variant, sender) on the UTC day of the event (created_at / 86400000), and a message counts
-- at most once per counter, the first event in id order (EXISTS over events_message_idx, which
-- ends in the row id on SQLite and is a short scan of one message's events on PostgreSQL).
-- Bounces are soft when their detail says "kind":"soft" (the inbox watcher's DSN bounces), hard
-- otherwise (SMTP-time refusals and hard DSNs), as in reputation.sender_cold.

-- name: analytics.acquire_lease
-- The roll-up lease: $1 worker, $2 now, $3 lease end. One row changed: held by $1 until $3.
UPDATE analytics_rollup_state SET lease_owner = $1, lease_until = $3
WHERE name = 'events' AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $2);

-- name: analytics.release_lease
UPDATE analytics_rollup_state SET lease_owner = NULL, lease_until = NULL
WHERE name = 'events' AND lease_owner = $1;

-- name: analytics.lock_events
-- Makes every event id handed out so far visible: SQLite serialises writers, so this is a no-op
-- there (analytics.postgres.sql waits for the transactions inserting events on PostgreSQL).
SELECT 1 AS locked;

-- name: analytics.batch_end
-- The id of the $2-th event after $1 (or of the last one when fewer): the end of the next batch.
SELECT COALESCE(MAX(id), 0) AS hi FROM (SELECT id FROM events WHERE id > $1 ORDER BY id LIMIT $2) b;

-- name: analytics.claim_watermark
-- Locks the watermark row for this transaction (PostgreSQL; SQLite holds the write lock) and reads
-- it, provided $1 still holds the lease at $2.
UPDATE analytics_rollup_state SET updated_at = $2
WHERE name = 'events' AND lease_owner = $1 AND lease_until >= $2
RETURNING last_event_id;

-- name: analytics.advance_watermark
-- Compare-and-set: from $2 to $3; 0 rows means another process moved it (the caller rolls back).
UPDATE analytics_rollup_state SET last_event_id = $3, updated_at = $1
WHERE name = 'events' AND last_event_id = $2;

-- name: analytics.watermark
SELECT last_event_id, lease_owner, lease_until, updated_at FROM analytics_rollup_state
WHERE name = 'events';

-- name: analytics.rollup
-- Adds the events ($1, $2] to analytics_daily.
INSERT INTO analytics_daily (workspace_id, campaign_id, step_id, variant_id, sender_id, day,
                             sent, bounced, bounced_after_sent, bounced_hard, bounced_soft,
                             opened, opened_any, machine_opens, clicked, clicked_any,
                             machine_clicks, replied, unsubscribed, complained)
SELECT f.workspace_id, f.campaign_id, f.step_id, f.variant_id, f.sender_id, f.day,
       SUM(CASE WHEN f.type = 'sent' THEN f.first_of_type ELSE 0 END) AS sent,
       SUM(CASE WHEN f.type = 'bounced' THEN f.first_of_type ELSE 0 END) AS bounced,
       SUM(CASE WHEN f.type = 'bounced' THEN f.first_of_type * f.after_sent ELSE 0 END)
         AS bounced_after_sent,
       SUM(CASE WHEN f.type = 'bounced' AND f.soft = 0 THEN f.first_of_kind ELSE 0 END)
         AS bounced_hard,
       SUM(CASE WHEN f.type = 'bounced' AND f.soft = 1 THEN f.first_of_kind ELSE 0 END)
         AS bounced_soft,
       SUM(CASE WHEN f.type = 'opened' THEN f.first_human ELSE 0 END) AS opened,
       SUM(CASE WHEN f.type = 'opened' THEN f.first_of_type ELSE 0 END) AS opened_any,
       SUM(CASE WHEN f.type = 'opened' THEN f.is_machine ELSE 0 END) AS machine_opens,
       SUM(CASE WHEN f.type = 'clicked' THEN f.first_human ELSE 0 END) AS clicked,
       SUM(CASE WHEN f.type = 'clicked' THEN f.first_of_type ELSE 0 END) AS clicked_any,
       SUM(CASE WHEN f.type = 'clicked' THEN f.is_machine ELSE 0 END) AS machine_clicks,
       SUM(CASE WHEN f.type = 'replied' THEN f.first_of_type ELSE 0 END) AS replied,
       SUM(CASE WHEN f.type = 'unsubscribed' THEN f.first_of_type ELSE 0 END) AS unsubscribed,
       SUM(CASE WHEN f.type = 'complained' THEN f.first_of_type ELSE 0 END) AS complained
FROM (SELECT m.workspace_id, m.campaign_id, m.step_id, COALESCE(m.variant_id, 0) AS variant_id,
         COALESCE(m.sender_id, 0) AS sender_id, e.created_at / 86400000 AS day, e.type,
         e.is_machine,
         CASE WHEN e.type = 'bounced' AND e.detail LIKE '%"kind":"soft"%' THEN 1 ELSE 0 END AS soft,
         CASE WHEN EXISTS (SELECT 1 FROM events p
                           WHERE p.message_id = e.message_id AND p.type = e.type AND p.id < e.id)
              THEN 0 ELSE 1 END AS first_of_type,
         CASE WHEN e.type IN ('opened', 'clicked') AND e.is_machine = 0 THEN
           CASE WHEN EXISTS (SELECT 1 FROM events p
                             WHERE p.message_id = e.message_id AND p.type = e.type
                               AND p.is_machine = 0 AND p.id < e.id)
                THEN 0 ELSE 1 END
         ELSE 0 END AS first_human,
         CASE WHEN e.type = 'bounced' THEN
           CASE WHEN EXISTS (SELECT 1 FROM events p
                             WHERE p.message_id = e.message_id AND p.type = 'bounced'
                               AND p.id < e.id
                               AND (CASE WHEN p.detail LIKE '%"kind":"soft"%' THEN 1 ELSE 0 END) =
                                   (CASE WHEN e.detail LIKE '%"kind":"soft"%' THEN 1 ELSE 0 END))
                THEN 0 ELSE 1 END
         ELSE 0 END AS first_of_kind,
         CASE WHEN e.type = 'bounced' THEN
           CASE WHEN EXISTS (SELECT 1 FROM events p
                             WHERE p.message_id = e.message_id AND p.type = 'sent' AND p.id < e.id)
                THEN 1 ELSE 0 END
         ELSE 0 END AS after_sent
  FROM events e JOIN messages m ON m.id = e.message_id
  WHERE e.id > $1 AND e.id <= $2
    AND e.type IN ('sent', 'bounced', 'opened', 'clicked', 'replied', 'unsubscribed',
                   'complained')) f
WHERE f.day >= 0
GROUP BY f.workspace_id, f.campaign_id, f.step_id, f.variant_id, f.sender_id, f.day
ON CONFLICT (campaign_id, step_id, variant_id, sender_id, day) DO UPDATE SET
  sent = analytics_daily.sent + excluded.sent,
  bounced = analytics_daily.bounced + excluded.bounced,
  bounced_after_sent = analytics_daily.bounced_after_sent + excluded.bounced_after_sent,
  bounced_hard = analytics_daily.bounced_hard + excluded.bounced_hard,
  bounced_soft = analytics_daily.bounced_soft + excluded.bounced_soft,
  opened = analytics_daily.opened + excluded.opened,
  opened_any = analytics_daily.opened_any + excluded.opened_any,
  machine_opens = analytics_daily.machine_opens + excluded.machine_opens,
  clicked = analytics_daily.clicked + excluded.clicked,
  clicked_any = analytics_daily.clicked_any + excluded.clicked_any,
  machine_clicks = analytics_daily.machine_clicks + excluded.machine_clicks,
  replied = analytics_daily.replied + excluded.replied,
  unsubscribed = analytics_daily.unsubscribed + excluded.unsubscribed,
  complained = analytics_daily.complained + excluded.complained;

-- name: analytics.campaign_tail
-- The same counters, live, for campaign $2's events after the watermark $1.
SELECT f.step_id, f.variant_id, f.sender_id, f.day,
       SUM(CASE WHEN f.type = 'sent' THEN f.first_of_type ELSE 0 END) AS sent,
       SUM(CASE WHEN f.type = 'bounced' THEN f.first_of_type ELSE 0 END) AS bounced,
       SUM(CASE WHEN f.type = 'bounced' THEN f.first_of_type * f.after_sent ELSE 0 END)
         AS bounced_after_sent,
       SUM(CASE WHEN f.type = 'bounced' AND f.soft = 0 THEN f.first_of_kind ELSE 0 END)
         AS bounced_hard,
       SUM(CASE WHEN f.type = 'bounced' AND f.soft = 1 THEN f.first_of_kind ELSE 0 END)
         AS bounced_soft,
       SUM(CASE WHEN f.type = 'opened' THEN f.first_human ELSE 0 END) AS opened,
       SUM(CASE WHEN f.type = 'opened' THEN f.first_of_type ELSE 0 END) AS opened_any,
       SUM(CASE WHEN f.type = 'opened' THEN f.is_machine ELSE 0 END) AS machine_opens,
       SUM(CASE WHEN f.type = 'clicked' THEN f.first_human ELSE 0 END) AS clicked,
       SUM(CASE WHEN f.type = 'clicked' THEN f.first_of_type ELSE 0 END) AS clicked_any,
       SUM(CASE WHEN f.type = 'clicked' THEN f.is_machine ELSE 0 END) AS machine_clicks,
       SUM(CASE WHEN f.type = 'replied' THEN f.first_of_type ELSE 0 END) AS replied,
       SUM(CASE WHEN f.type = 'unsubscribed' THEN f.first_of_type ELSE 0 END) AS unsubscribed,
       SUM(CASE WHEN f.type = 'complained' THEN f.first_of_type ELSE 0 END) AS complained
FROM (SELECT m.workspace_id, m.campaign_id, m.step_id, COALESCE(m.variant_id, 0) AS variant_id,
         COALESCE(m.sender_id, 0) AS sender_id, e.created_at / 86400000 AS day, e.type,
         e.is_machine,
         CASE WHEN e.type = 'bounced' AND e.detail LIKE '%"kind":"soft"%' THEN 1 ELSE 0 END AS soft,
         CASE WHEN EXISTS (SELECT 1 FROM events p
                           WHERE p.message_id = e.message_id AND p.type = e.type AND p.id < e.id)
              THEN 0 ELSE 1 END AS first_of_type,
         CASE WHEN e.type IN ('opened', 'clicked') AND e.is_machine = 0 THEN
           CASE WHEN EXISTS (SELECT 1 FROM events p
                             WHERE p.message_id = e.message_id AND p.type = e.type
                               AND p.is_machine = 0 AND p.id < e.id)
                THEN 0 ELSE 1 END
         ELSE 0 END AS first_human,
         CASE WHEN e.type = 'bounced' THEN
           CASE WHEN EXISTS (SELECT 1 FROM events p
                             WHERE p.message_id = e.message_id AND p.type = 'bounced'
                               AND p.id < e.id
                               AND (CASE WHEN p.detail LIKE '%"kind":"soft"%' THEN 1 ELSE 0 END) =
                                   (CASE WHEN e.detail LIKE '%"kind":"soft"%' THEN 1 ELSE 0 END))
                THEN 0 ELSE 1 END
         ELSE 0 END AS first_of_kind,
         CASE WHEN e.type = 'bounced' THEN
           CASE WHEN EXISTS (SELECT 1 FROM events p
                             WHERE p.message_id = e.message_id AND p.type = 'sent' AND p.id < e.id)
                THEN 1 ELSE 0 END
         ELSE 0 END AS after_sent
  FROM events e JOIN messages m ON m.id = e.message_id
  WHERE e.id > $1 AND e.campaign_id = $2
    AND e.type IN ('sent', 'bounced', 'opened', 'clicked', 'replied', 'unsubscribed',
                   'complained')) f
GROUP BY f.step_id, f.variant_id, f.sender_id, f.day;

-- name: analytics.workspace_tail
-- The same counters, live, for workspace $2's events after the watermark $1, per day.
SELECT f.day,
       SUM(CASE WHEN f.type = 'sent' THEN f.first_of_type ELSE 0 END) AS sent,
       SUM(CASE WHEN f.type = 'bounced' THEN f.first_of_type ELSE 0 END) AS bounced,
       SUM(CASE WHEN f.type = 'bounced' THEN f.first_of_type * f.after_sent ELSE 0 END)
         AS bounced_after_sent,
       SUM(CASE WHEN f.type = 'bounced' AND f.soft = 0 THEN f.first_of_kind ELSE 0 END)
         AS bounced_hard,
       SUM(CASE WHEN f.type = 'bounced' AND f.soft = 1 THEN f.first_of_kind ELSE 0 END)
         AS bounced_soft,
       SUM(CASE WHEN f.type = 'opened' THEN f.first_human ELSE 0 END) AS opened,
       SUM(CASE WHEN f.type = 'opened' THEN f.first_of_type ELSE 0 END) AS opened_any,
       SUM(CASE WHEN f.type = 'opened' THEN f.is_machine ELSE 0 END) AS machine_opens,
       SUM(CASE WHEN f.type = 'clicked' THEN f.first_human ELSE 0 END) AS clicked,
       SUM(CASE WHEN f.type = 'clicked' THEN f.first_of_type ELSE 0 END) AS clicked_any,
       SUM(CASE WHEN f.type = 'clicked' THEN f.is_machine ELSE 0 END) AS machine_clicks,
       SUM(CASE WHEN f.type = 'replied' THEN f.first_of_type ELSE 0 END) AS replied,
       SUM(CASE WHEN f.type = 'unsubscribed' THEN f.first_of_type ELSE 0 END) AS unsubscribed,
       SUM(CASE WHEN f.type = 'complained' THEN f.first_of_type ELSE 0 END) AS complained
FROM (SELECT m.workspace_id, m.campaign_id, m.step_id, COALESCE(m.variant_id, 0) AS variant_id,
         COALESCE(m.sender_id, 0) AS sender_id, e.created_at / 86400000 AS day, e.type,
         e.is_machine,
         CASE WHEN e.type = 'bounced' AND e.detail LIKE '%"kind":"soft"%' THEN 1 ELSE 0 END AS soft,
         CASE WHEN EXISTS (SELECT 1 FROM events p
                           WHERE p.message_id = e.message_id AND p.type = e.type AND p.id < e.id)
              THEN 0 ELSE 1 END AS first_of_type,
         CASE WHEN e.type IN ('opened', 'clicked') AND e.is_machine = 0 THEN
           CASE WHEN EXISTS (SELECT 1 FROM events p
                             WHERE p.message_id = e.message_id AND p.type = e.type
                               AND p.is_machine = 0 AND p.id < e.id)
                THEN 0 ELSE 1 END
         ELSE 0 END AS first_human,
         CASE WHEN e.type = 'bounced' THEN
           CASE WHEN EXISTS (SELECT 1 FROM events p
                             WHERE p.message_id = e.message_id AND p.type = 'bounced'
                               AND p.id < e.id
                               AND (CASE WHEN p.detail LIKE '%"kind":"soft"%' THEN 1 ELSE 0 END) =
                                   (CASE WHEN e.detail LIKE '%"kind":"soft"%' THEN 1 ELSE 0 END))
                THEN 0 ELSE 1 END
         ELSE 0 END AS first_of_kind,
         CASE WHEN e.type = 'bounced' THEN
           CASE WHEN EXISTS (SELECT 1 FROM events p
                             WHERE p.message_id = e.message_id AND p.type = 'sent' AND p.id < e.id)
                THEN 1 ELSE 0 END
         ELSE 0 END AS after_sent
  FROM events e JOIN messages m ON m.id = e.message_id
  WHERE e.id > $1 AND e.workspace_id = $2
    AND e.type IN ('sent', 'bounced', 'opened', 'clicked', 'replied', 'unsubscribed',
                   'complained')) f
GROUP BY f.day;

-- name: analytics.campaign_rollups
-- Campaign $1's roll-up rows on days [$2, $3].
SELECT step_id, variant_id, sender_id, day, sent, bounced, bounced_after_sent, bounced_hard,
       bounced_soft, opened, opened_any, machine_opens, clicked, clicked_any, machine_clicks,
       replied, unsubscribed, complained
FROM analytics_daily
WHERE campaign_id = $1 AND day >= $2 AND day <= $3;

-- name: analytics.workspace_rollups
-- Workspace $1's roll-ups on days [$2, $3], per day.
SELECT day,
       CAST(SUM(sent) AS BIGINT) AS sent,
       CAST(SUM(bounced) AS BIGINT) AS bounced,
       CAST(SUM(bounced_after_sent) AS BIGINT) AS bounced_after_sent,
       CAST(SUM(bounced_hard) AS BIGINT) AS bounced_hard,
       CAST(SUM(bounced_soft) AS BIGINT) AS bounced_soft,
       CAST(SUM(opened) AS BIGINT) AS opened,
       CAST(SUM(opened_any) AS BIGINT) AS opened_any,
       CAST(SUM(machine_opens) AS BIGINT) AS machine_opens,
       CAST(SUM(clicked) AS BIGINT) AS clicked,
       CAST(SUM(clicked_any) AS BIGINT) AS clicked_any,
       CAST(SUM(machine_clicks) AS BIGINT) AS machine_clicks,
       CAST(SUM(replied) AS BIGINT) AS replied,
       CAST(SUM(unsubscribed) AS BIGINT) AS unsubscribed,
       CAST(SUM(complained) AS BIGINT) AS complained
FROM analytics_daily
WHERE workspace_id = $1 AND day >= $2 AND day <= $3
GROUP BY day;

-- name: analytics.campaign_positive
-- Positive replies of campaign $2 (workspace $1): replied messages of leads now 'interested' or
-- 'meeting_booked', per cell, on the UTC day of the reply. analytics_positive is kept exact by
-- triggers in the transaction of every change (migration 0014), so this is a read of the
-- campaign's cells, like the roll-ups.
SELECT step_id, variant_id, sender_id, day, positive
FROM analytics_positive
WHERE workspace_id = $1 AND campaign_id = $2 AND positive <> 0;

-- name: analytics.workspace_positive
-- Positive replies of workspace $1 per UTC day of the reply, days [$2, $3].
SELECT day, CAST(SUM(positive) AS BIGINT) AS positive
FROM analytics_positive
WHERE workspace_id = $1 AND day >= $2 AND day <= $3
GROUP BY day;

-- name: analytics.campaign
SELECT id, name, status FROM campaigns WHERE workspace_id = $1 AND id = $2;

-- name: analytics.campaign_variants
-- Every step of campaign $1 with its variants (a step without variants has one row, variant NULL).
SELECT s.id AS step_id, s.position, v.id AS variant_id, v.label, v.subject
FROM campaign_steps s LEFT JOIN step_variants v ON v.step_id = s.id
WHERE s.campaign_id = $1
ORDER BY s.position, s.id, v.id;

-- name: analytics.campaign_senders
-- The senders of campaign $1's pool and of its messages so far (a sender removed from the pool
-- keeps its numbers).
SELECT s.id, s.email, s.name FROM senders s
WHERE s.workspace_id = $1
  AND (s.id IN (SELECT sender_id FROM campaign_senders WHERE campaign_id = $2)
       OR s.id IN (SELECT sender_id FROM analytics_daily WHERE campaign_id = $2))
ORDER BY s.id;

-- name: analytics.sender
SELECT id, email FROM senders WHERE workspace_id = $1 AND id = $2;

-- name: analytics.placement_by_provider
-- Warm-up mail sender $1 sent in [$2, $3) that was looked for, by the receiving mailbox's
-- provider (bots' provider; 'peer' for another sender of the workspace).
SELECT COALESCE(b.provider, 'peer') AS provider,
       SUM(CASE WHEN w.placement = 'inbox' THEN 1 ELSE 0 END) AS inbox,
       SUM(CASE WHEN w.placement = 'spam' THEN 1 ELSE 0 END) AS spam,
       SUM(CASE WHEN w.placement = 'other_folder' THEN 1 ELSE 0 END) AS other_folder,
       SUM(CASE WHEN w.placement = 'missing' THEN 1 ELSE 0 END) AS missing
FROM warmup_messages w LEFT JOIN bots b ON b.id = w.bot_id
WHERE w.sender_id = $1 AND w.direction = 'out' AND w.status = 'sent' AND w.placement <> 'unknown'
  AND w.sent_at >= $2 AND w.sent_at < $3
GROUP BY COALESCE(b.provider, 'peer')
ORDER BY COALESCE(b.provider, 'peer');
