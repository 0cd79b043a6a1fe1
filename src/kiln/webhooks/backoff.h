// The retry schedule of webhook deliveries: after failed attempt n (1-based) the next attempt
// waits kRetrySchedule[n-1], scaled and with jitter; after the last entry the delivery fails for
// good (about 23 hours and 7 attempts after the first).
//
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace kiln::webhooks {

// Minutes: 1 min, 5 min, 30 min, 2 h, 6 h, 14 h.
inline constexpr std::array<int64_t, 6> kRetryScheduleMinutes = {1, 5, 30, 120, 360, 840};
// Each delay is moved by up to this share either way, so receivers that failed together are not
// retried together.
inline constexpr int kJitterPercent = 20;

// The delay in milliseconds before the attempt after failed attempt `attempts` (1-based), or
// nullopt when no attempt is left. `scale_permille` scales the schedule (1000: as listed; tests use
// a few thousandths), `unit_random` in [0, 1) picks the jitter (0.5: none).
std::optional<int64_t> RetryDelayMs(int64_t attempts, int64_t scale_permille, double unit_random);

// The bounds RetryDelayMs can answer for `attempts` (for tests and docs): {min, max}.
struct DelayBounds {
  int64_t min_ms = 0, max_ms = 0;
};
std::optional<DelayBounds> RetryDelayBounds(int64_t attempts, int64_t scale_permille);

}  // namespace kiln::webhooks
