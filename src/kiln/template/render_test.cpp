// Rendering: filters, tags, Liquid's semantics, HTML escaping and the trust model, missing
// variables, single-line subjects and the output bound.
#include <gtest/gtest.h>

#include <string>

#include "kiln/template/template.h"

namespace kiln::tmpl {
namespace {

RenderContext Lead() {
  RenderContext c;
  c.Set("first_name", "élodie")
      .Set("last_name", "O'Brien")
      .Set("company", "Acme & Sons <Ltd>")
      .Set("title", "  Head of Sales  ")
      .Set("blank_field", "   ")
      .Set("empty_field", "")
      .Set("employees", "120")
      .Set("city", "San Francisco")
      .Set("custom.Industry Name", "Logistics")
      .Set("custom.industry", "logistics")
      .SetValue("vip", Value::Bool(true))
      .SetValue("churned", Value::Bool(false))
      .SetValue("score", Value::Number(4.5))
      .SetSafe("sender.signature", "<p>Best,<br><b>Ana</b></p>")
      .SetSafe("unsubscribe_url", "https://t.example/u/abc?x=1&y=2");
  return c;
}

std::string Render(std::string_view source, const Variables& vars, RenderOptions options = {}) {
  auto t = Template::Parse(source);
  if (!t.ok()) return "PARSE ERROR: " + t.status().ToString();
  auto r = t->Render(vars, options);
  if (!r.ok()) return "RENDER ERROR: " + r.status().ToString();
  return r->text;
}

std::string Render(std::string_view source, RenderOptions options = {}) {
  return Render(source, Lead(), options);
}

TEST(RenderTest, OutputsVariablesAndLiterals) {
  EXPECT_EQ(Render("Hi {{ first_name }}!"), "Hi élodie!");
  EXPECT_EQ(Render("{{first_name}}|{{  last_name  }}"), "élodie|O'Brien");
  EXPECT_EQ(
      Render("{{ custom[\"Industry Name\"] }}/{{ custom['industry'] }}/{{ custom.industry }}"),
      "Logistics/logistics/logistics");
  EXPECT_EQ(
      Render("{{ 'single' }} {{ \"double\" }} {{ 42 }} {{ -1.5 }} {{ 3.0 }} {{ true }} {{ nil }}."),
      "single double 42 -1.5 3 true .");
  EXPECT_EQ(Render("{{ vip }} {{ churned }} {{ score }}"), "true false 4.5");
  EXPECT_EQ(Render("{{ '{' }}a|b{{ '}' }}"), "{a|b}");
}

TEST(RenderTest, EveryFilter) {
  EXPECT_EQ(Render("{{ first_name | capitalize }}"), "Élodie");
  EXPECT_EQ(Render("{{ 'mcDONALD' | capitalize }}"), "Mcdonald");
  EXPECT_EQ(Render("{{ first_name | upcase }}"), "ÉLODIE");
  EXPECT_EQ(Render("{{ 'ÉLODIE' | downcase }}"), "élodie");
  EXPECT_EQ(Render("{{ city | truncate: 6 }}"), "San...");
  EXPECT_EQ(Render("{{ city | truncate: 6, '' }}"), "San Fr");
  EXPECT_EQ(Render("{{ city | truncate: 8, '…' }}"), "San Fra…");
  EXPECT_EQ(Render("{{ city | truncate: 100 }}"), "San Francisco");
  EXPECT_EQ(Render("{{ city | truncate: 66666666666666666666666666666666666 }}"), "San Francisco");
  EXPECT_EQ(Render("{{ city | truncate: 0, '' }}"), "");
  EXPECT_EQ(Render("{{ 'ééééééééééééééééééééééééééééééééééééééééééééééééééééé' | truncate }}"),
            "ééééééééééééééééééééééééééééééééééééééééééééééé...");  // default 50
  EXPECT_EQ(Render("[{{ title | strip }}]"), "[Head of Sales]");
  EXPECT_EQ(Render("[{{ title | lstrip }}]"), "[Head of Sales  ]");
  EXPECT_EQ(Render("[{{ title | rstrip }}]"), "[  Head of Sales]");
  EXPECT_EQ(Render("{{ company | escape }}"), "Acme &amp; Sons &lt;Ltd&gt;");
  EXPECT_EQ(Render("{{ city | url_encode }}"), "San+Francisco");
  EXPECT_EQ(Render("{{ company | url_encode }}"), "Acme+%26+Sons+%3CLtd%3E");
  EXPECT_EQ(Render("{{ title | first_word }}-{{ title | last_word }}"), "Head-Sales");
  EXPECT_EQ(Render("{{ 'x' | default: 'y' }}"), "x");
  EXPECT_EQ(Render("{{ score | upcase }}"), "4.5");  // numbers are text to string filters
  // Chains run left to right.
  EXPECT_EQ(Render("{{ title | strip | upcase | truncate: 7 }}"), "HEAD...");
  EXPECT_EQ(Render("{{ nobody | default: first_name | capitalize }}"), "Élodie");
}

TEST(RenderTest, DefaultFollowsLiquid) {
  // Applies to missing, nil, false and "" — not to whitespace (chain strip for that).
  EXPECT_EQ(Render("{{ missing | default: 'there' }}"), "there");
  EXPECT_EQ(Render("{{ empty_field | default: 'there' }}"), "there");
  EXPECT_EQ(Render("{{ churned | default: 'no' }}"), "no");
  EXPECT_EQ(Render("{{ nil | default: 'nil' }}"), "nil");
  EXPECT_EQ(Render("[{{ blank_field | default: 'there' }}]"), "[   ]");
  EXPECT_EQ(Render("[{{ blank_field | strip | default: 'there' }}]"), "[there]");
  EXPECT_EQ(Render("{{ vip | default: 'no' }}"), "true");
  EXPECT_EQ(Render("{{ missing | default: sender.name | default: 'team' }}"), "team");
}

TEST(RenderTest, IfElsifElseAndUnless) {
  const char* t =
      "{% if employees > 500 %}enterprise{% elsif employees >= 100 %}mid{% else %}small{% endif %}";
  EXPECT_EQ(Render(t), "mid");
  RenderContext big;
  big.Set("employees", "5000");
  EXPECT_EQ(Render(t, big), "enterprise");
  RenderContext none;
  EXPECT_EQ(Render(t, none), "small");
  EXPECT_EQ(Render("{% unless churned %}welcome{% endunless %}"), "welcome");
  EXPECT_EQ(Render("{% unless vip %}a{% else %}b{% endunless %}"), "b");
  EXPECT_EQ(Render("{% if vip %}{% if churned %}x{% else %}y{% endif %}{% endif %}"), "y");
}

TEST(RenderTest, ComparisonOperators) {
  EXPECT_EQ(Render("{% if first_name == 'élodie' %}y{% endif %}"), "y");
  EXPECT_EQ(Render("{% if first_name != 'élodie' %}y{% else %}n{% endif %}"), "n");
  EXPECT_EQ(Render("{% if first_name <> 'x' %}y{% endif %}"), "y");
  EXPECT_EQ(Render("{% if employees == 120 %}y{% endif %}"), "y");  // numeric string vs number
  EXPECT_EQ(Render("{% if employees == '120' %}y{% endif %}"), "y");
  EXPECT_EQ(Render("{% if employees == '120.0' %}y{% else %}n{% endif %}"), "n");  // two strings
  EXPECT_EQ(Render("{% if employees < 200 %}y{% endif %}"), "y");
  EXPECT_EQ(Render("{% if employees < 20 %}y{% else %}n{% endif %}"), "n");
  EXPECT_EQ(Render("{% if employees <= 120 and employees >= 120 %}y{% endif %}"), "y");
  EXPECT_EQ(Render("{% if score > 4 %}y{% endif %}"), "y");
  EXPECT_EQ(Render("{% if 'b' > 'a' %}y{% endif %}"), "y");            // strings order bytewise
  EXPECT_EQ(Render("{% if city > 3 %}y{% else %}n{% endif %}"), "n");  // no order: false
  EXPECT_EQ(Render("{% if missing < 3 %}y{% else %}n{% endif %}"), "n");
  EXPECT_EQ(Render("{% if company contains 'Sons' %}y{% endif %}"), "y");
  EXPECT_EQ(Render("{% if company contains 'sons' %}y{% else %}n{% endif %}"), "n");
  EXPECT_EQ(Render("{% if missing contains 'a' %}y{% else %}n{% endif %}"), "n");
  EXPECT_EQ(Render("{% if missing == nil %}y{% endif %}"), "y");
  EXPECT_EQ(Render("{% if vip == true %}y{% endif %}"), "y");
}

TEST(RenderTest, AndOrEvaluateRightToLeftLikeLiquid) {
  // true or (false and false) == true; ((true or false) and false) would be false.
  EXPECT_EQ(Render("{% if vip or churned and churned %}y{% else %}n{% endif %}"), "y");
  // false and (true or true) == false.
  EXPECT_EQ(Render("{% if churned and vip or vip %}y{% else %}n{% endif %}"), "n");
  EXPECT_EQ(Render("{% if vip and vip and churned %}y{% else %}n{% endif %}"), "n");
}

TEST(RenderTest, TruthinessBlankAndEmptyFollowLiquid) {
  // Only nil and false are falsy: an empty string is truthy.
  EXPECT_EQ(Render("{% if empty_field %}truthy{% else %}falsy{% endif %}"), "truthy");
  EXPECT_EQ(Render("{% if missing %}truthy{% else %}falsy{% endif %}"), "falsy");
  EXPECT_EQ(Render("{% if churned %}truthy{% else %}falsy{% endif %}"), "falsy");
  EXPECT_EQ(Render("{% if 0 %}truthy{% endif %}"), "truthy");
  // `!= blank` is the test for "has content".
  EXPECT_EQ(Render("{% if empty_field != blank %}y{% else %}n{% endif %}"), "n");
  EXPECT_EQ(Render("{% if blank_field != blank %}y{% else %}n{% endif %}"), "n");
  EXPECT_EQ(Render("{% if missing == blank %}y{% endif %}"), "y");
  EXPECT_EQ(Render("{% if churned == blank %}y{% endif %}"), "y");
  EXPECT_EQ(Render("{% if first_name != blank %}y{% endif %}"), "y");
  EXPECT_EQ(Render("{% if blank == first_name %}y{% else %}n{% endif %}"), "n");
  EXPECT_EQ(Render("{% if empty_field == empty %}y{% endif %}"), "y");
  EXPECT_EQ(Render("{% if blank_field == empty %}y{% else %}n{% endif %}"), "n");
  EXPECT_EQ(Render("{% if missing == empty %}y{% else %}n{% endif %}"), "n");
}

TEST(RenderTest, CommentRawAndWhitespaceControl) {
  EXPECT_EQ(Render("a{% comment %} {{ first_name }} {% if %} {% endcomment %}b"), "ab");
  EXPECT_EQ(Render("a{% # note to self %}b"), "ab");
  EXPECT_EQ(Render("a{%- # don't \"quote\" me -%} b"), "ab");
  EXPECT_EQ(Render("{% raw %}{{ first_name }} {a|b} {% if x %}{% endraw %}"),
            "{{ first_name }} {a|b} {% if x %}");
  EXPECT_EQ(Render("Hi   {{- first_name -}}  !"), "Hiélodie!");
  EXPECT_EQ(Render("<p>\n  {%- if vip -%}\n  VIP\n  {%- endif -%}\n</p>"), "<p>VIP</p>");
  EXPECT_EQ(Render("a \n {%- comment -%} x {%- endcomment -%} \n b"), "ab");
  EXPECT_EQ(Render("[ {%- raw -%} \n x \n {%- endraw -%} ]"), "[x]");
  EXPECT_EQ(Render("a\n{% if vip %}\nb\n{% endif %}\nc"), "a\n\nb\n\nc");  // no implicit trim
}

TEST(RenderTest, EscapesInText) {
  EXPECT_EQ(Render("\\{not spin\\|really\\} \\x"), "{not spin|really} \\x");
  EXPECT_EQ(Render("a | b } c {"), "a | b } c {");
}

TEST(RenderTest, HtmlEscapesValuesButNotTemplateTextOrSafeValues) {
  RenderOptions html;
  html.html_escape_values = true;
  EXPECT_EQ(Render("<b>{{ company }}</b> & {{ last_name }}", html),
            "<b>Acme &amp; Sons &lt;Ltd&gt;</b> & O&#39;Brien");
  // Trusted values: the signature and the unsubscribe URL go through untouched.
  EXPECT_EQ(Render("{{ sender.signature }}<a href=\"{{ unsubscribe_url }}\">x</a>", html),
            "<p>Best,<br><b>Ana</b></p><a href=\"https://t.example/u/abc?x=1&y=2\">x</a>");
  // Literals are template text.
  EXPECT_EQ(Render("{{ missing | default: '<i>friend</i>' }}", html), "<i>friend</i>");
  // An explicit escape is not escaped twice; url_encode output needs no escaping.
  EXPECT_EQ(Render("{{ company | escape }}", html), "Acme &amp; Sons &lt;Ltd&gt;");
  EXPECT_EQ(Render("{{ company | url_encode }}", html), "Acme+%26+Sons+%3CLtd%3E");
  // String filters keep the trust of their input.
  EXPECT_EQ(Render("{{ company | upcase }}", html), "ACME &amp; SONS &lt;LTD&gt;");
  EXPECT_EQ(Render("{{ sender.signature | strip }}", html), "<p>Best,<br><b>Ana</b></p>");
  // Without html_escape_values nothing is escaped.
  EXPECT_EQ(Render("{{ company }}"), "Acme & Sons <Ltd>");
  // A value that looks like Liquid is data, never template.
  RenderContext evil;
  evil.Set("first_name", "{{ unsubscribe_url }}{% if %}{a|b}<script>");
  EXPECT_EQ(Render("Hi {{ first_name }}", evil, html),
            "Hi {{ unsubscribe_url }}{% if %}{a|b}&lt;script&gt;");
}

TEST(RenderTest, SingleLineTurnsLineBreaksIntoSpaces) {
  RenderContext c;
  c.Set("company", "Acme\r\nBcc: victim@example.com").Set("name", "a\nb\rc\td\x01");
  RenderOptions subject;
  subject.single_line = true;
  EXPECT_EQ(Render("Re: {{ company }}", c, subject), "Re: Acme Bcc: victim@example.com");
  EXPECT_EQ(Render("{{ name }}", c, subject), "a b c\td ");
  EXPECT_EQ(Render("{% if company %}\nHi\n{% endif %}", c, subject), " Hi ");
  // Bodies keep them.
  EXPECT_EQ(Render("{{ company }}", c), "Acme\r\nBcc: victim@example.com");
}

TEST(RenderTest, MissingVariablesAreReportedWithPositions) {
  auto t = Template::Parse(
      "Hi {{ first_name | default: 'there' }},\n{{ company }} / {{ empty_field | upcase }} "
      "{{ title }}{% if nowhere %}{% endif %} {{ 'lit' }}{{ nowhere | default: '' }}");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  RenderContext c;
  c.Set("empty_field", "").Set("title", "CEO");
  auto r = t->Render(c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text, "Hi there,\n /  CEO lit");
  ASSERT_EQ(r->missing.size(), 2u);
  EXPECT_EQ(r->missing[0].name, "company");
  EXPECT_EQ(r->missing[0].line, 2);
  EXPECT_EQ(r->missing[0].column, 1);
  EXPECT_FALSE(r->missing[0].present_but_empty);
  EXPECT_EQ(r->missing[1].name, "empty_field");
  EXPECT_EQ(r->missing[1].line, 2);
  EXPECT_EQ(r->missing[1].column, 17);
  EXPECT_TRUE(r->missing[1].present_but_empty);

  RenderOptions strict;
  strict.strict = true;
  auto s = t->Render(c, strict);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.status().message(),
            "line 2, column 1: variable 'company' is missing and has no default");
  c.Set("company", "Acme");
  s = t->Render(c, strict);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "line 2, column 17: variable 'empty_field' is empty and has no default");
  c.Set("empty_field", "x");
  s = t->Render(c, strict);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->text, "Hi there,\nAcme / X CEO lit");
  EXPECT_TRUE(s->missing.empty());
}

