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
-- In lease order, so the partial index messages_lease_idx answers it (ORDER BY id made SQLite scan
-- every message on each look).
SELECT id, workspace_id, campaign_id, claimed_by, lease_until
FROM messages WHERE status = 'sending' AND lease_until < $1 ORDER BY lease_until, id LIMIT $2;

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

-- Scheduling ---------------------------------------------------------------------------------------

-- name: engine.running_campaigns
SELECT id, workspace_id, schedule, timezone, daily_limit, warmup_mix_percent, stop_on_auto_reply,
       include_unsubscribe, track_opens, track_clicks, plain_text_only, tracking_domain, updated_at
FROM campaigns WHERE status = 'running' ORDER BY id;

-- name: engine.running_campaign
-- One campaign of engine.running_campaigns by id ($1); no row when it is not running.
SELECT id, workspace_id, schedule, timezone, daily_limit, warmup_mix_percent, stop_on_auto_reply,
       include_unsubscribe, track_opens, track_clicks, plain_text_only, tracking_domain, updated_at
FROM campaigns WHERE id = $1 AND status = 'running';

-- name: engine.campaign_steps
SELECT id, position, delay_minutes, condition FROM campaign_steps
WHERE campaign_id = $1 ORDER BY position, id;

-- name: engine.campaign_variants
SELECT v.id, v.step_id, v.weight, v.subject, v.body_html, v.body_text
FROM step_variants v JOIN campaign_steps s ON s.id = v.step_id
WHERE s.campaign_id = $1 AND v.is_enabled = 1 ORDER BY v.step_id, v.id;

-- name: engine.campaign_senders
SELECT s.id, s.email, s.name, s.from_name, s.status, s.daily_quota, s.health_score,
       s.warmup_end_at, s.smtp_host, s.smtp_port, s.smtp_security, s.smtp_username, s.smtp_secret,
       s.allow_self_signed
FROM campaign_senders cs JOIN senders s ON s.id = cs.sender_id
WHERE cs.campaign_id = $1 ORDER BY s.id;

-- name: engine.due_leads
-- $2 now, $3 limit. Leads that replied, bounced, unsubscribed ... are not pending/active.
-- sender_status: the status of the lead's sender (follow-ups stick to it), NULL when none.
SELECT cc.id, cc.contact_id, cc.sender_id, cc.current_step, cc.created_at, cc.next_at, c.email,
       c.first_name, c.last_name, c.company, c.title, c.phone, c.website, c.timezone,
       c.custom_fields, ss.status AS sender_status
FROM campaign_contacts cc JOIN contacts c ON c.id = cc.contact_id
LEFT JOIN senders ss ON ss.id = cc.sender_id
WHERE cc.campaign_id = $1 AND cc.status IN ('pending', 'active') AND cc.next_at <= $2
ORDER BY cc.next_at, cc.id LIMIT $3;

-- name: engine.due_leads_after
-- The next page of engine.due_leads: after ($4 next_at, $5 id) in the same order.
SELECT cc.id, cc.contact_id, cc.sender_id, cc.current_step, cc.created_at, cc.next_at, c.email,
       c.first_name, c.last_name, c.company, c.title, c.phone, c.website, c.timezone,
       c.custom_fields, ss.status AS sender_status
FROM campaign_contacts cc JOIN contacts c ON c.id = cc.contact_id
LEFT JOIN senders ss ON ss.id = cc.sender_id
WHERE cc.campaign_id = $1 AND cc.status IN ('pending', 'active') AND cc.next_at <= $2
  AND (cc.next_at > $4 OR (cc.next_at = $4 AND cc.id > $5))
ORDER BY cc.next_at, cc.id LIMIT $3;

-- name: engine.lead_messages
SELECT id, step_id, status, sent_at, next_attempt_at, lease_until, message_id_header,
       thread_root_header, subject, sender_id, opened_at, clicked_at, replied_at
FROM messages WHERE campaign_id = $1 AND contact_id = $2 ORDER BY id;

-- name: engine.suppression_reason
-- $3 address, $4 its domain (both lowercase).
SELECT reason FROM suppression_list
WHERE workspace_id = $1 AND (campaign_id IS NULL OR campaign_id = $2)
  AND (email = $3 OR domain = $4)
ORDER BY id LIMIT 1;

