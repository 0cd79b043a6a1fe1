-- 0013_tracking_domains: custom tracking domains (issue 6 §2). The host of the open pixel, click
-- and unsubscribe links in a campaign's mail: the campaign's tracking_domain when set, else its
-- sender's, else the server's public_url (engine/scheduler_links.h TrackingBaseUrl). '' = not set.
-- Values are stored validated and lowercased (api/tracking.h NormalizeTrackingDomain); the domain
-- must point (CNAME or A/AAAA) at this server, which the tracking-domain check reports.

ALTER TABLE senders ADD COLUMN tracking_domain TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN tracking_domain TEXT NOT NULL DEFAULT '';
