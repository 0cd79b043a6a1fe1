#include "kiln/engine/ledger.h"

#include <array>
#include <boost/json.hpp>
#include <utility>

namespace kiln::engine {
namespace {

constexpr std::array<std::pair<MessageStatus, std::string_view>, 8> kStatusNames{{
    {MessageStatus::kScheduled, "scheduled"},
    {MessageStatus::kSending, "sending"},
    {MessageStatus::kSent, "sent"},
    {MessageStatus::kRetry, "retry"},
    {MessageStatus::kFailed, "failed"},
    {MessageStatus::kBounced, "bounced"},
    {MessageStatus::kCanceled, "canceled"},
    {MessageStatus::kUnknown, "unknown"},
}};

Result<MessageRecord> FromRow(const store::Row& row) {
  MessageRecord m;
  m.id = row.Int("id");
  m.key.workspace_id = row.Int("workspace_id");
  m.key.campaign_id = row.Int("campaign_id");
  m.key.contact_id = row.Int("contact_id");
  m.key.step_id = row.Int("step_id");
  m.variant_id = row.OptInt("variant_id");
  m.sender_id = row.OptInt("sender_id");
  KILN_ASSIGN_OR_RETURN(m.status, ParseMessageStatus(row.Text("status")));
  m.attempts = static_cast<int>(row.Int("attempts"));
  m.message_id_header = row.Text("message_id_header");
  m.claimed_by = row.Text("claimed_by");
  m.lease_until = row.OptInt("lease_until");
  m.next_attempt_at = row.OptInt("next_attempt_at");
  m.sent_at = row.OptInt("sent_at");
  m.error = row.Text("error");
  return m;
}

std::string OutcomeDetail(const SmtpOutcome& o) {
  boost::json::object detail;
  if (o.code != 0) detail["smtp_code"] = o.code;
  if (!o.enhanced.empty()) detail["smtp_enhanced_code"] = o.enhanced;
  if (!o.response.empty()) detail["smtp_response"] = o.response;
  if (!o.error.empty()) detail["reason"] = o.error;
  return boost::json::serialize(detail);
}

store::Value OptText(const std::string& s) { return s.empty() ? store::Value() : store::Value(s); }
store::Value OptCode(int code) { return code == 0 ? store::Value() : store::Value(code); }

}  // namespace

std::string_view MessageStatusName(MessageStatus s) {
  for (const auto& [status, name] : kStatusNames) {
    if (status == s) return name;
  }
  std::abort();  // every enumerator is in the table
}

Result<MessageStatus> ParseMessageStatus(std::string_view name) {
  for (const auto& [status, n] : kStatusNames) {
    if (n == name) return status;
  }
  return Status::Internal("messages.status holds an unknown state '" + std::string(name) + "'");
}

Ledger::Ledger(store::Database& db, const Clock& clock, std::string worker_id, Millis lease)
    : db_(db), clock_(clock), worker_id_(std::move(worker_id)), lease_(lease) {}

Result<MessageRecord> Ledger::Schedule(const MessageKey& key, std::optional<int64_t> variant_id,
                                       std::optional<int64_t> sender_id, int64_t scheduled_at_ms) {
  std::optional<MessageRecord> record;
  Status s = db_.Write([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(tx.Exec("engine.message_schedule",
                                 {key.workspace_id, key.campaign_id, key.contact_id, key.step_id,
                                  variant_id, sender_id, scheduled_at_ms, clock_.NowMillis()})
                             .status());
    KILN_ASSIGN_OR_RETURN(
        store::Row row,
        tx.QueryRow("engine.message_by_key", {key.campaign_id, key.contact_id, key.step_id},
                    "message vanished right after it was scheduled"));
    KILN_ASSIGN_OR_RETURN(record, FromRow(row));
    return Status::Ok();
  });
  if (!s.ok()) {
    return s.WithContext("scheduling message (campaign " + std::to_string(key.campaign_id) +
                         ", contact " + std::to_string(key.contact_id) + ", step " +
                         std::to_string(key.step_id) + ")");
  }
  return std::move(*record);
}

Result<bool> Ledger::Claim(int64_t id, const ClaimDetails& d) {
  const int64_t now = clock_.NowMillis();
  int64_t changed = 0;
  Status s = db_.Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(
        changed, tx.Exec("engine.message_claim",
                         {id, worker_id_, now + lease_.count(), now, d.sender_id, d.subject,
                          d.message_id_header, OptText(d.in_reply_to_header),
                          OptText(d.thread_root_header)}));
    return Status::Ok();
  });
  if (!s.ok()) return s.WithContext("claiming message " + std::to_string(id));
  return changed == 1;
}

