// Unified inbox: the conversations the inbox watcher (engine/inbox_watcher.h) records across every
// sender of a workspace, one thread with its messages (the campaign mail Kiln sent in it, the
// lead's answers and ours, in order), read/unread, the conversation's and the lead's status, and
// answering a lead.
//
// A reply is composed and sent here, synchronously, through the conversation's own sender (its
// SMTP account, In-Reply-To the last message of the lead, References the whole thread), so the
// caller learns the SMTP outcome at once: a refusal answers an error naming the step and the
// server's words, and nothing is recorded. When the sender has IMAP, the sent message is appended
// to its Sent folder; a failure there is reported in the answer (sent_copy) but does not undo the
// reply, which the lead already has.
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/json_input.h"
#include "kiln/mail/classify_reply.h"
#include "kiln/mail/imap_inbox.h"
#include "kiln/mail/incoming.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/mail/smtp_client.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

constexpr const char* kConversationStatuses[] = {"open", "interested", "not_interested", "closed"};
constexpr const char* kLeadStatuses[] = {"new",        "contacted",      "replied",
                                         "interested", "not_interested", "meeting_booked",
                                         "bounced",    "unsubscribed"};
constexpr size_t kMaxReplyBytes = 256 * 1024;
constexpr size_t kMaxReferences = 20;

template <size_t N>
bool OneOf(std::string_view v, const char* const (&set)[N]) {
  for (const char* s : set) {
    if (v == s) return true;
  }
  return false;
}

template <size_t N>
std::string Joined(const char* const (&set)[N]) {
  std::string out;
  for (const char* s : set) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

json::value NullableInt(const store::Row& r, std::string_view col) {
  auto v = r.OptInt(col);
  return v ? json::value(*v) : json::value(nullptr);
}

json::object ConversationJson(const store::Row& r) {
  json::object lead{{"id", NullableInt(r, "contact_id")},
                    {"email", r.Text("contact_email")},
                    {"first_name", r.Text("first_name")},
                    {"last_name", r.Text("last_name")},
                    {"status", r.Text("lead_status")}};
  return {{"id", r.Int("id")},
          {"sender_id", NullableInt(r, "sender_id")},
          {"sender_email", r.Text("sender_email")},
          {"campaign_id", NullableInt(r, "campaign_id")},
          {"campaign_name", r.Text("campaign_name")},
          {"lead", std::move(lead)},
          {"subject", r.Text("subject")},
          {"status", r.Text("status")},
          {"is_read", r.Bool("is_read")},
          {"last_message_at", TimeOrNull(r, "last_message_at")},
          {"created_at", TimeOrNull(r, "created_at")},
          {"updated_at", TimeOrNull(r, "updated_at")}};
}

Result<store::Row> LoadConversation(store::Tx& tx, int64_t ws, int64_t id) {
  return tx.QueryRow("inbox.conversation_get", {ws, id}, "no such conversation");
}

// ?unread=true|false -> the is_read value to match; -1 when absent.
Result<int64_t> ReadUnreadFilter(const http::Request& req) {
  auto it = req.query.find("unread");
  if (it == req.query.end()) return int64_t{-1};
  if (it->second == "true" || it->second == "1") return int64_t{0};
  if (it->second == "false" || it->second == "0") return int64_t{1};
  return Status::InvalidArgument("must be true or false", "unread");
}

Result<json::value> ListConversations(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(const Page page, ReadPage(ctx.req, "a conversation id"));
  KILN_ASSIGN_OR_RETURN(const std::string pattern, ReadSearchPattern(ctx.req));
  KILN_ASSIGN_OR_RETURN(const int64_t is_read, ReadUnreadFilter(ctx.req));
  KILN_ASSIGN_OR_RETURN(const int64_t campaign_id,
                        ReadIdFilter(ctx.req, "campaign_id", "a campaign id"));
  KILN_ASSIGN_OR_RETURN(const int64_t sender_id, ReadIdFilter(ctx.req, "sender_id", "a sender id"));
  std::string status;
  if (auto it = ctx.req.query.find("status"); it != ctx.req.query.end()) {
    status = it->second;
    if (!OneOf(status, kConversationStatuses)) {
      return Status::InvalidArgument("must be one of " + Joined(kConversationStatuses), "status");
    }
  }
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("inbox.conversation_list",
                                              {ctx.ws, page.before, pattern, status, is_read,
                                               campaign_id, sender_id, page.limit + 1}));
    out = PagedItems(rows, page, ConversationJson);
    return Status::Ok();
  }));
  return out;
}

