#include "kiln/mail/mime_util.h"

#include <array>
#include <cstdint>

namespace kiln::mail {

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Fast path: 8 ASCII bytes at a time.
    while (i + 8 <= n) {
      uint64_t chunk;
      __builtin_memcpy(&chunk, p + i, 8);
      if (chunk & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte, overlong 2-byte lead, or > U+10FFFF lead
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

bool IsAscii(std::string_view s) {
  const size_t n = s.size();
  size_t i = 0;
  uint64_t any = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t chunk;
    __builtin_memcpy(&chunk, s.data() + i, 8);
    any |= chunk;
  }
  for (; i < n; ++i) any |= static_cast<unsigned char>(s[i]);
  return (any & 0x8080808080808080ULL) == 0;
}

size_t FindLineBreak(std::string_view s, size_t from) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = from;
  // 16 bytes at a time (SSE2 / NEON through GCC's vector extensions): lines are short, so this
  // beats two memchr calls per line.
  using V16 = unsigned char __attribute__((vector_size(16)));
  while (i + 16 <= n) {
    V16 x;
    __builtin_memcpy(&x, p + i, 16);
    const auto hit = (x == '\r') | (x == '\n');
    uint64_t halves[2];
    __builtin_memcpy(halves, &hit, 16);
    if ((halves[0] | halves[1]) != 0) break;
    i += 16;
  }
  while (i < n && p[i] != '\r' && p[i] != '\n') ++i;
  return i;
}

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = 1;
  if (c >= 0xF0) {
    len = 4;
  } else if (c >= 0xE0) {
    len = 3;
  } else if (c >= 0xC0) {
    len = 2;
  }
  return i + len > s.size() ? s.size() - i : len;
}

void AppendBase64(std::string& out, std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  const size_t start = out.size();
  out.resize(start + 4 * ((n + 2) / 3));
  char* o = out.data() + start;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = kAlphabet[(v >> 6) & 63];
    *o++ = kAlphabet[v & 63];
  }
  if (i < n) {
    uint32_t v = uint32_t{p[i]} << 16;
    if (i + 1 < n) v |= uint32_t{p[i + 1]} << 8;
    *o++ = kAlphabet[v >> 18];
    *o++ = kAlphabet[(v >> 12) & 63];
    *o++ = i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
}

namespace {

// Bytes that quoted-printable copies as they are wherever they stand: printable ASCII except '='.
// SP and TAB are literal too, except right before a line end (handled by the caller).
constexpr auto kQpLiteral = [] {
  std::array<bool, 256> t{};
  for (int c = 33; c <= 126; ++c) t[c] = c != '=';
  t[' '] = true;
  t['\t'] = true;
  return t;
}();

}  // namespace

void AppendQuotedPrintable(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  constexpr size_t kMaxContent = 75;  // + "=" soft break = 76 (RFC 2045 §6.7 rule 5)
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  out.reserve(out.size() + n + n / 16 + 8);
  size_t col = 0;
  size_t i = 0;
  while (i < n) {
    // A run of literal bytes that fits before the soft-break column is copied in one go; it
    // stops at a line break, a byte to encode, or SP/TAB right before a line end.
    const size_t room = col < kMaxContent ? kMaxContent - col : 0;
    const size_t stop = n - i < room ? n : i + room;
    size_t j = i;
    // 16 bytes at a time (SSE2 / NEON through GCC's vector extensions) while all are printable
    // ASCII other than '=' (a TAB takes the byte loop).
    using V16 = unsigned char __attribute__((vector_size(16)));
    while (j + 16 <= stop) {
      V16 x;
      __builtin_memcpy(&x, p + j, 16);
      const auto encode = (x < 0x20) | (x > 0x7E) | (x == '=');
      uint64_t halves[2];
      __builtin_memcpy(halves, &encode, 16);
      if ((halves[0] | halves[1]) != 0) break;
      j += 16;
    }
    while (j < stop && kQpLiteral[p[j]]) ++j;
    if (j > i && (p[j - 1] == ' ' || p[j - 1] == '\t') &&
        (j == n || p[j] == '\r' || p[j] == '\n')) {
      --j;
    }
    if (j > i) {
      out.append(text.data() + i, j - i);
      col += j - i;
      i = j;
      if (i == n) break;
    }
    // One byte the run could not take: a line break, a byte to encode, or a literal that needs
    // a soft break first.
    const unsigned char u = p[i];
    if (u == '\r' || u == '\n') {
      if (u == '\r' && i + 1 < n && p[i + 1] == '\n') ++i;
      out += "\r\n";
      col = 0;
      ++i;
      continue;
    }
    const bool at_line_end = i + 1 == n || p[i + 1] == '\r' || p[i + 1] == '\n';
    const bool literal = kQpLiteral[u] && !((u == ' ' || u == '\t') && at_line_end);
    const size_t len = literal ? 1 : 3;
    // The last character of a line may use column 76: no soft break follows it.
    const size_t limit = at_line_end ? kMaxContent + 1 : kMaxContent;
    if (col + len > limit) {
      out += "=\r\n";
      col = 0;
    }
    if (literal) {
      out += static_cast<char>(u);
    } else {
      const char encoded[3] = {'=', kHex[u >> 4], kHex[u & 15]};
      out.append(encoded, 3);
    }
    col += len;
    ++i;
  }
}

}  // namespace kiln::mail
