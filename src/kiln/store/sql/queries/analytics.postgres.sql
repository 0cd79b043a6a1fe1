-- PostgreSQL versions of analytics.sql blocks (docs/decisions/0001-sql-dialect.md).

-- name: analytics.lock_events
-- Waits for every transaction that is inserting events to end, and holds new inserts back until
-- this (short) transaction commits: afterwards every event id up to MAX(id) is committed, so a
-- watermark never steps over an event still in flight (identity values are handed out before
-- their transaction commits, so ids alone do not say that).
LOCK TABLE events IN SHARE MODE;
