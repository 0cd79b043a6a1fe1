#include "kiln/base/time_format.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(TimeFormatTest, FormatsUtcWithMillis) {
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601(1767225600123), "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(FormatIso8601(951782400000), "2000-02-29T00:00:00.000Z");
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

}  // namespace
}  // namespace kiln
