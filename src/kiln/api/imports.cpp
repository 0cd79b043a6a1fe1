// Lead imports over the API: upload a CSV (streamed to disk by the server, up to 2 GB), see its
// columns and the guessed mapping, start it with corrections and a target list, watch its
// progress, download its error report; and the export of leads to CSV (formulas neutralised).
// The work itself is leads::ImportJobs (leads/import_jobs.h), running in the serve process that
// received the file.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/base/time_format.h"
#include "kiln/leads/import_jobs.h"

namespace kiln::api {

namespace json = boost::json;
namespace fs = std::filesystem;
using http::bhttp::field;
using http::bhttp::verb;

namespace {

constexpr uint64_t kMaxUploadBytes = uint64_t{2} << 30;  // 2 GiB
constexpr std::string_view kImportsPath = "/imports";

leads::ImportJobs& Jobs(Api& api) { return *api.deps().imports; }

json::object MappingJson(const leads::ColumnMapping& m, const std::vector<std::string>& header) {
  json::array columns;
  for (size_t i = 0; i < m.columns.size(); ++i) {
    json::object c{{"column", static_cast<int64_t>(i + 1)},
                   {"header", i < header.size() ? json::value(header[i]) : json::value(nullptr)},
                   {"field", std::string(leads::LeadFieldName(m.columns[i].field))}};
    if (m.columns[i].field == leads::LeadField::kCustom) c["custom_key"] = m.columns[i].custom_key;
    columns.push_back(std::move(c));
  }
  return json::object{{"has_header", m.has_header}, {"columns", std::move(columns)}};
}

json::object PreviewJson(const leads::FilePreview& p) {
  json::array rows;
  for (const auto& r : p.rows) {
    json::array fields;
    for (const auto& f : r.fields) fields.push_back(json::string(f));
    rows.push_back(
        json::object{{"row", r.number},
                     {"fields", std::move(fields)},
                     {"error", r.error.empty() ? json::value(nullptr) : json::value(r.error)}});
  }
  return json::object{{"encoding", std::string(leads::CsvEncodingName(p.encoding))},
                      {"delimiter", std::string(1, p.delimiter)},
                      {"mapping", MappingJson(p.mapping, p.header)},
                      {"rows", std::move(rows)}};
}

json::object JobJson(const store::Row& r) {
  json::object o;
  o["id"] = r.Int("id");
  o["file_name"] = r.Text("file_name");
  o["status"] = r.Text("status");
  auto list = r.OptInt("list_id");
  o["list_id"] = list ? json::value(*list) : json::value(nullptr);
  const int64_t total = r.Int("bytes_total"), read = r.Int("bytes_read");
  o["bytes_total"] = total;
  o["bytes_read"] = read;
  o["progress"] = r.Text("status") == "completed" ? 1.0
                  : total > 0 ? static_cast<double>(read) / static_cast<double>(total)
                              : 0.0;
  o["counts"] = json::object{{"rows", r.Int("processed_rows")},
                             {"imported", r.Int("imported_rows")},
                             {"existing", r.Int("existing_rows")},
                             {"duplicates", r.Int("duplicate_rows")},
                             {"suppressed", r.Int("suppressed_rows")},
                             {"invalid", r.Int("error_rows")},
                             {"role", r.Int("role_rows")},
                             {"disposable", r.Int("disposable_rows")}};
  boost::system::error_code ec;
  json::value errors = json::parse(r.Text("errors"), ec);
  o["errors"] = ec || !errors.is_array() ? json::value(json::array()) : errors;
  o["encoding"] = r.Text("encoding");
  o["delimiter"] = r.Text("delimiter");
  o["created_at"] = TimeOrNull(r, "created_at");
  o["started_at"] = TimeOrNull(r, "started_at");
  o["finished_at"] = TimeOrNull(r, "finished_at");
  return o;
}

Result<store::Row> LoadJob(Api& api, int64_t ws, int64_t id) {
  std::optional<store::Row> row;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(row, tx.QueryOne("imports.job_get", {ws, id}));
    return Status::Ok();
  }));
  if (!row) return Status::NotFound("no such import");
  return *row;
}

Result<int64_t> PathId(Ctx& ctx) {
  const std::string& s = ctx.req.path_params["id"];
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    return Status::NotFound("no such import");
  }
  return std::stoll(s);
}

