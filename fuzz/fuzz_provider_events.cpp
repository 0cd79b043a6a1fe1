// Fuzzes the inbound provider-event parsers (POST /api/webhooks/provider/{token}): Kiln's generic
// JSON and Mailgun's and Postmark's native formats. Invariants: never crash on any body; an
// accepted generic batch has 1..kMaxInboundEvents events, each of a known type, naming a bracketed
// Message-ID or an address, with hard/soft exactly on bounces and a non-empty id; a Mailgun payload
// whose signature was not made with the key is never accepted; re-signed with the key (the fuzzer
// signs what it was given), the event-data parser runs on arbitrary content and any accepted event
// is well formed; an accepted Postmark record is one of Kiln's types (or ignored), has an id, and
// an event Kiln acts on names a valid address and no Message-ID (Postmark's MessageID is its own);
// a refused record names the field at fault.
#include <boost/json/parse.hpp>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/auth/crypto.h"
#include "kiln/domain/email_address.h"
#include "kiln/webhooks/inbound.h"

namespace {

namespace json = boost::json;
using kiln::webhooks::ProviderEvent;

constexpr std::string_view kKey = "key-fuzz-signing";

void CheckEvent(const ProviderEvent& e) {
  FUZZ_CHECK(!e.id.empty());
  if (!e.message_id.empty()) {
    FUZZ_CHECK(e.message_id.size() >= 3 && e.message_id.front() == '<' &&
               e.message_id.back() == '>');
  }
  if (e.type == "bounce") FUZZ_CHECK(e.bounce_type == "hard" || e.bounce_type == "soft");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return 0;
  json::object& o = v.as_object();

  if (!kiln::webhooks::IsMailgunPayload(o) && kiln::webhooks::IsPostmarkPayload(o)) {
    auto event = kiln::webhooks::ParsePostmarkEvent(o);
    if (!event.ok()) {
      FUZZ_CHECK(!event.status().message().empty() && !event.status().field().empty());
      return 0;
    }
    FUZZ_CHECK(event->provider == "postmark");
    FUZZ_CHECK(event->type.empty() || event->type == "bounce" || event->type == "complaint" ||
               event->type == "delivered" || event->type == "unsubscribe");
    FUZZ_CHECK(event->message_id.empty());
    if (!event->type.empty()) {
      FUZZ_CHECK(kiln::domain::NormalizeEmailAddress(event->email).ok());
    }
    if (event->type != "bounce") FUZZ_CHECK(event->bounce_type.empty());
    CheckEvent(*event);
    return 0;
  }

  if (!kiln::webhooks::IsMailgunPayload(o)) {
    auto events = kiln::webhooks::ParseGenericEvents(o);
    if (!events.ok()) {
      FUZZ_CHECK(!events.status().message().empty());
      return 0;
    }
    FUZZ_CHECK(!events->empty() && events->size() <= kiln::webhooks::kMaxInboundEvents);
    for (const ProviderEvent& e : *events) {
      FUZZ_CHECK(e.provider == "generic");
      FUZZ_CHECK(e.type == "bounce" || e.type == "complaint" || e.type == "delivered" ||
                 e.type == "unsubscribe");
      FUZZ_CHECK(!e.message_id.empty() || !e.email.empty());
      if (e.type != "bounce") FUZZ_CHECK(e.bounce_type.empty());
      CheckEvent(e);
    }
    return 0;
  }

  // As given: the fuzzer does not know the key, so this is accepted only if the input carries
  // the exact HMAC of its own timestamp and token (which a mutation will not find).
  json::object& sig = o["signature"].as_object();
  const json::value* ts = sig.if_contains("timestamp");
  const json::value* token = sig.if_contains("token");
  int64_t now_ms = 1'700'000'000'000;
  std::string stamp;
  if (ts && ts->is_string()) {
    stamp = std::string(ts->as_string());
    int64_t secs = 0;
    auto [p, err] = std::from_chars(stamp.data(), stamp.data() + stamp.size(), secs);
    if (err == std::errc() && secs > 0 && secs < 32'503'680'000) now_ms = secs * 1000;
  }
  auto as_given = kiln::webhooks::ParseMailgunEvent(o, kKey, now_ms);
  std::string expected;
  if (ts && ts->is_string() && token && token->is_string()) {
    expected = kiln::auth::HexEncode(
        kiln::auth::HmacSha256(kKey, stamp + std::string(token->as_string())));
  }
  const json::value* given = sig.if_contains("signature");
  bool signed_right = false;
  if (!expected.empty() && given && given->is_string()) {
    std::string lower(given->as_string());  // the parser accepts upper-case hex too
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    signed_right = lower == expected;
  }
  if (!signed_right) FUZZ_CHECK(!as_given.ok());

  // Re-signed with the key, at the moment of the timestamp: the event-data parser runs.
  if (!expected.empty()) {
    sig["signature"] = expected;
    auto event = kiln::webhooks::ParseMailgunEvent(o, kKey, now_ms);
    if (event.ok()) {
      FUZZ_CHECK(event->provider == "mailgun");
      CheckEvent(*event);
    }
  }
  return 0;
}
