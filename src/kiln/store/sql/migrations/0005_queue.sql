-- 0005_queue: what the queue manager needs to keep one queue per sender and to share senders
-- fairly between workers (docs/decisions/0004-exactly-once.md, "Several workers").
--
-- engine_workers: one row per running worker process, its heartbeat renewed at least every third
-- of the lease. A worker counts the live ones (heartbeat within one lease) and holds at most
-- ceil(senders / live workers) sender leases, so several `kiln worker` processes split the senders;
-- a dead worker's row simply stops being live and its leases lapse.
--
-- Indexes: a sender's own due leads in a campaign (follow-ups stick to the sender of the first
-- step); a sender's recent messages (hard-bounce rate over its last window of cold sends); and the
-- bounces found since the last look (SMTP time or later, by the inbox watcher).

CREATE TABLE engine_workers (
  worker_id TEXT PRIMARY KEY,
  started_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL
);
CREATE INDEX engine_workers_heartbeat_idx ON engine_workers (heartbeat_at);

CREATE INDEX campaign_contacts_sender_due_idx
  ON campaign_contacts (campaign_id, sender_id, status, next_at);
CREATE INDEX messages_sender_recent_idx ON messages (sender_id, id);
CREATE INDEX messages_bounced_idx ON messages (bounced_at) WHERE bounced_at IS NOT NULL;
CREATE INDEX senders_lease_idx ON senders (lease_owner);
