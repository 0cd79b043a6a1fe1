// SQLite backend: a fixed pool of connections to one file, each with every named query prepared
// (SQLITE_PREPARE_PERSISTENT). WAL lets readers run beside the one writer; writers open with
// BEGIN IMMEDIATE so they queue on the busy handler instead of deadlocking on a lock upgrade.
#include <sqlite3.h>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>

#include "kiln/store/backends.h"

namespace kiln::store {
namespace {

constexpr int kBusyTimeoutMs = 5000;

Status MapError(sqlite3* db, std::string_view context) {
  const int ext = sqlite3_extended_errcode(db);
  std::string msg = std::string(context) + ": " + sqlite3_errmsg(db);
  switch (ext & 0xff) {
    case SQLITE_CONSTRAINT:
      if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status::AlreadyExists(std::move(msg));
      }
      return Status::FailedPrecondition(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable(std::move(msg));
    default:
      return Status::Internal(std::move(msg));
  }
}

struct Stmt {
  const NamedQuery* query = nullptr;
  sqlite3_stmt* stmt = nullptr;
  std::vector<int> bind_index;  // bind_index[k-1] is the SQLite index of $k
  bool read_only = false;
  std::shared_ptr<const std::vector<std::string>> columns;
};

struct Conn {
  sqlite3* db = nullptr;
  std::map<std::string, Stmt, std::less<>> stmts;

  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() {
    for (auto& [name, s] : stmts) sqlite3_finalize(s.stmt);
    sqlite3_close_v2(db);
  }

  // Runs SQL without parameters or results (pragmas, transaction control, migrations).
  Status Exec(std::string_view sql, std::string_view context) {
    std::string text(sql);
    char* err = nullptr;
    if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      sqlite3_free(err);  // sqlite3_errmsg keeps the same text
      return MapError(db, context);
    }
    return Status::Ok();
  }

  // Runs a query whose first column is an integer; returns that column of every row.
  Result<std::vector<int64_t>> QueryInts(const char* sql, std::string_view context) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return MapError(db, context);
    std::vector<int64_t> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(sqlite3_column_int64(s, 0));
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return MapError(db, context);
    return out;
  }

  Status Prepare(const NamedQuery& q) {
    std::string where = "named query " + q.name + " (" + q.source + ")";
    Stmt s;
    s.query = &q;
    const char* tail = nullptr;
    if (sqlite3_prepare_v3(db, q.sql.c_str(), static_cast<int>(q.sql.size()) + 1,
                           SQLITE_PREPARE_PERSISTENT, &s.stmt, &tail) != SQLITE_OK) {
      return Status::Internal(where + " does not prepare: " + sqlite3_errmsg(db));
    }
    if (s.stmt == nullptr) return Status::Internal(where + " holds no statement");
    stmts[q.name] = s;  // owned from here on, finalized by ~Conn
    if (tail != nullptr && *tail != '\0') {
      sqlite3_stmt* rest = nullptr;
      sqlite3_prepare_v2(db, tail, -1, &rest, nullptr);
      if (rest != nullptr) {
        sqlite3_finalize(rest);
        return Status::Internal(where + " holds more than one statement");
      }
    }
    const int n = sqlite3_bind_parameter_count(s.stmt);
    std::vector<int> index(n, 0);
    for (int i = 1; i <= n; ++i) {
      const char* name = sqlite3_bind_parameter_name(s.stmt, i);
      int k = 0;
      if (name != nullptr && name[0] == '$') k = std::atoi(name + 1);
      if (k < 1 || k > n || std::to_string(k) != name + 1) {
        return Status::Internal(where + ": parameter '" + (name ? name : "?") +
                                "' is not allowed; write $1..$N");
      }
      index[k - 1] = i;
    }
    if (n != q.param_count) {
      return Status::Internal(where + ": SQLite sees " + std::to_string(n) +
                              " parameters, expected " + std::to_string(q.param_count));
    }
    Stmt& stored = stmts[q.name];
    stored.bind_index = std::move(index);
    stored.read_only = sqlite3_stmt_readonly(s.stmt) != 0;
    auto columns = std::make_shared<std::vector<std::string>>();
    for (int c = 0; c < sqlite3_column_count(s.stmt); ++c) {
      columns->push_back(sqlite3_column_name(s.stmt, c));
    }
    stored.columns = std::move(columns);
    return Status::Ok();
  }
};

