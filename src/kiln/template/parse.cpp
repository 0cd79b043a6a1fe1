// Template::Parse: a tokenizer (text, {{ }}, {% %}, braces), a bracket-matching pass that decides
// which braces are spintax, and a recursive-descent parser building the AST of template_impl.h.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "kiln/template/template.h"
#include "kiln/template/template_impl.h"
#include "kiln/template/text.h"

namespace kiln::tmpl {
namespace {

// ---------------------------------------------------------------------------------------------
// Positions

// Maps byte offsets to 1-based line and column (columns count characters, not bytes).
class SourceMap {
 public:
  explicit SourceMap(std::string_view src) : src_(src) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src.size(); ++i) {
      if (src[i] == '\n') line_starts_.push_back(i + 1);
    }
  }
  // Positions are asked for in source order while parsing, so the column count resumes from the
  // previous answer on the same line: a long single-line template stays linear, not quadratic.
  Pos At(size_t offset) const {
    offset = std::min(offset, src_.size());
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const size_t line = static_cast<size_t>(it - line_starts_.begin());  // 1-based
    const size_t start = line_starts_[line - 1];
    size_t from = start, column = 1;
    if (line == last_line_ && offset >= last_offset_) from = last_offset_, column = last_column_;
    column += CodePointCount(src_.substr(from, offset - from));
    last_line_ = line, last_offset_ = offset, last_column_ = column;
    return Pos{static_cast<int>(line), static_cast<int>(column)};
  }
  std::string Where(size_t offset) const {
    const Pos p = At(offset);
    return "line " + std::to_string(p.line) + ", column " + std::to_string(p.column);
  }

 private:
  std::string_view src_;
  std::vector<size_t> line_starts_;
  mutable size_t last_line_ = 0;  // the previous answer (0: none)
  mutable size_t last_offset_ = 0;
  mutable size_t last_column_ = 1;
};

// Levenshtein distance, for "did you mean" suggestions (inputs are short names).
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

template <typename Names>
std::string Suggest(std::string_view name, const Names& names) {
  if (name.size() > 32) return "";
  std::string_view best;
  size_t best_distance = 3;  // suggest only close matches
  for (std::string_view candidate : names) {
    const size_t d = EditDistance(name, candidate);
    if (d < best_distance) best = candidate, best_distance = d;
  }
  return best.empty() ? "" : " — did you mean '" + std::string(best) + "'?";
}

