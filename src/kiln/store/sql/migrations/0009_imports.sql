-- 0009_imports: what a lead import job needs to show live progress, account for every row, and
-- resume exactly where it stopped after a restart (leads/import_jobs.h).
--
-- upload_jobs (0001) kept one skipped_rows count; the issue asks to tell duplicates inside the file
-- from addresses already in the workspace and from suppressed ones, and to flag role addresses
-- and disposable domains. Progress is bytes_read / bytes_total (rows are unknown until the end).
-- file_path is the uploaded file on the disk of the node that received it (the job runs there);
-- the error report (every error row: row, line, column, reason) is written next to it as
-- report_path. processed_rows, with the counts, is committed in the same transaction as each
-- batch of leads, so a resumed job skips exactly the rows already done.
ALTER TABLE upload_jobs ADD COLUMN bytes_total BIGINT NOT NULL DEFAULT 0;
ALTER TABLE upload_jobs ADD COLUMN bytes_read BIGINT NOT NULL DEFAULT 0;
ALTER TABLE upload_jobs ADD COLUMN existing_rows INTEGER NOT NULL DEFAULT 0;
ALTER TABLE upload_jobs ADD COLUMN duplicate_rows INTEGER NOT NULL DEFAULT 0;
ALTER TABLE upload_jobs ADD COLUMN suppressed_rows INTEGER NOT NULL DEFAULT 0;
ALTER TABLE upload_jobs ADD COLUMN role_rows INTEGER NOT NULL DEFAULT 0;
ALTER TABLE upload_jobs ADD COLUMN disposable_rows INTEGER NOT NULL DEFAULT 0;
ALTER TABLE upload_jobs ADD COLUMN file_path TEXT NOT NULL DEFAULT '';
ALTER TABLE upload_jobs ADD COLUMN report_path TEXT NOT NULL DEFAULT '';
ALTER TABLE upload_jobs ADD COLUMN encoding TEXT NOT NULL DEFAULT '';
ALTER TABLE upload_jobs ADD COLUMN delimiter TEXT NOT NULL DEFAULT '';
