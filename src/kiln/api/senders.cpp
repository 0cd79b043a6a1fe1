// Senders: the real mailboxes Kiln sends from. Credentials are write-only: they are sealed with
// AES-256-GCM (bound to the row and field) before they reach the database and never answered.
// Verification (POST .../senders/{id}/verify) logs in over SMTP and IMAP through
// mail/sender_check.h on the server's blocking pool (the route is marked blocking), each step
// bounded by kMailboxCheckTimeout (api/mailbox_check.h), and records the outcome as the sender's
// status (active, or failed naming each failure). POST .../senders/{id}/test-email sends one test
// message through the sender's SMTP settings (sender_test_email.cpp).
#include "kiln/api/senders.h"

#include <boost/asio/ip/address.hpp>
#include <chrono>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/json_input.h"
#include "kiln/api/mailbox_check.h"
#include "kiln/base/time_format.h"
#include "kiln/dns/local_address.h"
#include "kiln/domain/email_address.h"
#include "kiln/domain/quota.h"
#include "kiln/mail/sender_check.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

struct Endpoint {
  std::optional<std::string> host, security, username, password;
  std::optional<int64_t> port;
};

// The warm-up plan (issue 5 §2): fields present in the input.
struct PlanInput {
  std::optional<bool> enabled, weekdays_only;
  std::optional<std::string> start_at, end_at;  // "" clears
  std::optional<int64_t> start_volume, daily_increase, max_volume, reply_rate_percent;
};

struct SenderInput {
  std::optional<std::string> name, email, from_name, source_ip, proxy_url, warmup_end_at, timezone;
  std::optional<int64_t> daily_quota;
  std::optional<bool> allow_self_signed;
  std::optional<Endpoint> smtp, imap;
  std::optional<PlanInput> warmup;
};

// A sender's calendar and plan as stored (senders.set_plan).
struct PlanValues {
  std::string timezone = "UTC";
  bool enabled = true;
  std::optional<int64_t> start_at, end_at;
  int64_t start_volume = 5, daily_increase = 2, max_volume = 40, reply_rate_percent = 30;
  bool weekdays_only = false;
};

