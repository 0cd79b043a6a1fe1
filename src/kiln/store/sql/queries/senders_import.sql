-- The CSV import of senders (api/senders_import.cpp). Scoped by workspace_id ($1).

-- name: senders_import.emails
SELECT id, email FROM senders WHERE workspace_id = $1;
