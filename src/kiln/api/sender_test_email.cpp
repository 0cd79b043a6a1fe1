// POST /api/v1/workspaces/{ws}/senders/{id}/test-email {to, subject?, body?}: the senders page's
// "Send a test email". Sends one plain-text message through the sender's own SMTP settings (its
// sealed password opened as for verification, api/mailbox_check.h) and answers where it got:
//   200 {ok:true, message_id, smtp:{code, message}}          the server accepted the message
//   200 {ok:false, stage, kind, message}                      it stopped at stage connect | tls |
//       auth | send; message is the server's exact reply or the error, then what to fix
//   400 naming `to`, `subject` or `body`; 404 for no such sender; 409 naming `to` when the address
//       or its domain is on the workspace's suppression list (nothing is sent), or naming
//       smtp.password when the sender has no usable password.
// The route is blocking (http::RouteDoc::blocking): the SMTP session takes up to
// kMailboxCheckTimeout per step and runs on the server's blocking pool. Each attempt is audited
// (sender.test_email) with its outcome, never with the message or credentials.
#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/json_input.h"
#include "kiln/api/mailbox_check.h"
#include "kiln/domain/email_address.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/mail/sender_check.h"
#include "kiln/mail/smtp_client.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

constexpr std::string_view kDefaultSubject = "Kiln test email";

struct TestEmailInput {
  std::string to;  // normalised
  std::string subject;
  std::string body;
};

Result<TestEmailInput> ReadInput(const json::object& body) {
  JsonFields in(body);
  TestEmailInput out;
  std::string to;
  KILN_RETURN_IF_ERROR(in.Str("to", &to, {.min_len = 1, .max_len = 254}));
  std::optional<std::string> subject, text;
  KILN_RETURN_IF_ERROR(in.OptStr("subject", &subject, {.max_len = 500, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.OptStr(
      "body", &text, {.max_len = 100000, .trim = false, .multiline = true, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.Finish());
  auto normalized = domain::NormalizeEmailAddress(to);
  if (!normalized.ok()) {
    return Status::InvalidArgument("is not a valid email address: " + normalized.status().message(),
                                   "to");
  }
  // The MIME writer and the SMTP envelope take ASCII addresses only.
  if (Status ascii = mail::ValidateEmailAddress(*normalized, "to"); !ascii.ok()) {
    return Status::InvalidArgument("is not a valid email address: " + ascii.message(), "to");
  }
  out.to = std::move(*normalized);
  out.subject = subject && !subject->empty() ? *subject : std::string(kDefaultSubject);
  out.body = text && !text->empty() ? *text : "";
  return out;
}

// The API's stage for the step a failed session stopped at (mail::SmtpStage): `connect` covers
// resolving, connecting, the greeting and EHLO; `tls` the TLS handshake and STARTTLS; `auth` the
// login; `send` the transaction (RSET, MAIL FROM, RCPT TO, DATA, the message).
std::string_view ApiStage(mail::SmtpStage stage) {
  switch (stage) {
    case mail::SmtpStage::kNone:
    case mail::SmtpStage::kResolve:
    case mail::SmtpStage::kConnect:
    case mail::SmtpStage::kGreeting:
    case mail::SmtpStage::kEhlo:
      return "connect";
    case mail::SmtpStage::kTls:
    case mail::SmtpStage::kStartTls:
      return "tls";
    case mail::SmtpStage::kAuth:
      return "auth";
    case mail::SmtpStage::kRset:
    case mail::SmtpStage::kMailFrom:
    case mail::SmtpStage::kRcpt:
    case mail::SmtpStage::kData:
    case mail::SmtpStage::kMessage:
      return "send";
  }
  return "connect";
}

// One line on what to change, by failure kind (the kinds of mail/sender_check.h).
std::string_view WhatToFix(mail::Diagnosis::Kind kind) {
  using Kind = mail::Diagnosis::Kind;
  switch (kind) {
    case Kind::kOk:
      return "";
    case Kind::kConfig:
      return "The sender's SMTP settings cannot work as given; correct them.";
    case Kind::kDns:
      return "Check the SMTP host name: it does not resolve.";
    case Kind::kRefused:
      return "Check the SMTP host and port: nothing accepts connections there (or a firewall "
             "rejects them).";
    case Kind::kTimeout:
      return "The server did not answer in time: check the host, the port and any firewall in "
             "between.";
    case Kind::kNetwork:
      return "The connection broke: check the port and the security setting (TLS on 465, "
             "STARTTLS on 587), and the proxy if one is set.";
    case Kind::kTls:
      return "Check the security setting and the server's certificate (allow self-signed "
             "certificates only for a server you run yourself).";
    case Kind::kAuth:
      return "Check the SMTP username and password of this sender.";
    case Kind::kSender:
      return "The server does not let this login send as the sender's address: use the address "
             "the mailbox owns.";
    case Kind::kRecipient:
      return "The server refused the recipient: check the address.";
    case Kind::kServer:
      return "The server refused the session or the message; see its reply.";
  }
  return "";
}

json::object Failure(std::string_view stage, const mail::Diagnosis& d) {
  std::string message = d.message;
  std::string_view fix = WhatToFix(d.kind);
  if (!fix.empty()) message += (message.empty() ? "" : ". ") + std::string(fix);
  return {{"ok", false},
          {"stage", stage},
          {"kind", mail::DiagnosisKindName(d.kind)},
          {"message", std::move(message)}};
}

Result<json::value> SendSenderTestEmail(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such sender");
  KILN_ASSIGN_OR_RETURN(TestEmailInput in, ReadInput(ctx.body));

  std::optional<store::Row> sender;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("senders.get", {ctx.ws, *id}, "no such sender"));
    sender = std::move(r);
    const std::string key = domain::EmailKey(in.to);
    KILN_ASSIGN_OR_RETURN(auto hits, tx.Query("sender_test_email.suppression",
                                              {ctx.ws, key, domain::EmailDomain(key)}));
    if (hits.empty()) return Status::Ok();
    const store::Row& hit = hits.front();
    const std::string list = "on the workspace's suppression list (" + hit.Text("reason") + ")";
    return Status::FailedPrecondition(
        hit.IsNull("email")
            ? in.to + " is never mailed: its domain " + hit.Text("domain") + " is " + list
            : in.to + " is " + list + " and is never mailed",
        "to");
  }));

  KILN_ASSIGN_OR_RETURN(mail::SmtpConfig smtp, StoredSmtpConfig(api, *sender, "senders", *id));
  const std::string from = sender->Text("email");
  mail::OutgoingMessage message;
  message.from = {sender->Text("from_name"), from};
  message.to = {{"", in.to}};
  message.subject = in.subject;
  message.text_body = !in.body.empty()
                          ? in.body
                          : "This is a test email from Kiln, sent through the SMTP server of " +
                                from + " (" + smtp.host + ":" + std::to_string(smtp.port) +
                                ") to check that sending works.\n";
  message.date = api.clock().Now();
  message.message_id = mail::GenerateMessageId(domain::EmailDomain(from));
  auto composed = mail::ComposeMessage(message);
  if (!composed.ok()) {
    const std::string& field = composed.status().field();
    if (field == "subject" || field == "text_body") {
      return Status::InvalidArgument(composed.status().message(),
                                     field == "subject" ? "subject" : "body");
    }
    return Status::FailedPrecondition(
        "the sender's address or name cannot head a message: " + composed.status().message(),
        "sender");
  }

  json::object out;
  {
    mail::BlockingSmtpClient client(std::move(smtp));
    mail::SendResult opened = client.Connect();
    if (!opened.ok()) {
      std::string_view stage = ApiStage(opened.stage);
      out = Failure(stage, mail::DiagnoseSmtpResult(std::move(opened), from));
    } else {
      mail::SendResult sent = client.Send(mail::DefaultEnvelope(message), *composed);
      if (!sent.ok()) {
        // Send reopens a connection the server closed meanwhile, so it too can stop before MAIL.
        std::string_view stage = ApiStage(sent.stage);
        out = Failure(stage, mail::DiagnoseSmtpResult(std::move(sent), from));
      } else {
        std::string reply = sent.enhanced.empty() ? sent.text : sent.enhanced + " " + sent.text;
        out = {{"ok", true},
               {"message_id", message.message_id},
               {"smtp", {{"code", sent.code}, {"message", std::move(reply)}}}};
      }
    }
  }  // QUIT

  const int64_t now = api.clock().NowMillis();
  json::object details{{"to", in.to}, {"ok", out.at("ok")}};
  if (auto* stage = out.if_contains("stage")) details["stage"] = *stage;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    return WriteAudit(tx, ctx, ctx.ws, "sender.test_email", "sender", std::to_string(*id), details,
                      now);
  }));
  return out;
}

