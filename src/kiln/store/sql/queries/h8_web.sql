-- Sender checks run from the API (POST .../senders/{id}/verify). Scoped by workspace_id ($1).

-- name: senders.set_checked_status
-- $2 sender, $3 status ('active' or 'failed'), $4 reason ('' when active), $5 now. A paused
-- sender stays paused: a check does not undo a pause (the engine's or a person's).
UPDATE senders SET status = CASE WHEN status = 'paused' THEN status ELSE $3 END,
       status_reason = CASE WHEN status = 'paused' THEN status_reason ELSE $4 END,
       updated_at = $5
WHERE workspace_id = $1 AND id = $2;
