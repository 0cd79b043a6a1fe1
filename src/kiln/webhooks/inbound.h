// Inbound provider events: bounces, complaints, unsubscribes and deliveries reported by an email
// provider's webhook (POST /api/webhooks/provider/{token}), in Kiln's generic JSON or Mailgun's or
// Postmark's native format, recorded with the same effects as the inbox watcher's bounces and
// complaints.
//
// Generic:  {"events":[{"type":"bounce"|"complaint"|"delivered"|"unsubscribe", "id"?,
//            "message_id"? (our Message-ID, with or without <>), "email"?, "bounce_type"?:
//            "hard"|"soft" (required for a bounce), "reason"?, "timestamp"? (Unix seconds or ISO
//            8601)}]}, 1..1000 events, each naming message_id or email.
// Mailgun:  {"signature":{"timestamp","token","signature"}, "event-data":{"event","id",
//            "severity","reason","recipient","message":{"headers":{"message-id"}},…}}, signed
//            with the workspace's Mailgun HTTP webhook signing key: hex HMAC-SHA256(key,
//            timestamp + token); events "failed" (severity permanent = hard bounce, temporary =
//            soft), "complained", "unsubscribed", "delivered"; other events are acknowledged and
//            ignored.
// Postmark: one record per request, told apart by "RecordType" (its webhooks carry no
//            signature: the secret token in the URL is the credential, as for the other formats).
//            "Bounce" {"ID","Type","Email","Description","Details","BouncedAt"}: Type HardBounce
//            or BadEmailAddress = hard bounce; SoftBounce, Transient, DnsError, Blocked,
//            DMARCPolicy, Unknown = soft; SpamComplaint = complaint; Unsubscribe = unsubscribe;
//            other types are ignored. "SpamComplaint" (same fields) = complaint. "Delivery"
//            {"MessageID","Recipient","DeliveredAt"} = delivered. "SubscriptionChange" with
//            SuppressSending true and SuppressionReason ManualSuppression = unsubscribe.
//            "Open", "Click" and other records are acknowledged and ignored (Kiln's own tracking
//            counts opens and clicks). Postmark's MessageID is its own id, not the Message-ID
//            header, so Postmark events are matched by the recipient's address.
//
// Recording (RecordProviderEvents, one transaction for the whole batch): each event is entered
// in inbound_provider_events under (workspace, provider, provider event id) first, so a replayed
// event changes nothing (an event without an id is keyed by a hash of its content). The message is
// matched by Message-ID, else as the latest message sent to the address. A matched bounce,
// complaint or unsubscribe records the event ('bounced' with kind and reason, 'complained',
// 'unsubscribed'); a hard bounce marks the message bounced; hard bounces, complaints and
// unsubscribes suppress the address workspace-wide, set the lead's status and stop every running
// sequence of the lead (also when only the address is known and it is a lead). 'delivered' is
// entered in the ledger only (events has no such type).
//
// Pure parsing functions plus one function over a caller's transaction; thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"
#include "kiln/store/db.h"

namespace kiln::webhooks {

struct ProviderEvent {
  std::string provider;     // "generic", "mailgun", "postmark"
  std::string id;           // the provider's event id (or a content hash)
  std::string type;         // bounce, complaint, delivered, unsubscribe; "" = ignored
  std::string message_id;   // "<...>" or ""
  std::string email;        // as given, or ""
  std::string bounce_type;  // hard, soft, or ""
  std::string reason;
  std::optional<int64_t> timestamp_ms;
};

inline constexpr size_t kMaxInboundEvents = 1000;

// Parses the generic format. InvalidArgument naming the field path ("events[3].type").
Result<std::vector<ProviderEvent>> ParseGenericEvents(const boost::json::object& body);

// True when `body` has Mailgun's shape (signature and event-data objects).
bool IsMailgunPayload(const boost::json::object& body);

// Checks Mailgun's signature with `signing_key` and parses its event. Unauthenticated when the
// signature does not match or its timestamp is more than `tolerance_s` from now (a replay);
// InvalidArgument naming the field path ("event-data.severity") for malformed input.
Result<ProviderEvent> ParseMailgunEvent(const boost::json::object& body,
                                        std::string_view signing_key, int64_t now_ms,
                                        int64_t tolerance_s = 86'400);

// True when `body` has Postmark's shape (a string RecordType).
bool IsPostmarkPayload(const boost::json::object& body);

// Parses one Postmark webhook record (see above). InvalidArgument naming the field ("Email") for
// malformed input; a record Kiln does not act on has type "".
Result<ProviderEvent> ParsePostmarkEvent(const boost::json::object& body);

struct InboundCounts {
  int64_t received = 0;
  int64_t recorded = 0;    // new events matched to a message (or a lead) and applied
  int64_t unmatched = 0;   // new events naming nothing Kiln sent
  int64_t duplicates = 0;  // seen before (replays)
  int64_t ignored = 0;     // kinds Kiln does not act on
};

// Records `events` of workspace `ws` (see above) in `tx`. Fails only when the database fails.
Result<InboundCounts> RecordProviderEvents(store::Tx& tx, int64_t ws,
                                           const std::vector<ProviderEvent>& events,
                                           int64_t now_ms);

}  // namespace kiln::webhooks