TEST(RenderTest, ContextChainsToAParent) {
  RenderContext campaign;
  campaign.Set("sender.first_name", "Ana").Set("first_name", "fallback");
  RenderContext lead(&campaign);
  lead.Set("first_name", "Bob");
  EXPECT_EQ(Render("{{ first_name }} from {{ sender.first_name }}", lead), "Bob from Ana");
  lead.Clear();
  EXPECT_EQ(Render("{{ first_name }}", lead), "fallback");
  EXPECT_EQ(lead.size(), 0u);
}

TEST(RenderTest, OutputIsBounded) {
  RenderContext c;
  c.Set("big", std::string(1000, '&'));
  RenderOptions opt;
  opt.max_output_bytes = 10'000;
  auto t = Template::Parse(
      "{{ big }}{{ big }}{{ big }}{{ big }}{{ big }}{{ big }}{{ big }}{{ big }}{{ big }}{{ big }}");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->Render(c, opt).ok());  // exactly 10,000 bytes
  c.Set("big", std::string(1001, '&'));
  auto r = t->Render(c, opt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kTooLarge);
  EXPECT_EQ(r.status().message(), "rendered template exceeds the output limit of 10000 bytes");
  // Escaping grows output: checked after escaping too.
  c.Set("big", std::string(1000, '&'));
  opt.html_escape_values = true;
  EXPECT_EQ(t->Render(c, opt).status().code(), Status::Code::kTooLarge);
  // A filter chain that multiplies its input is stopped before it exhausts memory.
  std::string chain = "{{ big";
  for (int i = 0; i < 40; ++i) chain += " | escape";
  chain += " }}";
  auto e = Template::Parse(chain);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->Render(c, opt).status().code(), Status::Code::kTooLarge);
  // Text alone can exceed the bound too.
  auto text = Template::Parse(std::string(20'000, 'x'));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->Render(c, opt).status().code(), Status::Code::kTooLarge);
}

TEST(RenderTest, TemplateIsSharedAndReusable) {
  auto t = Template::Parse("{{ first_name | capitalize }}");
  ASSERT_TRUE(t.ok());
  Template copy = *t;
  RenderContext a, b;
  a.Set("first_name", "ann");
  b.Set("first_name", "bo");
  EXPECT_EQ(copy.Render(a)->text, "Ann");
  EXPECT_EQ(t->Render(b)->text, "Bo");
}

}  // namespace
}  // namespace kiln::tmpl
