-- Inbox watcher (engine/inbox_watcher.h): which mailboxes to poll, the per-sender lease, the scan
-- position per folder, matching incoming mail to what Kiln sent, and recording its effects.
-- Every effect on a lead is guarded by the state it expects, so recording twice changes nothing.

-- name: inbox.senders_due
-- Senders with an IMAP mailbox whose poll is due and not leased by another worker: $1 now,
-- $2 this worker, $3 at most this many.
SELECT s.id, s.workspace_id, s.email, s.imap_host, s.imap_port, s.imap_security, s.imap_username,
       s.imap_secret, s.oauth_provider, s.oauth_secret, s.allow_self_signed, s.status, s.status_reason,
       s.created_at
FROM senders s LEFT JOIN inbox_watch w ON w.sender_id = s.id
WHERE s.status IN ('active', 'paused') AND s.imap_host <> ''
  AND (w.sender_id IS NULL
       OR (w.next_poll_at <= $1
           AND (w.lease_owner IS NULL OR w.lease_owner = $2 OR w.lease_until < $1)))
ORDER BY COALESCE(w.next_poll_at, 0), s.id
LIMIT $3;

-- name: inbox.watch_ensure
INSERT INTO inbox_watch (sender_id, workspace_id, next_poll_at, updated_at)
VALUES ($1, $2, 0, $3)
ON CONFLICT (sender_id) DO NOTHING;

-- name: inbox.watch_claim
-- Takes the sender's mailbox for this poll: $2 worker, $3 lease_until, $4 now. 1 row: ours.
UPDATE inbox_watch SET lease_owner = $2, lease_until = $3, updated_at = $4
WHERE sender_id = $1 AND next_poll_at <= $4
  AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < $4);

-- name: inbox.watch_renew
UPDATE inbox_watch SET lease_until = $3 WHERE sender_id = $1 AND lease_owner = $2;

-- name: inbox.watch_done
-- $2 worker, $3 now, $4 next poll, $5 the poll's problem ('' when none).
UPDATE inbox_watch
SET lease_owner = NULL, lease_until = NULL, next_poll_at = $4, last_polled_at = $3,
    last_error = $5, updated_at = $3
WHERE sender_id = $1 AND lease_owner = $2;

-- name: inbox.watch_release_all
UPDATE inbox_watch SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1;

-- name: inbox.watch_get
SELECT sender_id, lease_owner, lease_until, next_poll_at, last_polled_at, last_error
FROM inbox_watch WHERE sender_id = $1;

-- name: inbox.sender_set_reason
UPDATE senders SET status_reason = $2, updated_at = $3 WHERE id = $1 AND status_reason <> $2;

-- name: inbox.sender_clear_reason
-- Clears a reason this watcher set (it starts with $2), once the mailbox works again.
UPDATE senders SET status_reason = '', updated_at = $3
WHERE id = $1 AND substr(status_reason, 1, length($2)) = $2;

-- name: inbox.scan_state_get
SELECT uidvalidity, last_uid FROM mailbox_scan_state
WHERE owner_kind = 'sender' AND owner_id = $1 AND purpose = 'replies' AND folder = $2;

-- name: inbox.scan_state_put
-- Never moves backwards within one UIDVALIDITY (a slower racing worker keeps the newer position).
INSERT INTO mailbox_scan_state (owner_kind, owner_id, purpose, folder, uidvalidity, last_uid,
                                updated_at)
VALUES ('sender', $1, 'replies', $2, $3, $4, $5)
ON CONFLICT (owner_kind, owner_id, purpose, folder) DO UPDATE
  SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,
      updated_at = excluded.updated_at
  WHERE mailbox_scan_state.uidvalidity <> excluded.uidvalidity
     OR mailbox_scan_state.last_uid < excluded.last_uid;

-- name: inbox.inbound_claim
-- The exactly-once gate: 1 row when this message is new to the workspace, 0 when already handled.
INSERT INTO inbound_messages (workspace_id, sender_id, message_key, folder, imap_uid, kind,
                              outcome, message_id, conversation_id, error, received_at,
                              created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL, $8, $9, $10)
ON CONFLICT (workspace_id, message_key) DO NOTHING;

-- name: inbox.inbound_link
UPDATE inbound_messages SET message_id = $3, conversation_id = $4
WHERE workspace_id = $1 AND message_key = $2;

-- name: inbox.inbound_get
SELECT id, sender_id, message_key, folder, imap_uid, kind, outcome, message_id, conversation_id,
       error, received_at, created_at
FROM inbound_messages WHERE workspace_id = $1 AND message_key = $2;

-- name: inbox.our_message_by_header
-- One of our messages by its Message-ID header ("<...>"), in the workspace.
SELECT m.id, m.campaign_id, m.contact_id, m.sender_id, m.message_id_header, m.thread_root_header,
       m.subject, m.status, m.sent_at, c.email AS contact_email
