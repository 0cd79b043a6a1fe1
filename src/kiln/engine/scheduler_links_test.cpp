#include "kiln/engine/scheduler_links.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "kiln/api/tracking_tokens.h"

namespace kiln::engine {
namespace {

// The click tokens of `html`'s links to `base`/c/, in order, each verified with `key` (a test
// failure for one that does not verify).
std::vector<api::TrackingToken> ClickTokens(const std::string& html, const std::string& base,
                                            const std::string& key) {
  std::vector<api::TrackingToken> out;
  const std::string prefix = base + "/c/";
  for (size_t at = html.find(prefix); at != std::string::npos; at = html.find(prefix, at + 1)) {
    const size_t start = at + prefix.size();
    size_t end = start;
    while (end < html.size() && (std::isalnum(static_cast<unsigned char>(html[end])) ||
                                 html[end] == '-' || html[end] == '_')) {
      ++end;
    }
    auto click = api::VerifyToken(key, html.substr(start, end - start));
    EXPECT_TRUE(click.ok()) << click.status().ToString();
    if (click.ok()) out.push_back(*click);
  }
  return out;
}

TEST(TrackingBaseUrl, CampaignDomainWinsOverSenderDomainOverPublicUrl) {
  EXPECT_EQ(TrackingBaseUrl("https://kiln.example.com", "t.campaign.example", "t.sender.example"),
            "https://t.campaign.example");
  EXPECT_EQ(TrackingBaseUrl("https://kiln.example.com", "", "t.sender.example"),
            "https://t.sender.example");
  EXPECT_EQ(TrackingBaseUrl("https://kiln.example.com/", "", ""), "https://kiln.example.com/");
  // A plain-http install (tests, a LAN) keeps plain http for its tracking domains too.
  EXPECT_EQ(TrackingBaseUrl("http://127.0.0.1:8080", "t.campaign.example", ""),
            "http://t.campaign.example");
  EXPECT_EQ(TrackingBaseUrl("HTTP://127.0.0.1:8080", "", "t.sender.example"),
            "http://t.sender.example");
}

TEST(TrackingBaseUrl, LinksOfACustomDomainVerifyWithTheSameKey) {
  const std::string key(32, 'k');
  const std::string base = TrackingBaseUrl("https://kiln.example.com", "track.acme.example", "");
  auto html = AddTracking(R"(<p><a href="https://acme.example/pricing">Pricing</a></p></body>)",
                          {.opens = true,
                           .clicks = true,
                           .base_url = base,
                           .key = key,
                           .workspace_id = 7,
                           .message_id = 42,
                           .unsubscribe_url = base + "/u/x"});
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  auto clicks = ClickTokens(*html, "https://track.acme.example", key);
  ASSERT_EQ(clicks.size(), 1u) << *html;
  EXPECT_EQ(clicks[0].url, "https://acme.example/pricing");
  EXPECT_EQ(clicks[0].message_id, 42);
  EXPECT_NE(html->find("<img src=\"https://track.acme.example/o/"), std::string::npos) << *html;
  EXPECT_EQ(html->find("kiln.example.com"), std::string::npos) << *html;
}

// Links typed with a space or a line break in them (it happens in hand-written HTML) are tracked
// and redirect where a browser would have gone: the space percent-encoded, the line break
// dropped. Before, such a link could not be signed and the whole message failed.
TEST(AddTracking, LinksWithSpacesOrLineBreaksAreTrackedAsABrowserReadsThem) {
  const std::string key(32, 'k');
  const std::string base = "https://kiln.example.com";
  auto html = AddTracking(
      "<a href=\"https://acme.example/our pricing?q=a b\">P</a>"
      "<a href='https://acme.example/de\nmo'>D</a>"
      "<a href=\" https://acme.example/x\t\">X</a>",
      {.opens = false,
       .clicks = true,
       .base_url = base,
       .key = key,
       .workspace_id = 7,
       .message_id = 42,
       .unsubscribe_url = base + "/u/x"});
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  std::vector<std::string> targets;
  for (const api::TrackingToken& click : ClickTokens(*html, base, key)) {
    EXPECT_EQ(click.link_index, static_cast<int64_t>(targets.size()));
    targets.push_back(click.url);
  }
  EXPECT_EQ(targets,
            (std::vector<std::string>{"https://acme.example/our%20pricing?q=a%20b",
                                      "https://acme.example/demo", "https://acme.example/x"}));
}

}  // namespace
}  // namespace kiln::engine
