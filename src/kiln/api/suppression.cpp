// Suppression list: addresses and whole domains that must never be mailed again, workspace-wide or
// for one campaign. Unsubscribes (tracking.cpp), hard bounces and complaints add themselves; these
// routes add by hand, remove, import and export. Addresses are validated with
// domain::NormalizeEmailAddress and stored lowercased; domains are lowercased, IDN kept as UTF-8.
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/json_input.h"
#include "kiln/api/senders.h"
#include "kiln/base/time_format.h"
#include "kiln/domain/email_address.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::field;
using http::bhttp::verb;

namespace {

constexpr size_t kMaxImportBytes = 10 * 1024 * 1024;
constexpr size_t kMaxValuesPerRequest = 1000;
constexpr size_t kMaxReportedErrors = 1000;

struct Entry {
  bool is_domain = false;
  std::string value;  // lowercased address, or domain without '@'
};

// "ann@example.com" -> address; "@example.com" -> whole domain. The message says what is wrong.
Result<Entry> ParseEntry(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty()) return Status::InvalidArgument("is empty");
  if (!IsValidUtf8(text)) return Status::InvalidArgument("is not valid UTF-8");
  if (text.front() == '@') {
    std::string domain(text.substr(1));
    if (domain.find('@') != std::string::npos) {
      return Status::InvalidArgument(
          "a domain entry is '@' followed by a domain, like @example.com");
    }
    auto normalized = domain::NormalizeEmailAddress("postmaster@" + domain);
    if (!normalized.ok()) {
      return Status::InvalidArgument("is not a valid domain: " + normalized.status().message());
    }
    return Entry{true, domain::EmailDomain(*normalized)};
  }
  auto normalized = domain::NormalizeEmailAddress(text);
  if (!normalized.ok()) return normalized.status();
  return Entry{false, domain::EmailKey(*normalized)};
}

json::value EntryJson(const store::Row& r) {
  json::object o;
  o["id"] = r.Int("id");
  o["email"] = r.IsNull("email") ? json::value(nullptr) : json::value(r.Text("email"));
  o["domain"] = r.IsNull("domain") ? json::value(nullptr) : json::value(r.Text("domain"));
  auto campaign = r.OptInt("campaign_id");
  o["campaign_id"] = campaign ? json::value(*campaign) : json::value(nullptr);
  o["reason"] = r.Text("reason");
  o["source"] = r.Text("source");
  o["created_at"] = TimeOrNull(r, "created_at");
  return o;
}

// Checks that `campaign_id` (when non-zero) is a campaign of ws; NotFound-like 400 otherwise.
Status CheckCampaign(store::Tx& tx, int64_t ws, int64_t campaign_id, const std::string& field) {
  if (campaign_id == 0) return Status::Ok();
  KILN_ASSIGN_OR_RETURN(auto row, tx.QueryOne("suppression.campaign_exists", {ws, campaign_id}));
  if (!row) return Status::InvalidArgument("no such campaign in this workspace", field);
  return Status::Ok();
}

// Inserts one entry; true when it was new (an address or domain already listed stays as it is).
Result<bool> Insert(store::Tx& tx, int64_t ws, int64_t campaign_id, const Entry& e,
                    std::string_view reason, std::string_view source, int64_t now) {
  KILN_ASSIGN_OR_RETURN(auto n,
                        tx.Exec(e.is_domain ? "suppression.add_domain" : "suppression.add_email",
                                {ws, NullIfZero(campaign_id), e.value, reason, source, now}));
  return n > 0;
}

Result<json::value> ListSuppressions(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(const Page page, ReadPage(ctx.req, "a suppression entry id"));
  KILN_ASSIGN_OR_RETURN(const int64_t campaign_id,
                        ReadIdFilter(ctx.req, "campaign_id", "a campaign id"));
  KILN_ASSIGN_OR_RETURN(const std::string pattern, ReadSearchPattern(ctx.req));
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("suppression.list", {ctx.ws, page.before, pattern,
                                                                   campaign_id, page.limit + 1}));
    out = PagedItems(rows, page, EntryJson);
    return Status::Ok();
  }));
  return out;
}

