// Signatures of outgoing webhook requests (after Stripe's scheme), so a receiver can tell a request
// came from Kiln and refuse replays.
//
// Each request carries
//   Kiln-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
// where secret is the subscription's signing secret ("whsec_..."), used as the HMAC key bytes as
// given. A receiver recomputes v1 over the raw body, compares in constant time, and refuses a t
// too far from its own clock (replays). Several v1= entries may appear (secret rotation); one must
// match.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/base/status.h"

namespace kiln::webhooks {

inline constexpr std::string_view kSignatureHeader = "Kiln-Signature";
inline constexpr std::string_view kEventIdHeader = "Kiln-Event-Id";

// A new signing secret: "whsec_" + 32 random bytes in base64url (43 characters).
std::string NewSigningSecret();

// The Kiln-Signature header value for `body` sent at `unix_seconds`.
std::string SignatureHeader(std::string_view secret, int64_t unix_seconds, std::string_view body);

// What a receiver does: OK when `header` is well formed, its t is within `tolerance_seconds` of
// `now_unix_seconds`, and one of its v1 entries is the HMAC of "<t>.<body>" under `secret`.
// Fails Unauthenticated naming what is wrong: a malformed header, a stale or future timestamp, or
// no matching signature.
Status VerifySignature(std::string_view secret, std::string_view header, std::string_view body,
                       int64_t now_unix_seconds, int64_t tolerance_seconds = 300);

}  // namespace kiln::webhooks
