// Fuzzes the text helpers of kiln/mail that see outside bytes: HtmlToText (the HTML part of every
// inbound reply and every user template), the two UTF-8 validators (kiln/base/utf8.h and
// kiln/mail/mime_util.h), the quoted-printable and base64 encoders of the MIME writer, and the
// certificate names a refused TLS server is described by (kiln/mail/tls_names.h).
//
// The first input byte picks a mode, the rest is the payload:
//   0: HtmlToText at a width taken from the next byte. Invariants: valid UTF-8 in gives valid
//      UTF-8 out; the text is empty or ends in "\n", holds no CR, and no NUL unless the input had
//      one (character references to 0 become U+FFFD); wrapping only turns spaces into line breaks
//      plus the quote and hanging indent of the line: the text at any width equals the unwrapped
//      text once spaces, line breaks and '>' are removed.
//   1: UTF-8 validation. Both validators agree with each other and with a reference decoder
//      written here from RFC 3629 §4.
//   2: AppendQuotedPrintable and AppendBase64. Their output is 7-bit; quoted-printable lines are
//      at most 76 characters, never end in a space or tab, and decode (by a decoder written here)
//      to the input with every line break as CRLF; base64 decodes back to the input.
//   3: CertificateNamesFromDer. The description is printable ASCII, never empty, and bounded.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/base/utf8.h"
#include "kiln/mail/html_to_text.h"
#include "kiln/mail/mime_util.h"
#include "kiln/mail/tls_names.h"

namespace {

// RFC 3629 §4: the well-formed byte sequences, table by table.
bool ReferenceUtf8(std::string_view s) {
  size_t i = 0;
  auto in = [&](size_t k, uint8_t lo, uint8_t hi) {
    if (i + k >= s.size()) return false;
    const auto b = static_cast<uint8_t>(s[i + k]);
    return b >= lo && b <= hi;
  };
  while (i < s.size()) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b <= 0x7f) {
      i += 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
      if (!in(1, 0x80, 0xbf)) return false;
      i += 2;
    } else if (b == 0xe0) {
      if (!in(1, 0xa0, 0xbf) || !in(2, 0x80, 0xbf)) return false;
      i += 3;
    } else if ((b >= 0xe1 && b <= 0xec) || b == 0xee || b == 0xef) {
      if (!in(1, 0x80, 0xbf) || !in(2, 0x80, 0xbf)) return false;
      i += 3;
    } else if (b == 0xed) {
      if (!in(1, 0x80, 0x9f) || !in(2, 0x80, 0xbf)) return false;
      i += 3;
    } else if (b == 0xf0) {
      if (!in(1, 0x90, 0xbf) || !in(2, 0x80, 0xbf) || !in(3, 0x80, 0xbf)) return false;
      i += 4;
    } else if (b >= 0xf1 && b <= 0xf3) {
      if (!in(1, 0x80, 0xbf) || !in(2, 0x80, 0xbf) || !in(3, 0x80, 0xbf)) return false;
      i += 4;
    } else if (b == 0xf4) {
      if (!in(1, 0x80, 0x8f) || !in(2, 0x80, 0xbf) || !in(3, 0x80, 0xbf)) return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

std::string WithoutLayout(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '>') out += c;
  }
  return out;
}

void FuzzHtml(std::string_view in) {
  if (in.empty()) return;
  const int width = static_cast<uint8_t>(in[0]) % 100;  // 0: no wrapping
  const std::string_view html = in.substr(1);
  const std::string text = kiln::mail::HtmlToText(html, {.width = width});
  if (kiln::IsValidUtf8(html)) FUZZ_CHECK(kiln::IsValidUtf8(text));
  FUZZ_CHECK(text.empty() || text.back() == '\n');
  FUZZ_CHECK(text.find('\r') == std::string::npos);
  if (html.find('\0') == std::string_view::npos) FUZZ_CHECK(text.find('\0') == std::string::npos);
  if (width > 0) {
    const std::string unwrapped = kiln::mail::HtmlToText(html, {.width = 0});
    FUZZ_CHECK(WithoutLayout(text) == WithoutLayout(unwrapped));
  }
}

