#include "kiln/auth/rate_limit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "kiln/testing/fake_clock.h"

namespace kiln::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(RateLimiterTest, BurstThenRefusalWithRetryAfter) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, 5, seconds(1));
  for (int i = 0; i < 5; ++i) {
    auto d = limiter.Check("api-key-1");
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 5);
    EXPECT_EQ(d.remaining, 4 - i);
    EXPECT_EQ(d.retry_after, milliseconds(0));
  }
  auto refused = limiter.Check("api-key-1");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after, milliseconds(200));
  EXPECT_EQ(refused.reset_after, milliseconds(1000));

  // Refused requests are not counted: hammering does not push the retry time out.
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(limiter.Check("api-key-1").allowed);
  clock.Advance(milliseconds(199));
  auto almost = limiter.Check("api-key-1");
  EXPECT_FALSE(almost.allowed);
  EXPECT_EQ(almost.retry_after, milliseconds(1));
  clock.Advance(milliseconds(1));
  auto again = limiter.Check("api-key-1");
  EXPECT_TRUE(again.allowed);
  EXPECT_EQ(again.remaining, 0);

  // Other keys are independent.
  EXPECT_TRUE(limiter.Check("api-key-2").allowed);

  // After a full window of quiet the whole burst is back.
  clock.Advance(seconds(1));
  EXPECT_EQ(limiter.Check("api-key-1").remaining, 4);
}

TEST(RateLimiterTest, SteadyRateOverVirtualTime) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, 10, seconds(1));
  int allowed = 0;
  // One attempt every 10 ms for 60 s of virtual time.
  for (int t = 0; t < 6000; ++t) {
    allowed += limiter.Check("k").allowed ? 1 : 0;
    clock.Advance(milliseconds(10));
  }
  // The burst of 10 at t=0, then one every 100 ms: t = 100, 200, ..., 59900.
  EXPECT_EQ(allowed, 10 + 599);
}

TEST(RateLimiterTest, FractionalIntervalsRoundRetryAfterUp) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, 3, seconds(1));  // one per 333.3 ms
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Check("k").allowed);
  auto d = limiter.Check("k");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after, milliseconds(334));
  clock.Advance(milliseconds(333));
  EXPECT_FALSE(limiter.Check("k").allowed);
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(limiter.Check("k").allowed);
}

TEST(RateLimiterTest, MemoryIsBounded) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, 5, seconds(10), /*max_keys=*/160);
  for (int i = 0; i < 10000; ++i) {
    EXPECT_TRUE(limiter.Check("ip-" + std::to_string(i)).allowed);
  }
  EXPECT_LE(limiter.TrackedKeys(), 160u);
  EXPECT_GT(limiter.TrackedKeys(), 0u);
  clock.Advance(seconds(10));
  size_t tracked = limiter.TrackedKeys();
  EXPECT_EQ(limiter.Sweep(), tracked);
  EXPECT_EQ(limiter.TrackedKeys(), 0u);
}

TEST(RateLimiterTest, EvictionKeepsTheMostConstrainedKeys) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, 2, seconds(10), /*max_keys=*/64);  // 4 keys per shard
  EXPECT_TRUE(limiter.Check("busy").allowed);
  EXPECT_TRUE(limiter.Check("busy").allowed);
  EXPECT_FALSE(limiter.Check("busy").allowed);  // full again only 10 s from now
  // A flood of distinct keys, each still active (5 s to decay) when the shards overflow: the
  // evicted ones are those closest to decaying, never "busy".
  for (int i = 0; i < 1000; ++i) {
    clock.Advance(milliseconds(1));
    EXPECT_TRUE(limiter.Check("flood-" + std::to_string(i)).allowed);
  }
  EXPECT_LE(limiter.TrackedKeys(), 64u);
  EXPECT_FALSE(limiter.Check("busy").allowed);
  // At 6 s every flood key has fully decayed; "busy" has regained one request (one per 5 s),
  // not its whole burst, so a sweep keeps only "busy".
  clock.Advance(seconds(5));
  EXPECT_TRUE(limiter.Check("busy").allowed);
  EXPECT_FALSE(limiter.Check("busy").allowed);
  limiter.Sweep();
  EXPECT_EQ(limiter.TrackedKeys(), 1u);
}

TEST(RateLimiterTest, ExactCountFromManyThreads) {
  testing::FakeClock clock;  // frozen: nothing replenishes during the test
  RateLimiter limiter(clock, 100, minutes(1));
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter.Check("shared").allowed) ++allowed;
        limiter.Check("own-" + std::to_string(t));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 100);
  EXPECT_EQ(limiter.TrackedKeys(), 5u);
  for (int t = 0; t < 4; ++t) {
    EXPECT_FALSE(limiter.Check("own-" + std::to_string(t)).allowed);
  }
}

TEST(LoginThrottleTest, DelaysGrowAfterFreeAttempts) {
  testing::FakeClock clock;
  LoginThrottle throttle(clock, 3, minutes(10));
  const std::string ip = "203.0.113.9", account = "ann@example.com";
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(throttle.RetryAfter(ip, account), milliseconds(0));
    throttle.RecordFailure(ip, account);
  }
  EXPECT_EQ(throttle.RetryAfter(ip, account), milliseconds(0));
  throttle.RecordFailure(ip, account);  // 3rd failure: free attempts used up
  EXPECT_EQ(throttle.RetryAfter(ip, account), seconds(1));
  clock.Advance(milliseconds(400));
  EXPECT_EQ(throttle.RetryAfter(ip, account), milliseconds(600));
  clock.Advance(milliseconds(600));
  EXPECT_EQ(throttle.RetryAfter(ip, account), milliseconds(0));

  Millis expected = seconds(2);
  for (int i = 0; i < 12; ++i) {
    throttle.RecordFailure(ip, account);
    EXPECT_EQ(throttle.RetryAfter(ip, account), std::min<Millis>(expected, minutes(15))) << i;
    clock.Advance(throttle.RetryAfter(ip, account));
    expected *= 2;
  }
  // Capped at 15 minutes however many failures follow.
  for (int i = 0; i < 100; ++i) throttle.RecordFailure(ip, account);
  EXPECT_EQ(throttle.RetryAfter(ip, account), minutes(15));
}

