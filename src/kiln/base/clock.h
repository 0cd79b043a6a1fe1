// Clock: the only source of "now" in Kiln (after LevelDB's Env::NowMicros).
//
// Everything that needs the time takes a Clock& so tests can run a month of warm-up in seconds of
// virtual time (see kiln/testing/fake_clock.h). Times are UTC; stored as Unix milliseconds.
// Implementations must be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace kiln {

using TimePoint = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

inline int64_t ToUnixMillis(TimePoint t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}
inline TimePoint FromUnixMillis(int64_t ms) { return TimePoint(Millis(ms)); }

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, UTC.
  virtual TimePoint Now() const = 0;
  int64_t NowMillis() const { return ToUnixMillis(Now()); }
};

// The real clock.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace kiln