// The thread in time order: Kiln's campaign mail to the lead in it, then every message recorded
// in the conversation (theirs and our replies).
Result<json::object> LoadThread(store::Tx& tx, int64_t ws, int64_t id) {
  KILN_ASSIGN_OR_RETURN(auto conv, LoadConversation(tx, ws, id));
  json::object out = ConversationJson(conv);
  struct Item {
    int64_t at;
    int order;
    json::object json;
  };
  std::vector<Item> items;
  if (auto contact = conv.OptInt("contact_id")) {
    KILN_ASSIGN_OR_RETURN(auto cold, tx.Query("inbox.thread_cold_messages",
                                              {ws, *contact, conv.Text("thread_root_header")}));
    for (const store::Row& r : cold) {
      items.push_back({r.Int("sent_at"), 0,
                       json::object{{"id", nullptr},
                                    {"campaign_message_id", r.Int("id")},
                                    {"direction", "out"},
                                    {"kind", "campaign"},
                                    {"message_id", r.Text("message_id_header")},
                                    {"from", r.Text("sender_email")},
                                    {"to", r.Text("contact_email")},
                                    {"subject", r.Text("subject")},
                                    {"status", r.Text("status")},
                                    {"at", TimeOrNull(r, "sent_at")}}});
    }
  }
  KILN_ASSIGN_OR_RETURN(auto msgs, tx.Query("inbox.conversation_messages", {ws, id}));
  for (const store::Row& r : msgs) {
    items.push_back({r.Int("created_at"), 1,
                     json::object{{"id", r.Int("id")},
                                  {"campaign_message_id", nullptr},
                                  {"direction", r.Text("direction")},
                                  {"kind", r.Text("classification")},
                                  {"message_id", r.Text("message_id_header")},
                                  {"from", r.Text("from_address")},
                                  {"to", r.Text("to_address")},
                                  {"subject", r.Text("subject")},
                                  {"body_text", r.Text("body_text")},
                                  {"body_html", r.Text("body_html")},
                                  {"folder", r.Text("folder")},
                                  {"at", TimeOrNull(r, "created_at")}}});
  }
  std::stable_sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.at != b.at ? a.at < b.at : a.order < b.order;
  });
  json::array arr;
  for (Item& i : items) arr.push_back(std::move(i.json));
  out["messages"] = std::move(arr);
  return out;
}

Result<json::value> GetConversation(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such conversation");
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(out, LoadThread(tx, ctx.ws, *id));
    return Status::Ok();
  }));
  return out;
}

Result<json::value> UpdateConversation(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such conversation");
  JsonFields f(ctx.body);
  std::optional<bool> is_read;
  std::optional<std::string> status, lead_status;
  KILN_RETURN_IF_ERROR(f.OptBool("is_read", &is_read));
  KILN_RETURN_IF_ERROR(f.OptStr("status", &status, {.min_len = 1, .max_len = 32}));
  KILN_RETURN_IF_ERROR(f.OptStr("lead_status", &lead_status, {.min_len = 1, .max_len = 32}));
  KILN_RETURN_IF_ERROR(f.Finish());
  if (status && !OneOf(*status, kConversationStatuses)) {
    return Status::InvalidArgument("must be one of " + Joined(kConversationStatuses), "status");
  }
  if (lead_status && !OneOf(*lead_status, kLeadStatuses)) {
    return Status::InvalidArgument("must be one of " + Joined(kLeadStatuses), "lead_status");
  }
  const int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto conv, LoadConversation(tx, ctx.ws, *id));
    json::object changed;
    if (is_read) {
      KILN_RETURN_IF_ERROR(
          tx.Exec("inbox.conversation_set_read", {ctx.ws, *id, *is_read, now}).status());
      changed["is_read"] = *is_read;
    }
    if (status) {
      KILN_RETURN_IF_ERROR(
          tx.Exec("inbox.conversation_set_status", {ctx.ws, *id, *status, now}).status());
      changed["status"] = *status;
    }
    if (lead_status) {
      auto contact = conv.OptInt("contact_id");
      if (!contact) {
        return Status::FailedPrecondition("the lead of this conversation was deleted",
                                          "lead_status");
      }
      KILN_RETURN_IF_ERROR(
          tx.Exec("inbox.contact_set_lead_status", {ctx.ws, *contact, *lead_status, now}).status());
      changed["lead_status"] = *lead_status;
    }
    if (status || lead_status) {
      KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "conversation.update", "conversation",
                                      std::to_string(*id), changed, now));
    }
    KILN_ASSIGN_OR_RETURN(auto row, LoadConversation(tx, ctx.ws, *id));
    out = ConversationJson(row);
    return Status::Ok();
  }));
  return out;
}

