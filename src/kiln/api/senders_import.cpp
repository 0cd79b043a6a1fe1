// POST /workspaces/{ws}/senders/import: many senders from one CSV file, all or nothing.
//
// The first row names the columns (canonical names, aliases people use, any case, spaces or '-'
// for '_'). Each data row becomes the JSON input of POST .../senders, after three conveniences:
// a `preset` column (gmail, outlook, custom) fills the SMTP and IMAP hosts, ports and security the
// row leaves empty; shared `username` / `password` columns fill both protocols' logins; an empty
// username is the email and an empty name is the email. Every row goes through the single-sender
// checks (api/senders.h), and every problem is reported by row and column, with duplicates inside
// the file and against the workspace; when there is any, nothing is written. Otherwise all the
// senders are inserted in one transaction, sealed and audited as one added by hand, status
// unverified: the dashboard then verifies them.
//
// Cells are stored as text, never evaluated: a cell that looks like a spreadsheet formula
// ("=HYPERLINK(...)") is only a problem where the field's own rules refuse it (a host, a port, an
// address), and exports neutralise it (leads::AppendCsvField). Passwords are taken verbatim.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/csv_rows.h"
#include "kiln/api/senders.h"
#include "kiln/domain/email_address.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

constexpr size_t kMaxImportRows = 5000;
constexpr size_t kMaxReportedProblems = 200;
// No cell of a sender needs more (a password is at most 4096 bytes): a longer one is reported as
// a problem of its row instead of being carried through the checks.
constexpr size_t kMaxCellBytes = 64 * 1024;

constexpr CsvColumn kColumns[] = {
    {"email", "email", CsvColumn::kText},
    {"name", "name", CsvColumn::kText},
    {"from_name", "from_name", CsvColumn::kText},
    {"preset", "preset", CsvColumn::kText},
    {"username", "username", CsvColumn::kText},
    {"password", "password", CsvColumn::kText},
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
    {"daily_quota", "daily_quota", CsvColumn::kInt},
    {"allow_self_signed", "allow_self_signed", CsvColumn::kBool},
    {"source_ip", "source_ip", CsvColumn::kText},
    {"proxy_url", "proxy_url", CsvColumn::kText},
    {"timezone", "timezone", CsvColumn::kText},
    {"warmup_enabled", "warmup.enabled", CsvColumn::kBool},
    {"warmup_start_at", "warmup.start_at", CsvColumn::kText},
    {"warmup_end_at", "warmup.end_at", CsvColumn::kText},
    {"warmup_start_volume", "warmup.start_volume", CsvColumn::kInt},
    {"warmup_daily_increase", "warmup.daily_increase", CsvColumn::kInt},
    {"warmup_max_volume", "warmup.max_volume", CsvColumn::kInt},
    {"warmup_weekdays_only", "warmup.weekdays_only", CsvColumn::kBool},
    {"warmup_reply_rate_percent", "warmup.reply_rate_percent", CsvColumn::kInt},
};

constexpr CsvAlias kAliases[] = {
    {"email_address", "email"},
    {"e_mail", "email"},
    {"sender_name", "from_name"},
    {"display_name", "from_name"},
    {"from", "from_name"},
    {"provider", "preset"},
    {"user", "username"},
    {"login", "username"},
    {"pass", "password"},
    {"app_password", "password"},
    {"smtp_server", "smtp_host"},
    {"smtp_user", "smtp_username"},
    {"smtp_login", "smtp_username"},
    {"smtp_pass", "smtp_password"},
    {"smtp_encryption", "smtp_security"},
    {"imap_server", "imap_host"},
    {"imap_user", "imap_username"},
    {"imap_login", "imap_username"},
    {"imap_pass", "imap_password"},
    {"imap_encryption", "imap_security"},
    {"daily_limit", "daily_quota"},
    {"daily_send_limit", "daily_quota"},
    {"warmup_daily_target", "warmup_max_volume"},
    {"warmup_limit", "warmup_max_volume"},
};