Status ReadPlan(const json::object& obj, PlanInput* p) {
  JsonFields in(obj, "warmup");
  KILN_RETURN_IF_ERROR(in.OptBool("enabled", &p->enabled));
  KILN_RETURN_IF_ERROR(in.OptStr("start_at", &p->start_at, {.max_len = 40, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.OptStr("end_at", &p->end_at, {.max_len = 40, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.OptInt("start_volume", &p->start_volume, 1, 100000));
  KILN_RETURN_IF_ERROR(in.OptInt("daily_increase", &p->daily_increase, 0, 100000));
  KILN_RETURN_IF_ERROR(in.OptInt("max_volume", &p->max_volume, 1, 100000));
  KILN_RETURN_IF_ERROR(in.OptBool("weekdays_only", &p->weekdays_only));
  KILN_RETURN_IF_ERROR(in.OptInt("reply_rate_percent", &p->reply_rate_percent, 0, 100));
  KILN_RETURN_IF_ERROR(in.Finish());
  for (auto [v, key] : {std::pair{&p->start_at, "start_at"}, {&p->end_at, "end_at"}}) {
    if (*v && !(*v)->empty()) {
      auto t = ParseIso8601(**v);
      if (!t.ok()) return t.status().WithField(in.FieldName(key));
    }
  }
  return Status::Ok();
}

PlanValues PlanFromRow(const store::Row& r) {
  PlanValues p;
  p.timezone = r.Text("timezone");
  p.enabled = r.Bool("warmup_enabled");
  p.start_at = r.OptInt("warmup_start_at");
  p.end_at = r.OptInt("warmup_end_at");
  p.start_volume = r.Int("warmup_start_volume");
  p.daily_increase = r.Int("warmup_daily_increase");
  p.max_volume = r.Int("warmup_daily_target");
  p.weekdays_only = r.Bool("warmup_weekdays_only");
  p.reply_rate_percent = r.Int("warmup_reply_rate_percent");
  return p;
}

std::optional<int64_t> OptTime(const std::optional<std::string>& s) {
  if (!s || s->empty()) return std::nullopt;
  return ParseIso8601(*s).value();
}

// Applies the input's plan fields and checks the plan with domain::ValidateWarmupPlan (dates on
// the UTC calendar; a plan without a start starts on the day the sender was created, one without
// an end has only its volumes checked). Errors name the input field ("warmup.max_volume").
Status ApplyPlan(const SenderInput& in, int64_t created_at, PlanValues* p) {
  if (in.timezone) p->timezone = *in.timezone;
  if (in.warmup_end_at) p->end_at = OptTime(in.warmup_end_at);
  if (in.warmup) {
    const PlanInput& w = *in.warmup;
    if (w.enabled) p->enabled = *w.enabled;
    if (w.start_at) p->start_at = OptTime(w.start_at);
    if (w.end_at) p->end_at = OptTime(w.end_at);
    if (w.start_volume) p->start_volume = *w.start_volume;
    if (w.daily_increase) p->daily_increase = *w.daily_increase;
    if (w.max_volume) p->max_volume = *w.max_volume;
    if (w.weekdays_only) p->weekdays_only = *w.weekdays_only;
    if (w.reply_rate_percent) p->reply_rate_percent = *w.reply_rate_percent;
  }
  if (!in.warmup && !in.warmup_end_at) return Status::Ok();  // the plan is untouched
  const domain::TimeZone utc = domain::TimeZone::Fixed("UTC", 0, "UTC");
  domain::WarmupPlan plan;
  plan.start_date = domain::DayAt(utc, p->start_at.value_or(created_at));
  plan.end_date = p->end_at ? domain::DayAt(utc, *p->end_at)
                            : domain::CivilFromDays(domain::DaysFromCivil(plan.start_date) + 1);
  plan.start_volume = static_cast<int>(p->start_volume);
  plan.daily_increase = static_cast<int>(p->daily_increase);
  plan.max_volume = static_cast<int>(p->max_volume);
  plan.weekdays_only = p->weekdays_only;
  Status s = domain::ValidateWarmupPlan(plan);
  if (s.ok()) return s;
  std::string field = s.field();
  if (field == "warmup.start_date") field = "warmup.start_at";
  if (field == "warmup.end_date") {
    field = in.warmup && in.warmup->end_at ? "warmup.end_at"
            : in.warmup_end_at             ? "warmup_end_at"
                                           : "warmup.start_at";
  }
  return s.WithField(field);
}

Status StorePlan(store::Tx& tx, int64_t ws, int64_t id, const PlanValues& p, int64_t now) {
  return tx
      .Exec("senders.set_plan",
            {ws, id, p.timezone, p.enabled, p.start_at, p.start_volume, p.daily_increase,
             p.max_volume, p.weekdays_only, p.reply_rate_percent, p.end_at, now})
      .status();
}

Status ReadEndpoint(const json::object& obj, const std::string& prefix, bool create,
                    Endpoint* out) {
  JsonFields in(obj, prefix);
  KILN_RETURN_IF_ERROR(in.OptStr("host", &out->host, {.min_len = 1, .max_len = 253}));
  KILN_RETURN_IF_ERROR(in.OptInt("port", &out->port, 1, 65535));
  KILN_RETURN_IF_ERROR(in.OptStr("security", &out->security, {.min_len = 1, .max_len = 10}));
  KILN_RETURN_IF_ERROR(in.OptStr("username", &out->username, {.max_len = 320}));
  KILN_RETURN_IF_ERROR(
      in.OptStr("password", &out->password, {.min_len = 1, .max_len = 4096, .trim = false}));
  KILN_RETURN_IF_ERROR(in.Finish());
  if (create) {
    for (auto [present, key] : {std::pair{out->host.has_value(), "host"},
                                {out->port.has_value(), "port"},
                                {out->security.has_value(), "security"},
                                {out->username.has_value(), "username"},
                                {out->password.has_value(), "password"}}) {
      if (!present) return Status::InvalidArgument("is required", in.FieldName(key));
    }
  }
  if (out->host) KILN_RETURN_IF_ERROR(ValidateHost(*out->host, in.FieldName("host")));
  if (out->security && *out->security != "tls" && *out->security != "starttls" &&
      *out->security != "none") {
    return Status::InvalidArgument("must be one of tls, starttls, none", in.FieldName("security"));
  }
  return Status::Ok();
}

Status ReadSender(const json::object& body, bool create, SenderInput* s) {
  JsonFields in(body);
  StrRule name_rule{.min_len = 1, .max_len = 200};
  KILN_RETURN_IF_ERROR(create ? in.Str("name", &s->name.emplace(), name_rule)
                              : in.OptStr("name", &s->name, name_rule));
  std::optional<std::string> email;
  KILN_RETURN_IF_ERROR(create ? in.Str("email", &email.emplace(), {.min_len = 1, .max_len = 254})
                              : in.OptStr("email", &email, {.min_len = 1, .max_len = 254}));
  if (email) {
    auto norm = domain::NormalizeEmailAddress(*email);
    if (!norm.ok()) return norm.status().WithField("email");
    s->email = *norm;
  }
  KILN_RETURN_IF_ERROR(in.OptStr("from_name", &s->from_name, {.max_len = 200, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.OptInt("daily_quota", &s->daily_quota, 1, 100000));
  KILN_RETURN_IF_ERROR(in.OptBool("allow_self_signed", &s->allow_self_signed));
  KILN_RETURN_IF_ERROR(in.OptStr("source_ip", &s->source_ip, {.max_len = 64, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.OptStr("proxy_url", &s->proxy_url, {.max_len = 300, .nullable = true}));
  KILN_RETURN_IF_ERROR(
      in.OptStr("warmup_end_at", &s->warmup_end_at, {.max_len = 40, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.OptStr("timezone", &s->timezone, {.min_len = 1, .max_len = 64}));
  const json::object* warmup = nullptr;
  KILN_RETURN_IF_ERROR(in.OptObj("warmup", &warmup));
  const json::object* smtp = nullptr;
  const json::object* imap = nullptr;
  KILN_RETURN_IF_ERROR(create ? in.Obj("smtp", &smtp) : in.OptObj("smtp", &smtp));
  KILN_RETURN_IF_ERROR(create ? in.Obj("imap", &imap) : in.OptObj("imap", &imap));
  KILN_RETURN_IF_ERROR(in.Finish());
  if (smtp) KILN_RETURN_IF_ERROR(ReadEndpoint(*smtp, "smtp", create, &s->smtp.emplace()));
  if (imap) KILN_RETURN_IF_ERROR(ReadEndpoint(*imap, "imap", create, &s->imap.emplace()));
  if (warmup) KILN_RETURN_IF_ERROR(ReadPlan(*warmup, &s->warmup.emplace()));
  if (s->timezone) KILN_RETURN_IF_ERROR(CheckTimezoneShape(*s->timezone, "timezone"));
  if (s->warmup_end_at && s->warmup && s->warmup->end_at) {
    return Status::InvalidArgument("give warmup.end_at or warmup_end_at, not both",
                                   "warmup_end_at");
  }
  if (s->source_ip && !s->source_ip->empty()) {
    // Bound before each connection: an address this machine does not have would fail every send.
    KILN_RETURN_IF_ERROR(dns::CheckLocalAddress(*s->source_ip, "source_ip"));
  }
  if (s->proxy_url && !s->proxy_url->empty()) {
    const std::string& p = *s->proxy_url;
    if (p.rfind("socks5://", 0) != 0)
      return Status::InvalidArgument("must look like socks5://host:port", "proxy_url");
    std::string hostport = p.substr(9);
    if (hostport.find('@') != std::string::npos) {
      return Status::InvalidArgument("proxy credentials cannot be given in the URL", "proxy_url");
    }
    size_t colon = hostport.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return Status::InvalidArgument("must look like socks5://host:port", "proxy_url");
    std::string host = hostport.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    KILN_RETURN_IF_ERROR(ValidateHost(host, "proxy_url"));
    auto port = ParseId(hostport.substr(colon + 1));
    if (!port.ok() || *port > 65535)
      return Status::InvalidArgument("has no valid port", "proxy_url");
  }
  if (s->warmup_end_at && !s->warmup_end_at->empty()) {
    auto t = ParseIso8601(*s->warmup_end_at);
    if (!t.ok()) return t.status().WithField("warmup_end_at");
  }
  return Status::Ok();
}

json::object EndpointJson(const store::Row& r, const char* p) {
  std::string pre(p);
  return {{"host", r.Text(pre + "_host")},
          {"port", r.Int(pre + "_port")},
          {"security", r.Text(pre + "_security")},
          {"username", r.Text(pre + "_username")},
          {"has_password", !r.IsNull(pre + "_secret")}};
}

json::value TextOrNull(const store::Row& r, std::string_view col) {
  auto v = r.OptText(col);
  if (!v || v->empty()) return nullptr;
  return json::value(*v);
}

json::object SenderJson(const store::Row& r) {
  return {{"id", r.Int("id")},
          {"name", r.Text("name")},
          {"email", r.Text("email")},
          {"from_name", r.Text("from_name")},
          {"daily_quota", r.Int("daily_quota")},
          {"smtp", EndpointJson(r, "smtp")},
          {"imap", EndpointJson(r, "imap")},
          {"allow_self_signed", r.Int("allow_self_signed") != 0},
          {"source_ip", TextOrNull(r, "source_ip")},
          {"proxy_url", TextOrNull(r, "proxy_url")},
          {"warmup_end_at", TimeOrNull(r, "warmup_end_at")},
          {"timezone", r.Text("timezone")},
          {"warmup",
           {{"enabled", r.Bool("warmup_enabled")},
            {"start_at", TimeOrNull(r, "warmup_start_at")},
            {"start_volume", r.Int("warmup_start_volume")},
            {"daily_increase", r.Int("warmup_daily_increase")},
            {"max_volume", r.Int("warmup_daily_target")},
            {"weekdays_only", r.Bool("warmup_weekdays_only")},
            {"reply_rate_percent", r.Int("warmup_reply_rate_percent")},
            {"end_at", TimeOrNull(r, "warmup_end_at")}}},
          {"status", r.Text("status")},
          {"status_reason", r.Text("status_reason")},
          {"health_score", r.Int("health_score")},
          {"created_at", TimeOrNull(r, "created_at")},
          {"updated_at", TimeOrNull(r, "updated_at")}};
}

std::string SecretAad(int64_t id, std::string_view field) {
  return MailboxSecretAad("senders", id, field);
}

// Seals and stores the passwords present in `in`; returns the fields changed, for the audit log.
Result<json::array> StoreSecrets(const Api& api, store::Tx& tx, int64_t ws, int64_t id,
                                 const SenderInput& in) {
  json::array changed;
  for (auto [ep, field] : {std::pair{&in.smtp, "smtp_secret"}, {&in.imap, "imap_secret"}}) {
    if (!*ep || !(*ep)->password) continue;
    KILN_ASSIGN_OR_RETURN(auto sealed, api.secrets().Seal(*(*ep)->password, SecretAad(id, field)));
    std::string query = std::string("senders.set_") + field;
    KILN_RETURN_IF_ERROR(tx.Exec(query, {ws, id, store::Blob{std::move(sealed)}}).status());
    changed.push_back(json::string(field));
  }
  return changed;
}

Status MapUnique(const Status& s) {
  if (s.code() == Status::Code::kAlreadyExists) {
    return Status::AlreadyExists("a sender with this email already exists in this workspace",
                                 "email");
  }
  return s;
}

// Checks a new sender's input and applies its warm-up plan over the defaults.
Status ReadNewSender(const json::object& body, int64_t now, SenderInput* in, PlanValues* plan) {
  KILN_RETURN_IF_ERROR(ReadSender(body, true, in));
  return ApplyPlan(*in, now, plan);
}

// Inserts a checked new sender: the row, its plan, its sealed passwords, the audit record.
Result<int64_t> InsertSender(const Api& api, store::Tx& tx, const Ctx& ctx, const SenderInput& in,
                             const PlanValues& plan, std::string_view action, int64_t now) {
  KILN_ASSIGN_OR_RETURN(
      auto row, tx.QueryRow("senders.insert",
                            {ctx.ws, *in.name, *in.email, in.from_name.value_or(""), *in.smtp->host,
                             *in.smtp->port, *in.smtp->security, *in.smtp->username, *in.imap->host,
                             *in.imap->port, *in.imap->security, *in.imap->username,
                             in.allow_self_signed.value_or(false), in.source_ip.value_or(""),
                             in.proxy_url.value_or(""), in.daily_quota.value_or(50),
                             OptTime(in.warmup_end_at), now}));
  int64_t id = row.Int("id");
  KILN_RETURN_IF_ERROR(StorePlan(tx, ctx.ws, id, plan, now));
  KILN_ASSIGN_OR_RETURN(auto secrets, StoreSecrets(api, tx, ctx.ws, id, in));
  KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, action, "sender", std::to_string(id),
                                  {{"email", *in.email}, {"credentials_set", secrets}}, now));
  return id;
}

Result<json::value> CreateSender(Api& api, Ctx& ctx) {
  SenderInput in;
  int64_t now = api.clock().NowMillis();
  PlanValues plan;
  KILN_RETURN_IF_ERROR(ReadNewSender(ctx.body, now, &in, &plan));
  json::object out;
  KILN_RETURN_IF_ERROR(MapUnique(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(int64_t id, InsertSender(api, tx, ctx, in, plan, "sender.created", now));
    KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("senders.get", {ctx.ws, id}));
    out = SenderJson(s);
    return Status::Ok();
  })));
  return out;
}

Result<json::value> ListSenders(Api& api, Ctx& ctx) {
  json::array items;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("senders.list", {ctx.ws}));
    for (const auto& r : rows) items.push_back(SenderJson(r));
    return Status::Ok();
  }));
  return json::object{{"items", std::move(items)}};
}

Result<json::value> GetSender(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such sender");
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("senders.get", {ctx.ws, *id}, "no such sender"));
    out = SenderJson(s);
    return Status::Ok();
  }));
  return out;
}

