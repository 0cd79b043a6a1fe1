#include "kiln/warmup/content.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "kiln/base/time_format.h"
#include "kiln/template/template.h"
#include "kiln/template/text.h"
#include "kiln/warmup/corpus.h"

namespace kiln::warmup {
namespace {

// The corpus compiled once. A template that does not parse is a broken invariant of the binary
// (the corpus is source code, covered by content_test), so it aborts with the reason.
struct Compiled {
  std::vector<tmpl::Template> subjects, greetings, bodies, replies, sign_offs;
};

std::vector<tmpl::Template> CompileAll(std::span<const std::string_view> sources,
                                       const char* table) {
  std::vector<tmpl::Template> out;
  out.reserve(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    auto parsed = tmpl::Template::Parse(sources[i]);
    if (!parsed.ok()) {
      std::fprintf(stderr, "kiln: warm-up corpus %s[%zu] does not parse: %s\n", table, i,
                   parsed.status().ToString().c_str());
      std::abort();
    }
    out.push_back(std::move(parsed).value());
  }
  return out;
}

const Compiled& Corpus() {
  static const Compiled compiled = [] {
    Compiled c;
    c.subjects = CompileAll(corpus::kSubjects, "kSubjects");
    c.greetings = CompileAll(corpus::kGreetings, "kGreetings");
    c.bodies = CompileAll(corpus::kBodies, "kBodies");
    c.replies = CompileAll(corpus::kReplies, "kReplies");
    c.sign_offs = CompileAll(corpus::kSignOffs, "kSignOffs");
    return c;
  }();
  return compiled;
}

template <typename T>
const T& Pick(domain::Rng& rng, const std::vector<T>& items) {
  return items[rng.Uniform(items.size())];
}
std::string_view Pick(domain::Rng& rng, std::span<const std::string_view> items) {
  return items[rng.Uniform(items.size())];
}

// Rendering cannot fail for corpus templates (no strict mode, outputs far below the bound); a
// failure is a broken invariant.
std::string Render(const tmpl::Template& t, const tmpl::Variables& vars, uint64_t spin_seed,
                   bool single_line) {
  tmpl::RenderOptions options;
  options.spin_seed = spin_seed;
  options.single_line = single_line;
  auto rendered = t.Render(vars, options);
  if (!rendered.ok()) {
    std::fprintf(stderr, "kiln: warm-up corpus template failed to render: %s\n",
                 rendered.status().ToString().c_str());
    std::abort();
  }
  return std::move(rendered).value().text;
}

// "Ann Lee" -> "Ann"; an address or an empty name gives "" (the templates have defaults).
std::string FirstName(std::string_view display_name) {
  std::string_view word = tmpl::FirstWord(display_name);
  if (word.find('@') != std::string_view::npos || word.find('<') != std::string_view::npos) {
    return "";
  }
  while (!word.empty() && (word.back() == ',' || word.back() == '.')) word.remove_suffix(1);
  return std::string(word);
}

struct Draft {
  tmpl::RenderContext vars;
  std::string from_first;
};

void FillVariables(domain::Rng& rng, const ContentPeople& people, Draft* draft) {
  draft->from_first = FirstName(people.from_name);
  draft->vars.Set("to_first", FirstName(people.to_name))
      .Set("from_first", draft->from_first)
      .Set("topic", std::string(Pick(rng, corpus::kTopics)))
      .Set("weekday", std::string(Pick(rng, corpus::kWeekdays)))
      .Set("place", std::string(Pick(rng, corpus::kPlaces)))
      .Set("thing", std::string(Pick(rng, corpus::kThings)));
}

// The closing: sign-off line, the writer's first name, then the reference line with the tag.
std::string Closing(domain::Rng& rng, const Draft& draft, std::string_view token,
                    uint64_t spin_seed, std::string* ref_line) {
  std::string closing = Render(Pick(rng, Corpus().sign_offs), draft.vars, spin_seed, true);
  closing += ',';
  if (!draft.from_first.empty()) closing += "\n" + draft.from_first;
  *ref_line = std::string(Pick(rng, corpus::kRefLabels)) + " kw-" + std::string(token);
  return closing;
}

void AppendHtmlParagraphs(std::string_view text, std::string* html) {
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find("\n\n", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view para = text.substr(pos, end - pos);
    if (!para.empty()) {
      *html += "<p>";
      size_t line_start = 0;
      while (true) {
        size_t nl = para.find('\n', line_start);
        tmpl::AppendHtmlEscaped(
            para.substr(line_start,
                        nl == std::string_view::npos ? std::string_view::npos : nl - line_start),
            html);
        if (nl == std::string_view::npos) break;
        *html += "<br>\n";
        line_start = nl + 1;
      }
      *html += "</p>\n";
    }
    pos = end + 2;
  }
}

constexpr std::string_view kHtmlHead =
    "<!DOCTYPE html>\n<html><body "
    "style=\"font-family:Arial,Helvetica,sans-serif;font-size:14px\">\n";
constexpr std::string_view kHtmlTail = "</body></html>\n";

std::string HtmlRefLine(std::string_view ref_line) {
  std::string html = "<p style=\"color:#999999;font-size:11px\">";
  tmpl::AppendHtmlEscaped(ref_line, &html);
  html += "</p>\n";
  return html;
}

// "Mon, 23 Nov 2026 at 10:04" in UTC, the form mail clients put in their attribution lines.
std::string AttributionDate(TimePoint date) {
  using namespace std::chrono;
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto day = floor<days>(date);
  const year_month_day ymd{day};
  const weekday wd{day};
  const hh_mm_ss hms{floor<minutes>(date - day)};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %u %s %d at %02d:%02d", kDays[wd.c_encoding()],
                static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()));
  return buf;
}

