#include "kiln/domain/email_address.h"

#include <gtest/gtest.h>

namespace kiln::domain {
namespace {

TEST(EmailAddressTest, AcceptsAndNormalizes) {
  EXPECT_EQ(NormalizeEmailAddress(" Jane.Doe+tag@Example.COM ").value(),
            "Jane.Doe+tag@example.com");
  EXPECT_EQ(NormalizeEmailAddress("o'brien@sub.example.co.uk").value(),
            "o'brien@sub.example.co.uk");
  EXPECT_EQ(NormalizeEmailAddress("jürgen@bücher.de").value(), "jürgen@bücher.de");
  EXPECT_EQ(EmailKey("Jane@Example.com"), "jane@example.com");
  EXPECT_EQ(EmailDomain("Jane@Example.com"), "example.com");
}

TEST(EmailAddressTest, RejectsWithReason) {
  struct Case {
    const char* in;
    const char* why;
  } cases[] = {
      {"", "empty"},
      {"plainaddress", "no '@'"},
      {"@example.com", "nothing before"},
      {"a..b@example.com", "misplaced dot"},
      {".a@example.com", "misplaced dot"},
      {"a@localhost", "no dot"},
      {"a@exa mple.com", "space"},
      {"a@example..com", "empty label"},
      {"a@-example.com", "starts or ends"},
      {"a\r\nBcc: x@y.com@example.com", "control character"},
      {"a\"b@example.com", "contains '\"'"},
      {"a@[127.0.0.1]", "IP-address"},
      {"a@example.123", "numeric"},
      {"\xff@example.com", "UTF-8"},
  };
  for (const auto& c : cases) {
    auto r = NormalizeEmailAddress(c.in);
    ASSERT_FALSE(r.ok()) << c.in;
    EXPECT_NE(r.status().message().find(c.why), std::string::npos)
        << c.in << " -> " << r.status().message();
  }
  EXPECT_FALSE(NormalizeEmailAddress(std::string(65, 'a') + "@example.com").ok());
  EXPECT_FALSE(NormalizeEmailAddress("a@" + std::string(250, 'b') + ".com").ok());
}

}  // namespace
}  // namespace kiln::domain
