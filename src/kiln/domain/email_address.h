// Practical validation of email addresses (RFC 5321/5322 as mail servers actually accept them).
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "kiln/base/status.h"

namespace kiln::domain {

// Checks `address` and returns it normalised: surrounding whitespace trimmed, the domain
// lowercased (the local part keeps its case; comparisons elsewhere are case-insensitive).
// Accepts dot-atom local parts (letters, digits, !#$%&'*+/=?^_`{|}~- and dots not at either end
// nor doubled), UTF-8 local parts (SMTPUTF8), and domains of LDH labels or UTF-8 (IDN) labels with
// at least one dot. Rejects quoted local parts, comments, IP-literal domains, control characters,
// and lengths over RFC 5321 limits (local 64, domain 253, total 254). The message says what is
// wrong.
Result<std::string> NormalizeEmailAddress(std::string_view address);

// Lowercased copy of an address for case-insensitive identity (uniqueness, suppression).
std::string EmailKey(std::string_view normalized_address);

// The part after the last '@', lowercased ("" when there is none).
std::string EmailDomain(std::string_view address);

}  // namespace kiln::domain
