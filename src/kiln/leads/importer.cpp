#include "kiln/leads/importer.h"

#include <boost/json.hpp>
#include <functional>
#include <utility>

#include "kiln/domain/email_address.h"

namespace kiln::leads {
namespace json = boost::json;

namespace {

uint64_t KeyHash(std::string_view key) { return std::hash<std::string_view>{}(key); }

std::string CustomJson(const LeadRow& row) {
  json::object o;
  for (const auto& [k, v] : row.custom) o[k] = v;
  return json::serialize(o);
}

}  // namespace

LeadImporter::LeadImporter(store::Database& db, const Clock& clock, domain::TimeZoneDatabase* zones,
                           int64_t workspace_id, std::optional<int64_t> job_id,
                           ImportOptions options,
                           std::function<void(const ImportError&)> error_sink)
    : db_(db),
      clock_(clock),
      zones_(zones),
      workspace_id_(workspace_id),
      job_id_(job_id),
      options_(std::move(options)),
      error_sink_(std::move(error_sink)),
      reader_(CsvOptions{.delimiter = options_.delimiter}) {
  if (options_.batch_rows < 1) options_.batch_rows = 1;
}

Status LeadImporter::LoadSuppression() {
  return db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("imports.suppression", {workspace_id_}));
    for (const auto& r : rows) {
      if (!r.IsNull("email")) suppressed_emails_.insert(r.Text("email"));
      if (!r.IsNull("domain")) suppressed_domains_.insert(r.Text("domain"));
    }
    return Status::Ok();
  });
}

void LeadImporter::AddError(ImportError e) {
  ++counts_.invalid;
  if (kept_errors_.size() < options_.max_error_rows_kept) kept_errors_.push_back(e);
  pending_errors_.push_back(std::move(e));
}

Status LeadImporter::Feed(std::string_view bytes) {
  if (!failed_.ok()) return failed_;
  if (!started_) {
    started_ = true;
    KILN_RETURN_IF_ERROR(LoadSuppression());
  }
  Status s = reader_.Feed(bytes, [this](CsvRecord& r) { return OnRecord(r); });
  if (!s.ok()) failed_ = s;
  return s;
}

Status LeadImporter::Finish() {
  if (!failed_.ok()) return failed_;
  if (!started_) {
    started_ = true;
    KILN_RETURN_IF_ERROR(LoadSuppression());
  }
  Status s = reader_.Finish([this](CsvRecord& r) { return OnRecord(r); });
  if (s.ok() && !mapped_) {
    s = Status::InvalidArgument("the file holds no rows", "file");
  }
  if (s.ok()) s = Flush();
  if (!s.ok()) {
    failed_ = s;
    Abort(s.field().empty() ? s.message() : s.field() + ": " + s.message());
    return s;
  }
  if (!job_id_) return Status::Ok();
  return db_.Write([&](store::Tx& tx) { return UpdateJob(tx, "completed"); });
}

void LeadImporter::Abort(const std::string& reason) {
  if (!job_id_) return;
  json::array errors{json::object{{"row", 0}, {"field", "file"}, {"message", reason}}};
  Status s = db_.Write([&](store::Tx& tx) {
    return tx
        .Exec("imports.job_fail",
              {workspace_id_, *job_id_, json::serialize(errors), clock_.NowMillis()})
        .status();
  });
  (void)s;  // best effort: the job row may be gone with its workspace
}

Status LeadImporter::OnRecord(CsvRecord& record) {
  if (!mapped_) {
    mapped_ = true;
    if (!record.error.empty()) {
      return Status::InvalidArgument("the first row cannot be read: " + record.error, "file");
    }
    const bool has_header = options_.has_header.value_or(LooksLikeHeader(record.fields));
    ColumnMapping guess = GuessMapping(record.fields, has_header);
    if (has_header) header_ = record.fields;
    KILN_ASSIGN_OR_RETURN(mapping_, ApplyUserMapping(header_, std::move(guess), options_.mapping));
    if (has_header) return Status::Ok();
  }
  if (skipped_for_resume_ < options_.resume_rows) {
    ++skipped_for_resume_;  // committed by an earlier run of this job
    return Status::Ok();
  }
  ++counts_.rows;
  const int64_t row = record.number;
  if (!record.error.empty()) {
    AddError({.row = row, .line = record.line, .column = "", .reason = record.error});
  } else {
    auto lead = ReadLeadRow(record.fields, mapping_, header_, zones_);
    if (!lead.ok()) {
      std::string email;
      for (size_t i = 0; i < mapping_.columns.size() && i < record.fields.size(); ++i) {
        if (mapping_.columns[i].field == LeadField::kEmail) email = record.fields[i].substr(0, 320);
      }
      AddError({.row = row,
                .line = record.line,
                .column = lead.status().field(),
                .reason = lead.status().message(),
                .email = std::move(email)});
    } else {
      const std::string key = domain::EmailKey(lead->email);
      const std::string dom = domain::EmailDomain(key);
      if (suppressed_emails_.count(key) || suppressed_domains_.count(dom)) {
        ++counts_.suppressed;
      } else {
        batch_.emplace_back(row, std::move(lead).value());
        batch_lines_.push_back(record.line);
      }
    }
  }
  if (static_cast<int>(batch_.size() + pending_errors_.size()) >= options_.batch_rows) {
    return Flush();  // errors count too: a file of bad rows holds no more than a batch in memory
  }
  return Status::Ok();
}