-- name: engine.campaign_sends_between
-- Sends of campaign $1 in [$2, $3) (its daily limit): sent, plus claims whose outcome is open or
-- unknown (they may have gone out). The day's range of messages_campaign_sent_idx and the open
-- claims' partial index (0018), not the campaign's whole history.
SELECT
  (SELECT COUNT(*) FROM messages WHERE campaign_id = $1 AND sent_at >= $2 AND sent_at < $3)
  + (SELECT COUNT(*) FROM messages
     WHERE campaign_id = $1 AND status IN ('sending', 'unknown') AND updated_at >= $2
       AND updated_at < $3 AND (sent_at IS NULL OR sent_at < $2 OR sent_at >= $3)) AS n;

-- name: engine.sender_last_send
SELECT MAX(sent_at) AS last FROM messages WHERE sender_id = $1;

-- name: engine.lead_advance
-- After step $3 was sent: $3 current_step (position of the next step), $4 next_at, $5 sender.
UPDATE campaign_contacts
SET status = 'active', current_step = $3, next_at = $4, sender_id = $5, last_sent_at = $6,
    updated_at = $6
WHERE id = $1 AND campaign_id = $2;

-- name: engine.lead_defer
UPDATE campaign_contacts SET next_at = $2, updated_at = $3 WHERE id = $1;

-- name: engine.lead_stop
UPDATE campaign_contacts SET status = $2, stop_reason = $3, next_at = NULL, updated_at = $4
WHERE id = $1;

-- name: engine.suppress_address
INSERT INTO suppression_list (workspace_id, email, reason, source, created_at)
VALUES ($1, $2, 'bounced', $3, $4)
ON CONFLICT DO NOTHING;

-- name: engine.contact_mark_bounced
UPDATE contacts SET status = 'bounced', updated_at = $2 WHERE id = $1;

-- name: engine.sender_set_status
UPDATE senders SET status = $2, status_reason = $3, updated_at = $4 WHERE id = $1;

-- name: engine.sender_failure
UPDATE senders SET consecutive_failures = consecutive_failures + 1, updated_at = $2 WHERE id = $1
RETURNING consecutive_failures;

-- name: engine.sender_success
UPDATE senders SET consecutive_failures = 0 WHERE id = $1 AND consecutive_failures <> 0;

-- Sender leases (docs/decisions/0011-worker-leases.md): senders.lease_owner names the worker
-- holding a sender's queue, and the lease holds while that worker's heartbeat is within one lease:
-- the worker's heartbeat renews all its leases at once.

