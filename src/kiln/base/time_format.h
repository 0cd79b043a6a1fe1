// ISO 8601 / RFC 3339 formatting of Unix-millisecond UTC times, as the API shows them.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/base/status.h"

namespace kiln {

// 1767225600123 -> "2026-01-01T00:00:00.123Z".
std::string FormatIso8601(int64_t unix_ms);

// Parses "2026-01-01T00:00:00Z", "...T00:00:00.123Z", "...T01:00:00+01:00" and "2026-01-01"
// (midnight UTC). Fails with InvalidArgument on anything else, including impossible dates.
Result<int64_t> ParseIso8601(std::string_view text);

// 9 characters of [2-7a-z] whose byte order is the order of `unix_ms` (0 to 2^45-1, about the
// year 3084; clamped): the leading part of ids stored in an index, so that new ids land at the
// index's end instead of on a random page of it. A random id inserts into a random leaf, and
// once the index outgrows memory every insert reads and dirties a page nothing else touches
// (bench/warmup, decision 0013).
inline constexpr size_t kSortableMillisChars = 9;
std::string SortableMillis(int64_t unix_ms);

}  // namespace kiln