Status LeadImporter::UpdateJob(store::Tx& tx, const std::string& status) {
  json::array errors;
  for (const ImportError& e : kept_errors_) {
    errors.push_back(json::object{{"row", e.row},
                                  {"line", e.line},
                                  {"field", e.column},
                                  {"message", e.reason},
                                  {"email", e.email}});
  }
  return tx
      .Exec("imports.job_progress",
            {workspace_id_, *job_id_, status, counts_.rows, counts_.imported, counts_.existing,
             counts_.duplicates, counts_.suppressed, counts_.invalid, counts_.role,
             counts_.disposable, json::serialize(errors), reader_.bytes_read(), clock_.NowMillis()})
      .status();
}

void LeadImporter::RejectDomainsWithoutMailServer() {
  std::vector<std::string> domains;
  domains.reserve(batch_.size());
  for (const auto& [row, lead] : batch_) {
    domains.push_back(domain::EmailDomain(domain::EmailKey(lead.email)));
  }
  const std::vector<MailServerVerdict> verdicts = options_.mx_check->Check(domains);
  size_t kept = 0;
  for (size_t i = 0; i < batch_.size(); ++i) {
    if (verdicts[i] == MailServerVerdict::kNoMailServer) {
      AddError({.row = batch_[i].first,
                .line = batch_lines_[i],
                .column = "email",
                .reason = std::string(kNoMailServerReason),
                .email = batch_[i].second.email});
      continue;
    }
    if (kept != i) {
      batch_[kept] = std::move(batch_[i]);
      batch_lines_[kept] = batch_lines_[i];
    }
    ++kept;
  }
  batch_.resize(kept);
  batch_lines_.resize(kept);
}

Status LeadImporter::Flush() {
  if (options_.mx_check != nullptr && !batch_.empty()) RejectDomainsWithoutMailServer();
  if (error_sink_) {
    for (const ImportError& e : pending_errors_) error_sink_(e);
  }
  pending_errors_.clear();
  if (batch_.empty()) {
    if (!job_id_) return Status::Ok();
    return db_.Write([&](store::Tx& tx) { return UpdateJob(tx, "running"); });
  }
  const int64_t now = clock_.NowMillis();
  // One statement inserts the batch; the rows it returns are the new leads. Every other row of
  // the batch is already a lead: of this file when its key came earlier (in this batch or, by the
  // hash hint, an earlier one; the database's unique index is the truth), else of the workspace.
  json::array leads, emails;
  for (const auto& [row, lead] : batch_) {
    leads.push_back(json::object{{"e", lead.email},
                                 {"f", lead.first_name},
                                 {"l", lead.last_name},
                                 {"c", lead.company},
                                 {"t", lead.title},
                                 {"z", lead.timezone},
                                 {"p", lead.phone},
                                 {"w", lead.website},
                                 {"x", CustomJson(lead)}});
    if (options_.list_id) emails.push_back(json::string(lead.email));
  }
  const std::string leads_json = json::serialize(leads);
  const std::string emails_json = json::serialize(emails);
  ImportCounts delta;
  std::vector<uint64_t> new_hashes;
  Status s = db_.Write([&](store::Tx& tx) -> Status {
    delta = ImportCounts{};
    new_hashes.clear();
    KILN_ASSIGN_OR_RETURN(auto inserted,
                          tx.Query("imports.insert_batch", {workspace_id_, leads_json, now}));
    std::unordered_set<std::string> inserted_keys;
    for (const auto& r : inserted) inserted_keys.insert(domain::EmailKey(r.Text("email")));
    std::unordered_set<std::string> in_batch;
    for (const auto& [row, lead] : batch_) {
      std::string key = domain::EmailKey(lead.email);
      const uint64_t h = KeyHash(key);
      const bool first_in_batch = in_batch.insert(key).second;
      if (first_in_batch && inserted_keys.count(key)) {
        ++delta.imported;
        delta.role += lead.role_address;
        delta.disposable += lead.disposable_domain;
      } else if (!first_in_batch || seen_.count(h)) {
        ++delta.duplicates;
      } else {
        ++delta.existing;
      }
      new_hashes.push_back(h);
    }
    if (options_.list_id) {
      KILN_RETURN_IF_ERROR(
          tx.Exec("imports.list_add_batch", {workspace_id_, *options_.list_id, emails_json, now})
              .status());
    }
    if (job_id_) {
      ImportCounts saved = counts_;
      counts_.imported += delta.imported;
      counts_.existing += delta.existing;
      counts_.duplicates += delta.duplicates;
      Status u = UpdateJob(tx, "running");
      counts_ = saved;
      KILN_RETURN_IF_ERROR(u);
    }
    return Status::Ok();
  });
  KILN_RETURN_IF_ERROR(s);
  counts_.imported += delta.imported;
  counts_.existing += delta.existing;
  counts_.duplicates += delta.duplicates;
  counts_.role += delta.role;
  counts_.disposable += delta.disposable;
  seen_.insert(new_hashes.begin(), new_hashes.end());
  batch_.clear();
  batch_lines_.clear();
  return Status::Ok();
}

}  // namespace kiln::leads
