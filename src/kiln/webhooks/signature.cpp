#include "kiln/webhooks/signature.h"

#include <charconv>
#include <vector>

#include "kiln/auth/crypto.h"

namespace kiln::webhooks {

std::string NewSigningSecret() { return "whsec_" + auth::RandomToken(32); }

namespace {

std::string V1(std::string_view secret, std::string_view t, std::string_view body) {
  std::string msg;
  msg.reserve(t.size() + 1 + body.size());
  msg.append(t);
  msg.push_back('.');
  msg.append(body);
  return auth::HexEncode(auth::HmacSha256(secret, msg));
}

}  // namespace

std::string SignatureHeader(std::string_view secret, int64_t unix_seconds, std::string_view body) {
  const std::string t = std::to_string(unix_seconds);
  return "t=" + t + ",v1=" + V1(secret, t, body);
}

Status VerifySignature(std::string_view secret, std::string_view header, std::string_view body,
                       int64_t now_unix_seconds, int64_t tolerance_seconds) {
  std::string_view t;
  std::vector<std::string_view> v1s;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view part = header.substr(start, comma - start);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return Status::Unauthenticated("malformed Kiln-Signature: '" + std::string(part) +
                                     "' is not key=value");
    }
    std::string_view key = part.substr(0, eq), value = part.substr(eq + 1);
    if (key == "t") t = value;
    if (key == "v1") v1s.push_back(value);
    start = comma + 1;
  }
  if (t.empty()) return Status::Unauthenticated("malformed Kiln-Signature: no t=");
  if (v1s.empty()) return Status::Unauthenticated("malformed Kiln-Signature: no v1=");
  int64_t ts = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), ts);
  if (ec != std::errc() || end != t.data() + t.size()) {
    return Status::Unauthenticated("malformed Kiln-Signature: t is not a number");
  }
  if (ts < now_unix_seconds - tolerance_seconds || ts > now_unix_seconds + tolerance_seconds) {
    return Status::Unauthenticated("Kiln-Signature timestamp is more than " +
                                   std::to_string(tolerance_seconds) +
                                   " s from now: a replay or a bad clock");
  }
  const std::string expected = V1(secret, t, body);
  for (std::string_view v : v1s) {
    if (auth::ConstantTimeEqual(v, expected)) return Status::Ok();
  }
  return Status::Unauthenticated("Kiln-Signature does not match the body and secret");
}

}  // namespace kiln::webhooks
