// Cryptographic building blocks for Kiln: randomness, base64url, SHA-256, HMAC-SHA256, hex and
// constant-time comparison. libsodium supplies randomness and constant-time helpers, OpenSSL 3
// the hashes.
//
// Every function is a pure function of its arguments (RandomBytes/RandomToken draw from the
// kernel CSPRNG through libsodium) and is safe to call from any thread; libsodium is initialised
// on first use, so callers never need an init call.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "kiln/base/status.h"

namespace kiln::auth {

// `n` bytes from a cryptographically secure generator. Never fails (libsodium aborts the process
// if the kernel cannot supply randomness, which is the only safe reaction).
std::string RandomBytes(size_t n);

// `bytes` random bytes encoded with Base64UrlEncode: an opaque token for URLs, cookies and API
// keys. 32 bytes (the default) give 43 characters and 256 bits of entropy.
std::string RandomToken(size_t bytes = 32);

// RFC 4648 §5 base64url without '=' padding.
std::string Base64UrlEncode(std::string_view data);

// Strict inverse of Base64UrlEncode: accepts only the alphabet A-Z a-z 0-9 '-' '_', no padding,
// no whitespace, no length that is 1 mod 4, and no non-zero unused bits in the last character
// (so every byte string has exactly one accepted encoding). Fails with InvalidArgument naming
// the offending position.
Result<std::string> Base64UrlDecode(std::string_view text);

// Lower-case hex of `data`.
std::string HexEncode(std::string_view data);

// Inverse of HexEncode; accepts upper and lower case. Fails with InvalidArgument on an odd length
// or a non-hex character.
Result<std::string> HexDecode(std::string_view hex);

// SHA-256 of `data`: 32 raw bytes.
std::string Sha256(std::string_view data);

// SHA-256 of `data` as 64 lower-case hex characters.
std::string Sha256Hex(std::string_view data);

// HMAC-SHA256 (RFC 2104) of `msg` under `key`: 32 raw bytes. Any key length is accepted.
std::string HmacSha256(std::string_view key, std::string_view msg);

// True when `a` and `b` hold the same bytes. The time taken depends only on the lengths (which
// are not treated as secret: strings of different length compare unequal at once).
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace kiln::auth
