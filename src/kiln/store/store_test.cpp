// Database tests against real SQLite and PostgreSQL (see kiln/testing/db_fixture.h), on the real
// schema's tables. Test-only named queries are passed as an extra area file, so the binary's own
// SQL files stay free of them.
#include <gtest/gtest.h>

#include <atomic>
#include <climits>
#include <filesystem>
#include <fstream>
#include <thread>

#include "kiln/store/catalog.h"
#include "kiln/store/db.h"
#include "kiln/testing/db_fixture.h"
#include "kiln/testing/fake_clock.h"

namespace kiln::store {
namespace {

using ::kiln::testing::CreateTestDatabaseUrl;
using ::kiln::testing::OpenFreshTestDatabase;

const SqlFile kTestQueries = {"queries/storetest.sql", R"sql(
-- name: storetest.create_workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id

-- name: storetest.get_workspace
SELECT id, name, created_at FROM workspaces WHERE id = $1

-- name: storetest.rename_workspaces
UPDATE workspaces SET name = $1

-- name: storetest.count_workspaces
SELECT count(*) AS n FROM workspaces

-- name: storetest.create_user
INSERT INTO users (email, name, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id

-- name: storetest.add_member
INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)

-- name: storetest.create_sender
INSERT INTO senders (workspace_id, email, smtp_host, smtp_port, smtp_security, smtp_secret,
                     source_ip, created_at, updated_at)
VALUES ($1, $2, 'smtp.test', 587, 'starttls', $3, $4, $5, $5)
RETURNING id

-- name: storetest.get_sender
SELECT id, email, smtp_secret, imap_secret, source_ip, warmup_end_at, daily_quota, status
FROM senders WHERE id = $1

-- name: storetest.create_audit
INSERT INTO audit_log (workspace_id, action, target_id, details, created_at)
VALUES ($1, $2, $3, $4, $5) RETURNING id

-- name: storetest.get_audit
SELECT workspace_id, user_id, action, target_id, details, created_at FROM audit_log WHERE id = $1

-- name: storetest.push_task
INSERT INTO queue_tasks (kind, run_at, lease_until, created_at, updated_at)
VALUES ($1, $2, $3, 0, 0) RETURNING id

-- name: storetest.get_task
SELECT kind, run_at, lease_until FROM queue_tasks WHERE id = $1

-- name: storetest.echo_real
SELECT CAST($1 AS DOUBLE PRECISION) AS d

-- name: storetest.put_instance_setting
INSERT INTO settings (workspace_id, key, value, updated_at) VALUES (NULL, $1, $2, $3)

-- name: storetest.upsert_instance_setting
INSERT INTO settings (workspace_id, key, value, updated_at) VALUES (NULL, $1, $2, $3)
ON CONFLICT (key) WHERE workspace_id IS NULL DO UPDATE SET value = excluded.value

-- name: storetest.put_workspace_setting
INSERT INTO settings (workspace_id, key, value, updated_at) VALUES ($1, $2, $3, $4)

-- name: storetest.get_settings
SELECT workspace_id, key, value FROM settings WHERE key = $1 ORDER BY workspace_id

-- name: storetest.migrations
SELECT version, name, applied_at FROM schema_migrations ORDER BY version

-- name: storetest.record_migration
INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, 0)

-- name: storetest.drop_connection
SELECT 1 AS dropped
)sql"};

// PostgreSQL only: kills the session that runs it, to test a lost connection.
const SqlFile kTestPostgresQueries = {"queries/storetest.postgres.sql", R"sql(
-- name: storetest.drop_connection
SELECT pg_terminate_backend(pg_backend_pid()) AS dropped
)sql"};

OpenOptions TestOptions(const Clock* clock = nullptr) {
  OpenOptions o;
  o.pool_size = 4;
  o.clock = clock;
  o.extra_sql_files = {kTestQueries, kTestPostgresQueries};
  return o;
}

int EmbeddedMigrationCount() {
  return static_cast<int>(LoadCatalog(EmbeddedSqlFiles(), Dialect::kSqlite)->migrations.size());
}

std::vector<int> AllMigrations() {
  std::vector<int> v;
  for (int i = 1; i <= EmbeddedMigrationCount(); ++i) v.push_back(i);
  return v;
}

bool Contains(const Status& s, std::string_view needle) {
  return s.message().find(needle) != std::string::npos;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = OpenFreshTestDatabase(GetParam(), TestOptions(&clock_));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }

