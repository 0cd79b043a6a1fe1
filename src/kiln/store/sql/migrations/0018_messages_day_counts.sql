-- 0018_messages_day_counts: a sender's and a campaign's cold sends of the day are counted from
-- that day's rows, not from every message they ever sent.
--
-- Both counts (engine.sender_day_counts, once per sender and day; engine.campaign_sends_between,
-- once per campaign with a daily limit and tick) asked for "sent that day, or claimed that day
-- with the outcome open or unknown" in one OR, which no index answers: SQLite walked every
-- message of the sender (or campaign) and read each from the table. They are now two ranges:
-- the day's sends through (sender_id | campaign_id, sent_at), and the open claims through a
-- partial index that holds only the rows being sent or caught mid-send.
CREATE INDEX messages_campaign_sent_idx ON messages (campaign_id, sent_at);
CREATE INDEX messages_sender_claims_idx ON messages (sender_id, updated_at)
  WHERE status IN ('sending', 'unknown');
CREATE INDEX messages_campaign_claims_idx ON messages (campaign_id, updated_at)
  WHERE status IN ('sending', 'unknown');
