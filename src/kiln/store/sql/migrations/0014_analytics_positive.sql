-- 0014_analytics_positive: positive replies rolled up (issue 6 §4; analytics/stats.h and
-- docs/decisions/0008-analytics-rollups.md). The PostgreSQL version is
-- 0014_analytics_positive.postgres.sql: same table, same rule, triggers written in PL/pgSQL.
--
-- analytics_positive holds, per (campaign, step, variant, sender, UTC day of the reply), the number
-- of replied messages whose lead is positive now. A message counts 1 exactly while
--   messages.replied_at IS NOT NULL AND its contact's status IN ('interested', 'meeting_booked'),
-- under (campaign_id, step_id, COALESCE(variant_id, 0), COALESCE(sender_id, 0),
-- replied_at / 86400000). Triggers keep that true in the transaction of every change that can
-- alter it: a lead's status flipping between positive and not (all its replied messages move in
-- or out), a message inserted, updated in one of the key's columns or replied_at (including
-- ON DELETE SET NULL of its variant or sender), or deleted, and a positive lead deleted (its
-- messages cascade after the lead is gone, so a BEFORE DELETE trigger takes them out first).
-- Decrements only ever UPDATE rows (the row exists: its count was added earlier); increments
-- insert only while the campaign and its workspace exist, so the cascades of a deleted campaign or
-- workspace never write a row that references them.

CREATE TABLE analytics_positive (
  workspace_id BIGINT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  step_id BIGINT NOT NULL,
  variant_id BIGINT NOT NULL,
  sender_id BIGINT NOT NULL,
  day BIGINT NOT NULL,
  positive BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (campaign_id, step_id, variant_id, sender_id, day)
);
CREATE INDEX analytics_positive_workspace_idx ON analytics_positive (workspace_id, day);

INSERT INTO analytics_positive (workspace_id, campaign_id, step_id, variant_id, sender_id, day,
                                positive)
SELECT m.workspace_id, m.campaign_id, m.step_id, COALESCE(m.variant_id, 0),
       COALESCE(m.sender_id, 0), m.replied_at / 86400000, COUNT(*)
FROM messages m JOIN contacts c ON c.id = m.contact_id
WHERE m.replied_at IS NOT NULL AND c.status IN ('interested', 'meeting_booked')
GROUP BY m.workspace_id, m.campaign_id, m.step_id, COALESCE(m.variant_id, 0),
         COALESCE(m.sender_id, 0), m.replied_at / 86400000;

-- A lead becomes positive: its replied messages count.
CREATE TRIGGER analytics_positive_lead_in AFTER UPDATE OF status ON contacts
WHEN NEW.status IN ('interested', 'meeting_booked')
  AND OLD.status NOT IN ('interested', 'meeting_booked')
BEGIN
  INSERT INTO analytics_positive (workspace_id, campaign_id, step_id, variant_id, sender_id, day,
                                  positive)
  SELECT m.workspace_id, m.campaign_id, m.step_id, COALESCE(m.variant_id, 0),
         COALESCE(m.sender_id, 0), m.replied_at / 86400000, COUNT(*)
  FROM messages m
  WHERE m.contact_id = NEW.id AND m.replied_at IS NOT NULL
  GROUP BY m.workspace_id, m.campaign_id, m.step_id, COALESCE(m.variant_id, 0),
           COALESCE(m.sender_id, 0), m.replied_at / 86400000
  ON CONFLICT (campaign_id, step_id, variant_id, sender_id, day) DO UPDATE SET
    positive = analytics_positive.positive + excluded.positive;
END;

-- A lead stops being positive: its replied messages no longer count.
CREATE TRIGGER analytics_positive_lead_out AFTER UPDATE OF status ON contacts
WHEN OLD.status IN ('interested', 'meeting_booked')
  AND NEW.status NOT IN ('interested', 'meeting_booked')
BEGIN
  UPDATE analytics_positive SET positive = positive -
    (SELECT COUNT(*) FROM messages m
     WHERE m.contact_id = OLD.id AND m.replied_at IS NOT NULL
       AND m.campaign_id = analytics_positive.campaign_id
       AND m.step_id = analytics_positive.step_id
       AND COALESCE(m.variant_id, 0) = analytics_positive.variant_id
       AND COALESCE(m.sender_id, 0) = analytics_positive.sender_id
       AND m.replied_at / 86400000 = analytics_positive.day)
  WHERE (campaign_id, step_id, variant_id, sender_id, day) IN
    (SELECT m.campaign_id, m.step_id, COALESCE(m.variant_id, 0), COALESCE(m.sender_id, 0),
            m.replied_at / 86400000
     FROM messages m WHERE m.contact_id = OLD.id AND m.replied_at IS NOT NULL);
END;

