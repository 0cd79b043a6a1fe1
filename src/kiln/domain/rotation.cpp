#include "kiln/domain/rotation.h"

#include <algorithm>
#include <cstdio>

namespace kiln::domain {
namespace {

// Percentages with two decimals from basis points, without floating point.
std::string BasisPoints(int64_t bp) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld%%", static_cast<long long>(bp / 100),
                static_cast<long long>(bp % 100));
  return buf;
}

}  // namespace

Eligibility CheckEligibility(const SenderSnapshot& s, const RotationPolicy& policy) {
  if (s.status == SenderStatus::kFailed) return Eligibility::kFailed;
  if (s.status == SenderStatus::kPaused) return Eligibility::kPaused;
  if (s.health_score < policy.min_health_score || s.health_score <= 0) {
    return Eligibility::kUnhealthy;
  }
  if (s.remaining_today <= 0) return Eligibility::kOverQuota;
  if (!s.in_window) return Eligibility::kOutsideWindow;
  return Eligibility::kEligible;
}

RotationResult ChooseSender(std::span<const SenderSnapshot> pool,
                            std::optional<int64_t> sticky_sender_id, uint64_t seed,
                            const RotationPolicy& policy) {
  RotationResult r;
  if (sticky_sender_id) {
    for (size_t i = 0; i < pool.size(); ++i) {
      if (pool[i].id != *sticky_sender_id) continue;
      const Eligibility e = CheckEligibility(pool[i], policy);
      if (e == Eligibility::kEligible) {
        r.kind = RotationResult::Kind::kChosen;
        r.sender_id = pool[i].id;
        r.index = i;
        return r;
      }
      if (e != Eligibility::kFailed) {
        r.kind = RotationResult::Kind::kWaitForSticky;
        r.sender_id = pool[i].id;
        r.index = i;
        r.sticky_reason = e;
        return r;
      }
      break;
    }
    r.reassigned = true;
  }
  // Weights fit easily: 100 * INT_MAX * pool size stays far below 2^64.
  uint64_t total = 0;
  for (const SenderSnapshot& s : pool) {
    if (CheckEligibility(s, policy) == Eligibility::kEligible) {
      total += static_cast<uint64_t>(std::min(s.health_score, 100)) *
               static_cast<uint64_t>(s.remaining_today);
    }
  }
  if (total == 0) {
    r.kind = RotationResult::Kind::kNoneEligible;
    r.reassigned = false;
    return r;
  }
  Rng rng(seed);
  uint64_t pick = rng.Uniform(total);
  for (size_t i = 0; i < pool.size(); ++i) {
    const SenderSnapshot& s = pool[i];
    if (CheckEligibility(s, policy) != Eligibility::kEligible) continue;
    const uint64_t w = static_cast<uint64_t>(std::min(s.health_score, 100)) *
                       static_cast<uint64_t>(s.remaining_today);
    if (pick < w) {
      r.kind = RotationResult::Kind::kChosen;
      r.sender_id = s.id;
      r.index = i;
      return r;
    }
    pick -= w;
  }
  std::abort();  // unreachable: pick < total
}

Status ValidateBackoffPolicy(const BackoffPolicy& p) {
  if (p.base_delay_ms <= 0) {
    return Status::InvalidArgument("backoff base delay must be positive", "backoff.base_delay");
  }
  if (p.max_delay_ms < p.base_delay_ms) {
    return Status::InvalidArgument("backoff maximum delay is below its base delay",
                                   "backoff.max_delay");
  }
  if (p.jitter_percent < 0 || p.jitter_percent > 100) {
    return Status::InvalidArgument("backoff jitter must be a percentage in [0, 100]",
                                   "backoff.jitter");
  }
  if (p.max_attempts < 1) {
    return Status::InvalidArgument("backoff needs at least one attempt", "backoff.max_attempts");
  }
  return Status::Ok();
}

int64_t BackoffDelay(const BackoffPolicy& p, int attempt, Rng& rng) {
  const int64_t base = std::max<int64_t>(p.base_delay_ms, 1);
  const int64_t cap = std::max(p.max_delay_ms, base);
  int64_t d = base;
  for (int i = 1; i < attempt && d < cap; ++i) d = d > cap / 2 ? cap : d * 2;
  d = std::min(d, cap);
  const int64_t jitter = std::clamp(p.jitter_percent, 0, 100);
  const int64_t spread = d / 100 * jitter + d % 100 * jitter / 100;
  return rng.UniformInRange(d - spread, d);
}

bool ShouldPauseForBounces(int sends, int hard_bounces, const BounceRule& rule) {
  if (sends < rule.min_sends || sends <= 0) return false;
  return int64_t{hard_bounces} * 10'000 > int64_t{sends} * rule.max_hard_bounce_basis_points;
}

std::string BouncePauseReason(int sends, int hard_bounces, const BounceRule& rule) {
  const int64_t bp = sends > 0 ? int64_t{hard_bounces} * 10'000 / sends : 0;
  return "hard-bounce rate " + BasisPoints(bp) + " (" + std::to_string(hard_bounces) + " of " +
         std::to_string(sends) + " sends) is above " +
         BasisPoints(rule.max_hard_bounce_basis_points);
}

}  // namespace kiln::domain
