-- 0011_analytics: campaign analytics roll-ups (issue 6 §4; analytics/rollup.h and
-- docs/decisions/0008-analytics-rollups.md).
--
-- analytics_daily holds, per (campaign, step, variant, sender, UTC day of the event), the counters
-- of every event the roll-up job has consumed. Counting rules (each message counts at most once per
-- counter, ordered by event id): sent; bounced (first bounce of any kind); bounced_hard /
-- bounced_soft (first bounce of that kind; soft when the detail says "kind":"soft");
-- bounced_after_sent (first bounce of a message that had been sent: sent - bounced_after_sent is
-- "delivered"); opened / clicked (first human hit); opened_any / clicked_any (first hit, machine or
-- not); machine_opens / machine_clicks (every hit flagged is_machine); replied, unsubscribed,
-- complained (first of each). variant_id and sender_id are 0 when the message has none (deleted).
-- day is days since 1970-01-01 UTC.
--
-- analytics_rollup_state holds the watermark: the id of the last event consumed, updated in the
-- same transaction as the counters it added, and a lease so that one process rolls up at a time.

CREATE TABLE analytics_daily (
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  step_id BIGINT NOT NULL,
  variant_id BIGINT NOT NULL,
  sender_id BIGINT NOT NULL,
  day BIGINT NOT NULL,
  sent BIGINT NOT NULL DEFAULT 0,
  bounced BIGINT NOT NULL DEFAULT 0,
  bounced_after_sent BIGINT NOT NULL DEFAULT 0,
  bounced_hard BIGINT NOT NULL DEFAULT 0,
  bounced_soft BIGINT NOT NULL DEFAULT 0,
  opened BIGINT NOT NULL DEFAULT 0,
  opened_any BIGINT NOT NULL DEFAULT 0,
  machine_opens BIGINT NOT NULL DEFAULT 0,
  clicked BIGINT NOT NULL DEFAULT 0,
  clicked_any BIGINT NOT NULL DEFAULT 0,
  machine_clicks BIGINT NOT NULL DEFAULT 0,
  replied BIGINT NOT NULL DEFAULT 0,
  unsubscribed BIGINT NOT NULL DEFAULT 0,
  complained BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (campaign_id, step_id, variant_id, sender_id, day)
);
CREATE INDEX analytics_daily_workspace_idx ON analytics_daily (workspace_id, day);

CREATE TABLE analytics_rollup_state (
  name TEXT PRIMARY KEY,
  last_event_id BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until BIGINT,
  updated_at BIGINT NOT NULL
);
INSERT INTO analytics_rollup_state (name, last_event_id, updated_at) VALUES ('events', 0, 0);
