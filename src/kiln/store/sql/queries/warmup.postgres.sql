-- PostgreSQL versions of warmup.sql's reads under a row lock: READ COMMITTED writers choosing the
-- same counterpart wait for each other here, then count the rows the other committed.

-- name: warmup.bot_locked
SELECT id, name, email, provider, status, timezone, aging_start_at, aging_end_at,
       aging_start_volume, daily_send_limit, daily_receive_limit
FROM bots WHERE id = $1
FOR UPDATE;

-- name: warmup.sender_locked
SELECT id, name, from_name, email, status, timezone, warmup_enabled, warmup_start_at,
       warmup_end_at, warmup_start_volume, warmup_daily_increase, warmup_daily_target,
       warmup_weekdays_only, created_at
FROM senders WHERE id = $1
FOR UPDATE;
