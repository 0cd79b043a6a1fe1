#include "kiln/auth/jwt.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <limits>

#include "kiln/auth/crypto.h"
#include "kiln/testing/fake_clock.h"

namespace kiln::auth {
namespace {

namespace json = boost::json;

const std::string kKey = "0123456789abcdef0123456789abcdef";

// Builds a token from raw header and payload JSON text, signed correctly: for tests of what the
// verifier does with well-signed but hostile content.
std::string SignRaw(std::string_view header_json, std::string_view payload_json,
                    std::string_view key = kKey) {
  std::string input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  return input + "." + Base64UrlEncode(HmacSha256(key, input));
}

int64_t NowSeconds(const Clock& clock) { return clock.NowMillis() / 1000; }

void ExpectRejected(const Result<json::object>& r, std::string_view reason) {
  ASSERT_FALSE(r.ok()) << "expected rejection: " << reason;
  EXPECT_EQ(r.status().code(), Status::Code::kUnauthenticated);
  EXPECT_EQ(r.status().message(), reason);
}

TEST(JwtTest, Rfc7515AppendixA1) {
  // JWS example A.1 (HMAC SHA-256). Its header is {"typ":"JWT",\r\n "alg":"HS256"}.
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
      "cnVlfQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const std::string key =
      Base64UrlDecode(
          "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
          .value();
  const int64_t exp = 1300819380;
  auto claims = VerifyJwt(token, key, exp - 100);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->at("iss").as_string(), "joe");
  EXPECT_EQ(claims->at("exp").as_int64(), exp);
  EXPECT_TRUE(claims->at("http://example.com/is_root").as_bool());

  EXPECT_TRUE(VerifyJwt(token, key, exp + kJwtLeewaySeconds - 1).ok());  // within the leeway
  ExpectRejected(VerifyJwt(token, key, exp + kJwtLeewaySeconds), "token expired");
  ExpectRejected(VerifyJwt(token, "another key", exp - 100), "bad signature");
}

TEST(JwtTest, SignReproducesTheJwtIoExample) {
  json::object claims;
  claims["sub"] = "1234567890";
  claims["name"] = "John Doe";
  claims["iat"] = 1516239022;
  EXPECT_EQ(SignJwt(claims, "your-256-bit-secret"),
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c");
  // Correctly signed, but Kiln requires exp.
  ExpectRejected(
      VerifyJwt(SignJwt(claims, "your-256-bit-secret"), "your-256-bit-secret", 1516239022),
      "malformed token");
}

TEST(JwtTest, RoundTripWithFakeClock) {
  testing::FakeClock clock;
  json::object claims;
  claims["sub"] = "user:42";
  claims["ws"] = 7;
  claims["iat"] = NowSeconds(clock);
  claims["exp"] = NowSeconds(clock) + 3600;
  std::string token = SignJwt(claims, kKey);

  auto verified = VerifyJwt(token, kKey, NowSeconds(clock));
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(*verified, claims);

  clock.Advance(std::chrono::seconds(3600));
  EXPECT_TRUE(VerifyJwt(token, kKey, NowSeconds(clock)).ok());  // leeway
  clock.Advance(std::chrono::seconds(kJwtLeewaySeconds));
  ExpectRejected(VerifyJwt(token, kKey, NowSeconds(clock)), "token expired");
  clock.Advance(std::chrono::hours(24 * 365));
  ExpectRejected(VerifyJwt(token, kKey, NowSeconds(clock)), "token expired");
}

TEST(JwtTest, TamperingWithAnyCharacterIsRejected) {
  json::object claims;
  claims["sub"] = "user:42";
  claims["exp"] = 2'000'000'000;
  const std::string token = SignJwt(claims, kKey);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '.') continue;
    for (char replacement : {'A', 'z', '-'}) {
      if (replacement == token[i]) continue;
      std::string tampered = token;
      tampered[i] = replacement;
      auto r = VerifyJwt(tampered, kKey, 1'900'000'000);
      EXPECT_FALSE(r.ok()) << "position " << i;
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), Status::Code::kUnauthenticated);
      }
    }
  }
  EXPECT_TRUE(VerifyJwt(token, kKey, 1'900'000'000).ok());
}

TEST(JwtTest, ReplacedPartsAreRejected) {
  json::object a, b;
  a["sub"] = "user:1";
  a["exp"] = 2'000'000'000;
  b["sub"] = "user:2";
  b["exp"] = 2'000'000'000;
  std::string ta = SignJwt(a, kKey), tb = SignJwt(b, kKey);
  size_t a1 = ta.find('.'), a2 = ta.rfind('.');
  size_t b1 = tb.find('.'), b2 = tb.rfind('.');
  // Payload of b with the signature of a.
  ExpectRejected(VerifyJwt(ta.substr(0, a1) + tb.substr(b1, b2 - b1) + ta.substr(a2), kKey, 0),
                 "bad signature");
  // Signature dropped or truncated.
  ExpectRejected(VerifyJwt(ta.substr(0, a2 + 1), kKey, 0), "bad signature");
  ExpectRejected(VerifyJwt(ta.substr(0, a2 + 1 + 40), kKey, 0), "bad signature");
  ExpectRejected(VerifyJwt(ta.substr(0, a2), kKey, 0), "malformed token");
  // Signed with another key.
  ExpectRejected(VerifyJwt(SignJwt(a, "a different key of enough length"), kKey, 0),
                 "bad signature");
}

TEST(JwtTest, OnlyTheExactHs256HeaderIsAccepted) {
  const std::string payload = R"({"sub":"x","exp":2000000000})";
  // alg "none" with an empty signature: the classic bypass.
  std::string none =
      Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + Base64UrlEncode(payload) + ".";
  ExpectRejected(VerifyJwt(none, kKey, 0), "unsupported token header");
  for (std::string_view header : {
           R"({"alg":"none","typ":"JWT"})",
           R"({"alg":"None","typ":"JWT"})",
           R"({"alg":"HS512","typ":"JWT"})",
           R"({"alg":"RS256","typ":"JWT"})",
           R"({"alg":"hs256","typ":"JWT"})",
           R"({"alg":"HS256"})",
           R"({"alg":"HS256","typ":"jwt"})",
           R"({"alg":"HS256","typ":"JWT","crit":["exp"]})",
           R"({"alg":"HS256","typ":"JWT","kid":"1"})",
           R"({"alg":["HS256"],"typ":"JWT"})",
           R"({"typ":"JWT"})",
       }) {
    // Even correctly signed with the right key.
    ExpectRejected(VerifyJwt(SignRaw(header, payload), kKey, 0), "unsupported token header");
  }
  // Member order and whitespace do not matter.
  EXPECT_TRUE(VerifyJwt(SignRaw(R"({ "typ" : "JWT", "alg" : "HS256" })", payload), kKey, 0).ok());
}

TEST(JwtTest, MalformedTokens) {
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  for (std::string_view token : {"", ".", "..", "...", "a.b", "a.b.c.d", "!!.b.c", ".e30.",
                                 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..sig"}) {
    ExpectRejected(VerifyJwt(token, kKey, 0), "malformed token");
  }
  // Well signed, but the payload is not an object, or not JSON, or exp is unusable.
  for (std::string_view payload :
       {R"([1,2])", R"("exp")", R"({"exp":)", "", R"({"sub":"x"})", R"({"exp":"2000000000"})",
        R"({"exp":null})", R"({"exp":true})", R"({"exp":2000000000,"nbf":"soon"})"}) {
    ExpectRejected(VerifyJwt(SignRaw(header, payload), kKey, 0), "malformed token");
  }
  // Numbers that overflow a double would parse as infinity, which cannot be re-serialised.
  ExpectRejected(VerifyJwt(SignRaw(header, R"({"exp":2000000000,"x":[1e99999]})"), kKey, 0),
                 "malformed token");
  ExpectRejected(VerifyJwt(SignRaw(header, R"({"exp":-1e400})"), kKey, 0), "malformed token");
  // The header is checked before the signature, so an unparsable header is malformed.
  ExpectRejected(VerifyJwt(SignRaw("{", R"({"exp":2000000000})"), kKey, 0), "malformed token");
}

TEST(JwtTest, TimeClaims) {
  testing::FakeClock clock;
  const int64_t now = NowSeconds(clock);
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  auto with = [&](std::string extra) {
    return SignRaw(header, R"({"exp":)" + std::to_string(now + 600) + extra + "}");
  };
  EXPECT_TRUE(VerifyJwt(with(""), kKey, now).ok());
  EXPECT_TRUE(
      VerifyJwt(with(",\"nbf\":" + std::to_string(now + kJwtLeewaySeconds)), kKey, now).ok());
  ExpectRejected(
      VerifyJwt(with(",\"nbf\":" + std::to_string(now + kJwtLeewaySeconds + 1)), kKey, now),
      "token not yet valid");
  EXPECT_TRUE(VerifyJwt(with(",\"iat\":" + std::to_string(now + 10)), kKey, now).ok());
  ExpectRejected(VerifyJwt(with(",\"iat\":" + std::to_string(now + 3600)), kKey, now),
                 "token issued in the future");
  // NumericDate may be fractional or huge.
  EXPECT_TRUE(
      VerifyJwt(SignRaw(header, R"({"exp":)" + std::to_string(now + 60) + ".5}"), kKey, now).ok());
  EXPECT_TRUE(VerifyJwt(SignRaw(header, R"({"exp":18446744073709551615})"), kKey, now).ok());
  EXPECT_TRUE(VerifyJwt(SignRaw(header, R"({"exp":1e300})"), kKey, now).ok());
  ExpectRejected(VerifyJwt(SignRaw(header, R"({"exp":-1e300})"), kKey, now), "token expired");
  ExpectRejected(VerifyJwt(SignRaw(header, R"({"exp":0})"), kKey, now), "token expired");
}

TEST(JwtTest, SizeLimitAndKey) {
  json::object claims;
  claims["exp"] = 2'000'000'000;
  claims["pad"] = std::string(5000, 'x');
  std::string token = SignJwt(claims, kKey);
  ASSERT_LT(token.size(), kMaxJwtBytes);
  EXPECT_TRUE(VerifyJwt(token, kKey, 0).ok());
  claims["pad"] = std::string(7000, 'x');
  token = SignJwt(claims, kKey);
  ASSERT_GT(token.size(), kMaxJwtBytes);
  ExpectRejected(VerifyJwt(token, kKey, 0), "token too large");
  ExpectRejected(VerifyJwt(std::string(1 << 20, 'A'), kKey, 0), "token too large");
  ExpectRejected(VerifyJwt(SignRaw(R"({"alg":"HS256","typ":"JWT"})", R"({"exp":9})", ""), "", 0),
                 "no signing key");
}

TEST(JwtDeathTest, SigningWithAnEmptyKeyAborts) {
  json::object claims;
  claims["exp"] = 1;
  EXPECT_DEATH(SignJwt(claims, ""), "");
  claims["x"] = boost::json::array{1.0, std::numeric_limits<double>::infinity()};
  EXPECT_DEATH(SignJwt(claims, "key"), "");
}

}  // namespace
}  // namespace kiln::auth