  int64_t CreateWorkspace(Tx& tx, const std::string& name) {
    auto row = tx.QueryRow("storetest.create_workspace", {name, clock_.NowMillis()});
    EXPECT_TRUE(row.ok()) << row.status().ToString();
    return row.ok() ? row->Int("id") : 0;
  }

  int64_t CountWorkspaces() {
    int64_t n = -1;
    Status s = db_->Read([&](Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(Row row, tx.QueryRow("storetest.count_workspaces", {}));
      n = row.Int("n");
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return n;
  }

  ::kiln::testing::FakeClock clock_;
  std::unique_ptr<Database> db_;
};

TEST_P(StoreTest, MigrationsAreAppliedAndRecorded) {
  EXPECT_EQ(db_->dialect(), GetParam() == "sqlite" ? Dialect::kSqlite : Dialect::kPostgres);
  auto applied = db_->AppliedMigrations();
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(*applied, AllMigrations());
  Status s = db_->Read([&](Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("storetest.migrations"));
    EXPECT_EQ(rows.size(), AllMigrations().size());
    EXPECT_EQ(rows.at(0).Int("version"), 1);
    EXPECT_EQ(rows.at(0).Text("name"), "0001_init");
    EXPECT_EQ(rows.at(0).Int("applied_at"), clock_.NowMillis());
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_P(StoreTest, ReopenIsANoOpAndKeepsData) {
  auto url = CreateTestDatabaseUrl(GetParam());
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  ::kiln::testing::FakeClock first(1000), second(2000);
  {
    auto db = OpenDatabase(*url, TestOptions(&first));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)
                    ->Write([&](Tx& tx) {
                      return tx.Exec("storetest.create_workspace", {"kept", 5}).status();
                    })
                    .ok());
  }
  auto db = OpenDatabase(*url, TestOptions(&second));
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(*(*db)->AppliedMigrations(), AllMigrations());
  Status s = (*db)->Read([&](Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("storetest.migrations"));
    EXPECT_EQ(rows.at(0).Int("applied_at"), 1000);  // not re-applied
    KILN_ASSIGN_OR_RETURN(Row n, tx.QueryRow("storetest.count_workspaces", {}));
    EXPECT_EQ(n.Int("n"), 1);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  // Opening without migrate works on an up-to-date database.
  OpenOptions no_migrate = TestOptions();
  no_migrate.migrate = false;
  EXPECT_TRUE(OpenDatabase(*url, no_migrate).ok());
}

TEST_P(StoreTest, OpenWithoutMigrateOnEmptyDatabaseSaysRunMigrate) {
  auto url = CreateTestDatabaseUrl(GetParam());
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  OpenOptions o = TestOptions();
  o.migrate = false;
  auto db = OpenDatabase(*url, o);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_TRUE(Contains(db.status(), "run `kiln migrate`")) << db.status().ToString();
}

TEST_P(StoreTest, DatabaseNewerThanBinaryFailsClearly) {
  auto url = CreateTestDatabaseUrl(GetParam());
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  {
    auto db = OpenDatabase(*url, TestOptions());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)
                    ->Write([](Tx& tx) {
                      return tx.Exec("storetest.record_migration", {9999, "9999_future"}).status();
                    })
                    .ok());
  }
  auto db = OpenDatabase(*url, TestOptions());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_TRUE(Contains(db.status(), "migration 9999")) << db.status().ToString();
  EXPECT_TRUE(Contains(db.status(), "newer than the binary")) << db.status().ToString();
}

TEST_P(StoreTest, FailedMigrationNamesItselfAndRollsBack) {
  auto url = CreateTestDatabaseUrl(GetParam());
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  char name[32];
  std::snprintf(name, sizeof name, "%04d_broken", EmbeddedMigrationCount() + 1);
  OpenOptions o = TestOptions();
  o.extra_sql_files.push_back({std::string("migrations/") + name + ".sql",
                               "CREATE TABLE half_done (id {{ID}});\nCREATE TABLE oops (;\n"});
  auto db = OpenDatabase(*url, o);
  ASSERT_FALSE(db.ok());
  EXPECT_TRUE(Contains(db.status(), std::string("migration ") + name + " failed: "))
      << db.status().ToString();
  // The earlier migrations stay; the broken one left nothing behind and can be fixed and rerun.
  o.extra_sql_files.back().text = "CREATE TABLE half_done (id {{ID}});\n";
  auto fixed = OpenDatabase(*url, o);
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  std::vector<int> want = AllMigrations();
  want.push_back(EmbeddedMigrationCount() + 1);
  EXPECT_EQ(*(*fixed)->AppliedMigrations(), want);
}

TEST_P(StoreTest, BadNamedQueryFailsAtOpenWithItsName) {
  OpenOptions o = TestOptions();
  o.extra_sql_files.push_back(
      {"queries/broken.sql",
       "-- name: broken.select\nSELECT nope FROM no_such_table WHERE id = $1\n"});
  auto db = OpenFreshTestDatabase(GetParam(), o);
  ASSERT_FALSE(db.ok());
  EXPECT_TRUE(Contains(db.status(), "named query broken.select (queries/broken.sql:1)"))
      << db.status().ToString();
  EXPECT_TRUE(Contains(db.status(), "no_such_table")) << db.status().ToString();
}

TEST_P(StoreTest, DuplicateQueryNameFailsAtOpen) {
  OpenOptions o = TestOptions();
  o.extra_sql_files.push_back({"queries/storetest.sql", "-- name: storetest.get_task\nSELECT 1\n"});
  auto db = OpenFreshTestDatabase(GetParam(), o);
  ASSERT_FALSE(db.ok());
  EXPECT_TRUE(Contains(db.status(), "duplicate query name storetest.get_task"))
      << db.status().ToString();
}

TEST_P(StoreTest, UniqueViolationIsAlreadyExistsIgnoringEmailCase) {
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   return tx.Exec("storetest.create_user", {"Ann@Example.com", "Ann", 1}).status();
                 })
                  .ok());
  Status s = db_->Write([&](Tx& tx) {
    return tx.Exec("storetest.create_user", {"ann@example.COM", "Other", 2}).status();
  });
  EXPECT_EQ(s.code(), Status::Code::kAlreadyExists) << s.ToString();
  EXPECT_TRUE(Contains(s, "users_email_key")) << s.ToString();
  EXPECT_TRUE(Contains(s, "storetest.create_user")) << s.ToString();
}

