// Choosing a sender's source address from a campaign's IP pool.
//
// A sender must keep the same address (its SPF record, reverse DNS and the receivers' reputation
// history all follow the address), and a pool that grows or shrinks should move as few senders as
// possible. Rendezvous (highest-random-weight) hashing gives both: each (sender, address) pair
// gets a stable pseudo-random weight and the sender takes the address with the highest; removing
// an address moves only the senders that had it, adding one moves about 1/n of them to it.
// The weight is a fixed 64-bit hash (FNV-1a then a SplitMix64 finaliser), not std::hash, so every
// node and every version of Kiln agrees.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace kiln::domain {

// The weight of `address` for `sender_id` (exposed for tests).
uint64_t IpPoolWeight(int64_t sender_id, std::string_view address);

// The address of `pool` that `sender_id` binds to; "" when the pool is empty. Depends only on the
// set of addresses, not on their order (ties, which need equal 64-bit weights, go to the smaller
// address).
std::string ChooseSourceIp(std::span<const std::string> pool, int64_t sender_id);

}  // namespace kiln::domain
