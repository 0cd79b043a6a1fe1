#include "kiln/domain/sequence.h"

#include <gtest/gtest.h>

#include <vector>

#include "kiln/domain/random.h"

namespace kiln::domain {
namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kDay = 24 * 60 * kMinute;

SequenceStep Step(int64_t delay_days, StepCondition c = StepCondition::kAlways,
                  std::vector<int> weights = {1}) {
  return SequenceStep{delay_days * 24 * 60, c, std::move(weights)};
}

TEST(SequenceTest, Validation) {
  std::vector<SequenceStep> steps = {Step(0), Step(3)};
  EXPECT_TRUE(ValidateSequence(steps).ok());
  EXPECT_EQ(ValidateSequence({}).field(), "steps");
  steps[1].delay_minutes = -1;
  EXPECT_EQ(ValidateSequence(steps).field(), "steps[1].delay");
  steps[1] = Step(1, StepCondition::kAlways, {});
  EXPECT_EQ(ValidateSequence(steps).field(), "steps[1].variants");
  steps[1] = Step(1, StepCondition::kAlways, {0, 0});
  EXPECT_EQ(ValidateSequence(steps).field(), "steps[1].variants");
  steps[1] = Step(1, StepCondition::kAlways, {3, -1});
  EXPECT_EQ(ValidateSequence(steps).field(), "steps[1].variants[1].weight");
  steps[1] = Step(400);
  EXPECT_EQ(ValidateSequence(steps).field(), "steps[1].delay");
}

TEST(SequenceTest, ProgressionAndDelays) {
  const std::vector<SequenceStep> steps = {Step(0), Step(3), Step(4)};
  const SequenceSettings settings;
  LeadHistory h;
  h.enrolled_at_ms = 1000;
  NextStep n = NextSequenceStep(steps, h, settings, 1000);
  EXPECT_FALSE(n.stop);
  EXPECT_EQ(n.step_index, 0);
  EXPECT_EQ(n.earliest_ms, 1000);
  h.sent.push_back({0, 5 * kDay});
  n = NextSequenceStep(steps, h, settings, 5 * kDay);
  EXPECT_EQ(n.step_index, 1);
  EXPECT_EQ(n.earliest_ms, 8 * kDay);
  h.sent.push_back({1, 9 * kDay});  // sent late (window, quota): the next delay counts from then
  n = NextSequenceStep(steps, h, settings, 9 * kDay);
  EXPECT_EQ(n.step_index, 2);
  EXPECT_EQ(n.earliest_ms, 13 * kDay);
  h.sent.insert(h.sent.begin(), {2, 13 * kDay});  // history order does not matter
  n = NextSequenceStep(steps, h, settings, 20 * kDay);
  EXPECT_TRUE(n.stop);
  EXPECT_EQ(n.reason, StopReason::kCompleted);
  EXPECT_EQ(StopReasonName(n.reason), "completed");
}

TEST(SequenceTest, StopReasonsAndTheirOrder) {
  const std::vector<SequenceStep> steps = {Step(0), Step(3)};
  LeadHistory h;
  h.sent.push_back({0, 0});
  h.auto_replied = true;
  EXPECT_FALSE(NextSequenceStep(steps, h, {false}, 0).stop);  // auto-replies go on by default
  EXPECT_EQ(NextSequenceStep(steps, h, {true}, 0).reason, StopReason::kAutoReplied);
  h.replied = true;
  EXPECT_EQ(NextSequenceStep(steps, h, {true}, 0).reason, StopReason::kReplied);
  h.bounced = true;
  EXPECT_EQ(NextSequenceStep(steps, h, {true}, 0).reason, StopReason::kBounced);
  h.unsubscribed = true;
  EXPECT_EQ(NextSequenceStep(steps, h, {true}, 0).reason, StopReason::kUnsubscribed);
  EXPECT_EQ(StopReasonName(StopReason::kAutoReplied), "auto_replied");
}

TEST(SequenceTest, ConditionsAreJudgedWhenDue) {
  const std::vector<SequenceStep> steps = {Step(0), Step(2, StepCondition::kIfNotOpened),
                                           Step(3, StepCondition::kIfOpened),
                                           Step(1, StepCondition::kIfClicked)};
  LeadHistory h;
  h.sent.push_back({0, 0});
  // Before step 1 is due its condition is not judged yet.
  h.opened = true;
  NextStep n = NextSequenceStep(steps, h, {}, kDay);
  EXPECT_EQ(n.step_index, 1);
  EXPECT_EQ(n.earliest_ms, 2 * kDay);
  // Once due, an opened lead skips "if not opened" and step 2 is due 3 days after step 1's time.
  n = NextSequenceStep(steps, h, {}, 2 * kDay);
  EXPECT_EQ(n.step_index, 2);
  EXPECT_EQ(n.earliest_ms, 5 * kDay);
  // When step 2 is due (and opened) it goes.
  n = NextSequenceStep(steps, h, {}, 6 * kDay);
  EXPECT_EQ(n.step_index, 2);
  EXPECT_EQ(n.earliest_ms, 5 * kDay);
  // Not opened at all: step 1 goes; after it, step 2 and 3 are skipped once due -> completed.
  h.opened = false;
  EXPECT_EQ(NextSequenceStep(steps, h, {}, 2 * kDay).step_index, 1);
  h.sent.push_back({1, 2 * kDay});
  n = NextSequenceStep(steps, h, {}, 4 * kDay);
  EXPECT_EQ(n.step_index, 2);  // not due yet
  n = NextSequenceStep(steps, h, {}, 5 * kDay);
  EXPECT_EQ(n.step_index, 3);  // step 2 skipped at day 5; step 3 due day 6
  EXPECT_EQ(n.earliest_ms, 6 * kDay);
  EXPECT_EQ(NextSequenceStep(steps, h, {}, 6 * kDay).reason, StopReason::kCompleted);
  // A click counts as an open and satisfies "if clicked".
  h.clicked = true;
  n = NextSequenceStep(steps, h, {}, 7 * kDay);
  EXPECT_EQ(n.step_index, 2);
  h.sent.push_back({2, 7 * kDay});
  n = NextSequenceStep(steps, h, {}, 9 * kDay);
  EXPECT_EQ(n.step_index, 3);
  EXPECT_EQ(n.earliest_ms, 8 * kDay);
}

// Random sequences and histories: the answer is never a sent step, never due before the last send
// plus its delay, and is "completed" only when no remaining step can still go.
TEST(SequenceTest, ProgressionProperty) {
  Rng rng(17);
  for (int trial = 0; trial < 20000; ++trial) {
    std::vector<SequenceStep> steps(static_cast<size_t>(rng.UniformInRange(1, 6)));
    for (auto& s : steps) {
      s = SequenceStep{
          rng.UniformInRange(0, 10 * 24 * 60), static_cast<StepCondition>(rng.Uniform(4)), {1}};
    }
    ASSERT_TRUE(ValidateSequence(steps).ok());
    LeadHistory h;
    h.enrolled_at_ms = rng.UniformInRange(0, 100 * kDay);
    h.opened = rng.Uniform(2) == 0;
    h.clicked = rng.Uniform(3) == 0;
    int64_t t = h.enrolled_at_ms;
    const int sent = static_cast<int>(rng.UniformInRange(0, static_cast<int64_t>(steps.size())));
    for (int i = 0; i < sent; ++i) {
      t += steps[static_cast<size_t>(i)].delay_minutes * kMinute + rng.UniformInRange(0, kDay);
      h.sent.push_back({i, t});
    }
    const int64_t now = t + rng.UniformInRange(0, 30 * kDay);
    NextStep n = NextSequenceStep(steps, h, {}, now);
    if (n.stop) {
      ASSERT_EQ(n.reason, StopReason::kCompleted);
      continue;
    }
    ASSERT_GE(n.step_index, sent);
    ASSERT_LT(n.step_index, static_cast<int>(steps.size()));
    int64_t min_due = t;
    for (int i = sent; i <= n.step_index; ++i) {
      min_due += steps[static_cast<size_t>(i)].delay_minutes * kMinute;
    }
    ASSERT_EQ(n.earliest_ms, min_due);  // skipped steps keep their place in time
  }
}

TEST(SequenceTest, VariantsDeterministicAndWeighted) {
  const std::vector<int> weights = {50, 30, 20, 0};
  // Same (campaign, lead, step) -> same variant.
  for (uint64_t lead = 0; lead < 100; ++lead) {
    EXPECT_EQ(ChooseVariant(weights, SeedOf(1, lead, 2)),
              ChooseVariant(weights, SeedOf(1, lead, 2)));
  }
  std::vector<int> counts(weights.size(), 0);
  const int n = 100000;
  for (int lead = 0; lead < n; ++lead) {
    ++counts[ChooseVariant(weights, SeedOf(9, static_cast<uint64_t>(lead), 0))];
  }
  EXPECT_NEAR(counts[0] / double{n}, 0.5, 0.01);
  EXPECT_NEAR(counts[1] / double{n}, 0.3, 0.01);
  EXPECT_NEAR(counts[2] / double{n}, 0.2, 0.01);
  EXPECT_EQ(counts[3], 0);
  // Different steps of one lead are drawn independently.
  int same = 0;
  const std::vector<int> halves = {1, 1};
  for (uint64_t lead = 0; lead < 10000; ++lead) {
    same += ChooseVariant(halves, SeedOf(3, lead, 0)) == ChooseVariant(halves, SeedOf(3, lead, 1));
  }
  EXPECT_NEAR(same / 10000.0, 0.5, 0.03);
  const std::vector<int> single = {7};
  EXPECT_EQ(ChooseVariant(single, 12345), 0u);
}

}  // namespace
}  // namespace kiln::domain
