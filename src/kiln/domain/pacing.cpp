#include "kiln/domain/pacing.h"

#include <algorithm>
#include <vector>

#include "kiln/domain/tz.h"

namespace kiln::domain {

Status ValidatePacingRule(const PacingRule& rule) {
  if (rule.min_gap_ms < 0) {
    return Status::InvalidArgument("minimum gap must not be negative", "pacing.min_gap");
  }
  if (rule.jitter_percent < 0 || rule.jitter_percent > 100) {
    return Status::InvalidArgument("jitter must be a percentage in [0, 100]", "pacing.jitter");
  }
  return Status::Ok();
}

int64_t NextSendTime(const PacingRule& rule, const PacingState& s, Rng& rng) {
  if (s.remaining <= 0) return kNoEndMillis;
  const int64_t jitter = std::clamp(rule.jitter_percent, 0, 100);
  const int64_t min_gap = std::max<int64_t>(rule.min_gap_ms, 0);
  const bool earlier_day =
      s.last_send_ms && s.window_start_ms && *s.last_send_ms < *s.window_start_ms;
  if (!s.last_send_ms || earlier_day) {
    const int64_t even = s.horizon_ms > s.now_ms ? (s.horizon_ms - s.now_ms) / s.remaining : 0;
    const int64_t at =
        s.now_ms + rng.UniformInRange(0, even / 100 * jitter + even % 100 * jitter / 100);
    return earlier_day ? std::max(at, *s.last_send_ms + min_gap) : at;
  }
  const int64_t last = *s.last_send_ms;
  const int64_t left = s.horizon_ms > last ? s.horizon_ms - last : 0;
  // The remaining sends and the tail after the last one share what is left evenly: the day ends
  // at the horizon (its first instant belongs to the next day), so the last send comes one even
  // gap before it, not at it.
  const int64_t even = left / (s.remaining + 1);
  const int64_t spread = even / 100 * jitter + even % 100 * jitter / 100;
  const int64_t lo = std::max(min_gap, even - spread);
  // Longest gap that still leaves room for the other sends at the minimum gap, all before the
  // horizon.
  const int64_t room = left - s.remaining * std::max<int64_t>(min_gap, 1);
  const int64_t hi = std::max(lo, std::min(even + spread, room));
  return std::max(s.now_ms, last + rng.UniformInRange(lo, hi));
}

Status ValidateDomainCapRule(const DomainCapRule& rule) {
  if (rule.max_per_window < 1) {
    return Status::InvalidArgument("per-domain cap must be at least 1", "domain_cap.max");
  }
  if (rule.window_ms < 1) {
    return Status::InvalidArgument("per-domain cap window must be positive", "domain_cap.window");
  }
  return Status::Ok();
}

DomainCapDecision CheckDomainCap(std::span<const int64_t> recent_sends_ms, int64_t now_ms,
                                 const DomainCapRule& rule) {
  const int64_t window_start = now_ms - rule.window_ms;  // sends at or before this have aged out
  size_t in_window = 0;
  for (int64_t t : recent_sends_ms) in_window += (t > window_start && t <= now_ms) ? 1 : 0;
  const size_t cap = static_cast<size_t>(std::max(rule.max_per_window, 1));
  if (in_window < cap) return DomainCapDecision{true, now_ms};
  // The send may go once in_window - cap + 1 of them have aged out: the (in_window - cap)-th
  // oldest (0-based) leaves the window at its time + window.
  std::vector<int64_t> times;
  times.reserve(in_window);
  for (int64_t t : recent_sends_ms) {
    if (t > window_start && t <= now_ms) times.push_back(t);
  }
  auto nth = times.begin() + static_cast<ptrdiff_t>(in_window - cap);
  std::nth_element(times.begin(), nth, times.end());
  return DomainCapDecision{false, *nth + rule.window_ms};
}

}  // namespace kiln::domain
