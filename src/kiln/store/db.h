// Database: Kiln's only door to SQL. A pool of connections to SQLite (embedded default, WAL) or
// PostgreSQL, running *named queries* loaded from the .sql files under store/sql/ (compiled into
// the binary and prepared on every connection at open, so a typo fails at boot, not at 3 a.m.).
//
// Parameters are written $1, $2, ... in every dialect (SQLite binds them by name). Times are
// Unix milliseconds (BIGINT, UTC). Booleans are INTEGER 0/1.
//
// Thread-safety: Database is thread-safe; a Tx belongs to one thread at a time and holds one
// pooled connection until it is committed or destroyed (destroying an uncommitted Tx rolls back).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"

namespace kiln::store {

enum class Dialect { kSqlite, kPostgres };

// Bytes that must be bound as a BLOB / BYTEA rather than text.
struct Blob {
  std::string bytes;
  bool operator==(const Blob&) const = default;
};

// A parameter or a column value.
class Value {
 public:
  using Variant = std::variant<std::monostate, int64_t, double, std::string, Blob>;
  Value() = default;
  Value(std::nullopt_t) {}
  Value(int v) : v_(int64_t{v}) {}
  Value(unsigned v) : v_(int64_t{v}) {}
  Value(long v) : v_(int64_t{v}) {}
  Value(long long v) : v_(int64_t{v}) {}
  Value(bool v) : v_(int64_t{v ? 1 : 0}) {}
  Value(double v) : v_(v) {}
  Value(std::string v) : v_(std::move(v)) {}
  Value(std::string_view v) : v_(std::string(v)) {}
  Value(const char* v) : v_(std::string(v)) {}
  Value(Blob v) : v_(std::move(v)) {}
  template <typename T>
  Value(const std::optional<T>& o) {
    if (o) *this = Value(*o);
  }
  const Variant& get() const { return v_; }
  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }

 private:
  Variant v_;
};

// One result row. Accessors abort on an unknown column name (a programming error: the named
// query and its caller disagree); NULL reads as 0 / "" unless read through the Opt* accessors.
class Row {
 public:
  Row(std::shared_ptr<const std::vector<std::string>> columns, std::vector<Value> values)
      : columns_(std::move(columns)), values_(std::move(values)) {}
  int64_t Int(std::string_view col) const;
  double Real(std::string_view col) const;
  std::string Text(std::string_view col) const;
  std::string Bytes(std::string_view col) const;  // BLOB / BYTEA content
  bool Bool(std::string_view col) const { return Int(col) != 0; }
  bool IsNull(std::string_view col) const;
  std::optional<int64_t> OptInt(std::string_view col) const;
  std::optional<std::string> OptText(std::string_view col) const;
  const Value& At(std::string_view col) const;
  const std::vector<std::string>& columns() const { return *columns_; }
  const std::vector<Value>& values() const { return values_; }

 private:
  std::shared_ptr<const std::vector<std::string>> columns_;
  std::vector<Value> values_;
};

using Params = std::vector<Value>;

// A transaction on one pooled connection.
//
// Errors map to Status: unique/primary-key violation -> AlreadyExists (message names the
// constraint or columns), foreign key / check / not-null violation -> FailedPrecondition,
// busy/locked/serialization failure/connection lost -> Unavailable, unknown query name ->
// Internal. After any error the Tx is poisoned: every later call fails, Commit() fails.
class Tx {
 public:
  virtual ~Tx() = default;
  // Runs a named query and returns all rows.
  virtual Result<std::vector<Row>> Query(std::string_view name, const Params& params = {}) = 0;
  // Runs a named statement; returns the number of rows it changed.
  virtual Result<int64_t> Exec(std::string_view name, const Params& params = {}) = 0;
  // At most one row: nullopt when none; Internal when more than one.
  Result<std::optional<Row>> QueryOne(std::string_view name, const Params& params = {});
  // Exactly one row, else NotFound(not_found_message).
  Result<Row> QueryRow(std::string_view name, const Params& params,
                       std::string not_found_message = "not found");
  virtual Status Commit() = 0;
};

enum class TxMode { kRead, kWrite };

class Database {
 public:
  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;
  // Starts a transaction (SQLite: BEGIN IMMEDIATE for kWrite, BEGIN for kRead; PostgreSQL:
  // READ COMMITTED, READ ONLY for kRead). Waits for a free pooled connection.
  virtual Result<std::unique_ptr<Tx>> Begin(TxMode mode) = 0;

  // Runs fn in a transaction and commits when fn returns OK; rolls back otherwise. Retries the
  // whole transaction (up to a few times, with backoff) when the database reports Unavailable for
  // a busy/serialization conflict. fn must therefore have no side effects outside the Tx.
  Status Write(const std::function<Status(Tx&)>& fn);
  Status Read(const std::function<Status(Tx&)>& fn);

  // Applied migrations, e.g. {1, 2, 3}.
  virtual Result<std::vector<int>> AppliedMigrations() = 0;
};

// One .sql file: `path` is relative to store/sql/ ("queries/users.sql",
// "migrations/0001_init.sql"), `text` its contents.
struct SqlFile {
  std::string path;
  std::string text;
};

struct OpenOptions {
  // Pooled connections (>= 1). A SQLite ":memory:" database always uses one connection.
  int pool_size = 4;
  // Apply pending migrations. When false, a database behind the binary's migrations fails to
  // open (FailedPrecondition: "run `kiln migrate`").
  bool migrate = true;
  // Stamps schema_migrations.applied_at; the system clock when null.
  const Clock* clock = nullptr;
  // Loaded after the embedded files as if they were part of store/sql/ (tests: extra queries or
  // migrations). Same rules: a duplicate name or a bad query fails the open.
  std::vector<SqlFile> extra_sql_files;
};

// Opens a database: "postgres://..." or "postgresql://..." -> PostgreSQL; anything else is a
// SQLite file path (created with its parent folder if missing; WAL mode, foreign keys on).
// Applies pending migrations (each in its own transaction, recorded in schema_migrations) when
// `migrate` is true, then prepares every named query on every connection. Fails with one clear
// message: unreachable server, unwritable file, failed migration N (with the SQL error), a named
// query that does not prepare (with its name and the error), a database with a migration this
// binary does not know (it is newer than the binary).
Result<std::unique_ptr<Database>> OpenDatabase(std::string_view url, const OpenOptions& options);
Result<std::unique_ptr<Database>> OpenDatabase(std::string_view url, int pool_size, bool migrate);

}  // namespace kiln::store
