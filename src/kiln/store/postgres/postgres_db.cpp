// PostgreSQL backend over libpq: a pool of connections, each with every named query prepared
// (PQprepare). Parameters go as text, Blobs as binary; results come as text and are typed by the
// column's OID. A connection that breaks is closed and replaced on its next use, never reused.
#include <libpq-fe.h>

#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "kiln/store/backends.h"

namespace kiln::store {
namespace {

// pg_advisory_xact_lock key that serialises migrations across nodes: "kilnmigr" in ASCII.
constexpr const char* kMigrationLockKey = "7811882143010432370";

// Built-in type OIDs (server/catalog/pg_type_d.h is not shipped with libpq-dev).
constexpr Oid kBoolOid = 16, kByteaOid = 17, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23,
              kOidOid = 26, kFloat4Oid = 700, kFloat8Oid = 701, kNumericOid = 1700;

// libpq messages span lines ("...failed: Connection refused\n\tIs the server running..."): fold
// them into one.
std::string OneLine(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;
ResultPtr Wrap(PGresult* r) { return ResultPtr(r, &PQclear); }

bool IsOk(const PGresult* r) {
  const ExecStatusType st = PQresultStatus(r);
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

// Maps a failed result to a Status and tells whether the connection is unusable now.
Status MapError(PGconn* conn, const PGresult* r, std::string_view context, bool* broken) {
  const std::string ctx(context);
  if (PQstatus(conn) == CONNECTION_BAD) {
    *broken = true;
    return Status::Unavailable(ctx +
                               ": connection to PostgreSQL lost: " + OneLine(PQerrorMessage(conn)));
  }
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const char* detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : nullptr;
  std::string msg = primary ? primary : OneLine(PQerrorMessage(conn));
  if (!ctx.empty()) msg = ctx + ": " + msg;
  if (detail) msg += " (" + OneLine(detail) + ")";
  const std::string code = state ? state : "";
  if (code == "23505") return Status::AlreadyExists(std::move(msg));
  if (code == "23503" || code == "23514" || code == "23502") {
    return Status::FailedPrecondition(std::move(msg));
  }
  if (code == "40001" || code == "40P01" || code == "55P03" || code.starts_with("08") ||
      code == "57P01" || code == "57P02" || code == "57P03") {
    if (code.starts_with("08") || code.starts_with("57P")) *broken = true;
    return Status::Unavailable(std::move(msg));
  }
  return Status::Internal(std::move(msg));
}

Value Decode(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return Value();
  const char* v = PQgetvalue(r, row, col);
  const int len = PQgetlength(r, row, col);
  auto as_int = [&](int64_t* out) {
    auto [ptr, ec] = std::from_chars(v, v + len, *out);
    return ec == std::errc() && ptr == v + len;
  };
  switch (PQftype(r, col)) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid: {
      int64_t i = 0;
      if (as_int(&i)) return Value(static_cast<long long>(i));
      break;
    }
    case kNumericOid: {
      int64_t i = 0;
      if (as_int(&i)) return Value(static_cast<long long>(i));
      return Value(std::strtod(v, nullptr));
    }
    case kFloat4Oid:
    case kFloat8Oid:
      return Value(std::strtod(v, nullptr));  // also reads Infinity, -Infinity, NaN
    case kBoolOid:
      return Value(v[0] == 't');
    case kByteaOid: {
      size_t n = 0;
      unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(v), &n);
      Blob b{std::string(reinterpret_cast<const char*>(bytes), n)};
      PQfreemem(bytes);
      return Value(std::move(b));
    }
    default:
      break;
  }
  return Value(std::string(v, len));
}

struct PgStmt {
  const NamedQuery* query = nullptr;
  std::string stmt_name;
};

struct PgConn {
  PGconn* conn = nullptr;
  std::map<std::string, PgStmt, std::less<>> stmts;
  bool broken = false;

  PgConn() = default;
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;
  ~PgConn() { PQfinish(conn); }

  // Runs SQL without parameters (transaction control, migrations; may hold several statements).
  Result<ResultPtr> Exec(const std::string& sql, std::string_view context) {
    ResultPtr r = Wrap(PQexec(conn, sql.c_str()));
    if (!r || !IsOk(r.get())) return MapError(conn, r.get(), context, &broken);
    return r;
  }