Result<json::value> UpdateSender(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such sender");
  SenderInput in;
  KILN_RETURN_IF_ERROR(ReadSender(ctx.body, false, &in));
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(MapUnique(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto cur, tx.QueryRow("senders.get", {ctx.ws, *id}, "no such sender"));
    auto pick = [&](const std::optional<std::string>& v, const char* col) {
      return v ? *v : cur.Text(col);
    };
    auto pick_int = [&](const std::optional<int64_t>& v, const char* col) {
      return v ? *v : cur.Int(col);
    };
    const Endpoint none;
    const Endpoint& smtp = in.smtp ? *in.smtp : none;
    const Endpoint& imap = in.imap ? *in.imap : none;
    std::optional<int64_t> warmup =
        in.warmup_end_at ? OptTime(in.warmup_end_at) : cur.OptInt("warmup_end_at");
    KILN_RETURN_IF_ERROR(
        tx.Exec(
              "senders.update",
              {ctx.ws, *id, pick(in.name, "name"), pick(in.email, "email"),
               pick(in.from_name, "from_name"), pick(smtp.host, "smtp_host"),
               pick_int(smtp.port, "smtp_port"), pick(smtp.security, "smtp_security"),
               pick(smtp.username, "smtp_username"), pick(imap.host, "imap_host"),
               pick_int(imap.port, "imap_port"), pick(imap.security, "imap_security"),
               pick(imap.username, "imap_username"),
               in.allow_self_signed ? int64_t{*in.allow_self_signed} : cur.Int("allow_self_signed"),
               pick(in.source_ip, "source_ip"), pick(in.proxy_url, "proxy_url"),
               pick_int(in.daily_quota, "daily_quota"), warmup, now})
            .status());
    PlanValues plan = PlanFromRow(cur);
    KILN_RETURN_IF_ERROR(ApplyPlan(in, cur.Int("created_at"), &plan));
    KILN_RETURN_IF_ERROR(StorePlan(tx, ctx.ws, *id, plan, now));
    KILN_ASSIGN_OR_RETURN(auto secrets, StoreSecrets(api, tx, ctx.ws, *id, in));
    json::array fields;
    for (const auto& kv : ctx.body) fields.push_back(json::string(kv.key()));
    KILN_RETURN_IF_ERROR(WriteAudit(
        tx, ctx, ctx.ws, secrets.empty() ? "sender.updated" : "sender.credentials_changed",
        "sender", std::to_string(*id), {{"fields", fields}, {"credentials_set", secrets}}, now));
    KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("senders.get", {ctx.ws, *id}));
    out = SenderJson(s);
    return Status::Ok();
  })));
  return out;
}

