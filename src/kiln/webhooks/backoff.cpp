#include "kiln/webhooks/backoff.h"

#include <algorithm>
#include <cmath>

namespace kiln::webhooks {

namespace {

std::optional<int64_t> BaseMs(int64_t attempts, int64_t scale_permille) {
  if (attempts < 1 || attempts > static_cast<int64_t>(kRetryScheduleMinutes.size())) {
    return std::nullopt;
  }
  const int64_t minutes = kRetryScheduleMinutes[static_cast<size_t>(attempts - 1)];
  return std::max<int64_t>(1, minutes * 60'000 * std::max<int64_t>(1, scale_permille) / 1000);
}

}  // namespace

std::optional<int64_t> RetryDelayMs(int64_t attempts, int64_t scale_permille, double unit_random) {
  auto base = BaseMs(attempts, scale_permille);
  if (!base) return std::nullopt;
  const double r = std::clamp(unit_random, 0.0, 1.0);
  const double factor = 1.0 + (2.0 * r - 1.0) * kJitterPercent / 100.0;
  return std::max<int64_t>(1,
                           static_cast<int64_t>(std::llround(static_cast<double>(*base) * factor)));
}

std::optional<DelayBounds> RetryDelayBounds(int64_t attempts, int64_t scale_permille) {
  auto lo = RetryDelayMs(attempts, scale_permille, 0.0);
  auto hi = RetryDelayMs(attempts, scale_permille, 1.0);
  if (!lo || !hi) return std::nullopt;
  return DelayBounds{*lo, *hi};
}

}  // namespace kiln::webhooks
