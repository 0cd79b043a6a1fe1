#include "kiln/domain/schedule.h"

#include <cstdlib>
#include <string>

namespace kiln::domain {
namespace {

bool Allowed(const Schedule& s, int64_t days) { return (s.weekdays >> WeekdayFromDays(days)) & 1; }

bool Valid(const Schedule& s) {
  return (s.weekdays & kEveryDay) != 0 && s.start_minute >= 0 && s.start_minute < kMinutesPerDay &&
         s.end_minute >= 1 && s.end_minute <= kMinutesPerDay && s.start_minute != s.end_minute;
}

// A broken invariant: the caller skipped ValidateSchedule.
void RequireValid(const Schedule& s) {
  if (!Valid(s)) std::abort();
}

// The smallest local time >= local_ms inside the schedule.
int64_t NextOpenLocal(const Schedule& s, int64_t local_ms) {
  if (IsInWindowLocal(s, local_ms)) return local_ms;
  const int64_t days = FloorDiv(local_ms, kMillisPerDay);
  const int64_t tod = local_ms - days * kMillisPerDay;
  const int64_t start = s.start_minute * kMillisPerMinute;
  if (Allowed(s, days) && tod < start) return days * kMillisPerDay + start;
  for (int64_t d = days + 1; d <= days + 7; ++d) {
    if (Allowed(s, d)) return d * kMillisPerDay + start;
  }
  std::abort();  // unreachable: a valid schedule allows some weekday
}

// The smallest local time >= local_ms outside the schedule (kNoEndMillis: never).
int64_t NextCloseLocal(const Schedule& s, int64_t local_ms) {
  const int64_t start = s.start_minute * kMillisPerMinute;
  const int64_t end = s.end_minute * kMillisPerMinute;
  // Each step jumps to where the current window closes; only whole-day windows on consecutive
  // days chain, so 8 steps cover a week that never closes.
  for (int step = 0; step < 8; ++step) {
    if (!IsInWindowLocal(s, local_ms)) return local_ms;
    const int64_t days = FloorDiv(local_ms, kMillisPerDay);
    const int64_t tod = local_ms - days * kMillisPerDay;
    if (start < end) {
      local_ms = days * kMillisPerDay + end;
    } else if (tod < end && Allowed(s, days - 1)) {
      local_ms = days * kMillisPerDay + end;  // the tail of yesterday's window
    } else {
      local_ms = (days + 1) * kMillisPerDay + end;  // tonight's window runs into tomorrow
    }
  }
  return IsInWindowLocal(s, local_ms) ? kNoEndMillis : local_ms;
}

}  // namespace

Status ValidateSchedule(const Schedule& s) {
  if ((s.weekdays & kEveryDay) == 0) {
    return Status::InvalidArgument("a schedule needs at least one weekday", "schedule.weekdays");
  }
  if ((s.weekdays & ~kEveryDay) != 0) {
    return Status::InvalidArgument("weekday bits beyond Saturday are set", "schedule.weekdays");
  }
  if (s.start_minute < 0 || s.start_minute >= kMinutesPerDay) {
    return Status::InvalidArgument("window start must be a minute of the day in [0, 1439], got " +
                                       std::to_string(s.start_minute),
                                   "schedule.start_minute");
  }
  if (s.end_minute < 1 || s.end_minute > kMinutesPerDay) {
    return Status::InvalidArgument(
        "window end must be in [1, 1440] (1440 = midnight), got " + std::to_string(s.end_minute),
        "schedule.end_minute");
  }
  if (s.start_minute == s.end_minute) {
    return Status::InvalidArgument(
        "window start and end are equal; use 0 and 1440 for the whole day", "schedule.end_minute");
  }
  return Status::Ok();
}

bool IsInWindowLocal(const Schedule& s, int64_t local_ms) {
  const int64_t days = FloorDiv(local_ms, kMillisPerDay);
  const int64_t tod = local_ms - days * kMillisPerDay;
  const int64_t start = s.start_minute * kMillisPerMinute;
  const int64_t end = s.end_minute * kMillisPerMinute;
  if (start < end) return tod >= start && tod < end && Allowed(s, days);
  return (tod >= start && Allowed(s, days)) || (tod < end && Allowed(s, days - 1));
}

bool IsInWindow(const Schedule& s, const TimeZone& zone, int64_t unix_ms) {
  return IsInWindowLocal(s, zone.ToLocalMillis(unix_ms));
}

int64_t NextSendableInstant(const Schedule& s, const TimeZone& zone, int64_t not_before_ms) {
  RequireValid(s);
  int64_t t = not_before_ms;
  // Walk constant-offset stretches: inside one the wall clock is t + offset, so the answer is
  // pure calendar arithmetic; if it falls past the stretch, continue from the next offset.
  while (true) {
    const OffsetSpan span = zone.SpanAt(t);
    const int64_t offset_ms = int64_t{span.utc_offset_seconds} * 1000;
    const int64_t candidate = NextOpenLocal(s, t + offset_ms) - offset_ms;
    if (candidate < span.end_ms) return candidate;
    t = span.end_ms;
  }
}

int64_t WindowCloseInstant(const Schedule& s, const TimeZone& zone, int64_t unix_ms) {
  RequireValid(s);
  int64_t t = unix_ms;
  while (true) {
    const OffsetSpan span = zone.SpanAt(t);
    const int64_t offset_ms = int64_t{span.utc_offset_seconds} * 1000;
    const int64_t local_close = NextCloseLocal(s, t + offset_ms);
    if (local_close == kNoEndMillis) return kNoEndMillis;
    const int64_t candidate = local_close - offset_ms;
    if (candidate < span.end_ms) return candidate;
    t = span.end_ms;
  }
}

}  // namespace kiln::domain
