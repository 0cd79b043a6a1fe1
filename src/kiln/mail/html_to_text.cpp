#include "kiln/mail/html_to_text.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/mail/mime_util.h"

namespace kiln::mail {
namespace {

struct NamedEntity {
  std::string_view name;
  uint32_t code_point;
};

// Sorted by name (checked below) for binary search. The entities that appear in real email
// templates; the full HTML5 table (2,231 names) would mostly cover mathematical symbols nobody
// mails.
constexpr NamedEntity kEntities[] = {
    {"AElig", 0xC6},    {"Aacute", 0xC1},  {"Acirc", 0xC2},   {"Agrave", 0xC0},  {"Aring", 0xC5},
    {"Atilde", 0xC3},   {"Auml", 0xC4},    {"Ccedil", 0xC7},  {"Eacute", 0xC9},  {"Ecirc", 0xCA},
    {"Egrave", 0xC8},   {"Euml", 0xCB},    {"Iacute", 0xCD},  {"Icirc", 0xCE},   {"Iuml", 0xCF},
    {"Ntilde", 0xD1},   {"Oacute", 0xD3},  {"Ocirc", 0xD4},   {"Ograve", 0xD2},  {"Oslash", 0xD8},
    {"Otilde", 0xD5},   {"Ouml", 0xD6},    {"Uacute", 0xDA},  {"Ucirc", 0xDB},   {"Ugrave", 0xD9},
    {"Uuml", 0xDC},     {"Yacute", 0xDD},  {"aacute", 0xE1},  {"acirc", 0xE2},   {"acute", 0xB4},
    {"aelig", 0xE6},    {"agrave", 0xE0},  {"amp", 0x26},     {"apos", 0x27},    {"aring", 0xE5},
    {"atilde", 0xE3},   {"auml", 0xE4},    {"bdquo", 0x201E}, {"brvbar", 0xA6},  {"bull", 0x2022},
    {"ccedil", 0xE7},   {"cedil", 0xB8},   {"cent", 0xA2},    {"copy", 0xA9},    {"curren", 0xA4},
    {"dagger", 0x2020}, {"deg", 0xB0},     {"divide", 0xF7},  {"eacute", 0xE9},  {"ecirc", 0xEA},
    {"egrave", 0xE8},   {"emsp", 0x2003},  {"ensp", 0x2002},  {"eth", 0xF0},     {"euml", 0xEB},
    {"euro", 0x20AC},   {"frac12", 0xBD},  {"frac14", 0xBC},  {"frac34", 0xBE},  {"gt", 0x3E},
    {"hellip", 0x2026}, {"iacute", 0xED},  {"icirc", 0xEE},   {"iexcl", 0xA1},   {"igrave", 0xEC},
    {"iquest", 0xBF},   {"iuml", 0xEF},    {"laquo", 0xAB},   {"ldquo", 0x201C}, {"lsaquo", 0x2039},
    {"lsquo", 0x2018},  {"lt", 0x3C},      {"mdash", 0x2014}, {"micro", 0xB5},   {"middot", 0xB7},
    {"nbsp", 0xA0},     {"ndash", 0x2013}, {"not", 0xAC},     {"ntilde", 0xF1},  {"oacute", 0xF3},
    {"ocirc", 0xF4},    {"ograve", 0xF2},  {"ordf", 0xAA},    {"ordm", 0xBA},    {"oslash", 0xF8},
    {"otilde", 0xF5},   {"ouml", 0xF6},    {"para", 0xB6},    {"plusmn", 0xB1},  {"pound", 0xA3},
    {"quot", 0x22},     {"raquo", 0xBB},   {"rdquo", 0x201D}, {"reg", 0xAE},     {"rsaquo", 0x203A},
    {"rsquo", 0x2019},  {"sbquo", 0x201A}, {"sect", 0xA7},    {"shy", 0xAD},     {"szlig", 0xDF},
    {"thinsp", 0x2009}, {"times", 0xD7},   {"trade", 0x2122}, {"uacute", 0xFA},  {"ucirc", 0xFB},
    {"ugrave", 0xF9},   {"uml", 0xA8},     {"uuml", 0xFC},    {"yacute", 0xFD},  {"yen", 0xA5},
    {"yuml", 0xFF},     {"zwnj", 0x200C},
};
static_assert(std::is_sorted(std::begin(kEntities), std::end(kEntities),
                             [](const NamedEntity& a, const NamedEntity& b) {
                               return a.name < b.name;
                             }));

bool LookupEntity(std::string_view name, uint32_t* cp) {
  const NamedEntity* end = std::end(kEntities);
  const NamedEntity* it =
      std::lower_bound(std::begin(kEntities), end, name,
                       [](const NamedEntity& e, std::string_view k) { return e.name < k; });
  if (it == end || it->name != name) return false;
  *cp = it->code_point;
  return true;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHtmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
constexpr char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

// Decodes one character reference starting at s[i] == '&'. On success appends the character,
// advances i past the reference and returns true; otherwise leaves both untouched.
bool DecodeReference(std::string_view s, size_t& i, std::string& out) {
  size_t j = i + 1;
  if (j < s.size() && s[j] == '#') {
    ++j;
    const bool hex = j < s.size() && (s[j] == 'x' || s[j] == 'X');
    if (hex) ++j;
    uint32_t cp = 0;
    size_t digits = 0;
    for (; j < s.size(); ++j) {
      const char c = s[j];
      int v;
      if (IsAsciiDigit(c)) {
        v = c - '0';
      } else if (hex && ToLower(c) >= 'a' && ToLower(c) <= 'f') {
        v = ToLower(c) - 'a' + 10;
      } else {
        break;
      }
      if (cp <= 0x10FFFF) cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
      ++digits;
    }
    if (digits == 0) return false;
    if (j < s.size() && s[j] == ';') ++j;
    // Windows-1252 C1 remapping as browsers do, for the ones that matter in text.
    switch (cp) {
      case 0x80:
        cp = 0x20AC;
        break;
      case 0x85:
        cp = 0x2026;
        break;
      case 0x91:
        cp = 0x2018;
        break;
      case 0x92:
        cp = 0x2019;
        break;
      case 0x93:
        cp = 0x201C;
        break;
      case 0x94:
        cp = 0x201D;
        break;
      case 0x96:
        cp = 0x2013;
        break;
      case 0x97:
        cp = 0x2014;
        break;
      default:
        break;
    }
    AppendUtf8(out, cp);
    i = j;
    return true;
  }
  size_t k = j;
  while (k < s.size() && k - j < 10 && (IsAsciiAlpha(s[k]) || IsAsciiDigit(s[k]))) ++k;
  if (k == j) return false;
  const std::string_view name = s.substr(j, k - j);
  uint32_t cp;
  if (k < s.size() && s[k] == ';') {
    if (!LookupEntity(name, &cp)) return false;
    AppendUtf8(out, cp);
    i = k + 1;
    return true;
  }
  // Legacy references without ';' that browsers accept and templates contain.
  for (std::string_view legacy : {"amp", "lt", "gt", "quot", "nbsp"}) {
    if (name == legacy) {
      LookupEntity(name, &cp);
      AppendUtf8(out, cp);
      i = k;
      return true;
    }
  }
  return false;
}

// Appends `s` with its character references decoded to `out`.
void AppendDecoded(std::string_view s, std::string& out) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t amp = s.find('&', i);
    const size_t stop = amp == std::string_view::npos ? s.size() : amp;
    out.append(s.data() + i, stop - i);
    i = stop;
    if (i < s.size() && !DecodeReference(s, i, out)) out += s[i++];
  }
}

std::string DecodeEntities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendDecoded(s, out);
  return out;
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// True when `s` is 7-bit, neither starts nor ends with a space, and has no two spaces in a row.
bool IsSingleSpacedAscii(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ') return false;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  // 16 bytes at a time (SSE2 / NEON through GCC's vector extensions), then byte by byte.
  using V16 = unsigned char __attribute__((vector_size(16)));
  while (i + 17 <= s.size()) {
    V16 x;
    V16 y;
    __builtin_memcpy(&x, p + i, 16);
    __builtin_memcpy(&y, p + i + 1, 16);
    const auto bad = (x >= 0x80) | ((x == ' ') & (y == ' '));
    uint64_t halves[2];
    __builtin_memcpy(halves, &bad, 16);
    if ((halves[0] | halves[1]) != 0) break;
    i += 16;
  }
  for (; i < s.size(); ++i) {
    if (p[i] >= 0x80 || (p[i] == ' ' && i + 1 < s.size() && p[i + 1] == ' ')) return false;
  }
  return true;
}

