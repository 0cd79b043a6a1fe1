#include "kiln/leads/import_jobs.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace kiln::leads {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr size_t kChunk = 1 << 20;
constexpr size_t kPreviewRows = 5;
constexpr int kMxLookupsInFlight = 8;

json::object OptionsJson(const StartRequest& r) {
  json::object mapping;
  for (const auto& [k, v] : r.mapping) mapping[k] = v;
  json::object o{{"mapping", std::move(mapping)}};
  o["has_header"] = r.has_header ? json::value(*r.has_header) : json::value(nullptr);
  o["check_mx"] = r.check_mx;
  return o;
}

// The options column back into an ImportOptions (mapping and header choice), and whether the
// MX check was asked for.
ImportOptions OptionsFrom(const std::string& text, bool* check_mx) {
  ImportOptions out;
  *check_mx = false;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return out;
  if (const json::value* m = v.as_object().if_contains("mapping"); m && m->is_object()) {
    for (const auto& kv : m->as_object()) {
      if (kv.value().is_string())
        out.mapping[std::string(kv.key())] = std::string(kv.value().as_string());
    }
  }
  if (const json::value* h = v.as_object().if_contains("has_header"); h && h->is_bool()) {
    out.has_header = h->as_bool();
  }
  if (const json::value* c = v.as_object().if_contains("check_mx"); c && c->is_bool()) {
    *check_mx = c->as_bool();
  }
  return out;
}

std::vector<ImportError> ErrorsFrom(const std::string& text) {
  std::vector<ImportError> out;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const json::value& e : v.as_array()) {
    if (!e.is_object()) continue;
    const json::object& o = e.as_object();
    ImportError x;
    if (auto* r = o.if_contains("row"); r && r->is_int64()) x.row = r->as_int64();
    if (auto* l = o.if_contains("line"); l && l->is_int64()) x.line = l->as_int64();
    if (auto* f = o.if_contains("field"); f && f->is_string()) x.column = f->as_string();
    if (auto* m = o.if_contains("message"); m && m->is_string()) x.reason = m->as_string();
    if (auto* m = o.if_contains("email"); m && m->is_string()) x.email = m->as_string();
    out.push_back(std::move(x));
  }
  return out;
}

// Keeps the report's rows up to `last_row` (an earlier run may have written the errors of a batch
// it did not commit; those rows are read again).
Status TrimReport(const std::string& path, int64_t last_row) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Ok();  // nothing written yet
  std::string kept, line;
  bool first = true;
  std::string pending;
  // Rows may span lines (quoted reasons never hold line breaks, but emails from the file might):
  // a report row starts with its row number followed by a comma.
  while (std::getline(in, line)) {
    if (first) {
      kept += line + "\n";
      first = false;
      continue;
    }
    const size_t comma = line.find(',');
    bool starts_row = comma != std::string::npos && comma > 0;
    for (size_t i = 0; starts_row && i < comma; ++i)
      starts_row = std::isdigit(static_cast<unsigned char>(line[i]));
    if (starts_row && std::stoll(line.substr(0, comma)) > last_row) break;
    kept += line + "\n";
  }
  in.close();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << kept;
  if (!out) return Status::Unavailable("cannot rewrite the error report " + path);
  return Status::Ok();
}

}  // namespace

std::string ReportHeader() { return "row,line,column,reason,email\r\n"; }

std::string ReportRow(const ImportError& e) {
  std::string out = std::to_string(e.row) + "," + std::to_string(e.line) + ",";
  AppendCsvField(out, e.column);
  out.push_back(',');
  AppendCsvField(out, e.reason);
  out.push_back(',');
  AppendCsvField(out, e.email);
  out += "\r\n";
  return out;
}

Result<FilePreview> PreviewFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot be read", "file");
  CsvReader reader;
  std::vector<CsvRecord> records;
  // Stops the reading once the preview is full (not an error for the caller).
  const Status enough = Status::ResourceExhausted("the preview has its rows");
  auto sink = [&](CsvRecord& r) -> Status {
    records.push_back(std::move(r));
    return records.size() > kPreviewRows ? enough : Status::Ok();
  };
  std::vector<char> buf(kChunk);
  Status s;
  while (s.ok() && in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<size_t>(in.gcount());
    if (n == 0) break;
    s = reader.Feed(std::string_view(buf.data(), n), sink);
  }
  if (s.ok()) s = reader.Finish(sink);
  if (!s.ok() && s.code() != Status::Code::kResourceExhausted) return s;
  if (records.empty()) return Status::InvalidArgument("holds no rows", "file");
  if (!records[0].error.empty()) {
    return Status::InvalidArgument("the first row cannot be read: " + records[0].error, "file");
  }
  FilePreview p;
  p.encoding = reader.encoding();
  p.delimiter = reader.delimiter();
  p.has_header = LooksLikeHeader(records[0].fields);
  p.mapping = GuessMapping(records[0].fields, p.has_header);
  if (p.has_header) p.header = records[0].fields;
  for (size_t i = p.has_header ? 1 : 0; i < records.size() && p.rows.size() < kPreviewRows; ++i) {
    p.rows.push_back(std::move(records[i]));
  }
  return p;
}

