#include "kiln/mail/smtp_reply.h"

#include <gtest/gtest.h>

#include "kiln/mail/smtp_client.h"

namespace kiln::mail {
namespace {

TEST(ParseSmtpReply, SingleLineWithEnhancedCode) {
  auto r = ParseSmtpReply("550 5.1.1 <x@y.test>: User unknown\r\nrest");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->has_value());
  const ParsedSmtpReply& p = **r;
  EXPECT_EQ(p.reply.code, 550);
  EXPECT_EQ(p.reply.enhanced, "5.1.1");
  EXPECT_EQ(p.reply.Text(), "<x@y.test>: User unknown");
  EXPECT_EQ(p.reply.ToString(), "550 5.1.1 <x@y.test>: User unknown");
  EXPECT_EQ(p.consumed, 36u);
}

TEST(ParseSmtpReply, MultiLineEhlo) {
  auto r = ParseSmtpReply("250-mail.test\r\n250-PIPELINING\r\n250-SIZE 2097152\r\n250 8BITMIME\r\n");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->reply.lines.size(), 4u);
  EXPECT_EQ((*r)->reply.enhanced, "");
  SmtpCapabilities caps = SmtpCapabilities::FromEhlo((*r)->reply);
  EXPECT_TRUE(caps.pipelining);
  EXPECT_TRUE(caps.eightbitmime);
  EXPECT_FALSE(caps.starttls);
  EXPECT_EQ(caps.size_limit, 2097152u);
}

TEST(ParseSmtpReply, EnhancedCodeStrippedFromEveryLine) {
  auto r = ParseSmtpReply("535-5.7.8 Username and Password not accepted.\n535 5.7.8 Learn more\n");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->reply.enhanced, "5.7.8");
  EXPECT_EQ((*r)->reply.Text(), "Username and Password not accepted. Learn more");
}

TEST(ParseSmtpReply, EnhancedCodeMustMatchClass) {
  auto r = ParseSmtpReply("250 5.1.1 odd\r\n");
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->reply.enhanced, "");
  EXPECT_EQ(ExtractEnhancedCode("4.7.0 x", 454), "4.7.0");
  EXPECT_EQ(ExtractEnhancedCode("4.7.0x", 454), "");
  EXPECT_EQ(ExtractEnhancedCode("4.7.1234 x", 454), "");
}

TEST(ParseSmtpReply, BareCodeAndIncompleteInput) {
  auto bare = ParseSmtpReply("250\r\n");
  ASSERT_TRUE(bare.ok() && bare->has_value());
  EXPECT_EQ((*bare)->reply.code, 250);
  auto partial = ParseSmtpReply("250-first\r\n250 sec");
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(partial->has_value());
  auto empty = ParseSmtpReply("");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
}

TEST(ParseSmtpReply, RejectsMalformedInput) {
  EXPECT_EQ(ParseSmtpReply("hello\r\n").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ParseSmtpReply("999 x\r\n").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ParseSmtpReply("250x\r\n").status().code(), Status::Code::kInvalidArgument);
  auto mixed = ParseSmtpReply("250-a\r\n251 b\r\n");
  EXPECT_EQ(mixed.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(mixed.status().message().find("line 2"), std::string::npos);
  std::string long_line = "250 " + std::string(kMaxSmtpReplyLine + 10, 'a');
  EXPECT_EQ(ParseSmtpReply(long_line).status().code(), Status::Code::kInvalidArgument);
}

TEST(DotStuffForData, DoublesLeadingDotsAndNormalisesLineEnds) {
  EXPECT_EQ(DotStuffForData("a\n.b\r\n..c\rd"), "a\r\n..b\r\n...c\r\nd\r\n.\r\n");
  EXPECT_EQ(DotStuffForData(".\r\n"), "..\r\n.\r\n");
  EXPECT_EQ(DotStuffForData(""), ".\r\n");
}

TEST(XOAuth2Response, MatchesTheGoogleFormat) {
  EXPECT_EQ(XOAuth2Response("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
            std::string("user=someuser@example.com\x01"
                        "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01"));
  // The example of Google's XOAUTH2 documentation, base64-encoded.
  EXPECT_EQ(Base64Encode(XOAuth2Response("someuser@example.com",
                                         "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQm"
            "hkSFJoZG1semRHRXVZMjl0Q2cBAQ==");
}

}  // namespace
}  // namespace kiln::mail