// A file name from ?file_name= for display: at most 200 bytes, no path, no control characters.
std::string DisplayName(const http::Request& req) {
  auto it = req.query.find("file_name");
  std::string name = it == req.query.end() ? "upload.csv" : it->second;
  if (size_t slash = name.find_last_of("/\\"); slash != std::string::npos) name.erase(0, slash + 1);
  std::string out;
  for (char c : name) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) out.push_back(c);
    if (out.size() >= 200) break;
  }
  return out.empty() ? "upload.csv" : out;
}

Result<json::value> Upload(Api& api, Ctx& ctx) {
  std::string path = ctx.req.body_file;
  if (path.empty()) {
    // Not streamed (a server without an upload directory): take the in-memory body.
    if (ctx.req.body.empty()) return Status::InvalidArgument("the upload is empty", "file");
    path = Jobs(api).NewUploadPath();
    std::ofstream(path, std::ios::binary) << ctx.req.body;
  } else {
    // Keep the file: the server removes what is left at the path it streamed to.
    const std::string kept = Jobs(api).NewUploadPath();
    std::error_code ec;
    fs::rename(path, kept, ec);
    if (ec) return Status::Unavailable("cannot keep the upload: " + ec.message());
    path = kept;
  }
  KILN_ASSIGN_OR_RETURN(int64_t id, Jobs(api).Register(ctx.ws, NullIfZero(ctx.caller.user_id),
                                                       DisplayName(ctx.req), path));
  KILN_ASSIGN_OR_RETURN(store::Row row, LoadJob(api, ctx.ws, id));
  json::object out = JobJson(row);
  auto preview = leads::PreviewFile(path);
  if (preview.ok()) out["preview"] = PreviewJson(*preview);
  return out;
}

Result<json::value> GetImport(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t id, PathId(ctx));
  KILN_ASSIGN_OR_RETURN(store::Row row, LoadJob(api, ctx.ws, id));
  json::object out = JobJson(row);
  if (row.Text("status") == "pending") {
    auto preview = leads::PreviewFile(row.Text("file_path"));
    if (preview.ok()) out["preview"] = PreviewJson(*preview);
  }
  return out;
}

Result<json::value> ListImports(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(Page page, ReadPage(ctx.req, "an import id", 100));
  std::vector<store::Row> rows;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(rows, tx.Query("imports.job_list", {ctx.ws, page.before, page.limit}));
    return Status::Ok();
  }));
  json::array items;
  for (const auto& r : rows) items.push_back(JobJson(r));
  json::value next = static_cast<int64_t>(rows.size()) == page.limit
                         ? json::value(rows.back().Int("id"))
                         : json::value(nullptr);
  return json::object{{"items", std::move(items)}, {"next_before", next}};
}

Result<json::value> StartImport(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t id, PathId(ctx));
  leads::StartRequest request;
  if (const json::value* m = ctx.body.if_contains("mapping")) {
    for (const auto& kv : m->as_object()) {
      if (!kv.value().is_string()) {
        return Status::InvalidArgument("must be a string (a lead field, custom:<key> or ignore)",
                                       "mapping." + std::string(kv.key()));
      }
      request.mapping[std::string(kv.key())] = std::string(kv.value().as_string());
    }
  }
  if (const json::value* h = ctx.body.if_contains("has_header"); h && h->is_bool()) {
    request.has_header = h->as_bool();
  }
  if (const json::value* c = ctx.body.if_contains("check_mx")) {
    if (!c->is_bool()) return Status::InvalidArgument("must be true or false", "check_mx");
    request.check_mx = c->as_bool();
  }
  if (const json::value* l = ctx.body.if_contains("list_id"); l && !l->is_null()) {
    if (!l->is_int64() || l->as_int64() <= 0) {
      return Status::InvalidArgument("must be a list id", "list_id");
    }
    request.list_id = l->as_int64();
  }
  KILN_RETURN_IF_ERROR(Jobs(api).Start(ctx.ws, id, request));
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) {
    return WriteAudit(tx, ctx, ctx.ws, "import.start", "import", std::to_string(id), {},
                      api.clock().NowMillis());
  }));
  KILN_ASSIGN_OR_RETURN(store::Row row, LoadJob(api, ctx.ws, id));
  return JobJson(row);
}

