// Fuzzes kiln::auth::SecretBox::Open with a fixed key. Input layout: 1 byte n, then n % 32 bytes
// of AAD, then the rest as the sealed value. Each input is opened as is, opened behind a valid
// version + key id header (to reach the GCM tag check), and sealed then reopened.
// Invariants: nothing crashes; Seal/Open round-trips; a changed AAD never opens.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/auth/crypto.h"
#include "kiln/auth/secret_box.h"

namespace {

const std::string kKey(32, 'k');

const kiln::auth::SecretBox& Box() {
  static const kiln::auth::SecretBox box = kiln::auth::SecretBox::FromKey(kKey).value();
  return box;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kiln::auth::SecretBox;
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t aad_len = std::min<size_t>(static_cast<unsigned char>(input[0]) % 32, size - 1);
  std::string_view aad = input.substr(1, aad_len);
  std::string_view rest = input.substr(1 + aad_len);

  auto opened = Box().Open(rest, aad);
  if (!opened.ok()) {
    FUZZ_CHECK(opened.status().code() == kiln::Status::Code::kFailedPrecondition);
  } else {
    FUZZ_CHECK(opened->size() + SecretBox::kOverhead == rest.size());
  }

  std::string with_header = std::string(1, static_cast<char>(SecretBox::kVersion)) +
                            kiln::auth::Sha256(kKey).substr(0, SecretBox::kKeyIdBytes) +
                            std::string(rest);
  (void)Box().Open(with_header, aad);

  auto sealed = Box().Seal(rest, aad);
  FUZZ_CHECK(sealed.ok());
  auto round = Box().Open(*sealed, aad);
  FUZZ_CHECK(round.ok() && *round == rest);
  FUZZ_CHECK(!Box().Open(*sealed, std::string(aad) + "x").ok());
  return 0;
}
