// Warm-up tag: how Kiln recognises its own warm-up mail among everything a mailbox receives.
//
// The warm-up engine marks every warm-up message with a token (the same token identifies the
// whole warm-up thread) in one or both of two discreet places:
//   1. a header field      X-Kiln-Warmup: <token>
//   2. a tag in the body   kw-<token>     (e.g. in a signature line or a footer reference)
// The header is the primary mark; the body tag exists because replies do not carry the original
// headers but usually quote the original text, and some providers strip unknown X- headers.
// A token is 16 to 40 characters of [a-z0-9] (lower case), e.g. 20 characters of base32
// produced by the warm-up engine; the body tag must stand alone as a word (preceded by the start
// of the text or a non-alphanumeric character, followed by a non-alphanumeric character or end).
//
// Thread-safety: pure functions, safe to call concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kiln/mail/incoming.h"

namespace kiln::mail {

inline constexpr std::string_view kWarmupHeader = "X-Kiln-Warmup";
inline constexpr std::string_view kWarmupBodyPrefix = "kw-";
inline constexpr size_t kWarmupTokenMinLength = 16;
inline constexpr size_t kWarmupTokenMaxLength = 40;

// True when `token` has the documented shape (16-40 characters of [a-z0-9]).
bool IsValidWarmupToken(std::string_view token);

// The body tag for `token` ("kw-" + token); the caller validates the token first.
std::string WarmupBodyTag(std::string_view token);

// The warm-up token of `msg`: from the X-Kiln-Warmup header when it holds a valid token, else
// from the first valid body tag in the text body or in any text/* part. nullopt when none.
std::optional<std::string> ExtractWarmupToken(const IncomingMessage& msg);

// Whether `msg` carries a Kiln warm-up token (header or body).
bool IsKilnWarmup(const IncomingMessage& msg);

}  // namespace kiln::mail
