#include "kiln/base/time_format.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace kiln {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::string FormatIso8601(int64_t unix_ms) {
  using namespace std::chrono;
  int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : -((-unix_ms + 999) / 1000);
  int ms = static_cast<int>(unix_ms - secs * 1000);
  sys_days days = floor<std::chrono::days>(sys_seconds(seconds(secs)));
  year_month_day ymd(days);
  int64_t sod = secs - duration_cast<seconds>(days.time_since_epoch()).count();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(sod / 3600),
                static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60), ms);
  return buf;
}

std::string SortableMillis(int64_t unix_ms) {
  // Ascending in ASCII, so that comparing the characters compares the digits.
  static constexpr std::string_view kDigits = "234567abcdefghijklmnopqrstuvwxyz";
  static constexpr int64_t kMax = (int64_t{1} << (5 * kSortableMillisChars)) - 1;
  uint64_t v = static_cast<uint64_t>(std::clamp<int64_t>(unix_ms, 0, kMax));
  std::string out(kSortableMillisChars, kDigits[0]);
  for (size_t i = kSortableMillisChars; i-- > 0; v >>= 5) out[i] = kDigits[v & 31];
  return out;
}

Result<int64_t> ParseIso8601(std::string_view s) {
  using namespace std::chrono;
  auto bad = [&] {
    // Built with append: GCC 12 at -O3 reports a false -Wrestrict on chained operator+.
    std::string msg = "'";
    msg.append(s.substr(0, 40));
    msg.append("' is not an ISO 8601 time (e.g. 2026-01-31T09:00:00Z)");
    return Status::InvalidArgument(std::move(msg));
  };
  int y, mo, d;
  if (s.size() < 10 || !Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d)) {
    return bad();
  }
  year_month_day ymd{year(y), month(static_cast<unsigned>(mo)), day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return bad();
  int64_t ms = duration_cast<milliseconds>(sys_days(ymd).time_since_epoch()).count();
  if (s.size() == 10) return ms;
  int h, mi, se;
  if (s.size() < 20 || (s[10] != 'T' && s[10] != ' ') || !Digits(s, 11, 2, &h) || s[13] != ':' ||
      !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &se) || h > 23 || mi > 59 ||
      se > 60) {
    return bad();
  }
  ms += (h * 3600LL + mi * 60LL + se) * 1000LL;
  size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    int frac_ms = 0, n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0 || n > 9) return bad();
    while (n < 3) {
      frac_ms *= 10;
      ++n;
    }
    ms += frac_ms;
  }
  if (pos == s.size()) return bad();
  if (s[pos] == 'Z' || s[pos] == 'z') {
    if (pos + 1 != s.size()) return bad();
  } else if ((s[pos] == '+' || s[pos] == '-') && pos + 6 == s.size()) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om) ||
        oh > 23 || om > 59) {
      return bad();
    }
    int64_t off = (oh * 60LL + om) * 60000LL;
    ms = s[pos] == '+' ? ms - off : ms + off;
  } else {
    return bad();
  }
  // An offset can move a time at either end of the four-digit years out of them
  // ("0000-01-01T00:00:00+01:00"); FormatIso8601 could not write such an instant back.
  constexpr int64_t kFirstMs = -62167219200000;  // 0000-01-01T00:00:00.000Z
  constexpr int64_t kLastMs = 253402300799999;   // 9999-12-31T23:59:59.999Z
  if (ms < kFirstMs || ms > kLastMs) {
    std::string msg = "'";
    msg.append(s.substr(0, 40));
    msg.append("' is outside the years 0000-9999 in UTC");
    return Status::InvalidArgument(std::move(msg));
  }
  return ms;
}

}  // namespace kiln
