// FakeClock: a Clock for tests whose time moves only when told to. Thread-safe.
#pragma once

#include <atomic>

#include "kiln/base/clock.h"

namespace kiln::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_unix_ms = 1'767'225'600'000)  // 2026-01-01T00:00:00Z
      : ms_(start_unix_ms) {}
  TimePoint Now() const override { return FromUnixMillis(ms_.load()); }
  void Advance(Millis d) { ms_ += d.count(); }
  void Set(int64_t unix_ms) { ms_ = unix_ms; }

 private:
  std::atomic<int64_t> ms_;
};

}  // namespace kiln::testing
