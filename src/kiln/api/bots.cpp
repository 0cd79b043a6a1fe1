// Warm-up inboxes ("bots"): mailboxes the operator owns, used only to exchange warm-up mail with
// the workspace's senders. Credentials are write-only: sealed with AES-256-GCM bound to the row and
// field ("bots:<id>:smtp_secret") before they reach the database, never answered.
//
// Verification (verify, resume, provision) logs in over SMTP and IMAP through mail/sender_check.h
// on the server's blocking pool (the routes are marked blocking), each step bounded by
// kMailboxCheckTimeout (api/mailbox_check.h), and stores the diagnosis as the bot's status: active,
// or failed with the reason naming what is wrong and where.

#include <boost/json/serialize.hpp>
#include <chrono>
#include <map>
#include <set>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/csv_rows.h"
#include "kiln/api/json_input.h"
#include "kiln/api/mailbox_check.h"
#include "kiln/auth/crypto.h"
#include "kiln/base/time_format.h"
#include "kiln/domain/email_address.h"
#include "kiln/domain/quota.h"
#include "kiln/mail/sender_check.h"
#include "kiln/warmup/provision.h"
#include "kiln/warmup/reputation.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kDefaultAgingDays = 30;
constexpr size_t kMaxImportRows = 5000;
constexpr size_t kMaxReportedErrors = 200;
constexpr const char* kProviders[] = {"gmail", "outlook", "yahoo", "self_hosted", "other"};

struct Endpoint {
  std::optional<std::string> host, security, username, password;
  std::optional<int64_t> port;
};

struct BotInput {
  std::optional<std::string> name, email, provider, aging_start_at, aging_end_at, timezone;
  std::optional<int64_t> aging_start_volume, daily_send_limit, daily_receive_limit,
      reply_rate_percent, reply_delay_min_minutes, reply_delay_max_minutes, important_rate_percent;
  std::optional<bool> allow_self_signed;
  std::optional<Endpoint> smtp, imap;
};

