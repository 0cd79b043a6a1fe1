// Tracking tokens: the signed, opaque path segments of the links Kiln puts into every cold email
// (unsubscribe page + RFC 8058 one-click POST, open pixel, click redirect), and the URLs built
// from them.
//
// A token is base64url (no padding) of
//   version (1 byte, kTokenVersion) | kind (1 byte: 'u', 'o', 'c') |
//   workspace id (LEB128) | message id (LEB128) |
//   [click only: link index (LEB128) | target URL length (LEB128) | target URL bytes] |
//   tag: the first 16 bytes of HMAC-SHA256(key, everything before).
// The kind is signed, so an open token cannot unsubscribe; the workspace is signed, so a token of
// one workspace never acts on another; a click token carries its target URL under the signature,
// so /c/{token} can only ever redirect to a URL Kiln itself put into that message (no open
// redirect). Tokens can be neither forged nor enumerated without the key (128-bit tag), and are
// verified in constant time.
//
// The key is instance-wide, kept in the settings table sealed with the secret box (like the
// session signing key), so every node of a cluster builds and accepts the same tokens.
//
// Thread-safety: every function is a pure function of its arguments (LoadOrCreateTrackingKey
// only touches the database through its own transaction) and safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/auth/secret_box.h"
#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/store/db.h"

namespace kiln::api {

inline constexpr uint8_t kTokenVersion = 1;
// Target URLs longer than this are not tracked (the engine leaves such a link as it is).
inline constexpr size_t kMaxTrackedUrlLength = 2048;

enum class TokenKind : char { kUnsubscribe = 'u', kOpen = 'o', kClick = 'c' };

struct TrackingToken {
  TokenKind kind = TokenKind::kUnsubscribe;
  int64_t workspace_id = 0;
  int64_t message_id = 0;
  int64_t link_index = 0;  // click tokens: position of the link in the message body (0-based)
  std::string url;         // click tokens: the URL that was in the message
};

// Loads the instance-wide tracking key (32 bytes) from the settings table, creating it on first
// start. Success: the raw key. Failure: the database or secret box error, with context.
Result<std::string> LoadOrCreateTrackingKey(store::Database& db, const auth::SecretBox& box,
                                            const Clock& clock);

// Encodes and signs `token`. Ids must be positive; click URLs must be non-empty absolute http(s)
// URLs of at most kMaxTrackedUrlLength bytes. Failure: InvalidArgument naming the field.
Result<std::string> SignToken(std::string_view key, const TrackingToken& token);

// Decodes and verifies a token. Failure: NotFound("unknown link") for anything that is not a
// token this key signed (bad base64, unknown version or kind, truncated, trailing bytes, bad tag):
// callers answer 404 without telling which.
Result<TrackingToken> VerifyToken(std::string_view key, std::string_view text);

// URL builders. `base_url` is the public origin of the tracking endpoints ("https://t.example.com",
// a trailing '/' is ignored). Failure: as SignToken.
//
// Unsubscribe page (GET) for the body link and List-Unsubscribe; the same URL takes the RFC 8058
// one-click POST, so List-Unsubscribe-Post: List-Unsubscribe=One-Click applies to it.
Result<std::string> UnsubscribeUrl(std::string_view base_url, std::string_view key,
                                   int64_t workspace_id, int64_t message_id);
// Same URL as UnsubscribeUrl (one token, both methods); named for the List-Unsubscribe header.
Result<std::string> OneClickUnsubscribeUrl(std::string_view base_url, std::string_view key,
                                           int64_t workspace_id, int64_t message_id);
// 1x1 transparent GIF: "<base>/o/<token>.gif".
Result<std::string> OpenPixelUrl(std::string_view base_url, std::string_view key,
                                 int64_t workspace_id, int64_t message_id);
// Click redirect for the link at `link_index` whose target is `target_url`.
Result<std::string> ClickUrl(std::string_view base_url, std::string_view key, int64_t workspace_id,
                             int64_t message_id, int64_t link_index, std::string_view target_url);

// The two RFC 8058 header values for a message: List-Unsubscribe ("<url>") and
// List-Unsubscribe-Post ("List-Unsubscribe=One-Click"). Failure: as SignToken.
struct ListUnsubscribeHeaders {
  std::string list_unsubscribe;
  std::string list_unsubscribe_post;
};
Result<ListUnsubscribeHeaders> ListUnsubscribeHeaderValues(std::string_view base_url,
                                                           std::string_view key,
                                                           int64_t workspace_id,
                                                           int64_t message_id);

}  // namespace kiln::api
