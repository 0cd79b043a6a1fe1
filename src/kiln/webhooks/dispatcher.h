// Dispatcher: turns new events into signed webhook POSTs, at least once, with retries.
//
// Each RunOnce() (a tick) does two things:
//  1. Fan-out. Under the lock of the one watermark row (webhook_cursor), reads the events after
//     the watermark in id order, and for each one creates a delivery (webhook_deliveries, unique
//     per (subscription, event)) for every enabled subscription of its workspace that takes its
//     type and existed when it happened, then moves the watermark past it, all in one transaction.
//     An event younger than `settle` stops the scan: on PostgreSQL a transaction that took a
//     smaller id may still be committing, and the watermark must never pass an event not yet
//     visible. Event writers are not touched: the events table is the outbox.
//  2. Delivery. Leases due deliveries (next_attempt_at <= now, subscription enabled) to this worker
//     for `lease` (several processes never send one delivery at once; a dead worker's lease lapses
//     and the delivery is sent again: at least once, receivers dedupe by Kiln-Event-Id), POSTs each
//     to the subscription's URL (target.h: the SSRF guard runs again on every attempt) with
//     Kiln-Signature (signature.h) and Kiln-Event-Id, and records the outcome: a 2xx answer
//     delivers; anything else, a timeout or a refused address schedules the next attempt by the
//     backoff schedule (backoff.h), or fails the delivery for good after the last. A subscription
//     that has failed without a single success for `disable_after` is disabled with a reason.
//     Deliveries of different subscriptions are sent concurrently, on up to `max_concurrent`
//     threads, so a slow receiver (up to `timeout`) holds up only its own subscription; each
//     subscription's deliveries are sent one at a time, in id order. The tick returns when every
//     send it started has ended.
//
// State lives only in the database, so deliveries survive restarts. Time comes only from the
// Clock. Thread-safety: a Dispatcher is not thread-safe (run one per thread; its sends use threads
// of their own within a tick); any number of dispatchers (threads or processes) may share one
// database. `clock` and `secrets` are used from those send threads and must be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <string>

#include "kiln/auth/secret_box.h"
#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/store/db.h"

namespace kiln::webhooks {

// Event types a subscription can ask for (the events table's types); "ping" is sent only by the
// test endpoint.
inline constexpr std::string_view kEventTypes[] = {
    "sent",         "failed",       "bounced",    "opened",   "clicked", "replied",
    "auto_replied", "unsubscribed", "complained", "deferred", "unknown"};
bool IsEventType(std::string_view type);

// The AAD of a subscription's sealed signing secret.
std::string SecretAad(int64_t webhook_id);

struct DispatcherOptions {
  std::string worker_id;               // names the lease holder; unique per process
  bool allow_private_targets = false;  // webhook_allow_private_targets
  std::chrono::milliseconds timeout{10'000};
  int64_t backoff_permille = 1000;  // scales the retry schedule (tests shorten it)
  std::chrono::milliseconds settle{2'000};
  std::chrono::hours disable_after{72};
  int fanout_batch = 500;
  int send_batch = 20;
  int max_concurrent = 8;  // subscriptions sent to at once (webhook_max_concurrent)
  std::string ca_file;     // extra trusted CAs for https receivers ("" none)
  uint64_t seed = 0;       // jitter
};

struct TickStats {
  int64_t events = 0;     // events the watermark moved past
  int64_t created = 0;    // deliveries created
  int64_t attempted = 0;  // POSTs tried
  int64_t delivered = 0;  // answered 2xx
  int64_t failed = 0;     // attempts that failed (retried later or failed for good)
};

// What one attempt did.
struct AttemptOutcome {
  int64_t delivery_id = 0;
  bool delivered = false;
  int status_code = 0;  // 0 when no answer came
  std::string error;    // "" when delivered
  std::string status;   // the delivery's status now: pending, delivered, failed
};

class Dispatcher {
 public:
  Dispatcher(store::Database& db, const Clock& clock, const auth::SecretBox& secrets,
             DispatcherOptions options);

  // One tick: fan-out, then the due deliveries (up to send_batch). Fails only when the database
  // fails; a receiver's failure is a recorded outcome, not an error.
  Result<TickStats> RunOnce();

  // Creates a 'ping' delivery for subscription `webhook_id` of workspace `ws` and sends it now
  // (one attempt, no retry). NotFound when there is no such subscription.
  Result<AttemptOutcome> SendPing(int64_t ws, int64_t webhook_id);

 private:
  Status FanOut(TickStats* stats);
  Status DeliverDue(TickStats* stats);
  // Sends delivery `id`, leased to this worker, and records the outcome. `final_attempt`: no retry
  // is scheduled on failure.
  Result<AttemptOutcome> Attempt(int64_t id, bool final_attempt);

  store::Database& db_;
  const Clock& clock_;
  const auth::SecretBox& secrets_;
  DispatcherOptions options_;
  std::mutex rng_mu_;  // the send threads share rng_
  std::mt19937_64 rng_;
};

// Ticks `dispatcher` every `tick` until `wait` (called with the pause) returns true (stop). A
// failed tick is logged and retried on the next one.
void RunDispatcher(Dispatcher& dispatcher, std::chrono::milliseconds tick,
                   const std::function<bool(std::chrono::milliseconds)>& wait);

}  // namespace kiln::webhooks
