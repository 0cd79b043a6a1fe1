-- Suppression list: addresses and domains never to be mailed again. Every statement is scoped by
-- workspace_id ($1). Addresses and domains are stored lowercased by the application.

-- name: suppression.list
-- Newest first, ids below $2. $3 a lowered LIKE pattern over the address or domain ('' = all),
-- $4 a campaign id (0 = any scope), $5 rows at most.
SELECT id, campaign_id, email, domain, reason, source, created_at
FROM suppression_list
WHERE workspace_id = $1 AND id < $2
  AND ($3 = '' OR COALESCE(email, domain) LIKE $3 ESCAPE '\')
  AND ($4 = 0 OR campaign_id = $4)
ORDER BY id DESC
LIMIT $5;

-- name: suppression.get
SELECT id, campaign_id, email, domain, reason, source, created_at
FROM suppression_list WHERE workspace_id = $1 AND id = $2;

-- An address or domain is listed once per workspace. Adding it workspace-wide ($2 NULL) widens an
-- entry that was for one campaign; adding it for a campaign when it is already listed changes
-- nothing. Either way the row count says whether anything changed.
-- name: suppression.add_email
INSERT INTO suppression_list (workspace_id, campaign_id, email, domain, reason, source, created_at)
VALUES ($1, $2, $3, NULL, $4, $5, $6)
ON CONFLICT (workspace_id, email) DO UPDATE SET campaign_id = NULL
  WHERE excluded.campaign_id IS NULL AND suppression_list.campaign_id IS NOT NULL;

-- name: suppression.add_domain
INSERT INTO suppression_list (workspace_id, campaign_id, email, domain, reason, source, created_at)
VALUES ($1, $2, NULL, $3, $4, $5, $6)
ON CONFLICT (workspace_id, domain) DO UPDATE SET campaign_id = NULL
  WHERE excluded.campaign_id IS NULL AND suppression_list.campaign_id IS NOT NULL;

-- name: suppression.delete
DELETE FROM suppression_list WHERE workspace_id = $1 AND id = $2;

-- name: suppression.campaign_exists
SELECT 1 AS one FROM campaigns WHERE workspace_id = $1 AND id = $2;

-- name: suppression.export
SELECT id, campaign_id, email, domain, reason, source, created_at
FROM suppression_list WHERE workspace_id = $1 AND id > $2
ORDER BY id
LIMIT $3;