FROM messages m JOIN contacts c ON c.id = m.contact_id
WHERE m.workspace_id = $1 AND m.message_id_header = $2;

-- name: inbox.our_message_by_root
-- The latest of our messages whose thread starts at $2.
SELECT m.id, m.campaign_id, m.contact_id, m.sender_id, m.message_id_header, m.thread_root_header,
       m.subject, m.status, m.sent_at, c.email AS contact_email
FROM messages m JOIN contacts c ON c.id = m.contact_id
WHERE m.workspace_id = $1 AND m.thread_root_header = $2 AND m.sent_at IS NOT NULL
ORDER BY m.sent_at DESC, m.id DESC
LIMIT 1;

-- name: inbox.our_messages_to
-- Our messages sent from sender $2 to the address $3 (lower-cased), newest first, sent at or
-- before $4: the correspondent fallbacks (subject match, From = a lead, a bounce's recipient).
SELECT m.id, m.campaign_id, m.contact_id, m.sender_id, m.message_id_header, m.thread_root_header,
       m.subject, m.status, m.sent_at, c.email AS contact_email
FROM messages m JOIN contacts c ON c.id = m.contact_id
WHERE m.workspace_id = $1 AND m.sender_id = $2 AND lower(c.email) = $3
  AND m.sent_at IS NOT NULL AND m.sent_at <= $4 AND m.message_id_header IS NOT NULL
ORDER BY m.sent_at DESC, m.id DESC
LIMIT 20;

-- name: inbox.contact_by_email
SELECT id, email, status FROM contacts WHERE workspace_id = $1 AND lower(email) = $2;

-- name: inbox.campaign_flags
SELECT stop_on_reply, stop_on_auto_reply FROM campaigns WHERE id = $1;

-- name: inbox.conversation_upsert
-- One thread per root Message-ID: a new message reopens it as unread and moves it up the list.
INSERT INTO conversations (workspace_id, sender_id, contact_id, campaign_id, thread_root_header,
                           subject, status, is_read, last_message_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'open', 0, $7, $8, $8)
ON CONFLICT (workspace_id, thread_root_header) DO UPDATE
  SET is_read = 0,
      last_message_at = CASE WHEN excluded.last_message_at > conversations.last_message_at
                             THEN excluded.last_message_at ELSE conversations.last_message_at END,
      updated_at = excluded.updated_at
RETURNING id;

-- name: inbox.conversation_message_insert
INSERT INTO conversation_messages (workspace_id, conversation_id, direction, message_id_header,
                                   from_address, to_address, subject, body_text, body_html,
                                   classification, imap_uid, folder, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
RETURNING id;

-- name: inbox.message_mark_replied
UPDATE messages SET replied_at = $3, updated_at = $3
WHERE workspace_id = $1 AND id = $2 AND replied_at IS NULL;

-- name: inbox.message_mark_bounced
UPDATE messages SET status = 'bounced', bounced_at = $3, smtp_enhanced_code = $4, error = $5,
                    updated_at = $3
WHERE workspace_id = $1 AND id = $2 AND status IN ('sent', 'unknown');

-- name: inbox.insert_event
INSERT INTO events (workspace_id, message_id, campaign_id, type, detail, is_machine, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: inbox.contact_mark_replied
-- A lead who answers moves to 'replied' unless a person already placed them further along.
UPDATE contacts SET status = 'replied', updated_at = $3
WHERE workspace_id = $1 AND id = $2 AND status IN ('new', 'contacted');

-- name: inbox.contact_set_status
-- Bounced / unsubscribed: the lead can no longer be mailed, whatever their pipeline status.
UPDATE contacts SET status = $3, updated_at = $4
WHERE workspace_id = $1 AND id = $2 AND status <> $3;

-- name: inbox.stop_enrolment
-- Stops the lead's sequence in one campaign: $3 contact, $4 status, $5 reason, $6 now.
UPDATE campaign_contacts SET status = $4, stop_reason = $5, next_at = NULL, updated_at = $6
WHERE workspace_id = $1 AND campaign_id = $2 AND contact_id = $3
  AND status IN ('pending', 'active', 'paused');

-- name: inbox.stop_all_enrolments
-- The address cannot (or must not) be mailed again: every running sequence of the lead stops.
UPDATE campaign_contacts SET status = $3, stop_reason = $4, next_at = NULL, updated_at = $5
WHERE workspace_id = $1 AND contact_id = $2 AND status IN ('pending', 'active', 'paused');

-- name: inbox.cancel_campaign_messages
UPDATE messages SET status = 'canceled', error = $4, updated_at = $5
WHERE workspace_id = $1 AND campaign_id = $2 AND contact_id = $3
  AND status IN ('scheduled', 'retry');

-- name: inbox.cancel_contact_messages
UPDATE messages SET status = 'canceled', error = $3, updated_at = $4
WHERE workspace_id = $1 AND contact_id = $2 AND status IN ('scheduled', 'retry');

-- name: inbox.suppress
-- Hard bounces and complaints are workspace-wide ($3 'bounced' or 'complained'): an entry for one
-- campaign is widened to all of them; a workspace-wide entry stays as it was.
INSERT INTO suppression_list (workspace_id, campaign_id, email, domain, reason, source, created_at)
VALUES ($1, NULL, $2, NULL, $3, $4, $5)
ON CONFLICT (workspace_id, email) DO UPDATE
  SET campaign_id = NULL, reason = excluded.reason, source = excluded.source
  WHERE suppression_list.campaign_id IS NOT NULL;

-- Unified inbox API (api/inbox.cpp). Every statement is scoped by workspace_id ($1).

-- name: inbox.conversation_list
-- Newest first, ids below $2. $3 a lowered LIKE pattern over the subject and the lead's address
-- ('' = all), $4 status ('' = any), $5 is_read (-1 = any), $6 campaign (0 = any), $7 sender
-- (0 = any), $8 rows at most.
SELECT cv.id, cv.sender_id, s.email AS sender_email, cv.contact_id, c.email AS contact_email,
       c.first_name, c.last_name, c.status AS lead_status, cv.campaign_id,
       cp.name AS campaign_name, cv.thread_root_header, cv.subject, cv.status, cv.is_read,
       cv.last_message_at, cv.created_at, cv.updated_at
FROM conversations cv
LEFT JOIN senders s ON s.id = cv.sender_id
LEFT JOIN contacts c ON c.id = cv.contact_id
LEFT JOIN campaigns cp ON cp.id = cv.campaign_id
WHERE cv.workspace_id = $1 AND cv.id < $2
  AND ($3 = '' OR lower(cv.subject) LIKE $3 ESCAPE '\' OR lower(c.email) LIKE $3 ESCAPE '\')
  AND ($4 = '' OR cv.status = $4)
  AND ($5 = -1 OR cv.is_read = $5)
  AND ($6 = 0 OR cv.campaign_id = $6)
  AND ($7 = 0 OR cv.sender_id = $7)
ORDER BY cv.id DESC
LIMIT $8;

-- name: inbox.conversation_get
SELECT cv.id, cv.sender_id, s.email AS sender_email, cv.contact_id, c.email AS contact_email,
       c.first_name, c.last_name, c.status AS lead_status, cv.campaign_id,
       cp.name AS campaign_name, cv.thread_root_header, cv.subject, cv.status, cv.is_read,
       cv.last_message_at, cv.created_at, cv.updated_at
FROM conversations cv
LEFT JOIN senders s ON s.id = cv.sender_id
LEFT JOIN contacts c ON c.id = cv.contact_id
LEFT JOIN campaigns cp ON cp.id = cv.campaign_id
WHERE cv.workspace_id = $1 AND cv.id = $2;

-- name: inbox.conversation_messages
SELECT id, direction, message_id_header, from_address, to_address, subject, body_text, body_html,
       classification, folder, created_at
FROM conversation_messages WHERE workspace_id = $1 AND conversation_id = $2
ORDER BY created_at, id;

-- name: inbox.thread_cold_messages
-- The campaign mail Kiln sent to the lead in this thread ($3 the root Message-ID header).
SELECT m.id, m.message_id_header, m.subject, m.status, m.sent_at, s.email AS sender_email,
       c.email AS contact_email
FROM messages m
JOIN contacts c ON c.id = m.contact_id
LEFT JOIN senders s ON s.id = m.sender_id
WHERE m.workspace_id = $1 AND m.contact_id = $2 AND m.sent_at IS NOT NULL
  AND (m.message_id_header = $3 OR m.thread_root_header = $3)
ORDER BY m.sent_at, m.id;

-- name: inbox.conversation_set_read
UPDATE conversations SET is_read = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2;

-- name: inbox.conversation_set_status
UPDATE conversations SET status = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2;

-- name: inbox.contact_set_lead_status
UPDATE contacts SET status = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2;

-- name: inbox.reply_sender
SELECT id, email, from_name, smtp_host, smtp_port, smtp_security, smtp_username, smtp_secret,
       imap_host, imap_port, imap_security, imap_username, imap_secret, allow_self_signed, status
FROM senders WHERE workspace_id = $1 AND id = $2;

-- name: inbox.conversation_replied
UPDATE conversations
SET is_read = 1, updated_at = $3,
    last_message_at = CASE WHEN $3 > last_message_at THEN $3 ELSE last_message_at END
WHERE workspace_id = $1 AND id = $2;