std::string Hint(const std::string& path, int rc) {
  switch (rc & 0xff) {
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_IOERR: {
      std::string dir = std::filesystem::path(path).parent_path().string();
      return " (is " + (dir.empty() ? std::string(".") : dir) + " writable?)";
    }
    default:
      return "";
  }
}

Result<std::unique_ptr<Conn>> OpenConn(const std::string& path) {
  auto conn = std::make_unique<Conn>();
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &conn->db, flags, nullptr);
  auto fail = [&](int code) -> Status {
    const char* msg = conn->db ? sqlite3_errmsg(conn->db) : sqlite3_errstr(code);
    return Status::Unavailable("cannot open database " + path + ": " + msg + Hint(path, code));
  };
  if (rc != SQLITE_OK) return fail(rc);
  sqlite3_extended_result_codes(conn->db, 1);
  sqlite3_busy_timeout(conn->db, kBusyTimeoutMs);
  // journal_mode answers with the mode in force: "wal", or "memory" for ":memory:".
  sqlite3_stmt* s = nullptr;
  rc = sqlite3_prepare_v2(conn->db, "PRAGMA journal_mode=WAL", -1, &s, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(s);
  std::string mode =
      rc == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(s, 0)) : "";
  if (rc != SQLITE_ROW) rc = sqlite3_extended_errcode(conn->db);
  sqlite3_finalize(s);
  if (mode.empty()) return fail(rc);
  if (mode != "wal" && mode != "memory") {
    return Status::Unavailable("cannot open database " + path + ": journal_mode is '" + mode +
                               "', WAL is required");
  }
  for (const char* pragma : {"PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL"}) {
    if (sqlite3_exec(conn->db, pragma, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return fail(sqlite3_extended_errcode(conn->db));
    }
  }
  return conn;
}

class SqliteDatabase;

class SqliteTx final : public Tx {
 public:
  SqliteTx(SqliteDatabase* owner, std::unique_ptr<Conn> conn, TxMode mode)
      : owner_(owner), conn_(std::move(conn)), mode_(mode) {}
  ~SqliteTx() override;

  Result<std::vector<Row>> Query(std::string_view name, const Params& params) override {
    std::vector<Row> rows;
    KILN_RETURN_IF_ERROR(Run(name, params, &rows));
    return rows;
  }

  Result<int64_t> Exec(std::string_view name, const Params& params) override {
    KILN_RETURN_IF_ERROR(Run(name, params, nullptr));
    return static_cast<int64_t>(sqlite3_changes64(conn_->db));
  }

  Status Commit() override {
    if (!failed_.ok()) return failed_.WithContext("commit after a failed statement");
    if (done_) return Status::Internal("transaction already committed");
    Status s = conn_->Exec("COMMIT", "commit");
    if (!s.ok()) return Poison(s);
    done_ = true;
    return Status::Ok();
  }

 private:
  Status Poison(Status s) {
    if (failed_.ok()) failed_ = s;
    return s;
  }

