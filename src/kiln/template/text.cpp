#include "kiln/template/text.h"

#include <cstdint>

namespace kiln::tmpl {
namespace {

// One decoded character: a code point and its length in bytes, or, for a byte that does not
// start a well-formed sequence, kInvalid with length 1.
constexpr char32_t kInvalid = 0xFFFFFFFF;
struct Decoded {
  char32_t cp;
  size_t len;
};

Decoded Decode(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1};
  size_t len;
  char32_t cp;
  char32_t min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return {kInvalid, 1};
  }
  if (i + len > s.size()) return {kInvalid, 1};
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return {kInvalid, 1};
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {kInvalid, 1};
  return {cp, len};
}

void Encode(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Latin Extended-A alternates upper/lower case in pairs; which member is upper depends on the
// block: even code points in U+0100..U+0137 and U+014A..U+0177, odd ones in U+0139..U+0148 and
// U+0179..U+017E.
bool InPairedExtA(char32_t cp, bool* upper_is_even) {
  if ((cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177)) {
    *upper_is_even = true;
    return cp != 0x130 && cp != 0x131;  // dotted / dotless I are handled on their own
  }
  if ((cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E)) {
    *upper_is_even = false;
    return true;
  }
  return false;
}

char32_t ToUpper(char32_t cp) {
  if (cp >= 'a' && cp <= 'z') return cp - 0x20;
  if (cp < 0x80) return cp;
  if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) return cp - 0x20;
  if (cp == 0xFF) return 0x178;
  if (cp == 0x131) return 'I';
  bool upper_is_even;
  if (InPairedExtA(cp, &upper_is_even)) {
    const bool is_even = (cp % 2) == 0;
    return is_even == upper_is_even ? cp : cp - 1;
  }
  if (cp == 0x3C2) return 0x3A3;  // final sigma
  if (cp >= 0x3B1 && cp <= 0x3C9) return cp - 0x20;
  if (cp == 0x3AC) return 0x386;
  if (cp >= 0x3AD && cp <= 0x3AF) return cp - 0x25;
  if (cp == 0x3CC) return 0x38C;
  if (cp >= 0x3CD && cp <= 0x3CE) return cp - 0x3F;
  if (cp >= 0x430 && cp <= 0x44F) return cp - 0x20;
  if (cp >= 0x450 && cp <= 0x45F) return cp - 0x50;
  return cp;
}

char32_t ToLower(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 0x20;
  if (cp < 0x80) return cp;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
  if (cp == 0x178) return 0xFF;
  if (cp == 0x130) return 'i';
  bool upper_is_even;
  if (InPairedExtA(cp, &upper_is_even)) {
    const bool is_even = (cp % 2) == 0;
    return is_even == upper_is_even ? cp + 1 : cp;
  }
  if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20;
  if (cp == 0x386) return 0x3AC;
  if (cp >= 0x388 && cp <= 0x38A) return cp + 0x25;
  if (cp == 0x38C) return 0x3CC;
  if (cp >= 0x38E && cp <= 0x38F) return cp + 0x3F;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  return cp;
}

enum class CaseMode { kUpper, kLower };

// Appends in[i..] case-mapped; returns nothing. ASCII runs take a byte-wise fast path.
void AppendMapped(std::string_view in, size_t i, CaseMode mode, std::string* out) {
  while (i < in.size()) {
    const auto b = static_cast<unsigned char>(in[i]);
    if (b < 0x80) {
      char c = static_cast<char>(b);
      if (mode == CaseMode::kUpper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 0x20);
      if (mode == CaseMode::kLower && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 0x20);
      out->push_back(c);
      ++i;
      continue;
    }
    const Decoded d = Decode(in, i);
    if (d.cp == kInvalid) {
      out->push_back(in[i]);
    } else if (mode == CaseMode::kUpper && d.cp == 0xDF) {
      out->append("SS");
    } else {
      Encode(mode == CaseMode::kUpper ? ToUpper(d.cp) : ToLower(d.cp), out);
    }
    i += d.len;
  }
}

}  // namespace

void AppendUpcase(std::string_view in, std::string* out) {
  AppendMapped(in, 0, CaseMode::kUpper, out);
}

