// Fuzzes the time parsers: ISO 8601 times of API bodies and query strings
// (kiln/base/time_format.h), IANA zone names of campaigns and leads, TZif files and their POSIX TZ
// footers (kiln/domain/tz.h).
//
// The first input byte picks a mode, the rest is the payload:
//   0: ParseIso8601(payload). Accepted: the instant formats back to a text that parses to the
//      same instant; a text already in the canonical form ("YYYY-MM-DDTHH:MM:SS.mmmZ", no leap
//      second) formats back to itself.
//   1: ValidateZoneName(payload). Accepted: the name has the documented shape (no ".", "..",
//      absolute paths, at most 128 characters); the database then loads it from
//      /usr/share/zoneinfo or refuses it with InvalidArgument, and a loaded zone obeys the
//      invariants below.
//   2: TimeZone::FromTzif(payload).
//   3: a version 2 TZif file without transitions whose footer is the payload's first line: the
//      POSIX TZ rule parser and the 400-year tabulation alone.
// Invariants of every accepted zone, at instants and wall-clock readings taken from the input:
// offsets stay within +-26 h; an instant's own wall-clock reading resolves back to it (never to a
// gap); a skipped reading lies inside its gap; a repeated reading's two instants both show it; the
// constant-offset span of an instant contains it and keeps its offset up to its end.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "kiln/base/time_format.h"
#include "kiln/domain/tz.h"

