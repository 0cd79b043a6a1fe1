#include "kiln/base/time_format.h"

#include <gtest/gtest.h>

#include <vector>

namespace kiln {
namespace {

TEST(TimeFormatTest, FormatsUtcWithMillis) {
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(1767225600123), "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(FormatIso8601(951782400000), "2000-02-29T00:00:00.000Z");
}

TEST(TimeFormatTest, SortableMillisSortAsTheirInstants) {
  EXPECT_EQ(SortableMillis(0), "222222222");
  EXPECT_EQ(SortableMillis(31), "22222222z");
  EXPECT_EQ(SortableMillis(32), "222222232");
  EXPECT_EQ(SortableMillis(-5), "222222222");  // clamped, never a shorter or wrapped string
  EXPECT_EQ(SortableMillis((int64_t{1} << 45) - 1), "zzzzzzzzz");
  EXPECT_EQ(SortableMillis(int64_t{1} << 50), "zzzzzzzzz");
  // Neighbours, carries and instants decades apart compare as their numbers do.
  const std::vector<int64_t> instants = {0,
                                         1,
                                         31,
                                         32,
                                         1023,
                                         1024,
                                         951782400000,
                                         1767225600000,
                                         1767225600001,
                                         1767225601023,
                                         4102444800000};
  for (size_t i = 0; i < instants.size(); ++i) {
    EXPECT_EQ(SortableMillis(instants[i]).size(), kSortableMillisChars);
    for (size_t j = 0; j < instants.size(); ++j) {
      EXPECT_EQ(SortableMillis(instants[i]) < SortableMillis(instants[j]),
                instants[i] < instants[j])
          << instants[i] << " vs " << instants[j];
    }
  }
}

TEST(TimeFormatTest, ParsesAndRoundTrips) {
  EXPECT_EQ(ParseIso8601("2026-01-01T00:00:00.123Z").value(), 1767225600123);
  EXPECT_EQ(ParseIso8601("2026-01-01").value(), 1767225600000);
  EXPECT_EQ(ParseIso8601("2026-01-01T01:00:00+01:00").value(), 1767225600000);
  EXPECT_EQ(ParseIso8601("2025-12-31T19:00:00-05:00").value(), 1767225600000);
  for (int64_t t : {0LL, 1767225600123LL, 4102444799999LL}) {
    EXPECT_EQ(ParseIso8601(FormatIso8601(t)).value(), t);
  }
}

TEST(TimeFormatTest, RejectsGarbage) {
  for (const char* s : {"", "2026", "2026-02-30", "2026-01-01T25:00:00Z", "2026-01-01T00:00:00",
                        "2026-01-01T00:00:00Zjunk", "tomorrow", "2026-01-01T00:00:00.Z"}) {
    EXPECT_FALSE(ParseIso8601(s).ok()) << s;
  }
}

// Found by fuzz/fuzz_time: an offset moved the first or last instant of the four-digit years out
// of them, and the API accepted a time it could not write back ("-001-12-31T...").
TEST(TimeFormatTest, RejectsOffsetsLeavingTheFourDigitYears) {
  EXPECT_FALSE(ParseIso8601("0000-01-01 00:00:00.5+23:59").ok());
  EXPECT_FALSE(ParseIso8601("9999-12-31T23:59:59-00:01").ok());
  EXPECT_EQ(ParseIso8601("0000-01-01T00:00:00Z").value(), -62167219200000);
  EXPECT_EQ(ParseIso8601("9999-12-31T23:59:59.999Z").value(), 253402300799999);
  EXPECT_EQ(ParseIso8601("0000-01-01T01:00:00+01:00").value(), -62167219200000);
  EXPECT_EQ(FormatIso8601(-62167219200000), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(253402300799999), "9999-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace kiln