// Every setting of a bot: the stored values (or the defaults of a new bot) with an input applied.
struct BotValues {
  std::string name, email, provider = "other";
  std::string smtp_host, smtp_security, smtp_username;
  int64_t smtp_port = 0;
  std::string imap_host, imap_security, imap_username;
  int64_t imap_port = 0;
  bool allow_self_signed = false;
  int64_t aging_start_at = 0;
  int64_t aging_start_volume = 2;
  int64_t aging_end_at = 0;
  int64_t daily_send_limit = 20;
  int64_t daily_receive_limit = 40;
  int64_t reply_rate_percent = 30;
  int64_t reply_delay_min_minutes = 5;
  int64_t reply_delay_max_minutes = 240;
  int64_t important_rate_percent = 30;
  std::string timezone = "UTC";
};

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
    // The username defaults to the bot's address, the usual login of a mailbox.
    for (auto [present, key] : {std::pair{out->host.has_value(), "host"},
                                {out->port.has_value(), "port"},
                                {out->security.has_value(), "security"},
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

Status ReadTime(const std::optional<std::string>& text, const char* field) {
  if (!text) return Status::Ok();
  auto t = ParseIso8601(*text);
  if (!t.ok()) return t.status().WithField(field);
  return Status::Ok();
}

// Reads a bot's JSON input; `create` requires email, smtp and imap (with passwords).
Status ReadBot(const json::object& body, bool create, BotInput* b) {
  JsonFields in(body);
  KILN_RETURN_IF_ERROR(in.OptStr("name", &b->name, {.max_len = 200, .nullable = true}));
  std::optional<std::string> email;
  KILN_RETURN_IF_ERROR(create ? in.Str("email", &email.emplace(), {.min_len = 1, .max_len = 254})
                              : in.OptStr("email", &email, {.min_len = 1, .max_len = 254}));
  if (email) {
    auto norm = domain::NormalizeEmailAddress(*email);
    if (!norm.ok()) return norm.status().WithField("email");
    b->email = *norm;
  }
  KILN_RETURN_IF_ERROR(in.OptStr("provider", &b->provider, {.min_len = 1, .max_len = 20}));
  if (b->provider) {
    bool known = false;
    for (const char* p : kProviders) known = known || *b->provider == p;
    if (!known) {
      return Status::InvalidArgument("must be one of gmail, outlook, yahoo, self_hosted, other",
                                     "provider");
    }
  }
  KILN_RETURN_IF_ERROR(in.OptBool("allow_self_signed", &b->allow_self_signed));
  KILN_RETURN_IF_ERROR(in.OptStr("aging_start_at", &b->aging_start_at, {.max_len = 40}));
  KILN_RETURN_IF_ERROR(in.OptStr("aging_end_at", &b->aging_end_at, {.max_len = 40}));
  KILN_RETURN_IF_ERROR(in.OptInt("aging_start_volume", &b->aging_start_volume, 1, 10000));
  KILN_RETURN_IF_ERROR(in.OptInt("daily_send_limit", &b->daily_send_limit, 1, 10000));
  KILN_RETURN_IF_ERROR(in.OptInt("daily_receive_limit", &b->daily_receive_limit, 0, 10000));
  KILN_RETURN_IF_ERROR(in.OptInt("reply_rate_percent", &b->reply_rate_percent, 0, 100));
  KILN_RETURN_IF_ERROR(
      in.OptInt("reply_delay_min_minutes", &b->reply_delay_min_minutes, 0, 30 * 24 * 60));
  KILN_RETURN_IF_ERROR(
      in.OptInt("reply_delay_max_minutes", &b->reply_delay_max_minutes, 0, 30 * 24 * 60));
  KILN_RETURN_IF_ERROR(in.OptInt("important_rate_percent", &b->important_rate_percent, 0, 100));
  KILN_RETURN_IF_ERROR(in.OptStr("timezone", &b->timezone, {.min_len = 1, .max_len = 64}));
  const json::object* smtp = nullptr;
  const json::object* imap = nullptr;
  KILN_RETURN_IF_ERROR(create ? in.Obj("smtp", &smtp) : in.OptObj("smtp", &smtp));
  KILN_RETURN_IF_ERROR(create ? in.Obj("imap", &imap) : in.OptObj("imap", &imap));
  KILN_RETURN_IF_ERROR(in.Finish());
  if (smtp) KILN_RETURN_IF_ERROR(ReadEndpoint(*smtp, "smtp", create, &b->smtp.emplace()));
  if (imap) KILN_RETURN_IF_ERROR(ReadEndpoint(*imap, "imap", create, &b->imap.emplace()));
  KILN_RETURN_IF_ERROR(ReadTime(b->aging_start_at, "aging_start_at"));
  KILN_RETURN_IF_ERROR(ReadTime(b->aging_end_at, "aging_end_at"));
  if (b->timezone) KILN_RETURN_IF_ERROR(CheckTimezoneShape(*b->timezone, "timezone"));
  return Status::Ok();
}

BotValues FromRow(const store::Row& r) {
  BotValues v;
  v.name = r.Text("name");
  v.email = r.Text("email");
  v.provider = r.Text("provider");
  v.smtp_host = r.Text("smtp_host");
  v.smtp_port = r.Int("smtp_port");
  v.smtp_security = r.Text("smtp_security");
  v.smtp_username = r.Text("smtp_username");
  v.imap_host = r.Text("imap_host");
  v.imap_port = r.Int("imap_port");
  v.imap_security = r.Text("imap_security");
  v.imap_username = r.Text("imap_username");
  v.allow_self_signed = r.Bool("allow_self_signed");
  v.aging_start_at = r.Int("aging_start_at");
  v.aging_start_volume = r.Int("aging_start_volume");
  v.aging_end_at = r.OptInt("aging_end_at").value_or(v.aging_start_at + kDefaultAgingDays * kDayMs);
  v.daily_send_limit = r.Int("daily_send_limit");
  v.daily_receive_limit = r.Int("daily_receive_limit");
  v.reply_rate_percent = r.Int("reply_rate_percent");
  v.reply_delay_min_minutes = r.Int("reply_delay_min_minutes");
  v.reply_delay_max_minutes = r.Int("reply_delay_max_minutes");
  v.important_rate_percent = r.Int("important_rate_percent");
  v.timezone = r.Text("timezone");
  return v;
}

// Applies `in` over `v` and checks the rules that span fields. A new bot's aging starts `now` and
// ends kDefaultAgingDays later unless the input says otherwise.
Status Apply(const BotInput& in, bool create, int64_t now, BotValues* v) {
  auto set = [](const auto& opt, auto* dst) {
    if (opt) *dst = *opt;
  };
  set(in.name, &v->name);
  set(in.email, &v->email);
  set(in.provider, &v->provider);
  if (in.smtp) {
    set(in.smtp->host, &v->smtp_host);
    set(in.smtp->port, &v->smtp_port);
    set(in.smtp->security, &v->smtp_security);
    set(in.smtp->username, &v->smtp_username);
  }
  if (in.imap) {
    set(in.imap->host, &v->imap_host);
    set(in.imap->port, &v->imap_port);
    set(in.imap->security, &v->imap_security);
    set(in.imap->username, &v->imap_username);
  }
  if (create) {
    if (v->smtp_username.empty()) v->smtp_username = v->email;
    if (v->imap_username.empty()) v->imap_username = v->email;
    if (v->name.empty()) v->name = v->email;
    v->aging_start_at = now;
  }
  set(in.allow_self_signed, &v->allow_self_signed);
  if (in.aging_start_at) v->aging_start_at = ParseIso8601(*in.aging_start_at).value();
  if (in.aging_end_at) {
    v->aging_end_at = ParseIso8601(*in.aging_end_at).value();
  } else if (create) {
    v->aging_end_at = v->aging_start_at + kDefaultAgingDays * kDayMs;
  }
  set(in.aging_start_volume, &v->aging_start_volume);
  set(in.daily_send_limit, &v->daily_send_limit);
  set(in.daily_receive_limit, &v->daily_receive_limit);
  set(in.reply_rate_percent, &v->reply_rate_percent);
  set(in.reply_delay_min_minutes, &v->reply_delay_min_minutes);
  set(in.reply_delay_max_minutes, &v->reply_delay_max_minutes);
  set(in.important_rate_percent, &v->important_rate_percent);
  set(in.timezone, &v->timezone);

  if (v->reply_delay_max_minutes < v->reply_delay_min_minutes) {
    return Status::InvalidArgument("must be at least reply_delay_min_minutes (" +
                                       std::to_string(v->reply_delay_min_minutes) + ")",
                                   "reply_delay_max_minutes");
  }
  const domain::TimeZone utc = domain::TimeZone::Fixed("UTC", 0, "UTC");
  domain::BotAging aging{.start_date = domain::DayAt(utc, v->aging_start_at),
                         .aging_end_date = domain::DayAt(utc, v->aging_end_at),
                         .start_volume = static_cast<int>(v->aging_start_volume),
                         .max_volume = static_cast<int>(v->daily_send_limit)};
  Status s = domain::ValidateBotAging(aging);
  if (!s.ok()) {
    static const std::map<std::string, std::string> kFields = {
        {"aging.start_date", "aging_start_at"},
        {"aging.aging_end_date", "aging_end_at"},
        {"aging.start_volume", "aging_start_volume"},
        {"aging.max_volume", "daily_send_limit"}};
    auto it = kFields.find(s.field());
    return s.WithField(it == kFields.end() ? s.field() : it->second);
  }
  return Status::Ok();
}

store::Params ValueParams(const BotValues& v) {
  return {v.name,
          v.email,
          v.provider,
          v.smtp_host,
          v.smtp_port,
          v.smtp_security,
          v.smtp_username,
          v.imap_host,
          v.imap_port,
          v.imap_security,
          v.imap_username,
          v.allow_self_signed,
          v.aging_start_at,
          v.aging_start_volume,
          v.aging_end_at,
          v.daily_send_limit,
          v.daily_receive_limit,
          v.reply_rate_percent,
          v.reply_delay_min_minutes,
          v.reply_delay_max_minutes,
          v.important_rate_percent,
          v.timezone};
}

json::object EndpointJson(const store::Row& r, const char* p) {
  std::string pre(p);
  return {{"host", r.Text(pre + "_host")},
          {"port", r.Int(pre + "_port")},
          {"security", r.Text(pre + "_security")},
          {"username", r.Text(pre + "_username")},
          {"has_password", !r.IsNull(pre + "_secret")}};
}

json::object BotJson(const store::Row& r) {
  auto provisioned = r.OptText("provisioned_by");
  return {{"id", r.Int("id")},
          {"name", r.Text("name")},
          {"email", r.Text("email")},
          {"provider", r.Text("provider")},
          {"smtp", EndpointJson(r, "smtp")},
          {"imap", EndpointJson(r, "imap")},
          {"allow_self_signed", r.Bool("allow_self_signed")},
          {"aging_start_at", TimeOrNull(r, "aging_start_at")},
          {"aging_start_volume", r.Int("aging_start_volume")},
          {"aging_end_at", TimeOrNull(r, "aging_end_at")},
          {"daily_send_limit", r.Int("daily_send_limit")},
          {"daily_receive_limit", r.Int("daily_receive_limit")},
          {"reply_rate_percent", r.Int("reply_rate_percent")},
          {"reply_delay_min_minutes", r.Int("reply_delay_min_minutes")},
          {"reply_delay_max_minutes", r.Int("reply_delay_max_minutes")},
          {"important_rate_percent", r.Int("important_rate_percent")},
          {"timezone", r.Text("timezone")},
          {"provisioned_by", provisioned ? json::value(*provisioned) : json::value(nullptr)},
          {"status", r.Text("status")},
          {"status_reason", r.Text("status_reason")},
          {"health_score", r.Int("health_score")},
          {"last_checked_at", TimeOrNull(r, "last_checked_at")},
          {"created_at", TimeOrNull(r, "created_at")},
          {"updated_at", TimeOrNull(r, "updated_at")}};
}

std::string SecretAad(int64_t id, std::string_view field) {
  return MailboxSecretAad("bots", id, field);
}

// Seals and stores the passwords present in `in`; returns the fields changed, for the audit log.
Result<json::array> StoreSecrets(const Api& api, store::Tx& tx, int64_t ws, int64_t id,
                                 const BotInput& in) {
  json::array changed;
  for (auto [ep, field] : {std::pair{&in.smtp, "smtp_secret"}, {&in.imap, "imap_secret"}}) {
    if (!*ep || !(*ep)->password) continue;
    KILN_ASSIGN_OR_RETURN(auto sealed, api.secrets().Seal(*(*ep)->password, SecretAad(id, field)));
    std::string query = std::string("bots.set_") + field;
    KILN_RETURN_IF_ERROR(tx.Exec(query, {ws, id, store::Blob{std::move(sealed)}}).status());
    changed.push_back(json::string(field));
  }
  return changed;
}

Status MapUnique(const Status& s) {
  if (s.code() == Status::Code::kAlreadyExists) {
    return Status::AlreadyExists("a warm-up inbox with this email already exists in this workspace",
                                 "email");
  }
  return s;
}

// Inserts a bot with its sealed secrets and an audit record; returns its id.
Result<int64_t> InsertBot(const Api& api, store::Tx& tx, const Ctx& ctx, const BotValues& v,
                          const BotInput& in, std::optional<std::string> provisioned_by,
                          std::string_view action, int64_t now) {
  store::Params params = {ctx.ws};
  for (auto& p : ValueParams(v)) params.push_back(std::move(p));
  params.push_back(provisioned_by);
  params.push_back(now);
  KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("bots.insert", params));
  int64_t id = row.Int("id");
  KILN_ASSIGN_OR_RETURN(auto secrets, StoreSecrets(api, tx, ctx.ws, id, in));
  KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, action, "bot", std::to_string(id),
                                  {{"email", v.email}, {"credentials_set", secrets}}, now));
  return id;
}

