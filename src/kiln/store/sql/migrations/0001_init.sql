-- 0001_init: the whole product's schema. Portable SQL (SQLite 3.35+ and PostgreSQL 13+ agree on
-- every line) with two tokens expanded per dialect: {{ID}} (64-bit auto-increment primary key) and
-- {{BLOB}} (bytes). See docs/decisions/0001-sql-dialect.md.
--
-- Conventions: times are BIGINT Unix milliseconds UTC in columns ending _at; booleans are
-- INTEGER 0/1 with a CHECK; JSON is TEXT; enumerations are TEXT with a CHECK. Every table holding
-- user data carries workspace_id (ON DELETE CASCADE), so one query deletes a workspace and every
-- tenant query can filter by it. Emails are matched case-insensitively through lower(email)
-- indexes (SQLite's lower() folds ASCII only; addresses are ASCII in practice).

-- Tenancy, people, access ------------------------------------------------------------------------

CREATE TABLE workspaces (
  id {{ID}},
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE users (
  id {{ID}},
  email TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  password_hash TEXT,  -- argon2id (libsodium string); NULL until an invited user sets one
  is_disabled INTEGER NOT NULL DEFAULT 0 CHECK (is_disabled IN (0, 1)),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  last_login_at BIGINT
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE memberships (
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE invitations (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  token_hash TEXT NOT NULL UNIQUE,
  invited_by_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  accepted_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX invitations_workspace_idx ON invitations (workspace_id, id);

-- One row per issued refresh token; rotation links tokens by family_id so that reuse of a rotated
-- token revokes the whole family.
CREATE TABLE refresh_tokens (
  id {{ID}},
  user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  issued_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  rotated_at BIGINT,
  revoked_at BIGINT,
  revoked_reason TEXT,
  ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

CREATE TABLE api_keys (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,  -- the first characters of the key, shown in the UI to tell keys apart
  key_hash TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_by_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX api_keys_workspace_idx ON api_keys (workspace_id);

CREATE TABLE audit_log (
  id {{ID}},
  workspace_id BIGINT REFERENCES workspaces (id) ON DELETE CASCADE,  -- NULL: instance-wide
  user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
  api_key_id BIGINT REFERENCES api_keys (id) ON DELETE SET NULL,
  action TEXT NOT NULL,  -- "campaign.start", "user.login", ...
  target_type TEXT NOT NULL DEFAULT '',
  target_id TEXT NOT NULL DEFAULT '',
  ip TEXT NOT NULL DEFAULT '',
  details TEXT NOT NULL DEFAULT '{}',  -- JSON
  created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_workspace_idx ON audit_log (workspace_id, id);
CREATE INDEX audit_log_created_idx ON audit_log (created_at);

-- Settings: workspace_id NULL holds instance-wide values. SQL treats NULLs as distinct in UNIQUE,
-- so uniqueness is two partial indexes: one key per workspace, one key instance-wide. Upserts name
-- the matching one: ON CONFLICT (key) WHERE workspace_id IS NULL DO UPDATE ...
CREATE TABLE settings (
  workspace_id BIGINT REFERENCES workspaces (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX settings_workspace_key ON settings (workspace_id, key)
  WHERE workspace_id IS NOT NULL;
CREATE UNIQUE INDEX settings_instance_key ON settings (key) WHERE workspace_id IS NULL;

-- Mailboxes -------------------------------------------------------------------------------------

-- A real mailbox that sends cold email. *_secret columns hold AES-256-GCM sealed credentials.
CREATE TABLE senders (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  name TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL,
  from_name TEXT NOT NULL DEFAULT '',
  smtp_host TEXT NOT NULL,
  smtp_port INTEGER NOT NULL CHECK (smtp_port BETWEEN 1 AND 65535),
  smtp_security TEXT NOT NULL CHECK (smtp_security IN ('tls', 'starttls', 'none')),
  smtp_username TEXT NOT NULL DEFAULT '',
  smtp_secret {{BLOB}},
  imap_host TEXT NOT NULL DEFAULT '',
  imap_port INTEGER NOT NULL DEFAULT 993 CHECK (imap_port BETWEEN 1 AND 65535),
  imap_security TEXT NOT NULL DEFAULT 'tls' CHECK (imap_security IN ('tls', 'starttls', 'none')),
  imap_username TEXT NOT NULL DEFAULT '',
  imap_secret {{BLOB}},
  oauth_provider TEXT,  -- 'google', 'microsoft'; NULL: password authentication
  oauth_secret {{BLOB}},
  allow_self_signed INTEGER NOT NULL DEFAULT 0 CHECK (allow_self_signed IN (0, 1)),
  source_ip TEXT,
  proxy_url TEXT,
  daily_quota INTEGER NOT NULL DEFAULT 30 CHECK (daily_quota >= 0),
  warmup_enabled INTEGER NOT NULL DEFAULT 1 CHECK (warmup_enabled IN (0, 1)),
  warmup_daily_target INTEGER NOT NULL DEFAULT 40 CHECK (warmup_daily_target >= 0),
  warmup_end_at BIGINT,
  status TEXT NOT NULL DEFAULT 'unverified'
    CHECK (status IN ('unverified', 'active', 'paused', 'failed')),
  status_reason TEXT NOT NULL DEFAULT '',
  health_score INTEGER NOT NULL DEFAULT 100 CHECK (health_score BETWEEN 0 AND 100),
  imap_uidvalidity BIGINT,  -- IMAP poll position: UIDVALIDITY and the last UID seen in INBOX
  imap_last_uid BIGINT,
  last_checked_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX senders_workspace_email_key ON senders (workspace_id, lower(email));

-- A warm-up inbox the operator owns: exchanges warm-up mail with senders, opens it, rescues it
-- from spam and replies at reply_rate_percent after a delay drawn from the min/max range.
-- Its daily limits ramp from aging_start_at to aging_end_at.
CREATE TABLE bots (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  name TEXT NOT NULL DEFAULT '',
  email TEXT NOT NULL,
  provider TEXT NOT NULL DEFAULT 'other',  -- 'gmail', 'outlook', 'yahoo', 'self_hosted', 'other'
  smtp_host TEXT NOT NULL,
  smtp_port INTEGER NOT NULL CHECK (smtp_port BETWEEN 1 AND 65535),
  smtp_security TEXT NOT NULL CHECK (smtp_security IN ('tls', 'starttls', 'none')),
  smtp_username TEXT NOT NULL DEFAULT '',
  smtp_secret {{BLOB}},
  imap_host TEXT NOT NULL,
  imap_port INTEGER NOT NULL CHECK (imap_port BETWEEN 1 AND 65535),
  imap_security TEXT NOT NULL CHECK (imap_security IN ('tls', 'starttls', 'none')),
  imap_username TEXT NOT NULL DEFAULT '',
  imap_secret {{BLOB}},
  oauth_provider TEXT,
  oauth_secret {{BLOB}},
  allow_self_signed INTEGER NOT NULL DEFAULT 0 CHECK (allow_self_signed IN (0, 1)),
  aging_start_at BIGINT NOT NULL,
  aging_end_at BIGINT,
  daily_send_limit INTEGER NOT NULL DEFAULT 20 CHECK (daily_send_limit >= 0),
  daily_receive_limit INTEGER NOT NULL DEFAULT 40 CHECK (daily_receive_limit >= 0),
  reply_rate_percent INTEGER NOT NULL DEFAULT 30 CHECK (reply_rate_percent BETWEEN 0 AND 100),
  reply_delay_min_minutes INTEGER NOT NULL DEFAULT 5 CHECK (reply_delay_min_minutes >= 0),
  reply_delay_max_minutes INTEGER NOT NULL DEFAULT 240,
  status TEXT NOT NULL DEFAULT 'unverified'
    CHECK (status IN ('unverified', 'active', 'paused', 'failed')),
  status_reason TEXT NOT NULL DEFAULT '',
  imap_uidvalidity BIGINT,
  imap_last_uid BIGINT,
  last_checked_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  CHECK (reply_delay_max_minutes >= reply_delay_min_minutes)
);
CREATE UNIQUE INDEX bots_workspace_email_key ON bots (workspace_id, lower(email));

-- Content and audience ---------------------------------------------------------------------------

CREATE TABLE templates (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  body_html TEXT NOT NULL DEFAULT '',
  body_text TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX templates_workspace_idx ON templates (workspace_id, id);

CREATE TABLE contacts (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  first_name TEXT NOT NULL DEFAULT '',
  last_name TEXT NOT NULL DEFAULT '',
  company TEXT NOT NULL DEFAULT '',
  title TEXT NOT NULL DEFAULT '',
  timezone TEXT NOT NULL DEFAULT '',  -- IANA name; '' = the campaign's timezone
  phone TEXT NOT NULL DEFAULT '',
  website TEXT NOT NULL DEFAULT '',
  custom_fields TEXT NOT NULL DEFAULT '{}',  -- JSON object of template variables
  status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'unsubscribed', 'bounced', 'complained', 'invalid')),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX contacts_workspace_email_key ON contacts (workspace_id, lower(email));

CREATE TABLE contact_lists (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX contact_lists_workspace_idx ON contact_lists (workspace_id, id);

CREATE TABLE contact_list_items (
  list_id BIGINT NOT NULL REFERENCES contact_lists (id) ON DELETE CASCADE,
  contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  added_at BIGINT NOT NULL,
  PRIMARY KEY (list_id, contact_id)
);
CREATE INDEX contact_list_items_contact_idx ON contact_list_items (contact_id);

-- A CSV import (or other bulk job) and its progress, polled by the UI.
CREATE TABLE upload_jobs (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
  kind TEXT NOT NULL DEFAULT 'contacts_csv',
  list_id BIGINT REFERENCES contact_lists (id) ON DELETE SET NULL,
  file_name TEXT NOT NULL DEFAULT '',
  options TEXT NOT NULL DEFAULT '{}',  -- JSON: column mapping, duplicate policy
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'running', 'completed', 'failed', 'canceled')),
  total_rows INTEGER NOT NULL DEFAULT 0,
  processed_rows INTEGER NOT NULL DEFAULT 0,
  imported_rows INTEGER NOT NULL DEFAULT 0,
  skipped_rows INTEGER NOT NULL DEFAULT 0,
  error_rows INTEGER NOT NULL DEFAULT 0,
  errors TEXT NOT NULL DEFAULT '[]',  -- JSON array of {row, field, message}, capped
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT
);
CREATE INDEX upload_jobs_workspace_idx ON upload_jobs (workspace_id, id);

-- Campaigns ---------------------------------------------------------------------------------------

CREATE TABLE campaigns (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'draft'
    CHECK (status IN ('draft', 'running', 'paused', 'completed', 'archived')),
  schedule TEXT NOT NULL DEFAULT '{}',  -- JSON: sending days and window, e.g. {"days":[1,2,3,4,5],"start":"09:00","end":"17:00"}
  timezone TEXT NOT NULL DEFAULT 'UTC',
  start_at BIGINT,  -- do not send before
  daily_limit INTEGER NOT NULL DEFAULT 0 CHECK (daily_limit >= 0),  -- 0: only sender quotas apply
  warmup_mix_percent INTEGER NOT NULL DEFAULT 0 CHECK (warmup_mix_percent BETWEEN 0 AND 100),
  track_opens INTEGER NOT NULL DEFAULT 1 CHECK (track_opens IN (0, 1)),
  track_clicks INTEGER NOT NULL DEFAULT 1 CHECK (track_clicks IN (0, 1)),
  include_unsubscribe INTEGER NOT NULL DEFAULT 1 CHECK (include_unsubscribe IN (0, 1)),
  plain_text_only INTEGER NOT NULL DEFAULT 0 CHECK (plain_text_only IN (0, 1)),
  stop_on_reply INTEGER NOT NULL DEFAULT 1 CHECK (stop_on_reply IN (0, 1)),
  stop_on_auto_reply INTEGER NOT NULL DEFAULT 0 CHECK (stop_on_auto_reply IN (0, 1)),
  paused_reason TEXT NOT NULL DEFAULT '',
  created_by_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  started_at BIGINT,
  completed_at BIGINT
);
CREATE INDEX campaigns_workspace_idx ON campaigns (workspace_id, status, id);

-- The sender pool a campaign rotates through.
CREATE TABLE campaign_senders (
  campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  sender_id BIGINT NOT NULL REFERENCES senders (id) ON DELETE CASCADE,
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  weight INTEGER NOT NULL DEFAULT 1 CHECK (weight >= 0),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (campaign_id, sender_id)
);
CREATE INDEX campaign_senders_sender_idx ON campaign_senders (sender_id);

-- The lead lists a campaign targets.
CREATE TABLE campaign_lists (
  campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  list_id BIGINT NOT NULL REFERENCES contact_lists (id) ON DELETE CASCADE,
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (campaign_id, list_id)
);
CREATE INDEX campaign_lists_list_idx ON campaign_lists (list_id);

-- One email of the sequence. position orders steps (not unique, so a reorder is one UPDATE per
-- row); delay_minutes counts from the previous step's send.
CREATE TABLE campaign_steps (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  position INTEGER NOT NULL CHECK (position >= 0),
  delay_minutes INTEGER NOT NULL DEFAULT 0 CHECK (delay_minutes >= 0),
  condition TEXT NOT NULL DEFAULT 'always'
    CHECK (condition IN ('always', 'no_reply', 'no_open', 'opened', 'clicked', 'not_clicked')),
  thread_with_previous INTEGER NOT NULL DEFAULT 1 CHECK (thread_with_previous IN (0, 1)),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX campaign_steps_campaign_idx ON campaign_steps (campaign_id, position);

-- A/B variants of a step, picked by weight.
CREATE TABLE step_variants (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  step_id BIGINT NOT NULL REFERENCES campaign_steps (id) ON DELETE CASCADE,
  template_id BIGINT REFERENCES templates (id) ON DELETE SET NULL,
  label TEXT NOT NULL DEFAULT '',  -- "A", "B", ...
  weight INTEGER NOT NULL DEFAULT 1 CHECK (weight >= 0),
  subject TEXT NOT NULL DEFAULT '',
  body_html TEXT NOT NULL DEFAULT '',
  body_text TEXT NOT NULL DEFAULT '',
  is_enabled INTEGER NOT NULL DEFAULT 1 CHECK (is_enabled IN (0, 1)),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX step_variants_step_idx ON step_variants (step_id);

-- One lead's progress through one campaign. next_at is when its next step is due.
CREATE TABLE campaign_contacts (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  sender_id BIGINT REFERENCES senders (id) ON DELETE SET NULL,  -- sticky sender for the thread
  current_step INTEGER NOT NULL DEFAULT 0,  -- position of the next step to send
  next_at BIGINT,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'active', 'paused', 'completed', 'replied', 'bounced',
                      'unsubscribed', 'stopped', 'failed')),
  stop_reason TEXT NOT NULL DEFAULT '',
  last_sent_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (campaign_id, contact_id)
);
CREATE INDEX campaign_contacts_due_idx ON campaign_contacts (campaign_id, status, next_at);
CREATE INDEX campaign_contacts_contact_idx ON campaign_contacts (contact_id);

-- Never mail these again: an address or a whole domain, workspace-wide or for one campaign.
-- Stored lowercased by the application.
CREATE TABLE suppression_list (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  campaign_id BIGINT REFERENCES campaigns (id) ON DELETE CASCADE,
  email TEXT,
  domain TEXT,
  reason TEXT NOT NULL
    CHECK (reason IN ('unsubscribed', 'bounced', 'complained', 'manual', 'imported')),
  source TEXT NOT NULL DEFAULT '',  -- e.g. the message id or import job that caused it
  created_at BIGINT NOT NULL,
  CHECK ((email IS NULL) <> (domain IS NULL))
);
CREATE UNIQUE INDEX suppression_list_email_key ON suppression_list (workspace_id, email);
CREATE UNIQUE INDEX suppression_list_domain_key ON suppression_list (workspace_id, domain);

-- Sending and tracking ----------------------------------------------------------------------------

-- One email Kiln will send or has sent; (campaign_id, contact_id, step_id) is the idempotency key.
CREATE TABLE messages (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  contact_id BIGINT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  step_id BIGINT NOT NULL REFERENCES campaign_steps (id) ON DELETE CASCADE,
  variant_id BIGINT REFERENCES step_variants (id) ON DELETE SET NULL,
  sender_id BIGINT REFERENCES senders (id) ON DELETE SET NULL,
  message_id_header TEXT UNIQUE,  -- our Message-ID, "<...@domain>"
  thread_root_header TEXT,  -- Message-ID of the first message of the thread (References root)
  in_reply_to_header TEXT,
  subject TEXT NOT NULL DEFAULT '',  -- as rendered
  status TEXT NOT NULL DEFAULT 'scheduled'
    CHECK (status IN ('scheduled', 'sending', 'sent', 'failed', 'bounced', 'canceled')),
  scheduled_at BIGINT NOT NULL,
  sent_at BIGINT,
  attempts INTEGER NOT NULL DEFAULT 0,
  smtp_code INTEGER,
  smtp_enhanced_code TEXT,  -- "5.1.1"
  smtp_response TEXT,
  error TEXT NOT NULL DEFAULT '',
  opened_at BIGINT,  -- first human open/click/reply/bounce, denormalised from events for lists
  clicked_at BIGINT,
  replied_at BIGINT,
  bounced_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (campaign_id, contact_id, step_id)
);
CREATE INDEX messages_campaign_status_idx ON messages (campaign_id, status, scheduled_at);
CREATE INDEX messages_sender_sent_idx ON messages (sender_id, sent_at);
CREATE INDEX messages_contact_idx ON messages (contact_id);

CREATE TABLE events (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  campaign_id BIGINT REFERENCES campaigns (id) ON DELETE CASCADE,  -- denormalised for stats
  type TEXT NOT NULL
    CHECK (type IN ('sent', 'failed', 'bounced', 'opened', 'clicked', 'replied', 'auto_replied',
                    'unsubscribed', 'complained')),
  detail TEXT NOT NULL DEFAULT '{}',  -- JSON: bounce kind and reason, clicked URL, user agent
  is_machine INTEGER NOT NULL DEFAULT 0 CHECK (is_machine IN (0, 1)),  -- scanner / proxy prefetch
  created_at BIGINT NOT NULL
);
CREATE INDEX events_message_idx ON events (message_id, type);
CREATE INDEX events_campaign_idx ON events (campaign_id, type, created_at);
CREATE INDEX events_workspace_idx ON events (workspace_id, created_at);

-- Inbox threads: replies (and other inbound mail) matched to the lead and campaign they belong to.
CREATE TABLE conversations (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  sender_id BIGINT REFERENCES senders (id) ON DELETE SET NULL,
  contact_id BIGINT REFERENCES contacts (id) ON DELETE SET NULL,
  campaign_id BIGINT REFERENCES campaigns (id) ON DELETE SET NULL,
  thread_root_header TEXT NOT NULL,  -- Message-ID that roots the thread
  subject TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'interested', 'not_interested', 'closed')),
  is_read INTEGER NOT NULL DEFAULT 0 CHECK (is_read IN (0, 1)),
  last_message_at BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (workspace_id, thread_root_header)
);
CREATE INDEX conversations_workspace_idx ON conversations (workspace_id, last_message_at);

CREATE TABLE conversation_messages (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  message_id_header TEXT NOT NULL DEFAULT '',
  from_address TEXT NOT NULL DEFAULT '',
  to_address TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  body_text TEXT NOT NULL DEFAULT '',
  body_html TEXT NOT NULL DEFAULT '',
  classification TEXT NOT NULL DEFAULT 'reply'
    CHECK (classification IN ('reply', 'auto_reply', 'bounce', 'unsubscribe', 'other')),
  imap_uid BIGINT,
  created_at BIGINT NOT NULL  -- received or sent
);
CREATE INDEX conversation_messages_conversation_idx
  ON conversation_messages (conversation_id, created_at);

-- Warm-up mail between a sender and a bot, and what the receiving side saw and did.
CREATE TABLE sender_bot_interactions (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  sender_id BIGINT NOT NULL REFERENCES senders (id) ON DELETE CASCADE,
  bot_id BIGINT NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
  direction TEXT NOT NULL CHECK (direction IN ('sender_to_bot', 'bot_to_sender')),
  parent_id BIGINT REFERENCES sender_bot_interactions (id) ON DELETE SET NULL,  -- the mail replied to
  message_id_header TEXT UNIQUE,
  subject TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'scheduled'
    CHECK (status IN ('scheduled', 'sent', 'failed', 'canceled')),
  placement TEXT NOT NULL DEFAULT 'unknown'
    CHECK (placement IN ('unknown', 'inbox', 'spam', 'other_folder', 'missing')),
  scheduled_at BIGINT NOT NULL,
  sent_at BIGINT,
  delivered_at BIGINT,  -- seen by the receiving side
  opened_at BIGINT,
  rescued_at BIGINT,  -- moved from spam to inbox
  replied_at BIGINT,
  smtp_code INTEGER,
  smtp_response TEXT,
  error TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX sender_bot_interactions_sender_idx ON sender_bot_interactions (sender_id, scheduled_at);
CREATE INDEX sender_bot_interactions_bot_idx ON sender_bot_interactions (bot_id, scheduled_at);

-- Work ---------------------------------------------------------------------------------------------

-- Durable scheduled work. A worker leases due tasks (status 'pending', run_at <= now) by priority
-- (higher first), setting lease_owner/lease_until; an expired lease makes a task pickable again.
CREATE TABLE queue_tasks (
  id {{ID}},
  workspace_id BIGINT REFERENCES workspaces (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,  -- 'cold_send', 'warmup_send', 'bot_reply', 'imap_poll', ...
  priority INTEGER NOT NULL DEFAULT 0,
  run_at BIGINT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'leased', 'done', 'failed', 'canceled')),
  lease_owner TEXT,
  lease_until BIGINT,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 5,
  payload TEXT NOT NULL DEFAULT '{}',  -- JSON
  dedupe_key TEXT UNIQUE,  -- e.g. "cold_send:<message id>": one live task per unit of work
  last_error TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX queue_tasks_due_idx ON queue_tasks (priority DESC, run_at) WHERE status = 'pending';
CREATE INDEX queue_tasks_lease_idx ON queue_tasks (lease_until) WHERE status = 'leased';
CREATE INDEX queue_tasks_workspace_idx ON queue_tasks (workspace_id, kind);

CREATE TABLE ai_generations (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
  kind TEXT NOT NULL,  -- 'subject', 'body', 'reply', 'personalize'
  provider TEXT NOT NULL,
  model TEXT NOT NULL DEFAULT '',
  target_type TEXT NOT NULL DEFAULT '',
  target_id TEXT NOT NULL DEFAULT '',
  prompt TEXT NOT NULL,
  output TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'failed')),
  error TEXT NOT NULL DEFAULT '',
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  completed_at BIGINT
);
CREATE INDEX ai_generations_workspace_idx ON ai_generations (workspace_id, id);

CREATE TABLE webhooks (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  url TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  event_types TEXT NOT NULL DEFAULT '[]',  -- JSON array of event types; [] = all
  secret {{BLOB}},  -- sealed HMAC signing secret
  is_enabled INTEGER NOT NULL DEFAULT 1 CHECK (is_enabled IN (0, 1)),
  failure_count INTEGER NOT NULL DEFAULT 0,
  last_success_at BIGINT,
  last_failure_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX webhooks_workspace_idx ON webhooks (workspace_id);

CREATE TABLE webhook_deliveries (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_type TEXT NOT NULL,
  payload TEXT NOT NULL,  -- JSON body as sent
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT,
  response_code INTEGER,
  response_body TEXT NOT NULL DEFAULT '',  -- truncated
  created_at BIGINT NOT NULL,
  delivered_at BIGINT
);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
  WHERE status = 'pending';