// What an element does to the text; every other element is ignored (its content is kept).
enum class TagKind {
  kOther,
  kBr,
  kBlankBlock,  // p, h1-h6, table, dl, address, figure: a blank line before and after
  kBlockquote,
  kPre,
  kList,  // ul, ol
  kLi,
  kBlock,  // div, tr, section...: a line break before and after
  kHr,
  kCell,  // td, th
  kImg,
  kA,
  kRawText,  // script, style, head...: dropped with their content
};

struct KnownTag {
  std::string_view name;
  TagKind kind;
};

// Sorted by name (checked below) for binary search.
constexpr KnownTag kKnownTags[] = {
    {"a", TagKind::kA},
    {"address", TagKind::kBlankBlock},
    {"article", TagKind::kBlock},
    {"aside", TagKind::kBlock},
    {"blockquote", TagKind::kBlockquote},
    {"body", TagKind::kBlock},
    {"br", TagKind::kBr},
    {"caption", TagKind::kBlock},
    {"center", TagKind::kBlock},
    {"dd", TagKind::kBlock},
    {"div", TagKind::kBlock},
    {"dl", TagKind::kBlankBlock},
    {"dt", TagKind::kBlock},
    {"fieldset", TagKind::kBlock},
    {"figcaption", TagKind::kBlock},
    {"figure", TagKind::kBlankBlock},
    {"footer", TagKind::kBlock},
    {"form", TagKind::kBlock},
    {"h1", TagKind::kBlankBlock},
    {"h2", TagKind::kBlankBlock},
    {"h3", TagKind::kBlankBlock},
    {"h4", TagKind::kBlankBlock},
    {"h5", TagKind::kBlankBlock},
    {"h6", TagKind::kBlankBlock},
    {"head", TagKind::kRawText},
    {"header", TagKind::kBlock},
    {"hr", TagKind::kHr},
    {"html", TagKind::kBlock},
    {"img", TagKind::kImg},
    {"li", TagKind::kLi},
    {"main", TagKind::kBlock},
    {"nav", TagKind::kBlock},
    {"noscript", TagKind::kRawText},
    {"ol", TagKind::kList},
    {"p", TagKind::kBlankBlock},
    {"pre", TagKind::kPre},
    {"script", TagKind::kRawText},
    {"section", TagKind::kBlock},
    {"style", TagKind::kRawText},
    {"table", TagKind::kBlankBlock},
    {"tbody", TagKind::kBlock},
    {"td", TagKind::kCell},
    {"template", TagKind::kRawText},
    {"tfoot", TagKind::kBlock},
    {"th", TagKind::kCell},
    {"thead", TagKind::kBlock},
    {"title", TagKind::kRawText},
    {"tr", TagKind::kBlock},
    {"ul", TagKind::kList},
    {"xml", TagKind::kRawText},
};
static_assert(std::is_sorted(std::begin(kKnownTags), std::end(kKnownTags),
                             [](const KnownTag& a, const KnownTag& b) { return a.name < b.name; }));