constexpr char kKnownColumns[] =
    "email, name, from_name, preset (gmail, outlook, custom), username, password, smtp_host, "
    "smtp_port, smtp_security, smtp_username, smtp_password, imap_host, imap_port, imap_security, "
    "imap_username, imap_password, daily_quota, allow_self_signed, source_ip, proxy_url, timezone, "
    "warmup_enabled, warmup_start_at, warmup_end_at, warmup_start_volume, warmup_daily_increase, "
    "warmup_max_volume, warmup_weekdays_only, warmup_reply_rate_percent (docs/api.md)";

// A provider's servers, as the dashboard's presets (web/src/pages/senders/presets.ts).
struct Preset {
  const char* name;
  const char* smtp_host;
  int64_t smtp_port;
  const char* smtp_security;
  const char* imap_host;
  int64_t imap_port;
  const char* imap_security;
};
constexpr Preset kPresets[] = {
    {"gmail", "smtp.gmail.com", 587, "starttls", "imap.gmail.com", 993, "tls"},
    {"outlook", "smtp.office365.com", 587, "starttls", "outlook.office365.com", 993, "tls"},
};

void SetIfAbsent(json::object& obj, std::string_view key, json::value v) {
  if (!obj.contains(key)) obj[key] = std::move(v);
}

// Removes `key` from `obj` and answers its value (null when absent).
json::value Take(json::object& obj, std::string_view key) {
  json::value v;
  if (auto* found = obj.if_contains(key)) v = *found;
  obj.erase(key);
  return v;
}

// Turns a row's cells (as CsvCellsToInput read them) into the input of POST .../senders: the
// preset, the shared login columns and the defaults. Fails InvalidArgument naming "preset" for an
// unknown preset.
Status CompleteInput(json::object& obj) {
  const Preset* preset = nullptr;
  if (json::value p = Take(obj, "preset"); p.is_string()) {
    std::string name(p.as_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "google") name = "gmail";
    if (name == "office365" || name == "microsoft" || name == "microsoft365") name = "outlook";
    for (const Preset& candidate : kPresets) {
      if (name == candidate.name) preset = &candidate;
    }
    if (!preset && name != "custom") {
      return Status::InvalidArgument("must be one of gmail, outlook, custom", "preset");
    }
  }
  const json::value username = Take(obj, "username");
  const json::value password = Take(obj, "password");
  const json::value email = obj.contains("email") ? obj.at("email") : json::value();
  if (!email.is_null()) SetIfAbsent(obj, "name", email);
  for (const char* key : {"smtp", "imap"}) {
    if (!obj[key].is_object()) obj[key].emplace_object();
  }
  // Every insertion into `obj` is above: the references below stay valid.
  json::object& smtp = obj.at("smtp").as_object();
  json::object& imap = obj.at("imap").as_object();
  if (preset) {
    SetIfAbsent(smtp, "host", preset->smtp_host);
    SetIfAbsent(smtp, "port", preset->smtp_port);
    SetIfAbsent(smtp, "security", preset->smtp_security);
    SetIfAbsent(imap, "host", preset->imap_host);
    SetIfAbsent(imap, "port", preset->imap_port);
    SetIfAbsent(imap, "security", preset->imap_security);
  }
  for (json::object* endpoint : {&smtp, &imap}) {
    if (!password.is_null()) SetIfAbsent(*endpoint, "password", password);
    if (!username.is_null()) SetIfAbsent(*endpoint, "username", username);
    if (!email.is_null()) SetIfAbsent(*endpoint, "username", email);
  }
  return Status::Ok();
}

// The column to blame for a problem with `field`: the file's own column for it, else the shared
// username/password column that filled it, else the canonical name of the column to add (a
// preset's values are always valid, so it is never the one at fault).
std::string ColumnToBlame(const std::string& field, const std::vector<const CsvColumn*>& columns) {
  auto has = [&](std::string_view name) {
    return std::any_of(columns.begin(), columns.end(),
                       [&](const CsvColumn* c) { return name == c->name; });
  };
  std::string column = CsvColumnFor(field, columns);
  if (has(column)) return column;
  for (const char* shared : {"username", "password"}) {
    if (field.ends_with(std::string(".") + shared) && has(shared)) return shared;
  }
  return column;
}

