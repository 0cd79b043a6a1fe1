-- Leads (contacts) and lead lists. Every statement is scoped by workspace_id ($1): an id of another
-- workspace matches nothing.
--
-- "suppressed" is true when a workspace-wide suppression entry (campaign_id NULL) names the lead's
-- address or its domain. Suppression entries are stored lowercased.

-- name: contacts.insert
-- No row back when the address is already a lead of the workspace (case-insensitive unique index).
INSERT INTO contacts (workspace_id, email, first_name, last_name, company, title, timezone, phone,
                      website, custom_fields, status, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
ON CONFLICT DO NOTHING
RETURNING id;

-- name: contacts.id_by_email
SELECT id FROM contacts WHERE workspace_id = $1 AND lower(email) = lower($2);

-- name: contacts.exists
SELECT id FROM contacts WHERE workspace_id = $1 AND id = $2;

-- name: contacts.get
SELECT c.id, c.email, c.first_name, c.last_name, c.company, c.title, c.timezone, c.phone,
       c.website, c.custom_fields, c.status, c.created_at, c.updated_at,
       CASE WHEN EXISTS (SELECT 1 FROM suppression_list s
                         WHERE s.workspace_id = c.workspace_id AND s.campaign_id IS NULL
                           AND s.email = lower(c.email))
              OR EXISTS (SELECT 1 FROM suppression_list s
                         WHERE s.workspace_id = c.workspace_id AND s.campaign_id IS NULL
                           AND s.domain IS NOT NULL
                           AND substr(lower(c.email), length(c.email) - length(s.domain)) = '@' || s.domain)
            THEN 1 ELSE 0 END AS suppressed
FROM contacts c WHERE c.workspace_id = $1 AND c.id = $2;

-- name: contacts.list
-- Newest first, ids below $2. Filters: $3 status ('' = any), $4 list id (0 = any), $5 a lowered
-- LIKE pattern over email, first/last/full name and company ('' = no search). $6 rows at most.
SELECT c.id, c.email, c.first_name, c.last_name, c.company, c.title, c.timezone, c.phone,
       c.website, c.custom_fields, c.status, c.created_at, c.updated_at,
       CASE WHEN EXISTS (SELECT 1 FROM suppression_list s
                         WHERE s.workspace_id = c.workspace_id AND s.campaign_id IS NULL
                           AND s.email = lower(c.email))
              OR EXISTS (SELECT 1 FROM suppression_list s
                         WHERE s.workspace_id = c.workspace_id AND s.campaign_id IS NULL
                           AND s.domain IS NOT NULL
                           AND substr(lower(c.email), length(c.email) - length(s.domain)) = '@' || s.domain)
            THEN 1 ELSE 0 END AS suppressed
FROM contacts c
WHERE c.workspace_id = $1 AND c.id < $2
  AND ($3 = '' OR c.status = $3)
  AND ($4 = CAST(0 AS BIGINT)
       OR EXISTS (SELECT 1 FROM contact_list_items i
                  WHERE i.list_id = $4 AND i.workspace_id = $1 AND i.contact_id = c.id))
  AND ($5 = ''
       OR lower(c.email) LIKE $5 ESCAPE '\'
       OR lower(c.first_name) LIKE $5 ESCAPE '\'
       OR lower(c.last_name) LIKE $5 ESCAPE '\'
       OR lower(c.first_name || ' ' || c.last_name) LIKE $5 ESCAPE '\'
       OR lower(c.company) LIKE $5 ESCAPE '\')
ORDER BY c.id DESC
LIMIT $6;

-- name: contacts.update
UPDATE contacts SET email = $3, first_name = $4, last_name = $5, company = $6, title = $7,
       timezone = $8, phone = $9, website = $10, custom_fields = $11, status = $12, updated_at = $13
WHERE workspace_id = $1 AND id = $2;

-- name: contacts.delete
DELETE FROM contacts WHERE workspace_id = $1 AND id = $2;

-- name: contacts.list_ids
SELECT list_id FROM contact_list_items WHERE workspace_id = $1 AND contact_id = $2 ORDER BY list_id;

-- name: lists.insert
INSERT INTO contact_lists (workspace_id, name, description, created_at, updated_at)
VALUES ($1, $2, $3, $4, $4)
RETURNING id;

-- name: lists.get
SELECT l.id, l.name, l.description, l.created_at, l.updated_at,
       (SELECT COUNT(*) FROM contact_list_items i
        WHERE i.list_id = l.id AND i.workspace_id = l.workspace_id) AS contact_count
FROM contact_lists l WHERE l.workspace_id = $1 AND l.id = $2;

-- name: lists.list
SELECT l.id, l.name, l.description, l.created_at, l.updated_at,
       (SELECT COUNT(*) FROM contact_list_items i
        WHERE i.list_id = l.id AND i.workspace_id = l.workspace_id) AS contact_count
FROM contact_lists l WHERE l.workspace_id = $1
ORDER BY l.id;

-- name: lists.exists
SELECT id FROM contact_lists WHERE workspace_id = $1 AND id = $2;

-- name: lists.update
UPDATE contact_lists SET name = $3, description = $4, updated_at = $5
WHERE workspace_id = $1 AND id = $2;

-- name: lists.delete
DELETE FROM contact_lists WHERE workspace_id = $1 AND id = $2;

-- name: lists.add_contact
-- One row changed when the lead (of this workspace) was added; none when it is already a member or
-- is not a lead of this workspace.
INSERT INTO contact_list_items (list_id, contact_id, workspace_id, added_at)
SELECT CAST($2 AS BIGINT), c.id, CAST($1 AS BIGINT), CAST($4 AS BIGINT) FROM contacts c WHERE c.workspace_id = $1 AND c.id = $3
ON CONFLICT DO NOTHING;

-- name: lists.is_member
SELECT contact_id FROM contact_list_items WHERE workspace_id = $1 AND list_id = $2 AND contact_id = $3;

-- name: lists.remove_contact
DELETE FROM contact_list_items WHERE workspace_id = $1 AND list_id = $2 AND contact_id = $3;
