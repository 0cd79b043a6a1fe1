-- 0003_engine: what the queue manager needs to send each message exactly once
-- (docs/decisions/0004-exactly-once.md).
--
-- messages.status gains 'retry' (a transient failure waiting for next_attempt_at) and 'unknown'
-- (claimed for sending, then the worker vanished before recording the outcome: the mail server
-- may or may not have the message, so it is surfaced and never resent automatically). A claim
-- records its worker (claimed_by) and a lease (lease_until). events.type gains 'unknown' and
-- 'deferred' (a transient failure). senders count consecutive failures to pause a failing sender,
-- and carry the lease of the worker that holds the sender's queue (one worker sends from a sender
-- at a time, so its pacing and quota are kept by one process; the lease lapses when it dies).
--
-- A CHECK cannot be changed in place on SQLite, so each status column is replaced as in 0002:
-- add the new column, copy, drop the old one (after the indexes that name it), rename.

DROP INDEX messages_campaign_status_idx;
ALTER TABLE messages ADD COLUMN send_status TEXT NOT NULL DEFAULT 'scheduled'
  CONSTRAINT messages_send_status_check
  CHECK (send_status IN ('scheduled', 'sending', 'sent', 'retry', 'failed', 'bounced', 'canceled',
                         'unknown'));
UPDATE messages SET send_status = status;
ALTER TABLE messages DROP COLUMN status;
ALTER TABLE messages RENAME COLUMN send_status TO status;
CREATE INDEX messages_campaign_status_idx ON messages (campaign_id, status, scheduled_at);

ALTER TABLE messages ADD COLUMN claimed_by TEXT;
ALTER TABLE messages ADD COLUMN lease_until BIGINT;
ALTER TABLE messages ADD COLUMN next_attempt_at BIGINT;
CREATE INDEX messages_lease_idx ON messages (lease_until) WHERE status = 'sending';

DROP INDEX events_message_idx;
DROP INDEX events_campaign_idx;
ALTER TABLE events ADD COLUMN event_type TEXT NOT NULL DEFAULT 'sent'
  CONSTRAINT events_event_type_check
  CHECK (event_type IN ('sent', 'failed', 'bounced', 'opened', 'clicked', 'replied',
                        'auto_replied', 'unsubscribed', 'complained', 'deferred', 'unknown'));
UPDATE events SET event_type = type;
ALTER TABLE events DROP COLUMN type;
ALTER TABLE events RENAME COLUMN event_type TO type;
CREATE INDEX events_message_idx ON events (message_id, type);
CREATE INDEX events_campaign_idx ON events (campaign_id, type, created_at);

ALTER TABLE senders ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE senders ADD COLUMN lease_owner TEXT;
ALTER TABLE senders ADD COLUMN lease_until BIGINT;
