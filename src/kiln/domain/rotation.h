// Sender rotation and failure handling: which mailbox of a campaign's pool sends to a lead, how
// long to wait before retrying a transient failure, and when failures pause a sender.
//
// Pure functions over plain structs; deterministic given their seed; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "kiln/base/status.h"
#include "kiln/domain/random.h"

namespace kiln::domain {

enum class SenderStatus { kActive, kPaused, kFailed };

// What rotation needs to know about one sender of the pool, right now.
struct SenderSnapshot {
  int64_t id = 0;
  SenderStatus status = SenderStatus::kActive;
  int health_score = 100;   // 0..100 (reputation score)
  int remaining_today = 0;  // cold sends left today (quota.h: ColdSendsAvailable)
  bool in_window = true;    // the sender may send now (its hours, pacing, domain cap)
};

struct RotationPolicy {
  int min_health_score = 1;  // below this a sender stops cold sending (issue 5 §6)
};

// Why a sender cannot take a send now (kEligible when it can).
enum class Eligibility { kEligible, kPaused, kFailed, kUnhealthy, kOverQuota, kOutsideWindow };
Eligibility CheckEligibility(const SenderSnapshot& sender, const RotationPolicy& policy);

struct RotationResult {
  enum class Kind {
    kChosen,         // send from `sender_id`
    kWaitForSticky,  // the lead's sender exists but cannot send now: keep the lead for it
    kNoneEligible,   // nobody in the pool can send now
  };
  Kind kind = Kind::kNoneEligible;
  int64_t sender_id = 0;    // kChosen and kWaitForSticky
  size_t index = 0;         // position in the pool (kChosen and kWaitForSticky)
  bool reassigned = false;  // kChosen: the lead had a sender that failed or left the pool
  Eligibility sticky_reason = Eligibility::kEligible;  // kWaitForSticky: why it waits
};

// Chooses the sender for a lead.
//
// Follow-ups stick to the lead's sender (`sticky_sender_id`: the sender of its earlier steps) so
// that the whole sequence comes from one mailbox in one thread: when that sender is eligible it is
// chosen; when it is paused, unhealthy, over quota or outside its window the answer is
// kWaitForSticky; only when it has failed (credentials) or left the pool is the lead reassigned.
// Otherwise one eligible sender is drawn with probability proportional to
// health_score * remaining_today, using `seed` (e.g. SeedOf(campaign_id, lead_id)): the same
// inputs always give the same choice. O(pool size), no allocation.
RotationResult ChooseSender(std::span<const SenderSnapshot> pool,
                            std::optional<int64_t> sticky_sender_id, uint64_t seed,
                            const RotationPolicy& policy);

// Exponential backoff for transient failures (4xx replies, timeouts, connection resets).
struct BackoffPolicy {
  int64_t base_delay_ms = 60'000;    // delay before the 2nd attempt
  int64_t max_delay_ms = 3'600'000;  // cap on any single delay
  int jitter_percent = 20;           // delays fall randomly up to this much below the curve
  int max_attempts = 8;              // attempts in all, the first included
};

// OK when 0 < base_delay_ms <= max_delay_ms, jitter in [0, 100] and max_attempts >= 1.
Status ValidateBackoffPolicy(const BackoffPolicy& policy);

// Delay after failed attempt number `attempt` (1 = the first attempt failed):
// d = min(max_delay, base_delay * 2^(attempt - 1)), drawn uniformly from [d * (1 - jitter), d].
int64_t BackoffDelay(const BackoffPolicy& policy, int attempt, Rng& rng);

// True when `attempts_made` attempts have used up the policy (give up, record the failure).
inline bool RetriesExhausted(const BackoffPolicy& policy, int attempts_made) {
  return attempts_made >= policy.max_attempts;
}

// "More than 10 consecutive failures pause the sender."
struct FailurePauseRule {
  int max_consecutive_failures = 10;
};
inline bool ShouldPauseForFailures(int consecutive_failures, const FailurePauseRule& rule) {
  return consecutive_failures > rule.max_consecutive_failures;
}

// "Hard-bounce rate above 3% after 50 sends pauses sender and campaign."
struct BounceRule {
  int min_sends = 50;
  int max_hard_bounce_basis_points = 300;  // 300 = 3.00%
};
// True when sends >= min_sends and hard_bounces / sends > the threshold (exact integer math).
bool ShouldPauseForBounces(int sends, int hard_bounces, const BounceRule& rule);
// The pause reason shown in the API: "hard-bounce rate 3.40% (17 of 500 sends) is above 3.00%".
std::string BouncePauseReason(int sends, int hard_bounces, const BounceRule& rule);

}  // namespace kiln::domain
