#include "kiln/store/db.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <thread>

#include "kiln/store/backends.h"

namespace kiln::store {
namespace {

[[noreturn]] void Die(std::string_view what, std::string_view col) {
  std::fprintf(stderr, "kiln::store::Row: %.*s '%.*s'\n", static_cast<int>(what.size()),
               what.data(), static_cast<int>(col.size()), col.data());
  std::abort();
}

}  // namespace

const Value& Row::At(std::string_view col) const {
  const auto& cols = *columns_;
  for (size_t i = 0; i < cols.size(); ++i) {
    if (cols[i] == col) return values_[i];
  }
  Die("no such column", col);
}

bool Row::IsNull(std::string_view col) const { return At(col).is_null(); }

int64_t Row::Int(std::string_view col) const {
  const Value::Variant& v = At(col).get();
  if (std::holds_alternative<std::monostate>(v)) return 0;
  if (const int64_t* i = std::get_if<int64_t>(&v)) return *i;
  if (const double* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (const std::string* s = std::get_if<std::string>(&v)) {
    int64_t out = 0;
    auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
    if (ec == std::errc() && ptr == s->data() + s->size()) return out;
  }
  Die("column is not an integer:", col);
}

double Row::Real(std::string_view col) const {
  const Value::Variant& v = At(col).get();
  if (std::holds_alternative<std::monostate>(v)) return 0;
  if (const double* d = std::get_if<double>(&v)) return *d;
  if (const int64_t* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (const std::string* s = std::get_if<std::string>(&v)) {
    double out = 0;
    auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
    if (ec == std::errc() && ptr == s->data() + s->size()) return out;
  }
  Die("column is not a number:", col);
}

std::string Row::Text(std::string_view col) const {
  const Value::Variant& v = At(col).get();
  if (const std::string* s = std::get_if<std::string>(&v)) return *s;
  if (const int64_t* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const double* d = std::get_if<double>(&v)) {
    char buf[32];
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, *d);
    return std::string(buf, ptr);
  }
  if (const Blob* b = std::get_if<Blob>(&v)) return b->bytes;
  return "";
}

std::string Row::Bytes(std::string_view col) const {
  const Value::Variant& v = At(col).get();
  if (const Blob* b = std::get_if<Blob>(&v)) return b->bytes;
  if (const std::string* s = std::get_if<std::string>(&v)) return *s;
  if (std::holds_alternative<std::monostate>(v)) return "";
  Die("column is not bytes:", col);
}

std::optional<int64_t> Row::OptInt(std::string_view col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}

std::optional<std::string> Row::OptText(std::string_view col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}

Result<std::optional<Row>> Tx::QueryOne(std::string_view name, const Params& params) {
  KILN_ASSIGN_OR_RETURN(std::vector<Row> rows, Query(name, params));
  if (rows.empty()) return std::optional<Row>();
  if (rows.size() > 1) {
    return Status::Internal(std::string(name) + ": expected at most one row, got " +
                            std::to_string(rows.size()));
  }
  return std::optional<Row>(std::move(rows.front()));
}

Result<Row> Tx::QueryRow(std::string_view name, const Params& params,
                         std::string not_found_message) {
  KILN_ASSIGN_OR_RETURN(std::optional<Row> row, QueryOne(name, params));
  if (!row) return Status::NotFound(std::move(not_found_message));
  return std::move(*row);
}

namespace {

// Runs fn in a transaction; retries the whole transaction when the database reports Unavailable
// (SQLite busy, PostgreSQL serialization failure or deadlock, a lost connection). Sleeping is not
// reading the time, so no Clock is needed.
Status RunTx(Database& db, TxMode mode, const std::function<Status(Tx&)>& fn) {
  constexpr int kMaxAttempts = 6;
  constexpr int kFirstBackoffMs = 5;
  constexpr int kMaxBackoffMs = 250;
  thread_local std::minstd_rand rng(std::random_device{}());
  int backoff_ms = kFirstBackoffMs;
  Status status;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    Result<std::unique_ptr<Tx>> tx = db.Begin(mode);
    if (tx.ok()) {
      status = fn(**tx);
      if (status.ok()) status = (*tx)->Commit();
      tx->reset();  // rolls back unless committed
      if (status.ok()) return status;
    } else {
      status = tx.status();
    }
    if (status.code() != Status::Code::kUnavailable || attempt == kMaxAttempts) break;
    // Full jitter, so conflicting writers do not retry in lockstep.
    std::uniform_int_distribution<int> jitter(backoff_ms / 2, backoff_ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
    backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
  }
  return status;
}

}  // namespace

Status Database::Write(const std::function<Status(Tx&)>& fn) {
  return RunTx(*this, TxMode::kWrite, fn);
}

Status Database::Read(const std::function<Status(Tx&)>& fn) {
  return RunTx(*this, TxMode::kRead, fn);
}

Result<std::vector<const Migration*>> PendingMigrations(const std::vector<int>& applied,
                                                        const Catalog& catalog, bool migrate) {
  std::set<int> known;
  for (const Migration& m : catalog.migrations) known.insert(m.version);
  for (int v : applied) {
    if (!known.count(v)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%04d", v);
      return Status::FailedPrecondition(
          std::string("the database has migration ") + buf +
          " which this kiln binary does not know (" + std::to_string(catalog.migrations.size()) +
          " migrations): the database is newer than the binary; run a newer kiln");
    }
  }
  std::set<int> done(applied.begin(), applied.end());
  std::vector<const Migration*> pending;
  for (const Migration& m : catalog.migrations) {
    if (!done.count(m.version)) pending.push_back(&m);
  }
  if (!migrate && !pending.empty()) {
    return Status::FailedPrecondition("the database lacks " + std::to_string(pending.size()) +
                                      " migration(s), first " + pending.front()->name +
                                      ": run `kiln migrate`");
  }
  return pending;
}

Status MigrationFailed(const Migration& m, std::string_view error) {
  return Status::Internal("migration " + m.name + " failed: " + std::string(error));
}

Status CheckParamCount(const NamedQuery& q, const Params& params) {
  if (static_cast<int>(params.size()) == q.param_count) return Status::Ok();
  return Status::Internal(q.name + ": expects " + std::to_string(q.param_count) +
                          " parameters, got " + std::to_string(params.size()));
}

Result<std::unique_ptr<Database>> OpenDatabase(std::string_view url, const OpenOptions& options) {
  static const SystemClock kSystemClock;
  const Clock& clock = options.clock ? *options.clock : kSystemClock;
  if (options.pool_size < 1) {
    return Status::InvalidArgument("database pool size must be at least 1, got " +
                                   std::to_string(options.pool_size));
  }
  const bool postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
  const Dialect dialect = postgres ? Dialect::kPostgres : Dialect::kSqlite;
  std::vector<SqlFile> files = EmbeddedSqlFiles();
  files.insert(files.end(), options.extra_sql_files.begin(), options.extra_sql_files.end());
  Result<Catalog> catalog = LoadCatalog(files, dialect);
  if (!catalog.ok()) return catalog.status().WithContext("bad SQL file");
  if (postgres) return OpenPostgres(url, options, std::move(*catalog), clock);
  return OpenSqlite(url, options, std::move(*catalog), clock);
}

Result<std::unique_ptr<Database>> OpenDatabase(std::string_view url, int pool_size, bool migrate) {
  OpenOptions options;
  options.pool_size = pool_size;
  options.migrate = migrate;
  return OpenDatabase(url, options);
}

}  // namespace kiln::store
