#include "kiln/analytics/ab_test.h"

#include <cmath>
#include <cstdio>

namespace kiln::analytics {

std::optional<ZTest> TwoProportionZTest(int64_t x1, int64_t n1, int64_t x2, int64_t n2) {
  if (n1 <= 0 || n2 <= 0) return std::nullopt;
  const double p1 = static_cast<double>(x1) / static_cast<double>(n1);
  const double p2 = static_cast<double>(x2) / static_cast<double>(n2);
  const double pooled = static_cast<double>(x1 + x2) / static_cast<double>(n1 + n2);
  if (pooled <= 0 || pooled >= 1) return std::nullopt;
  const double se = std::sqrt(pooled * (1 - pooled) *
                              (1.0 / static_cast<double>(n1) + 1.0 / static_cast<double>(n2)));
  ZTest t;
  t.z = (p1 - p2) / se;
  t.p_value = std::erfc(std::fabs(t.z) / std::sqrt(2.0));
  return t;
}

namespace {

std::string Name(const Arm& a) {
  return a.label.empty() ? "variant " + std::to_string(a.variant_id) : "variant " + a.label;
}

double Rate(const Arm& a) {
  return a.trials > 0 ? static_cast<double>(a.successes) / static_cast<double>(a.trials) : -1;
}

}  // namespace

AbResult CompareArms(const std::vector<Arm>& arms, int64_t min_sample, double alpha) {
  AbResult r;
  if (arms.size() < 2) {
    r.reason = "fewer than two variants";
    return r;
  }
  size_t leader = 0;
  for (size_t i = 1; i < arms.size(); ++i) {
    if (Rate(arms[i]) > Rate(arms[leader])) leader = i;
  }
  size_t runner_up = leader == 0 ? 1 : 0;
  for (size_t i = 0; i < arms.size(); ++i) {
    if (i != leader && Rate(arms[i]) > Rate(arms[runner_up])) runner_up = i;
  }
  if (arms[leader].trials > 0) r.leader_variant_id = arms[leader].variant_id;
  if (arms[runner_up].trials > 0) r.runner_up_variant_id = arms[runner_up].variant_id;
  r.test = TwoProportionZTest(arms[leader].successes, arms[leader].trials,
                              arms[runner_up].successes, arms[runner_up].trials);
  for (const Arm& a : arms) {
    if (a.trials < min_sample) {
      r.reason = Name(a) + " has " + std::to_string(a.trials) + " of the " +
                 std::to_string(min_sample) + " messages needed";
      return r;
    }
  }
  if (!r.test) {
    r.reason = "no difference to test: every variant has the same all-or-nothing outcome";
    return r;
  }
  if (r.test->p_value >= alpha) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "not significant: p = %.4f >= %.2f", r.test->p_value, alpha);
    r.reason = buf;
    return r;
  }
  r.significant = true;
  r.winner_variant_id = arms[leader].variant_id;
  return r;
}

}  // namespace kiln::analytics
