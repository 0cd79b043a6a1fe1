// Fuzzes ParseSmtpReply (and the EHLO capability reader) over arbitrary server bytes: consumes
// reply after reply the way SmtpClient does and checks the parser's own invariants.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kiln/mail/smtp_client.h"
#include "kiln/mail/smtp_reply.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    auto parsed = kiln::mail::ParseSmtpReply(input);
    if (!parsed.ok() || !parsed->has_value()) break;
    const kiln::mail::ParsedSmtpReply& p = **parsed;
    if (p.consumed == 0 || p.consumed > input.size()) std::abort();
    if (p.reply.code < 200 || p.reply.code > 599 || p.reply.lines.empty()) std::abort();
    (void)p.reply.ToString();
    (void)kiln::mail::SmtpCapabilities::FromEhlo(p.reply);
    input.remove_prefix(p.consumed);
  }
  return 0;
}
