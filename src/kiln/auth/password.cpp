#include "kiln/auth/password.h"

#include <sodium.h>

#include <array>
#include <cstring>

#include "kiln/auth/sodium_init.h"

namespace kiln::auth {
namespace {

static_assert(kInteractivePasswordCost.opslimit == crypto_pwhash_OPSLIMIT_INTERACTIVE);
static_assert(kInteractivePasswordCost.memlimit == crypto_pwhash_MEMLIMIT_INTERACTIVE);
static_assert(kTestingPasswordCost.opslimit == crypto_pwhash_OPSLIMIT_MIN);
static_assert(kTestingPasswordCost.memlimit == crypto_pwhash_MEMLIMIT_MIN);

constexpr size_t kMinPasswordChars = 10;
constexpr size_t kMaxPasswordBytes = 1024;

// An argon2id hash of a random, discarded password, made with kInteractivePasswordCost
// (auth_test checks that it matches the production cost, so a cost change cannot silently make
// the dummy cheaper than a real verification).
constexpr char kDummyHash[] =
    "$argon2id$v=19$m=65536,t=2,p=1$7ZqeN7HsskEulRlcjB2slw$"
    "bbSbPxRIH/vAXa2OjI4xiyUhdTJ4qomiTzU9eDch2F0";

// libsodium declares its password pointers non-null, which an empty std::string_view's data()
// need not be.
const char* NonNullData(std::string_view s) { return s.empty() ? "" : s.data(); }

// Copies `hash` into a NUL-terminated buffer of crypto_pwhash_STRBYTES, as libsodium requires.
// False when it does not fit or contains a NUL (so it cannot be a hash libsodium produced).
bool ToHashBuffer(std::string_view hash, std::array<char, crypto_pwhash_STRBYTES>& buf) {
  if (hash.empty() || hash.size() >= buf.size() || hash.find('\0') != std::string_view::npos) {
    return false;
  }
  buf.fill('\0');
  std::memcpy(buf.data(), hash.data(), hash.size());
  return true;
}

// Decodes one UTF-8 code point starting at `s[i]`; advances `i`. False on any invalid sequence:
// stray continuation bytes, truncation, overlong forms, surrogates, values above U+10FFFF.
bool NextCodePoint(std::string_view s, size_t& i, uint32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  size_t len;
  uint32_t min;
  if (b0 < 0x80) {
    cp = b0;
    i += 1;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (s.size() - i < len) return false;
  for (size_t k = 1; k < len; ++k) {
    unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  i += len;
  return true;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password, PasswordCost cost) {
  internal::EnsureSodium();
  if (password.size() > crypto_pwhash_PASSWD_MAX) {
    return Status::InvalidArgument("password is too long to hash", "password");
  }
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str(out.data(), NonNullData(password), password.size(), cost.opslimit,
                        cost.memlimit) != 0) {
    return Status::Internal("argon2id hashing failed (out of memory for " +
                            std::to_string(cost.memlimit >> 10) + " KiB?)");
  }
  return std::string(out.data());
}

bool VerifyPassword(std::string_view stored_hash, std::string_view password) {
  internal::EnsureSodium();
  std::array<char, crypto_pwhash_STRBYTES> buf;
  if (!ToHashBuffer(stored_hash, buf)) return false;
  return crypto_pwhash_str_verify(buf.data(), NonNullData(password), password.size()) == 0;
}

bool VerifyPasswordDummy(std::string_view password) {
  // The result is always discarded: the point is the cost.
  (void)VerifyPassword(kDummyHash, password);
  return false;
}

std::string_view DummyPasswordHash() { return kDummyHash; }

bool PasswordNeedsRehash(std::string_view stored_hash, PasswordCost cost) {
  internal::EnsureSodium();
  std::array<char, crypto_pwhash_STRBYTES> buf;
  if (!ToHashBuffer(stored_hash, buf)) return true;
  // crypto_pwhash_str_needs_rehash answers for argon2id: 0 = current, 1 = other parameters,
  // -1 = not an argon2id string (argon2i or malformed), which must be rehashed too.
  return crypto_pwhash_str_needs_rehash(buf.data(), cost.opslimit, cost.memlimit) != 0;
}

Status CheckPasswordPolicy(std::string_view password) {
  if (password.size() > kMaxPasswordBytes) {
    return Status::InvalidArgument(
        "password is too long: at most " + std::to_string(kMaxPasswordBytes) + " bytes",
        "password");
  }
  size_t chars = 0;
  bool all_same = true;
  uint32_t first = 0;
  for (size_t i = 0; i < password.size();) {
    uint32_t cp = 0;
    if (!NextCodePoint(password, i, cp)) {
      return Status::InvalidArgument("password is not valid UTF-8", "password");
    }
    if (chars == 0) first = cp;
    if (cp != first) all_same = false;
    ++chars;
  }
  if (chars < kMinPasswordChars) {
    return Status::InvalidArgument(
        "password is too short: at least " + std::to_string(kMinPasswordChars) + " characters",
        "password");
  }
  if (all_same) {
    return Status::InvalidArgument("password must not be one character repeated", "password");
  }
  return Status::Ok();
}

std::string GeneratePassword() {
  internal::EnsureSodium();
  // 56 symbols: no 0 O o 1 l I, which are easy to confuse when read aloud or from a terminal.
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
  constexpr size_t kLength = 20;
  for (;;) {
    std::string out;
    out.reserve(kLength);
    for (size_t i = 0; i < kLength; ++i) {
      out += kAlphabet[randombytes_uniform(static_cast<uint32_t>(kAlphabet.size()))];
    }
    // One-in-56^19 chance of a repeated single character; retry rather than ship a weak one.
    if (CheckPasswordPolicy(out).ok()) return out;
  }
}

}  // namespace kiln::auth
