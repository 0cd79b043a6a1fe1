#include "kiln/mail/incoming.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace kiln::mail {
namespace {

std::string Fixture(const std::string& name) {
  const char* dir = std::getenv("KILN_SOURCE_DIR");
  const std::string path =
      std::string(dir ? dir : KILN_TEST_SOURCE_DIR) + "/src/kiln/mail/testdata/incoming/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

IncomingMessage MustParse(const std::string& raw) {
  auto r = ParseIncoming(raw);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : IncomingMessage{};
}

TEST(ParseIncomingTest, DecodesHeadersAddressesAndHtmlOnlyBody) {
  IncomingMessage m = MustParse(Fixture("encoded_latin1_html_only.eml"));
  EXPECT_EQ(m.subject, "Réunion – prochaine semaine");
  EXPECT_EQ(m.from.email, "francois@exemple.example");
  EXPECT_EQ(m.from.name, "François García");
  ASSERT_EQ(m.to.size(), 2u);
  EXPECT_EQ(m.to[1].email, "team@kiln-a.test");
  EXPECT_EQ(m.to[1].name, "Team");
  ASSERT_EQ(m.cc.size(), 1u);
  EXPECT_EQ(m.cc[0].name, "山田");
  EXPECT_EQ(m.message_id, "enc.1@exemple.example");
  EXPECT_EQ(m.references, (std::vector<std::string>{"a@x.example", "b@y.example"}));
  ASSERT_TRUE(m.date.has_value());
  EXPECT_EQ(ToUnixMillis(*m.date), 1717315872000);  // 2024-06-02T08:11:12Z
  EXPECT_EQ(m.content_type, "text/html");
  EXPECT_TRUE(m.text_body_from_html);
  EXPECT_NE(m.text_body.find("Bonjour, voilà le détail."), std::string::npos) << m.text_body;
  EXPECT_EQ(m.text_body.find("alert"), std::string::npos);
  EXPECT_EQ(m.text_body.find("color"), std::string::npos);
  EXPECT_EQ(m.raw_size, Fixture("encoded_latin1_html_only.eml").size());
}

TEST(ParseIncomingTest, HeadersAreACaseInsensitiveMultiMap) {
  IncomingMessage m =
      MustParse("Received: from a\r\nreceived: from b\r\nSUBJECT: hi\r\nX-Empty:\r\n\r\nbody\r\n");
  auto range = m.headers.equal_range("RECEIVED");
  ASSERT_EQ(std::distance(range.first, range.second), 2);
  EXPECT_EQ(range.first->second, "from a");
  EXPECT_EQ(std::next(range.first)->second, "from b");
  EXPECT_EQ(m.subject, "hi");
  EXPECT_EQ(FirstHeader(m.headers, "x-empty"), std::optional<std::string>(""));
  EXPECT_EQ(m.text_body, "body\r\n");
}

TEST(ParseIncomingTest, MultipartReportPartsAndCharsetConversion) {
  IncomingMessage m = MustParse(Fixture("postfix_dsn_user_unknown.eml"));
  EXPECT_EQ(m.content_type, "multipart/report");
  EXPECT_EQ(m.report_type, "delivery-status");
  EXPECT_TRUE(m.has_null_return_path);
  ASSERT_EQ(m.parts.size(), 3u);
  EXPECT_EQ(m.parts[0].content_type, "text/plain");
  EXPECT_EQ(m.parts[1].content_type, "message/delivery-status");
  EXPECT_EQ(m.parts[2].content_type, "text/rfc822-headers");
  EXPECT_EQ(m.parts[1].depth, 1);
  EXPECT_NE(m.parts[1].text.find("Final-Recipient: rfc822; nobody@example.com"), std::string::npos);
  EXPECT_NE(m.text_body.find("This is the mail system"), std::string::npos);

  IncomingMessage oof = MustParse(Fixture("autoreply_outlook_oof.eml"));
  EXPECT_NE(oof.text_body.find("contact Jürgen."), std::string::npos) << oof.text_body;
}

TEST(ParseIncomingTest, CrlfAndLfGiveTheSameResult) {
  std::string lf = Fixture("reply_gmail_threaded.eml");
  std::string crlf;
  for (char c : lf) {
    if (c == '\n') crlf.push_back('\r');
    crlf.push_back(c);
  }
  IncomingMessage a = MustParse(lf);
  IncomingMessage b = MustParse(crlf);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.in_reply_to, "kiln.step2.abc@kiln-a.test");
  EXPECT_EQ(b.in_reply_to, a.in_reply_to);
  EXPECT_EQ(a.references, b.references);
  ASSERT_EQ(a.parts.size(), 2u);
  ASSERT_EQ(b.parts.size(), 2u);
  EXPECT_NE(b.text_body.find("Sounds interesting"), std::string::npos);
  EXPECT_FALSE(a.text_body_from_html);
}

TEST(ParseIncomingTest, RefusesEmptyAndOversizeInput) {
  auto empty = ParseIncoming("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), Status::Code::kInvalidArgument);

  ParseLimits limits;
  limits.max_bytes = 100;
  auto big = ParseIncoming(std::string(101, 'x'), limits);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), Status::Code::kTooLarge);
  EXPECT_NE(big.status().message().find("101 bytes"), std::string::npos);
}

