#include "kiln/api/json_input.h"

#include <gtest/gtest.h>

namespace kiln::api {
namespace {

TEST(JsonInputTest, RejectsBadBodiesWithReasons) {
  EXPECT_NE(ParseJsonObject("").status().message().find("empty"), std::string::npos);
  EXPECT_NE(ParseJsonObject("{\"a\":").status().message().find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(ParseJsonObject("[1,2]").status().message().find("must be a JSON object"),
            std::string::npos);
  EXPECT_NE(ParseJsonObject("{\"a\":\"\xc3\x28\"}").status().message().find("UTF-8"),
            std::string::npos);
  EXPECT_NE(ParseJsonObject("{\"a\":\"\xed\xa0\x80\"}").status().message().find("UTF-8"),
            std::string::npos);
  std::string deep(100, '[');
  EXPECT_FALSE(ParseJsonObject("{\"a\":" + deep + std::string(100, ']') + "}").ok());
}

TEST(JsonInputTest, TypedFieldsNameTheField) {
  auto obj =
      ParseJsonObject(
          R"({"name":"  Ann  ","port":70000,"on":"yes","smtp":{"host":1},"x":1,"big":1e300,"frac":1.5,"huge":18446744073709551615})")
          .value();
  JsonFields in(obj);
  std::string name;
  ASSERT_TRUE(in.Str("name", &name).ok());
  EXPECT_EQ(name, "Ann");
  int64_t port;
  Status s = in.Int("port", &port, 1, 65535);
  EXPECT_EQ(s.field(), "port");
  EXPECT_NE(s.message().find("between 1 and 65535"), std::string::npos);
  bool on;
  EXPECT_EQ(in.Bool("on", &on).field(), "on");
  const boost::json::object* smtp;
  ASSERT_TRUE(in.Obj("smtp", &smtp).ok());
  JsonFields nested(*smtp, "smtp");
  std::string host;
  EXPECT_EQ(nested.Str("host", &host).field(), "smtp.host");
  int64_t v;
  EXPECT_EQ(in.Int("big", &v, 0, 100).field(), "big");
  EXPECT_NE(in.Int("frac", &v, 0, 100).message().find("whole number"), std::string::npos);
  EXPECT_EQ(in.Int("huge", &v, 0, 100).field(), "huge");
  std::string missing;
  EXPECT_EQ(in.Str("missing", &missing).message(), "is required");
  Status unknown = in.Finish();
  EXPECT_EQ(unknown.field(), "x");
  EXPECT_EQ(unknown.message(), "unknown field");
}

TEST(JsonInputTest, StringRules) {
  auto obj =
      ParseJsonObject(
          R"({"a":"x\r\nBcc: evil","b":"","c":"line1\nline2","d":null,"e":"robert'); DROP TABLE users;--"})")
          .value();
  JsonFields in(obj);
  std::string s;
  EXPECT_NE(in.Str("a", &s).message().find("control"), std::string::npos);
  EXPECT_NE(in.Str("b", &s, {.min_len = 1}).message().find("empty"), std::string::npos);
  EXPECT_TRUE(in.Str("c", &s, {.multiline = true}).ok());
  std::optional<std::string> d;
  EXPECT_FALSE(in.OptStr("d", &d).ok());
  EXPECT_TRUE(in.OptStr("d", &d, {.nullable = true}).ok());
  EXPECT_EQ(d, "");
  EXPECT_TRUE(in.Str("e", &s).ok());
  EXPECT_EQ(s, "robert'); DROP TABLE users;--");
}

TEST(JsonInputTest, ParseIdAcceptsOnlyPositiveIntegers) {
  EXPECT_EQ(ParseId("42").value(), 42);
  for (const char* bad : {"", "0", "-1", "+1", "1.0", "abc", "99999999999999999999", "1 "}) {
    EXPECT_EQ(ParseId(bad).status().code(), Status::Code::kNotFound) << bad;
  }
}

}  // namespace
}  // namespace kiln::api