  Status Run(std::string_view name, const Params& params, std::vector<Row>* rows) {
    if (!failed_.ok()) return failed_.WithContext("transaction already failed");
    if (done_) return Status::Internal(std::string(name) + ": transaction already committed");
    auto it = conn_->stmts.find(name);
    if (it == conn_->stmts.end()) {
      return Poison(Status::Internal("unknown named query " + std::string(name)));
    }
    Stmt& s = it->second;
    if (mode_ == TxMode::kRead && !s.read_only) {
      return Poison(
          Status::Internal(std::string(name) + ": writes, but the transaction is read-only"));
    }
    KILN_RETURN_IF_ERROR(Poison(CheckParamCount(*s.query, params)));
    // Reset even on early return so the statement releases its read snapshot.
    struct Reset {
      sqlite3_stmt* stmt;
      ~Reset() {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
      }
    } reset{s.stmt};
    for (size_t k = 0; k < params.size(); ++k) {
      const int idx = s.bind_index[k];
      const Value::Variant& v = params[k].get();
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(v)) {
        rc = sqlite3_bind_null(s.stmt, idx);
      } else if (const int64_t* i = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(s.stmt, idx, *i);
      } else if (const double* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(s.stmt, idx, *d);
      } else if (const std::string* t = std::get_if<std::string>(&v)) {
        if (t->find('\0') != std::string::npos) {
          return Poison(Status::InvalidArgument(std::string(name) + ": text parameter $" +
                                                std::to_string(k + 1) +
                                                " contains a NUL byte; bind it as a Blob"));
        }
        rc = sqlite3_bind_text64(s.stmt, idx, t->data(), t->size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      } else if (const Blob* b = std::get_if<Blob>(&v)) {
        rc = sqlite3_bind_blob64(s.stmt, idx, b->bytes.data(), b->bytes.size(), SQLITE_TRANSIENT);
      }
      if (rc != SQLITE_OK) return Poison(MapError(conn_->db, name));
    }
    while (true) {
      int rc = sqlite3_step(s.stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return Poison(MapError(conn_->db, name));
      if (rows == nullptr) continue;
      const int n = sqlite3_column_count(s.stmt);
      std::vector<Value> values;
      values.reserve(n);
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(s.stmt, c)) {
          case SQLITE_INTEGER:
            values.emplace_back(static_cast<long long>(sqlite3_column_int64(s.stmt, c)));
            break;
          case SQLITE_FLOAT:
            values.emplace_back(sqlite3_column_double(s.stmt, c));
            break;
          case SQLITE_TEXT: {
            const char* p = reinterpret_cast<const char*>(sqlite3_column_text(s.stmt, c));
            values.emplace_back(std::string(p, sqlite3_column_bytes(s.stmt, c)));
            break;
          }
          case SQLITE_BLOB: {
            const char* p = static_cast<const char*>(sqlite3_column_blob(s.stmt, c));
            const int size = sqlite3_column_bytes(s.stmt, c);
            values.emplace_back(Blob{p ? std::string(p, size) : std::string()});
            break;
          }
          default:
            values.emplace_back();
        }
      }
      rows->emplace_back(s.columns, std::move(values));
    }
    return Status::Ok();
  }

  SqliteDatabase* owner_;
  std::unique_ptr<Conn> conn_;
  TxMode mode_;
  bool done_ = false;
  Status failed_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(Catalog catalog, std::vector<std::unique_ptr<Conn>> conns)
      : catalog_(std::move(catalog)), free_(std::move(conns)) {}

  Dialect dialect() const override { return Dialect::kSqlite; }

  Result<std::unique_ptr<Tx>> Begin(TxMode mode) override {
    std::unique_ptr<Conn> conn = Acquire();
    Status s = conn->Exec(mode == TxMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN", "begin");
    if (!s.ok()) {
      Release(std::move(conn));
      return s;
    }
    return std::unique_ptr<Tx>(new SqliteTx(this, std::move(conn), mode));
  }

  Result<std::vector<int>> AppliedMigrations() override {
    std::unique_ptr<Conn> conn = Acquire();
    auto versions =
        conn->QueryInts("SELECT version FROM schema_migrations ORDER BY version", "migrations");
    Release(std::move(conn));
    if (!versions.ok()) return versions.status();
    return std::vector<int>(versions->begin(), versions->end());
  }

  Catalog& catalog() { return catalog_; }

  std::unique_ptr<Conn> Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty(); });
    std::unique_ptr<Conn> conn = std::move(free_.back());
    free_.pop_back();
    return conn;
  }

  void Release(std::unique_ptr<Conn> conn) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(std::move(conn));
    }
    cv_.notify_one();
  }

 private:
  Catalog catalog_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> free_;
};