// Drops any number of leading reply prefixes ("Re:", "RE :", "re:") and surrounding spaces.
std::string_view StripReplyPrefixes(std::string_view subject) {
  while (true) {
    subject = tmpl::Strip(subject);
    if (subject.size() < 3 || (subject[0] != 'R' && subject[0] != 'r') ||
        (subject[1] != 'E' && subject[1] != 'e')) {
      return subject;
    }
    size_t i = 2;
    while (i < subject.size() && subject[i] == ' ') ++i;
    if (i >= subject.size() || subject[i] != ':') return subject;
    subject.remove_prefix(i + 1);
  }
}

}  // namespace

std::string NewWarmupToken(domain::Rng& rng, int64_t now_ms) {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
  std::string token = SortableMillis(now_ms);
  token.resize(20);
  for (size_t i = kSortableMillisChars; i < token.size(); ++i) {
    token[i] = kAlphabet[rng.Uniform(kAlphabet.size())];
  }
  return token;
}

int ThreadTargetExchanges(std::string_view token) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, then mixed: fixed across platforms
  for (char c : token) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return 2 + static_cast<int>(domain::Mix64(h) % 3);
}

WarmupContent NewThreadContent(uint64_t seed, const ContentPeople& people, std::string_view token) {
  domain::Rng rng(seed);
  Draft draft;
  FillVariables(rng, people, &draft);
  const Compiled& c = Corpus();
  WarmupContent content;
  content.subject = Render(Pick(rng, c.subjects), draft.vars, domain::SeedOf(seed, 1), true);
  std::string main = Render(Pick(rng, c.greetings), draft.vars, domain::SeedOf(seed, 2), true);
  main += "\n\n";
  main += Render(Pick(rng, c.bodies), draft.vars, domain::SeedOf(seed, 3), false);
  main += "\n\n";
  std::string ref_line;
  main += Closing(rng, draft, token, domain::SeedOf(seed, 4), &ref_line);

  content.text_body = main + "\n\n" + ref_line + "\n";
  content.html_body = std::string(kHtmlHead);
  AppendHtmlParagraphs(main, &content.html_body);
  content.html_body += HtmlRefLine(ref_line);
  content.html_body += kHtmlTail;
  return content;
}

WarmupContent ReplyContent(uint64_t seed, const ContentPeople& people, std::string_view token,
                           const Original& original) {
  domain::Rng rng(seed);
  Draft draft;
  FillVariables(rng, people, &draft);
  const Compiled& c = Corpus();
  WarmupContent content;
  content.subject = "Re: " + std::string(StripReplyPrefixes(original.subject));

  // Short answers often skip the greeting, as people do.
  std::string main;
  if (rng.Uniform(2) == 0) {
    main += Render(Pick(rng, c.greetings), draft.vars, domain::SeedOf(seed, 2), true);
    main += "\n\n";
  }
  main += Render(Pick(rng, c.replies), draft.vars, domain::SeedOf(seed, 3), false);
  main += "\n\n";
  std::string ref_line;
  main += Closing(rng, draft, token, domain::SeedOf(seed, 4), &ref_line);

  const std::string attribution =
      "On " + AttributionDate(original.date) + ", " + original.from + " wrote:";
  std::string quoted;
  std::string_view rest = original.text_body;
  while (!rest.empty() && rest.back() == '\n') rest.remove_suffix(1);
  while (true) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    quoted += line.empty() || line.front() == '>' ? ">" : "> ";
    quoted += line;
    quoted += '\n';
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }

  content.text_body = main + "\n\n" + ref_line + "\n\n" + attribution + "\n" + quoted;
  content.html_body = std::string(kHtmlHead);
  AppendHtmlParagraphs(main, &content.html_body);
  content.html_body += HtmlRefLine(ref_line);
  content.html_body += "<div>";
  tmpl::AppendHtmlEscaped(attribution, &content.html_body);
  content.html_body +=
      "</div>\n<blockquote style=\"margin:0 0 0 .8ex;border-left:1px solid #cccccc;"
      "padding-left:1ex\">\n";
  std::string_view body = original.text_body;
  while (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  AppendHtmlParagraphs(body, &content.html_body);
  content.html_body += "</blockquote>\n";
  content.html_body += kHtmlTail;
  return content;
}

}  // namespace kiln::warmup
