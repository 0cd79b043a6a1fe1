-- 0012_engine_queue_order: the queue manager reads a campaign's due leads in (next_at, id) order,
-- a page at a time (engine.due_leads, engine.due_leads_after). campaign_contacts_due_idx
-- (campaign_id, status, next_at) cannot give that order for status IN ('pending', 'active'), so
-- every page sorted all of the campaign's due leads first: O(due leads) per tick, most of the
-- engine's cost per email in bench/engine. This index holds only the leads still in the sequence,
-- in the order the engine reads them, so a page costs O(page).

CREATE INDEX campaign_contacts_queue_idx ON campaign_contacts (campaign_id, next_at, id)
  WHERE status IN ('pending', 'active');
