#include "kiln/auth/crypto.h"

#include <gtest/gtest.h>

#include <set>

namespace kiln::auth {
namespace {

std::string Unhex(std::string_view hex) { return HexDecode(hex).value(); }

TEST(Sha256Test, KnownAnswers) {
  // FIPS 180-2 examples.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(Sha256("abc"), Unhex(Sha256Hex("abc")));
  EXPECT_EQ(Sha256("abc").size(), 32u);
}

TEST(HmacSha256Test, Rfc4231Vectors) {
  struct Case {
    std::string key, data, mac_hex;
  };
  const std::string key131(131, '\xaa');
  const Case cases[] = {
      {std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {Unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), std::string(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {key131, "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {key131,
       "This is a test using a larger than block-size key and a larger than block-size data. "
       "The key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(HexEncode(HmacSha256(c.key, c.data)), c.mac_hex) << c.data;
  }
  // An empty key is legal for HMAC (RFC 2104) and must not crash.
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(Base64UrlTest, Rfc4648Vectors) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  // The URL-safe alphabet: standard base64 would be "+/8=".
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64UrlDecode("-_8").value(), "\xfb\xff");
  EXPECT_EQ(Base64UrlDecode("Zm9vYmFy").value(), "foobar");
  EXPECT_EQ(Base64UrlDecode("").value(), "");
}

TEST(Base64UrlTest, DecodeIsStrict) {
  for (std::string_view bad : std::initializer_list<std::string_view>{
           "Zg==", "Zg=", "Zm9v Yg", "Zm9v\nYg", "Z", "Zm9vY", "+/8", "Zm9v!", "Zh", "Zm9",
           "Zm9vYmF=", std::string_view("Zm\0v", 4)}) {
    auto r = Base64UrlDecode(bad);
    EXPECT_FALSE(r.ok()) << "accepted '" << bad << "'";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    }
  }
  // "Zh" differs from "Zg" only in unused low bits: a non-canonical spelling of "f".
  EXPECT_NE(Base64UrlDecode("Zh").status().message().find("padding bits"), std::string::npos);
  EXPECT_NE(Base64UrlDecode("Zm9v!A").status().message().find("offset 4"), std::string::npos);
}

TEST(Base64UrlTest, RoundTripsEveryLengthAndByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); ++n) {
    std::string data = all.substr(0, n);
    std::string enc = Base64UrlEncode(data);
    EXPECT_EQ(
        enc.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    auto dec = Base64UrlDecode(enc);
    ASSERT_TRUE(dec.ok()) << dec.status().ToString();
    EXPECT_EQ(*dec, data);
  }
}

TEST(HexTest, RoundTripAndErrors) {
  EXPECT_EQ(HexEncode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(HexDecode("0001ABff").value(), std::string("\x00\x01\xab\xff", 4));
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
  EXPECT_FALSE(HexDecode("0g").ok());
}

TEST(ConstantTimeEqualTest, ComparesBytes) {
  EXPECT_TRUE(ConstantTimeEqual("", ""));
  EXPECT_TRUE(ConstantTimeEqual("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEqual("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEqual("Secret", "secret"));
  EXPECT_FALSE(ConstantTimeEqual("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEqual("", "a"));
  EXPECT_TRUE(ConstantTimeEqual(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEqual(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(RandomTest, BytesAndTokens) {
  EXPECT_EQ(RandomBytes(0).size(), 0u);
  EXPECT_EQ(RandomBytes(17).size(), 17u);
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string token = RandomToken();
    ASSERT_EQ(token.size(), 43u);
    ASSERT_EQ(Base64UrlDecode(token).value().size(), 32u);
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(RandomToken(16).size(), 22u);
  // Every byte value shows up in 64 KiB of output: catches a generator stuck on a subset.
  std::string big = RandomBytes(64 * 1024);
  std::set<unsigned char> values(big.begin(), big.end());
  EXPECT_EQ(values.size(), 256u);
}

}  // namespace
}  // namespace kiln::auth