-- A positive lead is deleted: take its messages out while they and the lead are still there.
CREATE TRIGGER analytics_positive_lead_deleted BEFORE DELETE ON contacts
WHEN OLD.status IN ('interested', 'meeting_booked')
BEGIN
  UPDATE analytics_positive SET positive = positive -
    (SELECT COUNT(*) FROM messages m
     WHERE m.contact_id = OLD.id AND m.replied_at IS NOT NULL
       AND m.campaign_id = analytics_positive.campaign_id
       AND m.step_id = analytics_positive.step_id
       AND COALESCE(m.variant_id, 0) = analytics_positive.variant_id
       AND COALESCE(m.sender_id, 0) = analytics_positive.sender_id
       AND m.replied_at / 86400000 = analytics_positive.day)
  WHERE (campaign_id, step_id, variant_id, sender_id, day) IN
    (SELECT m.campaign_id, m.step_id, COALESCE(m.variant_id, 0), COALESCE(m.sender_id, 0),
            m.replied_at / 86400000
     FROM messages m WHERE m.contact_id = OLD.id AND m.replied_at IS NOT NULL);
END;

-- A message is inserted replied (imports, tests): it counts when its lead is positive.
CREATE TRIGGER analytics_positive_message_inserted AFTER INSERT ON messages
WHEN NEW.replied_at IS NOT NULL
BEGIN
  INSERT INTO analytics_positive (workspace_id, campaign_id, step_id, variant_id, sender_id, day,
                                  positive)
  SELECT NEW.workspace_id, NEW.campaign_id, NEW.step_id, COALESCE(NEW.variant_id, 0),
         COALESCE(NEW.sender_id, 0), NEW.replied_at / 86400000, 1
  FROM contacts c
  WHERE c.id = NEW.contact_id AND c.status IN ('interested', 'meeting_booked')
    AND EXISTS (SELECT 1 FROM campaigns k JOIN workspaces w ON w.id = k.workspace_id
                WHERE k.id = NEW.campaign_id)
  ON CONFLICT (campaign_id, step_id, variant_id, sender_id, day) DO UPDATE SET
    positive = analytics_positive.positive + 1;
END;

-- A message changes its reply time or a column of its key (a reply arriving after the lead was
-- made positive; a variant or sender deleted): out of the old cell, into the new one.
CREATE TRIGGER analytics_positive_message_updated
AFTER UPDATE OF replied_at, contact_id, campaign_id, workspace_id, step_id, variant_id, sender_id
ON messages
WHEN OLD.replied_at IS NOT NEW.replied_at OR OLD.contact_id IS NOT NEW.contact_id
  OR OLD.campaign_id IS NOT NEW.campaign_id OR OLD.workspace_id IS NOT NEW.workspace_id
  OR OLD.step_id IS NOT NEW.step_id OR OLD.variant_id IS NOT NEW.variant_id
  OR OLD.sender_id IS NOT NEW.sender_id
BEGIN
  UPDATE analytics_positive SET positive = positive - 1
  WHERE OLD.replied_at IS NOT NULL
    AND campaign_id = OLD.campaign_id AND step_id = OLD.step_id
    AND variant_id = COALESCE(OLD.variant_id, 0) AND sender_id = COALESCE(OLD.sender_id, 0)
    AND day = OLD.replied_at / 86400000
    AND EXISTS (SELECT 1 FROM contacts c
                WHERE c.id = OLD.contact_id AND c.status IN ('interested', 'meeting_booked'));
  INSERT INTO analytics_positive (workspace_id, campaign_id, step_id, variant_id, sender_id, day,
                                  positive)
  SELECT NEW.workspace_id, NEW.campaign_id, NEW.step_id, COALESCE(NEW.variant_id, 0),
         COALESCE(NEW.sender_id, 0), NEW.replied_at / 86400000, 1
  FROM contacts c
  WHERE NEW.replied_at IS NOT NULL
    AND c.id = NEW.contact_id AND c.status IN ('interested', 'meeting_booked')
    AND EXISTS (SELECT 1 FROM campaigns k JOIN workspaces w ON w.id = k.workspace_id
                WHERE k.id = NEW.campaign_id)
  ON CONFLICT (campaign_id, step_id, variant_id, sender_id, day) DO UPDATE SET
    positive = analytics_positive.positive + 1;
END;

-- A message is deleted (its campaign deleted, or its lead: then the lead is gone already and
-- analytics_positive_lead_deleted took it out).
CREATE TRIGGER analytics_positive_message_deleted AFTER DELETE ON messages
WHEN OLD.replied_at IS NOT NULL
BEGIN
  UPDATE analytics_positive SET positive = positive - 1
  WHERE campaign_id = OLD.campaign_id AND step_id = OLD.step_id
    AND variant_id = COALESCE(OLD.variant_id, 0) AND sender_id = COALESCE(OLD.sender_id, 0)
    AND day = OLD.replied_at / 86400000
    AND EXISTS (SELECT 1 FROM contacts c
                WHERE c.id = OLD.contact_id AND c.status IN ('interested', 'meeting_booked'));
END;