constexpr size_t kLongestKnownTag = 10;  // "blockquote", "figcaption"

// A tag name of up to kLongestKnownTag bytes, lower-cased and packed big-endian into two integers
// padded with zero bytes: comparing keys compares the names, in the same order.
struct TagKey {
  uint64_t high = 0;
  uint64_t low = 0;
  friend constexpr auto operator<=>(const TagKey&, const TagKey&) = default;
};

constexpr TagKey PackTagName(std::string_view name) {
  TagKey key;
  for (size_t i = 0; i < kLongestKnownTag; ++i) {
    const uint64_t c = i < name.size() ? static_cast<unsigned char>(ToLower(name[i])) : 0;
    if (i < 8) {
      key.high = (key.high << 8) | c;
    } else {
      key.low = (key.low << 8) | c;
    }
  }
  return key;
}

constexpr auto kKnownTagKeys = [] {
  std::array<TagKey, std::size(kKnownTags)> keys{};
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = PackTagName(kKnownTags[i].name);
  return keys;
}();

// The known tag named `name` (any case), or nullptr.
const KnownTag* LookupTag(std::string_view name) {
  if (name.size() > kLongestKnownTag) return nullptr;
  const TagKey key = PackTagName(name);
  const auto it = std::lower_bound(kKnownTagKeys.begin(), kKnownTagKeys.end(), key);
  if (it == kKnownTagKeys.end() || *it != key) return nullptr;
  const KnownTag& known = kKnownTags[it - kKnownTagKeys.begin()];
  // Equal keys and sizes: equal names ("hr\0" packs like "hr" but is another name).
  return known.name.size() == name.size() ? &known : nullptr;
}

