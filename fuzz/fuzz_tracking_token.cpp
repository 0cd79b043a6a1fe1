// Fuzzes the tracking tokens of kiln/api/tracking_tokens.h: the path segments of /u/, /o/ and /c/
// that anyone on the internet can send to the tracking endpoints.
//
// The first input byte picks a mode, the rest is the payload:
//   0: the payload is the token text as a client sends it, verified with the fuzz key.
//   1: the payload is a token body (version, kind, varints, URL): the fuzzer signs it with the
//      fuzz key, so the parser behind the signature check is reached, and verifies the result.
//   2: the payload describes a token (kind, ids, link index, URL) that is signed and verified.
// Invariants: a token is accepted only when it is the one encoding SignToken gives for what it
// decodes to (no second spelling of a link, nothing unsigned is accepted), its ids are positive,
// a click carries an absolute http(s) URL without spaces or controls of at most
// kMaxTrackedUrlLength bytes; a token never verifies under another key; whatever SignToken
// accepts verifies back to the same token.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/api/tracking_tokens.h"
#include "kiln/auth/crypto.h"

namespace {

constexpr std::string_view kKey = "fuzz-tracking-key-0123456789abcd";       // 32 bytes
constexpr std::string_view kOtherKey = "fuzz-tracking-key-0123456789abce";  // differs in one bit

bool Same(const kiln::api::TrackingToken& a, const kiln::api::TrackingToken& b) {
  return a.kind == b.kind && a.workspace_id == b.workspace_id && a.message_id == b.message_id &&
         a.link_index == b.link_index && a.url == b.url;
}

// Checks everything an accepted token must satisfy, `text` being what was verified.
void CheckAccepted(const kiln::api::TrackingToken& t, std::string_view text) {
  using kiln::api::TokenKind;
  FUZZ_CHECK(t.kind == TokenKind::kUnsubscribe || t.kind == TokenKind::kOpen ||
             t.kind == TokenKind::kClick);
  FUZZ_CHECK(t.workspace_id > 0 && t.message_id > 0);
  if (t.kind == TokenKind::kClick) {
    FUZZ_CHECK(t.link_index >= 0);
    FUZZ_CHECK(!t.url.empty() && t.url.size() <= kiln::api::kMaxTrackedUrlLength);
    const std::string lower = t.url.substr(0, 8);
    std::string prefix;
    for (char c : lower) prefix.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
    FUZZ_CHECK(prefix.rfind("http://", 0) == 0 || prefix.rfind("https://", 0) == 0);
    for (unsigned char c : t.url) FUZZ_CHECK(c > 0x20 && c != 0x7f);
  } else {
    FUZZ_CHECK(t.link_index == 0 && t.url.empty());
  }
  // Canonical: signing what was decoded gives back the very text that was accepted.
  auto again = kiln::api::SignToken(kKey, t);
  FUZZ_CHECK(again.ok() && *again == text);
  FUZZ_CHECK(!kiln::api::VerifyToken(kOtherKey, text).ok());
}

void VerifyAndCheck(std::string_view text) {
  auto t = kiln::api::VerifyToken(kKey, text);
  if (!t.ok()) {
    FUZZ_CHECK(t.status().code() == kiln::Status::Code::kNotFound);
    return;
  }
  CheckAccepted(*t, text);
}

int64_t TakeId(std::string_view& in) {
  uint64_t v = 0;
  for (int i = 0; i < 8 && !in.empty(); ++i) {
    v = (v << 8) | static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
  }
  return static_cast<int64_t>(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0] % 3;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (mode) {
    case 0:
      VerifyAndCheck(in);
      break;
    case 1: {
      std::string signed_body(in);
      signed_body += kiln::auth::HmacSha256(kKey, in).substr(0, 16);
      VerifyAndCheck(kiln::auth::Base64UrlEncode(signed_body));
      break;
    }
    case 2: {
      if (in.size() < 2) return 0;
      kiln::api::TrackingToken t;
      const char kinds[] = {'u', 'o', 'c'};
      t.kind = static_cast<kiln::api::TokenKind>(kinds[static_cast<uint8_t>(in[0]) % 3]);
      const uint8_t id_bytes = static_cast<uint8_t>(in[1]);
      in.remove_prefix(2);
      // Small ids most of the time, full 64-bit (also negative or zero) ones when the byte says
      // so; missing bytes read as 0.
      const bool wide = (id_bytes & 1) != 0;
      std::string_view ids = in.substr(0, wide ? 24 : 3);
      in.remove_prefix(ids.size());
      auto take = [&]() -> int64_t {
        if (wide) return TakeId(ids);
        if (ids.empty()) return 0;
        const auto v = static_cast<uint8_t>(ids.front());
        ids.remove_prefix(1);
        return v;
      };
      t.workspace_id = take();
      t.message_id = take();
      if (t.kind == kiln::api::TokenKind::kClick) {
        t.link_index = take();
        t.url = std::string(in);
      }
      auto text = kiln::api::SignToken(kKey, t);
      if (!text.ok()) {
        FUZZ_CHECK(text.status().code() == kiln::Status::Code::kInvalidArgument);
        break;
      }
      auto back = kiln::api::VerifyToken(kKey, *text);
      FUZZ_CHECK(back.ok() && Same(*back, t));
      CheckAccepted(*back, *text);
      // The URL builders agree with the token they wrap.
      if (t.kind == kiln::api::TokenKind::kClick) {
        auto url = kiln::api::ClickUrl("https://t.example/", kKey, t.workspace_id, t.message_id,
                                       t.link_index, t.url);
        FUZZ_CHECK(url.ok() && *url == "https://t.example/c/" + *text);
      }
      break;
    }
  }
  return 0;
}
