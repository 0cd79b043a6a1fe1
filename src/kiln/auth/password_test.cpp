#include "kiln/auth/password.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

namespace kiln::auth {
namespace {

TEST(PasswordTest, HashAndVerifyWithTestingCost) {
  auto hash = HashPassword("correct horse battery staple", kTestingPasswordCost);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=8,t=1,p=1$", 0), 0u) << *hash;
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse battery stapl"));
  EXPECT_FALSE(VerifyPassword(*hash, "Correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
  // A fresh salt every time.
  auto again = HashPassword("correct horse battery staple", kTestingPasswordCost);
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*hash, *again);
  EXPECT_TRUE(VerifyPassword(*again, "correct horse battery staple"));
}

TEST(PasswordTest, EmptyAndBinaryPasswordsHash) {
  auto empty = HashPassword("", kTestingPasswordCost);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(VerifyPassword(*empty, ""));
  EXPECT_FALSE(VerifyPassword(*empty, " "));
  EXPECT_TRUE(VerifyPassword(*empty, std::string_view()));  // data() == nullptr
  EXPECT_TRUE(HashPassword(std::string_view(), kTestingPasswordCost).ok());
  std::string binary("a\0b\xff", 4);
  auto h = HashPassword(binary, kTestingPasswordCost);
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(VerifyPassword(*h, binary));
  EXPECT_FALSE(VerifyPassword(*h, "a"));  // no truncation at the NUL
}

TEST(PasswordTest, ProductionCostAndRehash) {
  auto start = std::chrono::steady_clock::now();
  auto hash = HashPassword("a production password");
  auto hash_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u) << *hash;
  EXPECT_FALSE(PasswordNeedsRehash(*hash));
  EXPECT_TRUE(VerifyPassword(*hash, "a production password"));
  std::printf("argon2id interactive hash: %lld ms\n", static_cast<long long>(hash_ms));

  auto light = HashPassword("x", kTestingPasswordCost);
  ASSERT_TRUE(light.ok());
  EXPECT_TRUE(PasswordNeedsRehash(*light));
  EXPECT_FALSE(PasswordNeedsRehash(*light, kTestingPasswordCost));
}

TEST(PasswordTest, MalformedHashesNeverVerify) {
  auto good = HashPassword("password123", kTestingPasswordCost).value();
  const std::string bad_hashes[] = {
      "",
      "password123",
      "$argon2id$",
      "$argon2id$v=19$m=8,t=1,p=1$",
      good.substr(0, good.size() - 1),
      good.substr(0, good.size() / 2),
      good + "A",
      std::string(good).replace(good.find("$v=19"), 5, "$v=18"),
      std::string(good).replace(good.find("t=1"), 3, "t=0"),
      std::string(good.data(), 10) + std::string(1, '\0') + good.substr(11),
      std::string(500, '$'),
      "$2y$10$abcdefghijklmnopqrstuuJ0u7PnhcjMJDRZZ6IRCkFkX/1u5cV2K",  // bcrypt
  };
  for (const std::string& bad : bad_hashes) {
    EXPECT_FALSE(VerifyPassword(bad, "password123")) << bad;
    EXPECT_TRUE(PasswordNeedsRehash(bad)) << bad;
  }
  EXPECT_TRUE(VerifyPassword(good, "password123"));
}

TEST(PasswordTest, DummyVerifyCostsAsMuchAsARealOne) {
  // The dummy hash carries exactly the production parameters, so its verification does the same
  // argon2id work as verifying a real user's hash.
  EXPECT_FALSE(PasswordNeedsRehash(DummyPasswordHash()));
  EXPECT_EQ(DummyPasswordHash().rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0), 0u);
  EXPECT_FALSE(VerifyPasswordDummy());
  EXPECT_FALSE(VerifyPasswordDummy("any password"));

  auto real = HashPassword("a real password").value();
  auto time_ms = [](auto&& fn) {
    auto start = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
        .count();
  };
  double real_ms = time_ms([&] { EXPECT_FALSE(VerifyPassword(real, "wrong guess")); });
  double dummy_ms = time_ms([] { VerifyPasswordDummy("wrong guess"); });
  std::printf("verify real: %.1f ms, dummy: %.1f ms\n", real_ms, dummy_ms);
  // Not a precise timing test (the machine is shared), but a dummy that skipped the work would
  // be ~1000x faster.
  EXPECT_GT(dummy_ms, real_ms / 10);
}

TEST(PasswordPolicyTest, AcceptsReasonablePasswords) {
  EXPECT_TRUE(CheckPasswordPolicy("abcdefghij").ok());
  EXPECT_TRUE(CheckPasswordPolicy("aaaaaaaaab").ok());
  EXPECT_TRUE(CheckPasswordPolicy("correct horse battery staple").ok());
  // 10 code points, 19 bytes.
  EXPECT_TRUE(CheckPasswordPolicy("ééééééééé1").ok());
  EXPECT_TRUE(CheckPasswordPolicy("日本語のパスワードです").ok());
  EXPECT_TRUE(CheckPasswordPolicy("🔑🔑🔑🔑🔑🔑🔑🔑🔑🗝").ok());
  EXPECT_TRUE(CheckPasswordPolicy(std::string(1023, 'a') + "b").ok());
}

TEST(PasswordPolicyTest, RejectsWithFieldPassword) {
  struct Case {
    std::string password;
    std::string message_part;
  };
  const Case cases[] = {
      {"", "too short"},
      {"short", "too short"},
      {"abcdefghi", "too short"},
      {"éééééé123", "too short"},  // 9 code points although 15 bytes
      {"aaaaaaaaaa", "repeated"},
      {"ééééééééééé", "repeated"},
      {std::string(1024, 'a') + "b", "too long"},
      {"abcdefghij\xff", "UTF-8"},
      {"abcdefghij\xc0\xaf", "UTF-8"},          // overlong '/'
      {"abcdefghij\xed\xa0\x80", "UTF-8"},      // UTF-16 surrogate
      {"abcdefghij\xf4\x90\x80\x80", "UTF-8"},  // above U+10FFFF
      {"abcdefghij\xe6\x97", "UTF-8"},          // truncated sequence
      {"abcdefghij\x80", "UTF-8"},              // stray continuation byte
  };
  for (const Case& c : cases) {
    Status s = CheckPasswordPolicy(c.password);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << c.password;
    EXPECT_EQ(s.field(), "password") << c.password;
    EXPECT_NE(s.message().find(c.message_part), std::string::npos)
        << c.password << " -> " << s.message();
  }
}

TEST(GeneratePasswordTest, ReadableRandomAndValid) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string p = GeneratePassword();
    ASSERT_EQ(p.size(), 20u);
    EXPECT_TRUE(CheckPasswordPolicy(p).ok());
    EXPECT_EQ(p.find_first_of("0Oo1lI"), std::string::npos) << p;
    EXPECT_EQ(p.find_first_not_of("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"),
              std::string::npos)
        << p;
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), 200u);
}

}  // namespace
}  // namespace kiln::auth