struct Tag {
  TagKind kind = TagKind::kOther;
  std::string_view name;  // lower case, only for a known tag
  bool closing = false;
  std::string href;  // decoded, only for <a>
  std::string alt;   // decoded, only for <img>
};

// Bytes that end a run of text copied as is: HTML whitespace, and 0xC2 (a no-break space starts
// with it).
constexpr auto kTextRunStop = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : {' ', '\t', '\n', '\r', '\f'}) t[c] = true;
  t[0xC2] = true;
  return t;
}();

struct ListState {
  bool ordered = false;
  int next = 1;
};

class Converter {
 public:
  explicit Converter(const HtmlToTextOptions& options) : width_(options.width) {}

  std::string Run(std::string_view html) {
    out_.reserve(html.size() / 2 + 64);
    size_t i = 0;
    while (i < html.size()) {
      if (html[i] == '<') {
        i = HandleMarkup(html, i);
      } else {
        const size_t end = html.find('<', i);
        const size_t stop = end == std::string_view::npos ? html.size() : end;
        AddText(html.substr(i, stop - i));
        i = stop;
      }
    }
    FlushLine(false);
    while (!out_.empty() && out_.back() == '\n') out_.pop_back();
    if (!out_.empty()) out_ += '\n';
    return std::move(out_);
  }

 private:
  // Returns the index after the markup that starts at html[i] == '<'.
  size_t HandleMarkup(std::string_view html, size_t i) {
    if (html.substr(i, 4) == "<!--") {
      const size_t end = html.find("-->", i + 4);
      return end == std::string_view::npos ? html.size() : end + 3;
    }
    if (i + 1 < html.size() && (html[i + 1] == '!' || html[i + 1] == '?')) {
      const size_t end = html.find('>', i);
      return end == std::string_view::npos ? html.size() : end + 1;
    }
    size_t j = i + 1;
    Tag tag;
    if (j < html.size() && html[j] == '/') {
      tag.closing = true;
      ++j;
    }
    if (j >= html.size() || !IsAsciiAlpha(html[j])) {
      // Not a tag ("a < b"): literal text.
      AddText(html.substr(i, 1));
      return i + 1;
    }
    const size_t name_start = j;
    while (j < html.size() && !IsHtmlSpace(html[j]) && html[j] != '>' && html[j] != '/') ++j;
    if (const KnownTag* known = LookupTag(html.substr(name_start, j - name_start))) {
      tag.kind = known->kind;
      tag.name = known->name;
    }
    j = ParseAttributes(html, j, tag);
    if (!tag.closing && tag.kind == TagKind::kRawText) return SkipRawText(html, j, tag.name);
    HandleTag(tag);
    return j;
  }

  // Skips everything up to and including </name ...>.
  static size_t SkipRawText(std::string_view html, size_t i, std::string_view name) {
    while (true) {
      const size_t lt = html.find("</", i);
      if (lt == std::string_view::npos) return html.size();
      if (EqualsIgnoreCase(html.substr(lt + 2, name.size()), name)) {
        const size_t gt = html.find('>', lt);
        return gt == std::string_view::npos ? html.size() : gt + 1;
      }
      i = lt + 2;
    }
  }