-- name: engine.sender_lease
-- Takes the lease on sender $1 for worker $2 when it is free or its holder's heartbeat is older
-- than $3 (now - lease), and its holder is still $4 ('' for none) as the candidates query saw it:
-- a compare-and-set, so two workers taking the same lapsed sender at once cannot both win (on
-- PostgreSQL the loser re-checks the row it waited for, whose owner changed, while its snapshot
-- may not show the winner's heartbeat yet). 1 row: held.
UPDATE senders SET lease_owner = $2
WHERE id = $1 AND COALESCE(lease_owner, '') = $4
  AND (lease_owner IS NULL
       OR NOT EXISTS (SELECT 1 FROM engine_workers w
                      WHERE w.worker_id = senders.lease_owner AND w.heartbeat_at >= $3));

-- name: engine.sender_lease_release
UPDATE senders SET lease_owner = NULL WHERE lease_owner = $1;

-- Queue manager: senders, their days and the work spread over workers -----------------------------

-- name: engine.worker_heartbeat_of
-- Worker $1's last heartbeat (no row: it has none, or it was pruned or forgotten).
SELECT heartbeat_at FROM engine_workers WHERE worker_id = $1;

-- name: engine.worker_heartbeat
-- $1 worker, $2 now. Renews every sender lease the worker holds.
INSERT INTO engine_workers (worker_id, started_at, heartbeat_at) VALUES ($1, $2, $2)
ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at;

-- name: engine.worker_forget
DELETE FROM engine_workers WHERE worker_id = $1;

-- name: engine.workers_prune_leases
-- Frees the senders of workers silent since before $1 (long dead), before their rows go
-- (engine.workers_prune): a lease whose owner has no heartbeat row could never be found lapsed.
UPDATE senders SET lease_owner = NULL
WHERE lease_owner IN (SELECT worker_id FROM engine_workers WHERE heartbeat_at < $1);

-- name: engine.workers_prune
-- Rows of workers silent since before $1 (long dead).
DELETE FROM engine_workers WHERE heartbeat_at < $1;

-- name: engine.live_workers
-- Workers whose heartbeat is younger than one lease ($1 = now - lease); never fewer than 1.
SELECT COUNT(*) AS n FROM engine_workers WHERE heartbeat_at >= $1;

-- name: engine.wanted_senders_count
-- Senders that need a worker: active and in a running campaign, or warming up ($1 = 1 when this
-- worker sends warm-up mail).
SELECT COUNT(*) AS n FROM senders s
WHERE s.status = 'active'
  AND (($1 = 1 AND s.warmup_enabled = 1)
       OR EXISTS (SELECT 1 FROM campaign_senders cs JOIN campaigns c ON c.id = cs.campaign_id
                  WHERE cs.sender_id = s.id AND c.status = 'running'));

-- name: engine.sender_lease_candidates
-- Senders that need a worker and that a worker may take ($1 warm-up on, $2 now - lease, $3
-- limit): nobody holds them, or their holder's heartbeat is older than $2. Both parts are found
-- through senders_lease_idx (the unheld rows; the rows of the few lapsed workers), so the held
-- senders of live workers are never read.
SELECT t.id, t.lease_owner FROM (
  SELECT s.id, s.lease_owner FROM senders s
  WHERE s.lease_owner IS NULL AND s.status = 'active'
    AND (($1 = 1 AND s.warmup_enabled = 1)
         OR EXISTS (SELECT 1 FROM campaign_senders cs JOIN campaigns c ON c.id = cs.campaign_id
                    WHERE cs.sender_id = s.id AND c.status = 'running'))
  UNION ALL
  SELECT s.id, s.lease_owner FROM engine_workers w JOIN senders s ON s.lease_owner = w.worker_id
  WHERE w.heartbeat_at < $2 AND s.status = 'active'
    AND (($1 = 1 AND s.warmup_enabled = 1)
         OR EXISTS (SELECT 1 FROM campaign_senders cs JOIN campaigns c ON c.id = cs.campaign_id
                    WHERE cs.sender_id = s.id AND c.status = 'running'))
) t ORDER BY t.id LIMIT $3;

-- name: engine.unheld_wanted_sender
-- One sender no worker has ever held or that was given back (lease_owner NULL: just added, or its
-- campaign just started) that needs a worker ($1 warm-up on), if any: asked on every refresh so
-- such a sender is taken then, not up to a third of a lease later. senders_lease_idx finds the
-- unheld rows; held senders are not read.
SELECT s.id FROM senders s
WHERE s.lease_owner IS NULL AND s.status = 'active'
  AND (($1 = 1 AND s.warmup_enabled = 1)
       OR EXISTS (SELECT 1 FROM campaign_senders cs JOIN campaigns c ON c.id = cs.campaign_id
                  WHERE cs.sender_id = s.id AND c.status = 'running'))
LIMIT 1;

-- name: engine.sender_lease_drop
-- Gives one lease back ($1 sender, $2 worker).
UPDATE senders SET lease_owner = NULL WHERE id = $1 AND lease_owner = $2;

-- name: engine.held_sender_ids
-- The senders worker $1 holds (read when it starts and after its own heartbeat lapsed).
SELECT id FROM senders WHERE lease_owner = $1 ORDER BY id;

-- name: engine.held_sender
-- A sender ($1) while worker $2 holds its lease (no row otherwise), with its warm-up plan and the
-- largest warm-up share of the running campaigns it sends for (NULL: in none).
SELECT s.id, s.workspace_id, s.email, s.name, s.from_name, s.status, s.daily_quota,
       s.health_score, s.warmup_enabled, s.warmup_daily_target, s.warmup_end_at,
       s.warmup_start_at, s.warmup_start_volume, s.warmup_daily_increase, s.warmup_weekdays_only,
       s.timezone, s.smtp_host, s.smtp_port, s.smtp_security, s.smtp_username, s.smtp_secret,
       s.allow_self_signed, s.created_at, s.tracking_domain, s.consecutive_failures,
       (SELECT MAX(c.warmup_mix_percent) FROM campaign_senders cs
        JOIN campaigns c ON c.id = cs.campaign_id
        WHERE cs.sender_id = s.id AND c.status = 'running') AS mix_percent
FROM senders s WHERE s.id = $1 AND s.lease_owner = $2;

-- name: engine.sender_running_campaigns
-- The running campaigns sender $1 sends for.
SELECT cs.campaign_id FROM campaign_senders cs JOIN campaigns c ON c.id = cs.campaign_id
WHERE cs.sender_id = $1 AND c.status = 'running' ORDER BY cs.campaign_id;

-- name: engine.sender_day_counts
-- A sender's sends in [$2, $3): cold (sent, or claimed with the outcome open or unknown: they may
-- have gone out) and warm-up; and its latest send of either kind (pacing). Each count reads that
-- day's range of a (sender, sent_at) index and the few open claims (cold: their partial index,
-- 0018; warm-up: the status index), not the sender's whole history.
SELECT
  (SELECT COUNT(*) FROM messages WHERE sender_id = $1 AND sent_at >= $2 AND sent_at < $3)
  + (SELECT COUNT(*) FROM messages
     WHERE sender_id = $1 AND status IN ('sending', 'unknown') AND updated_at >= $2
       AND updated_at < $3 AND (sent_at IS NULL OR sent_at < $2 OR sent_at >= $3)) AS cold,
  (SELECT COUNT(*) FROM warmup_messages
   WHERE sender_id = $1 AND direction = 'out' AND sent_at >= $2 AND sent_at < $3)
  + (SELECT COUNT(*) FROM warmup_messages
     WHERE status IN ('sending', 'unknown') AND updated_at >= $2 AND updated_at < $3
       AND +sender_id = $1 AND direction = 'out'
       AND (sent_at IS NULL OR sent_at < $2 OR sent_at >= $3)) AS warm,
  (SELECT MAX(sent_at) FROM messages WHERE sender_id = $1) AS last_cold,
  (SELECT MAX(sent_at) FROM warmup_messages WHERE sender_id = $1 AND direction = 'out')
    AS last_warm;

