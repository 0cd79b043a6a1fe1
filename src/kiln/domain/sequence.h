// Sequence progression: given a campaign's steps and what has happened with one lead, what comes
// next — a step and the earliest time it may go, or a stop and why — and which A/B/n variant a
// lead gets.
//
// Rules:
//  * Stops, checked first and in this order: unsubscribed, bounced, replied, auto-replied (only
//    when the campaign says so). Then "completed" when no step is left.
//  * Steps go in order. Step i is due `delay_minutes` after step i-1 was sent (step 0: after the
//    lead was enrolled). Sending windows are applied afterwards by the scheduler (schedule.h).
//  * A step's condition is judged when the step comes due, not before: until then NextStep
//    reports the step and its due time; once now >= due, a step whose condition fails is skipped
//    and the following step becomes due `delay_minutes` after the skipped step's due time.
//    Skips are not stored: the answer is a function of the history and `now`.
//  * A click counts as an open (a tracked click proves the message was opened even when the
//    tracking pixel was blocked).
//
// Pure functions over plain structs; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"

namespace kiln::domain {

enum class StepCondition { kAlways, kIfNotOpened, kIfOpened, kIfClicked };

struct SequenceStep {
  int64_t delay_minutes = 0;
  StepCondition condition = StepCondition::kAlways;
  std::vector<int> variant_weights = {1};  // A/B/n: one weight per variant
};

inline constexpr int64_t kMaxStepDelayMinutes = int64_t{365} * 24 * 60;
inline constexpr size_t kMaxVariants = 26;

// OK when there is at least one step, every delay is in [0, 365 days], and every step has 1..26
// variants with weights >= 0 summing to > 0. InvalidArgument names the field ("steps[2].delay").
Status ValidateSequence(std::span<const SequenceStep> steps);

struct SentStep {
  int step_index = 0;
  int64_t sent_at_ms = 0;
};

struct LeadHistory {
  int64_t enrolled_at_ms = 0;
  std::vector<SentStep> sent;  // any order
  bool opened = false;
  bool clicked = false;
  bool replied = false;
  bool unsubscribed = false;
  bool bounced = false;
  bool auto_replied = false;
};

struct SequenceSettings {
  bool stop_on_auto_reply = false;
};

enum class StopReason { kNone, kUnsubscribed, kBounced, kReplied, kAutoReplied, kCompleted };
std::string_view StopReasonName(StopReason reason);  // "unsubscribed", ..., "completed"

struct NextStep {
  bool stop = false;
  StopReason reason = StopReason::kNone;  // when stop
  int step_index = 0;                     // when !stop
  int64_t earliest_ms = 0;                // when !stop: due time (may be in the past)
};

// The lead's next step at `now_ms` under the rules above. `steps` must be valid.
NextStep NextSequenceStep(std::span<const SequenceStep> steps, const LeadHistory& history,
                          const SequenceSettings& settings, int64_t now_ms);

// Picks a variant index with probability weight / sum(weights), deterministically from `seed`
// (use SeedOf(campaign_id, lead_id, step_index) so a re-render or retry picks the same one).
// Weights must be >= 0 with a positive sum.
size_t ChooseVariant(std::span<const int> weights, uint64_t seed);

}  // namespace kiln::domain