  Status Prepare(const std::vector<NamedQuery>& queries) {
    for (size_t i = 0; i < queries.size(); ++i) {
      const NamedQuery& q = queries[i];
      std::string stmt_name = "k" + std::to_string(i);
      ResultPtr r = Wrap(PQprepare(conn, stmt_name.c_str(), q.sql.c_str(), 0, nullptr));
      if (!r || !IsOk(r.get())) {
        Status s =
            MapError(conn, r.get(),
                     "named query " + q.name + " (" + q.source + ") does not prepare", &broken);
        if (s.code() == Status::Code::kUnavailable) return s;
        return Status::Internal(s.message());
      }
      stmts[q.name] = PgStmt{&q, std::move(stmt_name)};
    }
    return Status::Ok();
  }
};

struct Target {
  std::string host = "localhost";
  std::string port = "5432";
};

Target ParseTarget(const std::string& url) {
  Target t;
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (err) PQfreemem(err);
  if (!opts) return t;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val || !*o->val) continue;
    if (std::strcmp(o->keyword, "host") == 0 || std::strcmp(o->keyword, "hostaddr") == 0) {
      t.host = o->val;
    }
    if (std::strcmp(o->keyword, "port") == 0) t.port = o->val;
  }
  PQconninfoFree(opts);
  return t;
}

void IgnoreNotice(void*, const char*) {}

Result<std::unique_ptr<PgConn>> Connect(const std::string& url) {
  // The URL comes last so its own parameters override these defaults.
  const char* keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                        nullptr};
  const char* values[] = {"10", "kiln", "UTF8", url.c_str(), nullptr};
  auto c = std::make_unique<PgConn>();
  c->conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (c->conn == nullptr || PQstatus(c->conn) != CONNECTION_OK) {
    Target t = ParseTarget(url);
    std::string err = c->conn ? OneLine(PQerrorMessage(c->conn)) : "out of memory";
    // libpq says 'connection to server at "h", port p failed: <reason>'; the prefix repeats us.
    if (size_t p = err.find("failed: ");
        err.starts_with("connection to server") && p != std::string::npos) {
      err = err.substr(p + 8);
    }
    return Status::Unavailable("cannot connect to PostgreSQL at " + t.host + ":" + t.port + ": " +
                               err);
  }
  PQsetNoticeProcessor(c->conn, &IgnoreNotice, nullptr);
  return c;
}

class PostgresDatabase;

class PostgresTx final : public Tx {
 public:
  PostgresTx(PostgresDatabase* owner, std::unique_ptr<PgConn> conn)
      : owner_(owner), conn_(std::move(conn)) {}
  ~PostgresTx() override;

  Result<std::vector<Row>> Query(std::string_view name, const Params& params) override {
    KILN_ASSIGN_OR_RETURN(ResultPtr r, Run(name, params));
    const int nrows = PQntuples(r.get());
    const int ncols = PQnfields(r.get());
    auto columns = std::make_shared<std::vector<std::string>>();
    for (int c = 0; c < ncols; ++c) columns->push_back(PQfname(r.get(), c));
    std::vector<Row> rows;
    rows.reserve(nrows);
    for (int i = 0; i < nrows; ++i) {
      std::vector<Value> values;
      values.reserve(ncols);
      for (int c = 0; c < ncols; ++c) values.push_back(Decode(r.get(), i, c));
      rows.emplace_back(columns, std::move(values));
    }
    return rows;
  }

  Result<int64_t> Exec(std::string_view name, const Params& params) override {
    KILN_ASSIGN_OR_RETURN(ResultPtr r, Run(name, params));
    return static_cast<int64_t>(std::atoll(PQcmdTuples(r.get())));
  }

  Status Commit() override {
    if (!failed_.ok()) return failed_.WithContext("commit after a failed statement");
    if (done_) return Status::Internal("transaction already committed");
    auto r = conn_->Exec("COMMIT", "commit");
    if (!r.ok()) return Poison(r.status());
    done_ = true;
    return Status::Ok();
  }

 private:
  Status Poison(Status s) {
    if (failed_.ok()) failed_ = s;
    return s;
  }

