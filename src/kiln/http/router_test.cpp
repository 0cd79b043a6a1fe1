#include "kiln/http/router.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace kiln::http {
namespace {

Handler Named(std::string name) {
  return [name](Request& r) {
    std::string body = name;
    for (const auto& [k, v] : r.path_params) body += " " + k + "=" + v;
    return Response::Text(bhttp::status::ok, body);
  };
}

RouteDoc Doc() { return RouteDoc{.summary = "test", .tag = "test"}; }

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.Add(bhttp::verb::get, "/api/v1/campaigns/{id}", Named("get-campaign"), Doc());
    router_.Add(bhttp::verb::delete_, "/api/v1/campaigns/{id}", Named("del-campaign"), Doc());
    router_.Add(bhttp::verb::get, "/api/v1/campaigns/new", Named("new-campaign"), Doc());
    router_.Add(bhttp::verb::get, "/api/v1/campaigns/{id}/steps/{step}", Named("step"), Doc());
    router_.Add(bhttp::verb::get, "/api/v1/{kind}/latest", Named("kind-latest"), Doc());
    router_.Add(bhttp::verb::get, "/", Named("root"), Doc());
  }
  Response Call(bhttp::verb method, std::string target) {
    last_ = Request{};
    last_.method = method;
    last_.target = std::move(target);
    return router_.Dispatch(last_);
  }
  Router router_;
  Request last_;
};

TEST_F(RouterTest, LiteralSegmentBeatsParameter) {
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/campaigns/new").body, "new-campaign");
  EXPECT_EQ(last_.route, "/api/v1/campaigns/new");
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/campaigns/7").body, "get-campaign id=7");
  EXPECT_EQ(last_.route, "/api/v1/campaigns/{id}");
  // "campaigns" literal at position 3 beats "{kind}" even though both patterns match.
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/campaigns/latest").body, "get-campaign id=latest");
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/leads/latest").body, "kind-latest kind=leads");
}

TEST_F(RouterTest, ParamsArePercentDecodedPerSegment) {
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/campaigns/a%20b%2Fc/steps/2?x=1").body,
            "step id=a b/c step=2");
  EXPECT_EQ(Call(bhttp::verb::get, "/").body, "root");
}

TEST_F(RouterTest, UnknownApiPathIs404InErrorShape) {
  Response r = Call(bhttp::verb::get, "/api/v1/nothing/here/at/all");
  EXPECT_EQ(r.status, bhttp::status::not_found);
  EXPECT_EQ(boost::json::parse(r.body).at("error").at("code").as_string(), "not_found");
  EXPECT_EQ(last_.route, "(unmatched)");
  // Empty segment does not match a parameter.
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/campaigns/").status, bhttp::status::not_found);
}

TEST_F(RouterTest, NonApiPathIsPlainText404) {
  Response r = Call(bhttp::verb::get, "/nope");
  EXPECT_EQ(r.status, bhttp::status::not_found);
  EXPECT_EQ(r.headers[bhttp::field::content_type], "text/plain; charset=utf-8");
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  Response r = Call(bhttp::verb::post, "/api/v1/campaigns/7");
  EXPECT_EQ(r.status, bhttp::status::method_not_allowed);
  EXPECT_EQ(r.headers[bhttp::field::allow], "DELETE, GET, HEAD");
  EXPECT_EQ(boost::json::parse(r.body).at("error").at("code").as_string(), "method_not_allowed");
}

TEST_F(RouterTest, MethodPicksLessSpecificPatternBefore405) {
  // DELETE /campaigns/new: the literal route has no DELETE, the {id} route does.
  EXPECT_EQ(Call(bhttp::verb::delete_, "/api/v1/campaigns/new").body, "del-campaign id=new");
}

TEST_F(RouterTest, HeadUsesGetRoute) {
  Response r = Call(bhttp::verb::head, "/api/v1/campaigns/9");
  EXPECT_EQ(r.status, bhttp::status::ok);
  EXPECT_EQ(r.body, "get-campaign id=9");
}

TEST_F(RouterTest, BadEncodingAndNulAre400) {
  Response r = Call(bhttp::verb::get, "/api/v1/campaigns/%zz");
  EXPECT_EQ(r.status, bhttp::status::bad_request);
  EXPECT_EQ(boost::json::parse(r.body).at("error").at("field").as_string(), "path");
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/campaigns/a%00").status, bhttp::status::bad_request);
  EXPECT_EQ(Call(bhttp::verb::get, "/x%0").status, bhttp::status::bad_request);
}

TEST_F(RouterTest, FallbackServesNonApiPathsOnly) {
  router_.SetFallback([](Request&) { return Response::Text(bhttp::status::ok, "fallback"); });
  EXPECT_EQ(Call(bhttp::verb::get, "/some/page").body, "fallback");
  EXPECT_EQ(last_.route, "(fallback)");
  EXPECT_EQ(Call(bhttp::verb::get, "/api/v1/unknown").status, bhttp::status::not_found);
}

TEST_F(RouterTest, DecodedPathWorksWithoutTarget) {
  Request r;
  r.path = "/api/v1/campaigns/12";
  EXPECT_EQ(router_.Dispatch(r).body, "get-campaign id=12");
}

TEST(RouterDeathTest, BadPatternsAbort) {
  Router router;
  auto h = [](Request&) { return Response::NoContent(); };
  EXPECT_DEATH(router.Add(bhttp::verb::get, "no-slash", h, {}), "must start with");
  EXPECT_DEATH(router.Add(bhttp::verb::get, "/a/x{id}", h, {}), "whole");
  EXPECT_DEATH(router.Add(bhttp::verb::get, "/a/{}", h, {}), "empty parameter");
  router.Add(bhttp::verb::get, "/a/{id}", h, {});
  EXPECT_DEATH(router.Add(bhttp::verb::get, "/a/{id}", h, {}), "registered twice");
}

}  // namespace
}  // namespace kiln::http
