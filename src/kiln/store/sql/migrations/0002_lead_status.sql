-- 0002_lead_status: leads get the sales statuses of the Audience issue, and the indexes their lists
-- and filters need.
--
-- 0001 gave contacts.status the values active, unsubscribed, bounced, complained, invalid (a
-- deliverability state). Leads now carry one status that is both their place in the sales pipeline
-- and whether they may be mailed: new, contacted, replied, interested, not_interested,
-- meeting_booked, bounced, unsubscribed. Old values map as: active -> new; unsubscribed ->
-- unsubscribed; complained -> unsubscribed (a complaint is also a suppression entry, which is what
-- stops mail); bounced and invalid -> bounced (neither can receive mail).
--
-- A CHECK cannot be changed in place on SQLite, and rebuilding the table inside the migration's
-- transaction would cascade-delete every row that references a lead (foreign keys stay on). So the
-- column is replaced instead: add the new one, copy the mapped values, drop the old column (SQLite
-- 3.35+ drops a column together with its own CHECK), rename. Portable on both databases.

ALTER TABLE contacts ADD COLUMN lead_status TEXT NOT NULL DEFAULT 'new'
  CONSTRAINT contacts_lead_status_check
  CHECK (lead_status IN ('new', 'contacted', 'replied', 'interested', 'not_interested',
                         'meeting_booked', 'bounced', 'unsubscribed'));

UPDATE contacts SET lead_status = CASE status
  WHEN 'unsubscribed' THEN 'unsubscribed'
  WHEN 'complained' THEN 'unsubscribed'
  WHEN 'bounced' THEN 'bounced'
  WHEN 'invalid' THEN 'bounced'
  ELSE 'new' END;

ALTER TABLE contacts DROP COLUMN status;
ALTER TABLE contacts RENAME COLUMN lead_status TO status;

-- Newest-first keyset pages of a workspace's leads, optionally filtered by status.
CREATE INDEX contacts_workspace_id_idx ON contacts (workspace_id, id);
CREATE INDEX contacts_workspace_status_idx ON contacts (workspace_id, status, id);
-- A list's members in order, and counting them.
CREATE INDEX contact_list_items_list_idx ON contact_list_items (list_id, workspace_id, contact_id);