Result<int64_t> PathId(Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such warm-up inbox");
  return *id;
}

Result<json::object> LoadBotJson(Api& api, int64_t ws, int64_t id) {
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("bots.get", {ws, id}, "no such warm-up inbox"));
    out = BotJson(r);
    return Status::Ok();
  }));
  return out;
}

// Logs in over SMTP and IMAP with the stored credentials and records the outcome as the bot's
// status (active, or failed with the diagnosis). Answers {bot, smtp, imap}. The checks run outside
// any transaction: they take seconds.
Result<json::value> RunVerification(Api& api, const Ctx& ctx, int64_t id, std::string_view action) {
  std::optional<store::Row> row;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("bots.get", {ctx.ws, id}, "no such warm-up inbox"));
    row = std::move(r);
    return Status::Ok();
  }));
  KILN_ASSIGN_OR_RETURN(MailboxCheck check, CheckStoredMailbox(api, *row, "bots", id));
  const mail::Diagnosis& smtp_d = check.smtp;
  const mail::Diagnosis& imap_d = check.imap;
  const std::string& status = check.status;
  const std::string& reason = check.reason;
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto n, tx.Exec("bots.set_status", {ctx.ws, id, status, reason, now, 1}));
    if (n != 1) return Status::NotFound("no such warm-up inbox");
    KILN_RETURN_IF_ERROR(WriteAudit(
        tx, ctx, ctx.ws, action, "bot", std::to_string(id),
        {{"status", status}, {"smtp", DiagnosisJson(smtp_d)}, {"imap", DiagnosisJson(imap_d)}},
        now));
    KILN_ASSIGN_OR_RETURN(auto b, tx.QueryRow("bots.get", {ctx.ws, id}));
    out = {{"bot", BotJson(b)}, {"smtp", DiagnosisJson(smtp_d)}, {"imap", DiagnosisJson(imap_d)}};
    return Status::Ok();
  }));
  return out;
}