TEST_P(StoreTest, ForeignKeyCheckAndNotNullAreFailedPrecondition) {
  int64_t ws = 0, user = 0;
  ASSERT_TRUE(
      db_->Write([&](Tx& tx) -> Status {
           ws = CreateWorkspace(tx, "w");
           KILN_ASSIGN_OR_RETURN(Row u, tx.QueryRow("storetest.create_user", {"a@b.c", "A", 1}));
           user = u.Int("id");
           return Status::Ok();
         })
          .ok());
  Status fk = db_->Write([&](Tx& tx) {
    return tx.Exec("storetest.add_member", {ws + 1000, user, "owner", 1}).status();
  });
  EXPECT_EQ(fk.code(), Status::Code::kFailedPrecondition) << fk.ToString();
  Status check = db_->Write([&](Tx& tx) {
    return tx.Exec("storetest.add_member", {ws, user, "emperor", 1}).status();
  });
  EXPECT_EQ(check.code(), Status::Code::kFailedPrecondition) << check.ToString();
  Status not_null = db_->Write([&](Tx& tx) {
    return tx.Exec("storetest.create_workspace", {std::nullopt, 1}).status();
  });
  EXPECT_EQ(not_null.code(), Status::Code::kFailedPrecondition) << not_null.ToString();
  Status ok = db_->Write([&](Tx& tx) {
    return tx.Exec("storetest.add_member", {ws, user, "owner", 1}).status();
  });
  EXPECT_TRUE(ok.ok()) << ok.ToString();
}

TEST_P(StoreTest, UncommittedTxRollsBackAndFailedTxIsPoisoned) {
  {
    auto tx = db_->Begin(TxMode::kWrite);
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    CreateWorkspace(**tx, "gone");
  }
  EXPECT_EQ(CountWorkspaces(), 0);

  auto tx = db_->Begin(TxMode::kWrite);
  ASSERT_TRUE(tx.ok());
  CreateWorkspace(**tx, "also gone");
  auto bad = (*tx)->Exec("storetest.create_workspace", {std::nullopt, 1});
  EXPECT_FALSE(bad.ok());
  auto after = (*tx)->Query("storetest.count_workspaces");
  EXPECT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_FALSE((*tx)->Commit().ok());
  tx->reset();
  EXPECT_EQ(CountWorkspaces(), 0);
}

