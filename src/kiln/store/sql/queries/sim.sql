-- Simulation (engine/simulation.h, `kiln simulate`): what a simulated run does to its own fresh
-- database besides the API's statements: senders left as a passed connection check leaves them,
-- replies recorded as the inbox watcher records them, and the facts the rule checks read back.

-- name: sim.sender_ready
-- Sender $1 passed its check (status active) and keeps its quota day in zone $2; $3 now; its
-- health score is $4 (as the reputation job would have computed it).
UPDATE senders SET status = 'active', status_reason = '', timezone = $2, updated_at = $3,
       health_score = $4
WHERE id = $1;

-- name: sim.reply_message
-- The lead answered our message with Message-ID header $1 at $2 (the first reply counts).
UPDATE messages SET replied_at = $2, updated_at = $2
WHERE message_id_header = $1 AND replied_at IS NULL
RETURNING id, workspace_id, campaign_id, contact_id;

-- name: sim.reply_event
-- $1 workspace, $2 message, $3 campaign, $4 when.
INSERT INTO events (workspace_id, message_id, campaign_id, type, detail, created_at)
VALUES ($1, $2, $3, 'replied', '{}', $4);

-- name: sim.reply_lead
-- Stops the lead's sequence in campaign $1: contact $2 replied at $3.
UPDATE campaign_contacts SET status = 'replied', stop_reason = 'replied', updated_at = $3
WHERE campaign_id = $1 AND contact_id = $2 AND status IN ('pending', 'active');

-- name: sim.reply_contact
-- The lead's pipeline status moves to replied (unless it went further already).
UPDATE contacts SET status = 'replied', updated_at = $2
WHERE id = $1 AND status IN ('new', 'contacted');

-- name: sim.next_due
-- The next instant after $2 at which a lead of campaign $1 becomes due (NULL: none).
SELECT MIN(next_at) AS next_at FROM campaign_contacts
WHERE campaign_id = $1 AND status IN ('pending', 'active') AND next_at > $2;

-- name: sim.messages
-- Every message of campaign $1 with its step's position.
SELECT m.id, m.contact_id, m.sender_id, m.status, m.sent_at, m.message_id_header,
       st.position
FROM messages m JOIN campaign_steps st ON st.id = m.step_id
WHERE m.campaign_id = $1
ORDER BY m.id;

-- name: sim.lead_statuses
SELECT status, COUNT(*) AS n FROM campaign_contacts WHERE campaign_id = $1
GROUP BY status ORDER BY status;

-- name: sim.campaign_state
SELECT status, paused_reason FROM campaigns WHERE id = $1;

-- name: sim.sender_states
-- The pool's senders by status and reason at the end of the run (workspace $1).
SELECT status, status_reason, COUNT(*) AS n FROM senders WHERE workspace_id = $1
GROUP BY status, status_reason ORDER BY status, status_reason;

-- name: sim.warmup_sent
-- Warm-up mail of workspace $1 recorded sent, by sender and counterpart (bot or peer sender).
SELECT sender_id, bot_id, peer_sender_id, COUNT(*) AS n FROM warmup_messages
WHERE workspace_id = $1 AND status = 'sent' AND direction = 'out'
GROUP BY sender_id, bot_id, peer_sender_id ORDER BY sender_id, bot_id, peer_sender_id;

-- name: sim.leads_due_before
-- Leads of campaign $1 still in their sequence whose next step was due before $2.
SELECT COUNT(*) AS n FROM campaign_contacts
WHERE campaign_id = $1 AND status IN ('pending', 'active') AND next_at < $2;
