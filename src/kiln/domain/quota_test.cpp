#include "kiln/domain/quota.h"

#include <gtest/gtest.h>

#include <map>

#include "kiln/domain/random.h"

namespace kiln::domain {
namespace {

int64_t Utc(int y, int mo, int d, int h = 0, int mi = 0) {
  return LocalMillisFromCivil(CivilTime{y, mo, d, h, mi, 0, 0});
}
CivilDate D(int y, int m, int d) { return CivilDate{y, m, d}; }
CivilDate AddDays(CivilDate d, int64_t n) { return CivilFromDays(DaysFromCivil(d) + n); }

TEST(QuotaTest, DaysAreTheSendersLocalDays) {
  TimeZoneDatabase db;
  auto ny = *db.Get("America/New_York");
  auto tokyo = *db.Get("Asia/Tokyo");
  // 2024-06-12T02:00Z is still 11 June in New York, already 12 June in Tokyo.
  EXPECT_EQ(DayAt(*ny, Utc(2024, 6, 12, 2)), D(2024, 6, 11));
  EXPECT_EQ(DayAt(*tokyo, Utc(2024, 6, 12, 2)), D(2024, 6, 12));
  DayBounds b = DayBoundsOf(*ny, D(2024, 6, 11));
  EXPECT_EQ(b.start_ms, Utc(2024, 6, 11, 4));
  EXPECT_EQ(b.end_ms, Utc(2024, 6, 12, 4));
  // DST switch days last 23 and 25 hours.
  b = DayBoundsOf(*ny, D(2024, 3, 10));
  EXPECT_EQ(b.end_ms - b.start_ms, 23 * kMillisPerHour);
  b = DayBoundsOf(*ny, D(2024, 11, 3));
  EXPECT_EQ(b.end_ms - b.start_ms, 25 * kMillisPerHour);
  // America/Santiago springs forward at midnight: 2024-09-08 starts at 01:00 local.
  auto scl = *db.Get("America/Santiago");
  b = DayBoundsOf(*scl, D(2024, 9, 8));
  EXPECT_EQ(b.start_ms, Utc(2024, 9, 8, 4));
  EXPECT_EQ(scl->ToCivil(b.start_ms).hour, 1);
  EXPECT_EQ(DayAt(*scl, b.start_ms - 1), D(2024, 9, 7));
}

TEST(QuotaTest, WarmupRampTable) {
  WarmupPlan p{D(2024, 6, 3), D(2024, 7, 1), 5, 3, 20, false};  // 2024-06-03 is a Monday
  ASSERT_TRUE(ValidateWarmupPlan(p).ok());
  EXPECT_EQ(WarmupRampVolume(p, D(2024, 6, 2)), 0);
  EXPECT_EQ(WarmupRampVolume(p, D(2024, 6, 3)), 5);
  EXPECT_EQ(WarmupRampVolume(p, D(2024, 6, 4)), 8);
  EXPECT_EQ(WarmupRampVolume(p, D(2024, 6, 8)), 20);  // 5 + 5*3 = 20
  EXPECT_EQ(WarmupRampVolume(p, D(2024, 6, 20)), 20);
  p.weekdays_only = true;
  EXPECT_EQ(WarmupRampVolume(p, D(2024, 6, 7)), 17);   // Friday: 4 weekdays in
  EXPECT_EQ(WarmupRampVolume(p, D(2024, 6, 8)), 0);    // Saturday
  EXPECT_EQ(WarmupRampVolume(p, D(2024, 6, 9)), 0);    // Sunday
  EXPECT_EQ(WarmupRampVolume(p, D(2024, 6, 10)), 20);  // Monday: 5 weekdays in -> capped
  p.max_volume = 100;
  EXPECT_EQ(WarmupRampVolume(p, D(2024, 6, 10)), 20);
  EXPECT_EQ(WarmupRampVolume(p, D(2024, 6, 17)), 35);  // 10 weekdays in
}

TEST(QuotaTest, Allowance) {
  SenderQuota q{30, WarmupPlan{D(2024, 6, 3), D(2024, 6, 17), 5, 5, 40, false}};
  ASSERT_TRUE(ValidateSenderQuota(q).ok());
  DailyAllowance a = SenderAllowance(q, 20, D(2024, 6, 4));
  EXPECT_TRUE(a.in_warmup);
  EXPECT_EQ(a.total, 10);
  EXPECT_EQ(a.warmup, 10);
  EXPECT_EQ(a.cold, 0);
  a = SenderAllowance(q, 20, D(2024, 6, 16));
  EXPECT_EQ(a.total, 30);  // ramp 70, capped by the daily limit
  EXPECT_EQ(a.cold, 0);
  a = SenderAllowance(q, 20, D(2024, 6, 17));  // warm-up over: the campaign's mix
  EXPECT_FALSE(a.in_warmup);
  EXPECT_EQ(a.total, 30);
  EXPECT_EQ(a.warmup, 6);
  EXPECT_EQ(a.cold, 24);
  EXPECT_EQ(SenderAllowance(q, 150, D(2024, 7, 1)).warmup, 30);
  EXPECT_EQ(SenderAllowance(q, -5, D(2024, 7, 1)).cold, 30);
  EXPECT_EQ(SenderAllowance(SenderQuota{7, std::nullopt}, 33, D(2024, 7, 1)).warmup, 2);

  EXPECT_EQ(Remaining(10, 3), 7);
  EXPECT_EQ(Remaining(10, 12), 0);
  a = SenderAllowance(q, 20, D(2024, 7, 1));
  EXPECT_EQ(ColdSendsAvailable(a, 4, 0, 0), 20);
  EXPECT_EQ(ColdSendsAvailable(a, 4, 100, 95), 5);
  EXPECT_EQ(ColdSendsAvailable(a, 24, 100, 0), 0);
}

TEST(QuotaTest, ValidationNamesTheField) {
  struct Case {
    WarmupPlan p;
    const char* field;
  } cases[] = {
      {{D(2024, 2, 30), D(2024, 6, 1), 5, 1, 10, false}, "warmup.start_date"},
      {{D(2024, 6, 1), D(2024, 6, 1), 5, 1, 10, false}, "warmup.end_date"},
      {{D(2024, 6, 1), D(2024, 7, 1), 0, 1, 10, false}, "warmup.start_volume"},
      {{D(2024, 6, 1), D(2024, 7, 1), 5, -1, 10, false}, "warmup.daily_increase"},
      {{D(2024, 6, 1), D(2024, 7, 1), 5, 1, 4, false}, "warmup.max_volume"},
  };
  for (const auto& c : cases) EXPECT_EQ(ValidateWarmupPlan(c.p).field(), c.field);
  EXPECT_EQ(ValidateSenderQuota(SenderQuota{0, std::nullopt}).field(), "daily_limit");
  EXPECT_EQ(ValidateBotAging(BotAging{D(2024, 6, 1), D(2024, 5, 1), 2, 30}).field(),
            "aging.aging_end_date");
  EXPECT_EQ(ValidateBotAging(BotAging{D(2024, 6, 1), D(2024, 7, 1), 40, 30}).field(),
            "aging.max_volume");
}

TEST(QuotaTest, MixSpreadsWarmupEvenly) {
  DailyAllowance a{50, 40, 10, false};
  int cold = 0, warm = 0;
  std::string pattern;
  while (true) {
    SendKind k = NextSendKind(a, cold, warm);
    if (k == SendKind::kNone) break;
    pattern += k == SendKind::kWarmup ? 'W' : 'c';
    (k == SendKind::kWarmup ? warm : cold)++;
    // Never more than one send ahead of or behind the even share.
    const int sent = cold + warm;
    EXPECT_LE(std::abs(warm * a.total - sent * a.warmup), a.total);
  }
  EXPECT_EQ(cold, 40);
  EXPECT_EQ(warm, 10);
  EXPECT_EQ(pattern.substr(0, 10), "ccccWccccW");
  // When one kind runs out the other continues; in warm-up everything goes to bots.
  EXPECT_EQ(NextSendKind(a, 40, 3), SendKind::kWarmup);
  EXPECT_EQ(NextSendKind(a, 3, 10), SendKind::kCold);
  EXPECT_EQ(NextSendKind(DailyAllowance{12, 0, 12, true}, 0, 5), SendKind::kWarmup);
}

TEST(QuotaTest, BotAgingRamp) {
  BotAging b{D(2024, 6, 1), D(2024, 6, 11), 2, 32};
  ASSERT_TRUE(ValidateBotAging(b).ok());
  EXPECT_EQ(BotDailyVolume(b, D(2024, 5, 31)), 0);
  EXPECT_EQ(BotDailyVolume(b, D(2024, 6, 1)), 2);
  EXPECT_EQ(BotDailyVolume(b, D(2024, 6, 6)), 17);
  EXPECT_EQ(BotDailyVolume(b, D(2024, 6, 11)), 32);
  EXPECT_EQ(BotDailyVolume(b, D(2025, 1, 1)), 32);
  int previous = 0;
  for (int i = 0; i < 20; ++i) {
    const int v = BotDailyVolume(b, AddDays(b.start_date, i));
    EXPECT_GE(v, previous);
    EXPECT_LE(v, b.max_volume);
    previous = v;
  }
}

// A simulated month for many random senders in zones with DST: a sender sends whenever its
// allowance for its own local day has room. Per local day the counts never exceed the
// allowance, the daily limit or the ramp; the ramp never shrinks on sending days.
TEST(QuotaTest, SimulatedMonthNeverExceedsQuota) {
  TimeZoneDatabase db;
  Rng rng(99);
  const char* zones[] = {"America/New_York", "Europe/London",    "Australia/Sydney",
                         "Asia/Kathmandu",   "America/Santiago", "UTC"};
  for (int sender = 0; sender < 60; ++sender) {
    auto zone = *db.Get(zones[sender % 6]);
    SenderQuota q;
    q.daily_limit = static_cast<int>(rng.UniformInRange(5, 80));
    if (rng.Uniform(3) != 0) {
      WarmupPlan p;
      p.start_date = D(2024, 10, static_cast<int>(rng.UniformInRange(1, 20)));
      p.end_date = AddDays(p.start_date, rng.UniformInRange(5, 40));
      p.start_volume = static_cast<int>(rng.UniformInRange(1, 10));
      p.daily_increase = static_cast<int>(rng.UniformInRange(0, 5));
      p.max_volume = p.start_volume + static_cast<int>(rng.UniformInRange(0, 60));
      p.weekdays_only = rng.Uniform(2) == 0;
      q.warmup = p;
    }
    ASSERT_TRUE(ValidateSenderQuota(q).ok());
    const int share = static_cast<int>(rng.UniformInRange(0, 50));
    // Month of October-November 2024 (crosses both DST ends), one attempt every ~7 minutes.
    std::map<int64_t, std::pair<int, int>> per_day;  // local day -> (cold, warmup)
    for (int64_t t = Utc(2024, 10, 15); t < Utc(2024, 11, 15);
         t += 5 * kMillisPerMinute + rng.UniformInRange(0, 4 * kMillisPerMinute)) {
      const CivilDate day = DayAt(*zone, t);
      const DailyAllowance a = SenderAllowance(q, share, day);
      auto& [cold, warm] = per_day[DaysFromCivil(day)];
      const SendKind k = NextSendKind(a, cold, warm);
      if (k == SendKind::kCold) ++cold;
      if (k == SendKind::kWarmup) ++warm;
    }
    int previous_ramp = 0;
    for (const auto& [days, counts] : per_day) {
      const CivilDate day = CivilFromDays(days);
      const DailyAllowance a = SenderAllowance(q, share, day);
      ASSERT_LE(counts.first, a.cold);
      ASSERT_LE(counts.second, a.warmup);
      ASSERT_LE(counts.first + counts.second, q.daily_limit);
      if (a.in_warmup) {
        ASSERT_EQ(counts.first, 0) << "no cold mail during warm-up";
        ASSERT_LE(counts.second, q.warmup->max_volume);
        if (a.total > 0) {
          ASSERT_GE(a.total, std::min(previous_ramp, q.daily_limit));
          previous_ramp = a.total;
        }
      }
      // Full days in the middle of the month are used to the last send.
      if (days > DaysFromCivil(D(2024, 10, 16)) && days < DaysFromCivil(D(2024, 11, 13))) {
        ASSERT_EQ(counts.first + counts.second, a.total) << zones[sender % 6];
      }
    }
  }
}

}  // namespace
}  // namespace kiln::domain