Result<json::value> AddSuppressions(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  const json::array* values = nullptr;
  std::optional<int64_t> campaign_id;
  KILN_RETURN_IF_ERROR(in.Arr("values", &values, kMaxValuesPerRequest));
  KILN_RETURN_IF_ERROR(in.OptInt("campaign_id", &campaign_id, 1, INT64_MAX));
  KILN_RETURN_IF_ERROR(in.Finish());
  if (values->empty()) return Status::InvalidArgument("must have at least one item", "values");
  std::vector<Entry> entries;
  for (size_t i = 0; i < values->size(); ++i) {
    std::string field = "values[" + std::to_string(i) + "]";
    if (!(*values)[i].is_string()) return Status::InvalidArgument("must be a string", field);
    auto e = ParseEntry((*values)[i].as_string());
    if (!e.ok()) return Status::InvalidArgument(e.status().message(), field);
    entries.push_back(std::move(e).value());
  }
  int64_t added = 0;
  int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(CheckCampaign(tx, ctx.ws, campaign_id.value_or(0), "campaign_id"));
    for (const auto& e : entries) {
      KILN_ASSIGN_OR_RETURN(bool fresh,
                            Insert(tx, ctx.ws, campaign_id.value_or(0), e, "manual", "", now));
      added += fresh ? 1 : 0;
    }
    return WriteAudit(tx, ctx, ctx.ws, "suppression.add", "suppression", "",
                      {{"count", static_cast<int64_t>(entries.size())}, {"added", added}}, now);
  }));
  return json::object{{"added", added}, {"existing", static_cast<int64_t>(entries.size()) - added}};
}

Result<json::value> DeleteSuppression(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t id, ParseId(ctx.req.path_params["id"]));
  int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto n, tx.Exec("suppression.delete", {ctx.ws, id}));
    if (n == 0) return Status::NotFound("no such suppression entry");
    return WriteAudit(tx, ctx, ctx.ws, "suppression.remove", "suppression", std::to_string(id), {},
                      now);
  }));
  return json::value(nullptr);
}

// The first field of one CSV record (RFC 4180 quoting; a record never spans lines here because
// addresses and domains hold no line breaks). A leading apostrophe, which the export adds to keep
// spreadsheets from reading a value as a formula, is removed.
Result<std::string> FirstField(std::string_view line) {
  std::string out;
  if (!line.empty() && line.front() == '"') {
    size_t i = 1;
    for (;; ++i) {
      if (i >= line.size())
        return Status::InvalidArgument("has an opening quote without a closing one");
      if (line[i] == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          out.push_back('"');
          ++i;
          continue;
        }
        break;
      }
      out.push_back(line[i]);
    }
    if (i + 1 < line.size() && line[i + 1] != ',') {
      return Status::InvalidArgument("has text after the closing quote");
    }
  } else {
    out = std::string(line.substr(0, line.find(',')));
  }
  if (!out.empty() && out.front() == '\'') out.erase(0, 1);
  return out;
}

Result<json::value> ImportSuppressions(Api& api, Ctx& ctx) {
  std::string_view body = ctx.req.body;
  if (body.size() > kMaxImportBytes) {
    return Status::TooLarge("the file is larger than " + std::to_string(kMaxImportBytes) +
                            " bytes");
  }
  int64_t campaign_id = 0;
  if (auto it = ctx.req.query.find("campaign_id"); it != ctx.req.query.end()) {
    auto v = ParseId(it->second);
    if (!v.ok()) return Status::InvalidArgument("must be a campaign id", "campaign_id");
    campaign_id = *v;
  }
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);  // UTF-8 byte order mark
  std::vector<std::pair<int64_t, Entry>> entries;
  json::array errors;
  int64_t error_count = 0;
  int64_t row = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    ++row;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto value = FirstField(line);
    Status problem = value.status();
    std::optional<Entry> entry;
    if (value.ok()) {
      std::string trimmed = *value;
      while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t'))
        trimmed.pop_back();
      while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t'))
        trimmed.erase(0, 1);
      if (trimmed.empty()) continue;  // blank lines
      std::string lower = domain::EmailKey(trimmed);
      if (row == 1 && (lower == "email" || lower == "address" || lower == "domain"))
        continue;  // header
      auto parsed = ParseEntry(trimmed);
      if (parsed.ok()) {
        entry = std::move(parsed).value();
      } else {
        problem = parsed.status();
      }
    }
    if (!entry) {
      ++error_count;
      if (errors.size() < kMaxReportedErrors) {
        std::string shown(line.substr(0, 200));
        if (!IsValidUtf8(shown)) shown = "(invalid UTF-8)";
        errors.push_back(
            json::object{{"row", row}, {"value", shown}, {"message", problem.message()}});
      }
      continue;
    }
    entries.emplace_back(row, std::move(*entry));
  }
  int64_t added = 0;
  int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(CheckCampaign(tx, ctx.ws, campaign_id, "campaign_id"));
    for (const auto& [r, e] : entries) {
      KILN_ASSIGN_OR_RETURN(bool fresh,
                            Insert(tx, ctx.ws, campaign_id, e, "imported", "import", now));
      added += fresh ? 1 : 0;
    }
    return WriteAudit(tx, ctx, ctx.ws, "suppression.import", "suppression", "",
                      {{"rows", row}, {"added", added}, {"errors", error_count}}, now);
  }));
  return json::object{{"rows", row},
                      {"added", added},
                      {"existing", static_cast<int64_t>(entries.size()) - added},
                      {"error_count", error_count},
                      {"errors", std::move(errors)}};
}

