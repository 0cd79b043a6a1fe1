// Template: Kiln's Liquid-style personalisation language with spintax, compiled once and
// rendered for every lead (subjects and bodies of cold email).
//
// Thread-safety: a Template is immutable after Parse; Render is const and may run on many
// threads at once. Copies are cheap (the compiled form is shared).
//
// Language (a Liquid subset, with Liquid's semantics unless noted):
//   {{ expr | filter | filter: arg, arg }}   output; expr is a variable path or a literal.
//       Paths: first_name, sender.first_name, custom["Industry Name"] (looked up as the dotted
//       path "custom.Industry Name"). Literals: "str", 'str', 42, -1.5, true, false, nil.
//       An absent variable renders as "" and is reported in RenderResult::missing (see there).
//   Filters: default: x (when the value is nil, false or "" — not whitespace; chain `strip`
//       first for that), capitalize (first character up, the rest down, as Ruby), upcase,
//       downcase, truncate: n[, "ellipsis"] (n characters including the ellipsis, default
//       "..."; counts code points, never cuts a UTF-8 sequence; n must be a number literal),
//       strip, lstrip, rstrip, escape, url_encode, first_word, last_word.
//   {% if c %} … {% elsif c %} … {% else %} … {% endif %}, and {% unless c %} … {% endunless %}.
//       c is `a`, `a op b` with op in == != <> < > <= >= contains, joined by `and` / `or`
//       evaluated right to left as Liquid does (`a or b and c` is `a or (b and c)`), no
//       parentheses. Truthiness: only nil (absent) and false are falsy — an EMPTY STRING IS
//       TRUTHY, as in Liquid; test for content with `{% if company != blank %}`. `blank` matches
//       nil, false and whitespace-only strings; `empty` matches "". Comparisons between a number
//       and a numeric string compare as numbers (lead fields are text; Liquid would say false).
//   {% comment %} … {% endcomment %}, {% # note %}, {% raw %} … {% endraw %} (verbatim text);
//       comment and raw bodies are not parsed and end at the first matching end tag.
//   Whitespace control: {{- -}} {%- -%} strip all whitespace on that side, as in Liquid.
//   There are no loops, assignments or includes: rendering time is linear in the template.
//
// Spintax: {Hi|Hello|Hey} renders one alternative, chosen by RenderOptions::spin_seed and the
// group's position in the template, uniformly and deterministically: the same seed always
// gives the same text. Groups nest ({a|{b|c}}) and alternatives may hold Liquid (outputs, and
// if-blocks that open and close inside the alternative). The grammar, precisely:
//   - `{%` opens a tag and `{{` an output, except that a `{` followed by `{{` or `{%` is a
//     single brace: `{{{first_name}}|there}` is a group whose first alternative is an output,
//     and `{{% if x %}a{% endif %}|b}` one whose first alternative is a block. A group cannot
//     start with a nested group (`{{a|b}|c}` opens an output); write `{c|{a|b}}` or put a
//     space first: `{ {a|b}|c}`.
//   - A single `{` opens a spintax group only when it has a matching `}` (braces nest) and at
//     least one `|` at its own level between them. Any other `{`, `}` and `|` is literal text:
//     CSS such as `p { margin: 0 }` and text such as `A | B` pass through untouched.
//   - `\{`, `\}` and `\|` in template text are a literal `{`, `}`, `|` (the backslash is
//     dropped); elsewhere a backslash is literal. {{ '{' }} works too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"
#include "kiln/template/value.h"

namespace kiln::tmpl {

// Limits against hostile or runaway templates; a template over any of them does not parse.
struct TemplateOptions {
  size_t max_source_bytes = 256 * 1024;
  int max_depth = 32;         // nesting of if/unless blocks and spintax groups
  size_t max_nodes = 50'000;  // text runs, outputs, filters, tags and alternatives
};

struct RenderOptions {
  // HTML bodies: untrusted values (see Value) are HTML-escaped; template text and safe values
  // are not.
  bool html_escape_values = false;
  // Selects spintax alternatives; pass e.g. SpinSeed({lead_id, step_id, variant_id}).
  uint64_t spin_seed = 0;
  // Subjects and other header values: every CR, LF, CRLF and other C0 control character except
  // TAB in the output becomes one space, so no value can break out of the header line.
  bool single_line = false;
  // Fail (InvalidArgument) on the first missing variable instead of reporting it.
  bool strict = false;
  // Output bound; a render that would exceed it fails with TooLarge.
  size_t max_output_bytes = 1024 * 1024;
};

// An output whose variable was absent or empty, that rendered as empty and has no `default`
// filter. Outputs with a `default` (even `default: ""`) and variables only read by if/unless
// conditions are never reported: they are how a template handles a missing value.
struct MissingVar {
  std::string name;                // the dotted path, e.g. "company" or "custom.Industry Name"
  int line = 0;                    // 1-based position of the `{{` in the template source
  int column = 0;                  // 1-based, in characters
  bool present_but_empty = false;  // true: the value exists but is ""; false: no such variable
};

struct RenderResult {
  std::string text;
  std::vector<MissingVar> missing;  // in template order; one entry per output
};

class Template {
 public:
  // Compiles `source`. Success: a template ready to render. Failure: InvalidArgument whose
  // message starts with "line L, column C: " and names the problem ("unknown filter 'upcse' —
  // did you mean 'upcase'?", "unclosed {% if %} opened at line 1, column 1", …); TooLarge for a
  // source, nesting or node count over `options`' limits.
  static Result<Template> Parse(std::string_view source, const TemplateOptions& options = {});

  // Renders with `vars`. Success: the text and the missing-variable report. Failure: TooLarge
  // when the output would exceed options.max_output_bytes; InvalidArgument naming the variable
  // and its position when options.strict and a variable is missing or empty without default.
  Result<RenderResult> Render(const Variables& vars, const RenderOptions& options = {}) const;

  // Every distinct variable path the template reads (outputs, filter arguments, conditions),
  // in order of first appearance.
  const std::vector<std::string>& variables() const;
  // Number of spintax groups (each renders one of its alternatives).
  size_t spin_group_count() const;

  struct Impl;  // the compiled form (template_impl.h)

 private:
  explicit Template(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// A well-mixed spintax seed from identifying numbers, e.g. SpinSeed({lead_id, step_id,
// variant_id}): each part goes through splitmix64, so nearby ids give unrelated seeds.
uint64_t SpinSeed(std::initializer_list<uint64_t> parts);

// The alternative (0 <= result < alternatives) spintax group `group` picks under `seed`:
// splitmix64 of (seed, group) mapped to the range by multiply-shift (bias below 2^-58).
// alternatives must be at least 1.
size_t SpinChoice(uint64_t seed, uint32_t group, size_t alternatives);

}  // namespace kiln::tmpl
