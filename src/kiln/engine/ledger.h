// Ledger: the durable record of every message the engine sends, and the only code that moves a
// message through its states. It is what makes sending exactly-once-or-surfaced
// (docs/decisions/0004-exactly-once.md):
//
//   Schedule   creates the message (campaign, contact, step) in state `scheduled`, or finds it;
//   Claim      moves it to `sending` under this worker's id and a lease, in a committed
//              transaction, BEFORE any SMTP is spoken; only one claimer can win;
//              (ScheduleAndClaim does both in one transaction, the engine's path);
//   Record*    settles the claim in a second transaction: `sent`, `retry` (transient failure, with
//              the time of the next attempt), `failed` or `bounced`; the caller may add its own
//              writes that follow from the outcome (the lead's next step) to that transaction;
//   ReapLapsed marks a `sending` message whose lease ran out `unknown` (the worker died between
//              claim and record: the server may or may not have the message) with an `unknown`
//              event. Nothing ever moves an `unknown` message back to a sendable state.
//
// Every transition is guarded by the state it expects, so concurrent workers (threads or
// processes on one PostgreSQL) cannot both claim or both settle a message.
// Thread-safety: a Ledger is thread-safe (it holds no mutable state; the Database is thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/store/db.h"

namespace kiln::engine {

// The idempotency key of a message, plus the workspace it belongs to.
struct MessageKey {
  int64_t workspace_id = 0;
  int64_t campaign_id = 0;
  int64_t contact_id = 0;
  int64_t step_id = 0;
};

enum class MessageStatus {
  kScheduled,
  kSending,
  kSent,
  kRetry,
  kFailed,
  kBounced,
  kCanceled,
  kUnknown,
};
std::string_view MessageStatusName(MessageStatus s);  // "scheduled", ...
Result<MessageStatus> ParseMessageStatus(std::string_view name);

// A message as the ledger sees it.
struct MessageRecord {
  int64_t id = 0;
  MessageKey key;
  std::optional<int64_t> variant_id;
  std::optional<int64_t> sender_id;
  MessageStatus status = MessageStatus::kScheduled;
  int attempts = 0;
  std::string message_id_header;  // "<...>" once claimed
  std::string claimed_by;
  std::optional<int64_t> lease_until;
  std::optional<int64_t> next_attempt_at;
  std::optional<int64_t> sent_at;
  std::string error;
};

// What is fixed at claim time: the sender and the headers the message is sent with.
struct ClaimDetails {
  int64_t sender_id = 0;
  std::string subject;
  std::string message_id_header;   // "<id@domain>"
  std::string in_reply_to_header;  // "" for a first step
  std::string thread_root_header;  // "" for a first step
};

// The SMTP side of an outcome, as stored on the message.
struct SmtpOutcome {
  int code = 0;
  std::string enhanced;  // "5.1.1"; "" when none
  std::string response;  // the server's reply text
  std::string error;     // human-readable reason; "" when sent
};

// Writes a caller adds to the transaction that records an outcome (e.g. advancing the lead), so
// the outcome and what follows from it commit together or not at all.
using RecordAlso = std::function<Status(store::Tx&)>;

// What ScheduleAndClaim found and did.
struct ScheduledClaim {
  MessageRecord message;  // as stored after the call (`sending` under this worker when claimed)
  bool claimed = false;   // this call won the claim; the caller must send and Record* it
};

class Ledger {
 public:
  // `worker_id` names this worker in claims (e.g. "host:pid:random"); `lease` is how long a
  // claim may stay unsettled before ReapLapsed may declare it unknown. It must exceed the longest
  // send (connect + DATA timeouts) by a margin.
  Ledger(store::Database& db, const Clock& clock, std::string worker_id, Millis lease);

  const std::string& worker_id() const { return worker_id_; }
  Millis lease() const { return lease_; }

  // Creates the message in state `scheduled` unless (campaign, contact, step) already exists,
  // and returns it as stored (in whatever state it is). Fails with the database's error.
  Result<MessageRecord> Schedule(const MessageKey& key, std::optional<int64_t> variant_id,
                                 std::optional<int64_t> sender_id, int64_t scheduled_at_ms);

  // Claims message `id` for this worker: `scheduled`, or `retry` whose next attempt is due,
  // becomes `sending` with a lease until now + lease, and the transaction commits before this
  // returns. Returns true when this call won the claim, false when the message is in any other
  // state (already sent, claimed by someone else, unknown, not due). Fails only on database
  // errors; then the message was not claimed.
  Result<bool> Claim(int64_t id, const ClaimDetails& details);

  // Schedule and Claim in one committed transaction: creates or finds the message; when it is
  // claimable now (`scheduled`, or `retry` whose next attempt is due) calls `details_for` with the
  // message as stored (its id, an existing Message-ID header to reuse) and claims it with the
  // details returned. `details_for` runs inside the write transaction, so it must be quick (no
  // I/O). Success: the message and whether this call claimed it (false: any other state, or
  // another worker won). Failure: the database failed or `details_for` failed (its error is
  // returned and nothing was written).
  Result<ScheduledClaim> ScheduleAndClaim(
      const MessageKey& key, std::optional<int64_t> variant_id, std::optional<int64_t> sender_id,
      int64_t scheduled_at_ms,
      const std::function<Result<ClaimDetails>(const MessageRecord&)>& details_for);

  // Settle this worker's claim on `id` and add the matching event, in one transaction, together
  // with `also` when given (run after the settle; its failure rolls everything back and is
  // returned). Each fails with FailedPrecondition (naming the message and its state) when the
  // message is not `sending`/`unknown` under this worker's claim, i.e. the caller does not hold
  // the claim.
  Status RecordSent(int64_t id, const SmtpOutcome& outcome, const RecordAlso& also = nullptr);
  Status RecordRetry(int64_t id, const SmtpOutcome& outcome, int64_t next_attempt_at_ms,
                     const RecordAlso& also = nullptr);
  // `bounced` true: the recipient was refused permanently (status `bounced`); else `failed`.
  Status RecordFailed(int64_t id, const SmtpOutcome& outcome, bool bounced,
                      const RecordAlso& also = nullptr);

  // Marks up to `limit` `sending` messages whose lease has lapsed `unknown`, each with an
  // `unknown` event naming the worker that held it. Returns how many were marked.
  Result<int> ReapLapsed(int limit = 1000);

  // The message `id`, or NotFound.
  Result<MessageRecord> Get(int64_t id);
  // Messages of a campaign in state `unknown` (surfaced in the API and the dashboard).
  Result<int64_t> CountUnknown(int64_t workspace_id, int64_t campaign_id);

 private:
  Status Settle(int64_t id, std::string_view query, const store::Params& params,
                std::string_view event_type, const SmtpOutcome& outcome, const RecordAlso& also);

  store::Database& db_;
  const Clock& clock_;
  std::string worker_id_;
  Millis lease_;
};

}  // namespace kiln::engine