TEST_P(StoreTest, WriteRetriesUnavailableAndNothingElse) {
  int calls = 0;
  Status s = db_->Write([&](Tx& tx) -> Status {
    ++calls;
    CreateWorkspace(tx, "attempt " + std::to_string(calls));
    if (calls < 3) return Status::Unavailable("simulated serialization failure");
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(CountWorkspaces(), 1);  // the failed attempts rolled back

  calls = 0;
  s = db_->Write([&](Tx&) -> Status {
    ++calls;
    return Status::Unavailable("always busy");
  });
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_GT(calls, 1);
  EXPECT_LE(calls, 10);  // bounded

  calls = 0;
  s = db_->Write([&](Tx&) -> Status {
    ++calls;
    return Status::InvalidArgument("bad input", "name");
  });
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(calls, 1);
}

TEST_P(StoreTest, LostConnectionIsReplacedAndWriteRetries) {
  int calls = 0;
  Status s = db_->Write([&](Tx& tx) -> Status {
    ++calls;
    if (calls == 1) KILN_RETURN_IF_ERROR(tx.Query("storetest.drop_connection").status());
    CreateWorkspace(tx, "after reconnect");
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(calls, GetParam() == "postgres" ? 2 : 1);
  EXPECT_EQ(CountWorkspaces(), 1);
  // Every pooled connection still works.
  for (int i = 0; i < 8; ++i) EXPECT_EQ(CountWorkspaces(), 1);
}

TEST_P(StoreTest, BlobsNullsAndInt64ExtremesRoundTrip) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  all_bytes += std::string("\0\0tail\0", 7);
  int64_t sender = 0, empty_sender = 0, lo = 0, hi = 0;
  ASSERT_TRUE(
      db_->Write([&](Tx& tx) -> Status {
           int64_t ws = CreateWorkspace(tx, "w");
           KILN_ASSIGN_OR_RETURN(Row a,
                                 tx.QueryRow("storetest.create_sender",
                                             {ws, "a@x.io", Blob{all_bytes}, std::nullopt, 1}));
           sender = a.Int("id");
           KILN_ASSIGN_OR_RETURN(Row b, tx.QueryRow("storetest.create_sender",
                                                    {ws, "b@x.io", Blob{""}, "10.0.0.1", 1}));
           empty_sender = b.Int("id");
           KILN_ASSIGN_OR_RETURN(
               Row t1, tx.QueryRow("storetest.push_task", {"min", INT64_MIN, std::nullopt}));
           lo = t1.Int("id");
           KILN_ASSIGN_OR_RETURN(
               Row t2, tx.QueryRow("storetest.push_task", {"max", INT64_MAX, INT64_MAX - 1}));
           hi = t2.Int("id");
           return Status::Ok();
         })
          .ok());
  Status s = db_->Read([&](Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(Row a, tx.QueryRow("storetest.get_sender", {sender}));
    EXPECT_EQ(a.Bytes("smtp_secret"), all_bytes);
    EXPECT_EQ(std::get<Blob>(a.At("smtp_secret").get()).bytes.size(), all_bytes.size());
    EXPECT_TRUE(a.IsNull("imap_secret"));
    EXPECT_TRUE(a.IsNull("source_ip"));
    EXPECT_EQ(a.OptText("source_ip"), std::nullopt);
    EXPECT_EQ(a.OptInt("warmup_end_at"), std::nullopt);
    EXPECT_EQ(a.Int("warmup_end_at"), 0);
    EXPECT_EQ(a.Text("source_ip"), "");
    EXPECT_EQ(a.Int("daily_quota"), 30);  // column default
    EXPECT_EQ(a.Text("status"), "unverified");
    KILN_ASSIGN_OR_RETURN(Row b, tx.QueryRow("storetest.get_sender", {empty_sender}));
    EXPECT_FALSE(b.IsNull("smtp_secret"));  // an empty blob is not NULL
    EXPECT_EQ(b.Bytes("smtp_secret"), "");
    EXPECT_EQ(b.OptText("source_ip"), "10.0.0.1");
    KILN_ASSIGN_OR_RETURN(Row t1, tx.QueryRow("storetest.get_task", {lo}));
    EXPECT_EQ(t1.Int("run_at"), INT64_MIN);
    EXPECT_EQ(t1.OptInt("lease_until"), std::nullopt);
    KILN_ASSIGN_OR_RETURN(Row t2, tx.QueryRow("storetest.get_task", {hi}));
    EXPECT_EQ(t2.Int("run_at"), INT64_MAX);
    EXPECT_EQ(t2.OptInt("lease_until"), INT64_MAX - 1);
    for (double d : {0.0, -1.5, 3.141592653589793, 1e300, -2.5e-300}) {
      KILN_ASSIGN_OR_RETURN(Row r, tx.QueryRow("storetest.echo_real", {d}));
      EXPECT_EQ(r.Real("d"), d);
    }
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_P(StoreTest, TextIsStoredVerbatim) {
  const std::vector<std::string> texts = {
      "Zoë Ångström — 日本語 🚀 עברית",
      "'); DROP TABLE users; --",
      "$1 $2 ? :name @p",
      "quote ' double \" backslash \\ percent % underscore _",
      "",
      std::string(100000, 'x'),
  };
  std::vector<int64_t> ids;
  ASSERT_TRUE(db_->Write([&](Tx& tx) -> Status {
                   int64_t ws = CreateWorkspace(tx, "w");
                   for (const std::string& t : texts) {
                     KILN_ASSIGN_OR_RETURN(
                         Row r, tx.QueryRow("storetest.create_audit",
                                            {ws, t, t, "{\"k\":\"" + t.substr(0, 10) + "\"}", 7}));
                     ids.push_back(r.Int("id"));
                   }
                   return Status::Ok();
                 })
                  .ok());
  Status s = db_->Read([&](Tx& tx) -> Status {
    for (size_t i = 0; i < texts.size(); ++i) {
      KILN_ASSIGN_OR_RETURN(Row r, tx.QueryRow("storetest.get_audit", {ids[i]}));
      EXPECT_EQ(r.Text("action"), texts[i]);
      EXPECT_EQ(r.Text("target_id"), texts[i]);
      EXPECT_TRUE(r.IsNull("user_id"));
      EXPECT_EQ(r.Int("created_at"), 7);
    }
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(CountWorkspaces(), 1);  // the DROP TABLE text did nothing
}

TEST_P(StoreTest, CallerMistakesAreReported) {
  auto tx = db_->Begin(TxMode::kWrite);
  ASSERT_TRUE(tx.ok());
  auto nul = (*tx)->Exec("storetest.create_workspace", {std::string("a\0b", 3), 1});
  EXPECT_EQ(nul.status().code(), Status::Code::kInvalidArgument) << nul.status().ToString();
  tx->reset();

  tx = db_->Begin(TxMode::kWrite);
  auto count = (*tx)->Exec("storetest.create_workspace", {"only one"});
  EXPECT_EQ(count.status().code(), Status::Code::kInternal);
  EXPECT_TRUE(Contains(count.status(), "expects 2 parameters, got 1")) << count.status().ToString();
  tx->reset();

  tx = db_->Begin(TxMode::kWrite);
  auto unknown = (*tx)->Exec("storetest.no_such_query", {});
  EXPECT_EQ(unknown.status().code(), Status::Code::kInternal);
  EXPECT_TRUE(Contains(unknown.status(), "storetest.no_such_query"));
  tx->reset();

  tx = db_->Begin(TxMode::kRead);
  auto write_in_read = (*tx)->Exec("storetest.create_workspace", {"w", 1});
  EXPECT_FALSE(write_in_read.ok());
  tx->reset();

  Status many = db_->Write([&](Tx& tx) -> Status {
    CreateWorkspace(tx, "a");
    CreateWorkspace(tx, "b");
    return tx.QueryOne("storetest.count_workspaces").status();
  });
  EXPECT_TRUE(many.ok());
  auto r = db_->Begin(TxMode::kRead);
  auto one = (*r)->QueryOne("storetest.get_workspace", {int64_t{424242}});
  ASSERT_TRUE(one.ok());
  EXPECT_FALSE(one->has_value());
  auto row = (*r)->QueryRow("storetest.get_workspace", {int64_t{424242}}, "no such workspace");
  EXPECT_EQ(row.status(), Status::NotFound("no such workspace"));
}

TEST_P(StoreTest, ExecReturnsChangedRows) {
  ASSERT_TRUE(db_->Write([&](Tx& tx) -> Status {
                   for (int i = 0; i < 3; ++i) CreateWorkspace(tx, "w");
                   KILN_ASSIGN_OR_RETURN(int64_t n, tx.Exec("storetest.rename_workspaces", {"v"}));
                   EXPECT_EQ(n, 3);
                   return Status::Ok();
                 })
                  .ok());
}

TEST_P(StoreTest, InstanceWideSettingsAreUniqueToo) {
  int64_t ws = 0;
  ASSERT_TRUE(
      db_->Write([&](Tx& tx) -> Status {
           ws = CreateWorkspace(tx, "w");
           KILN_RETURN_IF_ERROR(tx.Exec("storetest.put_instance_setting", {"k", "1", 1}).status());
           return tx.Exec("storetest.put_workspace_setting", {ws, "k", "ws", 1}).status();
         })
          .ok());
  Status dup = db_->Write([&](Tx& tx) {
    return tx.Exec("storetest.put_instance_setting", {"k", "2", 2}).status();
  });
  EXPECT_EQ(dup.code(), Status::Code::kAlreadyExists) << dup.ToString();
  Status dup_ws = db_->Write([&](Tx& tx) {
    return tx.Exec("storetest.put_workspace_setting", {ws, "k", "again", 2}).status();
  });
  EXPECT_EQ(dup_ws.code(), Status::Code::kAlreadyExists) << dup_ws.ToString();
  Status upsert = db_->Write([&](Tx& tx) {
    return tx.Exec("storetest.upsert_instance_setting", {"k", "3", 3}).status();
  });
  EXPECT_TRUE(upsert.ok()) << upsert.ToString();
  Status s = db_->Read([&](Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("storetest.get_settings", {"k"}));
    EXPECT_EQ(rows.size(), 2u);
    for (const Row& r : rows) EXPECT_EQ(r.Text("value"), r.IsNull("workspace_id") ? "3" : "ws");
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_P(StoreTest, ConcurrentWritersAllSucceed) {
  constexpr int kThreads = 8;
  constexpr int kWritesPerThread = 40;
  std::atomic<int> failures{0};
  std::string first_failure;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWritesPerThread; ++i) {
        Status s = db_->Write([&](Tx& tx) -> Status {
          // Read-then-write in one transaction: the pattern that deadlocks SQLite without
          // BEGIN IMMEDIATE.
          KILN_RETURN_IF_ERROR(tx.Query("storetest.count_workspaces").status());
          return tx.Exec("storetest.create_workspace", {"t" + std::to_string(t), i}).status();
        });
        if (!s.ok()) {
          std::lock_guard lock(mu);
          if (failures++ == 0) first_failure = s.ToString();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0) << first_failure;
  EXPECT_EQ(CountWorkspaces(), kThreads * kWritesPerThread);
}

TEST_P(StoreTest, SeveralPoolsMigratingOneDatabaseAtOnce) {
  auto url = CreateTestDatabaseUrl(GetParam());
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  constexpr int kNodes = 4;
  std::vector<Status> results(kNodes);
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      auto db = OpenDatabase(*url, TestOptions());
      results[i] = db.ok() ? Status::Ok() : db.status();
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  auto db = OpenDatabase(*url, TestOptions());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(*(*db)->AppliedMigrations(), AllMigrations());
}

INSTANTIATE_TEST_SUITE_P(Db, StoreTest, ::testing::ValuesIn(::kiln::testing::DbBackends()),
                         ::kiln::testing::DbBackendName());

TEST(StoreOpenTest, UnopenableSqlitePathIsOneClearLine) {
  auto dir =
      std::filesystem::temp_directory_path() / ("kiln-store-open-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "not-a-dir") << "x";
  std::string path = (dir / "not-a-dir" / "kiln.db").string();
  auto db = OpenDatabase(path, 2, true);
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(db.ok());
  EXPECT_TRUE(db.status().message().starts_with("cannot open database " + path + ": "))
      << db.status().ToString();
  EXPECT_EQ(db.status().message().find('\n'), std::string::npos);
}

TEST(StoreOpenTest, UnreachablePostgresIsOneClearLine) {
  auto db = OpenDatabase("postgres://kiln@127.0.0.1:1/postgres", 2, true);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Status::Code::kUnavailable);
  EXPECT_TRUE(db.status().message().starts_with("cannot connect to PostgreSQL at 127.0.0.1:1: "))
      << db.status().ToString();
  EXPECT_EQ(db.status().message().find('\n'), std::string::npos);
}

TEST(StoreOpenTest, InMemorySqliteWorks) {
  auto db = OpenDatabase(":memory:", 4, true);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(*(*db)->AppliedMigrations(), AllMigrations());
}

}  // namespace
}  // namespace kiln::store