Result<json::value> DeleteSender(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such sender");
  int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto n, tx.Exec("senders.delete", {ctx.ws, *id}));
    if (n != 1) return Status::NotFound("no such sender");
    return WriteAudit(tx, ctx, ctx.ws, "sender.deleted", "sender", std::to_string(*id), {}, now);
  }));
  return json::value(nullptr);
}

// Logs in over SMTP (AUTH) and IMAP (LOGIN) with the stored credentials and records the outcome
// as the sender's status: active, or failed with status_reason naming each failure ("SMTP: ...;
// IMAP: ..."); a paused sender stays paused. Answers {sender, smtp:{ok,kind,message}, imap:{...}}.
// Fails with not_found for no such sender and failed_precondition naming smtp.password /
// imap.password when a password is missing or cannot be unsealed. The checks run outside any
// transaction: they take seconds.
Result<json::value> RunSenderVerification(Api& api, Ctx& ctx, Result<int64_t> id,
                                          const char* audit_action) {
  if (!id.ok()) return Status::NotFound("no such sender");
  std::optional<store::Row> row;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("senders.get", {ctx.ws, *id}, "no such sender"));
    row = std::move(r);
    return Status::Ok();
  }));
  KILN_ASSIGN_OR_RETURN(MailboxCheck check, CheckStoredMailbox(api, *row, "senders", *id));
  const mail::Diagnosis& smtp_d = check.smtp;
  const mail::Diagnosis& imap_d = check.imap;
  const std::string& status = check.status;
  const std::string& reason = check.reason;
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(
        auto n, tx.Exec("senders.set_checked_status", {ctx.ws, *id, status, reason, now}));
    if (n != 1) return Status::NotFound("no such sender");
    KILN_RETURN_IF_ERROR(WriteAudit(
        tx, ctx, ctx.ws, audit_action, "sender", std::to_string(*id),
        {{"status", status}, {"smtp", DiagnosisJson(smtp_d)}, {"imap", DiagnosisJson(imap_d)}},
        now));
    KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("senders.get", {ctx.ws, *id}, "no such sender"));
    out = {{"sender", SenderJson(s)},
           {"smtp", DiagnosisJson(smtp_d)},
           {"imap", DiagnosisJson(imap_d)}};
    return Status::Ok();
  }));
  return out;
}

