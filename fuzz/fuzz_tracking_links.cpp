// Fuzzes engine::AddTracking (kiln/engine/scheduler_links.h): the rewriting of every link of a
// cold email's HTML body, which workspace users write, into signed click redirects, plus the open
// pixel.
//
// The first input byte sets the options (bit 0: clicks, bit 1: opens), the rest is the HTML.
// Invariants: with neither option the HTML comes back unchanged; every click link in the output
// verifies as a click token of this workspace and message, numbered 0, 1, 2... in order, whose
// URL is the link that was there (an absolute http(s) URL, never the unsubscribe URL); putting
// each original link back and removing the pixel gives the input again, so nothing else is
// touched; with opens there is exactly one pixel and it verifies as an open token; a tracked
// link never holds a space or control byte (they are read as a browser reads them: dropped or
// percent-encoded). AddTracking fails only when a token cannot be signed at all (a bad key).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/api/tracking_tokens.h"
#include "kiln/engine/scheduler_links.h"

namespace {

constexpr std::string_view kKey = "fuzz-tracking-key-0123456789abcd";
constexpr std::string_view kBase = "https://t.example";
constexpr int64_t kWorkspace = 7;
constexpr int64_t kMessage = 42;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view html(reinterpret_cast<const char*>(data) + 1, size - 1);
  kiln::engine::LinkTracking t;
  t.clicks = (data[0] & 1) != 0;
  t.opens = (data[0] & 2) != 0;
  t.base_url = std::string(kBase) + ((data[0] & 4) != 0 ? "/" : "");
  t.key = std::string(kKey);
  t.workspace_id = kWorkspace;
  t.message_id = kMessage;
  t.unsubscribe_url = "https://t.example/u/unsubscribe-token";

  auto out = kiln::engine::AddTracking(html, t);
  FUZZ_CHECK(out.ok());  // the key and ids are good: no link the HTML holds makes it fail
  if (!t.clicks && !t.opens) {
    FUZZ_CHECK(*out == html);
    return 0;
  }

  // Walk the output: restore every click link and drop the pixel; the input must come back.
  const std::string click_prefix = std::string(kBase) + "/c/";
  const std::string pixel_prefix = "<img src=\"" + std::string(kBase) + "/o/";
  std::string restored;
  int64_t next_index = 0;
  int pixels = 0;
  size_t pos = 0;
  const std::string& o = *out;
  while (pos < o.size()) {
    const size_t click = o.find(click_prefix, pos);
    const size_t pixel = o.find(pixel_prefix, pos);
    const size_t next = std::min(click, pixel);
    if (next == std::string::npos) {
      restored.append(o, pos, std::string::npos);
      break;
    }
    restored.append(o, pos, next - pos);
    if (next == pixel && pixel != click) {
      const size_t token_start = pixel + pixel_prefix.size();
      const size_t gif = o.find(".gif\"", token_start);
      auto token = kiln::api::VerifyToken(
          kKey, gif == std::string::npos
                    ? std::string_view()
                    : std::string_view(o).substr(token_start, gif - token_start));
      if (!token.ok()) {  // a look-alike the HTML itself holds
        restored.append(o, next, 1);
        pos = next + 1;
        continue;
      }
      FUZZ_CHECK(t.opens);
      FUZZ_CHECK(token->kind == kiln::api::TokenKind::kOpen);
      FUZZ_CHECK(token->workspace_id == kWorkspace && token->message_id == kMessage);
      const size_t tag_end = o.find('>', gif);
      FUZZ_CHECK(tag_end != std::string::npos);
      ++pixels;
      pos = tag_end + 1;
      continue;
    }
    // A click link: the token runs to the end of the base64url alphabet.
    size_t end = next + click_prefix.size();
    while (end < o.size() &&
           (std::isalnum(static_cast<unsigned char>(o[end])) || o[end] == '-' || o[end] == '_')) {
      ++end;
    }
    auto token = kiln::api::VerifyToken(
        kKey,
        std::string_view(o).substr(next + click_prefix.size(), end - next - click_prefix.size()));
    if (!token.ok()) {  // the HTML held this text itself
      restored.append(o, next, 1);
      pos = next + 1;
      continue;
    }
    FUZZ_CHECK(t.clicks);
    FUZZ_CHECK(token->kind == kiln::api::TokenKind::kClick);
    FUZZ_CHECK(token->workspace_id == kWorkspace && token->message_id == kMessage);
    FUZZ_CHECK(token->link_index == next_index);
    ++next_index;
    FUZZ_CHECK(token->url != t.unsubscribe_url);
    FUZZ_CHECK(token->url.size() <= kiln::api::kMaxTrackedUrlLength);
    for (const char c : token->url) {
      FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) != 0x7f);
    }
    // The original attribute text: the URL as decoded, so find what the input had at this spot.
    const size_t in_pos = restored.size();
    FUZZ_CHECK(in_pos > 0 && in_pos <= html.size());
    FUZZ_CHECK(html.substr(0, in_pos) == restored);
    const char quote = html[in_pos - 1];
    FUZZ_CHECK(quote == '"' || quote == '\'');
    const size_t in_end = html.find(quote, in_pos);
    FUZZ_CHECK(in_end != std::string_view::npos);
    restored.append(html.substr(in_pos, in_end - in_pos));
    pos = end;
  }
  FUZZ_CHECK(pixels == (t.opens ? 1 : 0));
  FUZZ_CHECK(restored == html);
  return 0;
}