// What a reply needs, read in one transaction before any network traffic.
struct ReplyPlan {
  int64_t sender_id = 0;
  std::string sender_email, from_name;
  mail::SmtpConfig smtp;
  bool has_imap = false;
  mail::ImapConfig imap;
  std::string to;  // the lead's address the last message came from
  std::string subject;
  std::string in_reply_to;  // without angle brackets
  std::vector<std::string> references;
};

Result<mail::SmtpSecurity> SmtpSecurityOf(std::string_view s) {
  if (s == "tls") return mail::SmtpSecurity::kTls;
  if (s == "starttls") return mail::SmtpSecurity::kStartTls;
  if (s == "none") return mail::SmtpSecurity::kNone;
  return Status::FailedPrecondition("the sender's smtp security '" + std::string(s) +
                                    "' is not tls, starttls or none");
}

Result<mail::ImapSecurity> ImapSecurityOf(std::string_view s) {
  if (s == "tls") return mail::ImapSecurity::kTls;
  if (s == "starttls") return mail::ImapSecurity::kStartTls;
  if (s == "none") return mail::ImapSecurity::kNone;
  return Status::FailedPrecondition("the sender's imap security '" + std::string(s) +
                                    "' is not tls, starttls or none");
}

Result<ReplyPlan> PlanReply(Api& api, store::Tx& tx, int64_t ws, int64_t id) {
  KILN_ASSIGN_OR_RETURN(auto conv, LoadConversation(tx, ws, id));
  auto sender_id = conv.OptInt("sender_id");
  if (!sender_id) {
    return Status::FailedPrecondition("the sender of this conversation was deleted");
  }
  KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("inbox.reply_sender", {ws, *sender_id},
                                            "the sender of this conversation was deleted"));
  ReplyPlan p;
  p.sender_id = *sender_id;
  p.sender_email = s.Text("email");
  p.from_name = s.Text("from_name");
  const std::string aad = "senders:" + std::to_string(*sender_id) + ":";
  p.smtp.host = s.Text("smtp_host");
  p.smtp.port = static_cast<uint16_t>(s.Int("smtp_port"));
  KILN_ASSIGN_OR_RETURN(p.smtp.security, SmtpSecurityOf(s.Text("smtp_security")));
  p.smtp.username = s.Text("smtp_username");
  p.smtp.allow_self_signed = s.Bool("allow_self_signed");
  if (!s.IsNull("smtp_secret")) {
    auto secret = api.secrets().Open(s.Bytes("smtp_secret"), aad + "smtp_secret");
    if (!secret.ok()) {
      return Status::FailedPrecondition("cannot unseal the SMTP password of sender " +
                                        p.sender_email + ": " + secret.status().message());
    }
    p.smtp.secret = std::move(secret).value();
  }
  p.has_imap = !s.Text("imap_host").empty();
  if (p.has_imap) {
    p.imap.host = s.Text("imap_host");
    p.imap.port = static_cast<uint16_t>(s.Int("imap_port"));
    KILN_ASSIGN_OR_RETURN(p.imap.security, ImapSecurityOf(s.Text("imap_security")));
    p.imap.username = s.Text("imap_username").empty() ? p.sender_email : s.Text("imap_username");
    p.imap.allow_self_signed = p.smtp.allow_self_signed;
    if (!s.IsNull("imap_secret")) {
      auto secret = api.secrets().Open(s.Bytes("imap_secret"), aad + "imap_secret");
      if (secret.ok()) {
        p.imap.secret = std::move(secret).value();
      } else {
        p.has_imap = false;  // the reply still goes; only its Sent copy cannot be made
      }
    }
  }
  // Threading: every Message-ID of the thread in order, answering the lead's last message.
  const std::string root = mail::NormalizeMessageId(conv.Text("thread_root_header"));
  if (!root.empty()) p.references.push_back(root);
  KILN_ASSIGN_OR_RETURN(auto msgs, tx.Query("inbox.conversation_messages", {ws, id}));
  std::string last_subject = conv.Text("subject");
  for (const store::Row& r : msgs) {
    std::string mid = mail::NormalizeMessageId(r.Text("message_id_header"));
    if (!mid.empty() && mid != root) p.references.push_back(mid);
    if (r.Text("direction") == "in") {
      p.to = r.Text("from_address");
      p.in_reply_to = mid;
      if (!r.Text("subject").empty()) last_subject = r.Text("subject");
    }
  }
  if (p.to.empty()) p.to = conv.Text("contact_email");
  if (p.to.empty()) return Status::FailedPrecondition("this conversation has no address to answer");
  if (p.in_reply_to.empty()) p.in_reply_to = root;
  if (p.references.size() > kMaxReferences) {
    // Keep the root and the most recent ones, as RFC 5322 suggests for long threads.
    std::vector<std::string> kept = {p.references.front()};
    kept.insert(kept.end(), p.references.end() - (kMaxReferences - 1), p.references.end());
    p.references = std::move(kept);
  }
  p.subject =
      mail::NormalizeSubject(last_subject).had_reply_prefix ? last_subject : "Re: " + last_subject;
  return p;
}

