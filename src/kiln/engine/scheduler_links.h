// Open and click tracking for a cold email's HTML body (issue 4 §1 "tracking on/off"): every
// http(s) link becomes the signed click redirect of api/tracking_tokens.h, and an open pixel is
// added. The unsubscribe link is never rewritten (it must work even when tracking is blocked, and
// RFC 8058 mail clients compare it with List-Unsubscribe).
// TrackingBaseUrl picks the origin of a message's tracking links: the campaign's custom tracking
// domain, else the sender's, else the server's public URL.
//
// Pure functions of their arguments; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/base/status.h"

namespace kiln::engine {

struct LinkTracking {
  bool opens = false;    // add the open pixel
  bool clicks = false;   // rewrite http(s) links to the click redirect
  std::string base_url;  // public origin of the tracking endpoints
  std::string key;       // the tracking key
  int64_t workspace_id = 0;
  int64_t message_id = 0;
  std::string unsubscribe_url;  // left as it is wherever it appears
};

// Returns `html` with tracking added. Links are the values of href attributes (quoted with " or
// '); a value is rewritten when, after decoding &amp;, trimming and reading it as a browser does
// (tabs and line breaks dropped, spaces and other control bytes percent-encoded: the click
// redirects to that), it is an absolute http or https URL of at most api::kMaxTrackedUrlLength
// bytes and not the unsubscribe URL (nor any URL on the base URL's own /u/ path); links are
// numbered from 0 in the order they appear. The pixel goes just
// before </body> when there is one, else at the end. Failure: InvalidArgument when a token
// cannot be signed (a bad key or id).
Result<std::string> AddTracking(std::string_view html, const LinkTracking& t);

// The base URL of a message's pixel, click and unsubscribe links: "<scheme>://<domain>" for the
// campaign's tracking domain when set, else for the sender's when set, else `public_url` as it
// is. The scheme is public_url's ("http" only when public_url is plain http, so a test or LAN
// install keeps working; "https" otherwise). Domains are stored validated and lowercased
// (api::NormalizeTrackingDomain); an empty one means "not set".
std::string TrackingBaseUrl(std::string_view public_url, std::string_view campaign_domain,
                            std::string_view sender_domain);

}  // namespace kiln::engine