  // Parses attributes up to the closing '>', keeping href / alt. Returns the index after '>'.
  static size_t ParseAttributes(std::string_view html, size_t j, Tag& tag) {
    while (j < html.size()) {
      while (j < html.size() && (IsHtmlSpace(html[j]) || html[j] == '/')) ++j;
      if (j >= html.size()) break;
      if (html[j] == '>') return j + 1;
      const size_t name_start = j;
      while (j < html.size() && !IsHtmlSpace(html[j]) && html[j] != '=' && html[j] != '>' &&
             html[j] != '/') {
        ++j;
      }
      const std::string_view name = html.substr(name_start, j - name_start);
      while (j < html.size() && IsHtmlSpace(html[j])) ++j;
      std::string_view value;
      if (j < html.size() && html[j] == '=') {
        ++j;
        while (j < html.size() && IsHtmlSpace(html[j])) ++j;
        if (j < html.size() && (html[j] == '"' || html[j] == '\'')) {
          const char quote = html[j++];
          const size_t end = html.find(quote, j);
          const size_t stop = end == std::string_view::npos ? html.size() : end;
          value = html.substr(j, stop - j);
          j = stop == html.size() ? stop : stop + 1;
        } else {
          const size_t start = j;
          while (j < html.size() && !IsHtmlSpace(html[j]) && html[j] != '>') ++j;
          value = html.substr(start, j - start);
        }
      }
      if (tag.kind == TagKind::kA && EqualsIgnoreCase(name, "href")) {
        // As browsers read a URL (WHATWG URL: tabs and newlines are removed), so that a CR or LF
        // inside the attribute cannot break the "(url)" of the text across lines.
        std::string href = DecodeEntities(value);
        std::erase_if(href, [](char c) { return c == '\t' || c == '\n' || c == '\r'; });
        tag.href = Trim(std::move(href));
      } else if (tag.kind == TagKind::kImg && EqualsIgnoreCase(name, "alt")) {
        tag.alt = DecodeEntities(value);
      }
    }
    return j;
  }

  static std::string Trim(std::string s) {
    size_t b = 0, e = s.size();
    while (b < e && IsHtmlSpace(s[b])) ++b;
    while (e > b && IsHtmlSpace(s[e - 1])) --e;
    return s.substr(b, e - b);
  }

  void HandleTag(const Tag& tag) {
    switch (tag.kind) {
      case TagKind::kBr:
        FlushLine(true);
        break;
      case TagKind::kBlankBlock:
        BlockBoundary(true);
        break;
      case TagKind::kBlockquote:
        BlockBoundary(true);
        quote_depth_ = std::max(quote_depth_ + (tag.closing ? -1 : 1), 0);
        break;
      case TagKind::kPre:
        BlockBoundary(true);
        pre_ = !tag.closing;
        break;
      case TagKind::kList:
        BlockBoundary(lists_.empty());
        if (tag.closing) {
          if (!lists_.empty()) lists_.pop_back();
        } else {
          lists_.push_back({tag.name == "ol", 1});
        }
        break;
      case TagKind::kLi:
        BlockBoundary(false);
        if (!tag.closing) StartListItem();
        break;
      case TagKind::kBlock:
        BlockBoundary(false);
        break;
      case TagKind::kHr:
        BlockBoundary(true);
        AddWord("----");
        BlockBoundary(true);
        break;
      case TagKind::kCell:
        if (!tag.closing) space_pending_ = true;
        break;
      case TagKind::kImg:
        if (!tag.alt.empty()) AddText(tag.alt, /*decode=*/false);
        break;
      case TagKind::kA:
        if (tag.closing) {
          EndLink();
        } else {
          link_href_ = tag.href;
          link_start_ = line_.size();
          link_line_ = lines_flushed_;
          in_link_ = true;
        }
        break;
      case TagKind::kRawText:  // a closing tag without its opening one
      case TagKind::kOther:
        break;
    }
  }

  void StartListItem() {
    std::string indent(2 * (lists_.empty() ? 0 : lists_.size() - 1), ' ');
    std::string marker = "- ";
    if (!lists_.empty() && lists_.back().ordered) {
      marker = std::to_string(lists_.back().next++) + ". ";
    }
    first_prefix_ = indent + marker;
    hang_prefix_ = indent + std::string(marker.size(), ' ');
  }