Result<json::value> VerifySender(Api& api, Ctx& ctx) {
  return RunSenderVerification(api, ctx, ParseId(ctx.req.path_params["id"]), "sender.verified");
}

// Pauses a sender by hand: it sends no campaign or warm-up mail until resumed (its inbox is still
// read). Body {reason?} (up to 500 characters; default "paused by hand"), kept as status_reason.
// Answers the sender; not_found for no such sender. Audited as sender.paused.
Result<json::value> PauseSender(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such sender");
  std::optional<std::string> reason;
  JsonFields in(ctx.body);
  KILN_RETURN_IF_ERROR(in.OptStr("reason", &reason, {.max_len = 500, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.Finish());
  const std::string why = reason && !reason->empty() ? *reason : "paused by hand";
  const int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto n, tx.Exec("sender_pause.pause", {ctx.ws, *id, why, now}));
    if (n != 1) return Status::NotFound("no such sender");
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "sender.paused", "sender", std::to_string(*id),
                                    {{"reason", why}}, now));
    KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("senders.get", {ctx.ws, *id}, "no such sender"));
    out = SenderJson(r);
    return Status::Ok();
  }));
  return out;
}

// Resumes a paused sender (paused by hand or by the engine): lifts the pause, then verifies the
// SMTP and IMAP logins as POST .../verify does, so the sender is active again only when both pass
// (else failed naming each failure). Answers the verification; not_found for no such sender,
// failed_precondition naming status when the sender is not paused. Audited as sender.resumed.
Result<json::value> ResumeSender(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such sender");
  const int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto n, tx.Exec("sender_pause.lift", {ctx.ws, *id, now}));
    if (n == 1) return Status::Ok();
    KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("senders.get", {ctx.ws, *id}, "no such sender"));
    return Status::FailedPrecondition(
        "the sender is " + r.Text("status") + ", not paused: only a paused sender can be resumed",
        "status");
  }));
  return RunSenderVerification(api, ctx, *id, "sender.resumed");
}

