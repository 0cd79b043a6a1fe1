-- PostgreSQL versions of the JSON-driven batch statements of imports.sql (json_each there).

-- name: imports.insert_batch
INSERT INTO contacts (workspace_id, email, first_name, last_name, company, title, timezone, phone,
                      website, custom_fields, status, created_at, updated_at)
SELECT $1, j->>'e', j->>'f', j->>'l', j->>'c', j->>'t', j->>'z', j->>'p', j->>'w', j->>'x', 'new',
       $3, $3
FROM json_array_elements(CAST($2 AS json)) AS j
ON CONFLICT DO NOTHING
RETURNING id, email;

-- name: imports.list_add_batch
INSERT INTO contact_list_items (list_id, contact_id, workspace_id, added_at)
SELECT $2, c.id, $1, $4 FROM contacts c
WHERE c.workspace_id = $1
  AND lower(c.email) IN (SELECT lower(e) FROM json_array_elements_text(CAST($3 AS json)) AS e)
ON CONFLICT DO NOTHING;
