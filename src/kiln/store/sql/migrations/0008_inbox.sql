-- 0005_inbox: what the inbox watcher (engine/inbox_watcher.h) needs to read every sender's mailbox
-- once and record each reply, auto-reply, bounce and complaint exactly once (issues 4, 6 and 7).
--
-- inbox_watch is the watcher's own per-sender schedule and lease: one worker polls a mailbox at a
-- time (lease_owner until lease_until; a dead worker's lease lapses), every inbox_poll_seconds
-- (next_poll_at), and the last poll's problem is kept for the sender's page (last_error).
--
-- inbound_messages is the ledger of mail the watcher acted on, keyed by the message's own
-- Message-ID ("<...>", or "sha256:<hex of the raw message>" when it has none) per workspace: the
-- insert happens in the same transaction as the message's effects, so two workers racing on one
-- mailbox, a crash between effects and the scan position, or a rescan after UIDVALIDITY changed
-- never record a message twice. A message that could not be processed is kept with outcome
-- 'failed' and its error, so it is visible and never blocks the mailbox.
--
-- conversation_messages gains the IMAP folder of inbound mail, and a unique key per workspace on
-- the Message-ID so that a thread never shows one email twice.

CREATE TABLE inbox_watch (
  sender_id BIGINT PRIMARY KEY REFERENCES senders (id) ON DELETE CASCADE,
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  lease_owner TEXT,
  lease_until BIGINT,
  next_poll_at BIGINT NOT NULL DEFAULT 0,
  last_polled_at BIGINT,
  last_error TEXT NOT NULL DEFAULT '',
  updated_at BIGINT NOT NULL
);

CREATE TABLE inbound_messages (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  sender_id BIGINT REFERENCES senders (id) ON DELETE SET NULL,  -- the mailbox it arrived in
  message_key TEXT NOT NULL,  -- "<Message-ID>", or "sha256:<hex>" when the message has none
  folder TEXT NOT NULL DEFAULT '',
  imap_uid BIGINT,
  kind TEXT NOT NULL
    CHECK (kind IN ('reply', 'auto_reply', 'bounce', 'complaint', 'warmup', 'other')),
  outcome TEXT NOT NULL CHECK (outcome IN ('recorded', 'failed')),
  message_id BIGINT REFERENCES messages (id) ON DELETE SET NULL,  -- our message it concerns
  conversation_id BIGINT REFERENCES conversations (id) ON DELETE SET NULL,
  error TEXT NOT NULL DEFAULT '',
  received_at BIGINT,  -- the message's Date
  created_at BIGINT NOT NULL,
  UNIQUE (workspace_id, message_key)
);
CREATE INDEX inbound_messages_sender_idx ON inbound_messages (sender_id, created_at);

ALTER TABLE conversation_messages ADD COLUMN folder TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX conversation_messages_message_id_key
  ON conversation_messages (workspace_id, message_id_header) WHERE message_id_header <> '';
CREATE INDEX conversations_contact_idx ON conversations (contact_id);
