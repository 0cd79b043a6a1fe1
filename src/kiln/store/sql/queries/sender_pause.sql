-- A sender paused or resumed by a person (POST .../senders/{id}/pause and .../resume). Scoped by
-- workspace_id ($1).

-- name: sender_pause.pause
-- $2 sender, $3 reason, $4 now. Any status may be paused; the reason replaces the last one.
UPDATE senders SET status = 'paused', status_reason = $3, updated_at = $4
WHERE workspace_id = $1 AND id = $2;

-- name: sender_pause.lift
-- $2 sender, $3 now. Lifts a pause (the engine's or a person's) so the verification that follows
-- decides the status; 0 rows when the sender is not paused.
UPDATE senders SET status = 'unverified', status_reason = '', updated_at = $3
WHERE workspace_id = $1 AND id = $2 AND status = 'paused';
