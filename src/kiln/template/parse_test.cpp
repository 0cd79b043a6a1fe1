// Parse errors: every malformed template is refused with InvalidArgument (TooLarge for limits)
// and a message that starts with the line and column and names the problem.
#include <gtest/gtest.h>

#include <string>

#include "kiln/template/template.h"

namespace kiln::tmpl {
namespace {

std::string ParseError(std::string_view source, const TemplateOptions& options = {}) {
  auto t = Template::Parse(source, options);
  if (t.ok()) return "(parsed)";
  return t.status().message();
}

Status::Code ParseCode(std::string_view source, const TemplateOptions& options = {}) {
  auto t = Template::Parse(source, options);
  return t.ok() ? Status::Code::kOk : t.status().code();
}

TEST(ParseTest, ErrorMessagesNameTheProblemAndItsPosition) {
  struct Case {
    std::string source;
    std::string message;
  };
  const Case cases[] = {
      // 1. The example of the spec: the error is at the end, pointing back at the opener.
      {"{% if a %}\nHi\n  {{ first_name }}",
       "line 3, column 19: unclosed {% if %} opened at line 1, column 1"},
      // 2. Unknown filter with a suggestion.
      {"Hi {{ name | upcse }}",
       "line 1, column 14: unknown filter 'upcse' — did you mean 'upcase'?"},
      {"{{ name | defualt: 'x' }}",
       "line 1, column 11: unknown filter 'defualt' — did you mean 'default'?"},
      {"{{ name | frobnicate }}", "line 1, column 11: unknown filter 'frobnicate'"},
      // 3. Unknown tag, with and without suggestion; unsupported Liquid tags say so.
      {"a\n{% iff x %}", "line 2, column 1: unknown tag 'iff' — did you mean 'if'?"},
      {"{% frob %}", "line 1, column 1: unknown tag 'frob'"},
      {"{% for x in list %}{% endfor %}",
       "line 1, column 1: {% for %} is not supported: templates have no loops"},
      {"{% assign x = 1 %}",
       "line 1, column 1: {% assign %} is not supported (tags: if, elsif, else, endif, unless, "
       "endunless, comment, raw)"},
      // 4. Unterminated delimiters and strings.
      {"Hello {{ first_name", "line 1, column 7: unterminated {{: no matching }}"},
      {"Hello\n  {% if x ", "line 2, column 3: unterminated {%: no matching %}"},
      {"{{ name | default: \"there }}",
       "line 1, column 20: unterminated string in {{ opened at line 1, column 1 (no closing \")"},
      // 5. Stray and misplaced block tags.
      {"Hi {% endif %}", "line 1, column 4: stray {% endif %}: no {% if %} is open"},
      {"{% else %}", "line 1, column 1: {% else %} outside an {% if %} or {% unless %} block"},
      {"x {% endraw %}", "line 1, column 3: stray {% endraw %}: no {% raw %} is open"},
      {"{% if a %}1{% else %}2{% elsif b %}3{% endif %}",
       "line 1, column 23: {% elsif %} after {% else %} (the {% else %} of the {% if %} opened at "
       "line 1, column 1 is at line 1, column 12)"},
      {"{% if a %}1{% else %}2{% else %}3{% endif %}",
       "line 1, column 23: second {% else %} in the {% if %} opened at line 1, column 1 (the first "
       "is at line 1, column 12)"},
      {"{% unless a %}x{% endif %}",
       "line 1, column 16: {% endif %} cannot close the {% unless %} opened at line 1, column 1: "
       "use {% endunless %}"},
      {"{% if a %}x{% else b %}y{% endif %}",
       "line 1, column 20: {% else %} takes no condition (did you mean {% elsif … %}?)"},
      {"{% if a %}x{% endif b %}", "line 1, column 21: {% endif %} takes no arguments"},
      // 6. Unclosed raw/comment blocks point at the end and at the opener.
      {"{% raw %}{{ x }}",
       "line 1, column 17: unclosed {% raw %} opened at line 1, column 1 (no {% endraw %})"},
      {"a\n{% comment %}\nnote",
       "line 3, column 5: unclosed {% comment %} opened at line 2, column 1 (no {% endcomment %})"},
      // 7. Expressions.
      {"Hi {{ }}", "line 1, column 4: empty {{ }}: expected a variable or a literal"},
      {"{% if %}x{% endif %}", "line 1, column 1: {% if %} needs a condition"},
      {"{% if a = 1 %}x{% endif %}", "line 1, column 9: '=' is not a comparison: use '=='"},
      {"{% if a === 1 %}x{% endif %}", "line 1, column 9: unknown operator '==='"},
      {"{% if a b %}x{% endif %}",
       "line 1, column 9: expected a comparison (==, !=, <, >, <=, >=, contains), 'and', 'or' or "
       "the end of the condition, found 'b'"},
      {"{{ first_name last_name }}",
       "line 1, column 15: unexpected 'last_name' in {{ }} (filters are written '| name: "
       "argument')"},
      {"{{ name | }}", "line 1, column 9: expected a filter name after '|', found the end"},
      {"{{ sender. }}", "line 1, column 10: expected a name after '.' in 'sender.', found the end"},
      {"{{ custom[industry] }}",
       "line 1, column 11: expected a quoted field name inside [ ] after 'custom' (as in "
       "custom[\"Industry Name\"]), found 'industry'"},
      {"{{ custom[\"a\" }}", "line 1, column 15: expected ']' after '\"a\"'"},
      {"{{ name | truncate: 'ten' }}",
       "line 1, column 11: filter 'truncate' needs a whole number of characters as its first "
       "argument"},
      {"{{ name | upcase: 2 }}", "line 1, column 11: filter 'upcase' takes 0 arguments, got 1"},
      {"{{ name | default }}", "line 1, column 11: filter 'default' takes 1 argument, got 0"},
      {"{{ name | truncate: 5, '..', 3 }}",
       "line 1, column 11: filter 'truncate' takes 0 to 2 arguments, got 3"},
      {"{{ 12ab }}", "line 1, column 4: malformed number '12ab'"},
      {"{{ name @ }}", "line 1, column 9: unexpected character '@'"},
      {"{% if x > blank %}y{% endif %}",
       "line 1, column 9: 'blank' and 'empty' can only be compared with == or !="},
      {"{% if blank %}y{% endif %}",
       "line 1, column 7: 'blank' and 'empty' can only be compared (x == blank, x != blank)"},
      // 8. Blocks must not cross spintax alternatives.
      {"{A {% if x %}B|C{% endif %}}",
       "line 1, column 15: unclosed {% if %} opened at line 1, column 4 before the '|' of a "
       "spintax group: close it inside the alternative"},
      {"{% if x %}{A|B{% endif %}|C}",
       "line 1, column 15: {% endif %} inside an alternative of the spintax group opened at line "
       "1, column 11 has no {% if %} opened in that alternative"},
      // 9. Columns count characters, not bytes; invalid UTF-8 is refused.
      {"Grüße {{ x | nope }}", "line 1, column 14: unknown filter 'nope'"},
      {"ok\nab\xFF", "line 2, column 3: invalid UTF-8"},
  };
  for (const Case& c : cases) {
    auto t = Template::Parse(c.source);
    ASSERT_FALSE(t.ok()) << c.source;
    EXPECT_EQ(t.status().code(), Status::Code::kInvalidArgument) << c.source;
    EXPECT_EQ(t.status().message(), c.message) << c.source;
  }
}

TEST(ParseTest, ValidTemplatesParse) {
  const char* ok[] = {
      "",
      "plain text with } and | and { braces",
      "p { margin: 0 } a:hover { color: red }",
      "{{ x }}{{- y -}}{%- if z -%}{%- endif -%}",
      "{% if a and b or c %}{% elsif d contains 'x' %}{% else %}{% endif %}",
      "{% unless a %}x{% else %}y{% endunless %}",
      "{{ custom[\"Industry Name\"] | default: 'your industry' | downcase }}",
      "{{ 'lit' }}{{ 42 }}{{ -1.5 }}{{ true }}{{ nil }}",
      "{% comment %}{% if %} unclosed {{ inside {% endcomment %}",
      "{% raw %}{% if %}{{ {a|b} {% endraw %}",
      "{% # a note %}",
      "{a|{b|c}}",
      "{ {b|c}|a}",
      "{{{first_name}}|there}",
      "\\{not|spin\\}",
      "{% if x %}{a|b}{% endif %}",
      "{a {% if x %}y{% endif %}|b}",
  };
  for (const char* src : ok) {
    auto t = Template::Parse(src);
    EXPECT_TRUE(t.ok()) << src << ": " << t.status().ToString();
  }
}

TEST(ParseTest, ReportsVariablesAndSpinGroups) {
  auto t = Template::Parse(
      "{{ first_name }} {% if custom[\"Industry Name\"] == 'x' %}{{ sender.first_name | default: "
      "first_name }}{% endif %} {a|{b|c}} {{ company }}");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->variables(), (std::vector<std::string>{"first_name", "custom.Industry Name",
                                                      "sender.first_name", "company"}));
  EXPECT_EQ(t->spin_group_count(), 2u);
}

TEST(ParseTest, LimitsAreRefusedCleanly) {
  TemplateOptions small;
  small.max_source_bytes = 100;
  auto big = Template::Parse(std::string(101, 'x'), small);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), Status::Code::kTooLarge);
  EXPECT_EQ(big.status().message(), "template is 101 bytes, over the limit of 100");
  EXPECT_TRUE(Template::Parse(std::string(100, 'x'), small).ok());
  // The default source limit is 256 KiB.
  EXPECT_EQ(ParseCode(std::string(256 * 1024 + 1, 'x')), Status::Code::kTooLarge);

  // Nesting: 32 levels parse, 33 do not (if-blocks and spintax groups count alike).
  std::string deep_ok, deep_bad;
  for (int i = 0; i < 32; ++i) deep_ok += "{% if a %}";
  for (int i = 0; i < 32; ++i) deep_ok += "{% endif %}";
  EXPECT_TRUE(Template::Parse(deep_ok).ok());
  for (int i = 0; i < 33; ++i) deep_bad += "{% if a %}";
  for (int i = 0; i < 33; ++i) deep_bad += "{% endif %}";
  EXPECT_EQ(ParseError(deep_bad),
            "line 1, column 321: blocks and spintax groups nest deeper than 32 levels");
  EXPECT_EQ(ParseCode(deep_bad), Status::Code::kTooLarge);
  std::string spin_deep;
  for (int i = 0; i < 50000; ++i) spin_deep += "{a|";
  for (int i = 0; i < 50000; ++i) spin_deep += "}";
  EXPECT_EQ(ParseCode(spin_deep), Status::Code::kTooLarge);  // and no stack overflow

  // Node count.
  TemplateOptions few;
  few.max_nodes = 10;
  std::string many;
  for (int i = 0; i < 11; ++i) many += "{{ a }}";
  EXPECT_EQ(ParseError(many, few), "line 1, column 71: template has more than 10 elements");
  EXPECT_EQ(ParseCode(many, few), Status::Code::kTooLarge);
}

TEST(ParseTest, HostileInputsFinishQuickly) {
  // Quadratic traps: many unmatched braces, many unterminated tags, long filter chains.
  std::string braces(200000, '{');
  EXPECT_FALSE(Template::Parse(braces).ok());  // "{{" without "}}"
  std::string spaced;
  for (int i = 0; i < 60000; ++i) spaced += "{ ";
  EXPECT_TRUE(Template::Parse(spaced).ok());  // all literal
  // 40,000 outputs on one 200 KB line: positions are computed incrementally.
  std::string one_line;
  for (int i = 0; i < 40000; ++i) one_line += "{{a}}";
  auto t = Template::Parse(one_line);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  one_line += "{{ b | nope }}";
  EXPECT_EQ(ParseError(one_line), "line 1, column 200008: unknown filter 'nope'");
  std::string bars;
  for (int i = 0; i < 60000; ++i) bars += "|}";
  EXPECT_TRUE(Template::Parse(bars).ok());
}

}  // namespace
}  // namespace kiln::tmpl
