#include "kiln/domain/sequence.h"

#include <cstdlib>
#include <string>

#include "kiln/domain/random.h"

namespace kiln::domain {

Status ValidateSequence(std::span<const SequenceStep> steps) {
  if (steps.empty()) return Status::InvalidArgument("a sequence needs at least one step", "steps");
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string field = "steps[" + std::to_string(i) + "]";
    const SequenceStep& s = steps[i];
    if (s.delay_minutes < 0 || s.delay_minutes > kMaxStepDelayMinutes) {
      return Status::InvalidArgument("step delay must be between 0 and 365 days", field + ".delay");
    }
    if (s.variant_weights.empty() || s.variant_weights.size() > kMaxVariants) {
      return Status::InvalidArgument("a step needs between 1 and 26 variants", field + ".variants");
    }
    int64_t sum = 0;
    for (size_t v = 0; v < s.variant_weights.size(); ++v) {
      if (s.variant_weights[v] < 0) {
        return Status::InvalidArgument("variant weight must not be negative",
                                       field + ".variants[" + std::to_string(v) + "].weight");
      }
      sum += s.variant_weights[v];
    }
    if (sum == 0) {
      return Status::InvalidArgument("at least one variant needs a positive weight",
                                     field + ".variants");
    }
  }
  return Status::Ok();
}

std::string_view StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kNone:
      return "none";
    case StopReason::kUnsubscribed:
      return "unsubscribed";
    case StopReason::kBounced:
      return "bounced";
    case StopReason::kReplied:
      return "replied";
    case StopReason::kAutoReplied:
      return "auto_replied";
    case StopReason::kCompleted:
      return "completed";
  }
  return "none";
}

NextStep NextSequenceStep(std::span<const SequenceStep> steps, const LeadHistory& h,
                          const SequenceSettings& settings, int64_t now_ms) {
  auto stop = [](StopReason reason) {
    NextStep n;
    n.stop = true;
    n.reason = reason;
    return n;
  };
  if (h.unsubscribed) return stop(StopReason::kUnsubscribed);
  if (h.bounced) return stop(StopReason::kBounced);
  if (h.replied) return stop(StopReason::kReplied);
  if (h.auto_replied && settings.stop_on_auto_reply) return stop(StopReason::kAutoReplied);

  // The latest step sent and when.
  int64_t next = 0;
  int64_t previous_at = h.enrolled_at_ms;
  for (const SentStep& s : h.sent) {
    if (s.step_index + int64_t{1} > next) {
      next = s.step_index + int64_t{1};
      previous_at = s.sent_at_ms;
    }
  }
  const bool opened = h.opened || h.clicked;
  for (; next < static_cast<int64_t>(steps.size()); ++next) {
    const SequenceStep& step = steps[static_cast<size_t>(next)];
    const int64_t due = previous_at + step.delay_minutes * 60'000;
    bool condition = true;
    switch (step.condition) {
      case StepCondition::kAlways:
        break;
      case StepCondition::kIfNotOpened:
        condition = !opened;
        break;
      case StepCondition::kIfOpened:
        condition = opened;
        break;
      case StepCondition::kIfClicked:
        condition = h.clicked;
        break;
    }
    if (now_ms < due || condition) {
      NextStep n;
      n.step_index = static_cast<int>(next);
      n.earliest_ms = due;
      return n;
    }
    previous_at = due;  // skipped: the next delay counts from when this step would have gone
  }
  return stop(StopReason::kCompleted);
}

size_t ChooseVariant(std::span<const int> weights, uint64_t seed) {
  uint64_t total = 0;
  for (int w : weights) total += w > 0 ? static_cast<uint64_t>(w) : 0;
  if (total == 0) std::abort();  // broken invariant: ValidateSequence rejects this
  Rng rng(seed);
  uint64_t pick = rng.Uniform(total);
  for (size_t i = 0; i < weights.size(); ++i) {
    const uint64_t w = weights[i] > 0 ? static_cast<uint64_t>(weights[i]) : 0;
    if (pick < w) return i;
    pick -= w;
  }
  std::abort();  // unreachable
}

}  // namespace kiln::domain
