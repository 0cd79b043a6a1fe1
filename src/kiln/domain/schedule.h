// Sending windows: on which days and between which wall-clock times a campaign may send, read in
// the recipient's (lead's) time zone.
//
// A Schedule is a set of weekdays and a window [start_minute, end_minute) of local minutes. An
// instant is inside the schedule when the lead's wall clock at that instant reads a time inside a
// window that opened on an allowed weekday:
//   * start < end (09:00-17:00): the local weekday is allowed and start <= time of day < end.
//   * end <= start (22:00-02:00): the window runs past midnight into the next day. It belongs to
//     the day it opens: Friday 22:00-02:00 covers Friday 22:00-24:00 and Saturday 00:00-02:00,
//     even when Saturday is not an allowed day (and Sunday 00:00-02:00 is outside unless Saturday
//     is allowed).
//   * start 0, end 1440: the whole day.
// Because the rule reads the wall clock, DST needs no special case: on a spring-forward day the
// skipped hour simply never shows (a 02:30-05:00 window opens at 03:00); on a fall-back day a
// window hour that repeats is open twice.
//
// Instants are Unix milliseconds UTC. Pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "kiln/base/status.h"
#include "kiln/domain/tz.h"

namespace kiln::domain {

inline constexpr int kMinutesPerDay = 1440;

// Weekday bits: bit d is weekday d, 0 = Sunday ... 6 = Saturday.
inline constexpr uint8_t kWeekdaysMonToFri = 0b0111110;
inline constexpr uint8_t kEveryDay = 0b1111111;

struct Schedule {
  uint8_t weekdays = kWeekdaysMonToFri;
  int start_minute = 9 * 60;  // 0..1439, local time of day when the window opens
  int end_minute = 17 * 60;   // 1..1440; <= start_minute means "the next day at"
};

// OK when at least one weekday is set, start_minute is in [0, 1440), end_minute in [1, 1440] and
// the two differ. InvalidArgument names the field ("schedule.weekdays", ...) otherwise.
Status ValidateSchedule(const Schedule& schedule);

// Whether the wall-clock reading `local_ms` (civil_time.h) is inside the schedule.
bool IsInWindowLocal(const Schedule& schedule, int64_t local_ms);

// Whether `unix_ms` is inside the schedule in `zone`. The schedule must be valid.
bool IsInWindow(const Schedule& schedule, const TimeZone& zone, int64_t unix_ms);

// The first instant >= not_before_ms that is inside the schedule in `zone` (not_before_ms itself
// when it is inside). Exact to the millisecond across DST switches, year ends and zones with
// 30/45-minute offsets. The schedule must be valid (ValidateSchedule); a valid schedule always
// has a next instant within 8 days plus any offset changes.
int64_t NextSendableInstant(const Schedule& schedule, const TimeZone& zone, int64_t not_before_ms);

// The zone to read a lead's schedule in: the lead's own zone when known, else the schedule's
// default (the campaign's zone).
inline const TimeZone& LeadZone(const TimeZone* lead_zone, const TimeZone& default_zone) {
  return lead_zone != nullptr ? *lead_zone : default_zone;
}

// For an instant inside the schedule: the first later instant outside it (when the current
// window closes); kNoEndMillis when it never closes (every day, whole day). For an instant
// outside the schedule: unix_ms itself.
int64_t WindowCloseInstant(const Schedule& schedule, const TimeZone& zone, int64_t unix_ms);

}  // namespace kiln::domain
