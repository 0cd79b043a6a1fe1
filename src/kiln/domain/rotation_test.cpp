#include "kiln/domain/rotation.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace kiln::domain {
namespace {

SenderSnapshot S(int64_t id, int health, int remaining, SenderStatus status = SenderStatus::kActive,
                 bool in_window = true) {
  return SenderSnapshot{id, status, health, remaining, in_window};
}

TEST(RotationTest, Eligibility) {
  RotationPolicy p{40};
  EXPECT_EQ(CheckEligibility(S(1, 90, 5), p), Eligibility::kEligible);
  EXPECT_EQ(CheckEligibility(S(1, 90, 5, SenderStatus::kPaused), p), Eligibility::kPaused);
  EXPECT_EQ(CheckEligibility(S(1, 90, 5, SenderStatus::kFailed), p), Eligibility::kFailed);
  EXPECT_EQ(CheckEligibility(S(1, 39, 5), p), Eligibility::kUnhealthy);
  EXPECT_EQ(CheckEligibility(S(1, 90, 0), p), Eligibility::kOverQuota);
  EXPECT_EQ(CheckEligibility(S(1, 90, 5, SenderStatus::kActive, false), p),
            Eligibility::kOutsideWindow);
}

TEST(RotationTest, StickyFollowUps) {
  const RotationPolicy p;
  std::vector<SenderSnapshot> pool = {S(10, 90, 5), S(20, 90, 5), S(30, 90, 5)};
  RotationResult r = ChooseSender(pool, int64_t{20}, 1, p);
  EXPECT_EQ(r.kind, RotationResult::Kind::kChosen);
  EXPECT_EQ(r.sender_id, 20);
  EXPECT_EQ(r.index, 1u);
  EXPECT_FALSE(r.reassigned);
  // Over quota or paused: wait for it rather than switch mailboxes mid-thread.
  pool[1].remaining_today = 0;
  r = ChooseSender(pool, int64_t{20}, 1, p);
  EXPECT_EQ(r.kind, RotationResult::Kind::kWaitForSticky);
  EXPECT_EQ(r.sticky_reason, Eligibility::kOverQuota);
  pool[1] = S(20, 90, 5, SenderStatus::kPaused);
  EXPECT_EQ(ChooseSender(pool, int64_t{20}, 1, p).kind, RotationResult::Kind::kWaitForSticky);
  // Failed or gone: reassigned to another.
  pool[1] = S(20, 90, 5, SenderStatus::kFailed);
  r = ChooseSender(pool, int64_t{20}, 1, p);
  EXPECT_EQ(r.kind, RotationResult::Kind::kChosen);
  EXPECT_NE(r.sender_id, 20);
  EXPECT_TRUE(r.reassigned);
  r = ChooseSender(pool, int64_t{99}, 1, p);
  EXPECT_EQ(r.kind, RotationResult::Kind::kChosen);
  EXPECT_TRUE(r.reassigned);
  // Nobody left.
  std::vector<SenderSnapshot> dead = {S(1, 90, 0), S(2, 90, 5, SenderStatus::kPaused)};
  EXPECT_EQ(ChooseSender(dead, std::nullopt, 1, p).kind, RotationResult::Kind::kNoneEligible);
  EXPECT_EQ(ChooseSender({}, std::nullopt, 1, p).kind, RotationResult::Kind::kNoneEligible);
}

TEST(RotationTest, DeterministicGivenSeed) {
  std::vector<SenderSnapshot> pool;
  for (int i = 0; i < 50; ++i) pool.push_back(S(i, 50 + i, 10));
  for (uint64_t seed = 0; seed < 100; ++seed) {
    EXPECT_EQ(ChooseSender(pool, std::nullopt, seed, {}).sender_id,
              ChooseSender(pool, std::nullopt, seed, {}).sender_id);
  }
}

// Random pools: the chosen sender is always eligible, and never chosen when none is.
TEST(RotationTest, NeverPicksIneligibleProperty) {
  Rng rng(3);
  const RotationPolicy p{30};
  for (int trial = 0; trial < 20000; ++trial) {
    std::vector<SenderSnapshot> pool(static_cast<size_t>(rng.UniformInRange(0, 12)));
    for (size_t i = 0; i < pool.size(); ++i) {
      pool[i] = S(static_cast<int64_t>(i), static_cast<int>(rng.UniformInRange(0, 100)),
                  static_cast<int>(rng.UniformInRange(0, 3)),
                  static_cast<SenderStatus>(rng.Uniform(3) == 0 ? rng.UniformInRange(1, 2) : 0),
                  rng.Uniform(5) != 0);
    }
    std::optional<int64_t> sticky;
    if (rng.Uniform(2) == 0) sticky = rng.UniformInRange(0, 14);
    RotationResult r = ChooseSender(pool, sticky, rng.Next(), p);
    bool any = false;
    for (const auto& s : pool) any |= CheckEligibility(s, p) == Eligibility::kEligible;
    switch (r.kind) {
      case RotationResult::Kind::kChosen:
        ASSERT_EQ(CheckEligibility(pool[r.index], p), Eligibility::kEligible);
        ASSERT_EQ(pool[r.index].id, r.sender_id);
        if (sticky && !r.reassigned) {
          ASSERT_EQ(r.sender_id, *sticky);
        }
        break;
      case RotationResult::Kind::kWaitForSticky:
        ASSERT_TRUE(sticky);
        ASSERT_EQ(r.sender_id, *sticky);
        ASSERT_NE(CheckEligibility(pool[r.index], p), Eligibility::kEligible);
        ASSERT_NE(CheckEligibility(pool[r.index], p), Eligibility::kFailed);
        break;
      case RotationResult::Kind::kNoneEligible:
        ASSERT_FALSE(any);
        break;
    }
  }
}

// Over 200k leads the shares follow health * remaining within half a percentage point.
TEST(RotationTest, WeightsRespectedStatistically) {
  std::vector<SenderSnapshot> pool = {S(1, 100, 10), S(2, 50, 10), S(3, 100, 30), S(4, 10, 100),
                                      S(5, 100, 50, SenderStatus::kPaused)};
  const double total = 1000 + 500 + 3000 + 1000;
  const double expected[] = {1000 / total, 500 / total, 3000 / total, 1000 / total, 0};
  std::map<int64_t, int> counts;
  const int n = 200000;
  for (int lead = 0; lead < n; ++lead) {
    ++counts[ChooseSender(pool, std::nullopt, SeedOf(77, static_cast<uint64_t>(lead)), {})
                 .sender_id];
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_NEAR(counts[i + 1] / double{n}, expected[i], 0.005) << "sender " << i + 1;
  }
}

TEST(RotationTest, Backoff) {
  BackoffPolicy p{60'000, 3'600'000, 0, 8};
  ASSERT_TRUE(ValidateBackoffPolicy(p).ok());
  Rng rng(1);
  EXPECT_EQ(BackoffDelay(p, 1, rng), 60'000);
  EXPECT_EQ(BackoffDelay(p, 2, rng), 120'000);
  EXPECT_EQ(BackoffDelay(p, 6, rng), 1'920'000);
  EXPECT_EQ(BackoffDelay(p, 7, rng), 3'600'000);  // capped
  EXPECT_EQ(BackoffDelay(p, 1000, rng), 3'600'000);
  p.jitter_percent = 25;
  for (int attempt = 1; attempt < 12; ++attempt) {
    const int64_t d = std::min<int64_t>(3'600'000, int64_t{60'000} << (attempt - 1));
    for (int i = 0; i < 200; ++i) {
      const int64_t got = BackoffDelay(p, attempt, rng);
      ASSERT_LE(got, d);
      ASSERT_GE(got, d - d / 4);
    }
  }
  EXPECT_FALSE(RetriesExhausted(p, 7));
  EXPECT_TRUE(RetriesExhausted(p, 8));
  EXPECT_EQ(ValidateBackoffPolicy(BackoffPolicy{0, 10, 0, 1}).field(), "backoff.base_delay");
  EXPECT_EQ(ValidateBackoffPolicy(BackoffPolicy{10, 5, 0, 1}).field(), "backoff.max_delay");
  EXPECT_EQ(ValidateBackoffPolicy(BackoffPolicy{10, 50, 101, 1}).field(), "backoff.jitter");
  EXPECT_EQ(ValidateBackoffPolicy(BackoffPolicy{10, 50, 1, 0}).field(), "backoff.max_attempts");
}

TEST(RotationTest, PausePredicates) {
  const FailurePauseRule failures;
  EXPECT_FALSE(ShouldPauseForFailures(10, failures));
  EXPECT_TRUE(ShouldPauseForFailures(11, failures));
  EXPECT_TRUE(ShouldPauseForFailures(3, FailurePauseRule{2}));

  const BounceRule bounces;
  EXPECT_FALSE(ShouldPauseForBounces(49, 49, bounces));  // too few sends to judge
  EXPECT_FALSE(ShouldPauseForBounces(100, 3, bounces));  // exactly 3% is not above
  EXPECT_TRUE(ShouldPauseForBounces(100, 4, bounces));
  EXPECT_TRUE(ShouldPauseForBounces(50, 2, bounces));   // 4%
  EXPECT_FALSE(ShouldPauseForBounces(50, 1, bounces));  // 2%
  EXPECT_FALSE(ShouldPauseForBounces(0, 0, BounceRule{0, 300}));
  EXPECT_TRUE(ShouldPauseForBounces(1000, 11, BounceRule{50, 100}));
  EXPECT_EQ(BouncePauseReason(500, 17, bounces),
            "hard-bounce rate 3.40% (17 of 500 sends) is above 3.00%");
}

}  // namespace
}  // namespace kiln::domain
