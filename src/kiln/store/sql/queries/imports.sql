-- Lead imports (leads/importer.h): suppression loaded once per import, the job's progress.
-- Every statement is scoped by workspace_id ($1).

-- name: imports.suppression
-- Workspace-wide entries only: a campaign's own suppression applies when that campaign sends.
SELECT email, domain FROM suppression_list WHERE workspace_id = $1 AND campaign_id IS NULL;

-- name: imports.job_progress
-- The counts after a committed batch (or at the end): $3 status, $4 data rows read, $5 imported,
-- $6 existing, $7 duplicates, $8 suppressed, $9 invalid, $10 role, $11 disposable, $12 the first
-- errors (JSON), $13 bytes read, $14 now. skipped_rows keeps 0001's meaning (existing +
-- duplicates + suppressed).
UPDATE upload_jobs
SET status = $3, total_rows = $4, processed_rows = $4, imported_rows = $5, existing_rows = $6,
    duplicate_rows = $7, suppressed_rows = $8, skipped_rows = CAST($6 AS INTEGER) + CAST($7 AS INTEGER) + CAST($8 AS INTEGER), error_rows = $9,
    role_rows = $10, disposable_rows = $11, errors = $12, bytes_read = $13, updated_at = $14,
    started_at = COALESCE(started_at, $14),
    finished_at = CASE WHEN $3 IN ('completed', 'failed', 'canceled') THEN $14 ELSE NULL END
WHERE workspace_id = $1 AND id = $2 AND status IN ('pending', 'running');

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

-- name: imports.job_create
-- An uploaded file waiting for its mapping (status pending).
INSERT INTO upload_jobs (workspace_id, user_id, kind, file_name, file_path, bytes_total, encoding,
                         delimiter, status, created_at, updated_at)
VALUES ($1, $2, 'contacts_csv', $3, $4, $5, $6, $7, 'pending', $8, $8)
RETURNING id;

-- name: imports.job_get
SELECT id, user_id, list_id, file_name, options, status, total_rows, processed_rows, imported_rows,
       existing_rows, duplicate_rows, suppressed_rows, error_rows, role_rows, disposable_rows,
       errors, bytes_total, bytes_read, file_path, report_path, encoding, delimiter, created_at,
       updated_at, started_at, finished_at
FROM upload_jobs WHERE workspace_id = $1 AND id = $2 AND kind = 'contacts_csv';

-- name: imports.job_list
-- Newest first, ids below $2, $3 rows at most.
SELECT id, user_id, list_id, file_name, options, status, total_rows, processed_rows, imported_rows,
       existing_rows, duplicate_rows, suppressed_rows, error_rows, role_rows, disposable_rows,
       errors, bytes_total, bytes_read, file_path, report_path, encoding, delimiter, created_at,
       updated_at, started_at, finished_at
FROM upload_jobs WHERE workspace_id = $1 AND id < $2 AND kind = 'contacts_csv'
ORDER BY id DESC LIMIT $3;

-- name: imports.job_start
-- pending -> running with its options (mapping, list) and report file. No row: not pending.
UPDATE upload_jobs SET status = 'running', options = $3, list_id = $4, report_path = $5,
       started_at = $6, updated_at = $6
WHERE workspace_id = $1 AND id = $2 AND status = 'pending';

-- name: imports.job_cancel
UPDATE upload_jobs SET status = 'canceled', updated_at = $3, finished_at = $3
WHERE workspace_id = $1 AND id = $2 AND status IN ('pending', 'running');

-- name: imports.job_status
SELECT status FROM upload_jobs WHERE workspace_id = $1 AND id = $2;

-- name: imports.jobs_interrupted
-- Jobs a stopped process left running (every workspace): resumed at start.
SELECT id, workspace_id FROM upload_jobs
WHERE kind = 'contacts_csv' AND status = 'running' AND file_path <> '' ORDER BY id;

-- name: imports.job_claim_stale
-- Takes over a running job nobody has advanced since $4 (its runner died): one row when taken.
UPDATE upload_jobs SET updated_at = $3
WHERE workspace_id = $1 AND id = $2 AND status = 'running' AND updated_at < $4;