void FuzzUtf8(std::string_view in) {
  const bool expected = ReferenceUtf8(in);
  FUZZ_CHECK(kiln::IsValidUtf8(in) == expected);
  FUZZ_CHECK(kiln::mail::IsValidUtf8(in) == expected);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // RFC 2045 §6.7: encoders write upper-case hex
}

// Decodes quoted-printable as RFC 2045 §6.7 reads it; nullopt on a malformed escape.
std::optional<std::string> DecodeQuotedPrintable(std::string_view qp) {
  std::string out;
  for (size_t i = 0; i < qp.size(); ++i) {
    if (qp[i] != '=') {
      out += qp[i];
      continue;
    }
    if (qp.substr(i + 1, 2) == "\r\n") {  // soft line break
      i += 2;
      continue;
    }
    if (i + 2 >= qp.size()) return std::nullopt;
    const int hi = HexValue(qp[i + 1]);
    const int lo = HexValue(qp[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string CrlfLineBreaks(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' || text[i] == '\n') {
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out += "\r\n";
    } else {
      out += text[i];
    }
  }
  return out;
}

std::optional<std::string> DecodeBase64(std::string_view b64) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (b64.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < b64.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = b64[i + k];
      if (c == '=') {
        if (i + 4 != b64.size() || k < 2) return std::nullopt;
        ++pad;
        v <<= 6;
        continue;
      }
      if (pad > 0) return std::nullopt;
      const size_t pos = kAlphabet.find(c);
      if (pos == std::string_view::npos) return std::nullopt;
      v = (v << 6) | static_cast<uint32_t>(pos);
    }
    out += static_cast<char>(v >> 16);
    if (pad < 2) out += static_cast<char>((v >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(v & 0xff);
  }
  return out;
}

void FuzzEncoders(std::string_view in) {
  std::string qp = "prefix";  // the encoders append
  kiln::mail::AppendQuotedPrintable(qp, in);
  FUZZ_CHECK(qp.compare(0, 6, "prefix") == 0);
  const std::string_view body = std::string_view(qp).substr(6);
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find("\r\n", start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(start, end - start);
    FUZZ_CHECK(line.size() <= 76);
    for (char c : line) {
      FUZZ_CHECK((c >= 0x21 && c <= 0x7e) || c == ' ' || c == '\t');
    }
    if (!line.empty()) FUZZ_CHECK(line.back() != ' ' && line.back() != '\t');
    start = end + 2;
  }
  auto decoded = DecodeQuotedPrintable(body);
  FUZZ_CHECK(decoded.has_value());
  FUZZ_CHECK(*decoded == CrlfLineBreaks(in));

  std::string b64;
  kiln::mail::AppendBase64(b64, in);
  FUZZ_CHECK(kiln::mail::IsAscii(b64));
  auto raw = DecodeBase64(b64);
  FUZZ_CHECK(raw.has_value() && *raw == in);
}

void FuzzCertificate(std::string_view der) {
  const std::string names = kiln::mail::CertificateNamesFromDer(der);
  FUZZ_CHECK(!names.empty());
  // Ten names of at most 256 characters plus their "DNS:" and separators, and ", ...".
  FUZZ_CHECK(names.size() <= 10 * (4 + 256 + 2) + 5);
  for (char c : names) FUZZ_CHECK(c >= 0x20 && c < 0x7f);
  const std::string text = kiln::mail::NameMismatchText(names, "mail.example.com");
  FUZZ_CHECK(text.find(names) != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      FuzzHtml(in);
      break;
    case 1:
      FuzzUtf8(in);
      break;
    case 2:
      FuzzEncoders(in);
      break;
    case 3:
      FuzzCertificate(in);
      break;
  }
  return 0;
}
