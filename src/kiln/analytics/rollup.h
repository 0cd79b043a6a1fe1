// The analytics roll-up job: consumes new events into analytics_daily, incrementally, by a durable
// watermark (analytics_rollup_state.last_event_id: the id of the last event consumed).
//
// Exactly once: a batch adds its counters and moves the watermark in one transaction, with a
// compare-and-set on the watermark, so a crash loses nothing and counts nothing twice (the batch
// rolls back whole), and two processes can never both add the same batch. One process rolls up at
// a time: the job holds a lease on the watermark row (renewed every batch, lapsing when the
// process dies). On PostgreSQL identity values are handed out before their transaction commits,
// so before choosing a batch's end the job briefly takes LOCK TABLE events IN SHARE MODE, which
// waits for in-flight event inserts: every id up to the end is then committed.
//
// Readers never wait for the job: stats.h answers from the roll-ups up to the watermark plus the
// events past it, counted live by the same rules (docs/decisions/0008-analytics-rollups.md).
//
// Thread-safety: a RollupJob is used by one thread; any number of jobs (threads or processes) may
// share one database.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/store/db.h"

namespace kiln::analytics {

struct RollupOptions {
  std::string worker_id;          // names the lease holder; unique per process
  int64_t batch_events = 50'000;  // events per transaction
  Millis lease{5 * 60'000};       // how long the lease lasts without renewal
};

// The watermark as stored: events with id <= last_event_id are in analytics_daily.
Result<int64_t> RollupWatermark(store::Tx& tx);

class RollupJob {
 public:
  // `db` and `clock` must outlive the job.
  RollupJob(store::Database& db, const Clock& clock, RollupOptions options);

  // Consumes at most one batch. Success: how far the watermark moved (in event ids; 0 when there
  // was nothing new, or another process holds the lease). Failure: a database error; nothing of
  // the batch is kept.
  Result<int64_t> RunBatch();

  // Batches until caught up or `max_batches` ran. Success: how far the watermark moved in total.
  Result<int64_t> RunOnce(int max_batches = 1'000'000);

  // Gives the lease up (at shutdown), so another process may take over at once.
  Status ReleaseLease();

 private:
  store::Database& db_;
  const Clock& clock_;
  RollupOptions options_;
};

// The job's loop for a worker thread: batches while there is a backlog (checking `wait(0)`
// between rounds of 20), then RunOnce every `tick`, until `wait` returns true (asked to stop);
// then it releases the lease. A failing round is logged and retried on the next tick.
void RunRollupJob(RollupJob& job, Millis tick, const std::function<bool(Millis)>& wait);

}  // namespace kiln::analytics
