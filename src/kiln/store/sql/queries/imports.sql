-- Lead imports (leads/importer.h): suppression loaded once per import, the job's progress.
-- Every statement is scoped by workspace_id ($1).

-- name: imports.suppression
-- Workspace-wide entries only: a campaign's own suppression applies when that campaign sends.
SELECT email, domain FROM suppression_list WHERE workspace_id = $1 AND campaign_id IS NULL;

-- name: imports.job_progress
UPDATE upload_jobs
SET status = $3, total_rows = $4, processed_rows = $4, imported_rows = $5, skipped_rows = $6,
    error_rows = $7, errors = $8, updated_at = $9,
    started_at = COALESCE(started_at, $9),
    finished_at = CASE WHEN $3 IN ('completed', 'failed', 'canceled') THEN $9 ELSE NULL END
WHERE workspace_id = $1 AND id = $2;

-- name: imports.job_fail
UPDATE upload_jobs SET status = 'failed', errors = $3, updated_at = $4, finished_at = $4
WHERE workspace_id = $1 AND id = $2 AND status IN ('pending', 'running');

-- name: imports.insert_batch
-- $2: a JSON array of leads {"e": email, "f": first name, "l": last name, "c": company,
-- "t": title, "z": time zone, "p": phone, "w": website, "x": custom fields (a JSON object as
-- text)}. Addresses already leads of the workspace (case-insensitive, including repeats inside
-- the array) are left alone; the rows inserted come back.
INSERT INTO contacts (workspace_id, email, first_name, last_name, company, title, timezone, phone,
                      website, custom_fields, status, created_at, updated_at)
SELECT $1, json_extract(j.value, '$.e'), json_extract(j.value, '$.f'),
       json_extract(j.value, '$.l'), json_extract(j.value, '$.c'), json_extract(j.value, '$.t'),
       json_extract(j.value, '$.z'), json_extract(j.value, '$.p'), json_extract(j.value, '$.w'),
       json_extract(j.value, '$.x'), 'new', $3, $3
FROM json_each($2) AS j WHERE true
ON CONFLICT DO NOTHING
RETURNING id, email;

-- name: imports.list_add_batch
-- Adds the leads whose addresses are in $3 (a JSON array of strings) to list $2.
INSERT INTO contact_list_items (list_id, contact_id, workspace_id, added_at)
SELECT $2, c.id, $1, $4 FROM contacts c
WHERE c.workspace_id = $1 AND lower(c.email) IN (SELECT lower(j.value) FROM json_each($3) AS j)
ON CONFLICT DO NOTHING;
