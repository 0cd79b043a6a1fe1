// Fuzzes kiln::mail::ParseIncoming and Classify (every classifier) on arbitrary bytes.
// Invariants: never crashes or throws; a parse succeeds for any non-empty input within the size
// limit; every decoded string is valid UTF-8 without NUL (what PostgreSQL text columns take),
// part texts bounded by the part text limit; a bounce always
// names at least one recipient; the kind agrees with the detail fields.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/base/utf8.h"
#include "kiln/mail/classify.h"
#include "kiln/mail/incoming.h"

namespace {

class FuzzLookup : public kiln::mail::OurMessageLookup {
 public:
  std::optional<kiln::mail::OurMessageRef> FindByMessageId(std::string_view id) const override {
    if (id.size() % 3 == 0) return kiln::mail::OurMessageRef{std::string(id), "k"};
    return std::nullopt;
  }
  std::optional<kiln::mail::OurMessageRef> FindBySubjectAndCorrespondent(
      std::string_view subject, std::string_view) const override {
    if (subject.size() % 2 == 0) return kiln::mail::OurMessageRef{"s@x", "k"};
    return std::nullopt;
  }
};

bool StoreableText(std::string_view s) {
  return kiln::IsValidUtf8(s) && s.find('\0') == std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  kiln::mail::ParseLimits limits;
  limits.max_part_text_bytes = 64 << 10;
  auto parsed = kiln::mail::ParseIncoming(raw, limits);
  if (size == 0) {
    FUZZ_CHECK(!parsed.ok());
    return 0;
  }
  FUZZ_CHECK(parsed.ok());
  for (const auto& part : parsed->parts) {
    FUZZ_CHECK(part.text.size() <= limits.max_part_text_bytes);
    FUZZ_CHECK(StoreableText(part.text));
  }
  // What the inbox watcher stores: valid UTF-8 without NUL (PostgreSQL text refuses NUL).
  const kiln::mail::IncomingMessage& m = *parsed;
  for (const std::string* s : {&m.subject, &m.text_body, &m.message_id, &m.in_reply_to,
                               &m.return_path, &m.from.email, &m.from.name}) {
    FUZZ_CHECK(StoreableText(*s));
  }
  for (const auto& id : m.references) FUZZ_CHECK(StoreableText(id));
  for (const auto& [name, value] : m.headers) FUZZ_CHECK(StoreableText(value));
  FuzzLookup lookup;
  kiln::mail::Classification c = kiln::mail::Classify(*parsed, lookup);
  if (c.kind == kiln::mail::IncomingKind::kBounce) {
    FUZZ_CHECK(c.bounce.has_value() && !c.bounce->recipients.empty());
  }
  if (c.kind == kiln::mail::IncomingKind::kComplaint) FUZZ_CHECK(c.complaint.has_value());
  if (c.kind == kiln::mail::IncomingKind::kWarmup) {
    FUZZ_CHECK(c.warmup_token && kiln::mail::IsValidWarmupToken(*c.warmup_token));
  }
  // The reason classifier alone, on the raw bytes as a diagnostic.
  kiln::mail::ClassifyBounceReason(raw.substr(0, 64), raw);
  kiln::mail::NormalizeSubject(raw);
  return 0;
}
