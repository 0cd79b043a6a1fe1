// Time zones: IANA zone names ("America/New_York") -> UTC offset at an instant, and wall-clock
// (civil) time <-> UTC, read from the TZif files of the system's tz database (Debian `tzdata`,
// /usr/share/zoneinfo) by Kiln's own reader. See docs/decisions/0003-time-zones.md.
//
// Instants are Unix milliseconds UTC (kiln/base/clock.h: ToUnixMillis). "Local milliseconds" are
// milliseconds since 1970-01-01T00:00 on the zone's wall clock (civil_time.h).
//
// DST rule (documented once, used everywhere): a wall-clock time inside a spring-forward gap does
// not exist; FromCivil/ResolveLocal(...).compatible_ms shift it forward by the length of the gap
// (02:30 on a US spring-forward day -> 03:30 EDT). A wall-clock time inside a fall-back overlap
// happens twice; compatible_ms is the earlier occurrence (01:30 EDT, not 01:30 EST). This is the
// "compatible" disambiguation of JavaScript's Temporal and of RFC 5545. ResolveLocal also reports
// both candidates for callers that need another choice.
//
// Zones are exact for every instant: explicit transitions from the file, then the file's POSIX TZ
// footer rule (RFC 8536 §3.3), tabulated for 400 years and repeated with the 400-year Gregorian
// cycle beyond. Supported instants: |unix_ms| <= kMaxSupportedMillis (about +-3 million years).
// Leap seconds are not modelled ("right/" zones are refused).
//
// Thread-safety: a TimeZone is immutable after construction and safe to share between threads.
// TimeZoneDatabase is thread-safe (a shared_mutex guards its cache).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kiln/base/status.h"
#include "kiln/domain/civil_time.h"

