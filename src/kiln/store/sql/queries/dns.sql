-- DKIM keys, campaign IP pools and what `kiln doctor sender` reads (issue 5 §7).
-- Workspace-scoped statements take workspace_id as $1: an id of another workspace matches nothing.

-- name: dns.dkim_insert
INSERT INTO dkim_keys (workspace_id, domain, selector, algorithm, private_key, public_key,
                       created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id;

-- name: dns.dkim_list
SELECT id, domain, selector, algorithm, public_key, created_at
FROM dkim_keys WHERE workspace_id = $1 ORDER BY domain, selector, id;

-- name: dns.dkim_get
SELECT id, domain, selector, algorithm, public_key, created_at
FROM dkim_keys WHERE workspace_id = $1 AND id = $2;

-- name: dns.dkim_delete
DELETE FROM dkim_keys WHERE workspace_id = $1 AND id = $2;

-- name: dns.dkim_for_domain
SELECT id, domain, selector, algorithm, public_key, created_at
FROM dkim_keys WHERE workspace_id = $1 AND domain = $2 ORDER BY selector, id;

-- name: dns.dkim_all
-- Every key of every workspace, for the signers the queue manager loads at start-up.
SELECT id, workspace_id, domain, selector, algorithm, private_key
FROM dkim_keys ORDER BY workspace_id, domain, selector, id;

-- name: dns.campaign_exists
SELECT id FROM campaigns WHERE workspace_id = $1 AND id = $2;

-- name: dns.ip_pool_get
SELECT ip, position FROM campaign_ip_pools WHERE campaign_id = $1 ORDER BY position, ip;

-- name: dns.ip_pool_clear
DELETE FROM campaign_ip_pools WHERE campaign_id = $1;

-- name: dns.ip_pool_add
INSERT INTO campaign_ip_pools (campaign_id, ip, position) VALUES ($1, $2, $3);

-- name: dns.sender_doctor
SELECT id, workspace_id, name, email, smtp_host, smtp_port, source_ip, proxy_url
FROM senders WHERE id = $1;

-- name: dns.sender_pools
-- The IP pools of the campaigns a sender sends for, in campaign order.
SELECT p.campaign_id, p.ip, p.position
FROM campaign_senders cs JOIN campaign_ip_pools p ON p.campaign_id = cs.campaign_id
WHERE cs.sender_id = $1
ORDER BY p.campaign_id, p.position, p.ip;
