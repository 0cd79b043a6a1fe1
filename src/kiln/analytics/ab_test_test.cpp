// The A/B test against values worked out by hand (and checked with a second implementation):
//   30/200 vs 15/200: pooled 45/400 = 0.1125, se = sqrt(0.1125 * 0.8875 * (1/200 + 1/200))
//   = 0.0315980, z = (0.15 - 0.075) / se = 2.373563, p = erfc(z / sqrt 2) = 0.017617.
//   12/100 vs 8/100: pooled 0.1, se = sqrt(0.1 * 0.9 * 0.02) = 0.0424264, z = 0.04 / se
//   = 0.942809, p = 0.345779.
#include "kiln/analytics/ab_test.h"

#include <gtest/gtest.h>

namespace kiln::analytics {
namespace {

TEST(TwoProportionZTest, HandComputedValues) {
  auto t = TwoProportionZTest(30, 200, 15, 200);
  ASSERT_TRUE(t.has_value());
  EXPECT_NEAR(t->z, 2.373563, 1e-6);
  EXPECT_NEAR(t->p_value, 0.017617, 1e-6);
  auto reversed = TwoProportionZTest(15, 200, 30, 200);
  ASSERT_TRUE(reversed.has_value());
  EXPECT_NEAR(reversed->z, -2.373563, 1e-6);
  EXPECT_NEAR(reversed->p_value, 0.017617, 1e-6);
  auto small = TwoProportionZTest(12, 100, 8, 100);
  ASSERT_TRUE(small.has_value());
  EXPECT_NEAR(small->z, 0.942809, 1e-6);
  EXPECT_NEAR(small->p_value, 0.345779, 1e-6);
}

TEST(TwoProportionZTest, UntestableSamples) {
  EXPECT_FALSE(TwoProportionZTest(0, 0, 5, 10).has_value());   // empty sample
  EXPECT_FALSE(TwoProportionZTest(0, 50, 0, 50).has_value());  // no successes anywhere
  EXPECT_FALSE(TwoProportionZTest(9, 9, 4, 4).has_value());    // all successes
  auto equal = TwoProportionZTest(10, 100, 10, 100);
  ASSERT_TRUE(equal.has_value());
  EXPECT_DOUBLE_EQ(equal->z, 0);
  EXPECT_DOUBLE_EQ(equal->p_value, 1);
}

TEST(CompareArms, SignificantWinner) {
  AbResult r = CompareArms({{.variant_id = 7, .label = "A", .successes = 15, .trials = 200},
                            {.variant_id = 8, .label = "B", .successes = 30, .trials = 200}},
                           100);
  EXPECT_TRUE(r.significant);
  EXPECT_EQ(r.winner_variant_id, 8);
  EXPECT_EQ(r.leader_variant_id, 8);
  EXPECT_EQ(r.runner_up_variant_id, 7);
  ASSERT_TRUE(r.test.has_value());
  EXPECT_NEAR(r.test->z, 2.373563, 1e-6);
  EXPECT_EQ(r.reason, "");
}

TEST(CompareArms, LeaderAgainstRunnerUpOfThree) {
  // C leads (30/200); the runner-up is A (20/200), not B (10/200): 30 vs 20 of 200 gives pooled
  // 0.125, se = sqrt(0.125 * 0.875 * 0.01) = 0.0330719, z = 0.05 / se = 1.511858, p = 0.130570.
  AbResult r = CompareArms({{.variant_id = 1, .label = "A", .successes = 20, .trials = 200},
                            {.variant_id = 2, .label = "B", .successes = 10, .trials = 200},
                            {.variant_id = 3, .label = "C", .successes = 30, .trials = 200}},
                           100);
  EXPECT_FALSE(r.significant);
  EXPECT_FALSE(r.winner_variant_id.has_value());
  EXPECT_EQ(r.leader_variant_id, 3);
  EXPECT_EQ(r.runner_up_variant_id, 1);
  ASSERT_TRUE(r.test.has_value());
  EXPECT_NEAR(r.test->z, 1.511858, 1e-6);
  EXPECT_NEAR(r.test->p_value, 0.130570, 1e-6);
  EXPECT_EQ(r.reason, "not significant: p = 0.1306 >= 0.05");
}

TEST(CompareArms, MinimumSamplePerArm) {
  // Significant on the numbers, but B has too few messages.
  AbResult r = CompareArms({{.variant_id = 1, .label = "A", .successes = 60, .trials = 400},
                            {.variant_id = 2, .label = "B", .successes = 2, .trials = 99}},
                           100);
  EXPECT_FALSE(r.significant);
  EXPECT_FALSE(r.winner_variant_id.has_value());
  EXPECT_EQ(r.leader_variant_id, 1);
  EXPECT_EQ(r.reason, "variant B has 99 of the 100 messages needed");
  // The same arms with a smaller minimum do name a winner.
  EXPECT_EQ(CompareArms({{.variant_id = 1, .label = "A", .successes = 60, .trials = 400},
                         {.variant_id = 2, .label = "B", .successes = 2, .trials = 99}},
                        50)
                .winner_variant_id,
            1);
}

TEST(CompareArms, NothingToCompare) {
  EXPECT_EQ(CompareArms({{.variant_id = 1, .successes = 5, .trials = 200}}).reason,
            "fewer than two variants");
  AbResult none = CompareArms({{.variant_id = 1, .label = "A", .successes = 0, .trials = 150},
                               {.variant_id = 2, .label = "B", .successes = 0, .trials = 150}});
  EXPECT_FALSE(none.significant);
  EXPECT_FALSE(none.test.has_value());
  EXPECT_EQ(none.reason,
            "no difference to test: every variant has the same all-or-nothing outcome");
}

}  // namespace
}  // namespace kiln::analytics
