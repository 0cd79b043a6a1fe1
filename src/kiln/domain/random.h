// Deterministic pseudo-random numbers for the domain rules: jitter, weighted choices, backoff.
//
// There is no global generator: callers own an Rng and pass it in, so a seed reproduces every
// decision (tests, `kiln simulate`). The algorithms are fixed here (SplitMix64 for seeding and
// hashing, xoshiro256** for streams, Lemire's unbiased bounded draw) instead of the standard
// library's distributions, whose results differ between library implementations.
//
// Thread-safety: Rng is a plain value; use one per thread. The free functions are pure.
#pragma once

#include <cstdint>

namespace kiln::domain {

// SplitMix64 finaliser: a bijective 64-bit mix. Good for hashing ids into seeds.
constexpr uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A seed derived from several values, e.g. SeedOf(campaign_id, lead_id, step): order matters.
constexpr uint64_t SeedOf(uint64_t a) { return Mix64(a); }
template <typename... Rest>
constexpr uint64_t SeedOf(uint64_t a, uint64_t b, Rest... rest) {
  return SeedOf(Mix64(a) ^ (b + 0x632be59bd9b4e019ULL), static_cast<uint64_t>(rest)...);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& s : s_) {
      x += 0x9e3779b97f4a7c15ULL;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }

  // 64 uniformly random bits (xoshiro256**).
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n == 0 returns 0. Unbiased (Lemire 2019).
  uint64_t Uniform(uint64_t n) {
    if (n == 0) return 0;
    unsigned __int128 m = static_cast<unsigned __int128>(Next()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = -n % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(Next()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi] (inclusive); returns lo when hi <= lo.
  int64_t UniformInRange(int64_t lo, int64_t hi) {
    if (hi <= lo) return lo;
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    if (span == UINT64_MAX) return static_cast<int64_t>(Next());
    return static_cast<int64_t>(static_cast<uint64_t>(lo) + Uniform(span + 1));
  }

 private:
  static constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace kiln::domain