constexpr char kEndpointSchema[] =
    R"({"type":"object","additionalProperties":false,"properties":{"host":{"type":"string"},"port":{"type":"integer","minimum":1,"maximum":65535},"security":{"type":"string","enum":["tls","starttls","none"]},"username":{"type":"string"},"password":{"type":"string","writeOnly":true}}})";

std::string SenderInputSchema(bool create) {
  std::string req = create ? R"("required":["name","email","smtp","imap"],)" : "";
  return std::string(R"({"type":"object",)") + req +
         R"("additionalProperties":false,"properties":{"name":{"type":"string"},"email":{"type":"string","format":"email"},"from_name":{"type":["string","null"]},"daily_quota":{"type":"integer","minimum":1,"maximum":100000},"allow_self_signed":{"type":"boolean"},"source_ip":{"type":["string","null"]},"proxy_url":{"type":["string","null"]},"warmup_end_at":{"type":["string","null"],"format":"date-time"},"timezone":{"type":"string","description":"IANA name; the sender's day runs midnight to midnight here"},"warmup":{"type":"object","additionalProperties":false,"properties":{"enabled":{"type":"boolean"},"start_at":{"type":["string","null"],"format":"date-time"},"start_volume":{"type":"integer","minimum":1},"daily_increase":{"type":"integer","minimum":0},"max_volume":{"type":"integer","minimum":1},"weekdays_only":{"type":"boolean"},"reply_rate_percent":{"type":"integer","minimum":0,"maximum":100},"end_at":{"type":["string","null"],"format":"date-time"}}},"smtp":)" +
         kEndpointSchema + R"(,"imap":)" + kEndpointSchema + "}}";
}