constexpr char kTestEmailInput[] =
    R"({"type":"object","required":["to"],"additionalProperties":false,"properties":{"to":{"type":"string","format":"email","description":"one address; never a suppressed one"},"subject":{"type":["string","null"],"maxLength":500},"body":{"type":["string","null"],"maxLength":100000,"description":"plain text; a default text when empty"}}})";

constexpr char kTestEmailResult[] =
    R"({"oneOf":[{"type":"object","required":["ok","message_id","smtp"],"properties":{"ok":{"const":true},"message_id":{"type":"string","description":"without angle brackets"},"smtp":{"type":"object","properties":{"code":{"type":"integer"},"message":{"type":"string"}}}}},{"type":"object","required":["ok","stage","message"],"properties":{"ok":{"const":false},"stage":{"type":"string","enum":["connect","tls","auth","send"]},"kind":{"type":"string","enum":["config","dns","refused","timeout","network","tls","auth","sender","recipient","server"]},"message":{"type":"string","description":"the server's exact reply or the error, then what to fix"}}}]})";

}  // namespace

void RegisterSenderTestEmailRoutes(Api& api) {
  Api* a = &api;
  api.Add(verb::post, "/api/v1/workspaces/{ws}/senders/{id}/test-email",
          {Access::kWorkspace, Role::kMember},
          [a](Ctx& ctx) { return SendSenderTestEmail(*a, ctx); },
          {.summary = "Send one plain test message through the sender's SMTP settings; answers the "
                      "server's acceptance, or the stage (connect, tls, auth, send) where it "
                      "stopped with the exact reply and what to fix",
           .tag = "senders",
           .request_schema = kTestEmailInput,
           .response_schema = kTestEmailResult,
           .blocking = true});
}

}  // namespace kiln::api