Status SmtpFailureStatus(const ReplyPlan& p, const mail::SendResult& r) {
  // Where the exchange stopped and what went wrong there: "failed at rcpt (recipients): ...".
  std::string where = r.stage == mail::SmtpStage::kNone
                          ? std::string(mail::SmtpFailureName(r.failure))
                          : std::string(mail::SmtpStageName(r.stage)) + " (" +
                                std::string(mail::SmtpFailureName(r.failure)) + ")";
  std::string what = "sending through " + p.sender_email + " (" + p.smtp.host + ":" +
                     std::to_string(p.smtp.port) + ") failed at " + where + ": " + r.reason;
  switch (r.cls) {
    case mail::SendResult::Class::kTransient:
      return Status::Unavailable(what + " (temporary: try again)");
    case mail::SendResult::Class::kSenderProblem:
    case mail::SendResult::Class::kPermanent:
    case mail::SendResult::Class::kAccepted:
      break;
  }
  return Status::FailedPrecondition(what);
}

Result<json::value> Reply(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such conversation");
  JsonFields f(ctx.body);
  std::string text;
  std::optional<std::string> html, subject;
  StrRule body_rule{.min_len = 1, .max_len = kMaxReplyBytes, .trim = false, .multiline = true};
  KILN_RETURN_IF_ERROR(f.Str("text", &text, body_rule));
  KILN_RETURN_IF_ERROR(f.OptStr("html", &html, body_rule));
  KILN_RETURN_IF_ERROR(f.OptStr("subject", &subject, {.min_len = 1, .max_len = 500}));
  KILN_RETURN_IF_ERROR(f.Finish());

  ReplyPlan plan;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(plan, PlanReply(api, tx, ctx.ws, *id));
    return Status::Ok();
  }));
  mail::OutgoingMessage m;
  m.from = {plan.from_name, plan.sender_email};
  m.to = {{"", plan.to}};
  m.subject = subject ? *subject : plan.subject;
  m.text_body = text;
  if (html) m.html_body = *html;
  m.date = api.clock().Now();
  const size_t at = plan.sender_email.rfind('@');
  m.message_id = mail::GenerateMessageId(
      at == std::string::npos ? "kiln.invalid" : plan.sender_email.substr(at + 1));
  m.in_reply_to = plan.in_reply_to;
  m.references = plan.references;
  auto raw = mail::ComposeMessage(m);
  if (!raw.ok()) return raw.status();

  mail::SendResult sent;
  {
    mail::BlockingSmtpClient client(plan.smtp);
    sent = client.Send(mail::DefaultEnvelope(m), *raw);
    client.Close();
  }
  if (!sent.ok()) return SmtpFailureStatus(plan, sent);

  std::string sent_copy_error;
  if (plan.has_imap) {
    mail::ImapInbox inbox(plan.imap, api.clock());
    Status st = inbox.Connect();
    if (st.ok()) st = inbox.AppendToSent(*raw);
    inbox.Disconnect();
    if (!st.ok()) sent_copy_error = st.message();
  } else {
    sent_copy_error = "the sender has no usable IMAP settings";
  }

  const int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(
        auto row, tx.QueryRow("inbox.conversation_message_insert",
                              {ctx.ws, *id, "out", "<" + m.message_id + ">", plan.sender_email,
                               plan.to, m.subject, text, html ? *html : std::string(), "reply",
                               std::nullopt, std::string(), now}));
    KILN_RETURN_IF_ERROR(tx.Exec("inbox.conversation_replied", {ctx.ws, *id, now}).status());
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "conversation.reply", "conversation",
                                    std::to_string(*id), {{"message_id", m.message_id}}, now));
    out = {{"id", row.Int("id")},
           {"message_id", "<" + m.message_id + ">"},
           {"to", plan.to},
           {"subject", m.subject},
           {"smtp",
            json::object{{"code", sent.code}, {"enhanced", sent.enhanced}, {"text", sent.text}}},
           {"sent_copy", sent_copy_error.empty()},
           {"sent_copy_error",
            sent_copy_error.empty() ? json::value(nullptr) : json::value(sent_copy_error)}};
    return Status::Ok();
  }));
  return out;
}