// Quotes a piece of source for a message, shortened and without control characters.
std::string Quote(std::string_view s) {
  std::string out = "'";
  std::string_view cut = CodePointPrefix(s, 24);
  for (char c : cut) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  if (cut.size() < s.size()) out += "…";
  return out + "'";
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9') || c == '-'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// ---------------------------------------------------------------------------------------------
// Tokens of the template text

struct Token {
  enum class Kind : uint8_t {
    kText,
    kOutput,
    kTag,
    kOpen,
    kBar,
    kClose,
    kSpinOpen,
    kSpinBar,
    kSpinClose
  };
  Kind kind;
  uint32_t begin;  // kText: the text's bytes; kOutput/kTag: the inner content (delimiters and
  uint32_t end;    // whitespace-control dashes removed); braces: the brace itself
  uint32_t start;  // offset of the token's first character ({{, {%, or the brace)
};

class Tokenizer {
 public:
  Tokenizer(std::string_view src, const SourceMap& map) : src_(src), map_(map) {}

  Status Run(std::vector<Token>* out) {
    out_ = out;
    size_t i = 0;
    text_start_ = 0;
    const size_t n = src_.size();
    while (i < n) {
      const char c = src_[i];
      if (c == '\\' && i + 1 < n &&
          (src_[i + 1] == '{' || src_[i + 1] == '}' || src_[i + 1] == '|')) {
        FlushText(i);
        text_start_ = i + 1;  // the escaped character starts the next text run
        i += 2;
        continue;
      }
      if (c == '{' && i + 1 < n && src_[i + 1] == '%') {
        KILN_RETURN_IF_ERROR(Delimited(i, '%', &i));
        continue;
      }
      if (c == '{' && i + 1 < n && src_[i + 1] == '{' &&
          !(i + 2 < n && (src_[i + 2] == '{' || src_[i + 2] == '%'))) {
        KILN_RETURN_IF_ERROR(Delimited(i, '}', &i));
        continue;
      }
      if (c == '{' || c == '|' || c == '}') {
        FlushText(i);
        Emit(c == '{'   ? Token::Kind::kOpen
             : c == '|' ? Token::Kind::kBar
                        : Token::Kind::kClose,
             i, i + 1, i);
        ++i;
        text_start_ = i;
        continue;
      }
      ++i;
    }
    FlushText(n);
    return Status::Ok();
  }

 private:
  Status Error(size_t offset, const std::string& msg) const {
    return Status::InvalidArgument(map_.Where(offset) + ": " + msg);
  }

  void Emit(Token::Kind kind, size_t begin, size_t end, size_t start) {
    out_->push_back(Token{kind, static_cast<uint32_t>(begin), static_cast<uint32_t>(end),
                          static_cast<uint32_t>(start)});
  }

  // Emits src_[text_start_, end) as text, honouring a pending `-}}` / `-%}` strip.
  void FlushText(size_t end) {
    size_t begin = text_start_;
    if (strip_next_) {
      while (begin < end && IsSpace(src_[begin])) ++begin;
      strip_next_ = false;
    }
    if (begin < end) Emit(Token::Kind::kText, begin, end, begin);
    text_start_ = end;
  }

  // `{{-` / `{%-`: trims trailing whitespace from the text token just before.
  void StripPrevious() {
    if (out_->empty() || out_->back().kind != Token::Kind::kText) return;
    Token& t = out_->back();
    while (t.end > t.begin && IsSpace(src_[t.end - 1])) --t.end;
    if (t.end == t.begin) out_->pop_back();
  }

  // Finds the `close``}` that ends the construct whose content starts at `from`, skipping quoted
  // strings when `quote_aware`. Returns npos (and the offset of an unterminated quote in
  // *bad_quote) when absent.
  size_t FindClose(size_t from, char close, bool quote_aware, size_t* bad_quote) const {
    *bad_quote = std::string_view::npos;
    for (size_t j = from; j < src_.size(); ++j) {
      const char c = src_[j];
      if (quote_aware && (c == '"' || c == '\'')) {
        const size_t q = src_.find(c, j + 1);
        if (q == std::string_view::npos) {
          *bad_quote = j;
          return std::string_view::npos;
        }
        j = q;
        continue;
      }
      if (c == close && j + 1 < src_.size() && src_[j + 1] == '}') return j;
    }
    return std::string_view::npos;
  }

  // A `{{ … }}` (close == '}') or `{% … %}` (close == '%') at `open`; sets *next past it.
  Status Delimited(size_t open, char close, size_t* next) {
    const bool is_tag = close == '%';
    const char* what = is_tag ? "{%" : "{{";
    FlushText(open);
    size_t begin = open + 2;
    if (begin < src_.size() && src_[begin] == '-') {
      StripPrevious();
      ++begin;
    }
    // An inline comment is prose: its apostrophes are not string quotes.
    size_t first = begin;
    while (first < src_.size() && IsSpace(src_[first])) ++first;
    const bool inline_comment = is_tag && first < src_.size() && src_[first] == '#';
    size_t bad_quote;
    const size_t close_at = FindClose(begin, close, !inline_comment, &bad_quote);
    if (close_at == std::string_view::npos) {
      if (bad_quote != std::string_view::npos) {
        return Error(bad_quote, std::string("unterminated string in ") + what + " opened at " +
                                    map_.Where(open) + " (no closing " + src_[bad_quote] + ")");
      }
      return Error(open,
                   std::string("unterminated ") + what + ": no matching " + (is_tag ? "%}" : "}}"));
    }
    size_t end = close_at;
    bool strip_after = false;
    if (end > begin && src_[end - 1] == '-') {
      strip_after = true;
      --end;
    }
    *next = close_at + 2;
    if (!is_tag) {
      Emit(Token::Kind::kOutput, begin, end, open);
      text_start_ = *next;
      strip_next_ = strip_after;
      return Status::Ok();
    }
    // Tags: raw and comment swallow their bodies here; {% # … %} is dropped.
    std::string_view content = src_.substr(begin, end - begin);
    size_t name_begin = 0;
    while (name_begin < content.size() && IsSpace(content[name_begin])) ++name_begin;
    size_t name_end = name_begin;
    while (name_end < content.size() && IsIdentChar(content[name_end])) ++name_end;
    std::string_view name = content.substr(name_begin, name_end - name_begin);
    if (name_begin < content.size() && content[name_begin] == '#') {
      text_start_ = *next;
      strip_next_ = strip_after;
      return Status::Ok();
    }
    if (name == "raw" || name == "comment") {
      if (!Strip(content.substr(name_end)).empty()) {
        return Error(open, "{% " + std::string(name) + " %} takes no arguments");
      }
      const std::string end_name = "end" + std::string(name);
      size_t body_end, after;
      if (!FindEndTag(*next, end_name, &body_end, &after)) {
        return Error(src_.size(), "unclosed {% " + std::string(name) + " %} opened at " +
                                      map_.Where(open) + " (no {% " + end_name + " %})");
      }
      text_start_ = *next;
      strip_next_ = strip_after;
      if (name == "raw") {
        size_t body_begin = *next;
        if (strip_next_) {
          while (body_begin < body_end && IsSpace(src_[body_begin])) ++body_begin;
          strip_next_ = false;
        }
        size_t trimmed_end = body_end;
        if (end_strip_before_) {
          while (trimmed_end > body_begin && IsSpace(src_[trimmed_end - 1])) --trimmed_end;
        }
        if (trimmed_end > body_begin) Emit(Token::Kind::kText, body_begin, trimmed_end, body_begin);
      } else {
        strip_next_ = false;  // dashes inside a comment only trim what it drops anyway
      }
      *next = after;
      text_start_ = after;
      strip_next_ = end_strip_after_;
      return Status::Ok();
    }
    Emit(Token::Kind::kTag, begin, end, open);
    text_start_ = *next;
    strip_next_ = strip_after;
    return Status::Ok();
  }

  // Finds `{% end_name %}` (dashes and spaces allowed) from `from`. On success sets *body_end to
  // its `{%`, *after past its `%}` and the strip flags of its dashes.
  bool FindEndTag(size_t from, std::string_view end_name, size_t* body_end, size_t* after) {
    for (size_t j = src_.find("{%", from); j != std::string_view::npos;
         j = src_.find("{%", j + 2)) {
      size_t k = j + 2;
      const bool dash_before = k < src_.size() && src_[k] == '-';
      if (dash_before) ++k;
      while (k < src_.size() && IsSpace(src_[k])) ++k;
      if (src_.substr(k, end_name.size()) != end_name) continue;
      k += end_name.size();
      if (k < src_.size() && IsIdentChar(src_[k])) continue;
      while (k < src_.size() && IsSpace(src_[k])) ++k;
      const bool dash_after = k < src_.size() && src_[k] == '-';
      if (dash_after) ++k;
      if (src_.substr(k, 2) != "%}") continue;
      *body_end = j;
      *after = k + 2;
      end_strip_before_ = dash_before;
      end_strip_after_ = dash_after;
      return true;
    }
    return false;
  }

  std::string_view src_;
  const SourceMap& map_;
  std::vector<Token>* out_ = nullptr;
  size_t text_start_ = 0;
  bool strip_next_ = false;
  bool end_strip_before_ = false;
  bool end_strip_after_ = false;
};

// Decides which braces are spintax: a `{` with a matching `}` and at least one `|` at its own
// level. Everything else stays literal (kOpen/kBar/kClose are rendered as text).
void MarkSpintax(std::vector<Token>* tokens) {
  struct Frame {
    size_t open;
    std::vector<size_t> bars;
  };
  std::vector<Frame> stack;
  for (size_t i = 0; i < tokens->size(); ++i) {
    Token& t = (*tokens)[i];
    if (t.kind == Token::Kind::kOpen) {
      stack.push_back(Frame{i, {}});
    } else if (t.kind == Token::Kind::kBar && !stack.empty()) {
      stack.back().bars.push_back(i);
    } else if (t.kind == Token::Kind::kClose && !stack.empty()) {
      Frame f = std::move(stack.back());
      stack.pop_back();
      if (f.bars.empty()) continue;
      (*tokens)[f.open].kind = Token::Kind::kSpinOpen;
      for (size_t b : f.bars) (*tokens)[b].kind = Token::Kind::kSpinBar;
      t.kind = Token::Kind::kSpinClose;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Expressions inside {{ }} and {% %}

struct Lexeme {
  enum class Kind : uint8_t {
    kEnd,
    kIdent,
    kString,
    kNumber,
    kOp,
    kPipe,
    kColon,
    kComma,
    kDot,
    kLBracket,
    kRBracket
  };
  Kind kind;
  size_t begin;  // absolute source offsets
  size_t end;
  std::string_view text;  // kIdent/kOp: the lexeme; kString: the content between the quotes
  double number = 0;
};

struct FilterSpec {
  std::string_view name;
  FilterId id;
  size_t min_args;
  size_t max_args;
};

constexpr FilterSpec kFilters[] = {
    {"default", FilterId::kDefault, 1, 1},      {"capitalize", FilterId::kCapitalize, 0, 0},
    {"upcase", FilterId::kUpcase, 0, 0},        {"downcase", FilterId::kDowncase, 0, 0},
    {"truncate", FilterId::kTruncate, 0, 2},    {"strip", FilterId::kStrip, 0, 0},
    {"lstrip", FilterId::kLstrip, 0, 0},        {"rstrip", FilterId::kRstrip, 0, 0},
    {"escape", FilterId::kEscape, 0, 0},        {"url_encode", FilterId::kUrlEncode, 0, 0},
    {"first_word", FilterId::kFirstWord, 0, 0}, {"last_word", FilterId::kLastWord, 0, 0},
};

constexpr std::string_view kTags[] = {"if",        "elsif",   "else",       "endif", "unless",
                                      "endunless", "comment", "endcomment", "raw",   "endraw"};
constexpr std::string_view kUnsupportedTags[] = {
    "assign", "capture", "endcapture", "case",      "when",      "endcase",
    "cycle",  "include", "render",     "increment", "decrement", "echo",
    "liquid", "layout",  "section",    "break",     "continue"};

class Parser {
 public:
  Parser(Template::Impl* impl, const std::vector<Token>& tokens, const SourceMap& map,
         const TemplateOptions& options)
      : impl_(impl), src_(impl->source), tokens_(tokens), map_(map), options_(options) {}

  Status Run() {
    Stop stop;
    KILN_RETURN_IF_ERROR(ParseBlock(&impl_->root, 0, &stop));
    if (stop.kind == StopKind::kEof) return Status::Ok();
    const Token& t = tokens_[stop.token];
    switch (stop.kind) {
      case StopKind::kElsif:
      case StopKind::kElse:
        return Error(t.start, "{% " + std::string(TagName(t)) +
                                  " %} outside an {% if %} or {% unless %} block");
      case StopKind::kEndIf:
        return Error(t.start, "stray {% endif %}: no {% if %} is open");
      case StopKind::kEndUnless:
        return Error(t.start, "stray {% endunless %}: no {% unless %} is open");
      default:  // spintax bars and closes are always consumed by their group
        return Status::Internal("template parser: unexpected stop at top level");
    }
  }

 private:
  enum class StopKind { kEof, kElsif, kElse, kEndIf, kEndUnless, kBar, kClose };
  struct Stop {
    StopKind kind = StopKind::kEof;
    size_t token = 0;
  };

  Status Error(size_t offset, const std::string& msg) const {
    return Status::InvalidArgument(map_.Where(offset) + ": " + msg);
  }

  Status CountNode(size_t offset) {
    if (++nodes_ > options_.max_nodes) {
      return Status::TooLarge(map_.Where(offset) + ": template has more than " +
                              std::to_string(options_.max_nodes) + " elements");
    }
    return Status::Ok();
  }

  std::string_view Content(const Token& t) const { return src_.substr(t.begin, t.end - t.begin); }

  // The tag's name: leading identifier of its content.
  std::string_view TagName(const Token& t) const {
    std::string_view c = LeftStrip(Content(t));
    size_t n = 0;
    while (n < c.size() && IsIdentChar(c[n])) ++n;
    return c.substr(0, n);
  }

  void AddText(Block* block, uint32_t offset, uint32_t length) {
    if (!block->empty() && block->back().kind == Node::Kind::kText &&
        block->back().a + block->back().b == offset) {
      block->back().b += length;
    } else {
      block->push_back(Node{Node::Kind::kText, offset, length});
    }
    impl_->text_bytes += length;
  }

  // Parses nodes into `block` until a token it cannot own: end of input, an if-family tag or a
  // spintax bar/close, reported in *stop (that token is consumed).
  Status ParseBlock(Block* block, int depth, Stop* stop) {
    while (pos_ < tokens_.size()) {
      const size_t index = pos_++;
      const Token& t = tokens_[index];
      switch (t.kind) {
        case Token::Kind::kText:
        case Token::Kind::kOpen:
        case Token::Kind::kBar:
        case Token::Kind::kClose:
          if (block->empty() || block->back().kind != Node::Kind::kText) {
            KILN_RETURN_IF_ERROR(CountNode(t.start));
          }
          AddText(block, t.begin, t.end - t.begin);
          break;
        case Token::Kind::kOutput: {
          KILN_RETURN_IF_ERROR(CountNode(t.start));
          Output out;
          KILN_RETURN_IF_ERROR(ParseOutput(t, &out));
          block->push_back(
              Node{Node::Kind::kOutput, static_cast<uint32_t>(impl_->outputs.size()), 0});
          impl_->outputs.push_back(std::move(out));
          break;
        }
        case Token::Kind::kSpinOpen:
          KILN_RETURN_IF_ERROR(ParseSpin(block, index, depth + 1));
          break;
        case Token::Kind::kSpinBar:
          *stop = Stop{StopKind::kBar, index};
          return Status::Ok();
        case Token::Kind::kSpinClose:
          *stop = Stop{StopKind::kClose, index};
          return Status::Ok();
        case Token::Kind::kTag: {
          const std::string_view name = TagName(t);
          if (name == "if" || name == "unless") {
            KILN_RETURN_IF_ERROR(ParseIf(block, index, name == "unless", depth + 1));
          } else if (name == "elsif") {
            *stop = Stop{StopKind::kElsif, index};
            return Status::Ok();
          } else if (name == "else") {
            *stop = Stop{StopKind::kElse, index};
            return Status::Ok();
          } else if (name == "endif") {
            *stop = Stop{StopKind::kEndIf, index};
            return Status::Ok();
          } else if (name == "endunless") {
            *stop = Stop{StopKind::kEndUnless, index};
            return Status::Ok();
          } else {
            return UnknownTag(t, name);
          }
          break;
        }
      }
    }
    *stop = Stop{StopKind::kEof, tokens_.size()};
    return Status::Ok();
  }

  Status UnknownTag(const Token& t, std::string_view name) const {
    if (name.empty()) {
      return Error(t.start,
                   "expected a tag name after {% (found " + Quote(LeftStrip(Content(t))) + ")");
    }
    if (name == "endraw" || name == "endcomment") {
      return Error(t.start, "stray {% " + std::string(name) + " %}: no {% " +
                                std::string(name.substr(3)) + " %} is open");
    }
    if (name == "for" || name == "endfor" || name == "tablerow" || name == "endtablerow") {
      return Error(t.start,
                   "{% " + std::string(name) + " %} is not supported: templates have no loops");
    }
    for (std::string_view u : kUnsupportedTags) {
      if (name == u) {
        return Error(t.start, "{% " + std::string(name) +
                                  " %} is not supported (tags: if, elsif, else, endif, unless, "
                                  "endunless, comment, raw)");
      }
    }
    return Error(t.start, "unknown tag '" + std::string(name) + "'" + Suggest(name, kTags));
  }

  // Rest of a tag's content after its name.
  std::pair<size_t, size_t> TagArgs(const Token& t) const {
    std::string_view c = Content(t);
    size_t i = 0;
    while (i < c.size() && IsSpace(c[i])) ++i;
    while (i < c.size() && IsIdentChar(c[i])) ++i;
    return {t.begin + i, t.end};
  }

  Status ExpectNoArgs(const Token& t) const {
    auto [b, e] = TagArgs(t);
    if (Strip(src_.substr(b, e - b)).empty()) return Status::Ok();
    while (IsSpace(src_[b])) ++b;
    const std::string_view name = TagName(t);
    if (name == "else") {
      return Error(b, "{% else %} takes no condition (did you mean {% elsif … %}?)");
    }
    return Error(b, "{% " + std::string(name) + " %} takes no arguments");
  }

  Status ParseIf(Block* block, size_t open_index, bool is_unless, int depth) {
    const Token& open = tokens_[open_index];
    const std::string kind = is_unless ? "unless" : "if";
    if (depth > options_.max_depth) {
      return Status::TooLarge(map_.Where(open.start) +
                              ": blocks and spintax groups nest deeper than " +
                              std::to_string(options_.max_depth) + " levels");
    }
    KILN_RETURN_IF_ERROR(CountNode(open.start));
    IfBlock node;
    Branch first;
    first.has_condition = true;
    first.negate = is_unless;
    KILN_RETURN_IF_ERROR(ParseCondition(open, kind, &first.condition));
    node.branches.push_back(std::move(first));
    bool seen_else = false;
    size_t else_start = 0;
    while (true) {
      Stop stop;
      KILN_RETURN_IF_ERROR(ParseBlock(&node.branches.back().body, depth, &stop));
      const std::string opened = "{% " + kind + " %} opened at " + map_.Where(open.start);
      if (stop.kind == StopKind::kEof) {
        return Error(src_.size(), "unclosed " + opened);
      }
      const Token& t = tokens_[stop.token];
      switch (stop.kind) {
        case StopKind::kBar:
        case StopKind::kClose:
          return Error(t.start, "unclosed " + opened + " before the " +
                                    (stop.kind == StopKind::kBar ? "'|'" : "'}'") +
                                    " of a spintax group: close it inside the alternative");
        case StopKind::kElsif: {
          if (seen_else) {
            return Error(t.start, "{% elsif %} after {% else %} (the {% else %} of the " + opened +
                                      " is at " + map_.Where(else_start) + ")");
          }
          KILN_RETURN_IF_ERROR(CountNode(t.start));
          Branch b;
          b.has_condition = true;
          KILN_RETURN_IF_ERROR(ParseCondition(t, "elsif", &b.condition));
          node.branches.push_back(std::move(b));
          break;
        }
        case StopKind::kElse:
          if (seen_else) {
            return Error(t.start, "second {% else %} in the " + opened + " (the first is at " +
                                      map_.Where(else_start) + ")");
          }
          KILN_RETURN_IF_ERROR(ExpectNoArgs(t));
          KILN_RETURN_IF_ERROR(CountNode(t.start));
          seen_else = true;
          else_start = t.start;
          node.branches.push_back(Branch{});
          break;
        case StopKind::kEndIf:
        case StopKind::kEndUnless: {
          const bool closes_unless = stop.kind == StopKind::kEndUnless;
          if (closes_unless != is_unless) {
            return Error(t.start, std::string("{% ") + (closes_unless ? "endunless" : "endif") +
                                      " %} cannot close the " + opened + ": use {% end" + kind +
                                      " %}");
          }
          KILN_RETURN_IF_ERROR(ExpectNoArgs(t));
          block->push_back(Node{Node::Kind::kIf, static_cast<uint32_t>(impl_->ifs.size()), 0});
          impl_->ifs.push_back(std::move(node));
          return Status::Ok();
        }
        case StopKind::kEof:
          break;
      }
    }
  }

  Status ParseSpin(Block* block, size_t open_index, int depth) {
    const Token& open = tokens_[open_index];
    if (depth > options_.max_depth) {
      return Status::TooLarge(map_.Where(open.start) +
                              ": blocks and spintax groups nest deeper than " +
                              std::to_string(options_.max_depth) + " levels");
    }
    KILN_RETURN_IF_ERROR(CountNode(open.start));
    SpinGroup group;
    group.id = next_spin_id_++;
    while (true) {
      KILN_RETURN_IF_ERROR(CountNode(open.start));
      group.alternatives.emplace_back();
      Stop stop;
      KILN_RETURN_IF_ERROR(ParseBlock(&group.alternatives.back(), depth, &stop));
      if (stop.kind == StopKind::kBar) continue;
      if (stop.kind == StopKind::kClose) break;
      const std::string where = "the spintax group opened at " + map_.Where(open.start);
      if (stop.kind == StopKind::kEof) return Error(src_.size(), "unclosed " + where);
      const Token& t = tokens_[stop.token];
      return Error(t.start, "{% " + std::string(TagName(t)) + " %} inside an alternative of " +
                                where + " has no {% if %} opened in that alternative");
    }
    block->push_back(Node{Node::Kind::kSpin, static_cast<uint32_t>(impl_->spins.size()), 0});
    impl_->spins.push_back(std::move(group));
    return Status::Ok();
  }

  // --- expressions ---------------------------------------------------------------------------

  Status Lex(size_t begin, size_t end, std::vector<Lexeme>* out) const {
    size_t i = begin;
    while (true) {
      while (i < end && IsSpace(src_[i])) ++i;
      if (i >= end) break;
      const char c = src_[i];
      Lexeme l{Lexeme::Kind::kEnd, i, i + 1, {}};
      if (IsIdentStart(c)) {
        size_t j = i + 1;
        while (j < end && IsIdentChar(src_[j])) ++j;
        if (j < end && src_[j] == '?') ++j;
        l.kind = Lexeme::Kind::kIdent;
        l.end = j;
      } else if (c == '"' || c == '\'') {
        const size_t q = src_.find(c, i + 1);
        if (q == std::string_view::npos || q >= end) {
          return Error(i, std::string("unterminated string (no closing ") + c + ")");
        }
        l.kind = Lexeme::Kind::kString;
        l.end = q + 1;
        l.text = src_.substr(i + 1, q - i - 1);
      } else if (IsDigit(c) || (c == '-' && i + 1 < end && IsDigit(src_[i + 1]))) {
        size_t j = i + 1;
        while (j < end && IsDigit(src_[j])) ++j;
        if (j + 1 < end && src_[j] == '.' && IsDigit(src_[j + 1])) {
          j += 2;
          while (j < end && IsDigit(src_[j])) ++j;
        }
        if (j < end && IsIdentChar(src_[j])) {
          size_t bad_end = j;
          while (bad_end < end && IsIdentChar(src_[bad_end])) ++bad_end;
          return Error(i, "malformed number " + Quote(src_.substr(i, bad_end - i)));
        }
        l.kind = Lexeme::Kind::kNumber;
        l.end = j;
        const char* first = src_.data() + i;
        auto res = std::from_chars(first, src_.data() + j, l.number);
        if (res.ec != std::errc()) return Error(i, "number out of range");
      } else if (c == '=' || c == '!' || c == '<' || c == '>') {
        size_t j = i + 1;
        if (j < end && (src_[j] == '=' || (c == '<' && src_[j] == '>'))) ++j;
        std::string_view op = src_.substr(i, j - i);
        if (op == "=") return Error(i, "'=' is not a comparison: use '=='");
        if (op == "!") return Error(i, "'!' is not an operator: use '!=' or {% unless %}");
        if (j < end && src_[j] == '=')
          return Error(i, "unknown operator " + Quote(src_.substr(i, j + 1 - i)));
        l.kind = Lexeme::Kind::kOp;
        l.end = j;
      } else if (c == '|') {
        l.kind = Lexeme::Kind::kPipe;
      } else if (c == ':') {
        l.kind = Lexeme::Kind::kColon;
      } else if (c == ',') {
        l.kind = Lexeme::Kind::kComma;
      } else if (c == '.') {
        l.kind = Lexeme::Kind::kDot;
      } else if (c == '[') {
        l.kind = Lexeme::Kind::kLBracket;
      } else if (c == ']') {
        l.kind = Lexeme::Kind::kRBracket;
      } else {
        const size_t len = std::max<size_t>(1, CodePointPrefix(src_.substr(i, end - i), 1).size());
        return Error(i, "unexpected character " + Quote(src_.substr(i, len)));
      }
      if (l.kind == Lexeme::Kind::kIdent || l.kind == Lexeme::Kind::kOp) {
        l.text = src_.substr(l.begin, l.end - l.begin);
      }
      out->push_back(l);
      i = l.end;
    }
    out->push_back(Lexeme{Lexeme::Kind::kEnd, end, end, {}});
    return Status::Ok();
  }

  static std::string Describe(const Lexeme& l, std::string_view src) {
    if (l.kind == Lexeme::Kind::kEnd) return "the end";
    return Quote(src.substr(l.begin, l.end - l.begin));
  }

  void NoteVariable(const std::string& path) {
    if (seen_variables_.insert(path).second) impl_->variables.push_back(path);
  }

  // operand: literal | keyword | path   (path: name ( '.' name | '[' "string" ']' )*)
  Status ParseOperand(const std::vector<Lexeme>& lx, size_t* k, Operand* out) {
    const Lexeme& l = lx[*k];
    if (l.kind == Lexeme::Kind::kString) {
      out->kind = Operand::Kind::kLiteral;
      out->literal = Value::Safe(std::string(l.text));
      ++*k;
      return Status::Ok();
    }
    if (l.kind == Lexeme::Kind::kNumber) {
      out->kind = Operand::Kind::kLiteral;
      out->literal = Value::Number(l.number);
      ++*k;
      return Status::Ok();
    }
    if (l.kind != Lexeme::Kind::kIdent) {
      return Error(l.begin, "expected a variable or a literal, found " + Describe(l, src_));
    }
    const bool bare =
        lx[*k + 1].kind != Lexeme::Kind::kDot && lx[*k + 1].kind != Lexeme::Kind::kLBracket;
    if (bare) {
      if (l.text == "true" || l.text == "false") {
        out->kind = Operand::Kind::kLiteral;
        out->literal = Value::Bool(l.text == "true");
        ++*k;
        return Status::Ok();
      }
      if (l.text == "nil" || l.text == "null") {
        out->kind = Operand::Kind::kLiteral;
        out->literal = Value::Nil();
        ++*k;
        return Status::Ok();
      }
      if (l.text == "blank" || l.text == "empty") {
        out->kind = l.text == "blank" ? Operand::Kind::kBlank : Operand::Kind::kEmpty;
        ++*k;
        return Status::Ok();
      }
    }
    std::string path(l.text);
    ++*k;
    while (true) {
      const Lexeme& sep = lx[*k];
      if (sep.kind == Lexeme::Kind::kDot) {
        const Lexeme& name = lx[*k + 1];
        if (name.kind != Lexeme::Kind::kIdent) {
          return Error(sep.begin, "expected a name after '.' in '" + path + ".', found " +
                                      Describe(name, src_));
        }
        path += '.';
        path += name.text;
        *k += 2;
      } else if (sep.kind == Lexeme::Kind::kLBracket) {
        const Lexeme& key = lx[*k + 1];
        if (key.kind != Lexeme::Kind::kString) {
          return Error(key.begin, "expected a quoted field name inside [ ] after '" + path +
                                      "' (as in custom[\"Industry Name\"]), found " +
                                      Describe(key, src_));
        }
        if (lx[*k + 2].kind != Lexeme::Kind::kRBracket) {
          return Error(lx[*k + 2].begin, "expected ']' after " + Describe(key, src_));
        }
        path += '.';
        path += key.text;
        *k += 3;
      } else {
        break;
      }
    }
    out->kind = Operand::Kind::kVariable;
    out->path = std::move(path);
    NoteVariable(out->path);
    return Status::Ok();
  }

  Status ParseOutput(const Token& t, Output* out) {
    out->pos = map_.At(t.start);
    std::vector<Lexeme> lx;
    KILN_RETURN_IF_ERROR(Lex(t.begin, t.end, &lx));
    if (lx[0].kind == Lexeme::Kind::kEnd) {
      return Error(t.start, "empty {{ }}: expected a variable or a literal");
    }
    size_t k = 0;
    KILN_RETURN_IF_ERROR(ParseOperand(lx, &k, &out->head));
    if (out->head.kind == Operand::Kind::kBlank || out->head.kind == Operand::Kind::kEmpty) {
      out->head.kind = Operand::Kind::kLiteral;
      out->head.literal = Value::Safe("");
    }
    while (lx[k].kind == Lexeme::Kind::kPipe) {
      const Lexeme& pipe = lx[k++];
      const Lexeme& name = lx[k];
      if (name.kind != Lexeme::Kind::kIdent) {
        return Error(pipe.begin, "expected a filter name after '|', found " + Describe(name, src_));
      }
      const FilterSpec* spec = nullptr;
      for (const FilterSpec& f : kFilters) {
        if (f.name == name.text) spec = &f;
      }
      if (spec == nullptr) {
        std::vector<std::string_view> names;
        for (const FilterSpec& f : kFilters) names.push_back(f.name);
        return Error(name.begin,
                     "unknown filter '" + std::string(name.text) + "'" + Suggest(name.text, names));
      }
      KILN_RETURN_IF_ERROR(CountNode(name.begin));
      ++k;
      Filter filter{spec->id, {}, 50};
      if (lx[k].kind == Lexeme::Kind::kColon) {
        ++k;
        while (true) {
          Operand arg;
          KILN_RETURN_IF_ERROR(ParseOperand(lx, &k, &arg));
          if (arg.kind == Operand::Kind::kBlank || arg.kind == Operand::Kind::kEmpty) {
            arg.kind = Operand::Kind::kLiteral;
            arg.literal = Value::Safe("");
          }
          filter.args.push_back(std::move(arg));
          if (lx[k].kind != Lexeme::Kind::kComma) break;
          ++k;
        }
      }
      const size_t n = filter.args.size();
      if (n < spec->min_args || n > spec->max_args) {
        std::string want =
            spec->min_args == spec->max_args
                ? std::to_string(spec->min_args)
                : std::to_string(spec->min_args) + " to " + std::to_string(spec->max_args);
        return Error(name.begin,
                     "filter '" + std::string(spec->name) + "' takes " + want +
                         (spec->max_args == 1 && spec->min_args == 1 ? " argument" : " arguments") +
                         ", got " + std::to_string(n));
      }
      if (spec->id == FilterId::kTruncate && n >= 1) {
        const Operand& len = filter.args[0];
        if (len.kind != Operand::Kind::kLiteral || len.literal.kind() != Value::Kind::kNumber ||
            len.literal.number() < 0 || len.literal.number() != std::floor(len.literal.number())) {
          return Error(
              name.begin,
              "filter 'truncate' needs a whole number of characters as its first argument");
        }
        filter.truncate_length = static_cast<size_t>(std::min(len.literal.number(), 1e9));
      }
      if (spec->id == FilterId::kDefault) out->has_default = true;
      out->filters.push_back(std::move(filter));
    }
    if (lx[k].kind != Lexeme::Kind::kEnd) {
      return Error(lx[k].begin, "unexpected " + Describe(lx[k], src_) +
                                    " in {{ }} (filters are written '| name: argument')");
    }
    return Status::Ok();
  }

  static bool ToCompareOp(const Lexeme& l, CompareOp* op) {
    if (l.kind == Lexeme::Kind::kIdent && l.text == "contains")
      return *op = CompareOp::kContains, true;
    if (l.kind != Lexeme::Kind::kOp) return false;
    if (l.text == "==")
      *op = CompareOp::kEq;
    else if (l.text == "!=" || l.text == "<>")
      *op = CompareOp::kNe;
    else if (l.text == "<")
      *op = CompareOp::kLt;
    else if (l.text == ">")
      *op = CompareOp::kGt;
    else if (l.text == "<=")
      *op = CompareOp::kLe;
    else if (l.text == ">=")
      *op = CompareOp::kGe;
    else
      return false;
    return true;
  }

  Status ParseCondition(const Token& t, const std::string& tag, Condition* out) {
    auto [begin, end] = TagArgs(t);
    std::vector<Lexeme> lx;
    KILN_RETURN_IF_ERROR(Lex(begin, end, &lx));
    if (lx[0].kind == Lexeme::Kind::kEnd) {
      return Error(t.start, "{% " + tag + " %} needs a condition");
    }
    size_t k = 0;
    while (true) {
      Comparison c;
      KILN_RETURN_IF_ERROR(ParseOperand(lx, &k, &c.left));
      if (ToCompareOp(lx[k], &c.op)) {
        const Lexeme& op = lx[k++];
        KILN_RETURN_IF_ERROR(ParseOperand(lx, &k, &c.right));
        const bool special =
            c.left.kind == Operand::Kind::kBlank || c.left.kind == Operand::Kind::kEmpty ||
            c.right.kind == Operand::Kind::kBlank || c.right.kind == Operand::Kind::kEmpty;
        if (special && c.op != CompareOp::kEq && c.op != CompareOp::kNe) {
          return Error(op.begin, "'blank' and 'empty' can only be compared with == or !=");
        }
      } else if (c.left.kind == Operand::Kind::kBlank || c.left.kind == Operand::Kind::kEmpty) {
        return Error(lx[k - 1].begin,
                     "'blank' and 'empty' can only be compared (x == blank, x != blank)");
      }
      out->terms.push_back(std::move(c));
      const Lexeme& next = lx[k];
      if (next.kind == Lexeme::Kind::kEnd) break;
      if (next.kind == Lexeme::Kind::kIdent && (next.text == "and" || next.text == "or")) {
        out->is_and.push_back(next.text == "and");
        ++k;
        KILN_RETURN_IF_ERROR(CountNode(next.begin));
        continue;
      }
      return Error(next.begin,
                   "expected a comparison (==, !=, <, >, <=, >=, contains), 'and', 'or' "
                   "or the end of the condition, found " +
                       Describe(next, src_));
    }
    return Status::Ok();
  }

  Template::Impl* impl_;
  std::string_view src_;
  const std::vector<Token>& tokens_;
  const SourceMap& map_;
  const TemplateOptions& options_;
  size_t pos_ = 0;
  size_t nodes_ = 0;
  uint32_t next_spin_id_ = 0;
  std::unordered_set<std::string> seen_variables_;
};

}  // namespace

Result<Template> Template::Parse(std::string_view source, const TemplateOptions& options) {
  if (source.size() > options.max_source_bytes) {
    return Status::TooLarge("template is " + std::to_string(source.size()) +
                            " bytes, over the limit of " +
                            std::to_string(options.max_source_bytes));
  }
  auto impl = std::make_shared<Impl>();
  impl->source.assign(source);
  const SourceMap map(impl->source);
  if (const size_t bad = FindInvalidUtf8(impl->source); bad != std::string_view::npos) {
    return Status::InvalidArgument(map.Where(bad) + ": invalid UTF-8");
  }
  std::vector<Token> tokens;
  KILN_RETURN_IF_ERROR(Tokenizer(impl->source, map).Run(&tokens));
  MarkSpintax(&tokens);
  KILN_RETURN_IF_ERROR(Parser(impl.get(), tokens, map, options).Run());
  return Template(std::move(impl));
}

}  // namespace kiln::tmpl
