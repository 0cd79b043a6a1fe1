-- 0019_warmup_bodies: a warm-up mail's bodies live beside its row, not in it (decision 0012,
-- bench/warmup).
--
-- warmup_messages is the hot table of warm-up: every pick locks and counts through it, every mail
-- is claimed and settled in it. With its two bodies a row was about 1 KB, so at 10k senders the
-- table held 7 GB after a month and every look-up of a row read a page that held three or four
-- of them. The bodies are written once (when the mail is composed, or when the receiving side
-- schedules an answer) and read only to send the mail and to quote it in its answer: they now
-- sit in warmup_bodies, one row per message that has any, and the hot rows are about 150 bytes.
-- Queries join them where they are read (queries/warmup.sql, queries/botrun.sql).

CREATE TABLE warmup_bodies (
  message_id BIGINT PRIMARY KEY REFERENCES warmup_messages (id) ON DELETE CASCADE,
  text_body TEXT NOT NULL DEFAULT '',
  html_body TEXT NOT NULL DEFAULT ''
);
INSERT INTO warmup_bodies (message_id, text_body, html_body)
SELECT id, text_body, html_body FROM warmup_messages WHERE text_body <> '' OR html_body <> '';
ALTER TABLE warmup_messages DROP COLUMN text_body;
ALTER TABLE warmup_messages DROP COLUMN html_body;
