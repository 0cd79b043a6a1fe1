-- 0006_dkim_keys_ip_pools: DKIM keys per sending domain and per-campaign IP pools (issue 5 §7).
--
-- dkim_keys: one signing key of a workspace for one domain under one selector. The private key is
-- sealed with the SecretBox (AES-256-GCM, AAD "dkim_keys:<workspace_id>:<domain>:<selector>");
-- public_key is the p= value published at <selector>._domainkey.<domain>. Every key of a domain
-- signs (an RSA and an Ed25519 key give the dual signature of RFC 8463); rotating a key is adding
-- the new selector, publishing it, and deleting the old one. Domains are stored lowercase.
--
-- campaign_ip_pools: the local addresses a campaign's senders bind to when they have no source IP
-- of their own. A sender keeps one address of the pool (chosen by rendezvous hashing on the
-- sender id, domain/ip_pool.h) so that the SPF record only has to name the pool.

CREATE TABLE dkim_keys (
  id {{ID}},
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  domain TEXT NOT NULL,
  selector TEXT NOT NULL,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('rsa-sha256', 'ed25519-sha256')),
  private_key {{BLOB}} NOT NULL,
  public_key TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX dkim_keys_domain_selector_key ON dkim_keys (workspace_id, domain, selector);

CREATE TABLE campaign_ip_pools (
  campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  ip TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (campaign_id, ip)
);
