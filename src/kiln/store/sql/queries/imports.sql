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
