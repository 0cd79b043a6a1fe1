#include "kiln/domain/pacing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "kiln/domain/tz.h"

namespace kiln::domain {
namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;

TEST(PacingTest, Validation) {
  EXPECT_TRUE(ValidatePacingRule(PacingRule{}).ok());
  EXPECT_EQ(ValidatePacingRule(PacingRule{-1, 10}).field(), "pacing.min_gap");
  EXPECT_EQ(ValidatePacingRule(PacingRule{0, 101}).field(), "pacing.jitter");
  EXPECT_EQ(ValidateDomainCapRule(DomainCapRule{0, kHour}).field(), "domain_cap.max");
  EXPECT_EQ(ValidateDomainCapRule(DomainCapRule{5, 0}).field(), "domain_cap.window");
}

TEST(PacingTest, GapsWithoutJitterAreEven) {
  Rng rng(1);
  PacingRule rule{kMinute, 0};
  // 8 hours left after the last send, 15 sends left (and the tail after the last): exactly 30
  // minutes.
  PacingState s{0, int64_t{0}, 8 * kHour, 15};
  EXPECT_EQ(NextSendTime(rule, s, rng), 30 * kMinute);
  // Running late: never before now.
  s.now_ms = 45 * kMinute;
  EXPECT_EQ(NextSendTime(rule, s, rng), 45 * kMinute);
  // The horizon cannot be met: the minimum gap still holds.
  s = PacingState{0, int64_t{0}, kHour, 100};
  EXPECT_EQ(NextSendTime(rule, s, rng), kMinute);
  // Nothing left to send.
  s.remaining = 0;
  EXPECT_EQ(NextSendTime(rule, s, rng), kNoEndMillis);
  // First send of the day without jitter: at once.
  EXPECT_EQ(NextSendTime(rule, PacingState{5000, std::nullopt, 8 * kHour, 10}, rng), 5000);
}

// A previous send of an earlier day: today is spaced as a first send (a quota of 1 with no jitter
// goes at once, not at the day's end), yet never closer than the minimum gap to that send.
TEST(PacingTest, ASendOfAnEarlierDayDoesNotSpaceToday) {
  Rng rng(3);
  const PacingRule rule{10 * kMinute, 0};
  const int64_t day = 24 * kHour;
  // Yesterday's send at 12:00, today starts at 24:00, now 24:05, one send left.
  PacingState s{day + 5 * kMinute, int64_t{12 * kHour}, 2 * day, 1, day};
  EXPECT_EQ(NextSendTime(rule, s, rng), day + 5 * kMinute);
  // Without the window's start, the same send spaces from yesterday: the middle of what is left.
  s.window_start_ms.reset();
  EXPECT_EQ(NextSendTime(rule, s, rng), 12 * kHour + (2 * day - 12 * kHour) / 2);
  // Yesterday's send at 23:58: today's first send waits out the minimum gap (until 00:08).
  s = PacingState{day, int64_t{day - 2 * kMinute}, 2 * day, 5, day};
  EXPECT_EQ(NextSendTime(rule, s, rng), day + 8 * kMinute);
  // A send of today spaces as before.
  s = PacingState{day, int64_t{day}, 2 * day, 3, day};
  EXPECT_EQ(NextSendTime(rule, s, rng), day + 6 * kHour);
}

TEST(PacingTest, SeededAndBounded) {
  PacingRule rule{2 * kMinute, 50};
  PacingState s{0, int64_t{0}, 8 * kHour, 15};
  Rng a(7), b(7), c(8);
  std::vector<int64_t> xs, ys, zs;
  for (int i = 0; i < 50; ++i) {
    xs.push_back(NextSendTime(rule, s, a));
    ys.push_back(NextSendTime(rule, s, b));
    zs.push_back(NextSendTime(rule, s, c));
  }
  EXPECT_EQ(xs, ys);
  EXPECT_NE(xs, zs);
  for (int64_t x : xs) {
    EXPECT_GE(x, 15 * kMinute);  // 30 minutes even spacing, 50% jitter
    EXPECT_LE(x, 45 * kMinute);
  }
  EXPECT_GT(*std::max_element(xs.begin(), xs.end()) - *std::min_element(xs.begin(), xs.end()),
            5 * kMinute);
}

// A day of sending for many random quotas: every feasible quota is reached by the horizon, no two
// sends are closer than the minimum gap, and no hour holds much more than its even share.
TEST(PacingTest, SpreadsTheQuotaOverTheWindowProperty) {
  Rng rng(2024);
  for (int trial = 0; trial < 2000; ++trial) {
    const PacingRule rule{rng.UniformInRange(0, 5) * kMinute,
                          static_cast<int>(rng.UniformInRange(0, 80))};
    const int64_t open = rng.UniformInRange(0, 1'000'000'000'000);
    const int64_t window = rng.UniformInRange(1, 12) * kHour;
    const int64_t horizon = open + window;
    const int max_feasible = rule.min_gap_ms > 0 ? static_cast<int>(window / rule.min_gap_ms) : 500;
    const int quota = static_cast<int>(rng.UniformInRange(1, std::min(max_feasible, 500)));
    std::vector<int64_t> sends;
    PacingState s{open, std::nullopt, horizon, quota};
    while (s.remaining > 0) {
      const int64_t t = NextSendTime(rule, s, rng);
      ASSERT_GE(t, s.now_ms);
      if (!sends.empty()) {
        ASSERT_GE(t - sends.back(), rule.min_gap_ms);
      }
      ASSERT_LT(t, horizon) << "trial " << trial << ": the horizon is the next day's";
      sends.push_back(t);
      s.now_ms = t;  // the engine sends on time
      s.last_send_ms = t;
      --s.remaining;
    }
    ASSERT_EQ(static_cast<int>(sends.size()), quota);
    // No burst: any tenth of the window holds at most twice its even share (+ 2).
    const int64_t tenth = window / 10;
    for (size_t i = 0; i < sends.size(); ++i) {
      auto end = std::lower_bound(sends.begin(), sends.end(), sends[i] + tenth);
      const int64_t in_slice = end - (sends.begin() + static_cast<ptrdiff_t>(i));
      ASSERT_LE(in_slice, quota / 5 + 2) << "trial " << trial << " quota " << quota;
    }
  }
}

TEST(PacingTest, DomainCap) {
  const DomainCapRule rule{3, kHour};
  const int64_t now = 10 * kHour;
  std::vector<int64_t> sends = {now - 50 * kMinute, now - 2 * kHour, now - 10 * kMinute};
  DomainCapDecision d = CheckDomainCap(sends, now, rule);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.retry_at_ms, now);
  sends.push_back(now - 30 * kMinute);
  d = CheckDomainCap(sends, now, rule);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_at_ms, now + 10 * kMinute);  // when the send 50 minutes ago ages out
  // A send exactly one window old has aged out.
  std::vector<int64_t> edge = {now - kHour, now - 1, now - 2};
  EXPECT_TRUE(CheckDomainCap(edge, now, rule).allowed);
  // Retrying at retry_at is allowed, one millisecond before is not.
  std::vector<int64_t> full = {now - 5 * kMinute, now - 40 * kMinute, now - 20 * kMinute,
                               now - 1 * kMinute, now - 59 * kMinute};
  d = CheckDomainCap(full, now, rule);
  ASSERT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_at_ms, now + 40 * kMinute);  // 3 of 5 must remain: the 20-minute-old one
  EXPECT_TRUE(CheckDomainCap(full, d.retry_at_ms, rule).allowed);
  EXPECT_FALSE(CheckDomainCap(full, d.retry_at_ms - 1, rule).allowed);
  EXPECT_TRUE(CheckDomainCap({}, now, rule).allowed);
}

// Sending greedily under the cap never puts more than the cap in any rolling hour.
TEST(PacingTest, DomainCapPropertyNeverExceeded) {
  Rng rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    const DomainCapRule rule{static_cast<int>(rng.UniformInRange(1, 30)),
                             rng.UniformInRange(1, 120) * kMinute};
    std::vector<int64_t> sends;
    int64_t t = 0;
    for (int i = 0; i < 300; ++i) {
      t += rng.UniformInRange(0, 3 * kMinute);
      DomainCapDecision d = CheckDomainCap(sends, t, rule);
      if (!d.allowed) {
        ASSERT_GT(d.retry_at_ms, t);
        t = d.retry_at_ms;
        ASSERT_TRUE(CheckDomainCap(sends, t, rule).allowed);
      }
      sends.push_back(t);
    }
    for (size_t i = 0; i < sends.size(); ++i) {
      int count = 0;
      for (size_t j = i; j < sends.size() && sends[j] < sends[i] + rule.window_ms; ++j) ++count;
      ASSERT_LE(count, rule.max_per_window);
    }
  }
}

}  // namespace
}  // namespace kiln::domain