SqliteTx::~SqliteTx() {
  if (!done_) {
    // Fails harmlessly when SQLite already rolled back on its own (e.g. SQLITE_FULL).
    sqlite3_exec(conn_->db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  owner_->Release(std::move(conn_));
}

Status Migrate(Conn& conn, const Catalog& catalog, bool migrate, const Clock& clock) {
  // BEGIN IMMEDIATE takes the write lock, so two processes opening one file migrate in turn and
  // the second finds the work done.
  // Without `migrate` the check only reads, so a read-only file still opens.
  auto in_tx = [&](const std::function<Status()>& body) -> Status {
    KILN_RETURN_IF_ERROR(conn.Exec(migrate ? "BEGIN IMMEDIATE" : "BEGIN", "migrations: begin"));
    Status s = body();
    if (s.ok()) s = conn.Exec("COMMIT", "migrations: commit");
    if (!s.ok()) sqlite3_exec(conn.db, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  };
  std::vector<int64_t> applied;
  KILN_RETURN_IF_ERROR(in_tx([&]() -> Status {
    if (migrate) {
      KILN_RETURN_IF_ERROR(
          conn.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                    "creating schema_migrations"));
    }
    auto exists = conn.QueryInts(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'",
        "reading schema_migrations");
    if (!exists.ok()) return exists.status();
    if ((*exists)[0] == 0) return Status::Ok();
    KILN_ASSIGN_OR_RETURN(applied, conn.QueryInts("SELECT version FROM schema_migrations",
                                                  "reading schema_migrations"));
    return Status::Ok();
  }));
  KILN_ASSIGN_OR_RETURN(
      std::vector<const Migration*> pending,
      PendingMigrations(std::vector<int>(applied.begin(), applied.end()), catalog, migrate));
  for (const Migration* m : pending) {
    KILN_RETURN_IF_ERROR(in_tx([&]() -> Status {
      auto again = conn.QueryInts(
          ("SELECT count(*) FROM schema_migrations WHERE version = " + std::to_string(m->version))
              .c_str(),
          "reading schema_migrations");
      if (!again.ok()) return again.status();
      if ((*again)[0] != 0) return Status::Ok();  // another process applied it meanwhile
      Status s = conn.Exec(m->sql, "migration");
      if (!s.ok()) return MigrationFailed(*m, sqlite3_errmsg(conn.db));
      sqlite3_stmt* rec = nullptr;
      sqlite3_prepare_v2(
          conn.db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", -1,
          &rec, nullptr);
      sqlite3_bind_int(rec, 1, m->version);
      sqlite3_bind_text(rec, 2, m->name.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(rec, 3, clock.NowMillis());
      const int rc = sqlite3_step(rec);
      sqlite3_finalize(rec);
      if (rc != SQLITE_DONE) return MigrationFailed(*m, sqlite3_errmsg(conn.db));
      return Status::Ok();
    }));
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(std::string_view url, const OpenOptions& options,
                                             Catalog catalog, const Clock& clock) {
  std::string path(url);
  if (path.empty()) return Status::InvalidArgument("database path is empty");
  const bool memory = path == ":memory:";
  if (!memory) {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      return Status::Unavailable("cannot open database " + path + ": cannot create folder " +
                                 parent.string() + ": " + ec.message());
    }
  }
  // Every ":memory:" connection is its own database, so an in-memory pool has one slot.
  const int pool_size = memory ? 1 : options.pool_size;
  std::vector<std::unique_ptr<Conn>> conns;
  for (int i = 0; i < pool_size; ++i) {
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<Conn> conn, OpenConn(path));
    if (i == 0) {
      Status s = Migrate(*conn, catalog, options.migrate, clock);
      if (!s.ok()) {
        if (s.message().starts_with("migration ")) return s;
        return s.WithContext("database " + path);
      }
    }
    conns.push_back(std::move(conn));
  }
  auto db =
      std::make_unique<SqliteDatabase>(std::move(catalog), std::vector<std::unique_ptr<Conn>>());
  // Statements point into the catalog, so prepare against the copy the database owns.
  for (auto& conn : conns) {
    for (const NamedQuery& q : db->catalog().queries) KILN_RETURN_IF_ERROR(conn->Prepare(q));
    db->Release(std::move(conn));
  }
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace kiln::store
