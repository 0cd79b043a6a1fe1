// Spintax: grammar corners, determinism and the uniformity of the choice.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>

#include "kiln/template/template.h"

namespace kiln::tmpl {
namespace {

std::string Spin(std::string_view source, uint64_t seed, const Variables& vars) {
  auto t = Template::Parse(source);
  if (!t.ok()) return "PARSE ERROR: " + t.status().ToString();
  RenderOptions opt;
  opt.spin_seed = seed;
  auto r = t->Render(vars, opt);
  if (!r.ok()) return "RENDER ERROR: " + r.status().ToString();
  return r->text;
}

std::string Spin(std::string_view source, uint64_t seed) {
  RenderContext c;
  c.Set("first_name", "Ann").Set("x", "X");
  return Spin(source, seed, c);
}

// Every distinct output over `seeds` seeds.
std::set<std::string> Outputs(std::string_view source, int seeds = 2000) {
  std::set<std::string> out;
  for (int s = 0; s < seeds; ++s) out.insert(Spin(source, SpinSeed({static_cast<uint64_t>(s)})));
  return out;
}

TEST(SpintaxTest, SameSeedSameText) {
  const char* t = "{Hi|Hello|Hey} {{ first_name }}, {quick|short} {question|idea}{!|.}";
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const std::string a = Spin(t, SpinSeed({seed, 7, 1}));
    EXPECT_EQ(a, Spin(t, SpinSeed({seed, 7, 1})));
  }
  // Different seeds reach different texts.
  EXPECT_EQ(Outputs(t).size(), 3u * 2 * 2 * 2);
}

TEST(SpintaxTest, KnownValuesAreStableAcrossBuilds) {
  // The choice is part of what a lead received: it must not change between versions.
  EXPECT_EQ(SpinChoice(0, 0, 3), SpinChoice(0, 0, 3));
  EXPECT_EQ(SpinSeed({1, 2, 3}), SpinSeed({1, 2, 3}));
  EXPECT_NE(SpinSeed({1, 2, 3}), SpinSeed({3, 2, 1}));
  EXPECT_NE(SpinSeed({1, 2}), SpinSeed({1, 2, 0}));
  EXPECT_EQ(SpinSeed({}), 0x6A09E667F3BCC909ULL);
  // splitmix64: the first output for seed 0 is 0xE220A8397B1DCDAF; the group stream is
  // splitmix64(seed + golden * (group + 1)), and the index is its high part times n.
  EXPECT_EQ(SpinChoice(0, 0, 1ULL << 32), 0xE220A839u);
  EXPECT_EQ(Spin("{a|b|c|d}", 0), std::string(1, "abcd"[0xE220A8397B1DCDAFULL >> 62]));
}

TEST(SpintaxTest, UniformOverAlternatives) {
  // Chi-square over 60,000 seeds (lead ids), 5 alternatives: 4 degrees of freedom, the 99.9%
  // critical value is 18.47.
  auto t = Template::Parse("{a|b|c|d|e}");
  ASSERT_TRUE(t.ok());
  RenderContext c;
  std::map<std::string, int> counts;
  const int n = 60000;
  for (int lead = 0; lead < n; ++lead) {
    RenderOptions opt;
    opt.spin_seed = SpinSeed({static_cast<uint64_t>(lead), 3, 0});
    counts[t->Render(c, opt)->text]++;
  }
  ASSERT_EQ(counts.size(), 5u);
  double chi2 = 0;
  for (const auto& [text, count] : counts) {
    const double expected = n / 5.0;
    chi2 += (count - expected) * (count - expected) / expected;
  }
  EXPECT_LT(chi2, 18.47);
  // Consecutive raw seeds (no SpinSeed) are uniform too: splitmix64 mixes them.
  counts.clear();
  for (int seed = 0; seed < n; ++seed) {
    RenderOptions opt;
    opt.spin_seed = static_cast<uint64_t>(seed);
    counts[t->Render(c, opt)->text]++;
  }
  chi2 = 0;
  for (const auto& [text, count] : counts)
    chi2 += (count - n / 5.0) * (count - n / 5.0) / (n / 5.0);
  EXPECT_LT(chi2, 18.47);
}

TEST(SpintaxTest, GroupsChooseIndependently) {
  // Two groups in one template: all 9 pairs appear, each near 1/9.
  auto t = Template::Parse("{a|b|c}{a|b|c}");
  ASSERT_TRUE(t.ok());
  RenderContext c;
  std::map<std::string, int> counts;
  const int n = 45000;
  for (int s = 0; s < n; ++s) {
    RenderOptions opt;
    opt.spin_seed = SpinSeed({static_cast<uint64_t>(s)});
    counts[t->Render(c, opt)->text]++;
  }
  ASSERT_EQ(counts.size(), 9u);
  for (const auto& [text, count] : counts) {
    EXPECT_NEAR(count, n / 9, n / 9 * 0.08) << text;
  }
}

TEST(SpintaxTest, NestedGroups) {
  EXPECT_EQ(Outputs("{a|{b|c}}"), (std::set<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Outputs("{x{1|2}y|z}"), (std::set<std::string>{"x1y", "x2y", "z"}));
  EXPECT_EQ(Outputs("{ {b|c}|a}"), (std::set<std::string>{" b", " c", "a"}));
  EXPECT_EQ(Outputs("{a|{b|{c|d}}}"), (std::set<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(Outputs("{|Hi }there"),
            (std::set<std::string>{"there", "Hi there"}));  // empty alternative
}

TEST(SpintaxTest, LiquidInsideAlternatives) {
  EXPECT_EQ(Outputs("{Hi {{ first_name }}|Hello {{ first_name | upcase }}}"),
            (std::set<std::string>{"Hi Ann", "Hello ANN"}));
  // `{{{` is a brace then an output; `}}}` closes the output then the group.
  EXPECT_EQ(Outputs("{{{first_name}}|there}"), (std::set<std::string>{"Ann", "there"}));
  EXPECT_EQ(Outputs("{a|{{ x }}}"), (std::set<std::string>{"a", "X"}));
  EXPECT_EQ(Outputs("{a|{b|{{x}}}}"), (std::set<std::string>{"a", "b", "X"}));
  // Filter pipes inside an output are not spintax bars.
  EXPECT_EQ(Outputs("{{{ nobody | default: 'friend' }}|pal}"),
            (std::set<std::string>{"friend", "pal"}));
  // Blocks inside an alternative, and groups inside blocks.
  EXPECT_EQ(Outputs("{{% if x %}yes{% else %}no{% endif %}|other}"),
            (std::set<std::string>{"yes", "other"}));
  EXPECT_EQ(Outputs("{% if x %}{a|b}{% else %}{c|d}{% endif %}"),
            (std::set<std::string>{"a", "b"}));
  // Raw blocks hide braces and bars from the group scan.
  EXPECT_EQ(Outputs("{a{% raw %}|}{% endraw %}|b}"), (std::set<std::string>{"a|}", "b"}));
}

TEST(SpintaxTest, BracesWithoutABarAreLiteral) {
  // CSS in an HTML body, JSON-ish text, lone braces.
  EXPECT_EQ(Spin("<style>p { margin: 0 } a{color:red}</style>", 1),
            "<style>p { margin: 0 } a{color:red}</style>");
  EXPECT_EQ(Spin("{ unclosed | group", 1), "{ unclosed | group");
  EXPECT_EQ(Spin("closing only } | here", 1), "closing only } | here");
  EXPECT_EQ(Spin("{a}", 1), "{a}");
  EXPECT_EQ(Outputs("{ {a|b} }"), (std::set<std::string>{"{ a }", "{ b }"}));
  EXPECT_EQ(Outputs("{a|b} | c }"), (std::set<std::string>{"a | c }", "b | c }"}));
  EXPECT_EQ(Outputs("{ x {a|b}"), (std::set<std::string>{"{ x a", "{ x b"}));
  // Escapes make braces and bars literal inside and outside groups.
  EXPECT_EQ(Spin("\\{a|b\\}", 1), "{a|b}");
  EXPECT_EQ(Outputs("{a\\|b|c\\}}"), (std::set<std::string>{"a|b", "c}"}));
  EXPECT_EQ(Spin("{{ '{' }}a|b{{ '}' }}", 1), "{a|b}");
}

TEST(SpintaxTest, GroupIdsFollowTemplateOrderNotRenderOrder) {
  // A group's choice does not depend on which if-branch rendered before it.
  auto t = Template::Parse("{% if x %}{p|q}{% endif %}{a|b|c|d|e|f|g|h}");
  ASSERT_TRUE(t.ok());
  RenderContext with, without;
  with.Set("x", "1");
  for (uint64_t s = 0; s < 100; ++s) {
    RenderOptions opt;
    opt.spin_seed = s;
    EXPECT_EQ(t->Render(with, opt)->text.substr(1), t->Render(without, opt)->text);
  }
}

}  // namespace
}  // namespace kiln::tmpl