-- name: engine.sender_recent_domains
-- The recipients of a sender's cold sends since $2 (the per-recipient-domain hourly cap).
SELECT c.email, m.sent_at FROM messages m JOIN contacts c ON c.id = m.contact_id
WHERE m.sender_id = $1 AND m.sent_at >= $2 ORDER BY m.sent_at;

-- name: engine.campaign_pool
SELECT sender_id FROM campaign_senders WHERE campaign_id = $1 ORDER BY sender_id;

-- Hard-bounce pause ------------------------------------------------------------------------------

-- name: engine.senders_bounced_since
-- Senders held by $1 with a bounce recorded at or after $2 (at SMTP time or found later).
-- Driven by the few recent bounces (messages_bounced_idx), not by every message of the held senders.
SELECT s.id AS sender_id FROM senders s
WHERE s.lease_owner = $1
  AND s.id IN (SELECT m.sender_id FROM messages m
               WHERE m.bounced_at >= $2 AND m.bounced_at IS NOT NULL);

-- name: engine.sender_bounce_window
-- A sender's last $2 cold sends that reached a verdict, and how many of them hard-bounced.
SELECT COUNT(*) AS sends,
       CAST(COALESCE(SUM(CASE WHEN w.status = 'bounced' THEN 1 ELSE 0 END), 0) AS BIGINT) AS bounced
FROM (SELECT status FROM messages WHERE sender_id = $1 AND status IN ('sent', 'bounced')
      ORDER BY id DESC LIMIT $2) w;

-- name: engine.sender_pause
-- $1 sender, $2 reason, $3 now. Only an active sender is paused (a failed one stays failed).
UPDATE senders SET status = 'paused', status_reason = $2, updated_at = $3
WHERE id = $1 AND status = 'active';

-- name: engine.campaigns_pause_for_sender
-- Every running campaign $1 sends for: $2 reason, $3 now.
UPDATE campaigns SET status = 'paused', paused_reason = $2, updated_at = $3
WHERE status = 'running'
  AND id IN (SELECT campaign_id FROM campaign_senders WHERE sender_id = $1);

-- Resolving an unknown message (a user's verdict, docs/decisions/0004-exactly-once.md) ----------

-- name: engine.message_for_resolve
SELECT id, contact_id, step_id, status, sender_id, updated_at FROM messages
WHERE workspace_id = $1 AND campaign_id = $2 AND id = $3;

-- name: engine.message_resolve_sent
-- The recipient has it: sent (at the claim's time), never sent again. $1 id, $2 now, $3 note.
UPDATE messages
SET status = 'sent', sent_at = COALESCE(sent_at, updated_at), claimed_by = NULL,
    lease_until = NULL, next_attempt_at = NULL, error = $3, updated_at = $2
WHERE id = $1 AND status = 'unknown';

-- name: engine.message_resolve_not_sent
-- The recipient does not have it: back to 'scheduled' so the engine claims it again (with the
-- same Message-ID header). $1 id, $2 now, $3 note.
UPDATE messages
SET status = 'scheduled', claimed_by = NULL, lease_until = NULL, next_attempt_at = NULL,
    error = $3, updated_at = $2
WHERE id = $1 AND status = 'unknown';

-- name: engine.lead_resume_after_resolve
-- The lead paused on that message continues now ($1 campaign, $2 contact, $3 now); the engine
-- works out its next step from the messages.
UPDATE campaign_contacts SET status = 'active', stop_reason = '', next_at = $3, updated_at = $3
WHERE campaign_id = $1 AND contact_id = $2 AND status = 'paused';
