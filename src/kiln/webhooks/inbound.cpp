#include "kiln/webhooks/inbound.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <set>

#include "kiln/auth/crypto.h"
#include "kiln/base/time_format.h"
#include "kiln/base/utf8.h"
#include "kiln/domain/email_address.h"

namespace kiln::webhooks {

namespace json = boost::json;

namespace {

// Reads an optional string field of at most `max` bytes; InvalidArgument naming `path`.
Status OptString(const json::object& o, std::string_view key, const std::string& path, size_t max,
                 std::string* out) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return Status::Ok();
  if (!v->is_string()) return Status::InvalidArgument("must be a string", path);
  std::string s(v->as_string());
  if (s.size() > max) {
    return Status::InvalidArgument("must be at most " + std::to_string(max) + " bytes", path);
  }
  if (!IsValidUtf8(s)) return Status::InvalidArgument("must be valid UTF-8", path);
  *out = std::move(s);
  return Status::Ok();
}

std::string Bracketed(std::string id) {
  while (!id.empty() && (id.front() == ' ' || id.front() == '<')) id.erase(id.begin());
  while (!id.empty() && (id.back() == ' ' || id.back() == '>')) id.pop_back();
  return id.empty() ? id : "<" + id + ">";
}

Result<std::optional<int64_t>> ReadTimestamp(const json::value* v, const std::string& path) {
  if (!v || v->is_null()) return std::optional<int64_t>();
  if (v->is_int64() || v->is_uint64() || v->is_double()) {
    double secs = v->is_double() ? v->as_double()
                                 : (v->is_int64() ? static_cast<double>(v->as_int64())
                                                  : static_cast<double>(v->as_uint64()));
    if (!std::isfinite(secs) || secs < 0 || secs > 32503680000.0) {
      return Status::InvalidArgument("must be Unix seconds between 1970 and 3000", path);
    }
    return std::optional<int64_t>(static_cast<int64_t>(std::llround(secs * 1000)));
  }
  if (v->is_string()) {
    auto ms = ParseIso8601(std::string(v->as_string()));
    if (!ms.ok()) return Status::InvalidArgument("must be Unix seconds or an ISO 8601 time", path);
    return std::optional<int64_t>(*ms);
  }
  return Status::InvalidArgument("must be Unix seconds or an ISO 8601 time", path);
}

}  // namespace

