-- A sender's test email (POST .../senders/{id}/test-email). Scoped by workspace_id ($1).

-- name: sender_test_email.suppression
-- The workspace-wide suppression entry that names the address $2 or its domain $3 (both
-- lowercase), if any: a test email is never sent to a suppressed address.
SELECT email, domain, reason FROM suppression_list
WHERE workspace_id = $1 AND campaign_id IS NULL AND (email = $2 OR domain = $3)
ORDER BY id LIMIT 1;
