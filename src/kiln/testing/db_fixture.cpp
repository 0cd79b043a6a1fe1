#include "kiln/testing/db_fixture.h"

#include <libpq-fe.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <random>

namespace kiln::testing {
namespace {

constexpr std::string_view kNoPgMessage =
    "the postgres test backend needs a server: run `scripts/pg start` and "
    "`export KILN_TEST_PG_URL=$(scripts/pg url)` (or set KILN_TEST_SQLITE_ONLY=1 to test SQLite "
    "only)";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string RandomHex() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard lock(mu);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// Runs one statement on the server named by `url` in its own session.
Status AdminExec(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  Status s;
  if (PQstatus(conn) != CONNECTION_OK) {
    s = Status::Unavailable("cannot connect to PostgreSQL at KILN_TEST_PG_URL=" + url + ": " +
                            PQerrorMessage(conn) + " (is `scripts/pg start` running?)");
  } else {
    PGresult* r = PQexec(conn, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      s = Status::Internal(sql + ": " + PQresultErrorMessage(r));
    }
    PQclear(r);
  }
  PQfinish(conn);
  return s;
}

// Replaces the database name (the URL path) in a postgres:// URL.
std::string WithDatabase(const std::string& url, const std::string& db) {
  size_t authority = url.find("://");
  size_t path = url.find('/', authority == std::string::npos ? 0 : authority + 3);
  size_t query = url.find('?');
  std::string base = url.substr(0, path == std::string::npos ? query : path);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  return base + "/" + db + rest;
}

// What to remove when the process exits: databases handed out as URLs.
class Leftovers {
 public:
  static Leftovers& Get() {
    static Leftovers instance;
    return instance;
  }
  void Add(std::function<void()> cleanup) {
    std::lock_guard lock(mu_);
    cleanups_.push_back(std::move(cleanup));
  }
  ~Leftovers() {
    for (auto& c : cleanups_) c();
  }

 private:
  std::mutex mu_;
  std::vector<std::function<void()>> cleanups_;
};

struct Fresh {
  std::string url;
  std::function<void()> cleanup;
};

Result<Fresh> CreateFresh(std::string_view backend) {
  if (backend == "sqlite") {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kiln-test-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      return Status::Internal("cannot create a temp folder from " + tmpl);
    }
    std::string dir = tmpl;
    return Fresh{dir + "/kiln.db", [dir] {
                   std::error_code ec;
                   std::filesystem::remove_all(dir, ec);
                 }};
  }
  if (backend == "postgres") {
    const std::string server = Env("KILN_TEST_PG_URL");
    if (server.empty()) return Status::FailedPrecondition(std::string(kNoPgMessage));
    const std::string name = "kiln_test_" + RandomHex();
    KILN_RETURN_IF_ERROR(AdminExec(server, "CREATE DATABASE " + name));
    return Fresh{WithDatabase(server, name), [server, name] {
                   Status s =
                       AdminExec(server, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
                   if (!s.ok()) std::fprintf(stderr, "db_fixture: %s\n", s.ToString().c_str());
                 }};
  }
  return Status::InvalidArgument("unknown test database backend '" + std::string(backend) +
                                 "' (expected sqlite or postgres)");
}

// A Database that removes its storage when destroyed.
class TestDatabase final : public store::Database {
 public:
  TestDatabase(std::unique_ptr<store::Database> inner, std::function<void()> cleanup)
      : inner_(std::move(inner)), cleanup_(std::move(cleanup)) {}
  ~TestDatabase() override {
    inner_.reset();  // close every pooled connection first
    cleanup_();
  }
  store::Dialect dialect() const override { return inner_->dialect(); }
  Result<std::unique_ptr<store::Tx>> Begin(store::TxMode mode) override {
    return inner_->Begin(mode);
  }
  Result<std::vector<int>> AppliedMigrations() override { return inner_->AppliedMigrations(); }

 private:
  std::unique_ptr<store::Database> inner_;
  std::function<void()> cleanup_;
};

}  // namespace

std::vector<std::string> DbBackends() {
  if (Env("KILN_TEST_SQLITE_ONLY") == "1") return {"sqlite"};
  return {"sqlite", "postgres"};
}

Result<std::unique_ptr<store::Database>> OpenFreshTestDatabase(std::string_view backend,
                                                               const store::OpenOptions& options) {
  KILN_ASSIGN_OR_RETURN(Fresh fresh, CreateFresh(backend));
  store::OpenOptions opts = options;
  opts.migrate = true;
  Result<std::unique_ptr<store::Database>> db = store::OpenDatabase(fresh.url, opts);
  if (!db.ok()) {
    fresh.cleanup();
    return db.status();
  }
  return std::unique_ptr<store::Database>(
      new TestDatabase(std::move(*db), std::move(fresh.cleanup)));
}

Result<std::string> CreateTestDatabaseUrl(std::string_view backend) {
  KILN_ASSIGN_OR_RETURN(Fresh fresh, CreateFresh(backend));
  Leftovers::Get().Add(std::move(fresh.cleanup));
  return fresh.url;
}

std::string FreshTestDatabaseUrl(std::string_view backend) {
  Result<std::string> url = CreateTestDatabaseUrl(backend);
  if (!url.ok()) {
    ADD_FAILURE() << url.status().ToString();
    return "";
  }
  return *url;
}

}  // namespace kiln::testing
