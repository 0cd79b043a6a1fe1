// Proleptic Gregorian calendar arithmetic on plain integers: days since 1970-01-01 <-> (year,
// month, day), weekdays, and wall-clock times as "local milliseconds" (milliseconds since
// 1970-01-01T00:00 of a wall clock, with no zone attached).
//
// Pure constexpr functions (after Howard Hinnant's "chrono-compatible low-level date
// algorithms"); exact for every int64 day count whose year fits in an int. Thread-safe.
#pragma once

#include <cstdint>

namespace kiln::domain {

inline constexpr int64_t kMillisPerMinute = 60'000;
inline constexpr int64_t kMillisPerHour = 3'600'000;
inline constexpr int64_t kMillisPerDay = 86'400'000;
inline constexpr int64_t kSecondsPerDay = 86'400;

// Floor division and modulo (C++ '/' truncates toward zero; calendars need floor).
constexpr int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
constexpr int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  bool operator==(const CivilDate&) const = default;
  auto operator<=>(const CivilDate&) const = default;
};

// A wall-clock reading: date plus time of day (no zone).
struct CivilTime {
  int year = 1970;
  int month = 1;
  int day = 1;
  int hour = 0;    // 0..23
  int minute = 0;  // 0..59
  int second = 0;  // 0..59
  int millisecond = 0;
  bool operator==(const CivilTime&) const = default;
};

constexpr bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr int DaysInMonth(int64_t year, int month) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of year-month-day. Month and day must be in range.
constexpr int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;                                    // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + doe - 719468;
}
constexpr int64_t DaysFromCivil(const CivilDate& d) {
  return DaysFromCivil(d.year, d.month, d.day);
}

constexpr CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return CivilDate{static_cast<int>(yoe + era * 400 + (m <= 2)), m, d};
}

// 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday).
constexpr int WeekdayFromDays(int64_t days) { return static_cast<int>(FloorMod(days + 4, 7)); }

// Local milliseconds of a wall-clock reading, and back.
constexpr int64_t LocalMillisFromCivil(const CivilTime& t) {
  return DaysFromCivil(t.year, t.month, t.day) * kMillisPerDay + t.hour * kMillisPerHour +
         t.minute * kMillisPerMinute + t.second * int64_t{1000} + t.millisecond;
}
constexpr CivilTime CivilFromLocalMillis(int64_t local_ms) {
  const int64_t days = FloorDiv(local_ms, kMillisPerDay);
  const int64_t ms = local_ms - days * kMillisPerDay;
  const CivilDate d = CivilFromDays(days);
  return CivilTime{d.year,
                   d.month,
                   d.day,
                   static_cast<int>(ms / kMillisPerHour),
                   static_cast<int>(ms / kMillisPerMinute % 60),
                   static_cast<int>(ms / 1000 % 60),
                   static_cast<int>(ms % 1000)};
}

// True when the fields name a real calendar date (month 1..12, day within the month).
constexpr bool IsValidCivilDate(int64_t y, int m, int d) {
  return m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(y, m);
}

}  // namespace kiln::domain
