#include "kiln/http/static_files.h"

#include <gtest/gtest.h>

#include "kiln/http/test_util.h"

namespace kiln::http {
namespace {

class StaticFilesTest : public ::testing::Test {
 protected:
  StaticFilesTest() {
    dir_.Write("secret.txt", "TOP SECRET");
    dir_.Write("web/index.html", "<html>INDEX</html>");
    dir_.Write("web/assets/app-abc123.js", "console.log(1)");
    dir_.Write("web/favicon.svg", "<svg/>");
    dir_.Write("web/.env", "PASSWORD=TOP SECRET");
    std::filesystem::create_symlink(dir_.path() / "secret.txt", dir_.path() / "web/link.txt");
    std::filesystem::create_directory_symlink(dir_.path(), dir_.path() / "web/up");
  }
  Response Get(std::string target, bhttp::verb method = bhttp::verb::get) {
    Request r;
    r.method = method;
    r.target = std::move(target);
    return files_.Serve(r);
  }
  testutil::TempDir dir_;
  StaticFiles files_{StaticFileOptions{dir_.path() / "web"}};
};

TEST_F(StaticFilesTest, ServesFilesWithTypeAndCaching) {
  Response index = Get("/");
  EXPECT_EQ(index.status, bhttp::status::ok);
  EXPECT_EQ(index.body, "<html>INDEX</html>");
  EXPECT_EQ(index.headers[bhttp::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(index.headers[bhttp::field::cache_control], "no-cache");

  Response js = Get("/assets/app-abc123.js?v=1");
  EXPECT_EQ(js.status, bhttp::status::ok);
  EXPECT_EQ(js.body, "console.log(1)");
  EXPECT_EQ(js.headers[bhttp::field::content_type], "text/javascript; charset=utf-8");
  EXPECT_EQ(js.headers[bhttp::field::cache_control], "public, max-age=31536000, immutable");
  EXPECT_FALSE(js.headers[bhttp::field::etag].empty());
  EXPECT_TRUE(js.headers[bhttp::field::last_modified].ends_with(" GMT"));

  EXPECT_EQ(Get("/favicon.svg").headers[bhttp::field::content_type], "image/svg+xml");
}

TEST_F(StaticFilesTest, ConditionalRequestsAnswer304) {
  Response first = Get("/assets/app-abc123.js");
  Request r;
  r.target = "/assets/app-abc123.js";
  r.headers.set(bhttp::field::if_none_match, first.headers[bhttp::field::etag]);
  Response again = files_.Serve(r);
  EXPECT_EQ(again.status, bhttp::status::not_modified);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.headers[bhttp::field::etag], first.headers[bhttp::field::etag]);

  Request by_date;
  by_date.target = "/assets/app-abc123.js";
  by_date.headers.set(bhttp::field::if_modified_since, first.headers[bhttp::field::last_modified]);
  EXPECT_EQ(files_.Serve(by_date).status, bhttp::status::not_modified);

  Request stale;
  stale.target = "/assets/app-abc123.js";
  stale.headers.set(bhttp::field::if_none_match, "\"0-0\"");
  EXPECT_EQ(files_.Serve(stale).status, bhttp::status::ok);
}

TEST_F(StaticFilesTest, TraversalAttemptsAreRefused) {
  for (const char* target :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
        "/assets/..%2F..%2Fsecret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/..%5csecret.txt",
        "/%2e%2e%5csecret.txt", "/..\\secret.txt", "/a%00.txt", "/.env", "/%2eenv", "/link.txt",
        "/up/secret.txt", "/up/web/.env", "/assets/%zz"}) {
    Response r = Get(target);
    EXPECT_TRUE(r.status == bhttp::status::not_found || r.status == bhttp::status::bad_request)
        << target << " -> " << static_cast<int>(r.status);
    EXPECT_EQ(r.body.find("TOP SECRET"), std::string::npos) << target;
  }
}

TEST_F(StaticFilesTest, SpaFallbackServesIndexForExtensionlessPaths) {
  EXPECT_EQ(Get("/campaigns/42").body, "<html>INDEX</html>");
  EXPECT_EQ(Get("/settings").body, "<html>INDEX</html>");
  EXPECT_EQ(Get("/missing.js").status, bhttp::status::not_found);
  Response api = Get("/api/v1/unknown");
  EXPECT_EQ(api.status, bhttp::status::not_found);
  EXPECT_EQ(api.headers[bhttp::field::content_type], "application/json");
}

TEST_F(StaticFilesTest, OnlyGetAndHead) {
  Response post = Get("/", bhttp::verb::post);
  EXPECT_EQ(post.status, bhttp::status::method_not_allowed);
  EXPECT_EQ(post.headers[bhttp::field::allow], "GET, HEAD");
  Response head = Get("/assets/app-abc123.js", bhttp::verb::head);
  EXPECT_EQ(head.status, bhttp::status::ok);
  EXPECT_EQ(head.body.size(), std::string("console.log(1)").size());
}

TEST_F(StaticFilesTest, OversizedFileIsRefused) {
  StaticFiles small{StaticFileOptions{dir_.path() / "web", 4}};
  Request r;
  r.target = "/favicon.svg";
  EXPECT_EQ(small.Serve(r).status, bhttp::status::internal_server_error);
}

TEST(StaticFilesNotBuiltTest, MissingIndexAnswersBuiltInPage) {
  testutil::TempDir dir;
  for (auto root : {dir.path(), dir.path() / "does-not-exist"}) {
    StaticFiles files{StaticFileOptions{root}};
    Request r;
    r.target = "/";
    Response page = files.Serve(r);
    EXPECT_EQ(page.status, bhttp::status::ok);
    EXPECT_NE(page.body.find("web UI is not built"), std::string::npos);
    EXPECT_NE(page.body.find("npm run build"), std::string::npos);
    r.target = "/app.js";
    EXPECT_EQ(files.Serve(r).status, bhttp::status::not_found);
  }
}

}  // namespace
}  // namespace kiln::http
