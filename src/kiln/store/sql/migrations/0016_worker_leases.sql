-- 0016_worker_leases: a sender's lease lives as long as its worker's heartbeat
-- (docs/decisions/0011-worker-leases.md).
--
-- A sender was leased until senders.lease_until, and every worker renewed the leases of all the
-- senders it held every third of a lease: one UPDATE of every held row, so a worker holding 10k
-- senders rewrote 10k rows every few minutes whether it sent anything or not (bench/warmup: about
-- half the cost of a warm-up message). Now senders.lease_owner names the worker and the lease
-- holds while that worker's engine_workers.heartbeat_at is within one lease: the heartbeat (one
-- row) renews every lease the worker holds. lease_until is gone; senders whose owner has no
-- heartbeat row left (a worker that never released them, since pruned) are freed here, and from
-- now on pruning a dead worker's row frees its senders in the same transaction.

UPDATE senders SET lease_owner = NULL
WHERE lease_owner IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM engine_workers w WHERE w.worker_id = senders.lease_owner);

ALTER TABLE senders DROP COLUMN lease_until;