constexpr char kSenderSchema[] =
    R"({"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},"email":{"type":"string"},"from_name":{"type":"string"},"daily_quota":{"type":"integer"},"smtp":{"type":"object","properties":{"host":{"type":"string"},"port":{"type":"integer"},"security":{"type":"string"},"username":{"type":"string"},"has_password":{"type":"boolean"}}},"imap":{"type":"object"},"allow_self_signed":{"type":"boolean"},"source_ip":{"type":["string","null"]},"proxy_url":{"type":["string","null"]},"warmup_end_at":{"type":["string","null"]},"timezone":{"type":"string"},"warmup":{"type":"object","properties":{"enabled":{"type":"boolean"},"start_at":{"type":["string","null"]},"start_volume":{"type":"integer"},"daily_increase":{"type":"integer"},"max_volume":{"type":"integer"},"weekdays_only":{"type":"boolean"},"reply_rate_percent":{"type":"integer"},"end_at":{"type":["string","null"]}}},"status":{"type":"string","enum":["unverified","active","paused","failed"]},"status_reason":{"type":"string"},"health_score":{"type":"integer"},"created_at":{"type":"string"},"updated_at":{"type":"string"}}})";

constexpr char kVerifySchema[] =
    R"({"type":"object","properties":{"sender":{"$ref":"#/components/schemas/Sender"},"smtp":{"type":"object","properties":{"ok":{"type":"boolean"},"kind":{"type":"string"},"message":{"type":"string"}}},"imap":{"type":"object","properties":{"ok":{"type":"boolean"},"kind":{"type":"string"},"message":{"type":"string"}}}}})";

}  // namespace

