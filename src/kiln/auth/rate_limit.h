// Rate limiting for the HTTP layer: a per-key request limiter (RateLimiter) and a login throttle
// with growing delays after failed attempts (LoginThrottle).
//
// Both read time only from the injected Clock, so tests drive them with a FakeClock. Both are
// thread-safe: state is split over 16 shards, each behind its own mutex, so requests for
// different keys rarely contend. Both bound their memory with a cap on tracked keys; a key whose
// state has decayed to "never seen" is dropped first, and when every tracked key is still active
// the one closest to decaying is evicted (which forgives that key early: under a flood of distinct
// keys the limiter degrades towards allowing, never towards refusing everyone). A full shard frees
// an eighth of its room at once, so a flood of new keys costs amortised O(1) per request.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "kiln/base/clock.h"

namespace kiln::auth {

inline constexpr size_t kDefaultMaxTrackedKeys = 100'000;

// RateLimiter: at most `limit` requests per `window` per key (an API key, a user id, an IP),
// enforced with GCRA (the generic cell rate algorithm): a burst of up to `limit` requests is
// allowed, after which requests are admitted at the steady rate limit/window. One int64 of state
// per key, no per-request history.
class RateLimiter {
 public:
  struct Decision {
    bool allowed = false;
    int64_t limit = 0;      // X-RateLimit-Limit
    int64_t remaining = 0;  // X-RateLimit-Remaining: requests that would be allowed right now
    Millis retry_after{0};  // Retry-After when refused; 0 when allowed
    Millis reset_after{0};  // X-RateLimit-Reset: until the key is back to a full burst
  };

  // `limit` >= 1 and `window` > 0; anything else is a programming error and aborts.
  // `clock` must outlive the limiter.
  RateLimiter(const Clock& clock, int64_t limit, Millis window,
              size_t max_keys = kDefaultMaxTrackedKeys);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;
  ~RateLimiter();

  // Counts one request for `key` if it is allowed; a refused request is not counted.
  Decision Check(std::string_view key);

  // Drops every key whose state has fully decayed; returns how many were dropped. Optional: the
  // limiter also does this by itself when a shard fills up.
  size_t Sweep();
  // Keys currently tracked (for metrics and tests).
  size_t TrackedKeys() const;

 private:
  struct Shard;
  Shard& ShardFor(std::string_view key);
  // Now, in units of 1/limit_ ms since construction: the emission interval is then exactly
  // window_ms units and all arithmetic stays in integers.
  int64_t NowUnits() const;

  const Clock& clock_;
  const int64_t limit_;
  const int64_t window_ms_;
  const int64_t epoch_ms_;
  const size_t max_keys_per_shard_;
  std::unique_ptr<std::array<Shard, 16>> shards_;
};

// LoginThrottle: slows down password guessing. Failed logins are counted per client IP and per
// account (pass the normalised email). The first `free_attempts` failures cost nothing; from
// then on each attempt must wait 1 s, 2 s, 4 s, ... (doubling per further failure, capped at
// 15 minutes) after the previous failure. A counter is forgotten once its delay has passed and
// then `window` more without a failure. The IP and the account are throttled independently;
// the caller waits for the longer of the two.
//
// Usage in the login handler: if RetryAfter(ip, account) > 0, refuse with 429 + Retry-After
// without checking the password; otherwise check it and call RecordFailure or RecordSuccess.
class LoginThrottle {
 public:
  static constexpr Millis kMaxDelay{15 * 60 * 1000};

  // `free_attempts` >= 1 and `window` > 0; anything else aborts. `clock` must outlive this.
  LoginThrottle(const Clock& clock, int free_attempts, Millis window,
                size_t max_keys = kDefaultMaxTrackedKeys);
  LoginThrottle(const LoginThrottle&) = delete;
  LoginThrottle& operator=(const LoginThrottle&) = delete;
  ~LoginThrottle();

  // How long the client must wait before the next attempt; 0 means it may try now.
  Millis RetryAfter(std::string_view ip, std::string_view account) const;
  // Counts a failed attempt against both the IP and the account.
  void RecordFailure(std::string_view ip, std::string_view account);
  // A successful login clears the account's counter; the IP's is kept, so one valid account
  // cannot be used to reset the throttle of an IP guessing at other accounts.
  void RecordSuccess(std::string_view ip, std::string_view account);

  // Drops every forgotten counter; returns how many were dropped.
  size_t Sweep();
  size_t TrackedKeys() const;

 private:
  class Table;

  const Clock& clock_;
  const int free_attempts_;
  const Millis window_;
  std::unique_ptr<Table> ips_;
  std::unique_ptr<Table> accounts_;
};

}  // namespace kiln::auth
