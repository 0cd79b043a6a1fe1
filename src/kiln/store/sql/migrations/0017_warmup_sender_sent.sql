-- 0017_warmup_sender_sent: what a sender's warm-up reads of its own history costs its latest rows,
-- not every row it ever sent, and a warm-up mail writes fewer index entries (bench/warmup over 30
-- days; decision 0012).
--
-- Pairing's history of a sender (warmup.contacts) grouped every 'out' row of the sender, each
-- read from the table for its counterpart: a new thread cost a page read per mail the sender had
-- ever sent, so the cost per warm-up message grew with the days of warm-up (and with the size of
-- the table behind those reads). It now reads the sender's latest sent rows, newest first, from
-- this index alone (it holds both counterpart columns). The day's warm-up count and the latest
-- send behind a sender's pacing (engine.sender_day_counts) use the same index for a range of one
-- day instead of walking the sender's rows.
CREATE INDEX warmup_messages_sender_sent_idx
  ON warmup_messages (sender_id, direction, sent_at, bot_id, peer_sender_id);

-- (sender_id, scheduled_at) served no query the index above does not (nor the cascade from
-- senders). The (counterpart, scheduled_at) indexes serve only the counts of mail scheduled for
-- a counterpart's day (queries/warmup.sql, *_one): they now hold the scheduled rows only, so a
-- new thread (claimed at once) and its settling write none of them. Each index of this table is
-- one more random page written per warm-up mail.
DROP INDEX warmup_messages_sender_idx;
DROP INDEX warmup_messages_bot_idx;
DROP INDEX warmup_messages_peer_idx;
CREATE INDEX warmup_messages_bot_scheduled_idx ON warmup_messages (bot_id, scheduled_at)
  WHERE status = 'scheduled';
CREATE INDEX warmup_messages_peer_scheduled_idx ON warmup_messages (peer_sender_id, scheduled_at)
  WHERE status = 'scheduled';

-- A counterpart's counts of the day (its room: warmup.*_one under its row lock for every pick, and
-- warmup.*_between for the whole workspace when a day turns) found the day's rows through these
-- indexes and then read each row from the table for its direction and status (and, workspace-wide,
-- its counterpart): a page read per row counted, scattered over the table, more of them missing
-- the cache the larger the workspace. The indexes now hold those columns: the counts read no
-- table row.
DROP INDEX warmup_messages_bot_sent_idx;
DROP INDEX warmup_messages_peer_sent_idx;
DROP INDEX warmup_messages_workspace_sent_idx;
CREATE INDEX warmup_messages_bot_sent_idx
  ON warmup_messages (bot_id, sent_at, direction, status);
CREATE INDEX warmup_messages_peer_sent_idx
  ON warmup_messages (peer_sender_id, sent_at, direction, status);
CREATE INDEX warmup_messages_workspace_sent_idx
  ON warmup_messages (workspace_id, sent_at, direction, status, bot_id, peer_sender_id);
