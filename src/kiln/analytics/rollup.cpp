#include "kiln/analytics/rollup.h"

#include <spdlog/spdlog.h>

#include <optional>

namespace kiln::analytics {

Result<int64_t> RollupWatermark(store::Tx& tx) {
  KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("analytics.watermark", {},
                                              "analytics_rollup_state has no 'events' row (a "
                                              "migration is missing)"));
  return row.Int("last_event_id");
}

RollupJob::RollupJob(store::Database& db, const Clock& clock, RollupOptions options)
    : db_(db), clock_(clock), options_(std::move(options)) {}

Result<int64_t> RollupJob::RunBatch() {
  // 1. The lease, and a batch end below which every event is committed.
  std::optional<int64_t> hi;
  Status st = db_.Write([&](store::Tx& tx) -> Status {
    hi.reset();
    const int64_t now = clock_.NowMillis();
    KILN_ASSIGN_OR_RETURN(int64_t held,
                          tx.Exec("analytics.acquire_lease",
                                  {options_.worker_id, now, now + options_.lease.count()}));
    if (held != 1) return Status::Ok();
    KILN_RETURN_IF_ERROR(tx.Exec("analytics.lock_events").status());
    KILN_ASSIGN_OR_RETURN(int64_t wm, RollupWatermark(tx));
    KILN_ASSIGN_OR_RETURN(auto end,
                          tx.QueryRow("analytics.batch_end", {wm, options_.batch_events}));
    hi = end.Int("hi");
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext("analytics roll-up: choosing the next batch");
  if (!hi) return int64_t{0};

  // 2. The batch: counters and watermark together, or neither.
  int64_t moved = 0;
  st = db_.Write([&](store::Tx& tx) -> Status {
    moved = 0;
    const int64_t now = clock_.NowMillis();
    KILN_ASSIGN_OR_RETURN(auto claim,
                          tx.QueryOne("analytics.claim_watermark", {options_.worker_id, now}));
    if (!claim) return Status::Ok();  // the lease lapsed and another process took it
    const int64_t wm = claim->Int("last_event_id");
    if (*hi <= wm) return Status::Ok();
    KILN_RETURN_IF_ERROR(tx.Exec("analytics.rollup", {wm, *hi}).status());
    KILN_ASSIGN_OR_RETURN(int64_t advanced, tx.Exec("analytics.advance_watermark", {now, wm, *hi}));
    if (advanced != 1) {
      return Status::Conflict("the watermark moved from " + std::to_string(wm) +
                              " during the batch (another roll-up process)");
    }
    moved = *hi - wm;
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext("analytics roll-up: events after the watermark");
  return moved;
}

Result<int64_t> RollupJob::RunOnce(int max_batches) {
  int64_t total = 0;
  for (int i = 0; i < max_batches; ++i) {
    KILN_ASSIGN_OR_RETURN(int64_t moved, RunBatch());
    if (moved == 0) break;
    total += moved;
  }
  return total;
}

Status RollupJob::ReleaseLease() {
  return db_.Write([&](store::Tx& tx) -> Status {
    return tx.Exec("analytics.release_lease", {options_.worker_id}).status();
  });
}

void RunRollupJob(RollupJob& job, Millis tick, const std::function<bool(Millis)>& wait) {
  constexpr int kBatchesPerRound = 20;
  Millis next_wait = tick;
  do {
    next_wait = tick;
    auto moved = job.RunOnce(kBatchesPerRound);
    if (!moved.ok()) {
      spdlog::warn("analytics: {} (retrying in {} s)", moved.status().ToString(),
                   tick.count() / 1000);
    } else if (*moved > 0) {
      spdlog::debug("analytics: rolled up {} event ids", *moved);
      next_wait = Millis(0);  // a backlog: go on, but look at the stop request first
    }
  } while (!wait(next_wait));
  if (Status st = job.ReleaseLease(); !st.ok()) {
    spdlog::warn("analytics: releasing the roll-up lease: {}", st.ToString());
  }
}

}  // namespace kiln::analytics