Result<json::value> CreateBot(Api& api, Ctx& ctx) {
  BotInput in;
  KILN_RETURN_IF_ERROR(ReadBot(ctx.body, true, &in));
  int64_t now = api.clock().NowMillis();
  BotValues v;
  KILN_RETURN_IF_ERROR(Apply(in, true, now, &v));
  json::object out;
  KILN_RETURN_IF_ERROR(MapUnique(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(int64_t id,
                          InsertBot(api, tx, ctx, v, in, std::nullopt, "bot.created", now));
    KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("bots.get", {ctx.ws, id}));
    out = BotJson(r);
    return Status::Ok();
  })));
  return out;
}

Result<json::value> ListBots(Api& api, Ctx& ctx) {
  std::string status;
  if (auto it = ctx.req.query.find("status"); it != ctx.req.query.end()) {
    status = it->second;
    if (status != "unverified" && status != "active" && status != "paused" && status != "failed") {
      return Status::InvalidArgument("must be one of unverified, active, paused, failed", "status");
    }
  }
  json::array items;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("bots.list", {ctx.ws, status}));
    for (const auto& r : rows) items.push_back(BotJson(r));
    return Status::Ok();
  }));
  return json::object{{"items", std::move(items)}};
}

Result<json::value> GetBot(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t id, PathId(ctx));
  KILN_ASSIGN_OR_RETURN(auto out, LoadBotJson(api, ctx.ws, id));
  return out;
}

Result<json::value> UpdateBot(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t id, PathId(ctx));
  BotInput in;
  KILN_RETURN_IF_ERROR(ReadBot(ctx.body, false, &in));
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(MapUnique(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto cur, tx.QueryRow("bots.get", {ctx.ws, id}, "no such warm-up inbox"));
    BotValues v = FromRow(cur);
    KILN_RETURN_IF_ERROR(Apply(in, false, now, &v));
    store::Params params = {ctx.ws, id};
    for (auto& p : ValueParams(v)) params.push_back(std::move(p));
    params.push_back(now);
    KILN_RETURN_IF_ERROR(tx.Exec("bots.update", params).status());
    KILN_ASSIGN_OR_RETURN(auto secrets, StoreSecrets(api, tx, ctx.ws, id, in));
    json::array fields;
    for (const auto& kv : ctx.body) fields.push_back(json::string(kv.key()));
    KILN_RETURN_IF_ERROR(WriteAudit(
        tx, ctx, ctx.ws, secrets.empty() ? "bot.updated" : "bot.credentials_changed", "bot",
        std::to_string(id), {{"fields", fields}, {"credentials_set", secrets}}, now));
    KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("bots.get", {ctx.ws, id}));
    out = BotJson(r);
    return Status::Ok();
  })));
  return out;
}

Result<json::value> DeleteBot(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t id, PathId(ctx));
  int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto n, tx.Exec("bots.delete", {ctx.ws, id}));
    if (n != 1) return Status::NotFound("no such warm-up inbox");
    return WriteAudit(tx, ctx, ctx.ws, "bot.deleted", "bot", std::to_string(id), {}, now);
  }));
  return json::value(nullptr);
}