Result<json::value> CancelImport(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t id, PathId(ctx));
  KILN_RETURN_IF_ERROR(Jobs(api).Cancel(ctx.ws, id));
  KILN_ASSIGN_OR_RETURN(store::Row row, LoadJob(api, ctx.ws, id));
  return JobJson(row);
}

Result<json::value> ImportErrors(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(int64_t id, PathId(ctx));
  KILN_ASSIGN_OR_RETURN(store::Row row, LoadJob(api, ctx.ws, id));
  std::string body = leads::ReportHeader();
  if (!row.Text("report_path").empty()) {
    std::ifstream in(row.Text("report_path"), std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      body = ss.str();
    }
  }
  ctx.res.body = std::move(body);
  ctx.res.SetHeader(field::content_type, "text/csv; charset=utf-8");
  ctx.res.SetHeader(field::content_disposition,
                    "attachment; filename=\"import-" + std::to_string(id) + "-errors.csv\"");
  return json::value(nullptr);
}

// GET /contacts/export: the leads (filters as the list: status, list_id, q) as CSV, newest first,
// custom fields as columns, every value a spreadsheet would run as a formula neutralised. Two
// passes in one read transaction (the custom columns, then the rows), holding only the CSV.
constexpr size_t kMaxExportRows = 500'000;

Result<json::value> ExportLeads(Api& api, Ctx& ctx) {
  std::string status;
  if (auto it = ctx.req.query.find("status"); it != ctx.req.query.end()) status = it->second;
  KILN_ASSIGN_OR_RETURN(int64_t list_id, ReadIdFilter(ctx.req, "list_id", "a list id"));
  KILN_ASSIGN_OR_RETURN(std::string pattern, ReadSearchPattern(ctx.req));
  const char* fixed[] = {"email",    "first_name", "last_name", "company", "title",
                         "timezone", "phone",      "website",   "status"};
  std::string csv;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    auto each_page =
        [&](const std::function<void(const store::Row&, const json::object&)>& fn) -> Status {
      int64_t before = INT64_MAX;
      size_t seen = 0;
      for (;;) {
        KILN_ASSIGN_OR_RETURN(
            auto rows, tx.Query("contacts.list", {ctx.ws, before, status, list_id, pattern, 1000}));
        if (rows.empty()) return Status::Ok();
        before = rows.back().Int("id");
        seen += rows.size();
        if (seen > kMaxExportRows) {
          return Status::TooLarge(
              "more than 500,000 leads match; narrow the export with filters "
              "(status, list_id, q)");
        }
        for (const auto& r : rows) {
          boost::system::error_code ec;
          json::value v = json::parse(r.Text("custom_fields"), ec);
          fn(r, !ec && v.is_object() ? v.as_object() : json::object());
        }
      }
    };
    std::vector<std::string> keys;
    std::set<std::string> known;
    KILN_RETURN_IF_ERROR(each_page([&](const store::Row&, const json::object& custom) {
      for (const auto& kv : custom) {
        if (known.insert(std::string(kv.key())).second) keys.emplace_back(kv.key());
      }
    }));
    for (size_t i = 0; i < std::size(fixed); ++i) {
      if (i) csv.push_back(',');
      csv += fixed[i];
    }
    for (const auto& k : keys) {
      csv.push_back(',');
      leads::AppendCsvField(csv, k);
    }
    csv += ",created_at\r\n";
    return each_page([&](const store::Row& r, const json::object& custom) {
      for (size_t i = 0; i < std::size(fixed); ++i) {
        if (i) csv.push_back(',');
        leads::AppendCsvField(csv, r.Text(fixed[i]));
      }
      for (const auto& k : keys) {
        csv.push_back(',');
        const json::value* v = custom.if_contains(k);
        leads::AppendCsvField(csv, v && v->is_string() ? std::string_view(v->as_string()) : "");
      }
      csv.push_back(',');
      csv += FormatIso8601(r.Int("created_at"));
      csv += "\r\n";
    });
  }));
  ctx.res.body = std::move(csv);
  ctx.res.SetHeader(field::content_type, "text/csv; charset=utf-8");
  ctx.res.SetHeader(field::content_disposition, "attachment; filename=\"leads.csv\"");
  return json::value(nullptr);
}

