-- Every custom tracking domain of a workspace in one read (GET .../tracking-domains). Scoped by
-- workspace_id ($1); '' = not set.

-- name: tracking_domains.senders
-- In the order of the sender list.
SELECT id, email, tracking_domain FROM senders WHERE workspace_id = $1 ORDER BY id;

-- name: tracking_domains.campaigns
-- Newest first, as the campaign list.
SELECT id, name, status, tracking_domain FROM campaigns WHERE workspace_id = $1 ORDER BY id DESC;
