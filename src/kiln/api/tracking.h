// Tracking endpoints, reached from the links inside sent cold email (public: no authentication,
// no CSRF; the signed token in the path is the only credential, see tracking_tokens.h):
//   GET  /u/{token}      unsubscribe page with a confirm button (a POST to the same URL)
//   POST /u/{token}      unsubscribe now: the page's button and RFC 8058 one-click
//                        (body "List-Unsubscribe=One-Click"); 200, never a redirect
//   GET  /o/{token}.gif  open pixel: 43-byte transparent GIF, never cached
//   GET  /c/{token}      click: 302 to the URL signed into the token (so never an open redirect)
// A token that does not verify, or names a message that does not exist, answers 404 and writes
// nothing. Every hit is committed before it is answered.
//
// Thread-safety: handlers are called from many threads; they share only the database and the
// immutable key.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "kiln/api/api.h"

namespace kiln::api {

// Fetches within this many milliseconds of the send are security scanners, not people.
inline constexpr int64_t kScannerWindowMs = 10'000;

// True for user agents of mail privacy proxies (Apple Mail Privacy Protection, Google and Yahoo
// image proxies), link scanners and scripts, and for an empty user agent.
bool IsMachineUserAgent(std::string_view user_agent);

// Whether a hit is a machine's: its user agent is, or it came within kScannerWindowMs of sent_at.
bool IsMachineHit(std::string_view user_agent, std::optional<int64_t> sent_at_ms, int64_t now_ms);

// Registers the routes above on the API's router.
void RegisterTrackingRoutes(Api& api);

}  // namespace kiln::api
