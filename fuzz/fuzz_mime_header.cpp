// Fuzzes kiln::mail::ComposeMessage with hostile header values and bodies, plus HtmlToText and
// the DKIM relaxed canonicalisation over the same bytes.
// Input: fields separated by '\x1f': subject, from name, to email, extra header value, html body,
// text body (missing fields are empty).
// Invariants when composing succeeds: the output is 7-bit, every line ends in CRLF and is at most
// 998 octets, and the header section holds exactly the fields the writer produces — no value can
// inject a header. When it fails, the Status names a field.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "kiln/mail/dkim.h"
#include "kiln/mail/html_to_text.h"
#include "kiln/mail/mime_writer.h"

namespace {

std::vector<std::string_view> Split(std::string_view input) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (parts.size() < 5) {
    const size_t sep = input.find('\x1f', start);
    if (sep == std::string_view::npos) break;
    parts.push_back(input.substr(start, sep - start));
    start = sep + 1;
  }
  parts.push_back(input.substr(start));
  parts.resize(6);
  return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string_view> f = Split(input);

  kiln::mail::OutgoingMessage m;
  m.subject = std::string(f[0]);
  m.from = {std::string(f[1]), "ada@sender.example"};
  m.to = {{"Bob", std::string(f[2])}};
  m.extra_headers = {{"X-Fuzz", std::string(f[3])}};
  m.html_body = std::string(f[4]);
  m.text_body = std::string(f[5]);
  m.message_id = "fuzz@sender.example";

  (void)kiln::mail::HtmlToText(f[4], {.width = 40});
  (void)kiln::mail::DkimCanonicalizeBodyRelaxed(input);
  (void)kiln::mail::DkimCanonicalizeHeaderRelaxed(f[0]);

  auto raw = kiln::mail::ComposeMessage(m, {});
  if (!raw.ok()) {
    FUZZ_CHECK(!raw.status().field().empty());
    return 0;
  }
  const std::string& out = *raw;
  std::set<std::string> names;
  bool in_header = true;
  size_t start = 0;
  while (start < out.size()) {
    const size_t end = out.find("\r\n", start);
    FUZZ_CHECK(end != std::string::npos);  // the message ends with CRLF
    const std::string_view line(out.data() + start, end - start);
    FUZZ_CHECK(line.size() <= 998);
    for (char c : line) {
      FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
      FUZZ_CHECK(static_cast<unsigned char>(c) < 0x80);
    }
    if (in_header) {
      if (line.empty()) {
        in_header = false;
      } else if (line[0] != ' ' && line[0] != '\t') {
        const size_t colon = line.find(':');
        FUZZ_CHECK(colon != std::string_view::npos);
        names.insert(std::string(line.substr(0, colon)));
      }
    }
    start = end + 2;
  }
  const std::set<std::string> expected_single = {
      "Date",         "From",         "To",
      "Subject",      "Message-ID",   "X-Fuzz",
      "MIME-Version", "Content-Type", "Content-Transfer-Encoding"};
  const std::set<std::string> expected_multi = {
      "Date", "From", "To", "Subject", "Message-ID", "X-Fuzz", "MIME-Version", "Content-Type"};
  FUZZ_CHECK(names == (m.html_body.empty() ? expected_single : expected_multi));
  return 0;
}