constexpr const char* kConversationSchema =
    R"({"type":"object","properties":{"id":{"type":"integer"},"sender_id":{"type":["integer","null"]},"sender_email":{"type":"string"},"campaign_id":{"type":["integer","null"]},"campaign_name":{"type":"string"},"lead":{"type":"object"},"subject":{"type":"string"},"status":{"type":"string","enum":["open","interested","not_interested","closed"]},"is_read":{"type":"boolean"},"last_message_at":{"type":"string"},"created_at":{"type":"string"},"updated_at":{"type":"string"}}})";

}  // namespace

void RegisterInboxRoutes(Api& api) {
  auto bind = [&api](Result<json::value> (*fn)(Api&, Ctx&)) {
    return [&api, fn](Ctx& ctx) { return fn(api, ctx); };
  };
  const std::string base = "/api/v1/workspaces/{ws}/conversations";
  api.Add(verb::get, base, {Access::kWorkspace, Role::kViewer}, bind(ListConversations),
          {.summary = "Unified inbox: conversations of every sender, newest first (status, unread, "
                      "campaign_id, sender_id, q, before, limit)",
           .tag = "inbox",
           .response_schema = PagedSchema(kConversationSchema)});
  api.Add(verb::get, base + "/{id}", {Access::kWorkspace, Role::kViewer}, bind(GetConversation),
          {.summary = "One conversation with its messages in order (campaign mail, theirs, ours)",
           .tag = "inbox",
           .response_schema = kConversationSchema});
  api.Add(
      verb::patch, base + "/{id}", {Access::kWorkspace, Role::kMember}, bind(UpdateConversation),
      {.summary = "Mark read or unread, set the conversation's status and the lead's status",
       .tag = "inbox",
       .request_schema =
           R"({"type":"object","properties":{"is_read":{"type":"boolean"},"status":{"type":"string","enum":["open","interested","not_interested","closed"]},"lead_status":{"type":"string","enum":["new","contacted","replied","interested","not_interested","meeting_booked","bounced","unsubscribed"]}},"additionalProperties":false})",
       .response_schema = kConversationSchema});
  api.Add(
      verb::post, base + "/{id}/reply", {Access::kWorkspace, Role::kMember}, bind(Reply),
      {.summary = "Answer the lead through the conversation's sender (SMTP now; copy to Sent)",
       .tag = "inbox",
       .request_schema =
           R"({"type":"object","required":["text"],"properties":{"text":{"type":"string"},"html":{"type":"string"},"subject":{"type":"string"}},"additionalProperties":false})",
       .response_schema =
           R"({"type":"object","properties":{"id":{"type":"integer"},"message_id":{"type":"string"},"to":{"type":"string"},"subject":{"type":"string"},"smtp":{"type":"object"},"sent_copy":{"type":"boolean"},"sent_copy_error":{"type":["string","null"]}}})",
       .success_status = 201,
       .blocking = true});
}

}  // namespace kiln::api