ImportJobs::ImportJobs(store::Database& db, const Clock& clock, domain::TimeZoneDatabase& zones,
                       std::string dir, int workers, std::string dns_servers)
    : db_(db),
      clock_(clock),
      zones_(zones),
      dir_(std::move(dir)),
      dns_servers_(std::move(dns_servers)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  std::random_device rd;
  counter_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

ImportJobs::~ImportJobs() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

std::string ImportJobs::NewUploadPath() {
  std::lock_guard<std::mutex> lock(mu_);
  char name[64];
  std::snprintf(name, sizeof name, "upload-%016llx.csv",
                static_cast<unsigned long long>(counter_++ * 0x9E3779B97F4A7C15ULL));
  return (fs::path(dir_) / name).string();
}

Result<int64_t> ImportJobs::Register(int64_t workspace_id, std::optional<int64_t> user_id,
                                     const std::string& file_name, const std::string& path) {
  auto preview = PreviewFile(path);
  if (!preview.ok()) {
    std::error_code ec;
    fs::remove(path, ec);
    return preview.status();
  }
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  int64_t id = 0;
  KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(
        auto row, tx.QueryRow("imports.job_create",
                              {workspace_id, user_id ? store::Value(*user_id) : store::Value(),
                               file_name, path, static_cast<int64_t>(ec ? 0 : size),
                               std::string(CsvEncodingName(preview->encoding)),
                               std::string(1, preview->delimiter), clock_.NowMillis()}));
    id = row.Int("id");
    return Status::Ok();
  }));
  return id;
}

Status ImportJobs::Start(int64_t workspace_id, int64_t job_id, const StartRequest& request) {
  std::optional<store::Row> job;
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(job, tx.QueryOne("imports.job_get", {workspace_id, job_id}));
    return Status::Ok();
  }));
  if (!job) return Status::NotFound("no such import");
  if (job->Text("status") != "pending") {
    return Status::FailedPrecondition("the import is " + job->Text("status") + ", not pending");
  }
  KILN_ASSIGN_OR_RETURN(FilePreview preview, PreviewFile(job->Text("file_path")));
  bool has_header = request.has_header.value_or(preview.has_header);
  std::vector<std::string> header = preview.header;
  ColumnMapping guess = preview.mapping;
  if (has_header != preview.has_header) {
    // Re-guess with the user's choice: the first record is then a header (or data).
    std::vector<std::string> first =
        preview.has_header
            ? preview.header
            : (preview.rows.empty() ? std::vector<std::string>{} : preview.rows.front().fields);
    guess = GuessMapping(first, has_header);
    header = has_header ? first : std::vector<std::string>{};
  }
  KILN_RETURN_IF_ERROR(ApplyUserMapping(header, std::move(guess), request.mapping).status());
  const std::string report =
      (fs::path(dir_) / ("import-" + std::to_string(job_id) + "-errors.csv")).string();
  KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
    if (request.list_id) {
      KILN_ASSIGN_OR_RETURN(auto list,
                            tx.QueryOne("lists.exists", {workspace_id, *request.list_id}));
      if (!list) return Status::InvalidArgument("no such list in this workspace", "list_id");
    }
    KILN_ASSIGN_OR_RETURN(
        int64_t n, tx.Exec("imports.job_start",
                           {workspace_id, job_id, json::serialize(OptionsJson(request)),
                            request.list_id ? store::Value(*request.list_id) : store::Value(),
                            report, clock_.NowMillis()}));
    if (n != 1) return Status::FailedPrecondition("the import is no longer pending");
    return Status::Ok();
  }));
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.emplace_back(workspace_id, job_id);
  }
  cv_.notify_one();
  return Status::Ok();
}

Status ImportJobs::Cancel(int64_t workspace_id, int64_t job_id) {
  return db_.Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto job, tx.QueryOne("imports.job_status", {workspace_id, job_id}));
    if (!job) return Status::NotFound("no such import");
    KILN_ASSIGN_OR_RETURN(
        int64_t n, tx.Exec("imports.job_cancel", {workspace_id, job_id, clock_.NowMillis()}));
    if (n != 1) {
      return Status::FailedPrecondition("the import has already ended (" + job->Text("status") +
                                        ")");
    }
    return Status::Ok();
  });
}