TEST(ParseIncomingTest, DeepNestingIsReadFlatNotRecursed) {
  // 5000 nested multiparts would recurse 5000 levels deep inside vmime.
  std::string raw = "Subject: deep\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n";
  for (int i = 1; i < 5000; ++i) {
    raw += "--b" + std::to_string(i - 1) + "\r\nContent-Type: multipart/mixed; boundary=\"b" +
           std::to_string(i) + "\"\r\n\r\n";
  }
  raw += "--b4999\r\nContent-Type: text/plain\r\n\r\nleaf\r\n";
  IncomingMessage m = MustParse(raw);
  EXPECT_TRUE(m.structure_truncated);
  EXPECT_EQ(m.subject, "deep");
  ASSERT_EQ(m.parts.size(), 1u);
}

TEST(ParseIncomingTest, ModerateNestingBeyondMaxDepthIsCut) {
  ParseLimits limits;
  limits.max_depth = 3;
  std::string raw = "Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n";
  for (int i = 1; i < 6; ++i) {
    raw += "--b" + std::to_string(i - 1) + "\r\nContent-Type: multipart/mixed; boundary=\"b" +
           std::to_string(i) + "\"\r\n\r\n";
  }
  raw += "--b5\r\nContent-Type: text/plain\r\n\r\nleaf\r\n--b5--\r\n";
  auto r = ParseIncoming(raw, limits);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->structure_truncated);
  EXPECT_TRUE(r->parts.empty());
}

TEST(ParseIncomingTest, PartTextIsCappedButSizeReported) {
  ParseLimits limits;
  limits.max_part_text_bytes = 10;
  auto r = ParseIncoming("Subject: x\r\n\r\n" + std::string(1000, 'a'), limits);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->parts.size(), 1u);
  EXPECT_EQ(r->parts[0].text.size(), 10u);
  EXPECT_TRUE(r->parts[0].text_truncated);
  EXPECT_EQ(r->parts[0].decoded_size, 1000u);
}

TEST(ParseIncomingTest, GarbageNeverThrowsAndInvalidUtf8IsReplaced) {
  for (std::string raw : {std::string("\xff\xfe\x00garbage", 10), std::string(":::\n\n\n"),
                          std::string("Subject: =?utf-8?B?////?=\n\n"),
                          std::string("Content-Type: multipart/mixed\n\n--\n--\n"),
                          std::string("Subject: \xc3\x28 bad\n\nx")}) {
    auto r = ParseIncoming(raw);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  auto r = ParseIncoming("Subject: \xc3\x28 bad\n\nx");
  EXPECT_EQ(r->subject, "\xEF\xBF\xBD( bad");
}

// Found by fuzz/fuzz_text and fuzz/fuzz_classify: a NUL byte (raw, or written as "=00") reached
// the decoded subject and bodies, and PostgreSQL refuses NUL in text columns, so the inbox
// watcher could not record such a message.
TEST(ParseIncomingTest, NulBytesBecomeReplacementCharacters) {
  using namespace std::string_literals;  // "..."s keeps the NUL bytes
  const std::string raw =
      "From: a@example.com\r\n"
      "To: b@example.com\r\n"
      "Subject: =?utf-8?q?a=00b?= c\0d\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/alternative; boundary=x\r\n"
      "\r\n"
      "--x\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n"
      "\r\n"
      "one=00two\r\n"
      "--x\r\n"
      "Content-Type: text/html; charset=utf-8\r\n"
      "\r\n"
      "<p>three\0four</p>\r\n"
      "--x--\r\n"s;
  IncomingMessage m = MustParse(raw);
  EXPECT_EQ(m.subject.find('\0'), std::string::npos);
  EXPECT_NE(m.subject.find("a\xEF\xBF\xBD"), std::string::npos) << m.subject;
  ASSERT_EQ(m.parts.size(), 2u);
  EXPECT_EQ(m.parts[0].text, "one\xEF\xBF\xBDtwo");
  EXPECT_NE(m.parts[1].text.find("three\xEF\xBF\xBD"), std::string::npos) << m.parts[1].text;
  EXPECT_EQ(m.text_body.find('\0'), std::string::npos);
  for (const auto& [name, value] : m.headers) EXPECT_EQ(value.find('\0'), std::string::npos);
}

TEST(MessageIdTest, ListsAndNormalisation) {
  EXPECT_EQ(NormalizeMessageId("  <a@b>  "), "a@b");
  EXPECT_EQ(ParseMessageIdList("<a@b> <c@d>\t<e@f>"),
            (std::vector<std::string>{"a@b", "c@d", "e@f"}));
  EXPECT_EQ(ParseMessageIdList("a@b c@d"), (std::vector<std::string>{"a@b", "c@d"}));
  EXPECT_TRUE(ParseMessageIdList("no ids here").empty());
}

}  // namespace
}  // namespace kiln::mail