Result<json::value> VerifyBot(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t id, PathId(ctx));
  KILN_ASSIGN_OR_RETURN(auto bot, LoadBotJson(api, ctx.ws, id));
  if (bot.at("status").as_string() == "paused") {
    return Status::FailedPrecondition(
        "the warm-up inbox is paused; resume it (which verifies it) to use it again", "status");
  }
  return RunVerification(api, ctx, id, "bot.verified");
}

Result<json::value> PauseBot(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t id, PathId(ctx));
  std::optional<std::string> reason;
  JsonFields in(ctx.body);
  KILN_RETURN_IF_ERROR(in.OptStr("reason", &reason, {.max_len = 500, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.Finish());
  std::string why = reason && !reason->empty() ? *reason : "paused by hand";
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto n, tx.Exec("bots.set_status", {ctx.ws, id, "paused", why, now, 0}));
    if (n != 1) return Status::NotFound("no such warm-up inbox");
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "bot.paused", "bot", std::to_string(id),
                                    {{"reason", why}}, now));
    KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("bots.get", {ctx.ws, id}));
    out = BotJson(r);
    return Status::Ok();
  }));
  return out;
}

Result<json::value> ResumeBot(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t id, PathId(ctx));
  return RunVerification(api, ctx, id, "bot.resumed");
}

// ---- CSV import ----

// The CSV columns and the input field each fills (api/csv_rows.h).
constexpr CsvColumn kColumns[] = {
    {"email", "email", CsvColumn::kText},
    {"name", "name", CsvColumn::kText},
    {"provider", "provider", CsvColumn::kText},
    {"smtp_host", "smtp.host", CsvColumn::kText},
    {"smtp_port", "smtp.port", CsvColumn::kInt},
    {"smtp_security", "smtp.security", CsvColumn::kText},
    {"smtp_username", "smtp.username", CsvColumn::kText},
    {"smtp_password", "smtp.password", CsvColumn::kText},
    {"imap_host", "imap.host", CsvColumn::kText},
    {"imap_port", "imap.port", CsvColumn::kInt},
    {"imap_security", "imap.security", CsvColumn::kText},
    {"imap_username", "imap.username", CsvColumn::kText},
    {"imap_password", "imap.password", CsvColumn::kText},
    {"allow_self_signed", "allow_self_signed", CsvColumn::kBool},
    {"aging_start_at", "aging_start_at", CsvColumn::kText},
    {"aging_start_volume", "aging_start_volume", CsvColumn::kInt},
    {"aging_end_at", "aging_end_at", CsvColumn::kText},
    {"daily_send_limit", "daily_send_limit", CsvColumn::kInt},
    {"daily_receive_limit", "daily_receive_limit", CsvColumn::kInt},
    {"reply_rate_percent", "reply_rate_percent", CsvColumn::kInt},
    {"reply_delay_min_minutes", "reply_delay_min_minutes", CsvColumn::kInt},
    {"reply_delay_max_minutes", "reply_delay_max_minutes", CsvColumn::kInt},
    {"important_rate_percent", "important_rate_percent", CsvColumn::kInt},
    {"timezone", "timezone", CsvColumn::kText},
};

Result<json::value> ImportBots(Api& api, Ctx& ctx) {
  std::string_view body = ctx.req.body;  // at most http_body_limit bytes (the server checks)
  KILN_ASSIGN_OR_RETURN(auto records,
                        ReadCsvRows(body, {.max_rows = kMaxImportRows, .what = "bots"}));
  if (records.empty())
    return Status::InvalidArgument("the file is empty; the first row names the columns");
  KILN_ASSIGN_OR_RETURN(auto columns,
                        MapCsvHeader(records[0].cells, kColumns, {}, "email",
                                     "email, name, provider, smtp_host, smtp_port, smtp_security, "
                                     "smtp_username, smtp_password, imap_host, ... (docs/api.md)"));

  int64_t now = api.clock().NowMillis();
  struct Ready {
    int64_t row;
    BotInput in;
    BotValues values;
  };
  std::vector<Ready> ready;
  CsvProblems problems(kMaxReportedErrors);
  std::set<std::string> emails_in_file;
  for (size_t i = 1; i < records.size(); ++i) {
    const int64_t row = records[i].row;
    const auto& cells = records[i].cells;
    if (CsvRowIsBlank(cells)) continue;
    auto obj = CsvCellsToInput(cells, columns);
    if (!obj.ok()) {
      problems.Add(row, obj.status().field(), obj.status().message());
      continue;
    }
    Ready r{.row = row, .in = {}, .values = {}};
    Status s = ReadBot(*obj, true, &r.in);
    if (s.ok()) s = Apply(r.in, true, now, &r.values);
    if (!s.ok()) {
      problems.Add(row, CsvColumnFor(s.field(), columns), s.message());
      continue;
    }
    if (!emails_in_file.insert(domain::EmailKey(r.values.email)).second) {
      problems.Add(row, "email", "appears on an earlier row of this file");
      continue;
    }
    ready.push_back(std::move(r));
  }
  if (ready.empty() && problems.empty()) {
    return Status::InvalidArgument("the file has no bots below its header row");
  }

  json::array ids;
  std::vector<std::pair<int64_t, int64_t>> existing_rows;  // (row, id of the bot already there)
  Status written = api.db().Write([&](store::Tx& tx) -> Status {
    ids.clear();
    existing_rows.clear();
    for (const Ready& r : ready) {
      KILN_ASSIGN_OR_RETURN(auto existing, tx.QueryOne("bots.by_email", {ctx.ws, r.values.email}));
      if (existing) existing_rows.emplace_back(r.row, existing->Int("id"));
    }
    // Rolls back: nothing is written when any row is wrong.
    if (!problems.empty() || !existing_rows.empty()) {
      return Status::FailedPrecondition("the file has errors");
    }
    for (const Ready& r : ready) {
      KILN_ASSIGN_OR_RETURN(
          int64_t id, InsertBot(api, tx, ctx, r.values, r.in, std::nullopt, "bot.imported", now));
      ids.push_back(id);
    }
    return Status::Ok();
  });
  for (auto [row, id] : existing_rows) {
    problems.Add(row, "email",
                 "a warm-up inbox with this email already exists (id " + std::to_string(id) + ")");
  }
  if (!problems.empty()) {
    ctx.problems = problems.Take();
    return problems.Summary();
  }
  KILN_RETURN_IF_ERROR(MapUnique(written));
  return json::object{{"created", static_cast<int64_t>(ids.size())}, {"ids", std::move(ids)}};
}

