#include "kiln/domain/quota.h"

#include <algorithm>
#include <string>

namespace kiln::domain {
namespace {

bool IsWeekend(int64_t days) {
  const int wd = WeekdayFromDays(days);
  return wd == 0 || wd == 6;
}

// Monday-Friday days in [from, to).
int64_t WeekdaysBetween(int64_t from, int64_t to) {
  if (to <= from) return 0;
  const int64_t weeks = (to - from) / 7;
  int64_t count = weeks * 5;
  for (int64_t d = from + weeks * 7; d < to; ++d) count += IsWeekend(d) ? 0 : 1;
  return count;
}

bool ValidDate(const CivilDate& d) { return IsValidCivilDate(d.year, d.month, d.day); }

}  // namespace

CivilDate DayAt(const TimeZone& zone, int64_t unix_ms) {
  return CivilFromDays(FloorDiv(zone.ToLocalMillis(unix_ms), kMillisPerDay));
}

DayBounds DayBoundsOf(const TimeZone& zone, CivilDate day) {
  const int64_t midnight = DaysFromCivil(day) * kMillisPerDay;
  return DayBounds{zone.ResolveLocal(midnight).earliest_ms,
                   zone.ResolveLocal(midnight + kMillisPerDay).earliest_ms};
}

Status ValidateWarmupPlan(const WarmupPlan& p) {
  if (!ValidDate(p.start_date)) {
    return Status::InvalidArgument("warm-up start date is not a calendar date",
                                   "warmup.start_date");
  }
  if (!ValidDate(p.end_date)) {
    return Status::InvalidArgument("warm-up end date is not a calendar date", "warmup.end_date");
  }
  if (!(p.start_date < p.end_date)) {
    return Status::InvalidArgument("warm-up end date must be after its start date",
                                   "warmup.end_date");
  }
  if (p.start_volume < 1) {
    return Status::InvalidArgument("warm-up start volume must be at least 1",
                                   "warmup.start_volume");
  }
  if (p.daily_increase < 0) {
    return Status::InvalidArgument("warm-up daily increase must not be negative",
                                   "warmup.daily_increase");
  }
  if (p.max_volume < p.start_volume) {
    return Status::InvalidArgument("warm-up maximum (" + std::to_string(p.max_volume) +
                                       ") is below its start volume (" +
                                       std::to_string(p.start_volume) + ")",
                                   "warmup.max_volume");
  }
  return Status::Ok();
}

int WarmupRampVolume(const WarmupPlan& plan, CivilDate day) {
  const int64_t start = DaysFromCivil(plan.start_date);
  const int64_t today = DaysFromCivil(day);
  if (today < start) return 0;
  if (plan.weekdays_only && IsWeekend(today)) return 0;
  const int64_t n = plan.weekdays_only ? WeekdaysBetween(start, today) : today - start;
  const int64_t volume = plan.start_volume + n * int64_t{plan.daily_increase};
  return static_cast<int>(std::min<int64_t>(volume, plan.max_volume));
}

Status ValidateSenderQuota(const SenderQuota& q) {
  if (q.daily_limit < 1) {
    return Status::InvalidArgument("a sender's daily limit must be at least 1", "daily_limit");
  }
  if (q.warmup) return ValidateWarmupPlan(*q.warmup);
  return Status::Ok();
}

DailyAllowance SenderAllowance(const SenderQuota& quota, int warmup_share_percent, CivilDate day) {
  DailyAllowance a;
  if (InWarmup(quota.warmup, day)) {
    a.in_warmup = true;
    a.total = std::min(WarmupRampVolume(*quota.warmup, day), quota.daily_limit);
    a.warmup = a.total;
    return a;
  }
  const int64_t share = std::clamp(warmup_share_percent, 0, 100);
  a.total = std::max(quota.daily_limit, 0);
  a.warmup = static_cast<int>(a.total * share / 100);
  a.cold = a.total - a.warmup;
  return a;
}

int ColdSendsAvailable(const DailyAllowance& allowance, int cold_sent_today,
                       int campaign_daily_limit, int campaign_sent_today) {
  const int own = Remaining(allowance.cold, cold_sent_today);
  if (campaign_daily_limit <= 0) return own;
  return std::min(own, Remaining(campaign_daily_limit, campaign_sent_today));
}

SendKind NextSendKind(const DailyAllowance& a, int cold_sent_today, int warmup_sent_today) {
  const bool cold_left = cold_sent_today < a.cold;
  const bool warmup_left = warmup_sent_today < a.warmup;
  if (!cold_left && !warmup_left) return SendKind::kNone;
  if (!cold_left) return SendKind::kWarmup;
  if (!warmup_left) return SendKind::kCold;
  // After the next send, warm-up should have floor((sent + 1) * warmup / total) of them.
  const int64_t sent = int64_t{cold_sent_today} + warmup_sent_today;
  const int64_t due = (sent + 1) * a.warmup / a.total;
  return warmup_sent_today < due ? SendKind::kWarmup : SendKind::kCold;
}

Status ValidateBotAging(const BotAging& b) {
  if (!ValidDate(b.start_date)) {
    return Status::InvalidArgument("bot aging start date is not a calendar date",
                                   "aging.start_date");
  }
  if (!ValidDate(b.aging_end_date) || b.aging_end_date < b.start_date) {
    return Status::InvalidArgument("bot aging end date must be a date on or after its start",
                                   "aging.aging_end_date");
  }
  if (b.start_volume < 1) {
    return Status::InvalidArgument("bot start volume must be at least 1", "aging.start_volume");
  }
  if (b.max_volume < b.start_volume) {
    return Status::InvalidArgument("bot maximum volume is below its start volume",
                                   "aging.max_volume");
  }
  return Status::Ok();
}

int BotDailyVolume(const BotAging& b, CivilDate day) {
  const int64_t start = DaysFromCivil(b.start_date);
  const int64_t end = DaysFromCivil(b.aging_end_date);
  const int64_t today = DaysFromCivil(day);
  if (today < start) return 0;
  if (today >= end) return b.max_volume;
  return static_cast<int>(b.start_volume +
                          int64_t{b.max_volume - b.start_volume} * (today - start) / (end - start));
}

}  // namespace kiln::domain