  Result<ResultPtr> Run(std::string_view name, const Params& params) {
    if (!failed_.ok()) return failed_.WithContext("transaction already failed");
    if (done_) return Status::Internal(std::string(name) + ": transaction already committed");
    auto it = conn_->stmts.find(name);
    if (it == conn_->stmts.end()) {
      return Poison(Status::Internal("unknown named query " + std::string(name)));
    }
    const PgStmt& s = it->second;
    KILN_RETURN_IF_ERROR(Poison(CheckParamCount(*s.query, params)));
    const size_t n = params.size();
    std::vector<std::string> text(n);
    std::vector<const char*> values(n, nullptr);
    std::vector<int> lengths(n, 0);
    std::vector<int> formats(n, 0);
    for (size_t k = 0; k < n; ++k) {
      const Value::Variant& v = params[k].get();
      if (std::holds_alternative<std::monostate>(v)) continue;  // NULL
      if (const int64_t* i = std::get_if<int64_t>(&v)) {
        text[k] = std::to_string(*i);
      } else if (const double* d = std::get_if<double>(&v)) {
        if (std::isnan(*d)) {
          text[k] = "NaN";
        } else if (std::isinf(*d)) {
          text[k] = *d > 0 ? "Infinity" : "-Infinity";
        } else {
          char buf[32];
          auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, *d);
          text[k] = std::string(buf, ptr);
        }
      } else if (const std::string* t = std::get_if<std::string>(&v)) {
        if (t->find('\0') != std::string::npos) {
          return Poison(Status::InvalidArgument(std::string(name) + ": text parameter $" +
                                                std::to_string(k + 1) +
                                                " contains a NUL byte; bind it as a Blob"));
        }
        values[k] = t->c_str();
        continue;
      } else if (const Blob* b = std::get_if<Blob>(&v)) {
        values[k] = b->bytes.data();
        lengths[k] = static_cast<int>(b->bytes.size());
        formats[k] = 1;
        continue;
      }
      values[k] = text[k].c_str();
    }
    ResultPtr r = Wrap(PQexecPrepared(conn_->conn, s.stmt_name.c_str(), static_cast<int>(n),
                                      values.data(), lengths.data(), formats.data(), 0));
    if (!r || !IsOk(r.get())) return Poison(MapError(conn_->conn, r.get(), name, &conn_->broken));
    return r;
  }

  PostgresDatabase* owner_;
  std::unique_ptr<PgConn> conn_;
  bool done_ = false;
  Status failed_;
};

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::string url, Catalog catalog, int pool_size)
      : url_(std::move(url)), catalog_(std::move(catalog)) {
    free_.resize(pool_size);  // empty slots connect on first use
  }

  Dialect dialect() const override { return Dialect::kPostgres; }

  const Catalog& catalog() const { return catalog_; }

  Result<std::unique_ptr<Tx>> Begin(TxMode mode) override {
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, Acquire());
    auto r = conn->Exec(mode == TxMode::kWrite ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                                               : "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY",
                        "begin");
    if (!r.ok()) {
      Release(std::move(conn));
      return r.status();
    }
    return std::unique_ptr<Tx>(new PostgresTx(this, std::move(conn)));
  }

  Result<std::vector<int>> AppliedMigrations() override {
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, Acquire());
    auto r = conn->Exec("SELECT version FROM schema_migrations ORDER BY version", "migrations");
    std::vector<int> out;
    if (r.ok()) {
      for (int i = 0; i < PQntuples(r->get()); ++i)
        out.push_back(std::atoi(PQgetvalue(r->get(), i, 0)));
    }
    Release(std::move(conn));
    if (!r.ok()) return r.status();
    return out;
  }

  // A connection with every named query prepared; a broken or empty slot is (re)connected here.
  Result<std::unique_ptr<PgConn>> Acquire() {
    std::unique_ptr<PgConn> conn;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !free_.empty(); });
      conn = std::move(free_.back());
      free_.pop_back();
    }
    if (conn && !conn->broken && PQstatus(conn->conn) == CONNECTION_OK) return conn;
    conn.reset();
    Result<std::unique_ptr<PgConn>> fresh = Connect(url_);
    Status s = fresh.status();
    if (fresh.ok()) s = (*fresh)->Prepare(catalog_.queries);
    if (!s.ok()) {
      Release(nullptr);  // keep the slot; the next caller tries again
      return Status::Unavailable(s.message());
    }
    return fresh;
  }

  void Release(std::unique_ptr<PgConn> conn) {
    if (conn && (conn->broken || PQstatus(conn->conn) != CONNECTION_OK)) conn.reset();
    {
      std::lock_guard lock(mu_);
      free_.push_back(std::move(conn));
    }
    cv_.notify_one();
  }

 private:
  const std::string url_;
  const Catalog catalog_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConn>> free_;
};