TEST(LoginThrottleTest, AccountAndIpAreThrottledIndependently) {
  testing::FakeClock clock;
  LoginThrottle throttle(clock, 3, minutes(10));
  // One account attacked from many IPs: the account is throttled for everyone.
  for (int i = 0; i < 3; ++i) throttle.RecordFailure("10.0.0." + std::to_string(i), "ann@x.io");
  EXPECT_EQ(throttle.RetryAfter("10.9.9.9", "ann@x.io"), seconds(1));
  EXPECT_EQ(throttle.RetryAfter("10.9.9.9", "bob@x.io"), milliseconds(0));
  // One IP guessing across many accounts: the IP is throttled for every account.
  for (int i = 0; i < 3; ++i) throttle.RecordFailure("10.1.1.1", "user" + std::to_string(i));
  EXPECT_EQ(throttle.RetryAfter("10.1.1.1", "fresh@x.io"), seconds(1));
  EXPECT_EQ(throttle.RetryAfter("10.2.2.2", "fresh@x.io"), milliseconds(0));
}

TEST(LoginThrottleTest, SuccessClearsTheAccountButNotTheIp) {
  testing::FakeClock clock;
  LoginThrottle throttle(clock, 2, minutes(10));
  throttle.RecordFailure("1.1.1.1", "ann");
  throttle.RecordFailure("1.1.1.1", "ann");
  EXPECT_EQ(throttle.RetryAfter("2.2.2.2", "ann"), seconds(1));
  EXPECT_EQ(throttle.RetryAfter("1.1.1.1", "bob"), seconds(1));
  clock.Advance(seconds(1));
  throttle.RecordSuccess("1.1.1.1", "ann");
  // The account starts afresh ...
  throttle.RecordFailure("2.2.2.2", "ann");
  EXPECT_EQ(throttle.RetryAfter("2.2.2.2", "ann"), milliseconds(0));
  // ... the IP keeps its two failures: one more and it waits 2 s.
  throttle.RecordFailure("1.1.1.1", "bob");
  EXPECT_EQ(throttle.RetryAfter("1.1.1.1", "carol"), seconds(2));
}

TEST(LoginThrottleTest, CountersAreForgottenAfterTheWindow) {
  testing::FakeClock clock;
  LoginThrottle throttle(clock, 2, minutes(10));
  throttle.RecordFailure("ip", "ann");
  clock.Advance(minutes(9));
  throttle.RecordFailure("ip", "ann");  // 2nd within the window
  EXPECT_EQ(throttle.RetryAfter("ip", "ann"), seconds(1));
  // The window of quiet starts when the delay ends.
  clock.Advance(minutes(10));
  EXPECT_EQ(throttle.RetryAfter("ip", "ann"), milliseconds(0));
  throttle.RecordFailure("ip", "ann");  // still remembered: 3rd failure
  EXPECT_EQ(throttle.RetryAfter("ip", "ann"), seconds(2));
  clock.Advance(minutes(10) + seconds(2));
  throttle.RecordFailure("ip", "ann");  // forgotten: counts as the first again
  EXPECT_EQ(throttle.RetryAfter("ip", "ann"), milliseconds(0));
  EXPECT_EQ(throttle.TrackedKeys(), 2u);
  clock.Advance(minutes(10));
  EXPECT_EQ(throttle.Sweep(), 2u);
  EXPECT_EQ(throttle.TrackedKeys(), 0u);
}

TEST(LoginThrottleTest, DelayLongerThanWindowIsStillHonoured) {
  testing::FakeClock clock;
  LoginThrottle throttle(clock, 1, seconds(1));
  for (int i = 0; i < 5; ++i) throttle.RecordFailure("ip", "ann");  // delay 16 s
  EXPECT_EQ(throttle.RetryAfter("ip", "ann"), seconds(16));
  clock.Advance(seconds(15));
  EXPECT_EQ(throttle.RetryAfter("ip", "ann"), seconds(1));
  clock.Advance(seconds(1));
  EXPECT_EQ(throttle.RetryAfter("ip", "ann"), milliseconds(0));
}

TEST(LoginThrottleTest, ThreadsAndBoundedMemory) {
  testing::FakeClock clock;
  LoginThrottle throttle(clock, 5, minutes(10), /*max_keys=*/64);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        throttle.RecordFailure("198.51.100.7", "t" + std::to_string(t) + "-" + std::to_string(i));
        (void)throttle.RetryAfter("198.51.100.7", "someone");
      }
    });
  }
  for (auto& th : threads) th.join();
  // The IP saw 2000 failures: its delay is at the cap. Account keys are bounded by the cap.
  EXPECT_EQ(throttle.RetryAfter("198.51.100.7", "new"), LoginThrottle::kMaxDelay);
  EXPECT_LE(throttle.TrackedKeys(), 64u + 1u);
}

}  // namespace
}  // namespace kiln::auth
