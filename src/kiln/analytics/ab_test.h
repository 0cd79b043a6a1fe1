// A/B test of a step's variants: which variant has the higher rate of some outcome (replies,
// opens) per delivered message, and whether the difference is more than chance.
//
// The test is the two-proportion z-test with a pooled proportion, two-sided: the leader (highest
// rate) against the runner-up. A winner is named only when every variant of the step has at least
// `min_sample` trials and p < alpha; otherwise the result says why there is none.
//
// Pure functions over values; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kiln::analytics {

inline constexpr int64_t kDefaultAbMinSample = 100;  // delivered messages per variant
inline constexpr double kAbAlpha = 0.05;

struct ZTest {
  double z = 0;        // (p1 - p2) / standard error; positive when sample 1 is higher
  double p_value = 1;  // two-sided
};

// Success: the test of x1 successes in n1 trials against x2 in n2. nullopt when it cannot be
// computed: a sample is empty, or the pooled proportion is 0 or 1 (no variance: both samples all
// failures or all successes). Requires 0 <= x <= n.
std::optional<ZTest> TwoProportionZTest(int64_t x1, int64_t n1, int64_t x2, int64_t n2);

struct Arm {
  int64_t variant_id = 0;
  std::string label;
  int64_t successes = 0;
  int64_t trials = 0;
};

struct AbResult {
  std::optional<int64_t> winner_variant_id;  // set only when significant
  std::optional<int64_t> leader_variant_id;  // highest rate (ties: first arm), when any trials
  std::optional<int64_t> runner_up_variant_id;
  std::optional<ZTest> test;  // leader vs runner-up, when computable
  bool significant = false;   // test computed, p < alpha and every arm has min_sample trials
  std::string reason;         // why there is no winner ("" when there is one)
};

// Compares the arms (in the step's order). Fewer than two arms, an arm below min_sample, an
// untestable pair or p >= alpha: no winner, with the reason in words naming the variant or the
// p-value.
AbResult CompareArms(const std::vector<Arm>& arms, int64_t min_sample = kDefaultAbMinSample,
                     double alpha = kAbAlpha);

}  // namespace kiln::analytics
