// Daily sending quotas: a sender's cold quota, its warm-up ramp, the share of a day's sends mixed
// to warm-up inboxes ("bots"), a campaign's daily limit, and the aging ramp of a new bot.
//
// Days: a sender's day is the calendar date on the *sender's* wall clock (its own time zone), from
// local midnight to the next local midnight; a bot's day likewise in the bot's zone, and a
// campaign's day in the campaign's default zone. When midnight itself is skipped by a DST switch
// the day starts at the first instant after it (SenderDayBounds). Callers count "sent today"
// within those bounds.
//
// Pure functions over plain structs; thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "kiln/base/status.h"
#include "kiln/domain/civil_time.h"
#include "kiln/domain/tz.h"

namespace kiln::domain {

// The calendar date on `zone`'s wall clock at `unix_ms`.
CivilDate DayAt(const TimeZone& zone, int64_t unix_ms);

// [start_ms, end_ms) of `day` in `zone`: from the first instant whose wall clock reads at or after
// the day's midnight to the same for the next day. 24 hours except on DST switch days.
struct DayBounds {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
};
DayBounds DayBoundsOf(const TimeZone& zone, CivilDate day);

// A sender's warm-up plan (issue 5 §2). The ramp: on day n of the plan (n = 0 on start_date,
// counting only Monday-Friday when weekdays_only) the volume is
// min(max_volume, start_volume + n * daily_increase); with weekdays_only, Saturdays and Sundays
// send no warm-up mail. The sender is in warm-up on every day before end_date.
struct WarmupPlan {
  CivilDate start_date;
  CivilDate end_date;
  int start_volume = 5;
  int daily_increase = 2;
  int max_volume = 40;
  bool weekdays_only = false;
};

// OK when volumes are >= 0 (start and max >= 1), start_volume <= max_volume, the dates are real
// and end_date > start_date; InvalidArgument naming the field ("warmup.max_volume") otherwise.
Status ValidateWarmupPlan(const WarmupPlan& plan);

// The plan's ramp volume on `day` (0 before start_date and, with weekdays_only, on weekends).
int WarmupRampVolume(const WarmupPlan& plan, CivilDate day);

// True on days before the plan's end date.
inline bool InWarmup(const std::optional<WarmupPlan>& plan, CivilDate day) {
  return plan.has_value() && day < plan->end_date;
}

struct SenderQuota {
  int daily_limit = 50;              // most sends of any kind per sender day
  std::optional<WarmupPlan> warmup;  // absent: never warmed up through Kiln
};

// OK when daily_limit >= 1 and the plan (if any) is valid.
Status ValidateSenderQuota(const SenderQuota& quota);

// A sender's budget for one day.
struct DailyAllowance {
  int total = 0;   // cold + warmup
  int cold = 0;    // to campaign leads
  int warmup = 0;  // to warm-up inboxes
  bool in_warmup = false;
};

// The day's budget. In warm-up: the ramp volume (capped by daily_limit), all of it to warm-up
// inboxes and none to leads. Afterwards: daily_limit, of which floor(daily_limit *
// warmup_share_percent / 100) go to warm-up inboxes (the campaign's mix) and the rest to leads.
// `warmup_share_percent` is clamped to [0, 100].
DailyAllowance SenderAllowance(const SenderQuota& quota, int warmup_share_percent, CivilDate day);

// quota - sent, never below zero.
inline int Remaining(int quota, int sent) { return quota > sent ? quota - sent : 0; }

// Cold sends a sender may still make today for a campaign: the smaller of its own remaining cold
// quota and what is left of the campaign's daily limit (a limit <= 0 means "no campaign limit").
int ColdSendsAvailable(const DailyAllowance& allowance, int cold_sent_today,
                       int campaign_daily_limit, int campaign_sent_today);

enum class SendKind { kNone, kCold, kWarmup };

// Which kind of send comes next so that warm-up mail is spread evenly through the day rather than
// sent in a block: warm-up when it is behind its share of the sends made so far, cold otherwise;
// the other kind when one is used up; kNone when both are.
SendKind NextSendKind(const DailyAllowance& allowance, int cold_sent_today, int warmup_sent_today);

// A warm-up inbox's aging ramp (issue 5 §1): from start_volume on start_date rising linearly to
// max_volume on aging_end_date, max_volume afterwards, 0 before start_date.
struct BotAging {
  CivilDate start_date;
  CivilDate aging_end_date;
  int start_volume = 2;
  int max_volume = 30;
};

// OK when 1 <= start_volume <= max_volume and aging_end_date >= start_date.
Status ValidateBotAging(const BotAging& aging);

int BotDailyVolume(const BotAging& aging, CivilDate day);

}  // namespace kiln::domain
