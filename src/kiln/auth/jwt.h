// JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 (JWS HS256, RFC 7515), the only algorithm
// Kiln issues or accepts.
//
// Verification is deliberately narrow: the header must be exactly {"alg":"HS256","typ":"JWT"}
// (in any member order), so "none", RS256/ES256 key-confusion and "crit" extensions are refused
// before any key is used; the signature is compared in constant time before the payload JSON is
// parsed; "exp" is required. Every rejection is Status::Unauthenticated with a short reason fit
// for a log line ("token expired", "bad signature", "malformed token", ...).
//
// Stateless functions; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/base/status.h"

namespace kiln::auth {

// Tokens longer than this are refused unread.
inline constexpr size_t kMaxJwtBytes = 8 * 1024;
// Tolerated clock skew between the issuing and the verifying node for exp, nbf and iat.
inline constexpr int64_t kJwtLeewaySeconds = 30;

// Returns "<header>.<payload>.<signature>" with header {"alg":"HS256","typ":"JWT"}, `claims` as
// the payload and HMAC-SHA256 under `key`. The caller sets exp (and usually iat, sub). `key` must
// be secret, random and at least 32 bytes. An empty key, or a NaN or infinite number anywhere in
// `claims` (JSON cannot carry them), is a programming error and aborts.
std::string SignJwt(const boost::json::object& claims, std::string_view key);

// Verifies `token` against `key` at `now_unix_s` and returns its claims. Fails with
// Unauthenticated, and a reason, when:
//   - the token is over kMaxJwtBytes ("token too large");
//   - it is not three base64url parts holding JSON objects, or holds a number too large for a
//     double ("malformed token");
//   - the header is not exactly HS256/JWT ("unsupported token header");
//   - the signature does not match ("bad signature");
//   - exp is missing or not a number ("malformed token"), exp <= now - leeway ("token expired"),
//     nbf > now + leeway ("token not yet valid"), iat > now + leeway ("token issued in the
//     future");
//   - `key` is empty ("no signing key").
Result<boost::json::object> VerifyJwt(std::string_view token, std::string_view key,
                                      int64_t now_unix_s);

}  // namespace kiln::auth
