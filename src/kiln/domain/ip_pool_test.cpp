#include "kiln/domain/ip_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

namespace kiln::domain {
namespace {

std::vector<std::string> Pool(int n) {
  std::vector<std::string> pool;
  for (int i = 1; i <= n; ++i) pool.push_back("192.0.2." + std::to_string(i));
  return pool;
}

TEST(IpPoolTest, EmptyPoolGivesNoAddress) { EXPECT_EQ(ChooseSourceIp({}, 7), ""); }

TEST(IpPoolTest, StickyAndIndependentOfOrder) {
  auto pool = Pool(5);
  auto reversed = pool;
  std::reverse(reversed.begin(), reversed.end());
  for (int64_t sender = 1; sender <= 200; ++sender) {
    std::string ip = ChooseSourceIp(pool, sender);
    EXPECT_EQ(ChooseSourceIp(pool, sender), ip);
    EXPECT_EQ(ChooseSourceIp(reversed, sender), ip);
  }
}

TEST(IpPoolTest, FixedWeightsAcrossBuilds) {
  // Pinned: a change here re-homes every sender of every pool (and breaks their SPF and rDNS).
  EXPECT_EQ(IpPoolWeight(1, "192.0.2.1"), 6668564051944585455ULL);
  EXPECT_EQ(IpPoolWeight(2, "192.0.2.1"), 4099094501362043155ULL);
  auto pool = Pool(4);
  std::vector<std::string> picks;
  for (int64_t sender = 1; sender <= 6; ++sender) picks.push_back(ChooseSourceIp(pool, sender));
  EXPECT_EQ(picks, (std::vector<std::string>{"192.0.2.4", "192.0.2.4", "192.0.2.2", "192.0.2.4",
                                             "192.0.2.3", "192.0.2.4"}));
}

TEST(IpPoolTest, SpreadsEvenlyAndMovesFewSendersWhenThePoolChanges) {
  auto pool = Pool(4);
  std::map<std::string, int> counts;
  std::map<int64_t, std::string> before;
  const int kSenders = 4000;
  for (int64_t s = 1; s <= kSenders; ++s) {
    before[s] = ChooseSourceIp(pool, s);
    counts[before[s]]++;
  }
  ASSERT_EQ(counts.size(), 4u);
  for (const auto& [ip, n] : counts) {
    EXPECT_GT(n, kSenders / 4 * 8 / 10) << ip;
    EXPECT_LT(n, kSenders / 4 * 12 / 10) << ip;
  }
  // Removing one address moves exactly the senders that had it.
  std::vector<std::string> smaller(pool.begin(), pool.end() - 1);
  for (int64_t s = 1; s <= kSenders; ++s) {
    std::string now = ChooseSourceIp(smaller, s);
    if (before[s] != pool.back()) {
      EXPECT_EQ(now, before[s]) << s;
    }
  }
  // Adding a fifth moves about a fifth, all of them to the new address.
  auto bigger = Pool(5);
  int moved = 0;
  for (int64_t s = 1; s <= kSenders; ++s) {
    std::string now = ChooseSourceIp(bigger, s);
    if (now != before[s]) {
      ++moved;
      EXPECT_EQ(now, bigger.back());
    }
  }
  EXPECT_GT(moved, kSenders / 5 * 7 / 10);
  EXPECT_LT(moved, kSenders / 5 * 13 / 10);
}

}  // namespace
}  // namespace kiln::domain