  void EndLink() {
    if (!in_link_) return;
    in_link_ = false;
    const std::string& href = link_href_;
    if (href.empty() || href[0] == '#' || href.rfind("javascript:", 0) == 0) return;
    std::string text;
    if (link_line_ == lines_flushed_ && link_start_ <= line_.size()) {
      text = Trim(line_.substr(link_start_));
    }
    std::string_view bare = href;
    if (bare.rfind("mailto:", 0) == 0) bare.remove_prefix(7);
    if (text == href || text == bare) return;
    if (text.empty() && link_line_ == lines_flushed_) {
      AddWord(std::string(href));
      return;
    }
    AddWord("(" + href + ")");
  }

  // Appends one unbreakable word preceded by a space when the line has text.
  void AddWord(const std::string& word) {
    if (!line_.empty() && line_.back() != ' ') line_ += ' ';
    line_ += word;
    space_pending_ = false;
  }

  void AddText(std::string_view raw, bool decode = true) {
    std::string_view text = raw;
    if (decode && raw.find('&') != std::string_view::npos) {
      decoded_.clear();
      AppendDecoded(raw, decoded_);
      text = decoded_;
    }
    const size_t n = text.size();
    size_t i = 0;
    if (pre_) {
      while (i < n) {
        size_t j = i;
        while (j < n && text[j] != '\n' && text[j] != '\r') ++j;
        line_.append(text.data() + i, j - i);
        if (j < n && text[j] == '\n') FlushLine(true);
        i = j + 1;
      }
      return;
    }
    while (i < n) {
      const char c = text[i];
      if (IsHtmlSpace(c)) {
        space_pending_ = true;
        ++i;
        continue;
      }
      if (space_pending_ && !line_.empty() && line_.back() != ' ') line_ += ' ';
      space_pending_ = false;
      // U+00A0 (no-break space, mostly used for spacing in templates) is an ordinary space.
      if (c == '\xC2' && i + 1 < n && text[i + 1] == '\xA0') {
        space_pending_ = true;
        i += 2;
        continue;
      }
      // The run goes on through single spaces between words: they come out as they are.
      const size_t j = RunEnd(text, i + 1);
      line_.append(text.data() + i, j - i);
      i = j;
    }
  }

  // The end of the run of text that continues at text[j]: up to the first HTML space other than a
  // single SP between two bytes of the run, or 0xC2.
  static size_t RunEnd(std::string_view text, size_t j) {
    const size_t n = text.size();
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    // 16 bytes at a time (SSE2 / NEON through GCC's vector extensions), then byte by byte.
    using V16 = unsigned char __attribute__((vector_size(16)));
    const auto stops = [](V16 v) {
      return (v == ' ') | (v == '\t') | (v == '\n') | (v == '\r') | (v == '\f') | (v == 0xC2);
    };
    while (j + 17 <= n) {
      V16 x;
      V16 y;
      __builtin_memcpy(&x, p + j, 16);
      __builtin_memcpy(&y, p + j + 1, 16);
      const auto end = stops(x) & ~((x == ' ') & ~stops(y));
      uint64_t halves[2];
      __builtin_memcpy(halves, &end, 16);
      if ((halves[0] | halves[1]) != 0) break;
      j += 16;
    }
    while (j < n) {
      if (!kTextRunStop[static_cast<unsigned char>(text[j])]) {
        ++j;
      } else if (text[j] == ' ' && j + 1 < n &&
                 !kTextRunStop[static_cast<unsigned char>(text[j + 1])]) {
        j += 2;
      } else {
        break;
      }
    }
    return j;
  }

  // Ends the current block: the next text starts on a new line, after a blank line if `blank`.
  void BlockBoundary(bool blank) {
    FlushLine(false);
    if (blank) blank_pending_ = true;
    first_prefix_.clear();
    hang_prefix_.clear();
  }

