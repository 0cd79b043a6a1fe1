// Test databases on every backend, for any module's tests (library kiln_testing_db).
//
//   class MyStoreTest : public ::testing::TestWithParam<std::string> {};
//   TEST_P(MyStoreTest, Works) {
//     auto db = kiln::testing::OpenFreshTestDatabase(GetParam());
//     ASSERT_TRUE(db.ok()) << db.status().ToString();
//     ...
//   }
//   INSTANTIATE_TEST_SUITE_P(Db, MyStoreTest, ::testing::ValuesIn(kiln::testing::DbBackends()),
//                            kiln::testing::DbBackendName());
//
// Backends are "sqlite" (a file in a fresh temp folder) and "postgres" (a fresh database
// kiln_test_<random> on the server named by KILN_TEST_PG_URL, e.g. from `scripts/pg start` and
// `export KILN_TEST_PG_URL=$(scripts/pg url)`). When KILN_TEST_PG_URL is unset the postgres
// backend fails every test that uses it, saying so; it is skipped only when KILN_TEST_SQLITE_ONLY=1
// is set explicitly.
//
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"
#include "kiln/store/db.h"

namespace kiln::testing {

// {"sqlite", "postgres"}, or {"sqlite"} when KILN_TEST_SQLITE_ONLY=1.
std::vector<std::string> DbBackends();

// Test-name generator for INSTANTIATE_TEST_SUITE_P: the backend name.
struct DbBackendName {
  std::string operator()(const ::testing::TestParamInfo<std::string>& info) const {
    return info.param;
  }
};

// A new, empty, migrated database on `backend`, removed when the returned handle is destroyed
// (the SQLite file and its folder; the PostgreSQL database, dropped). Fails with a message that
// says what to do when the backend is unusable (KILN_TEST_PG_URL unset, server down).
// `options.extra_sql_files` adds test-only queries or migrations.
Result<std::unique_ptr<store::Database>> OpenFreshTestDatabase(
    std::string_view backend, const store::OpenOptions& options = {});

// The URL of a new, empty (not migrated) database on `backend`, for tests that start the `kiln`
// binary as a process. It is removed when the test process exits. Failure adds a gtest failure
// with the reason and returns "".
std::string FreshTestDatabaseUrl(std::string_view backend);

// Like FreshTestDatabaseUrl, as a Result.
Result<std::string> CreateTestDatabaseUrl(std::string_view backend);

}  // namespace kiln::testing
