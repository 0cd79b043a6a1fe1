-- A lead's activity timeline: every event of the messages sent to one lead, across campaigns.
-- Scoped by workspace_id ($1): a lead of another workspace matches nothing.

-- name: lead_events.list
-- Newest first (by event id), ids below $3, $4 rows at most. The plan starts from the lead's
-- messages (messages_contact_idx) and reaches their events through events_message_idx, so it
-- reads only this lead's rows; the sort is over those. step is the step's position (0 = first);
-- variant_label is NULL when the variant was deleted since.
SELECT e.id, e.type, e.created_at, m.campaign_id, ca.name AS campaign_name,
       cs.position AS step_position, v.label AS variant_label, e.message_id, e.is_machine,
       e.detail
FROM messages m
JOIN events e ON e.message_id = m.id
JOIN campaigns ca ON ca.id = m.campaign_id
LEFT JOIN campaign_steps cs ON cs.id = m.step_id
LEFT JOIN step_variants v ON v.id = m.variant_id
WHERE m.workspace_id = $1 AND m.contact_id = $2 AND e.id < $3
ORDER BY e.id DESC
LIMIT $4;
