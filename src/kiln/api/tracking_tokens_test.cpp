#include "kiln/api/tracking_tokens.h"

#include <gtest/gtest.h>

#include <vector>

#include "kiln/auth/crypto.h"

namespace kiln::api {
namespace {

const std::string kKey(32, 'k');

TEST(TrackingTokens, RoundTripEveryKind) {
  for (TokenKind kind : {TokenKind::kUnsubscribe, TokenKind::kOpen, TokenKind::kClick}) {
    TrackingToken t{kind, 7, 123456789012, 3, "https://example.com/a?b=c#d"};
    auto signed_token = SignToken(kKey, t);
    ASSERT_TRUE(signed_token.ok()) << signed_token.status().ToString();
    auto back = VerifyToken(kKey, *signed_token);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->kind, kind);
    EXPECT_EQ(back->workspace_id, 7);
    EXPECT_EQ(back->message_id, 123456789012);
    if (kind == TokenKind::kClick) {
      EXPECT_EQ(back->link_index, 3);
      EXPECT_EQ(back->url, "https://example.com/a?b=c#d");
    }
  }
}

TEST(TrackingTokens, CompactForSimpleKinds) {
  auto t = SignToken(kKey, {TokenKind::kOpen, 1, 1000000, 0, ""});
  ASSERT_TRUE(t.ok());
  EXPECT_LE(t->size(), 32u);
}

TEST(TrackingTokens, EveryFlippedBitIsRejected) {
  auto t = SignToken(kKey, {TokenKind::kClick, 2, 99, 1, "https://ok.example/x"});
  ASSERT_TRUE(t.ok());
  auto raw = auth::Base64UrlDecode(*t);
  ASSERT_TRUE(raw.ok());
  for (size_t i = 0; i < raw->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = *raw;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      auto v = VerifyToken(kKey, auth::Base64UrlEncode(bad));
      EXPECT_EQ(v.status().code(), Status::Code::kNotFound) << "byte " << i << " bit " << bit;
    }
  }
  // Truncated and extended tokens.
  for (size_t n = 0; n < t->size(); ++n) EXPECT_FALSE(VerifyToken(kKey, t->substr(0, n)).ok());
  EXPECT_FALSE(VerifyToken(kKey, *t + "A").ok());
  EXPECT_FALSE(VerifyToken(kKey, *t + "AA").ok());
}

TEST(TrackingTokens, OtherKeyRejected) {
  auto t = SignToken(kKey, {TokenKind::kUnsubscribe, 2, 99, 0, ""});
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(VerifyToken(std::string(32, 'j'), *t).ok());
  EXPECT_FALSE(VerifyToken(kKey, "not a token!").ok());
  EXPECT_FALSE(VerifyToken(kKey, "").ok());
}

TEST(TrackingTokens, InvalidInputsNamed) {
  EXPECT_EQ(SignToken(kKey, {TokenKind::kOpen, 0, 1, 0, ""}).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(SignToken(kKey, {TokenKind::kOpen, 1, -1, 0, ""}).status().code(),
            Status::Code::kInvalidArgument);
  for (const std::string& url : std::vector<std::string>{
           "", "javascript:alert(1)", "//evil.example/", "/relative", "https://a.example/ b",
           "https://a.example/\r\nX: y", "https://" + std::string(kMaxTrackedUrlLength, 'a')}) {
    EXPECT_FALSE(ClickUrl("https://t.example", kKey, 1, 1, 0, url).ok()) << url;
  }
}

TEST(TrackingTokens, UrlsAndHeaders) {
  auto u = UnsubscribeUrl("https://t.example/", kKey, 1, 2);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->rfind("https://t.example/u/", 0), 0u);
  auto o = OpenPixelUrl("https://t.example", kKey, 1, 2);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->rfind("https://t.example/o/", 0), 0u);
  EXPECT_EQ(o->substr(o->size() - 4), ".gif");
  auto c = ClickUrl("https://t.example", kKey, 1, 2, 0, "https://dest.example/");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->rfind("https://t.example/c/", 0), 0u);
  auto h = ListUnsubscribeHeaderValues("https://t.example", kKey, 1, 2);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->list_unsubscribe, "<" + *u + ">");
  EXPECT_EQ(h->list_unsubscribe_post, "List-Unsubscribe=One-Click");
}

}  // namespace
}  // namespace kiln::api
