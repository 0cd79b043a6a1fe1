// ImportJobs: lead import jobs in the background of `kiln serve` (and in `kiln import`).
//
// A job goes: uploaded (the file is on this node's disk, status `pending`, its header and first
// rows shown for the mapping screen) -> Start (status `running`, a worker thread streams the file
// through a LeadImporter, committing progress with every batch) -> `completed` with its counts and
// a downloadable error report (CSV: row, line, column, reason, email), or `failed` / `canceled`.
// A job interrupted by a stop or a crash is resumed where its last committed batch ended by
// ResumeInterrupted (called at start-up): no row is imported twice or lost, and the report keeps
// each error once.
//
// Thread-safety: every method may be called from any thread. The destructor stops the workers
// after their current batch (jobs stay `running`, to be resumed).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/domain/tz.h"
#include "kiln/leads/csv_reader.h"
#include "kiln/leads/importer.h"
#include "kiln/store/db.h"

namespace kiln::leads {

// What the mapping screen shows for an uploaded file.
struct FilePreview {
  CsvEncoding encoding = CsvEncoding::kUtf8;
  char delimiter = ',';
  bool has_header = true;
  std::vector<std::string> header;  // empty without a header row
  ColumnMapping mapping;            // the guess
  std::vector<CsvRecord> rows;      // the first data rows (up to 5)
};

// Reads the start of the file at `path`. Failure: the file cannot be read, or holds no rows.
Result<FilePreview> PreviewFile(const std::string& path);

// Writes the report's header line; AppendReportRow adds one error.
std::string ReportHeader();
std::string ReportRow(const ImportError& e);

struct StartRequest {
  std::map<std::string, std::string> mapping;  // the user's corrections
  std::optional<bool> has_header;
  std::optional<int64_t> list_id;
  // The MX check (mx_check.h): rows whose domain has no mail server become errors.
  bool check_mx = false;
};

class ImportJobs {
 public:
  // `dir` holds uploads and reports (created if missing). `workers` jobs run at once.
  // `dns_servers`: where the MX check asks (the dns_resolver setting; "" = the system's).
  ImportJobs(store::Database& db, const Clock& clock, domain::TimeZoneDatabase& zones,
             std::string dir, int workers = 2, std::string dns_servers = {});
  ~ImportJobs();
  ImportJobs(const ImportJobs&) = delete;
  ImportJobs& operator=(const ImportJobs&) = delete;

  const std::string& dir() const { return dir_; }

  // A fresh path in dir() for an upload being received.
  std::string NewUploadPath();

  // Registers an uploaded file as a pending job. Success: the job id. Failure: the file is not a
  // readable CSV (InvalidArgument naming "file"; the file is removed) or the database failed.
  Result<int64_t> Register(int64_t workspace_id, std::optional<int64_t> user_id,
                           const std::string& file_name, const std::string& path);

  // Validates the mapping against the file and queues the job. Failure: InvalidArgument naming
  // the mapping key at fault; FailedPrecondition when the job is not pending; NotFound.
  Status Start(int64_t workspace_id, int64_t job_id, const StartRequest& request);

  // Stops a pending or running job (a running one after its current batch). NotFound when there
  // is no such job, FailedPrecondition when it has ended.
  Status Cancel(int64_t workspace_id, int64_t job_id);

  // Queues the jobs a stopped process left running whose files are here and that nobody else has
  // advanced for `stale` (2 minutes by default). Returns how many were queued.
  Result<int> ResumeInterrupted(Millis stale = Millis(120'000));

  // Runs one started job on the calling thread (what the workers do; `kiln import` calls it).
  Status Run(int64_t workspace_id, int64_t job_id);

  // Blocks until no job is queued or running (tests, `kiln import`).
  void WaitIdle();

 private:
  void WorkerLoop();

  store::Database& db_;
  const Clock& clock_;
  domain::TimeZoneDatabase& zones_;
  std::string dir_;
  std::string dns_servers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<int64_t, int64_t>> queue_;  // (workspace, job)
  int running_ = 0;
  bool stopping_ = false;
  uint64_t counter_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace kiln::leads