Result<int> ImportJobs::ResumeInterrupted(Millis stale) {
  std::vector<store::Row> jobs;
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(jobs, tx.Query("imports.jobs_interrupted"));
    return Status::Ok();
  }));
  int queued = 0;
  for (const store::Row& j : jobs) {
    const int64_t ws = j.Int("workspace_id"), id = j.Int("id");
    std::optional<store::Row> job;
    KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(job, tx.QueryOne("imports.job_get", {ws, id}));
      return Status::Ok();
    }));
    if (!job || !fs::exists(job->Text("file_path"))) continue;  // another node's upload
    const int64_t now = clock_.NowMillis();
    int64_t taken = 0;
    KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(taken,
                            tx.Exec("imports.job_claim_stale", {ws, id, now, now - stale.count()}));
      return Status::Ok();
    }));
    if (taken != 1) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.emplace_back(ws, id);
    }
    cv_.notify_one();
    ++queued;
  }
  return queued;
}

void ImportJobs::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return (queue_.empty() && running_ == 0) || stopping_; });
}

void ImportJobs::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto [ws, id] = queue_.front();
    queue_.pop_front();
    ++running_;
    lock.unlock();
    Status s = Run(ws, id);
    if (!s.ok()) spdlog::warn("import {} (workspace {}): {}", id, ws, s.ToString());
    lock.lock();
    --running_;
    cv_.notify_all();
  }
}

Status ImportJobs::Run(int64_t workspace_id, int64_t job_id) {
  std::optional<store::Row> job;
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(job, tx.QueryOne("imports.job_get", {workspace_id, job_id}));
    return Status::Ok();
  }));
  if (!job || job->Text("status") != "running") return Status::Ok();  // canceled meanwhile
  bool check_mx = false;
  ImportOptions options = OptionsFrom(job->Text("options"), &check_mx);
  // One cache per import: each distinct domain of the file is looked up once.
  std::optional<MxChecker> mx;
  if (check_mx) {
    mx.emplace([servers = dns_servers_] { return dns::MakeResolver({.servers = servers}); },
               kMxLookupsInFlight);
    options.mx_check = &*mx;
  }
  options.list_id = job->OptInt("list_id");
  options.resume_rows = job->Int("processed_rows");
  const std::string path = job->Text("file_path");
  const std::string report_path = job->Text("report_path");

  // The report: fresh, or trimmed to the rows an earlier run committed.
  if (options.resume_rows == 0) {
    std::ofstream(report_path, std::ios::binary | std::ios::trunc) << ReportHeader();
  } else {
    const int64_t header_rows = options.has_header.value_or(true) ? 1 : 0;
    KILN_RETURN_IF_ERROR(TrimReport(report_path, options.resume_rows + header_rows));
  }
  std::ofstream report(report_path, std::ios::binary | std::ios::app);
  LeadImporter importer(db_, clock_, &zones_, workspace_id, job_id, options,
                        [&](const ImportError& e) {
                          report << ReportRow(e);
                          report.flush();
                        });
  if (options.resume_rows > 0) {
    importer.RestoreCounts(ImportCounts{.rows = job->Int("processed_rows"),
                                        .imported = job->Int("imported_rows"),
                                        .existing = job->Int("existing_rows"),
                                        .duplicates = job->Int("duplicate_rows"),
                                        .suppressed = job->Int("suppressed_rows"),
                                        .invalid = job->Int("error_rows"),
                                        .role = job->Int("role_rows"),
                                        .disposable = job->Int("disposable_rows")});
    importer.RestoreErrors(ErrorsFrom(job->Text("errors")));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    importer.Abort("the uploaded file " + fs::path(path).filename().string() + " is gone");
    return Status::Ok();
  }
  std::vector<char> buf(kChunk);
  Status s;
  for (int chunk = 0; s.ok() && in; ++chunk) {
    if (chunk % 8 == 7) {  // canceled, or stopping? (every 8 MiB)
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return Status::Ok();  // resumed at the next start
      }
      std::optional<store::Row> st;
      KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
        KILN_ASSIGN_OR_RETURN(st, tx.QueryOne("imports.job_status", {workspace_id, job_id}));
        return Status::Ok();
      }));
      if (!st || st->Text("status") != "running") {
        std::error_code ec;
        fs::remove(path, ec);  // canceled: the leads of committed batches stay
        return Status::Ok();
      }
    }
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<size_t>(in.gcount());
    if (n == 0) break;
    s = importer.Feed(std::string_view(buf.data(), n));
  }
  if (s.ok()) s = importer.Finish();
  if (!s.ok()) {
    if (s.code() == Status::Code::kInvalidArgument) {
      // The file or the mapping cannot be imported: the job failed (Finish/Feed said why).
      importer.Abort(s.field().empty() ? s.message() : s.field() + ": " + s.message());
    } else {
      return s;  // the database: the job stays running and is resumed later
    }
  }
  std::error_code ec;
  fs::remove(path, ec);
  return Status::Ok();
}

}  // namespace kiln::leads