constexpr const char* kJobSchema =
    R"({"type":"object","properties":{"id":{"type":"integer"},"file_name":{"type":"string"},"status":{"type":"string","enum":["pending","running","completed","failed","canceled"]},"list_id":{"type":["integer","null"]},"bytes_total":{"type":"integer"},"bytes_read":{"type":"integer"},"progress":{"type":"number"},"counts":{"type":"object","properties":{"rows":{"type":"integer"},"imported":{"type":"integer"},"existing":{"type":"integer"},"duplicates":{"type":"integer"},"suppressed":{"type":"integer"},"invalid":{"type":"integer"},"role":{"type":"integer"},"disposable":{"type":"integer"}}},"errors":{"type":"array","items":{"type":"object","properties":{"row":{"type":"integer"},"line":{"type":"integer"},"field":{"type":"string"},"message":{"type":"string"},"email":{"type":"string"}}}},"encoding":{"type":"string"},"delimiter":{"type":"string"},"preview":{"type":"object","description":"pending imports: encoding, delimiter, the guessed mapping (columns: column, header, field, custom_key) and the first rows"},"created_at":{"type":"string"},"started_at":{"type":["string","null"]},"finished_at":{"type":["string","null"]}}})";

}  // namespace

bool Api::StreamsBody(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  return path.starts_with("/api/v1/workspaces/") && path.ends_with(kImportsPath);
}

uint64_t Api::UploadLimit() { return kMaxUploadBytes; }

void RegisterImportRoutes(Api& api) {
  auto bind = [&api](Result<json::value> (*fn)(Api&, Ctx&)) {
    return [&api, fn](Ctx& ctx) { return fn(api, ctx); };
  };
  const std::string base = "/api/v1/workspaces/{ws}/imports";
  const std::string schema = kJobSchema;
  api.Add(verb::post, base, {Access::kWorkspace, Role::kMember, /*raw_body=*/true}, bind(Upload),
          {.summary = "Upload a lead CSV (the raw file as the body, up to 2 GB, streamed to disk; "
                      "?file_name=): answers the pending import with its preview and guessed "
                      "mapping",
           .tag = "imports",
           .response_schema = schema,
           .success_status = 201});
  api.Add(verb::get, base, {Access::kWorkspace, Role::kViewer}, bind(ListImports),
          {.summary = "Imports, newest first (before, limit)",
           .tag = "imports",
           .response_schema = PagedSchema(schema)});
  api.Add(verb::get, base + "/{id}", {Access::kWorkspace, Role::kViewer}, bind(GetImport),
          {.summary = "One import: progress, counts, first errors (and the preview while pending)",
           .tag = "imports",
           .response_schema = schema});
  api.Add(
      verb::post, base + "/{id}/start", {Access::kWorkspace, Role::kMember}, bind(StartImport),
      {.summary = "Start a pending import with mapping corrections ({\"Header\": \"email\" | "
                  "\"first_name\" | ... | \"custom:key\" | \"ignore\"}), an optional list and an "
                  "optional MX check",
       .tag = "imports",
       .request_schema =
           R"({"type":"object","properties":{"mapping":{"type":"object","additionalProperties":{"type":"string"},"maxProperties":500},"has_header":{"type":"boolean"},"list_id":{"type":["integer","null"]},"check_mx":{"type":"boolean","description":"reject rows whose domain has no MX (or A/AAAA) record"}},"additionalProperties":false})",
       .response_schema = schema,
       .success_status = 202});
  api.Add(verb::post, base + "/{id}/cancel", {Access::kWorkspace, Role::kMember},
          bind(CancelImport),
          {.summary = "Cancel a pending or running import (leads already imported stay)",
           .tag = "imports",
           .response_schema = schema});
  api.Add(verb::get, base + "/{id}/errors", {Access::kWorkspace, Role::kViewer}, bind(ImportErrors),
          {.summary = "The import's error report as CSV (row, line, column, reason, email)",
           .tag = "imports"});
  api.Add(verb::get, "/api/v1/workspaces/{ws}/contacts/export", {Access::kWorkspace, Role::kViewer},
          bind(ExportLeads),
          {.summary = "Leads as CSV (status, list_id, q filters; custom fields as columns; "
                      "formulas neutralised)",
           .tag = "leads"});
}

}  // namespace kiln::api
