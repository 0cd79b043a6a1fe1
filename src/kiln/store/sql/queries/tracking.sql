-- Tracking hits: open pixel, click redirect, unsubscribe. Every statement is scoped by
-- workspace_id ($1), which comes from the signed token: a token never reaches another workspace.

-- name: tracking.message
SELECT m.id, m.campaign_id, m.contact_id, m.sent_at, c.email
FROM messages m JOIN contacts c ON c.id = m.contact_id
WHERE m.workspace_id = $1 AND m.id = $2;

-- name: tracking.has_event
SELECT 1 AS one FROM events WHERE workspace_id = $1 AND message_id = $2 AND type = $3 LIMIT 1;

-- name: tracking.insert_event
INSERT INTO events (workspace_id, message_id, campaign_id, type, detail, is_machine, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: tracking.mark_opened
UPDATE messages SET opened_at = $3, updated_at = $3
WHERE workspace_id = $1 AND id = $2 AND opened_at IS NULL;

-- name: tracking.mark_clicked
UPDATE messages SET clicked_at = $3, updated_at = $3
WHERE workspace_id = $1 AND id = $2 AND clicked_at IS NULL;

-- name: tracking.unsubscribe_contact
UPDATE contacts SET status = 'unsubscribed', updated_at = $3
WHERE workspace_id = $1 AND id = $2 AND status <> 'unsubscribed';

-- An unsubscribe is workspace-wide: an entry for one campaign only is widened to all of them.
-- name: tracking.suppress_unsubscribed
INSERT INTO suppression_list (workspace_id, campaign_id, email, domain, reason, source, created_at)
VALUES ($1, NULL, $2, NULL, 'unsubscribed', $3, $4)
ON CONFLICT (workspace_id, email) DO UPDATE
  SET campaign_id = NULL, reason = 'unsubscribed', source = excluded.source
  WHERE suppression_list.campaign_id IS NOT NULL;

-- The address is suppressed workspace-wide, so every running sequence of the lead stops.
-- name: tracking.stop_enrolments
UPDATE campaign_contacts
SET status = 'unsubscribed', stop_reason = 'unsubscribed', next_at = NULL, updated_at = $3
WHERE workspace_id = $1 AND contact_id = $2 AND status IN ('pending', 'active', 'paused');

-- name: tracking.cancel_scheduled
UPDATE messages SET status = 'canceled', error = 'lead unsubscribed', updated_at = $3
WHERE workspace_id = $1 AND contact_id = $2 AND status = 'scheduled';

-- Custom tracking domains of senders and campaigns ('' = not set).
-- name: tracking.sender_domain
SELECT tracking_domain FROM senders WHERE workspace_id = $1 AND id = $2;

-- name: tracking.set_sender_domain
UPDATE senders SET tracking_domain = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2;

-- name: tracking.campaign_domain
SELECT tracking_domain FROM campaigns WHERE workspace_id = $1 AND id = $2;

-- name: tracking.set_campaign_domain
UPDATE campaigns SET tracking_domain = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2;