Result<std::vector<ProviderEvent>> ParseGenericEvents(const json::object& body) {
  for (const auto& [key, value] : body) {
    if (key != "events") {
      return Status::InvalidArgument("unknown field (expected events)", std::string(key));
    }
  }
  const json::value* events = body.if_contains("events");
  if (!events) return Status::InvalidArgument("is required", "events");
  if (!events->is_array()) return Status::InvalidArgument("must be an array", "events");
  const json::array& arr = events->as_array();
  if (arr.empty()) return Status::InvalidArgument("must have at least one event", "events");
  if (arr.size() > kMaxInboundEvents) {
    return Status::InvalidArgument(
        "must have at most " + std::to_string(kMaxInboundEvents) + " events", "events");
  }
  static const std::set<std::string, std::less<>> kKnown = {
      "type", "id", "message_id", "email", "bounce_type", "reason", "timestamp"};
  std::vector<ProviderEvent> out;
  out.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string at = "events[" + std::to_string(i) + "]";
    if (!arr[i].is_object()) return Status::InvalidArgument("must be an object", at);
    const json::object& o = arr[i].as_object();
    for (const auto& [key, value] : o) {
      if (!kKnown.contains(key))
        return Status::InvalidArgument("unknown field", at + "." + std::string(key));
    }
    ProviderEvent e;
    e.provider = "generic";
    KILN_RETURN_IF_ERROR(OptString(o, "type", at + ".type", 40, &e.type));
    if (e.type.empty()) return Status::InvalidArgument("is required", at + ".type");
    if (e.type != "bounce" && e.type != "complaint" && e.type != "delivered" &&
        e.type != "unsubscribe") {
      return Status::InvalidArgument("must be one of bounce, complaint, delivered, unsubscribe",
                                     at + ".type");
    }
    KILN_RETURN_IF_ERROR(OptString(o, "id", at + ".id", 200, &e.id));
    KILN_RETURN_IF_ERROR(OptString(o, "message_id", at + ".message_id", 998, &e.message_id));
    KILN_RETURN_IF_ERROR(OptString(o, "email", at + ".email", 320, &e.email));
    KILN_RETURN_IF_ERROR(OptString(o, "bounce_type", at + ".bounce_type", 10, &e.bounce_type));
    KILN_RETURN_IF_ERROR(OptString(o, "reason", at + ".reason", 1000, &e.reason));
    KILN_ASSIGN_OR_RETURN(e.timestamp_ms,
                          ReadTimestamp(o.if_contains("timestamp"), at + ".timestamp"));
    e.message_id = Bracketed(e.message_id);
    if (e.message_id.empty() && e.email.empty()) {
      return Status::InvalidArgument("needs message_id or email", at + ".message_id");
    }
    if (!e.email.empty() && !domain::NormalizeEmailAddress(e.email).ok()) {
      return Status::InvalidArgument("must be an email address", at + ".email");
    }
    if (e.type == "bounce") {
      if (e.bounce_type != "hard" && e.bounce_type != "soft") {
        return Status::InvalidArgument("must be hard or soft for a bounce", at + ".bounce_type");
      }
    } else if (!e.bounce_type.empty()) {
      return Status::InvalidArgument("is only for bounces", at + ".bounce_type");
    }
    if (e.id.empty()) {
      // No provider id: the content is the identity, so a replay of the same event is one event.
      e.id = "sha256:" + auth::Sha256Hex(json::serialize(o));
    }
    out.push_back(std::move(e));
  }
  return out;
}

bool IsMailgunPayload(const json::object& body) {
  const json::value* sig = body.if_contains("signature");
  const json::value* data = body.if_contains("event-data");
  return sig && sig->is_object() && data && data->is_object();
}