// ---- provisioning ----

Result<json::value> ProvisionBot(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  std::string local_part, domain_name;
  KILN_RETURN_IF_ERROR(in.Str("local_part", &local_part, {.min_len = 1, .max_len = 64}));
  KILN_RETURN_IF_ERROR(in.Str("domain", &domain_name, {.min_len = 1, .max_len = 253}));
  // Everything else is a bot's input without email and passwords (those are generated).
  json::object rest;
  for (const auto& kv : ctx.body) {
    if (kv.key() != "local_part" && kv.key() != "domain") rest[kv.key()] = kv.value();
  }
  for (const char* key : {"email"}) {
    if (rest.contains(key)) {
      return Status::InvalidArgument("is made of local_part and domain; do not give it", key);
    }
  }
  for (const char* ep : {"smtp", "imap"}) {
    auto it = rest.find(ep);
    if (it == rest.end() || !it->value().is_object()) {
      return Status::InvalidArgument("is required", ep);
    }
    if (it->value().as_object().contains("password")) {
      return Status::InvalidArgument("is generated by provisioning; do not give it",
                                     std::string(ep) + ".password");
    }
  }
  for (char c : local_part) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) {
      return Status::InvalidArgument("may hold only lowercase letters, digits, '.', '-' and '_'",
                                     "local_part");
    }
  }
  if (local_part.front() == '.' || local_part.back() == '.' ||
      local_part.find("..") != std::string::npos) {
    return Status::InvalidArgument("must not start or end with '.' or hold '..'", "local_part");
  }
  KILN_RETURN_IF_ERROR(ValidateHost(domain_name, "domain"));
  std::string address = local_part + "@" + domain::EmailKey(domain_name);
  const std::string password = auth::RandomToken(18);
  rest["email"] = address;
  rest["smtp"].as_object()["password"] = password;
  rest["imap"].as_object()["password"] = password;
  BotInput bin;
  KILN_RETURN_IF_ERROR(ReadBot(rest, true, &bin));
  int64_t now = api.clock().NowMillis();
  BotValues v;
  KILN_RETURN_IF_ERROR(Apply(bin, true, now, &v));

  KILN_ASSIGN_OR_RETURN(auto provisioner, warmup::ProvisionerFromConfig(api.config()));
  // The row first (so a duplicate address fails before touching the mail server), committed only
  // once the mailbox exists.
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto existing, tx.QueryOne("bots.by_email", {ctx.ws, address}));
    if (existing) {
      return Status::AlreadyExists("a warm-up inbox with this email already exists", "local_part");
    }
    return Status::Ok();
  }));
  Status created = provisioner->CreateMailbox(address, password);
  if (!created.ok()) {
    if (created.code() == Status::Code::kAlreadyExists) return created.WithField("local_part");
    if (created.code() == Status::Code::kInvalidArgument) return created.WithField("domain");
    return created;
  }
  int64_t id = 0;
  KILN_RETURN_IF_ERROR(MapUnique(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(id, InsertBot(api, tx, ctx, v, bin, std::string(provisioner->name()),
                                        "bot.provisioned", now));
    return Status::Ok();
  })));
  return RunVerification(api, ctx, id, "bot.verified");
}

// ---- activity ----

// GET .../bots/{id}/activity?limit=&before=: the warm-up mail the bot received, newest first, with
// what it did with each (found where, read, marked important, moved out of spam, answered).
// not_found for no such bot; invalid_argument naming limit / before.
Result<json::value> BotActivity(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t id, PathId(ctx));
  KILN_ASSIGN_OR_RETURN(const Page page, ReadPage(ctx.req, "a warm-up message id", 200));
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(tx.QueryRow("bots.get", {ctx.ws, id}, "no such warm-up inbox").status());
    KILN_ASSIGN_OR_RETURN(auto rows,
                          tx.Query("bot_activity.list", {ctx.ws, id, page.before, page.limit + 1}));
    out = PagedItems(rows, page, [](const store::Row& r) -> json::value {
      return json::object{{"id", r.Int("id")},
                          {"sender_id", r.Int("sender_id")},
                          {"sender_email", r.Text("sender_email")},
                          {"subject", r.Text("subject")},
                          {"placement", r.Text("placement")},
                          {"sent_at", TimeOrNull(r, "sent_at")},
                          {"received_at", TimeOrNull(r, "delivered_at")},
                          {"opened_at", TimeOrNull(r, "opened_at")},
                          {"flagged_at", TimeOrNull(r, "flagged_at")},
                          {"rescued_at", TimeOrNull(r, "rescued_at")},
                          {"replied_at", TimeOrNull(r, "replied_at")}};
    });
    return Status::Ok();
  }));
  return out;
}

