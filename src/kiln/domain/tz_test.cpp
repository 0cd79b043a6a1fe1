#include "kiln/domain/tz.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "kiln/domain/random.h"

namespace kiln::domain {
namespace {

int64_t Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return LocalMillisFromCivil(CivilTime{y, mo, d, h, mi, s, 0});
}

std::shared_ptr<const TimeZone> Zone(TimeZoneDatabase& db, std::string_view name) {
  auto z = db.Get(name);
  EXPECT_TRUE(z.ok()) << name << ": " << z.status().ToString();
  return z.ok() ? *z : nullptr;
}

// A minimal version-2 TZif file: no transitions, one type, the given footer.
std::string TzifWithFooter(std::string_view footer, int32_t offset = 0) {
  std::string s;
  auto u32 = [&s](uint32_t v) {
    for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  auto header = [&] {
    s += "TZif2";
    s.append(15, '\0');
    for (uint32_t c : {0u, 0u, 0u, 0u, 1u, 4u}) u32(c);
    u32(static_cast<uint32_t>(offset));
    s.push_back('\0');
    s.push_back('\0');
    s.append("ZZZ", 4);
  };
  header();
  header();
  s += "\n" + std::string(footer) + "\n";
  return s;
}

// The zone names listed by tzdata (zone1970.tab plus a few links and Etc zones).
std::vector<std::string> SystemZoneNames() {
  std::vector<std::string> names = {"UTC",           "Etc/GMT+5", "Etc/GMT-14", "US/Eastern",
                                    "Asia/Calcutta", "EST5EDT",   "Europe/Kiev"};
  std::ifstream in(std::string(TimeZoneDatabase::kDefaultDirectory) + "/zone1970.tab");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string codes, coords, name;
    fields >> codes >> coords >> name;
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

TEST(TimeZoneTest, KnownOffsets) {
  TimeZoneDatabase db;
  struct Case {
    const char* zone;
    int64_t at;
    int32_t offset;
    bool dst;
    const char* abbr;
  } cases[] = {
      {"America/New_York", Utc(2024, 1, 15, 12), -5 * 3600, false, "EST"},
      {"America/New_York", Utc(2024, 7, 1, 12), -4 * 3600, true, "EDT"},
      {"Europe/Paris", Utc(2024, 7, 1), 2 * 3600, true, "CEST"},
      {"Asia/Kathmandu", Utc(2024, 3, 1), 5 * 3600 + 45 * 60, false, "+0545"},
      {"Asia/Kolkata", Utc(2024, 3, 1), 5 * 3600 + 30 * 60, false, "IST"},
      {"Pacific/Chatham", Utc(2024, 1, 1), 13 * 3600 + 45 * 60, true, "+1345"},
      {"Australia/Lord_Howe", Utc(2024, 1, 1), 11 * 3600, true, "+11"},
      {"Australia/Lord_Howe", Utc(2024, 7, 1), 10 * 3600 + 30 * 60, false, "+1030"},
      {"Etc/GMT+5", Utc(2024, 7, 1), -5 * 3600, false, "-05"},
      {"UTC", Utc(2024, 7, 1), 0, false, "UTC"},
      // Beyond the file's explicit transitions (2037): from the footer rule.
      {"America/New_York", Utc(2100, 7, 1), -4 * 3600, true, "EDT"},
      {"America/New_York", Utc(2100, 12, 1), -5 * 3600, false, "EST"},
      // Beyond the tabulated 400 years: the 400-year cycle.
      {"America/New_York", Utc(2900, 7, 1), -4 * 3600, true, "EDT"},
      {"Europe/London", Utc(100000, 7, 1), 3600, true, "BST"},
      {"Europe/London", Utc(100000, 1, 1), 0, false, "GMT"},
  };
  for (const auto& c : cases) {
    auto z = Zone(db, c.zone);
    ASSERT_NE(z, nullptr);
    ZoneOffset o = z->LookupAt(c.at);
    EXPECT_EQ(o.utc_offset_seconds, c.offset) << c.zone << " at " << c.at;
    EXPECT_EQ(o.is_dst, c.dst) << c.zone;
    EXPECT_EQ(o.abbreviation, c.abbr) << c.zone;
    EXPECT_EQ(z->OffsetSecondsAt(c.at), c.offset);
  }
}

TEST(TimeZoneTest, SpringForwardGapAndFallBackOverlap) {
  TimeZoneDatabase db;
  auto ny = Zone(db, "America/New_York");
  // 2024-03-10: 02:00 EST -> 03:00 EDT at 07:00 UTC.
  auto gap = ny->ResolveLocal(LocalMillisFromCivil({2024, 3, 10, 2, 30, 0, 0}));
  EXPECT_EQ(gap.kind, LocalTimeKind::kSkipped);
  EXPECT_EQ(gap.earliest_ms, Utc(2024, 3, 10, 7));
  EXPECT_EQ(gap.latest_ms, Utc(2024, 3, 10, 7, 30));
  EXPECT_EQ(gap.compatible_ms, Utc(2024, 3, 10, 7, 30));
  EXPECT_EQ(ny->ToCivil(gap.compatible_ms), (CivilTime{2024, 3, 10, 3, 30, 0, 0}));
  // 2024-11-03: 02:00 EDT -> 01:00 EST at 06:00 UTC; 01:30 happens at 05:30 and 06:30 UTC.
  auto overlap = ny->ResolveLocal(LocalMillisFromCivil({2024, 11, 3, 1, 30, 0, 0}));
  EXPECT_EQ(overlap.kind, LocalTimeKind::kRepeated);
  EXPECT_EQ(overlap.earliest_ms, Utc(2024, 11, 3, 5, 30));
  EXPECT_EQ(overlap.latest_ms, Utc(2024, 11, 3, 6, 30));
  EXPECT_EQ(ny->FromCivil({2024, 11, 3, 1, 30, 0, 0}), Utc(2024, 11, 3, 5, 30));
  auto plain = ny->ResolveLocal(LocalMillisFromCivil({2024, 11, 3, 9, 0, 0, 0}));
  EXPECT_EQ(plain.kind, LocalTimeKind::kUnique);
  EXPECT_EQ(plain.compatible_ms, Utc(2024, 11, 3, 14));
  // Spans: the EST span starting at the fall-back transition ends at the next spring forward.
  OffsetSpan span = ny->SpanAt(Utc(2024, 12, 1));
  EXPECT_EQ(span.utc_offset_seconds, -5 * 3600);
  EXPECT_EQ(span.end_ms, Utc(2025, 3, 9, 7));
  EXPECT_EQ(Zone(db, "Asia/Kathmandu")->SpanAt(Utc(2030, 1, 1)).end_ms, kNoEndMillis);
}

TEST(TimeZoneTest, LordHoweHalfHourDst) {
  TimeZoneDatabase db;
  auto lh = Zone(db, "Australia/Lord_Howe");
  // 2024-10-06 02:00 +1030 -> 02:30 +11: a 30-minute gap.
  auto gap = lh->ResolveLocal(LocalMillisFromCivil({2024, 10, 6, 2, 15, 0, 0}));
  EXPECT_EQ(gap.kind, LocalTimeKind::kSkipped);
  EXPECT_EQ(lh->ToCivil(gap.compatible_ms), (CivilTime{2024, 10, 6, 2, 45, 0, 0}));
}

// glibc's localtime_r is an independent implementation reading the same files: offsets must
// agree for every zone at random instants from 1900 to 2400.
TEST(TimeZoneTest, AgreesWithGlibcForAllZones) {
  TimeZoneDatabase db;
  Rng rng(20240611);
  const char* old_tz = std::getenv("TZ");
  std::string saved = old_tz ? old_tz : "";
  int checked = 0;
  for (const std::string& name : SystemZoneNames()) {
    auto z = db.Get(name);
    ASSERT_TRUE(z.ok()) << z.status().ToString();
    setenv("TZ", (":" + name).c_str(), 1);
    tzset();
    for (int i = 0; i < 300; ++i) {
      const int64_t t = rng.UniformInRange(Utc(1900, 1, 1), Utc(2400, 1, 1)) / 1000 * 1000;
      time_t secs = static_cast<time_t>(t / 1000);
      struct tm tm {};
      ASSERT_NE(localtime_r(&secs, &tm), nullptr);
      ASSERT_EQ((*z)->OffsetSecondsAt(t), tm.tm_gmtoff) << name << " at " << t / 1000;
      ++checked;
    }
  }
  if (old_tz) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  EXPECT_GT(checked, 300 * 300);
}

// local -> instant -> local round-trips; kRepeated and kSkipped are exactly the DST edges.
TEST(TimeZoneTest, LocalRoundTripProperty) {
  TimeZoneDatabase db;
  Rng rng(7);
  for (const std::string& name : SystemZoneNames()) {
    auto z = *db.Get(name);
    for (int i = 0; i < 200; ++i) {
      const int64_t t = rng.UniformInRange(Utc(1850, 1, 1), Utc(2600, 1, 1));
      const int64_t local = z->ToLocalMillis(t);
      auto r = z->ResolveLocal(local);
      ASSERT_NE(r.kind, LocalTimeKind::kSkipped) << name << " " << t;
      ASSERT_TRUE(r.earliest_ms == t || r.latest_ms == t) << name << " " << t;
      ASSERT_EQ(z->ToLocalMillis(r.earliest_ms), local);
      ASSERT_EQ(z->ToLocalMillis(r.latest_ms), local);
      // Arbitrary local times: the compatible instant reads as the same local time, or (in a
      // gap) as that time shifted forward by the gap; the earliest instant reads at or after it.
      const int64_t any_local = rng.UniformInRange(Utc(1850, 1, 1), Utc(2600, 1, 1));
      auto q = z->ResolveLocal(any_local);
      if (q.kind == LocalTimeKind::kSkipped) {
        ASSERT_GT(z->ToLocalMillis(q.compatible_ms), any_local);
        ASSERT_GE(z->ToLocalMillis(q.earliest_ms), any_local);
        ASSERT_LT(z->ToLocalMillis(q.earliest_ms - 1), any_local);
      } else {
        ASSERT_EQ(z->ToLocalMillis(q.compatible_ms), any_local);
      }
    }
  }
}

TEST(TimeZoneTest, SpanEndsWhereTheOffsetChanges) {
  TimeZoneDatabase db;
  Rng rng(11);
  for (const char* name : {"America/New_York", "Europe/Dublin", "Australia/Lord_Howe",
                           "America/Santiago", "Asia/Tehran", "Africa/Casablanca"}) {
    auto z = *db.Get(name);
    for (int i = 0; i < 500; ++i) {
      const int64_t t = rng.UniformInRange(Utc(1970, 1, 1), Utc(3000, 1, 1));
      OffsetSpan s = z->SpanAt(t);
      ASSERT_EQ(s.utc_offset_seconds, z->OffsetSecondsAt(t));
      if (s.end_ms == kNoEndMillis) continue;
      ASSERT_GT(s.end_ms, t);
      ASSERT_EQ(z->OffsetSecondsAt(s.end_ms - 1), s.utc_offset_seconds) << name;
      ASSERT_EQ(z->OffsetSecondsAt((t + s.end_ms) / 2), s.utc_offset_seconds) << name;
    }
  }
}

TEST(TimeZoneTest, FooterRules) {
  // US rules from the footer alone match the file for every year the file tabulates.
  auto us = TimeZone::FromTzif("test/us", TzifWithFooter("EST5EDT,M3.2.0,M11.1.0"));
  ASSERT_TRUE(us.ok()) << us.status().ToString();
  TimeZoneDatabase db;
  auto ny = Zone(db, "America/New_York");
  for (int64_t t = Utc(2008, 1, 1); t < Utc(2037, 12, 1); t += 3 * kMillisPerHour + 17 * 60000) {
    ASSERT_EQ(us->OffsetSecondsAt(t), ny->OffsetSecondsAt(t)) << t;
  }
  // Negative rule times (RFC 8536 extension), as in America/Nuuk.
  auto nuuk = TimeZone::FromTzif("test/nuuk", TzifWithFooter("<-02>2<-01>,M3.5.0/-1,M10.5.0/0"));
  ASSERT_TRUE(nuuk.ok()) << nuuk.status().ToString();
  // 2030-03-31 is the last Sunday of March; -1:00 local standard = 2030-03-30T23:00-02 = 01:00Z.
  EXPECT_EQ(nuuk->OffsetSecondsAt(Utc(2030, 3, 31, 0, 59)), -2 * 3600);
  EXPECT_EQ(nuuk->OffsetSecondsAt(Utc(2030, 3, 31, 1, 0)), -1 * 3600);
  // Hours past 24 (Asia/Jerusalem: Friday before the last Sunday of March at 02:00 = M3.4.4/26).
  auto jlm = TimeZone::FromTzif("test/jlm", TzifWithFooter("IST-2IDT,M3.4.4/26,M10.5.0"));
  ASSERT_TRUE(jlm.ok());
  auto real_jlm = Zone(db, "Asia/Jerusalem");
  for (int64_t t = Utc(2014, 1, 1); t < Utc(2037, 12, 1); t += 5 * kMillisPerHour + 60000) {
    ASSERT_EQ(jlm->OffsetSecondsAt(t), real_jlm->OffsetSecondsAt(t)) << t;
  }
  // All-year DST written as a rule collapses to DST all the time.
  auto always = TimeZone::FromTzif("test/always", TzifWithFooter("EST5EDT,0/0,J365/25"));
  ASSERT_TRUE(always.ok());
  for (int64_t t = Utc(1990, 1, 1); t < Utc(2500, 1, 1);
       t += 7 * kMillisPerDay + 3 * kMillisPerHour) {
    ASSERT_EQ(always->OffsetSecondsAt(t), -4 * 3600) << t;
  }
  // Fixed offsets with minutes, and Julian days (J60 is 1 March in every year).
  auto fixed = TimeZone::FromTzif("test/fixed", TzifWithFooter("<+0545>-5:45"));
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->OffsetSecondsAt(Utc(2024, 1, 1)), 5 * 3600 + 45 * 60);
  auto julian = TimeZone::FromTzif("test/julian", TzifWithFooter("AAA0BBB,J60/0,J300/0"));
  ASSERT_TRUE(julian.ok());
  EXPECT_EQ(julian->OffsetSecondsAt(Utc(2024, 2, 29, 23)), 0);
  EXPECT_EQ(julian->OffsetSecondsAt(Utc(2024, 3, 1, 0)), 3600);
}

TEST(TimeZoneTest, RejectsBadTzif) {
  struct Case {
    std::string data;
    const char* why;
  } cases[] = {
      {"", "not a TZif file"},
      {"hello world, definitely not a zone file at all", "not a TZif file"},
      {TzifWithFooter("EST5EDT").substr(0, 50), "truncated"},
      {TzifWithFooter("EST"), "bad POSIX TZ footer"},
      {TzifWithFooter("EST5EDT,M13.1.0,M11.1.0"), "bad POSIX TZ footer"},
      {TzifWithFooter("EST5EDT,M3.2.0"), "bad POSIX TZ footer"},
      {TzifWithFooter("UTC0", 30 * 3600), "offset out of range"},
  };
  for (const auto& c : cases) {
    auto z = TimeZone::FromTzif("Test/Zone", c.data);
    ASSERT_FALSE(z.ok()) << c.why;
    EXPECT_EQ(z.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(z.status().message().find("Test/Zone"), std::string::npos) << z.status().message();
    EXPECT_NE(z.status().message().find(c.why), std::string::npos) << z.status().message();
  }
}

// Corrupted real files: parsing never crashes, and whatever parses answers lookups with offsets
// inside the TZif limits.
TEST(TimeZoneTest, CorruptedFilesAreRejectedOrSafe) {
  std::ifstream in(std::string(TimeZoneDatabase::kDefaultDirectory) + "/America/New_York",
                   std::ios::binary);
  const std::string original((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  ASSERT_GT(original.size(), 1000u);
  Rng rng(123);
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string data = original;
    const int flips = static_cast<int>(rng.UniformInRange(1, 4));
    for (int f = 0; f < flips; ++f) {
      data[rng.Uniform(data.size())] = static_cast<char>(rng.Uniform(256));
    }
    if (rng.Uniform(4) == 0) data.resize(rng.Uniform(data.size()));
    auto z = TimeZone::FromTzif("Fuzz/Zone", data);
    if (!z.ok()) {
      EXPECT_EQ(z.status().code(), Status::Code::kInvalidArgument);
      continue;
    }
    ++parsed;
    for (int k = 0; k < 20; ++k) {
      const int64_t t = rng.UniformInRange(-kMaxSupportedMillis, kMaxSupportedMillis);
      const int32_t off = z->OffsetSecondsAt(t);
      ASSERT_LT(std::abs(off), 26 * 3600);
      const auto r = z->ResolveLocal(t);
      ASSERT_LE(r.earliest_ms, r.latest_ms);
    }
  }
  EXPECT_GT(parsed, 0);
}

TEST(TimeZoneTest, NamesAndUnknownZones) {
  for (const char* ok : {"Europe/Paris", "UTC", "Etc/GMT+5", "Etc/GMT-14", "America/Port-au-Prince",
                         "America/Argentina/Buenos_Aires", "EST5EDT"}) {
    EXPECT_TRUE(ValidateZoneName(ok).ok()) << ok;
  }
  for (const char* bad :
       {"", "../../etc/passwd", "/etc/passwd", "Europe/../../etc/passwd", "Europe//Paris",
        "Europe/Paris/", ".hidden", "Europe/Paris\n", "a b", "right/Europe/Paris",
        "posix/Europe/Paris", "localtime", "posixrules", "Europe/Paris%00"}) {
    Status s = ValidateZoneName(bad);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ValidateZoneName(std::string(200, 'A')).ok());

  TimeZoneDatabase db;
  for (const char* unknown : {"Mars/Olympus_Mons", "../../etc/passwd", "America", "zone.tab",
                              "leapseconds", "Europe/paris"}) {
    auto z = db.Get(unknown);
    ASSERT_FALSE(z.ok()) << unknown;
    EXPECT_EQ(z.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(z.status().message().find(unknown), std::string::npos) << z.status().message();
    EXPECT_EQ(z.status().field(), "timezone");
  }
  // UTC works without any zoneinfo directory.
  TimeZoneDatabase empty("/nonexistent");
  auto utc = empty.Get("UTC");
  ASSERT_TRUE(utc.ok());
  EXPECT_EQ((*utc)->OffsetSecondsAt(Utc(2024, 1, 1)), 0);
  EXPECT_FALSE(empty.Get("Europe/Paris").ok());
}

TEST(TimeZoneTest, CacheIsSharedAndThreadSafe) {
  TimeZoneDatabase db;
  auto a = *db.Get("Europe/Berlin");
  auto b = *db.Get("Europe/Berlin");
  EXPECT_EQ(a.get(), b.get());
  const std::vector<std::string> names = {"Europe/Berlin",    "Asia/Tokyo", "America/Chicago",
                                          "Australia/Sydney", "Nope/Nope",  "Asia/Kathmandu"};
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string& n = names[static_cast<size_t>(i + t) % names.size()];
        auto z = db.Get(n);
        if (z.ok() == (n == "Nope/Nope")) ++failures[static_cast<size_t>(t)];
        if (z.ok() && (*z)->name() != n) ++failures[static_cast<size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
  EXPECT_EQ(db.Get("Asia/Tokyo")->get(), db.Get("Asia/Tokyo")->get());
}

}  // namespace
}  // namespace kiln::domain