Result<ProviderEvent> ParseMailgunEvent(const json::object& body, std::string_view signing_key,
                                        int64_t now_ms, int64_t tolerance_s) {
  if (!IsMailgunPayload(body)) {
    return Status::InvalidArgument("must be an object (Mailgun's format)", "event-data");
  }
  const json::object& sig = body.at("signature").as_object();
  std::string timestamp, token, signature;
  KILN_RETURN_IF_ERROR(OptString(sig, "timestamp", "signature.timestamp", 20, &timestamp));
  KILN_RETURN_IF_ERROR(OptString(sig, "token", "signature.token", 200, &token));
  KILN_RETURN_IF_ERROR(OptString(sig, "signature", "signature.signature", 200, &signature));
  if (timestamp.empty() || token.empty() || signature.empty()) {
    return Status::Unauthenticated(
        "Mailgun signature incomplete: timestamp, token and signature "
        "are required");
  }
  const std::string expected = auth::HexEncode(auth::HmacSha256(signing_key, timestamp + token));
  std::string given = signature;
  for (char& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!auth::ConstantTimeEqual(given, expected)) {
    return Status::Unauthenticated("Mailgun signature does not match the signing key");
  }
  int64_t ts = 0;
  try {
    size_t used = 0;
    ts = std::stoll(timestamp, &used);
    if (used != timestamp.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    return Status::Unauthenticated("Mailgun signature timestamp is not a number");
  }
  // Bounded first, so the difference below cannot overflow.
  if (ts < 0 || ts > 32'503'680'000 || std::llabs(now_ms / 1000 - ts) > tolerance_s) {
    return Status::Unauthenticated("Mailgun signature timestamp is more than " +
                                   std::to_string(tolerance_s) + " s from now: a replay");
  }
  const json::object& d = body.at("event-data").as_object();
  ProviderEvent e;
  e.provider = "mailgun";
  std::string event, severity;
  KILN_RETURN_IF_ERROR(OptString(d, "event", "event-data.event", 40, &event));
  KILN_RETURN_IF_ERROR(OptString(d, "id", "event-data.id", 200, &e.id));
  KILN_RETURN_IF_ERROR(OptString(d, "recipient", "event-data.recipient", 320, &e.email));
  KILN_RETURN_IF_ERROR(OptString(d, "severity", "event-data.severity", 20, &severity));
  KILN_RETURN_IF_ERROR(OptString(d, "reason", "event-data.reason", 1000, &e.reason));
  KILN_ASSIGN_OR_RETURN(e.timestamp_ms,
                        ReadTimestamp(d.if_contains("timestamp"), "event-data.timestamp"));
  if (event.empty()) return Status::InvalidArgument("is required", "event-data.event");
  if (e.id.empty()) return Status::InvalidArgument("is required", "event-data.id");
  if (const json::value* msg = d.if_contains("message"); msg && msg->is_object()) {
    if (const json::value* h = msg->as_object().if_contains("headers"); h && h->is_object()) {
      KILN_RETURN_IF_ERROR(OptString(h->as_object(), "message-id",
                                     "event-data.message.headers.message-id", 998, &e.message_id));
    }
  }
  e.message_id = Bracketed(e.message_id);
  if (const json::value* ds = d.if_contains("delivery-status"); ds && ds->is_object()) {
    std::string description, message;
    KILN_RETURN_IF_ERROR(OptString(ds->as_object(), "description",
                                   "event-data.delivery-status.description", 1000, &description));
    KILN_RETURN_IF_ERROR(OptString(ds->as_object(), "message", "event-data.delivery-status.message",
                                   1000, &message));
    std::string diag = !description.empty() ? description : message;
    if (!diag.empty()) e.reason = e.reason.empty() ? diag : e.reason + ": " + diag;
  }
  if (event == "failed") {
    e.type = "bounce";
    if (severity == "permanent") {
      e.bounce_type = "hard";
    } else if (severity == "temporary") {
      e.bounce_type = "soft";
    } else {
      return Status::InvalidArgument("must be permanent or temporary for a failed event",
                                     "event-data.severity");
    }
  } else if (event == "complained") {
    e.type = "complaint";
  } else if (event == "unsubscribed") {
    e.type = "unsubscribe";
  } else if (event == "delivered") {
    e.type = "delivered";
  } else {
    e.type.clear();  // accepted, opened, clicked, stored...: Kiln tracks those itself
  }
  if (!e.type.empty() && e.message_id.empty() && e.email.empty()) {
    return Status::InvalidArgument("needs a recipient or message.headers.message-id",
                                   "event-data.recipient");
  }
  return e;
}

bool IsPostmarkPayload(const json::object& body) {
  const json::value* type = body.if_contains("RecordType");
  return type && type->is_string();
}

namespace {

// Postmark's times come from .NET with up to 7 fractional digits ("2019-11-05T16:33:54.9070259Z",
// "...10.2735393-04:00"): milliseconds are all Kiln keeps, so the rest is dropped before parsing.
Result<std::optional<int64_t>> ReadPostmarkTime(const json::object& o, std::string_view key) {
  std::string text;
  KILN_RETURN_IF_ERROR(OptString(o, key, std::string(key), 64, &text));
  if (text.empty()) return std::optional<int64_t>();
  if (size_t dot = text.find('.'); dot != std::string::npos) {
    size_t end = dot + 1;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    if (end - dot - 1 > 3) text.erase(dot + 4, end - dot - 4);
  }
  auto ms = ParseIso8601(text);
  if (!ms.ok()) return Status::InvalidArgument("must be an ISO 8601 time", std::string(key));
  return std::optional<int64_t>(*ms);
}

// Postmark's numeric ID (a JSON integer; a string of digits is taken too).
Status ReadPostmarkId(const json::object& o, std::string* out) {
  const json::value* v = o.if_contains("ID");
  if (v && v->is_int64() && v->as_int64() >= 0) {
    *out = std::to_string(v->as_int64());
  } else if (v && v->is_uint64()) {
    *out = std::to_string(v->as_uint64());
  } else if (v && v->is_string() && !v->as_string().empty() && v->as_string().size() <= 40 &&
             std::all_of(v->as_string().begin(), v->as_string().end(),
                         [](char c) { return c >= '0' && c <= '9'; })) {
    *out = std::string(v->as_string());
  } else {
    return Status::InvalidArgument(v ? "must be a non-negative integer" : "is required", "ID");
  }
  return Status::Ok();
}

}  // namespace

Result<ProviderEvent> ParsePostmarkEvent(const json::object& body) {
  std::string record_type;
  KILN_RETURN_IF_ERROR(OptString(body, "RecordType", "RecordType", 40, &record_type));
  if (record_type.empty()) return Status::InvalidArgument("is required", "RecordType");
  ProviderEvent e;
  e.provider = "postmark";
  // Postmark's MessageID is its own id, not the Message-ID header Kiln wrote: events are matched
  // by the recipient's address (the latest message sent to it).
  if (record_type == "Bounce" || record_type == "SpamComplaint") {
    std::string id, type, description, details;
    KILN_RETURN_IF_ERROR(ReadPostmarkId(body, &id));
    KILN_RETURN_IF_ERROR(OptString(body, "Type", "Type", 40, &type));
    KILN_RETURN_IF_ERROR(OptString(body, "Email", "Email", 320, &e.email));
    KILN_RETURN_IF_ERROR(OptString(body, "Description", "Description", 1000, &description));
    KILN_RETURN_IF_ERROR(OptString(body, "Details", "Details", 1000, &details));
    KILN_ASSIGN_OR_RETURN(e.timestamp_ms, ReadPostmarkTime(body, "BouncedAt"));
    if (e.email.empty()) return Status::InvalidArgument("is required", "Email");
    if (!domain::NormalizeEmailAddress(e.email).ok()) {
      return Status::InvalidArgument("must be an email address", "Email");
    }
    e.id = "bounce:" + id;  // bounces and spam complaints share one ID sequence
    e.reason = type;
    for (const std::string* part : {&description, &details}) {
      if (!part->empty()) e.reason += (e.reason.empty() ? "" : ": ") + *part;
    }
    if (e.reason.size() > 1000) e.reason.resize(1000);
    if (record_type == "SpamComplaint" || type == "SpamComplaint") {
      e.type = "complaint";
    } else if (type == "HardBounce" || type == "BadEmailAddress") {
      e.type = "bounce";
      e.bounce_type = "hard";
    } else if (type == "SoftBounce" || type == "Transient" || type == "DnsError" ||
               type == "Blocked" || type == "DMARCPolicy" || type == "Unknown") {
      // Refused or deferred for now (or for reasons the mailbox may lift): recorded, not
      // suppressed.
      e.type = "bounce";
      e.bounce_type = "soft";
    } else if (type == "Unsubscribe") {
      e.type = "unsubscribe";
    } else if (type.empty()) {
      return Status::InvalidArgument("is required", "Type");
    } else {
      // AutoResponder, Subscribe, AddressChange, ManuallyDeactivated, ...: not about delivery.
      e.type.clear();
    }
    return e;
  }
  if (record_type == "Delivery") {
    std::string message_id, details;
    KILN_RETURN_IF_ERROR(OptString(body, "MessageID", "MessageID", 200, &message_id));
    KILN_RETURN_IF_ERROR(OptString(body, "Recipient", "Recipient", 320, &e.email));
    KILN_RETURN_IF_ERROR(OptString(body, "Details", "Details", 1000, &details));
    KILN_ASSIGN_OR_RETURN(e.timestamp_ms, ReadPostmarkTime(body, "DeliveredAt"));
    if (message_id.empty()) return Status::InvalidArgument("is required", "MessageID");
    if (e.email.empty()) return Status::InvalidArgument("is required", "Recipient");
    if (!domain::NormalizeEmailAddress(e.email).ok()) {
      return Status::InvalidArgument("must be an email address", "Recipient");
    }
    // One delivery per message and recipient.
    e.id = "delivery:" + message_id + ":" + e.email;
    e.type = "delivered";
    e.reason = details;
    return e;
  }
  if (record_type == "SubscriptionChange") {
    // Only a recipient's own unsubscribe is news: bounces and complaints come as their own
    // records, and reactivations are for a person to decide.
    std::string reason;
    KILN_RETURN_IF_ERROR(OptString(body, "Recipient", "Recipient", 320, &e.email));
    KILN_RETURN_IF_ERROR(OptString(body, "SuppressionReason", "SuppressionReason", 40, &reason));
    KILN_ASSIGN_OR_RETURN(e.timestamp_ms, ReadPostmarkTime(body, "ChangedAt"));
    const json::value* suppress = body.if_contains("SuppressSending");
    if (suppress && !suppress->is_bool()) {
      return Status::InvalidArgument("must be true or false", "SuppressSending");
    }
    e.id = "sha256:" + auth::Sha256Hex(json::serialize(body));
    if (suppress && suppress->as_bool() && reason == "ManualSuppression") {
      if (e.email.empty()) return Status::InvalidArgument("is required", "Recipient");
      if (!domain::NormalizeEmailAddress(e.email).ok()) {
        return Status::InvalidArgument("must be an email address", "Recipient");
      }
      e.type = "unsubscribe";
      e.reason = "unsubscribed through Postmark";
    }
    return e;
  }
  // Open and Click (Kiln counts opens and clicks with its own tracking, so the provider's would
  // count them twice), Inbound and anything newer: acknowledged and ignored.
  e.id = "sha256:" + auth::Sha256Hex(json::serialize(body));
  return e;
}

namespace {

struct Matched {
  int64_t message_id = 0, campaign_id = 0, contact_id = 0;
  std::string email;
};

std::string SuppressionKey(std::string_view address) {
  auto normalized = domain::NormalizeEmailAddress(address);
  return domain::EmailKey(normalized.ok() ? *normalized : std::string(address));
}

Result<std::optional<Matched>> Match(store::Tx& tx, int64_t ws, const ProviderEvent& e) {
  std::optional<store::Row> row;
  if (!e.message_id.empty()) {
    KILN_ASSIGN_OR_RETURN(row, tx.QueryOne("webhooks.message_by_header", {ws, e.message_id}));
  }
  if (!row && !e.email.empty()) {
    KILN_ASSIGN_OR_RETURN(row, tx.QueryOne("webhooks.message_by_email", {ws, e.email}));
  }
  if (!row) return std::optional<Matched>();
  return std::optional<Matched>(
      Matched{row->Int("id"), row->Int("campaign_id"), row->Int("contact_id"), row->Text("email")});
}

// The lead can no longer be mailed: status, every running sequence, every message waiting to go
// (the inbox watcher's statements, so both paths have the same effects).
Status StopLead(store::Tx& tx, int64_t ws, int64_t contact_id, std::string_view contact_status,
                std::string_view enrolment_status, std::string_view reason,
                std::string_view cancel_error, int64_t now) {
  KILN_RETURN_IF_ERROR(
      tx.Exec("inbox.contact_set_status", {ws, contact_id, contact_status, now}).status());
  KILN_RETURN_IF_ERROR(
      tx.Exec("inbox.stop_all_enrolments", {ws, contact_id, enrolment_status, reason, now})
          .status());
  return tx.Exec("inbox.cancel_contact_messages", {ws, contact_id, cancel_error, now}).status();
}

}  // namespace

Result<InboundCounts> RecordProviderEvents(store::Tx& tx, int64_t ws,
                                           const std::vector<ProviderEvent>& events, int64_t now) {
  InboundCounts counts;
  for (const ProviderEvent& e : events) {
    ++counts.received;
    KILN_ASSIGN_OR_RETURN(
        auto m, e.type.empty() ? Result<std::optional<Matched>>(std::nullopt) : Match(tx, ws, e));
    std::optional<int64_t> message_id;
    if (m) message_id = m->message_id;
    const std::string outcome = e.type.empty() ? "ignored" : (m ? "recorded" : "unmatched");
    KILN_ASSIGN_OR_RETURN(int64_t fresh,
                          tx.Exec("webhooks.inbound_claim",
                                  {ws, e.provider, e.id, e.type.empty() ? "ignored" : e.type,
                                   message_id, outcome, now}));
    if (fresh == 0) {
      ++counts.duplicates;
      continue;
    }
    if (e.type.empty()) {
      ++counts.ignored;
      continue;
    }
    // The address and lead the event is about: the matched message's, else the one it names.
    std::string address = m ? m->email : e.email;
    std::optional<int64_t> contact_id;
    if (m) {
      contact_id = m->contact_id;
    } else if (!e.email.empty()) {
      KILN_ASSIGN_OR_RETURN(auto c, tx.QueryOne("webhooks.contact_by_email", {ws, e.email}));
      if (c) contact_id = c->Int("id");
    }
    if (m) {
      ++counts.recorded;
    } else {
      ++counts.unmatched;
    }
    json::object detail{{"source", "provider"},
                        {"provider", e.provider},
                        {"provider_event_id", e.id},
                        {"reason", e.reason}};
    if (e.timestamp_ms) detail["provider_time"] = FormatIso8601(*e.timestamp_ms);
    std::string source = e.provider + ":" + e.id.substr(0, 100);
    if (e.type == "delivered") continue;
    if (e.type == "bounce") {
      detail["kind"] = e.bounce_type;
      if (m) {
        KILN_RETURN_IF_ERROR(
            tx.Exec("inbox.insert_event", {ws, m->message_id, m->campaign_id, "bounced",
                                           json::serialize(detail), false, now})
                .status());
      }
      if (e.bounce_type != "hard") continue;
      if (m) {
        std::string error = "bounced (" + e.provider + ")";
        if (!e.reason.empty()) error += ": " + e.reason;
        if (error.size() > 1000) error.resize(1000);
        KILN_RETURN_IF_ERROR(
            tx.Exec("inbox.message_mark_bounced", {ws, m->message_id, now, std::nullopt, error})
                .status());
      }
      if (!address.empty()) {
        KILN_RETURN_IF_ERROR(
            tx.Exec("inbox.suppress", {ws, SuppressionKey(address), "bounced", source, now})
                .status());
      }
      if (contact_id) {
        KILN_RETURN_IF_ERROR(
            StopLead(tx, ws, *contact_id, "bounced", "bounced", "bounced", "lead bounced", now));
      }
      continue;
    }
    const bool complaint = e.type == "complaint";
    if (m) {
      KILN_RETURN_IF_ERROR(tx.Exec("inbox.insert_event", {ws, m->message_id, m->campaign_id,
                                                          complaint ? "complained" : "unsubscribed",
                                                          json::serialize(detail), false, now})
                               .status());
    }
    if (!address.empty()) {
      KILN_RETURN_IF_ERROR(
          tx.Exec("inbox.suppress", {ws, SuppressionKey(address),
                                     complaint ? "complained" : "unsubscribed", source, now})
              .status());
    }
    if (contact_id) {
      KILN_RETURN_IF_ERROR(StopLead(tx, ws, *contact_id, "unsubscribed", "unsubscribed",
                                    complaint ? "complained" : "unsubscribed",
                                    complaint ? "lead complained" : "lead unsubscribed", now));
    }
  }
  return counts;
}

}  // namespace kiln::webhooks