// ---- reputation ----

Result<json::value> Reputation(Api& api, Ctx& ctx, warmup::SubjectKind kind) {
  const char* what =
      kind == warmup::SubjectKind::kSender ? "no such sender" : "no such warm-up inbox";
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound(what);
  int64_t days = 30;
  if (auto it = ctx.req.query.find("days"); it != ctx.req.query.end()) {
    auto n = ParseId(it->second);
    if (!n.ok() || *n > 365) return Status::InvalidArgument("must be 1..365", "days");
    days = *n;
  }
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto report, warmup::LoadReputation(tx, kind, ctx.ws, *id, now, days));
    if (!report) return Status::NotFound(what);
    out = warmup::ReputationJson(*report);
    return Status::Ok();
  }));
  return out;
}

Result<json::value> SenderReputation(Api& api, Ctx& ctx) {
  return Reputation(api, ctx, warmup::SubjectKind::kSender);
}

Result<json::value> BotReputation(Api& api, Ctx& ctx) {
  return Reputation(api, ctx, warmup::SubjectKind::kBot);
}

// ---- schemas ----

constexpr char kEndpointSchema[] =
    R"({"type":"object","additionalProperties":false,"properties":{"host":{"type":"string"},"port":{"type":"integer","minimum":1,"maximum":65535},"security":{"type":"string","enum":["tls","starttls","none"]},"username":{"type":"string","description":"default: the bot's email"},"password":{"type":"string","writeOnly":true}}})";

constexpr char kBotFields[] =
    R"("name":{"type":["string","null"]},"provider":{"type":"string","enum":["gmail","outlook","yahoo","self_hosted","other"]},"allow_self_signed":{"type":"boolean"},"aging_start_at":{"type":"string","format":"date-time"},"aging_start_volume":{"type":"integer","minimum":1},"aging_end_at":{"type":"string","format":"date-time"},"daily_send_limit":{"type":"integer","minimum":1,"maximum":10000},"daily_receive_limit":{"type":"integer","minimum":0,"maximum":10000},"reply_rate_percent":{"type":"integer","minimum":0,"maximum":100},"reply_delay_min_minutes":{"type":"integer","minimum":0},"reply_delay_max_minutes":{"type":"integer","minimum":0},"important_rate_percent":{"type":"integer","minimum":0,"maximum":100},"timezone":{"type":"string"})";

std::string BotInputSchema(bool create) {
  std::string req = create ? R"("required":["email","smtp","imap"],)" : "";
  return std::string(R"({"type":"object",)") + req +
         R"("additionalProperties":false,"properties":{"email":{"type":"string","format":"email"},)" +
         kBotFields + R"(,"smtp":)" + kEndpointSchema + R"(,"imap":)" + kEndpointSchema + "}}";
}

std::string ProvisionSchema() {
  return std::string(
             R"({"type":"object","required":["local_part","domain","smtp","imap"],"additionalProperties":false,"properties":{"local_part":{"type":"string"},"domain":{"type":"string"},)") +
         kBotFields + R"(,"smtp":)" + kEndpointSchema + R"(,"imap":)" + kEndpointSchema + "}}";
}

constexpr char kBotSchema[] =
    R"({"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},"email":{"type":"string"},"provider":{"type":"string"},"smtp":{"type":"object","properties":{"host":{"type":"string"},"port":{"type":"integer"},"security":{"type":"string"},"username":{"type":"string"},"has_password":{"type":"boolean"}}},"imap":{"type":"object"},"allow_self_signed":{"type":"boolean"},"aging_start_at":{"type":"string"},"aging_start_volume":{"type":"integer"},"aging_end_at":{"type":"string"},"daily_send_limit":{"type":"integer"},"daily_receive_limit":{"type":"integer"},"reply_rate_percent":{"type":"integer"},"reply_delay_min_minutes":{"type":"integer"},"reply_delay_max_minutes":{"type":"integer"},"important_rate_percent":{"type":"integer"},"timezone":{"type":"string"},"provisioned_by":{"type":["string","null"]},"status":{"type":"string","enum":["unverified","active","paused","failed"]},"status_reason":{"type":"string"},"health_score":{"type":"integer"},"last_checked_at":{"type":["string","null"]},"created_at":{"type":"string"},"updated_at":{"type":"string"}}})";

constexpr char kVerifySchema[] =
    R"({"type":"object","properties":{"bot":{"type":"object"},"smtp":{"type":"object","properties":{"ok":{"type":"boolean"},"kind":{"type":"string"},"message":{"type":"string"}}},"imap":{"type":"object"}}})";

constexpr char kReputationSchema[] =
    R"({"type":"object","properties":{"subject":{"type":"string","enum":["sender","bot"]},"id":{"type":"integer"},"health_score":{"type":"integer"},"windows":{"type":"array","items":{"type":"object"}},"daily":{"type":"array","items":{"type":"object"}}}})";

}  // namespace

