#include "kiln/domain/ip_pool.h"

namespace kiln::domain {

uint64_t IpPoolWeight(int64_t sender_id, std::string_view address) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a offset basis
  auto mix = [&h](unsigned char byte) {
    h ^= byte;
    h *= 1099511628211ULL;  // FNV prime
  };
  auto id = static_cast<uint64_t>(sender_id);
  for (int i = 0; i < 8; ++i) mix(static_cast<unsigned char>(id >> (8 * i)));
  mix(0);
  for (char c : address) mix(static_cast<unsigned char>(c));
  // SplitMix64 finaliser: FNV alone leaves the high bits poorly mixed for short inputs.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

std::string ChooseSourceIp(std::span<const std::string> pool, int64_t sender_id) {
  const std::string* best = nullptr;
  uint64_t best_weight = 0;
  for (const std::string& address : pool) {
    uint64_t w = IpPoolWeight(sender_id, address);
    if (best == nullptr || w > best_weight || (w == best_weight && address < *best)) {
      best = &address;
      best_weight = w;
    }
  }
  return best == nullptr ? std::string() : *best;
}

}  // namespace kiln::domain
