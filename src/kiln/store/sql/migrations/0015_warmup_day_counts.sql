-- 0015_warmup_day_counts: what a warm-up send reads costs today's rows, not every row ever
-- (bench/warmup).
--
-- A counterpart's room today counts its mail sent today, its open claims and what is scheduled
-- for today (queries/warmup.sql). With only the (counterpart, scheduled_at) indexes of 0004 a sent
-- row could not be found by its sent_at, so each count walked the counterpart's whole history,
-- and the workspace-wide counts behind the candidates walked every row of the workspace: the cost
-- of a send grew with the days of warm-up behind it and with the size of the workspace. Sent rows
-- are now found by (counterpart, sent_at) and (workspace, sent_at), the few open claims through
-- the status index as before, and what is due for a sender (an owed answer, its own next mail in
-- a thread) through partial indexes over the scheduled rows only.

CREATE INDEX warmup_messages_bot_sent_idx ON warmup_messages (bot_id, sent_at);
CREATE INDEX warmup_messages_peer_sent_idx ON warmup_messages (peer_sender_id, sent_at);
CREATE INDEX warmup_messages_workspace_sent_idx ON warmup_messages (workspace_id, sent_at);
CREATE INDEX warmup_messages_owed_idx ON warmup_messages (peer_sender_id, scheduled_at)
  WHERE status = 'scheduled' AND direction = 'back';
CREATE INDEX warmup_messages_due_idx ON warmup_messages (sender_id, scheduled_at)
  WHERE status = 'scheduled' AND direction = 'out';