void RegisterBotRoutes(Api& api) {
  Api* a = &api;
  auto bind = [a](Result<json::value> (*fn)(Api&, Ctx&)) {
    return [a, fn](Ctx& c) { return fn(*a, c); };
  };
  const std::string base = "/api/v1/workspaces/{ws}/bots";
  api.Add(
      verb::get, base, {Access::kWorkspace, Role::kViewer}, bind(ListBots),
      {.summary = "Warm-up inboxes of the workspace (?status= filters)",
       .tag = "bots",
       .response_schema =
           R"({"type":"object","properties":{"items":{"type":"array","items":{"type":"object"}}}})"});
  api.Add(verb::post, base, {Access::kWorkspace, Role::kMember}, bind(CreateBot),
          {.summary = "Add a warm-up inbox (SMTP + IMAP); passwords are write-only",
           .tag = "bots",
           .request_schema = BotInputSchema(true),
           .response_schema = kBotSchema,
           .success_status = 201});
  api.Add(
      verb::post, base + "/import", {Access::kWorkspace, Role::kMember, /*raw_body=*/true},
      bind(ImportBots),
      {.summary = "Add many warm-up inboxes from a CSV (header row names the columns); all "
                  "or nothing, errors by row and column",
       .tag = "bots",
       .response_schema =
           R"({"type":"object","properties":{"created":{"type":"integer"},"ids":{"type":"array","items":{"type":"integer"}}}})",
       .success_status = 201});
  api.Add(verb::post, base + "/provision", {Access::kWorkspace, Role::kAdmin}, bind(ProvisionBot),
          {.summary = "Create a mailbox on the operator's mail server, add it as a warm-up inbox "
                      "with generated credentials, and verify it",
           .tag = "bots",
           .request_schema = ProvisionSchema(),
           .response_schema = kVerifySchema,
           .success_status = 201,
           .blocking = true});
  api.Add(verb::get, base + "/{id}", {Access::kWorkspace, Role::kViewer}, bind(GetBot),
          {.summary = "One warm-up inbox", .tag = "bots", .response_schema = kBotSchema});
  api.Add(verb::patch, base + "/{id}", {Access::kWorkspace, Role::kMember}, bind(UpdateBot),
          {.summary = "Change a warm-up inbox; fields left out keep their value",
           .tag = "bots",
           .request_schema = BotInputSchema(false),
           .response_schema = kBotSchema});
  api.Add(verb::delete_, base + "/{id}", {Access::kWorkspace, Role::kMember}, bind(DeleteBot),
          {.summary = "Delete a warm-up inbox", .tag = "bots", .success_status = 204});
  api.Add(verb::post, base + "/{id}/verify", {Access::kWorkspace, Role::kMember}, bind(VerifyBot),
          {.summary = "Log in over SMTP and IMAP; the status becomes active or failed with the "
                      "diagnosis",
           .tag = "bots",
           .response_schema = kVerifySchema,
           .blocking = true});
  api.Add(
      verb::post, base + "/{id}/pause", {Access::kWorkspace, Role::kMember}, bind(PauseBot),
      {.summary = "Stop using a warm-up inbox",
       .tag = "bots",
       .request_schema =
           R"({"type":"object","additionalProperties":false,"properties":{"reason":{"type":["string","null"]}}})",
       .response_schema = kBotSchema});
  api.Add(verb::post, base + "/{id}/resume", {Access::kWorkspace, Role::kMember}, bind(ResumeBot),
          {.summary = "Verify a paused warm-up inbox and use it again when it passes",
           .tag = "bots",
           .response_schema = kVerifySchema,
           .blocking = true});
  api.Add(
      verb::get, base + "/{id}/activity", {Access::kWorkspace, Role::kViewer}, bind(BotActivity),
      {.summary = "Warm-up mail the inbox received, newest first, with what it did with each "
                  "(?limit=1..200, default 50, &before=)",
       .tag = "bots",
       .response_schema = PagedSchema(
           R"({"type":"object","properties":{"id":{"type":"integer"},"sender_id":{"type":"integer"},"sender_email":{"type":"string"},"subject":{"type":"string"},"placement":{"type":"string","enum":["unknown","inbox","spam","other_folder","missing"]},"sent_at":{"type":["string","null"]},"received_at":{"type":["string","null"]},"opened_at":{"type":["string","null"]},"flagged_at":{"type":["string","null"]},"rescued_at":{"type":["string","null"]},"replied_at":{"type":["string","null"]}}})")});
  api.Add(verb::get, base + "/{id}/reputation", {Access::kWorkspace, Role::kViewer},
          bind(BotReputation),
          {.summary = "Placement, bounce and reply rates over 7/14/30 days, health score, daily "
                      "history (?days=1..365, default 30)",
           .tag = "bots",
           .response_schema = kReputationSchema});
  api.Add(verb::get, "/api/v1/workspaces/{ws}/senders/{id}/reputation",
          {Access::kWorkspace, Role::kViewer}, bind(SenderReputation),
          {.summary = "Placement, bounce and reply rates over 7/14/30 days, health score, daily "
                      "history (?days=1..365, default 30)",
           .tag = "senders",
           .response_schema = kReputationSchema});
}

}  // namespace kiln::api
