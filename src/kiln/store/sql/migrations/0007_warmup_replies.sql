-- 0007_warmup_replies: what the receiving side of warm-up (src/kiln/warmup/bot_runner.h) needs to
-- schedule replies.
--
-- A reply quotes the mail it answers, and only the mailbox that received that mail has its text.
-- So the receiving side composes the reply when it decides to answer and stores its bodies here
-- with the row (status 'scheduled'); whoever sends the row later (a bot's BotReplySender, or the
-- queue manager for a sender's or a peer's reply) sends these bodies as they are. Rows written by
-- the sending side for a new thread may leave them empty (it composes at send time).
--
-- A message is answered at most once: the unique index on parent_id makes a second scheduled
-- reply to the same mail (two workers, a crash between the IMAP action and its record) fail
-- instead of doubling the thread. NULLs (the first mail of each thread) do not collide.

ALTER TABLE warmup_messages ADD COLUMN text_body TEXT NOT NULL DEFAULT '';
ALTER TABLE warmup_messages ADD COLUMN html_body TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX warmup_messages_parent_key ON warmup_messages (parent_id);