  // Writes the current line (wrapped). An empty line is written only when `explicit_break`.
  void FlushLine(bool explicit_break) {
    space_pending_ = false;
    const bool has_text = !line_.empty() && line_.find_first_not_of(' ') != std::string::npos;
    if (!has_text && !explicit_break) {
      line_.clear();
      return;
    }
    if (blank_pending_ && !out_.empty()) {
      if (out_.size() < 2 || out_.compare(out_.size() - 2, 2, "\n\n") != 0) out_ += '\n';
    }
    blank_pending_ = false;
    std::string quote;
    for (int d = 0; d < quote_depth_; ++d) quote += "> ";
    if (!has_text) {
      out_ += quote;
      if (!quote.empty()) out_.pop_back();
      out_ += '\n';
    } else if (pre_ || width_ <= 0) {
      out_ += quote;
      out_ += first_prefix_;
      out_ += pre_ ? line_ : TrimSpaces(line_);
      out_ += '\n';
    } else {
      Wrap(TrimSpaces(line_), quote + first_prefix_, quote + hang_prefix_);
    }
    // Continuation lines of the same list item keep the hanging indent.
    if (!first_prefix_.empty()) first_prefix_ = hang_prefix_;
    line_.clear();
    ++lines_flushed_;
  }

  static std::string_view TrimSpaces(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  }

  void Wrap(std::string_view text, const std::string& first, const std::string& hang) {
    const size_t width = static_cast<size_t>(width_);
    out_ += first;
    size_t col = Utf8Length(first);
    const size_t hang_cols = Utf8Length(hang);
    if (IsSingleSpacedAscii(text)) {
      // A byte is a column and every space separates two words: each output line is the longest
      // run of whole words that fits, found with one backwards search.
      size_t pos = 0;
      while (true) {
        const size_t room = width > col ? width - col : 0;
        if (text.size() - pos <= room) break;  // the rest fits
        size_t end = pos + room;               // text[end] exists
        if (text[end] != ' ') {
          const size_t space = text.substr(pos, room).rfind(' ');
          if (space != std::string_view::npos) {
            end = pos + space;
          } else {  // one word longer than the room stays whole
            end = text.find(' ', pos + room);
            if (end == std::string_view::npos) end = text.size();
          }
        }
        out_.append(text.data() + pos, end - pos);
        if (end == text.size()) {
          pos = end;
          break;
        }
        out_ += '\n';
        out_ += hang;
        col = hang_cols;
        pos = end + 1;
      }
      out_.append(text.data() + pos, text.size() - pos);
      out_ += '\n';
      return;
    }
    const bool ascii = IsAscii(text);
    bool line_has_word = false;
    // text[span_begin, span_end) is written at the next line break: the words placed on the line
    // since the last write, when they are separated by single spaces in `text`.
    size_t span_begin = 0;
    size_t span_end = 0;
    const auto write_span = [&] { out_.append(text.data() + span_begin, span_end - span_begin); };
    size_t i = 0;
    while (i < text.size()) {
      size_t end = i;
      while (end < text.size() && text[end] != ' ') ++end;  // words are short: no memchr
      const size_t word_begin = i;
      i = end + 1;
      if (end == word_begin) continue;
      const size_t w =
          ascii ? end - word_begin : Utf8Length(text.substr(word_begin, end - word_begin));
      if (line_has_word && col + 1 + w > width) {
        write_span();
        out_ += '\n';
        out_ += hang;
        col = hang_cols;
        line_has_word = false;
      }
      if (!line_has_word) {
        span_begin = word_begin;
      } else if (span_end + 1 != word_begin) {
        write_span();
        out_ += ' ';
        span_begin = word_begin;
      }
      span_end = end;
      col += w + (line_has_word ? 1 : 0);
      line_has_word = true;
    }
    if (line_has_word) write_span();
    out_ += '\n';
  }

  const int width_;
  std::string out_;
  std::string line_;
  std::string decoded_;  // AddText's scratch buffer for decoded character references
  bool space_pending_ = false;
  bool blank_pending_ = false;
  bool pre_ = false;
  int quote_depth_ = 0;
  std::vector<ListState> lists_;
  std::string first_prefix_;
  std::string hang_prefix_;
  bool in_link_ = false;
  std::string link_href_;
  size_t link_start_ = 0;
  size_t link_line_ = 0;
  size_t lines_flushed_ = 0;
};

}  // namespace

std::string HtmlToText(std::string_view html, const HtmlToTextOptions& options) {
  return Converter(options).Run(html);
}

}  // namespace kiln::mail
