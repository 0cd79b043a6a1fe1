// Fuzzes kiln::auth::VerifyJwt two ways per input:
//  1. the input as a token (structure, base64url, header checks, the signature comparison);
//  2. the input as "<header JSON>\n<payload JSON>", encoded and correctly signed, so the fuzzer
//     reaches the header rules and the claims checks that sit behind the signature.
// Invariants: only the exact HS256 header verifies, and verified claims re-sign and re-verify
// to the same claims (doubles up to rounding, see SameJson).
#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/auth/crypto.h"
#include "kiln/auth/jwt.h"

namespace {

constexpr std::string_view kKey = "fuzzing-key-0123456789abcdefghij";
constexpr int64_t kNow = 1'767'225'600;  // 2026-01-01

// Equal JSON, except that doubles may differ in the last bits: Boost.JSON 1.81 parses numbers
// in its fast, not correctly rounded, mode, so a double does not always survive a round trip.
bool SameJson(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    double x = a.get_double(), y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!SameJson(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& kv : x) {
      const boost::json::value* other = y.if_contains(kv.key());
      if (other == nullptr || !SameJson(kv.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

void CheckVerified(const kiln::Result<boost::json::object>& claims) {
  if (!claims.ok()) {
    FUZZ_CHECK(claims.status().code() == kiln::Status::Code::kUnauthenticated);
    FUZZ_CHECK(!claims.status().message().empty());
    return;
  }
  FUZZ_CHECK(claims->contains("exp"));
  std::string again = kiln::auth::SignJwt(*claims, kKey);
  if (again.size() <= kiln::auth::kMaxJwtBytes) {
    auto reverified = kiln::auth::VerifyJwt(again, kKey, kNow);
    FUZZ_CHECK(reverified.ok());
    FUZZ_CHECK(SameJson(*reverified, *claims));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kiln::auth;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  CheckVerified(VerifyJwt(input, kKey, kNow));

  size_t nl = input.find('\n');
  if (nl != std::string_view::npos) {
    std::string_view header = input.substr(0, nl);
    std::string signing_input =
        Base64UrlEncode(header) + "." + Base64UrlEncode(input.substr(nl + 1));
    std::string token = signing_input + "." + Base64UrlEncode(HmacSha256(kKey, signing_input));
    auto claims = VerifyJwt(token, kKey, kNow);
    if (claims.ok()) {
      boost::system::error_code ec;
      boost::json::value h = boost::json::parse(header, ec);
      FUZZ_CHECK(!ec && h.is_object() && h.as_object().size() == 2);
      FUZZ_CHECK(h.as_object().at("alg") == "HS256" && h.as_object().at("typ") == "JWT");
    }
    CheckVerified(claims);
  }
  return 0;
}