// A CSV field, quoted, with a leading apostrophe when a spreadsheet would read it as a formula.
void AppendCsvField(std::string& out, std::string_view v) {
  out.push_back('"');
  if (!v.empty() && (v.front() == '=' || v.front() == '+' || v.front() == '-' || v.front() == '@' ||
                     v.front() == '\t' || v.front() == '\r')) {
    out.push_back('\'');
  }
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

Result<json::value> ExportSuppressions(Api& api, Ctx& ctx) {
  std::string csv = "address,reason,campaign_id,source,created_at\r\n";
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    int64_t after = 0;
    for (;;) {
      KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("suppression.export", {ctx.ws, after, 5000}));
      for (const auto& r : rows) {
        std::string address = r.IsNull("email") ? "@" + r.Text("domain") : r.Text("email");
        AppendCsvField(csv, address);
        csv.push_back(',');
        AppendCsvField(csv, r.Text("reason"));
        csv.push_back(',');
        if (auto c = r.OptInt("campaign_id")) csv += std::to_string(*c);
        csv.push_back(',');
        AppendCsvField(csv, r.Text("source"));
        csv.push_back(',');
        csv += FormatIso8601(r.Int("created_at"));
        csv += "\r\n";
        after = r.Int("id");
      }
      if (rows.size() < 5000) return Status::Ok();
    }
  }));
  ctx.res.body = std::move(csv);
  ctx.res.SetHeader(field::content_type, "text/csv; charset=utf-8");
  ctx.res.SetHeader(field::content_disposition, "attachment; filename=\"suppressions.csv\"");
  return json::value(nullptr);
}

constexpr const char* kEntrySchema =
    R"({"type":"object","properties":{"id":{"type":"integer"},"email":{"type":["string","null"]},"domain":{"type":["string","null"]},"campaign_id":{"type":["integer","null"]},"reason":{"type":"string"},"source":{"type":"string"},"created_at":{"type":"string"}}})";

}  // namespace

size_t Api::BodyLimitFor(std::string_view target, size_t default_limit) {
  std::string_view path = target.substr(0, target.find('?'));
  constexpr std::string_view kImport = "/suppressions/import";
  if (path.starts_with("/api/v1/workspaces/") && path.ends_with(kImport)) {
    return std::max(default_limit, kMaxImportBytes);
  }
  if (path.starts_with("/api/v1/workspaces/") && path.ends_with("/senders/import")) {
    return std::max(default_limit, kMaxSenderImportBytes);
  }
  if (StreamsBody(target)) return std::max<size_t>(default_limit, UploadLimit());
  return default_limit;
}

void RegisterSuppressionRoutes(Api& api) {
  auto bind = [&api](Result<json::value> (*fn)(Api&, Ctx&)) {
    return [&api, fn](Ctx& ctx) { return fn(api, ctx); };
  };
  const std::string base = "/api/v1/workspaces/{ws}/suppressions";
  api.Add(
      verb::get, base, {Access::kWorkspace, Role::kViewer}, bind(ListSuppressions),
      {.summary = "Suppressed addresses and domains, newest first (q, campaign_id, before, limit)",
       .tag = "suppression",
       .response_schema = PagedSchema(kEntrySchema)});
  api.Add(
      verb::post, base, {Access::kWorkspace, Role::kMember}, bind(AddSuppressions),
      {.summary = "Suppress addresses or whole domains (\"@example.com\"), workspace-wide or for "
                  "one campaign",
       .tag = "suppression",
       .request_schema =
           R"({"type":"object","required":["values"],"properties":{"values":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":1000},"campaign_id":{"type":"integer"}},"additionalProperties":false})",
       .response_schema =
           R"({"type":"object","properties":{"added":{"type":"integer"},"existing":{"type":"integer"}}})"});
  api.Add(verb::delete_, base + "/{id}", {Access::kWorkspace, Role::kMember},
          bind(DeleteSuppression),
          {.summary = "Remove a suppression entry", .tag = "suppression", .success_status = 204});
  api.Add(
      verb::post, base + "/import", {Access::kWorkspace, Role::kMember, /*raw_body=*/true},
      bind(ImportSuppressions),
      {.summary = "Import a CSV (address or @domain in the first column); per-row errors",
       .tag = "suppression",
       .response_schema =
           R"({"type":"object","properties":{"rows":{"type":"integer"},"added":{"type":"integer"},"existing":{"type":"integer"},"error_count":{"type":"integer"},"errors":{"type":"array","items":{"type":"object","properties":{"row":{"type":"integer"},"value":{"type":"string"},"message":{"type":"string"}}}}}})"});
  api.Add(verb::get, base + "/export", {Access::kWorkspace, Role::kViewer},
          bind(ExportSuppressions),
          {.summary = "The suppression list as CSV (re-importable)", .tag = "suppression"});
}

}  // namespace kiln::api