void AppendDowncase(std::string_view in, std::string* out) {
  AppendMapped(in, 0, CaseMode::kLower, out);
}

void AppendCapitalize(std::string_view in, std::string* out) {
  if (in.empty()) return;
  const Decoded first = Decode(in, 0);
  if (first.cp == kInvalid) {
    out->push_back(in[0]);
  } else if (first.cp == 0xDF) {
    out->append("Ss");  // Ruby: "ß".capitalize == "Ss"
  } else {
    Encode(ToUpper(first.cp), out);
  }
  AppendMapped(in, first.len, CaseMode::kLower, out);
}

size_t CodePointCount(std::string_view in) {
  size_t n = 0;
  for (size_t i = 0; i < in.size(); ++n) {
    i += static_cast<unsigned char>(in[i]) < 0x80 ? 1 : Decode(in, i).len;
  }
  return n;
}

std::string_view CodePointPrefix(std::string_view in, size_t n) {
  size_t i = 0;
  for (size_t count = 0; count < n && i < in.size(); ++count) {
    i += static_cast<unsigned char>(in[i]) < 0x80 ? 1 : Decode(in, i).len;
  }
  return in.substr(0, i);
}

void AppendTruncate(std::string_view in, size_t length, std::string_view ellipsis,
                    std::string* out) {
  // Cheap exit: fewer bytes than `length` means fewer characters too.
  if (in.size() <= length || CodePointCount(in) <= length) {
    out->append(in);
    return;
  }
  const size_t ellipsis_chars = CodePointCount(ellipsis);
  const size_t keep = length > ellipsis_chars ? length - ellipsis_chars : 0;
  out->append(CodePointPrefix(in, keep));
  out->append(ellipsis);
}

void AppendHtmlEscaped(std::string_view in, std::string* out) {
  size_t run = 0;  // start of the pending run of bytes that need no escaping
  for (size_t i = 0; i < in.size(); ++i) {
    const char* rep;
    switch (in[i]) {
      case '&':
        rep = "&amp;";
        break;
      case '<':
        rep = "&lt;";
        break;
      case '>':
        rep = "&gt;";
        break;
      case '"':
        rep = "&quot;";
        break;
      case '\'':
        rep = "&#39;";
        break;
      default:
        continue;
    }
    out->append(in.substr(run, i - run));
    out->append(rep);
    run = i + 1;
  }
  out->append(in.substr(run));
}

void AppendUrlEncoded(std::string_view in, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : in) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-' || c == '~';
    if (keep) {
      out->push_back(c);
    } else if (c == ' ') {
      out->push_back('+');
    } else {
      const auto b = static_cast<unsigned char>(c);
      out->push_back('%');
      out->push_back(kHex[b >> 4]);
      out->push_back(kHex[b & 0xF]);
    }
  }
}

bool IsStripSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == '\0';
}

std::string_view LeftStrip(std::string_view in) {
  size_t b = 0;
  while (b < in.size() && IsStripSpace(in[b])) ++b;
  return in.substr(b);
}

std::string_view RightStrip(std::string_view in) {
  size_t e = in.size();
  while (e > 0 && IsStripSpace(in[e - 1])) --e;
  return in.substr(0, e);
}

std::string_view Strip(std::string_view in) { return RightStrip(LeftStrip(in)); }

std::string_view FirstWord(std::string_view in) {
  in = LeftStrip(in);
  size_t e = 0;
  while (e < in.size() && !IsStripSpace(in[e])) ++e;
  return in.substr(0, e);
}

std::string_view LastWord(std::string_view in) {
  in = RightStrip(in);
  size_t b = in.size();
  while (b > 0 && !IsStripSpace(in[b - 1])) --b;
  return in.substr(b);
}

size_t FindInvalidUtf8(std::string_view in) {
  for (size_t i = 0; i < in.size();) {
    if (static_cast<unsigned char>(in[i]) < 0x80) {
      ++i;
      continue;
    }
    const Decoded d = Decode(in, i);
    if (d.cp == kInvalid) return i;
    i += d.len;
  }
  return std::string_view::npos;
}

}  // namespace kiln::tmpl
