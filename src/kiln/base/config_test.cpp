#include "kiln/base/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace kiln {
namespace {

constexpr SettingDef kDefs[] = {
    {"listen", SettingDef::Type::kString, "127.0.0.1:8080", "where"},
    {"http_threads", SettingDef::Type::kInt, "0", "threads", 0, 64},
    {"cookie_secure", SettingDef::Type::kBool, "false", "secure"},
};

TEST(ConfigTest, PrecedenceFlagsEnvFileDefault) {
  auto c = Config::Resolve(kDefs, {{"listen", "0.0.0.0:1"}},
                           {{"KILN_LISTEN", "env:2"}, {"KILN_HTTP_THREADS", "3"}},
                           "listen = file:3\nhttp_threads = 4\ncookie_secure = yes\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->GetString("listen"), "0.0.0.0:1");
  EXPECT_EQ(c->SourceOf("listen"), "--listen");
  EXPECT_EQ(c->GetInt("http_threads"), 3);
  EXPECT_EQ(c->SourceOf("http_threads"), "KILN_HTTP_THREADS");
  EXPECT_TRUE(c->GetBool("cookie_secure"));
  EXPECT_EQ(c->SourceOf("cookie_secure"), "config");
}

TEST(ConfigTest, BadValuesNameTheSettingAndSource) {
  auto c = Config::Resolve(kDefs, {}, {{"KILN_HTTP_THREADS", "many"}}, "");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().field(), "http_threads");
  EXPECT_NE(c.status().message().find("KILN_HTTP_THREADS"), std::string::npos);
  auto range = Config::Resolve(kDefs, {{"http_threads", "1000"}}, {}, "");
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("0..64"), std::string::npos);
  auto unknown = Config::Resolve(kDefs, {}, {}, "nope = 1\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("nope"), std::string::npos);
  auto syntax = Config::Resolve(kDefs, {}, {}, "# comment\n\nlisten\n", "kiln.conf");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("kiln.conf line 3"), std::string::npos);
}

TEST(ConfigTest, RealTableDefaultsValidate) {
  Config c = Config::Defaults(AllSettings());
  EXPECT_EQ(c.GetString("listen"), "127.0.0.1:8080");
  EXPECT_EQ(c.GetInt("rate_limit_per_minute"), 100);
  EXPECT_NE(SettingsMarkdown(AllSettings()).find("`KILN_LISTEN`"), std::string::npos);
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

// docs/operations.md carries the settings table generated from the code; keep them identical.
TEST(ConfigDocsTest, OperationsDocListsEverySetting) {
  const char* src = std::getenv("KILN_SOURCE_DIR");
  ASSERT_NE(src, nullptr) << "KILN_SOURCE_DIR is set by CTest";
  std::ifstream in(std::string(src) + "/docs/operations.md");
  ASSERT_TRUE(in) << "docs/operations.md missing";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string doc = ss.str();
  size_t begin = doc.find("-->\n", doc.find("<!-- settings:begin"));
  size_t end = doc.find("<!-- settings:end -->");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  EXPECT_EQ(doc.substr(begin + 4, end - begin - 4), SettingsMarkdown(AllSettings()))
      << "regenerate with: kiln settings --markdown";
}

}  // namespace
}  // namespace kiln