Result<ScheduledClaim> Ledger::ScheduleAndClaim(
    const MessageKey& key, std::optional<int64_t> variant_id, std::optional<int64_t> sender_id,
    int64_t scheduled_at_ms,
    const std::function<Result<ClaimDetails>(const MessageRecord&)>& details_for) {
  const int64_t now = clock_.NowMillis();
  ScheduledClaim result;
  Status s = db_.Write([&](store::Tx& tx) -> Status {
    result = ScheduledClaim();
    KILN_RETURN_IF_ERROR(tx.Exec("engine.message_schedule",
                                 {key.workspace_id, key.campaign_id, key.contact_id, key.step_id,
                                  variant_id, sender_id, scheduled_at_ms, now})
                             .status());
    KILN_ASSIGN_OR_RETURN(
        store::Row row,
        tx.QueryRow("engine.message_by_key", {key.campaign_id, key.contact_id, key.step_id},
                    "message vanished right after it was scheduled"));
    KILN_ASSIGN_OR_RETURN(result.message, FromRow(row));
    MessageRecord& m = result.message;
    const bool claimable =
        m.status == MessageStatus::kScheduled ||
        (m.status == MessageStatus::kRetry && m.next_attempt_at.value_or(0) <= now);
    if (!claimable) return Status::Ok();
    KILN_ASSIGN_OR_RETURN(ClaimDetails d, details_for(m));
    KILN_ASSIGN_OR_RETURN(int64_t changed,
                          tx.Exec("engine.message_claim",
                                  {m.id, worker_id_, now + lease_.count(), now, d.sender_id,
                                   d.subject, d.message_id_header, OptText(d.in_reply_to_header),
                                   OptText(d.thread_root_header)}));
    if (changed != 1) return Status::Ok();
    // As message_claim stored it, without reading the row again.
    m.status = MessageStatus::kSending;
    m.claimed_by = worker_id_;
    m.lease_until = now + lease_.count();
    ++m.attempts;
    m.sender_id = d.sender_id;
    m.message_id_header = d.message_id_header;
    result.claimed = true;
    return Status::Ok();
  });
  if (!s.ok()) {
    return s.WithContext("scheduling and claiming message (campaign " +
                         std::to_string(key.campaign_id) + ", contact " +
                         std::to_string(key.contact_id) + ", step " + std::to_string(key.step_id) +
                         ")");
  }
  return result;
}

Status Ledger::Settle(int64_t id, std::string_view query, const store::Params& params,
                      std::string_view event_type, const SmtpOutcome& outcome,
                      const RecordAlso& also) {
  const int64_t now = clock_.NowMillis();
  return db_.Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(int64_t changed, tx.Exec(query, params));
    KILN_ASSIGN_OR_RETURN(store::Row row,
                          tx.QueryRow("engine.message_get", {id},
                                      "message " + std::to_string(id) + " does not exist"));
    if (changed != 1) {
      return Status::FailedPrecondition(
          "message " + std::to_string(id) + " is '" + row.Text("status") + "' claimed by '" +
          row.Text("claimed_by") + "', not a claim of worker '" + worker_id_ + "'");
    }
    KILN_RETURN_IF_ERROR(
        tx.Exec("engine.event_insert", {row.Int("workspace_id"), id, row.Int("campaign_id"),
                                        std::string(event_type), OutcomeDetail(outcome), now})
            .status());
    return also ? also(tx) : Status::Ok();
  });
}

Status Ledger::RecordSent(int64_t id, const SmtpOutcome& o, const RecordAlso& also) {
  const int64_t now = clock_.NowMillis();
  return Settle(id, "engine.message_record_sent",
                {id, worker_id_, now, OptCode(o.code), OptText(o.enhanced), OptText(o.response)},
                "sent", o, also);
}

Status Ledger::RecordRetry(int64_t id, const SmtpOutcome& o, int64_t next_attempt_at_ms,
                           const RecordAlso& also) {
  const int64_t now = clock_.NowMillis();
  return Settle(id, "engine.message_record_retry",
                {id, worker_id_, now, next_attempt_at_ms, OptCode(o.code), OptText(o.enhanced),
                 OptText(o.response), o.error},
                "deferred", o, also);
}

Status Ledger::RecordFailed(int64_t id, const SmtpOutcome& o, bool bounced,
                            const RecordAlso& also) {
  const int64_t now = clock_.NowMillis();
  const std::string status = bounced ? "bounced" : "failed";
  return Settle(id, "engine.message_record_failed",
                {id, worker_id_, now, OptCode(o.code), OptText(o.enhanced), OptText(o.response),
                 o.error, status},
                status, o, also);
}

Result<int> Ledger::ReapLapsed(int limit) {
  const int64_t now = clock_.NowMillis();
  int marked = 0;
  Status s = db_.Write([&](store::Tx& tx) -> Status {
    marked = 0;
    KILN_ASSIGN_OR_RETURN(std::vector<store::Row> rows,
                          tx.Query("engine.messages_lapsed", {now, limit}));
    for (const store::Row& row : rows) {
      const std::string reason =
          "worker '" + row.Text("claimed_by") +
          "' claimed this message and its lease lapsed before it recorded the outcome; the "
          "mail server may or may not have it, so it is not resent automatically";
      KILN_ASSIGN_OR_RETURN(int64_t changed,
                            tx.Exec("engine.message_mark_unknown", {row.Int("id"), now, reason}));
      if (changed != 1) continue;  // settled meanwhile
      boost::json::object detail;
      detail["worker"] = row.Text("claimed_by");
      detail["lease_until"] = row.Int("lease_until");
      KILN_RETURN_IF_ERROR(tx.Exec("engine.event_insert",
                                   {row.Int("workspace_id"), row.Int("id"), row.Int("campaign_id"),
                                    "unknown", boost::json::serialize(detail), now})
                               .status());
      ++marked;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s.WithContext("marking lapsed claims unknown");
  return marked;
}

Result<MessageRecord> Ledger::Get(int64_t id) {
  std::optional<MessageRecord> record;
  Status s = db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(store::Row row, tx.QueryRow("engine.message_get", {id},
                                                      "no message " + std::to_string(id)));
    KILN_ASSIGN_OR_RETURN(record, FromRow(row));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return std::move(*record);
}

Result<int64_t> Ledger::CountUnknown(int64_t workspace_id, int64_t campaign_id) {
  int64_t n = 0;
  Status s = db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(
        store::Row row, tx.QueryRow("engine.campaign_unknown_count", {workspace_id, campaign_id}));
    n = row.Int("n");
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return n;
}

}  // namespace kiln::engine