PostgresTx::~PostgresTx() {
  if (!done_ && !conn_->broken) {
    auto r = conn_->Exec("ROLLBACK", "rollback");
    (void)r;  // a failure marks the connection broken; Release replaces it
  }
  owner_->Release(std::move(conn_));
}

Status Migrate(PgConn& c, const Catalog& catalog, bool migrate, const Clock& clock) {
  // Every step holds the same transaction-scoped advisory lock, so nodes starting together on one
  // database migrate one at a time and the later ones find the work done.
  auto in_tx = [&](const std::function<Status()>& body) -> Status {
    auto begin = c.Exec("BEGIN", "migrations: begin");
    if (!begin.ok()) return begin.status();
    auto lock = c.Exec(std::string("SELECT pg_advisory_xact_lock(") + kMigrationLockKey + ")",
                       "migrations: lock");
    Status s = lock.status();
    if (s.ok()) s = body();
    if (s.ok()) s = c.Exec("COMMIT", "migrations: commit").status();
    if (!s.ok() && !c.broken) (void)c.Exec("ROLLBACK", "migrations: rollback");
    return s;
  };
  std::vector<int> applied;
  KILN_RETURN_IF_ERROR(in_tx([&]() -> Status {
    if (migrate) {
      KILN_RETURN_IF_ERROR(c.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
                                  "PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
                                  "creating schema_migrations")
                               .status());
    }
    KILN_ASSIGN_OR_RETURN(
        ResultPtr exists,
        c.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL", "reading schema_migrations"));
    if (PQgetvalue(exists.get(), 0, 0)[0] != 't') return Status::Ok();
    KILN_ASSIGN_OR_RETURN(
        ResultPtr r, c.Exec("SELECT version FROM schema_migrations", "reading schema_migrations"));
    for (int i = 0; i < PQntuples(r.get()); ++i)
      applied.push_back(std::atoi(PQgetvalue(r.get(), i, 0)));
    return Status::Ok();
  }));
  KILN_ASSIGN_OR_RETURN(std::vector<const Migration*> pending,
                        PendingMigrations(applied, catalog, migrate));
  for (const Migration* m : pending) {
    KILN_RETURN_IF_ERROR(in_tx([&]() -> Status {
      KILN_ASSIGN_OR_RETURN(ResultPtr again,
                            c.Exec("SELECT count(*) FROM schema_migrations WHERE version = " +
                                       std::to_string(m->version),
                                   "reading schema_migrations"));
      if (std::atoi(PQgetvalue(again.get(), 0, 0)) != 0) return Status::Ok();
      ResultPtr r = Wrap(PQexec(c.conn, m->sql.c_str()));
      if (!r || !IsOk(r.get())) {
        return MigrationFailed(*m, MapError(c.conn, r.get(), "", &c.broken).message());
      }
      const std::string version = std::to_string(m->version);
      const std::string at = std::to_string(clock.NowMillis());
      const char* values[] = {version.c_str(), m->name.c_str(), at.c_str()};
      ResultPtr rec = Wrap(PQexecParams(
          c.conn, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
          3, nullptr, values, nullptr, nullptr, 0));
      if (!rec || !IsOk(rec.get())) {
        return MigrationFailed(*m, MapError(c.conn, rec.get(), "recording", &c.broken).message());
      }
      return Status::Ok();
    }));
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(std::string_view url, const OpenOptions& options,
                                               Catalog catalog, const Clock& clock) {
  const std::string u(url);
  auto db = std::make_unique<PostgresDatabase>(u, std::move(catalog), 0);
  // Connect every slot now: an unreachable server or a bad query fails the open, not a request.
  std::vector<std::unique_ptr<PgConn>> conns;
  for (int i = 0; i < options.pool_size; ++i) {
    KILN_ASSIGN_OR_RETURN(std::unique_ptr<PgConn> conn, Connect(u));
    if (i == 0) KILN_RETURN_IF_ERROR(Migrate(*conn, db->catalog(), options.migrate, clock));
    KILN_RETURN_IF_ERROR(conn->Prepare(db->catalog().queries));
    conns.push_back(std::move(conn));
  }
  for (auto& conn : conns) db->Release(std::move(conn));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace kiln::store
