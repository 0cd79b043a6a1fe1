#include "kiln/auth/jwt.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "kiln/auth/crypto.h"

namespace kiln::auth {
namespace {

// The header SignJwt always emits.
constexpr std::string_view kHeaderJson = R"({"alg":"HS256","typ":"JWT"})";

Status Malformed() { return Status::Unauthenticated("malformed token"); }

// Boost.JSON parses an overflowing number such as 1e99999 as infinity but serialises infinity as
// "Infinity", which is not JSON. Such values are refused in tokens and never signed, so every
// verified claim set can be re-signed into a valid token.
bool AllNumbersFinite(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      return std::isfinite(v.get_double());
    case boost::json::kind::array:
      for (const auto& e : v.get_array()) {
        if (!AllNumbersFinite(e)) return false;
      }
      return true;
    case boost::json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (!AllNumbersFinite(kv.value())) return false;
      }
      return true;
    default:
      return true;
  }
}

// Parses base64url `part` as a JSON object.
Result<boost::json::object> DecodeObject(std::string_view part) {
  auto bytes = Base64UrlDecode(part);
  if (!bytes.ok()) return Malformed();
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*bytes, ec);
  if (ec || !v.is_object() || !AllNumbersFinite(v)) return Malformed();
  return std::move(v.as_object());
}

// A NumericDate claim (RFC 7519 §2) as whole seconds: absent -> nullopt; present but not a
// finite number -> error. Fractions are truncated toward negative infinity; values beyond the
// int64 range saturate.
Result<std::optional<int64_t>> NumericDate(const boost::json::object& claims,
                                           std::string_view name) {
  const boost::json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->get_int64());
  if (v->is_uint64()) {
    uint64_t u = v->get_uint64();
    constexpr auto kMax = std::numeric_limits<int64_t>::max();
    return std::optional<int64_t>(u > static_cast<uint64_t>(kMax) ? kMax : static_cast<int64_t>(u));
  }
  if (v->is_double()) {
    double d = v->get_double();
    if (!std::isfinite(d)) return Malformed();
    // Saturate a little before int64's limit (9.22e18) so that the cast below is defined.
    if (d >= 9.2e18) return std::optional<int64_t>(std::numeric_limits<int64_t>::max());
    if (d <= -9.2e18) return std::optional<int64_t>(std::numeric_limits<int64_t>::min());
    return std::optional<int64_t>(static_cast<int64_t>(std::floor(d)));
  }
  return Malformed();
}

}  // namespace

std::string SignJwt(const boost::json::object& claims, std::string_view key) {
  if (key.empty()) std::abort();  // an unkeyed token is forgeable by anyone: a wiring bug
  // JSON cannot represent NaN or infinity; claims holding one are a bug in the caller.
  for (const auto& kv : claims) {
    if (!AllNumbersFinite(kv.value())) std::abort();
  }
  std::string token = Base64UrlEncode(kHeaderJson);
  token += '.';
  token += Base64UrlEncode(boost::json::serialize(claims));
  std::string signature = HmacSha256(key, token);
  token += '.';
  token += Base64UrlEncode(signature);
  return token;
}

Result<boost::json::object> VerifyJwt(std::string_view token, std::string_view key,
                                      int64_t now_unix_s) {
  if (key.empty()) return Status::Unauthenticated("no signing key");
  if (token.size() > kMaxJwtBytes) return Status::Unauthenticated("token too large");

  size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return Malformed();
  size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Malformed();
  }
  std::string_view header_part = token.substr(0, dot1);
  std::string_view payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_part = token.substr(dot2 + 1);
  if (header_part.empty() || payload_part.empty()) return Malformed();

  // The header decides which key and algorithm apply, so it is read first; only exactly
  // {"alg":"HS256","typ":"JWT"} passes.
  KILN_ASSIGN_OR_RETURN(boost::json::object header, DecodeObject(header_part));
  const boost::json::value* alg = header.if_contains("alg");
  const boost::json::value* typ = header.if_contains("typ");
  if (header.size() != 2 || alg == nullptr || typ == nullptr || !alg->is_string() ||
      !typ->is_string() || alg->get_string() != "HS256" || typ->get_string() != "JWT") {
    return Status::Unauthenticated("unsupported token header");
  }

  auto signature = Base64UrlDecode(signature_part);
  if (!signature.ok()) return Malformed();
  std::string expected = HmacSha256(key, token.substr(0, dot2));
  if (!ConstantTimeEqual(*signature, expected)) return Status::Unauthenticated("bad signature");

  KILN_ASSIGN_OR_RETURN(boost::json::object claims, DecodeObject(payload_part));
  KILN_ASSIGN_OR_RETURN(std::optional<int64_t> exp, NumericDate(claims, "exp"));
  KILN_ASSIGN_OR_RETURN(std::optional<int64_t> nbf, NumericDate(claims, "nbf"));
  KILN_ASSIGN_OR_RETURN(std::optional<int64_t> iat, NumericDate(claims, "iat"));
  if (!exp) return Malformed();
  // Compare against now ± leeway (never exp + leeway, which could overflow).
  if (*exp <= now_unix_s - kJwtLeewaySeconds) return Status::Unauthenticated("token expired");
  if (nbf && *nbf > now_unix_s + kJwtLeewaySeconds) {
    return Status::Unauthenticated("token not yet valid");
  }
  if (iat && *iat > now_unix_s + kJwtLeewaySeconds) {
    return Status::Unauthenticated("token issued in the future");
  }
  return claims;
}

}  // namespace kiln::auth
