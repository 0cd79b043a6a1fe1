#include "kiln/auth/rate_limit.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

namespace kiln::auth {
namespace {

constexpr size_t kShards = 16;
constexpr int64_t kMaxLimit = 1'000'000;

size_t ShardIndex(std::string_view key) { return std::hash<std::string_view>{}(key) % kShards; }

size_t PerShard(size_t max_keys) { return std::max<size_t>(1, max_keys / kShards); }

// Ceiling of a / b for a >= 0, b > 0.
int64_t CeilDiv(int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }

// Makes room in a full shard before a new key is inserted: drops every entry for which
// `expired(value)` holds and, if that frees less than an eighth of `cap`, evicts the entries with
// the smallest `rank(value)` (those closest to expiring) down to 7/8 of `cap`. Freeing a batch
// keeps a flood of new keys at amortised O(1) per insertion instead of a full scan per key.
template <typename Map, typename Expired, typename Rank>
void MakeRoom(Map& map, size_t cap, Expired expired, Rank rank) {
  std::erase_if(map, [&](const auto& kv) { return expired(kv.second); });
  const size_t target = cap - std::max<size_t>(1, cap / 8);
  if (map.size() <= target) return;
  using Iter = typename Map::iterator;
  std::vector<std::pair<int64_t, Iter>> by_rank;
  by_rank.reserve(map.size());
  for (auto it = map.begin(); it != map.end(); ++it) by_rank.emplace_back(rank(it->second), it);
  const size_t evict = map.size() - target;
  std::nth_element(by_rank.begin(), by_rank.begin() + static_cast<ptrdiff_t>(evict - 1),
                   by_rank.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // Erasing one unordered_map element leaves iterators to the others valid.
  for (size_t i = 0; i < evict; ++i) map.erase(by_rank[i].second);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// RateLimiter

struct RateLimiter::Shard {
  std::mutex mu;
  // Theoretical arrival time (GCRA) per key, in NowUnits(). A key with tat <= now is at a full
  // burst, exactly as if it were absent, so it may be dropped at any time.
  std::unordered_map<std::string, int64_t> tat;
};

RateLimiter::RateLimiter(const Clock& clock, int64_t limit, Millis window, size_t max_keys)
    : clock_(clock),
      limit_(limit),
      window_ms_(window.count()),
      epoch_ms_(clock.NowMillis()),
      max_keys_per_shard_(PerShard(max_keys)),
      shards_(std::make_unique<std::array<Shard, kShards>>()) {
  // Bounds keep every product below in int64: elapsed ms * limit and window ms * limit.
  if (limit_ < 1 || limit_ > kMaxLimit || window_ms_ < 1 ||
      window_ms_ > std::numeric_limits<int64_t>::max() / 4 / limit_) {
    std::abort();
  }
}

RateLimiter::~RateLimiter() = default;

int64_t RateLimiter::NowUnits() const { return (clock_.NowMillis() - epoch_ms_) * limit_; }

RateLimiter::Shard& RateLimiter::ShardFor(std::string_view key) {
  return (*shards_)[ShardIndex(key)];
}

RateLimiter::Decision RateLimiter::Check(std::string_view key) {
  const int64_t interval = window_ms_;        // one request, in units
  const int64_t burst = window_ms_ * limit_;  // the whole window, in units
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  const int64_t now = NowUnits();

  auto it = shard.tat.find(std::string(key));
  int64_t tat = it == shard.tat.end() ? now : std::max(it->second, now);
  int64_t new_tat = tat + interval;
  int64_t allow_at = new_tat - burst;

  Decision d;
  d.limit = limit_;
  if (now < allow_at) {
    d.allowed = false;
    d.remaining = 0;
    d.retry_after = Millis(CeilDiv(allow_at - now, limit_));
    d.reset_after = Millis(CeilDiv(tat - now, limit_));
    return d;
  }
  if (it != shard.tat.end()) {
    it->second = new_tat;
  } else {
    if (shard.tat.size() >= max_keys_per_shard_) {
      MakeRoom(
          shard.tat, max_keys_per_shard_, [&](int64_t t) { return t <= now; },
          [](int64_t t) { return t; });
    }
    shard.tat.emplace(std::string(key), new_tat);
  }
  d.allowed = true;
  d.remaining = (burst - (new_tat - now)) / interval;
  d.reset_after = Millis(CeilDiv(new_tat - now, limit_));
  return d;
}

size_t RateLimiter::Sweep() {
  size_t dropped = 0;
  for (Shard& shard : *shards_) {
    std::lock_guard lock(shard.mu);
    const int64_t now = NowUnits();
    dropped += std::erase_if(shard.tat, [&](const auto& kv) { return kv.second <= now; });
  }
  return dropped;
}

size_t RateLimiter::TrackedKeys() const {
  size_t n = 0;
  for (Shard& shard : *shards_) {
    std::lock_guard lock(shard.mu);
    n += shard.tat.size();
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// LoginThrottle

// Failure counters for one kind of key (IPs or accounts), sharded.
class LoginThrottle::Table {
 public:
  Table(int free_attempts, Millis window, size_t max_keys)
      : free_attempts_(free_attempts),
        window_ms_(window.count()),
        max_keys_per_shard_(PerShard(max_keys)) {}

  int64_t RetryAfterMs(std::string_view key, int64_t now) const {
    const Shard& shard = shards_[ShardIndex(key)];
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(std::string(key));
    if (it == shard.entries.end() || Expired(it->second, now)) return 0;
    return std::max<int64_t>(0, it->second.last_failure_ms + DelayMs(it->second.failures) - now);
  }

  void RecordFailure(std::string_view key, int64_t now) {
    Shard& shard = shards_[ShardIndex(key)];
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(std::string(key));
    if (it == shard.entries.end()) {
      if (shard.entries.size() >= max_keys_per_shard_) {
        MakeRoom(
            shard.entries, max_keys_per_shard_, [&](const Entry& e) { return Expired(e, now); },
            [&](const Entry& e) { return ExpiresAt(e); });
      }
      it = shard.entries.emplace(std::string(key), Entry{}).first;
    } else if (Expired(it->second, now)) {
      it->second = Entry{};
    }
    Entry& e = it->second;
    // Beyond free_attempts + 20 the delay is at its cap anyway; stop counting there.
    e.failures = std::min(e.failures + 1, free_attempts_ + 64);
    e.last_failure_ms = now;
  }

  void Clear(std::string_view key) {
    Shard& shard = shards_[ShardIndex(key)];
    std::lock_guard lock(shard.mu);
    shard.entries.erase(std::string(key));
  }

  size_t Sweep(int64_t now) {
    size_t dropped = 0;
    for (Shard& shard : shards_) {
      std::lock_guard lock(shard.mu);
      dropped +=
          std::erase_if(shard.entries, [&](const auto& kv) { return Expired(kv.second, now); });
    }
    return dropped;
  }

  size_t Size() const {
    size_t n = 0;
    for (const Shard& shard : shards_) {
      std::lock_guard lock(shard.mu);
      n += shard.entries.size();
    }
    return n;
  }

 private:
  struct Entry {
    int failures = 0;
    int64_t last_failure_ms = 0;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry> entries;
  };

  // Wait required after the last failure: 0 within the free attempts, then 1 s doubling per
  // further failure, capped at kMaxDelay.
  int64_t DelayMs(int failures) const {
    if (failures < free_attempts_) return 0;
    int doublings = std::min(failures - free_attempts_, 20);  // 2^20 s is far above the cap
    return std::min<int64_t>(int64_t{1000} << doublings, kMaxDelay.count());
  }
  int64_t ExpiresAt(const Entry& e) const {
    // The window of quiet starts when the delay ends: sitting out a lockout does not reset the
    // count, so the next failure doubles the delay instead of starting over with free attempts.
    return e.last_failure_ms + DelayMs(e.failures) + window_ms_;
  }
  bool Expired(const Entry& e, int64_t now) const { return now >= ExpiresAt(e); }

  const int free_attempts_;
  const int64_t window_ms_;
  const size_t max_keys_per_shard_;
  std::array<Shard, kShards> shards_;
};

LoginThrottle::LoginThrottle(const Clock& clock, int free_attempts, Millis window, size_t max_keys)
    : clock_(clock), free_attempts_(free_attempts), window_(window) {
  if (free_attempts_ < 1 || free_attempts_ > 1'000'000 || window_.count() < 1) std::abort();
  ips_ = std::make_unique<Table>(free_attempts_, window_, max_keys);
  accounts_ = std::make_unique<Table>(free_attempts_, window_, max_keys);
}

LoginThrottle::~LoginThrottle() = default;

Millis LoginThrottle::RetryAfter(std::string_view ip, std::string_view account) const {
  const int64_t now = clock_.NowMillis();
  return Millis(std::max(ips_->RetryAfterMs(ip, now), accounts_->RetryAfterMs(account, now)));
}

void LoginThrottle::RecordFailure(std::string_view ip, std::string_view account) {
  const int64_t now = clock_.NowMillis();
  ips_->RecordFailure(ip, now);
  accounts_->RecordFailure(account, now);
}

void LoginThrottle::RecordSuccess(std::string_view /*ip*/, std::string_view account) {
  accounts_->Clear(account);
}

size_t LoginThrottle::Sweep() {
  const int64_t now = clock_.NowMillis();
  return ips_->Sweep(now) + accounts_->Sweep(now);
}

size_t LoginThrottle::TrackedKeys() const { return ips_->Size() + accounts_->Size(); }

}  // namespace kiln::auth