Status CheckNewSender(const json::object& body, int64_t now, std::string* email) {
  SenderInput in;
  PlanValues plan;
  KILN_RETURN_IF_ERROR(ReadNewSender(body, now, &in, &plan));
  *email = *in.email;
  return Status::Ok();
}

Result<int64_t> InsertNewSender(const Api& api, store::Tx& tx, const Ctx& ctx,
                                const json::object& body, std::string_view action, int64_t now) {
  SenderInput in;
  PlanValues plan;
  KILN_RETURN_IF_ERROR(ReadNewSender(body, now, &in, &plan));
  auto id = InsertSender(api, tx, ctx, in, plan, action, now);
  if (!id.ok()) return MapUnique(id.status());
  return *id;
}

void RegisterSenderRoutes(Api& api) {
  Api* a = &api;
  auto bind = [a](Result<json::value> (*fn)(Api&, Ctx&)) {
    return [a, fn](Ctx& c) { return fn(*a, c); };
  };
  api.Add(
      verb::get, "/api/v1/workspaces/{ws}/senders", {Access::kWorkspace, Role::kViewer},
      bind(ListSenders),
      {.summary = "Sending mailboxes of the workspace",
       .tag = "senders",
       .response_schema =
           R"({"type":"object","properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/Sender"}}}})"});
  api.Add(verb::post, "/api/v1/workspaces/{ws}/senders", {Access::kWorkspace, Role::kMember},
          bind(CreateSender),
          {.summary = "Add a sending mailbox (SMTP + IMAP); passwords are write-only",
           .tag = "senders",
           .request_schema = SenderInputSchema(true),
           .response_schema = kSenderSchema,
           .success_status = 201});
  api.Add(verb::get, "/api/v1/workspaces/{ws}/senders/{id}", {Access::kWorkspace, Role::kViewer},
          bind(GetSender),
          {.summary = "One sender", .tag = "senders", .response_schema = kSenderSchema});
  api.Add(verb::patch, "/api/v1/workspaces/{ws}/senders/{id}", {Access::kWorkspace, Role::kMember},
          bind(UpdateSender),
          {.summary = "Change a sender; fields left out keep their value",
           .tag = "senders",
           .request_schema = SenderInputSchema(false),
           .response_schema = kSenderSchema});
  api.Add(verb::delete_, "/api/v1/workspaces/{ws}/senders/{id}",
          {Access::kWorkspace, Role::kMember}, bind(DeleteSender),
          {.summary = "Delete a sender", .tag = "senders", .success_status = 204});
  api.Add(
      verb::post, "/api/v1/workspaces/{ws}/senders/{id}/verify",
      {Access::kWorkspace, Role::kMember}, bind(VerifySender),
      {.summary = "Test the sender's SMTP and IMAP logins; active when both pass, else failed with "
                  "the reasons",
       .tag = "senders",
       .response_schema = kVerifySchema,
       .blocking = true});
  api.Add(
      verb::post, "/api/v1/workspaces/{ws}/senders/{id}/pause", {Access::kWorkspace, Role::kMember},
      bind(PauseSender),
      {.summary = "Pause a sender by hand: no campaign or warm-up mail until resumed",
       .tag = "senders",
       .request_schema =
           R"({"type":"object","additionalProperties":false,"properties":{"reason":{"type":["string","null"],"maxLength":500}}})",
       .response_schema = kSenderSchema});
  api.Add(
      verb::post, "/api/v1/workspaces/{ws}/senders/{id}/resume",
      {Access::kWorkspace, Role::kMember}, bind(ResumeSender),
      {.summary = "Resume a paused sender: lifts the pause and verifies its SMTP and IMAP logins "
                  "(active when both pass, else failed with the reasons)",
       .tag = "senders",
       .response_schema = kVerifySchema,
       .blocking = true});
}

}  // namespace kiln::api