namespace kiln::domain {

inline constexpr int64_t kMaxSupportedMillis = int64_t{100'000'000'000'000'000};  // 1e17 ms
// "No end": an offset that never changes again, a window that never closes.
inline constexpr int64_t kNoEndMillis = std::numeric_limits<int64_t>::max();

// The offset in force at an instant.
struct ZoneOffset {
  int32_t utc_offset_seconds = 0;  // east of UTC is positive (New York in winter: -18000)
  bool is_dst = false;
  std::string_view abbreviation;  // "EST", "+0545"; valid while the TimeZone lives
};

// A stretch of time with one UTC offset: the offset at an instant and the first later instant at
// which it changes (kNoEndMillis when it never does).
struct OffsetSpan {
  int32_t utc_offset_seconds = 0;
  int64_t end_ms = kNoEndMillis;
};

enum class LocalTimeKind {
  kUnique,    // the wall-clock time happens exactly once
  kSkipped,   // it falls in a spring-forward gap and never happens
  kRepeated,  // it falls in a fall-back overlap and happens twice
};

// How a wall-clock time maps to instants.
struct LocalTimeResolution {
  LocalTimeKind kind = LocalTimeKind::kUnique;
  // kUnique: the instant. kRepeated: the first occurrence. kSkipped: the transition instant, i.e.
  // the first instant whose wall clock reads at or after the requested time.
  int64_t earliest_ms = 0;
  // kUnique: the instant. kRepeated: the second occurrence. kSkipped: the requested time read
  // with the offset before the gap (the wall clock then shows it shifted forward by the gap).
  int64_t latest_ms = 0;
  // The documented rule (see the top of this file): kSkipped -> latest_ms, else earliest_ms.
  int64_t compatible_ms = 0;
};

class TimeZone {
 public:
  // Parses a TZif file (RFC 8536, versions 1-4). Fails with InvalidArgument naming `name` when
  // the data is not a well-formed TZif file, carries leap seconds, or has a bad footer.
  static Result<TimeZone> FromTzif(std::string name, std::string_view data);
  // A zone with one fixed offset (seconds east of UTC, |offset| < 26 h).
  static TimeZone Fixed(std::string name, int32_t utc_offset_seconds, std::string abbreviation);

  const std::string& name() const { return name_; }

  // The offset, DST flag and abbreviation in force at `unix_ms`.
  ZoneOffset LookupAt(int64_t unix_ms) const;
  int32_t OffsetSecondsAt(int64_t unix_ms) const;
  // The offset at `unix_ms` and when it next changes: lets callers walk time in constant-offset
  // stretches instead of looking up every instant.
  OffsetSpan SpanAt(int64_t unix_ms) const;

  // Local (wall-clock) milliseconds and civil time of an instant.
  int64_t ToLocalMillis(int64_t unix_ms) const {
    return unix_ms + int64_t{OffsetSecondsAt(unix_ms)} * 1000;
  }
  CivilTime ToCivil(int64_t unix_ms) const { return CivilFromLocalMillis(ToLocalMillis(unix_ms)); }

  // The instants a wall-clock reading corresponds to (see LocalTimeResolution).
  LocalTimeResolution ResolveLocal(int64_t local_ms) const;
  // The instant of a wall-clock reading under the documented DST rule.
  int64_t FromLocalMillis(int64_t local_ms) const { return ResolveLocal(local_ms).compatible_ms; }
  int64_t FromCivil(const CivilTime& t) const { return FromLocalMillis(LocalMillisFromCivil(t)); }

  // Number of tabulated transitions (explicit + generated); for tests and diagnostics.
  size_t transition_count() const { return trans_ms_.size(); }

 private:
  struct Type {
    int32_t offset_seconds;
    bool is_dst;
    uint16_t abbr_index;  // into abbrs_, NUL-terminated
  };
  TimeZone() = default;
  // Index of the last transition at or before `unix_ms` (-1: before the first). `unix_ms` must
  // already be reduced into the tabulated range.
  ptrdiff_t TransitionIndexAt(int64_t unix_ms) const;
  // Reduces an instant (or local time) beyond the tabulated range by whole 400-year cycles;
  // returns the number of cycles removed.
  int64_t Reduce(int64_t& ms) const;
  const Type& TypeAfter(ptrdiff_t index) const {
    return index < 0 ? types_[initial_type_] : types_[trans_type_[static_cast<size_t>(index)]];
  }
  void BuildLocalIndex();
  uint16_t AddType(int32_t offset_seconds, bool is_dst, std::string_view abbreviation);

  std::string name_;
  std::vector<Type> types_;
  std::string abbrs_;
  uint16_t initial_type_ = 0;
  std::vector<int64_t> trans_ms_;     // UTC instants of transitions, ascending
  std::vector<uint16_t> trans_type_;  // type in force from trans_ms_[i]
  std::vector<int64_t> local_lo_;     // trans_ms_[i] + min(offset before, offset after)
  std::vector<int64_t> local_hi_;     // trans_ms_[i] + max(offset before, offset after)
  bool periodic_ = false;             // the tail repeats every 400 years from period_base_ms_
  int64_t period_base_ms_ = 0;
  int64_t period_limit_ms_ = kNoEndMillis;
};

// Checks the shape of an IANA zone name without touching the file system: components of
// [A-Za-z0-9_+-] separated by '/', each starting with a letter (so no ".", "..", absolute paths
// or hidden files), at most 128 characters; refuses the "posix/", "right/" trees and the host
// aliases "localtime" and "posixrules". OK for "Europe/Paris", "UTC", "Etc/GMT+5".
Status ValidateZoneName(std::string_view name);

// Loads and caches zones by IANA name from a zoneinfo directory.
class TimeZoneDatabase {
 public:
  static constexpr std::string_view kDefaultDirectory = "/usr/share/zoneinfo";

  explicit TimeZoneDatabase(std::string directory = std::string(kDefaultDirectory));

  // The zone named `name`, loaded once and then served from memory. "UTC" is built in (it works
  // even without tzdata). Fails with InvalidArgument naming the zone when the name is malformed,
  // unknown, or its file is not a usable TZif file. Failures are cached too (up to a bound).
  Result<std::shared_ptr<const TimeZone>> Get(std::string_view name);

 private:
  static constexpr size_t kMaxCachedFailures = 4096;
  Result<std::shared_ptr<const TimeZone>> Load(const std::string& name) const;

  std::string directory_;
  std::shared_mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const TimeZone>> zones_;
  std::unordered_map<std::string, Status> failures_;
};

}  // namespace kiln::domain