Result<json::value> ImportSenders(Api& api, Ctx& ctx) {
  std::string_view body = ctx.req.body;  // at most kMaxSenderImportBytes (Api::BodyLimitFor)
  KILN_ASSIGN_OR_RETURN(auto records, ReadCsvRows(body, {.max_rows = kMaxImportRows,
                                                         .what = "senders",
                                                         .max_field_bytes = kMaxCellBytes,
                                                         .stop_on_bad_record = false}));
  if (records.empty()) {
    return Status::InvalidArgument("the file is empty; the first row names the columns", "columns");
  }
  if (!records[0].error.empty()) {
    return Status::InvalidArgument("the first row cannot be read: " + records[0].error, "columns");
  }
  KILN_ASSIGN_OR_RETURN(auto columns,
                        MapCsvHeader(records[0].cells, kColumns, kAliases, "email", kKnownColumns));

  const int64_t now = api.clock().NowMillis();
  struct Ready {
    int64_t row;
    std::string email;
    json::object input;
  };
  std::vector<Ready> ready;
  CsvProblems problems(kMaxReportedProblems);
  std::set<std::string> emails_in_file;
  for (size_t i = 1; i < records.size(); ++i) {
    const CsvRow& record = records[i];
    if (!record.error.empty()) {
      problems.Add(record.row, "", record.error);
      continue;
    }
    if (CsvRowIsBlank(record.cells)) continue;
    auto obj = CsvCellsToInput(record.cells, columns);
    Status s = obj.status();
    if (s.ok()) s = CompleteInput(*obj);
    std::string email;
    if (s.ok()) s = CheckNewSender(*obj, now, &email);
    if (!s.ok()) {
      problems.Add(record.row, ColumnToBlame(s.field(), columns), s.message());
      continue;
    }
    if (!emails_in_file.insert(domain::EmailKey(email)).second) {
      problems.Add(record.row, "email", "appears on an earlier row of this file");
      continue;
    }
    ready.push_back(Ready{.row = record.row, .email = email, .input = std::move(*obj)});
  }
  if (ready.empty() && problems.empty()) {
    return Status::InvalidArgument("the file has no senders below its header row", "columns");
  }

  json::array ids;
  std::vector<std::pair<int64_t, int64_t>> existing_rows;  // (row, id of the sender there)
  Status written = api.db().Write([&](store::Tx& tx) -> Status {
    ids.clear();
    existing_rows.clear();
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("senders_import.emails", {ctx.ws}));
    std::map<std::string, int64_t> existing;
    for (const auto& r : rows) existing.emplace(domain::EmailKey(r.Text("email")), r.Int("id"));
    for (const Ready& r : ready) {
      auto it = existing.find(domain::EmailKey(r.email));
      if (it != existing.end()) existing_rows.emplace_back(r.row, it->second);
    }
    // Rolls back: nothing is written when any row is wrong.
    if (!problems.empty() || !existing_rows.empty()) {
      return Status::FailedPrecondition("the file has errors");
    }
    for (const Ready& r : ready) {
      KILN_ASSIGN_OR_RETURN(int64_t id,
                            InsertNewSender(api, tx, ctx, r.input, "sender.imported", now));
      ids.push_back(id);
    }
    return Status::Ok();
  });
  for (auto [row, id] : existing_rows) {
    problems.Add(row, "email",
                 "a sender with this email already exists in this workspace (id " +
                     std::to_string(id) + ")");
  }
  if (!problems.empty()) {
    ctx.problems = problems.Take();
    return problems.Summary();
  }
  KILN_RETURN_IF_ERROR(written);
  return json::object{{"created", static_cast<int64_t>(ids.size())}, {"ids", std::move(ids)}};
}

}  // namespace

void RegisterSenderImportRoutes(Api& api) {
  Api* a = &api;
  api.Add(
      verb::post, "/api/v1/workspaces/{ws}/senders/import",
      {Access::kWorkspace, Role::kMember, /*raw_body=*/true},
      [a](Ctx& c) { return ImportSenders(*a, c); },
      {.summary = "Add many senders from a CSV (header row names the columns; a preset column "
                  "fills Gmail or Outlook servers); all or nothing, errors by row and column; "
                  "the senders start unverified",
       .tag = "senders",
       .response_schema =
           R"({"type":"object","properties":{"created":{"type":"integer"},"ids":{"type":"array","items":{"type":"integer"}}}})",
       .success_status = 201});
}

}  // namespace kiln::api
