// Fuzzes kiln::auth::Base64UrlDecode / HexDecode. Invariants: decoding is strict (an accepted
// text is the one canonical encoding of its bytes) and encoding round-trips any bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/auth/crypto.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::auth;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto decoded = Base64UrlDecode(input);
  if (decoded.ok()) {
    FUZZ_CHECK(decoded->size() == input.size() * 3 / 4);
    FUZZ_CHECK(Base64UrlEncode(*decoded) == input);
  }
  auto round = Base64UrlDecode(Base64UrlEncode(input));
  FUZZ_CHECK(round.ok() && *round == input);

  auto hex = HexDecode(input);
  if (hex.ok()) FUZZ_CHECK(hex->size() * 2 == input.size());
  auto hex_round = HexDecode(HexEncode(input));
  FUZZ_CHECK(hex_round.ok() && *hex_round == input);
  return 0;
}
