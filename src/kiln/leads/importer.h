// LeadImporter: turns a CSV file, streamed in chunks, into a workspace's leads.
//
// Per record: the mapping (lead_row.h: guessed from the header, corrected by the user's mapping),
// the row checks (address syntax, time zone, lengths; role addresses and disposable domains are
// flagged and still imported), de-duplication inside the file and against the workspace
// (case-insensitive), suppression (workspace-wide addresses and domains: skipped and counted), and
// when asked for, the MX check (rows whose domain has no mail server are errors).
// New leads are written in transactions of `batch_rows`; an address already a lead is left as it
// is (and added to the target list). Every row that is not imported is accounted for: counted,
// and, when it is an error, written to the error report (row, line, column, reason) — nothing is
// dropped silently.
//
// A crash in the middle leaves the batches written so far; running the same file again imports
// the rest (what is there already counts as existing). The upload_jobs row shows the progress.
//
// Thread-safety: one importer per thread; the Database is shared.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/domain/tz.h"
#include "kiln/leads/csv_reader.h"
#include "kiln/leads/lead_row.h"
#include "kiln/leads/mx_check.h"
#include "kiln/store/db.h"

namespace kiln::leads {

struct ImportOptions {
  std::map<std::string, std::string> mapping;  // the user's corrections (ApplyUserMapping)
  std::optional<bool> has_header;              // unset: LooksLikeHeader decides
  std::optional<int64_t> list_id;              // add every imported or existing lead to it
  char delimiter = 0;                          // 0: sniffed
  int batch_rows = 1000;
  size_t max_error_rows_kept = 1000;  // in upload_jobs.errors; the report file keeps all
  // Resuming a job: the data rows an earlier run committed (they are read and skipped) and the
  // counts it had then.
  int64_t resume_rows = 0;
  // The optional MX check: when set, each batch's domains are looked up (cached, shared across
  // rows; mx_check.h) before it is written, and rows whose domain has no mail server are errors
  // (column "email", reason kNoMailServerReason). Must outlive the importer.
  MxChecker* mx_check = nullptr;
};

inline constexpr std::string_view kNoMailServerReason =
    "domain has no mail server (no MX or A record)";

struct ImportCounts {
  int64_t rows = 0;        // data rows read (the header row not counted)
  int64_t imported = 0;    // new leads
  int64_t existing = 0;    // already leads of the workspace
  int64_t duplicates = 0;  // repeated inside the file
  int64_t suppressed = 0;  // on the workspace's suppression list
  int64_t invalid = 0;     // rows with an error (in the report)
  int64_t role = 0;        // imported, flagged as role addresses
  int64_t disposable = 0;  // imported, flagged as disposable domains
};

struct ImportError {
  int64_t row = 0;   // record number in the file, the header being row 1 when there is one
  int64_t line = 0;  // physical line where the record starts
  std::string column;
  std::string reason;
  std::string email;  // as written in the file, when the email column could be read
};

class LeadImporter {
 public:
  // `error_sink` receives the error rows of each batch just before the batch is committed (so a
  // report file written from it holds every error of the committed rows; after a crash it may
  // also hold those of one uncommitted batch); may be empty. `zones` checks time zone names; may be
  // null (names are then taken as given).
  LeadImporter(store::Database& db, const Clock& clock, domain::TimeZoneDatabase* zones,
               int64_t workspace_id, std::optional<int64_t> job_id, ImportOptions options,
               std::function<void(const ImportError&)> error_sink = {});

  // Reads the next chunk of the file. Failure: the database failed, or the file cannot be
  // imported at all (no email column: InvalidArgument naming the mapping) — the job is then
  // marked failed with that reason; rows already committed stay.
  Status Feed(std::string_view bytes);

  // The end of the file: writes the last batch and completes the job.
  Status Finish();

  const ImportCounts& counts() const { return counts_; }
  // Counts of an earlier run of the same job, before the first Feed (see resume_rows).
  void RestoreCounts(const ImportCounts& counts) { counts_ = counts; }
  // The first errors an earlier run kept (upload_jobs.errors), so the job keeps showing them.
  void RestoreErrors(std::vector<ImportError> errors) { kept_errors_ = std::move(errors); }
  bool has_header() const { return mapping_.has_header; }
  const ColumnMapping& mapping() const { return mapping_; }
  const std::vector<std::string>& header() const { return header_; }
  CsvEncoding encoding() const { return reader_.encoding(); }
  char delimiter() const { return reader_.delimiter(); }
  int64_t bytes_read() const { return reader_.bytes_read(); }

  // Marks the job failed with `reason` (e.g. the upload was cut off). Best effort.
  void Abort(const std::string& reason);

 private:
  Status OnRecord(CsvRecord& record);
  Status Flush();
  Status LoadSuppression();
  Status UpdateJob(store::Tx& tx, const std::string& status);
  void AddError(ImportError e);
  // Moves the batch's rows whose domain has no mail server to the errors (options_.mx_check).
  void RejectDomainsWithoutMailServer();

  store::Database& db_;
  const Clock& clock_;
  domain::TimeZoneDatabase* zones_;
  int64_t workspace_id_;
  std::optional<int64_t> job_id_;
  ImportOptions options_;
  std::function<void(const ImportError&)> error_sink_;
  CsvReader reader_;
  bool started_ = false;
  bool mapped_ = false;
  std::vector<std::string> header_;
  ColumnMapping mapping_;
  std::unordered_set<std::string> suppressed_emails_, suppressed_domains_;
  std::unordered_set<uint64_t> seen_;  // hashes of the email keys read so far (verified in the DB)
  std::vector<std::pair<int64_t, LeadRow>> batch_;  // (row number, lead)
  std::vector<int64_t> batch_lines_;                // the physical line of each batch_ row
  std::vector<ImportError> kept_errors_;
  std::vector<ImportError> pending_errors_;  // of the batch not yet committed
  int64_t skipped_for_resume_ = 0;
  ImportCounts counts_;
  Status failed_;
};

}  // namespace kiln::leads
