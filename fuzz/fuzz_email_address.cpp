// Fuzzes the email address validator. Invariants: never crash; an accepted address is at most
// 254 bytes, has exactly one '@' boundary with non-empty sides, no control characters or spaces,
// and normalising it again gives the same address (idempotent).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/domain/email_address.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = kiln::domain::NormalizeEmailAddress(in);
  if (!r.ok()) return 0;
  const std::string& a = *r;
  FUZZ_CHECK(a.size() <= 254);
  size_t at = a.rfind('@');
  FUZZ_CHECK(at != std::string::npos && at > 0 && at + 1 < a.size());
  for (unsigned char c : a) FUZZ_CHECK(c > 0x20 && c != 0x7F);
  auto again = kiln::domain::NormalizeEmailAddress(a);
  FUZZ_CHECK(again.ok() && *again == a);
  FUZZ_CHECK(kiln::domain::EmailDomain(a) == kiln::domain::EmailKey(a.substr(at + 1)));
  return 0;
}
