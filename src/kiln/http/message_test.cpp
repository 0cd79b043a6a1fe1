#include "kiln/http/message.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace kiln::http {
namespace {

TEST(RequestTest, HeaderLookupIsCaseInsensitive) {
  Request r;
  r.headers.set("X-Thing", "42");
  EXPECT_EQ(r.Header("x-thing"), "42");
  EXPECT_EQ(r.Header(bhttp::field::content_type), "");
}

TEST(RequestTest, CookieFindsNamedValueAmongSeveral) {
  Request r;
  r.headers.set(bhttp::field::cookie, "a=1; kiln_session=abc.def ;theme=\"dark\"; flag");
  EXPECT_EQ(r.Cookie("kiln_session"), "abc.def");
  EXPECT_EQ(r.Cookie("theme"), "dark");
  EXPECT_EQ(r.Cookie("a"), "1");
  EXPECT_EQ(r.Cookie("flag"), std::nullopt);
  EXPECT_EQ(r.Cookie("session"), std::nullopt);  // no prefix matching
}

TEST(RequestTest, CookieLooksAtEveryCookieHeader) {
  Request r;
  r.headers.insert(bhttp::field::cookie, "a=1");
  r.headers.insert(bhttp::field::cookie, "b=2");
  EXPECT_EQ(r.Cookie("b"), "2");
  Request none;
  EXPECT_EQ(none.Cookie("a"), std::nullopt);
}

TEST(ResponseTest, ErrorHasTheApiShapeAndOmitsEmptyField) {
  Response r =
      Response::Error(bhttp::status::bad_request, "invalid_argument", "bad \"email\"", "email");
  EXPECT_EQ(r.status, bhttp::status::bad_request);
  EXPECT_EQ(r.headers[bhttp::field::content_type], "application/json");
  auto v = boost::json::parse(r.body);
  EXPECT_EQ(v.at("error").at("code").as_string(), "invalid_argument");
  EXPECT_EQ(v.at("error").at("message").as_string(), "bad \"email\"");
  EXPECT_EQ(v.at("error").at("field").as_string(), "email");

  Response no_field = Response::Error(bhttp::status::not_found, "not_found", "gone");
  auto w = boost::json::parse(no_field.body);
  EXPECT_FALSE(w.at("error").as_object().contains("field"));
}

TEST(ResponseTest, Factories) {
  Response t = Response::Text(bhttp::status::ok, "hi");
  EXPECT_EQ(t.headers[bhttp::field::content_type], "text/plain; charset=utf-8");
  EXPECT_EQ(t.body, "hi");
  Response j = Response::Json(bhttp::status::created, "{}");
  EXPECT_EQ(j.status, bhttp::status::created);
  EXPECT_EQ(j.headers[bhttp::field::content_type], "application/json");
  EXPECT_EQ(Response::NoContent().status, bhttp::status::no_content);
  Response c;
  c.AddCookie("a=1");
  c.AddCookie("b=2");
  EXPECT_EQ(std::distance(c.headers.equal_range(bhttp::field::set_cookie).first,
                          c.headers.equal_range(bhttp::field::set_cookie).second),
            2);
}

TEST(PercentDecodeTest, DecodesAndRejects) {
  EXPECT_EQ(*PercentDecode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(*PercentDecode("a+b"), "a+b");
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
  EXPECT_FALSE(PercentDecode("%").ok());
  EXPECT_FALSE(PercentDecode("ab%2").ok());
  EXPECT_FALSE(PercentDecode("%zz").ok());
  auto nul = PercentDecode("a%00b");
  ASSERT_FALSE(nul.ok());
  EXPECT_NE(nul.status().message().find("NUL"), std::string::npos);
  EXPECT_FALSE(PercentDecode(std::string_view("a\0b", 3)).ok());
}

TEST(ParseTargetTest, SplitsPathAndQuery) {
  Request r;
  ASSERT_TRUE(ParseTarget("/api/v1/x%20y?page=2&q=a+b%26c&flag&page=3#frag", r).ok());
  EXPECT_EQ(r.path, "/api/v1/x y");
  EXPECT_EQ(r.query.at("page"), "3");
  EXPECT_EQ(r.query.at("q"), "a b&c");
  EXPECT_EQ(r.query.at("flag"), "");
  EXPECT_EQ(r.target, "/api/v1/x%20y?page=2&q=a+b%26c&flag&page=3#frag");
}

TEST(ParseTargetTest, RejectsBadTargets) {
  Request r;
  Status s = ParseTarget("http://example.com/", r);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(ParseTarget("/a%zz", r).field(), "path");
  EXPECT_EQ(ParseTarget("/a?x=%00", r).field(), "x");
  EXPECT_TRUE(r.path.empty());
}

}  // namespace
}  // namespace kiln::http
