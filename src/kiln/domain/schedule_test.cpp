#include "kiln/domain/schedule.h"

#include <gtest/gtest.h>

#include "kiln/domain/random.h"

namespace kiln::domain {
namespace {

int64_t Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return LocalMillisFromCivil(CivilTime{y, mo, d, h, mi, s, 0});
}

constexpr uint8_t Day(int weekday) { return static_cast<uint8_t>(1u << weekday); }
constexpr int kSunday = 0, kFriday = 5, kSaturday = 6;

const std::vector<std::string>& PropertyZones() {
  static const std::vector<std::string> zones = {"UTC",
                                                 "America/New_York",
                                                 "America/Los_Angeles",
                                                 "Europe/London",
                                                 "Europe/Paris",
                                                 "Europe/Dublin",
                                                 "Asia/Kathmandu",
                                                 "Asia/Kolkata",
                                                 "Asia/Tehran",
                                                 "Pacific/Chatham",
                                                 "Australia/Lord_Howe",
                                                 "Australia/Sydney",
                                                 "America/Santiago",
                                                 "Africa/Casablanca",
                                                 "Pacific/Apia",
                                                 "Pacific/Kiritimati",
                                                 "America/Nuuk",
                                                 "America/St_Johns",
                                                 "Pacific/Honolulu",
                                                 "Africa/Monrovia"};
  return zones;
}

TEST(ScheduleTest, Validation) {
  EXPECT_TRUE(ValidateSchedule(Schedule{}).ok());
  EXPECT_TRUE(ValidateSchedule(Schedule{kEveryDay, 0, 1440}).ok());
  EXPECT_TRUE(ValidateSchedule(Schedule{kEveryDay, 22 * 60, 2 * 60}).ok());
  struct Case {
    Schedule s;
    const char* field;
  } cases[] = {
      {{0, 540, 1020}, "schedule.weekdays"},
      {{0x80 | kWeekdaysMonToFri, 540, 1020}, "schedule.weekdays"},
      {{kEveryDay, -1, 1020}, "schedule.start_minute"},
      {{kEveryDay, 1440, 1020}, "schedule.start_minute"},
      {{kEveryDay, 540, 0}, "schedule.end_minute"},
      {{kEveryDay, 540, 1441}, "schedule.end_minute"},
      {{kEveryDay, 540, 540}, "schedule.end_minute"},
  };
  for (const auto& c : cases) {
    Status st = ValidateSchedule(c.s);
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << c.field;
    EXPECT_EQ(st.field(), c.field) << st.ToString();
  }
}

TEST(ScheduleTest, NextSendableInstantTable) {
  TimeZoneDatabase db;
  const Schedule office{kWeekdaysMonToFri, 9 * 60, 17 * 60};
  const Schedule daily_9_17{kEveryDay, 9 * 60, 17 * 60};
  struct Case {
    const char* name;
    const char* zone;
    Schedule schedule;
    int64_t not_before;
    int64_t want;
  } cases[] = {
      {"inside stays", "America/New_York", office, Utc(2024, 3, 6, 15), Utc(2024, 3, 6, 15)},
      {"before opening", "America/New_York", office, Utc(2024, 3, 6, 12), Utc(2024, 3, 6, 14)},
      {"at closing", "America/New_York", office, Utc(2024, 3, 6, 22), Utc(2024, 3, 7, 14)},
      // Friday evening EST -> Monday 09:00 EDT, across the spring-forward weekend.
      {"weekend over DST", "America/New_York", office, Utc(2024, 3, 8, 23), Utc(2024, 3, 11, 13)},
      // On the spring-forward Sunday itself a 09:00 window opens at 13:00Z (EDT).
      {"spring-forward day", "America/New_York", daily_9_17, Utc(2024, 3, 10, 6),
       Utc(2024, 3, 10, 13)},
      // A window opening inside the skipped hour opens when the clock jumps (03:00 EDT = 07:00Z).
      {"opening in the gap", "America/New_York", Schedule{kEveryDay, 150, 300}, Utc(2024, 3, 10, 6),
       Utc(2024, 3, 10, 7)},
      // Fall back: at 01:45 EDT the 01:00-01:30 window is over, but the clock returns to 01:00.
      {"repeated hour", "America/New_York", Schedule{kEveryDay, 60, 90}, Utc(2024, 11, 3, 5, 45),
       Utc(2024, 11, 3, 6)},
      {"fall-back day", "America/New_York", daily_9_17, Utc(2024, 11, 3, 12), Utc(2024, 11, 3, 14)},
      // New Year's Eve 2024 is a Tuesday: next is Wednesday 1 January 2025.
      {"year end", "America/New_York", office, Utc(2024, 12, 31, 22, 30), Utc(2025, 1, 1, 14)},
      {"year end Sydney", "Australia/Sydney", office, Utc(2024, 12, 31, 6), Utc(2024, 12, 31, 22)},
      // Kathmandu (+05:45): Friday 17:45 local -> Monday 09:00 local = 03:15Z.
      {"45-minute offset", "Asia/Kathmandu", office, Utc(2024, 6, 14, 12), Utc(2024, 6, 17, 3, 15)},
      {"30-minute offset", "Asia/Kolkata", office, Utc(2024, 6, 12, 2), Utc(2024, 6, 12, 3, 30)},
      {"Chatham +13:45 DST", "Pacific/Chatham", office, Utc(2024, 1, 9, 4),
       Utc(2024, 1, 9, 19, 15)},
      // Samoa skipped Friday 30 December 2011 entirely: a Friday-only window waits a week.
      {"skipped day", "Pacific/Apia", Schedule{Day(kFriday), 9 * 60, 17 * 60},
       Utc(2011, 12, 29, 12), Utc(2012, 1, 5, 19)},
      // Windows past midnight belong to the day they open.
      {"night window tail", "UTC", Schedule{Day(kFriday), 22 * 60, 2 * 60}, Utc(2024, 6, 15, 1),
       Utc(2024, 6, 15, 1)},
      {"night window over", "UTC", Schedule{Day(kFriday), 22 * 60, 2 * 60}, Utc(2024, 6, 15, 2),
       Utc(2024, 6, 21, 22)},
      {"night window Sunday tail", "UTC", Schedule{Day(kSaturday), 22 * 60, 2 * 60},
       Utc(2024, 6, 16, 0, 30), Utc(2024, 6, 16, 0, 30)},
      {"whole day", "Europe/Paris", Schedule{Day(kSunday), 0, 1440}, Utc(2024, 6, 12),
       Utc(2024, 6, 15, 22)},
  };
  for (const auto& c : cases) {
    auto zone = *db.Get(c.zone);
    const int64_t got = NextSendableInstant(c.schedule, *zone, c.not_before);
    EXPECT_EQ(got, c.want) << c.name << ": got " << got << " (" << (got - c.want) / 60000
                           << " min off)";
    EXPECT_TRUE(IsInWindow(c.schedule, *zone, got)) << c.name;
  }
}

TEST(ScheduleTest, WindowCloseTable) {
  TimeZoneDatabase db;
  auto ny = *db.Get("America/New_York");
  auto utc = *db.Get("UTC");
  const Schedule office{kWeekdaysMonToFri, 9 * 60, 17 * 60};
  EXPECT_EQ(WindowCloseInstant(office, *ny, Utc(2024, 3, 6, 15)), Utc(2024, 3, 6, 22));
  EXPECT_EQ(WindowCloseInstant(office, *ny, Utc(2024, 3, 6, 23)), Utc(2024, 3, 6, 23));
  const Schedule weekdays_all_day{kWeekdaysMonToFri, 0, 1440};
  EXPECT_EQ(WindowCloseInstant(weekdays_all_day, *utc, Utc(2024, 6, 12, 8)), Utc(2024, 6, 15));
  EXPECT_EQ(WindowCloseInstant(Schedule{kEveryDay, 0, 1440}, *ny, Utc(2024, 6, 12)), kNoEndMillis);
  const Schedule night{Day(kFriday), 22 * 60, 2 * 60};
  EXPECT_EQ(WindowCloseInstant(night, *utc, Utc(2024, 6, 14, 23)), Utc(2024, 6, 15, 2));
  // Fall back inside a 00:00-03:00 window: the window lasts four real hours.
  const Schedule small_hours{kEveryDay, 0, 180};
  EXPECT_EQ(WindowCloseInstant(small_hours, *ny, Utc(2024, 11, 3, 4)), Utc(2024, 11, 3, 8));
  // Spring forward: 00:00-03:00 lasts two.
  EXPECT_EQ(WindowCloseInstant(small_hours, *ny, Utc(2024, 3, 10, 5)), Utc(2024, 3, 10, 7));
}

Schedule RandomSchedule(Rng& rng) {
  Schedule s;
  s.weekdays = static_cast<uint8_t>(rng.UniformInRange(1, kEveryDay));
  s.start_minute = static_cast<int>(rng.UniformInRange(0, kMinutesPerDay - 1));
  do {
    s.end_minute = static_cast<int>(rng.UniformInRange(1, kMinutesPerDay));
  } while (s.end_minute == s.start_minute);
  if (rng.Uniform(4) == 0) {  // plenty of ordinary office windows too
    s.start_minute = static_cast<int>(rng.UniformInRange(6, 11)) * 60;
    s.end_minute = s.start_minute + static_cast<int>(rng.UniformInRange(1, 10)) * 60;
  }
  return s;
}

// For 10k random instants, zones and schedules: the answer is >= not_before, inside the window,
// the millisecond before it is outside (unless it is not_before), and no minute in between is
// inside. Instants cluster around DST switches a third of the time.
TEST(ScheduleTest, NextSendableInstantProperty) {
  TimeZoneDatabase db;
  Rng rng(42);
  int across_transition = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string& name = PropertyZones()[rng.Uniform(PropertyZones().size())];
    auto zone = *db.Get(name);
    const Schedule s = RandomSchedule(rng);
    ASSERT_TRUE(ValidateSchedule(s).ok());
    int64_t nb = rng.UniformInRange(Utc(1970, 1, 1), Utc(2100, 1, 1));
    if (i % 3 == 0) {
      const OffsetSpan span = zone->SpanAt(nb);
      if (span.end_ms != kNoEndMillis) {
        nb = span.end_ms + rng.UniformInRange(-3 * kMillisPerDay, kMillisPerDay);
      }
    }
    const int64_t got = NextSendableInstant(s, *zone, nb);
    ASSERT_GE(got, nb);
    ASSERT_TRUE(IsInWindow(s, *zone, got)) << name << " nb=" << nb;
    if (got > nb) {
      ASSERT_FALSE(IsInWindow(s, *zone, got - 1)) << name << " nb=" << nb;
    }
    ASSERT_LT(got - nb, 9 * kMillisPerDay) << name;
    for (int64_t m = nb; m < got; m += kMillisPerMinute) {
      ASSERT_FALSE(IsInWindow(s, *zone, m)) << name << " nb=" << nb << " got=" << got << " m=" << m;
    }
    if (zone->SpanAt(nb).end_ms <= got) ++across_transition;

    // The window then closes at WindowCloseInstant: inside up to it, outside at it.
    const int64_t close = WindowCloseInstant(s, *zone, got);
    if (close == kNoEndMillis) continue;
    ASSERT_GT(close, got);
    ASSERT_FALSE(IsInWindow(s, *zone, close)) << name;
    ASSERT_TRUE(IsInWindow(s, *zone, close - 1)) << name;
    for (int64_t m = got; m < close; m += 7 * kMillisPerMinute) {
      ASSERT_TRUE(IsInWindow(s, *zone, m)) << name << " got=" << got << " m=" << m;
    }
  }
  EXPECT_GT(across_transition, 100);  // the DST edge cases were really exercised
}

TEST(ScheduleTest, LeadZoneFallsBackToDefault) {
  TimeZoneDatabase db;
  auto paris = *db.Get("Europe/Paris");
  auto tokyo = *db.Get("Asia/Tokyo");
  EXPECT_EQ(&LeadZone(nullptr, *paris), paris.get());
  EXPECT_EQ(&LeadZone(tokyo.get(), *paris), tokyo.get());
}

}  // namespace
}  // namespace kiln::domain
