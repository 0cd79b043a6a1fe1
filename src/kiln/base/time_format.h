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

}  // namespace kiln
