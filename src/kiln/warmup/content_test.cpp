#include "kiln/warmup/content.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "kiln/base/time_format.h"
#include "kiln/mail/classify_warmup.h"
#include "kiln/mail/incoming.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/template/template.h"
#include "kiln/warmup/corpus.h"

namespace kiln::warmup {
namespace {

constexpr std::string_view kToken = "abcdefghij234567klmn";
constexpr int64_t kT0 = 1'772'409'600'000;  // Mon, 02 Mar 2026 00:00:00 UTC

const ContentPeople kPeople{"Ann Lee", "Bob Stone"};

size_t Count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos;
       pos = haystack.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

// Composes the content as the source does (tag in the body only, no X-Kiln-Warmup header, as
// after a provider stripped it) and reads the token back the way the bots do.
std::optional<std::string> TokenAfterComposing(const WarmupContent& content, bool html_only) {
  mail::OutgoingMessage msg;
  msg.from = {"Ann Lee", "ann@sender.test"};
  msg.to = {{"Bob Stone", "bob@bots.test"}};
  msg.subject = content.subject;
  msg.html_body = content.html_body;
  if (!html_only) msg.text_body = content.text_body;
  msg.date = FromUnixMillis(1'790'000'000'000);
  auto raw = mail::ComposeMessage(msg);
  EXPECT_TRUE(raw.ok()) << raw.status().ToString();
  if (!raw.ok()) return std::nullopt;
  auto parsed = mail::ParseIncoming(*raw);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  if (!parsed.ok()) return std::nullopt;
  return mail::ExtractWarmupToken(*parsed);
}

TEST(WarmupContentTest, EveryCorpusTemplateParses) {
  for (auto table : {corpus::kSubjects, corpus::kGreetings, corpus::kBodies, corpus::kReplies,
                     corpus::kSignOffs}) {
    for (std::string_view source : table) {
      auto t = tmpl::Template::Parse(source);
      ASSERT_TRUE(t.ok()) << source << ": " << t.status().ToString();
      for (const std::string& var : t->variables()) {
        EXPECT_TRUE(var == "to_first" || var == "from_first" || var == "topic" ||
                    var == "weekday" || var == "place" || var == "thing")
            << "unknown variable " << var << " in " << source;
      }
    }
  }
  EXPECT_GE(corpus::kSubjects.size(), 30u);
  EXPECT_GE(corpus::kBodies.size(), 30u);
  EXPECT_GE(corpus::kReplies.size(), 25u);
}

TEST(WarmupContentTest, TokensHaveTheDocumentedShapeAndDiffer) {
  domain::Rng rng(7);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string token = NewWarmupToken(rng, kT0);  // all in one millisecond: the random part
    EXPECT_EQ(token.size(), 20u);
    EXPECT_TRUE(mail::IsValidWarmupToken(token)) << token;
    EXPECT_EQ(token.substr(0, kSortableMillisChars), SortableMillis(kT0));
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(WarmupContentTest, TokensOfLaterInstantsSortAfter) {
  domain::Rng rng(9);
  std::string previous;
  for (int64_t t = kT0; t < kT0 + 100 * 86'400'000LL; t += 86'400'000LL / 7) {
    std::string token = NewWarmupToken(rng, t);
    EXPECT_LT(previous, token) << "at " << t;
    previous = token;
  }
}

TEST(WarmupContentTest, ThreadLengthIsTwoToFourAndFixedByTheToken) {
  domain::Rng rng(11);
  std::set<int> lengths;
  for (int i = 0; i < 300; ++i) {
    std::string token = NewWarmupToken(rng, kT0 + i);
    int n = ThreadTargetExchanges(token);
    EXPECT_GE(n, 2);
    EXPECT_LE(n, 4);
    EXPECT_EQ(n, ThreadTargetExchanges(std::string(token)));
    lengths.insert(n);
  }
  EXPECT_EQ(lengths, (std::set<int>{2, 3, 4}));
}

TEST(WarmupContentTest, DeterministicPerSeed) {
  for (uint64_t seed : {1ULL, 2ULL, 99ULL, 123456789ULL}) {
    WarmupContent a = NewThreadContent(seed, kPeople, kToken);
    WarmupContent b = NewThreadContent(seed, kPeople, kToken);
    EXPECT_EQ(a.subject, b.subject);
    EXPECT_EQ(a.text_body, b.text_body);
    EXPECT_EQ(a.html_body, b.html_body);
    Original original{a.subject, a.text_body, "Ann Lee <ann@sender.test>",
                      FromUnixMillis(1'790'000'000'000)};
    WarmupContent r1 = ReplyContent(seed, {"Bob Stone", "Ann Lee"}, kToken, original);
    WarmupContent r2 = ReplyContent(seed, {"Bob Stone", "Ann Lee"}, kToken, original);
    EXPECT_EQ(r1.text_body, r2.text_body);
    EXPECT_EQ(r1.html_body, r2.html_body);
  }
  EXPECT_NE(NewThreadContent(1, kPeople, kToken).text_body,
            NewThreadContent(2, kPeople, kToken).text_body);
}

TEST(WarmupContentTest, ThousandSeedsGiveVariedText) {
  std::set<std::string> subjects, bodies, replies, subject_templates_hit;
  for (uint64_t seed = 0; seed < 1000; ++seed) {
    WarmupContent c = NewThreadContent(seed, kPeople, kToken);
    subjects.insert(c.subject);
    bodies.insert(c.text_body);
    Original original{c.subject, c.text_body, "Ann <ann@sender.test>", FromUnixMillis(0)};
    WarmupContent r = ReplyContent(seed, {"Bob Stone", "Ann Lee"}, kToken, original);
    // Only the answer, without the quote (which differs with the original anyway).
    replies.insert(r.text_body.substr(0, r.text_body.find("\nOn ")));
  }
  EXPECT_GE(subjects.size(), 700u);
  EXPECT_GE(bodies.size(), 990u);
  EXPECT_GE(replies.size(), 900u);
}

TEST(WarmupContentTest, NaturalPlainContentWithoutLinksOrImages) {
  for (uint64_t seed = 0; seed < 500; ++seed) {
    WarmupContent c = NewThreadContent(seed, kPeople, kToken);
    for (const std::string* s : {&c.subject, &c.text_body, &c.html_body}) {
      EXPECT_EQ(s->find("http"), std::string::npos) << *s;
      EXPECT_EQ(s->find("www."), std::string::npos) << *s;
      EXPECT_EQ(s->find("<img"), std::string::npos) << *s;
      EXPECT_EQ(s->find("<a "), std::string::npos) << *s;
      // Every spintax group and output was resolved.
      EXPECT_EQ(s->find("{{"), std::string::npos) << *s;
      EXPECT_EQ(s->find('|'), std::string::npos) << *s;
    }
    EXPECT_EQ(c.subject.find('\n'), std::string::npos);
    EXPECT_FALSE(c.subject.empty());
    EXPECT_EQ(c.subject.rfind("Re:", 0), std::string::npos);
    EXPECT_NE(c.text_body.find("Bob"), std::string::npos) << c.text_body;  // greets the reader
  }
}

TEST(WarmupContentTest, EveryMessageCarriesTheTagThroughMime) {
  domain::Rng rng(5);
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::string token = NewWarmupToken(rng, kT0 + static_cast<int64_t>(seed));
    WarmupContent c = NewThreadContent(seed, kPeople, token);
    EXPECT_EQ(Count(c.text_body, "kw-" + token), 1u) << c.text_body;
    EXPECT_EQ(Count(c.html_body, "kw-" + token), 1u) << c.html_body;
    EXPECT_EQ(TokenAfterComposing(c, false), token);
    EXPECT_EQ(TokenAfterComposing(c, true), token);

    Original original{c.subject, c.text_body, "Ann Lee <ann@sender.test>", FromUnixMillis(0)};
    WarmupContent r = ReplyContent(seed, {"Bob Stone", "Ann Lee"}, token, original);
    EXPECT_EQ(TokenAfterComposing(r, false), token);
    EXPECT_EQ(TokenAfterComposing(r, true), token);
  }
}

TEST(WarmupContentTest, MissingNamesStillReadNaturally) {
  WarmupContent c = NewThreadContent(3, {"", ""}, kToken);
  EXPECT_EQ(c.text_body.find("{{"), std::string::npos);
  EXPECT_EQ(c.text_body.find(" ,"), std::string::npos) << c.text_body;
  c = NewThreadContent(3, {"ann@x.test", "bob@y.test"}, kToken);
  EXPECT_EQ(c.text_body.find('@'), std::string::npos) << c.text_body;
}

TEST(WarmupContentTest, ReplyPrefixesReOnceAndQuotesTheOriginal) {
  const Original original{"Re: RE:  re : Plans for Friday",
                          "Hi Bob,\n\nAre we still on?\n\n> earlier line\n\nAnn\n\nRef: kw-" +
                              std::string(kToken) + "\n",
                          "Ann Lee <ann@sender.test>", FromUnixMillis(1'790'000'000'000)};
  WarmupContent r = ReplyContent(42, {"Bob Stone", "Ann Lee"}, kToken, original);
  EXPECT_EQ(r.subject, "Re: Plans for Friday");
  // 1,790,000,000,000 ms = Mon, 21 Sep 2026 14:13:20 UTC.
  EXPECT_NE(r.text_body.find("\nOn Mon, 21 Sep 2026 at 14:13, Ann Lee <ann@sender.test> wrote:\n"
                             "> Hi Bob,\n>\n> Are we still on?\n>\n>> earlier line\n>\n> Ann\n"),
            std::string::npos)
      << r.text_body;
  EXPECT_NE(r.html_body.find("<blockquote"), std::string::npos);
  EXPECT_NE(r.html_body.find("Ann Lee &lt;ann@sender.test&gt; wrote:"), std::string::npos);
  EXPECT_NE(r.html_body.find("Are we still on?"), std::string::npos);
  // The answer (before the quote) carries the tag itself, not only through the quote.
  EXPECT_NE(r.text_body.substr(0, r.text_body.find("\nOn ")).find("kw-" + std::string(kToken)),
            std::string::npos);

  WarmupContent plain = ReplyContent(42, {}, kToken, {"Budget", "x", "a@b.test", {}});
  EXPECT_EQ(plain.subject, "Re: Budget");
  WarmupContent second = ReplyContent(43, {}, kToken, {plain.subject, plain.text_body, "b", {}});
  EXPECT_EQ(second.subject, "Re: Budget");
  WarmupContent regarding = ReplyContent(1, {}, kToken, {"Regarding the deck", "x", "a", {}});
  EXPECT_EQ(regarding.subject, "Re: Regarding the deck");
}

}  // namespace
}  // namespace kiln::warmup