namespace {

using kiln::domain::LocalTimeKind;
using kiln::domain::TimeZone;

constexpr int64_t kDayMs = 86'400'000;
// Instants probed stay this far inside the supported range, so that local times do too.
constexpr int64_t kProbeLimit = kiln::domain::kMaxSupportedMillis - 2 * kDayMs;

int64_t Clamp(int64_t v) { return std::clamp(v, -kProbeLimit, kProbeLimit); }

// Instants worth probing: fixed ones around the epoch and far away, plus 8-byte words of input.
std::vector<int64_t> Probes(std::string_view in) {
  std::vector<int64_t> probes = {0,
                                 -1,
                                 1'700'000'000'000,
                                 -2'208'988'800'000,  // 1900
                                 4'102'444'800'000,   // 2100
                                 253'402'300'799'999,
                                 kProbeLimit,
                                 -kProbeLimit};
  for (size_t i = 0; i + 8 <= in.size() && probes.size() < 24; i += 8) {
    uint64_t v = 0;
    for (size_t j = 0; j < 8; ++j) v = (v << 8) | static_cast<uint8_t>(in[i + j]);
    const auto s = static_cast<int64_t>(v);
    probes.push_back(Clamp(s));
    probes.push_back(Clamp(s % 20'000'000'000'000));  // within +-630 years of 1970
  }
  return probes;
}

void CheckZone(const TimeZone& tz, std::string_view in) {
  constexpr int64_t kMaxOffsetMs = 26 * 3'600'000LL;
  for (const int64_t u : Probes(in)) {
    const int32_t off = tz.OffsetSecondsAt(u);
    FUZZ_CHECK(off > -26 * 3600 && off < 26 * 3600);
    FUZZ_CHECK(tz.LookupAt(u).utc_offset_seconds == off);
    const int64_t local = tz.ToLocalMillis(u);
    FUZZ_CHECK(local == u + int64_t{off} * 1000);

    // The reading of an existing instant exists: unique or one of two occurrences.
    const kiln::domain::LocalTimeResolution r = tz.ResolveLocal(local);
    FUZZ_CHECK(r.kind != LocalTimeKind::kSkipped);
    FUZZ_CHECK(r.compatible_ms == r.earliest_ms);
    if (r.kind == LocalTimeKind::kUnique) {
      FUZZ_CHECK(r.earliest_ms == u && r.latest_ms == u);
    } else {
      FUZZ_CHECK(r.earliest_ms < r.latest_ms);
      FUZZ_CHECK(r.earliest_ms == u || r.latest_ms == u);
      FUZZ_CHECK(tz.ToLocalMillis(r.earliest_ms) == local);
      FUZZ_CHECK(tz.ToLocalMillis(r.latest_ms) == local);
    }

    const kiln::domain::OffsetSpan span = tz.SpanAt(u);
    FUZZ_CHECK(span.utc_offset_seconds == off);
    FUZZ_CHECK(span.end_ms > u);
    if (span.end_ms != kiln::domain::kNoEndMillis && span.end_ms - 1 <= kProbeLimit) {
      FUZZ_CHECK(tz.OffsetSecondsAt(span.end_ms - 1) == off);
    }

    // Any wall-clock reading near the instant (the probe taken as local time).
    const kiln::domain::LocalTimeResolution q = tz.ResolveLocal(u);
    switch (q.kind) {
      case LocalTimeKind::kUnique:
        FUZZ_CHECK(q.earliest_ms == q.latest_ms && q.compatible_ms == q.earliest_ms);
        FUZZ_CHECK(tz.ToLocalMillis(q.earliest_ms) == u);
        break;
      case LocalTimeKind::kRepeated:
        FUZZ_CHECK(q.earliest_ms < q.latest_ms && q.compatible_ms == q.earliest_ms);
        FUZZ_CHECK(tz.ToLocalMillis(q.earliest_ms) == u && tz.ToLocalMillis(q.latest_ms) == u);
        break;
      case LocalTimeKind::kSkipped:
        // earliest: the transition, whose wall clock is already past the reading; just before
        // it the wall clock had not reached the reading yet.
        FUZZ_CHECK(q.compatible_ms == q.latest_ms);
        FUZZ_CHECK(tz.ToLocalMillis(q.earliest_ms) > u);
        FUZZ_CHECK(tz.ToLocalMillis(q.earliest_ms - 1) < u);
        FUZZ_CHECK(q.latest_ms >= q.earliest_ms && q.latest_ms - q.earliest_ms < kMaxOffsetMs);
        break;
    }
  }
}

bool IsCanonicalIso(std::string_view s) {
  // "YYYY-MM-DDTHH:MM:SS.mmmZ" without a leap second (":60" normalises to the next minute).
  return s.size() == 24 && s[10] == 'T' && s[19] == '.' && s[23] == 'Z' && s.substr(17, 2) != "60";
}

void FuzzIso8601(std::string_view in) {
  auto ms = kiln::ParseIso8601(in);
  if (!ms.ok()) {
    FUZZ_CHECK(ms.status().code() == kiln::Status::Code::kInvalidArgument);
    return;
  }
  const std::string text = kiln::FormatIso8601(*ms);
  auto again = kiln::ParseIso8601(text);
  FUZZ_CHECK(again.ok() && *again == *ms);
  if (IsCanonicalIso(in)) FUZZ_CHECK(text == in);
}

void FuzzZoneName(std::string_view in) {
  const kiln::Status st = kiln::domain::ValidateZoneName(in);
  if (!st.ok()) {
    FUZZ_CHECK(st.code() == kiln::Status::Code::kInvalidArgument);
    return;
  }
  FUZZ_CHECK(!in.empty() && in.size() <= 128);
  FUZZ_CHECK(in.front() != '/' && in.back() != '/');
  FUZZ_CHECK(in.find("..") == std::string_view::npos);
  FUZZ_CHECK(in.find("//") == std::string_view::npos);
  FUZZ_CHECK(in.find('.') == std::string_view::npos);
  FUZZ_CHECK(in.find('\0') == std::string_view::npos);
  static kiln::domain::TimeZoneDatabase db;
  auto zone = db.Get(in);
  if (!zone.ok()) {
    FUZZ_CHECK(zone.status().code() == kiln::Status::Code::kInvalidArgument);
    return;
  }
  CheckZone(**zone, in);
}

void FuzzTzif(std::string_view in) {
  auto tz = TimeZone::FromTzif("Fuzz/Zone", in);
  if (!tz.ok()) {
    FUZZ_CHECK(tz.status().code() == kiln::Status::Code::kInvalidArgument);
    return;
  }
  // Probe with the tail of the file, where the fuzzer mutates freely.
  CheckZone(*tz, in.substr(in.size() > 64 ? in.size() - 64 : 0));
}

void PutBe32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

// A version 2 TZif file with one type (UTC) and no transitions, ending in `footer`.
std::string TzifWithFooter(std::string_view footer) {
  std::string block;
  PutBe32(block, 0);  // utoff
  block += '\0';      // isdst
  block += '\0';      // desigidx
  block += std::string_view("UTC\0", 4);
  auto header = [](char version) {
    std::string h = "TZif";
    h += version;
    h += std::string(15, '\0');
    for (uint32_t count : {0u, 0u, 0u, 0u, 1u, 4u}) PutBe32(h, count);
    return h;
  };
  return header('2') + block + header('2') + block + "\n" + std::string(footer) + "\n";
}

void FuzzFooter(std::string_view in) {
  const std::string_view footer = in.substr(0, std::min(in.find('\n'), size_t{256}));
  auto tz = TimeZone::FromTzif("Fuzz/Footer", TzifWithFooter(footer));
  if (!tz.ok()) {
    FUZZ_CHECK(tz.status().code() == kiln::Status::Code::kInvalidArgument);
    return;
  }
  CheckZone(*tz, in.substr(footer.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      FuzzIso8601(in);
      break;
    case 1:
      FuzzZoneName(in);
      break;
    case 2:
      FuzzTzif(in);
      break;
    case 3:
      FuzzFooter(in);
      break;
  }
  return 0;
}
