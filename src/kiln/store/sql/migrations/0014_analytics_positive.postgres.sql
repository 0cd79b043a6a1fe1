-- 0014_analytics_positive, PostgreSQL: the same table and rule as 0014_analytics_positive.sql
-- (read its header), the triggers written as PL/pgSQL functions.

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

-- A lead's status flips between positive and not (AFTER UPDATE OF status), or a positive lead is
-- deleted (BEFORE DELETE: its messages cascade after it is gone): its replied messages move in or
-- out.
CREATE FUNCTION analytics_positive_lead() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was_positive BOOLEAN;
  is_positive BOOLEAN := false;
BEGIN
  was_positive := OLD.status IN ('interested', 'meeting_booked');
  IF TG_OP = 'UPDATE' THEN
    is_positive := NEW.status IN ('interested', 'meeting_booked');
  END IF;
  IF is_positive AND NOT was_positive THEN
    INSERT INTO analytics_positive (workspace_id, campaign_id, step_id, variant_id, sender_id,
                                    day, positive)
    SELECT m.workspace_id, m.campaign_id, m.step_id, COALESCE(m.variant_id, 0),
           COALESCE(m.sender_id, 0), m.replied_at / 86400000, COUNT(*)
    FROM messages m
    WHERE m.contact_id = NEW.id AND m.replied_at IS NOT NULL
    GROUP BY m.workspace_id, m.campaign_id, m.step_id, COALESCE(m.variant_id, 0),
             COALESCE(m.sender_id, 0), m.replied_at / 86400000
    ON CONFLICT (campaign_id, step_id, variant_id, sender_id, day) DO UPDATE SET
      positive = analytics_positive.positive + excluded.positive;
  ELSIF was_positive AND NOT is_positive THEN
    UPDATE analytics_positive a SET positive = a.positive - d.n
    FROM (SELECT m.campaign_id, m.step_id, COALESCE(m.variant_id, 0) AS variant_id,
                 COALESCE(m.sender_id, 0) AS sender_id, m.replied_at / 86400000 AS day,
                 COUNT(*) AS n
          FROM messages m
          WHERE m.contact_id = OLD.id AND m.replied_at IS NOT NULL
          GROUP BY m.campaign_id, m.step_id, COALESCE(m.variant_id, 0), COALESCE(m.sender_id, 0),
                   m.replied_at / 86400000) d
    WHERE a.campaign_id = d.campaign_id AND a.step_id = d.step_id
      AND a.variant_id = d.variant_id AND a.sender_id = d.sender_id AND a.day = d.day;
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER analytics_positive_lead_status AFTER UPDATE OF status ON contacts
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION analytics_positive_lead();

CREATE TRIGGER analytics_positive_lead_deleted BEFORE DELETE ON contacts
FOR EACH ROW WHEN (OLD.status IN ('interested', 'meeting_booked'))
EXECUTE FUNCTION analytics_positive_lead();

-- A message inserted, deleted, or changed in its reply time or a column of its key: out of the
-- old cell (when it counted), into the new one (when it counts, and its campaign and workspace
-- still exist).
CREATE FUNCTION analytics_positive_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    IF OLD.replied_at IS NOT NULL THEN
      UPDATE analytics_positive SET positive = positive - 1
      WHERE campaign_id = OLD.campaign_id AND step_id = OLD.step_id
        AND variant_id = COALESCE(OLD.variant_id, 0) AND sender_id = COALESCE(OLD.sender_id, 0)
        AND day = OLD.replied_at / 86400000
        AND EXISTS (SELECT 1 FROM contacts c
                    WHERE c.id = OLD.contact_id AND c.status IN ('interested', 'meeting_booked'));
    END IF;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    IF NEW.replied_at IS NOT NULL THEN
      INSERT INTO analytics_positive (workspace_id, campaign_id, step_id, variant_id, sender_id,
                                      day, positive)
      SELECT NEW.workspace_id, NEW.campaign_id, NEW.step_id, COALESCE(NEW.variant_id, 0),
             COALESCE(NEW.sender_id, 0), NEW.replied_at / 86400000, 1
      FROM contacts c
      WHERE c.id = NEW.contact_id AND c.status IN ('interested', 'meeting_booked')
        AND EXISTS (SELECT 1 FROM campaigns k JOIN workspaces w ON w.id = k.workspace_id
                    WHERE k.id = NEW.campaign_id)
      ON CONFLICT (campaign_id, step_id, variant_id, sender_id, day) DO UPDATE SET
        positive = analytics_positive.positive + 1;
    END IF;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER analytics_positive_message_inserted AFTER INSERT ON messages
FOR EACH ROW WHEN (NEW.replied_at IS NOT NULL)
EXECUTE FUNCTION analytics_positive_message();

CREATE TRIGGER analytics_positive_message_updated
AFTER UPDATE OF replied_at, contact_id, campaign_id, workspace_id, step_id, variant_id, sender_id
ON messages
FOR EACH ROW WHEN (OLD.replied_at IS DISTINCT FROM NEW.replied_at
                   OR OLD.contact_id IS DISTINCT FROM NEW.contact_id
                   OR OLD.campaign_id IS DISTINCT FROM NEW.campaign_id
                   OR OLD.workspace_id IS DISTINCT FROM NEW.workspace_id
                   OR OLD.step_id IS DISTINCT FROM NEW.step_id
                   OR OLD.variant_id IS DISTINCT FROM NEW.variant_id
                   OR OLD.sender_id IS DISTINCT FROM NEW.sender_id)
EXECUTE FUNCTION analytics_positive_message();

CREATE TRIGGER analytics_positive_message_deleted AFTER DELETE ON messages
FOR EACH ROW WHEN (OLD.replied_at IS NOT NULL)
EXECUTE FUNCTION analytics_positive_message();
