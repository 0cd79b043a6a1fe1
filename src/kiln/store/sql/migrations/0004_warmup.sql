-- 0004_warmup: the warm-up network (issue 5) and what the queue manager needs to mix warm-up mail
-- into each sender's day.
--
-- Senders get their own time zone (their quota day runs from local midnight to local midnight)
-- and a warm-up plan: the ramp starts at warmup_start_volume on warmup_start_at's day, grows by
-- warmup_daily_increase a day up to warmup_daily_target (0001's column, the ramp's maximum), only
-- on weekdays when warmup_weekdays_only, until warmup_end_at. warmup_reply_rate_percent is the
-- share of a sender's warm-up mail the counterpart answers.
--
-- Bots get the start of their aging ramp (aging_start_volume on aging_start_at's day rising to
-- daily_send_limit on aging_end_at's day), their share of mail flagged important, their own time
-- zone, and the provisioning adapter that created them (NULL: added with credentials).
--
-- sender_bot_interactions (0001, never used) is replaced by warmup_messages: one warm-up email,
-- from a sender to a bot or to another sender of the workspace (peer warm-up), or back; threads
-- run for a few exchanges. `token` is the warm-up tag (mail/classify_warmup.h) of the thread.
--
-- reputation_daily keeps the history behind each sender's and bot's health score for charts;
-- mailbox_scan_state is where each IMAP scanner left off in each folder of each mailbox.

ALTER TABLE senders ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE senders ADD COLUMN warmup_start_at BIGINT;
ALTER TABLE senders ADD COLUMN warmup_start_volume INTEGER NOT NULL DEFAULT 5
  CHECK (warmup_start_volume >= 1);
ALTER TABLE senders ADD COLUMN warmup_daily_increase INTEGER NOT NULL DEFAULT 2
  CHECK (warmup_daily_increase >= 0);
ALTER TABLE senders ADD COLUMN warmup_weekdays_only INTEGER NOT NULL DEFAULT 0
  CHECK (warmup_weekdays_only IN (0, 1));
ALTER TABLE senders ADD COLUMN warmup_reply_rate_percent INTEGER NOT NULL DEFAULT 30
  CHECK (warmup_reply_rate_percent BETWEEN 0 AND 100);

ALTER TABLE bots ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE bots ADD COLUMN aging_start_volume INTEGER NOT NULL DEFAULT 2
  CHECK (aging_start_volume >= 1);
ALTER TABLE bots ADD COLUMN important_rate_percent INTEGER NOT NULL DEFAULT 30
  CHECK (important_rate_percent BETWEEN 0 AND 100);
ALTER TABLE bots ADD COLUMN provisioned_by TEXT;
ALTER TABLE bots ADD COLUMN health_score INTEGER NOT NULL DEFAULT 100
  CHECK (health_score BETWEEN 0 AND 100);

DROP TABLE sender_bot_interactions;

CREATE TABLE warmup_messages (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  sender_id BIGINT NOT NULL REFERENCES senders (id) ON DELETE CASCADE,  -- the mailbox warmed up
  bot_id BIGINT REFERENCES bots (id) ON DELETE CASCADE,                 -- the counterpart: a bot
  peer_sender_id BIGINT REFERENCES senders (id) ON DELETE CASCADE,      -- ... or another sender
  direction TEXT NOT NULL CHECK (direction IN ('out', 'back')),  -- out: sender -> counterpart
  thread_id BIGINT,   -- the thread's first warmup_messages.id (its own id for the first)
  parent_id BIGINT REFERENCES warmup_messages (id) ON DELETE SET NULL,  -- the mail answered
  exchange INTEGER NOT NULL DEFAULT 1 CHECK (exchange >= 1),  -- 1 for the first mail of a thread
  token TEXT NOT NULL,  -- warm-up tag of the thread (same for every message of the thread)
  message_id_header TEXT UNIQUE,  -- "<...@domain>"
  subject TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'scheduled'
    CHECK (status IN ('scheduled', 'sending', 'sent', 'failed', 'canceled', 'unknown')),
  placement TEXT NOT NULL DEFAULT 'unknown'
    CHECK (placement IN ('unknown', 'inbox', 'spam', 'other_folder', 'missing')),
  scheduled_at BIGINT NOT NULL,
  sent_at BIGINT,
  delivered_at BIGINT,  -- found by the receiving side
  opened_at BIGINT,     -- marked read
  flagged_at BIGINT,    -- marked important
  rescued_at BIGINT,    -- moved from spam to the inbox
  replied_at BIGINT,    -- answered (the answer is another row with parent_id = this id)
  smtp_code INTEGER,
  smtp_response TEXT,
  error TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CHECK ((bot_id IS NULL) <> (peer_sender_id IS NULL))
);
CREATE INDEX warmup_messages_sender_idx ON warmup_messages (sender_id, scheduled_at);
CREATE INDEX warmup_messages_bot_idx ON warmup_messages (bot_id, scheduled_at);
CREATE INDEX warmup_messages_peer_idx ON warmup_messages (peer_sender_id, scheduled_at);
CREATE INDEX warmup_messages_token_idx ON warmup_messages (token);
CREATE INDEX warmup_messages_status_idx ON warmup_messages (status, scheduled_at);

CREATE TABLE reputation_daily (
  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('sender', 'bot')),
  subject_id BIGINT NOT NULL,
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  day TEXT NOT NULL,  -- YYYY-MM-DD on the subject's own calendar
  warmup_sent INTEGER NOT NULL DEFAULT 0,
  inbox INTEGER NOT NULL DEFAULT 0,
  spam INTEGER NOT NULL DEFAULT 0,
  other_folder INTEGER NOT NULL DEFAULT 0,
  missing INTEGER NOT NULL DEFAULT 0,
  replies INTEGER NOT NULL DEFAULT 0,
  cold_sent INTEGER NOT NULL DEFAULT 0,
  bounced INTEGER NOT NULL DEFAULT 0,
  complaints INTEGER NOT NULL DEFAULT 0,
  score INTEGER CHECK (score BETWEEN 0 AND 100),  -- the health score computed at the day's end
  computed_at BIGINT NOT NULL,
  PRIMARY KEY (subject_kind, subject_id, day)
);
CREATE INDEX reputation_daily_workspace_idx ON reputation_daily (workspace_id, day);

CREATE TABLE mailbox_scan_state (
  owner_kind TEXT NOT NULL CHECK (owner_kind IN ('sender', 'bot')),
  owner_id BIGINT NOT NULL,
  purpose TEXT NOT NULL,  -- 'replies' (inbox watcher), 'warmup' (warm-up actions)
  folder TEXT NOT NULL,   -- the folder's IMAP name
  uidvalidity BIGINT NOT NULL,
  last_uid BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (owner_kind, owner_id, purpose, folder)
);
