#include "kiln/leads/importer.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "kiln/testing/db_fixture.h"
#include "kiln/testing/fake_clock.h"

namespace kiln::leads {
namespace {

constexpr std::string_view kFixtureSql = R"sql(
-- name: imports.test_job
INSERT INTO upload_jobs (workspace_id, created_at, updated_at) VALUES ($1, $2, $2);

-- name: imports.test_jobs
SELECT id, status, total_rows, imported_rows, skipped_rows, error_rows, errors
FROM upload_jobs WHERE workspace_id = $1 ORDER BY id;
)sql";

class ImporterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store::OpenOptions options;
    options.extra_sql_files.push_back({"queries/imports_test.sql", std::string(kFixtureSql)});
    auto db = testing::OpenFreshTestDatabase(GetParam(), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Write([&](store::Tx& tx) -> Status {
                     KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("workspaces.insert", {"w", 1}));
                     ws_ = w.Int("id");
                     return Status::Ok();
                   })
                    .ok());
  }

  // Runs the query `name` with `params` in a read transaction and returns its rows.
  std::vector<store::Row> Query(std::string_view name, const store::Params& params) {
    std::vector<store::Row> rows;
    EXPECT_TRUE(db_->Read([&](store::Tx& tx) -> Status {
                     KILN_ASSIGN_OR_RETURN(rows, tx.Query(name, params));
                     return Status::Ok();
                   })
                    .ok());
    return rows;
  }

  int64_t Exec(std::string_view name, const store::Params& params) {
    int64_t out = 0;
    EXPECT_TRUE(db_->Write([&](store::Tx& tx) -> Status {
                     auto r = tx.QueryOne(name, params);
                     if (!r.ok()) return r.status();
                     if (*r) out = (*r)->Int("id");
                     return Status::Ok();
                   })
                    .ok());
    return out;
  }

  ImportCounts Import(std::string_view csv, ImportOptions options = {}, size_t chunk = 7,
                      std::vector<ImportError>* errors = nullptr) {
    LeadImporter importer(*db_, clock_, &zones_, ws_, std::nullopt, std::move(options),
                          [&](const ImportError& e) {
                            if (errors) errors->push_back(e);
                          });
    for (size_t i = 0; i < csv.size(); i += chunk) {
      Status s = importer.Feed(csv.substr(i, chunk));
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    Status s = importer.Finish();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return importer.counts();
  }

  std::unique_ptr<store::Database> db_;
  testing::FakeClock clock_;
  domain::TimeZoneDatabase zones_;
  int64_t ws_ = 0;
};

TEST_P(ImporterTest, ImportsMapsDeduplicatesAndSuppresses) {
  Exec("contacts.insert", {ws_, "old@acme.com", "", "", "", "", "", "", "", "{}", "new", 1});
  ASSERT_TRUE(db_->Write([&](store::Tx& tx) {
                   return tx
                       .Exec("suppression.add_domain",
                             {ws_, std::nullopt, "blocked.com", "manual", "", 1})
                       .status();
                 })
                  .ok());
  const int64_t list = Exec("lists.insert", {ws_, "Q4", "", 1});
  const std::string csv =
      "Email;First Name;Company;Shoe size\r\n"
      "ann@acme.com;Ann;\"Acme; Inc\";38\r\n"
      "ANN@acme.com;Ann again;;\r\n"  // duplicate inside the file (case-insensitive)
      "OLD@acme.com;Old;;\r\n"        // already a lead
      "bob@blocked.com;Bob;;\r\n"     // suppressed domain
      "not-an-address;Nope;;\r\n"     // invalid
      "info@yopmail.com;;;\r\n";      // flagged role + disposable, imported
  std::vector<ImportError> errors;
  ImportOptions options;
  options.list_id = list;
  ImportCounts c = Import(csv, options, 5, &errors);
  EXPECT_EQ(c.rows, 6);
  EXPECT_EQ(c.imported, 2);
  EXPECT_EQ(c.duplicates, 1);
  EXPECT_EQ(c.existing, 1);
  EXPECT_EQ(c.suppressed, 1);
  EXPECT_EQ(c.invalid, 1);
  EXPECT_EQ(c.role, 1);
  EXPECT_EQ(c.disposable, 1);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].row, 6);
  EXPECT_EQ(errors[0].line, 6);
  EXPECT_EQ(errors[0].column, "Email");
  EXPECT_EQ(errors[0].email, "not-an-address");

  auto ann = Query("contacts.list", {ws_, INT64_MAX, "", 0, "ann@%", 10});
  ASSERT_EQ(ann.size(), 1u);
  EXPECT_EQ(ann[0].Text("first_name"), "Ann");
  EXPECT_EQ(ann[0].Text("company"), "Acme; Inc");
  EXPECT_EQ(boost::json::parse(ann[0].Text("custom_fields")),
            boost::json::parse(R"({"shoe_size":"38"})"));
  // The list holds the new leads and the existing one.
  auto in_list = Query("contacts.list", {ws_, INT64_MAX, "", list, "", 10});
  EXPECT_EQ(in_list.size(), 3u);
}

TEST_P(ImporterTest, ReimportingTheSameFileAddsNothing) {
  std::string csv = "email,name\n";
  for (int i = 0; i < 2500; ++i)
    csv += "lead" + std::to_string(i) + "@example.com,Lead " + std::to_string(i) + "\n";
  ImportOptions options;
  options.batch_rows = 300;
  ImportCounts first = Import(csv, options, 4096);
  EXPECT_EQ(first.imported, 2500);
  ImportCounts second = Import(csv, options, 4096);
  EXPECT_EQ(second.imported, 0);
  EXPECT_EQ(second.existing, 2500);
  EXPECT_EQ(Query("contacts.list", {ws_, INT64_MAX, "", 0, "", 5000}).size(), 2500u);
}

TEST_P(ImporterTest, JobRowShowsProgressAndErrors) {
  ASSERT_TRUE(db_->Write([&](store::Tx& tx) -> Status {
                   return tx.Exec("imports.test_job", {ws_, 1}).status();
                 })
                  .ok());
  auto jobs = Query("imports.test_jobs", {ws_});
  ASSERT_EQ(jobs.size(), 1u);
  const int64_t job = jobs[0].Int("id");
  LeadImporter importer(*db_, clock_, &zones_, ws_, job, {});
  ASSERT_TRUE(importer.Feed("email,tz\na@x.com,Europe/Paris\nb@x.com,Nowhere/City\n").ok());
  ASSERT_TRUE(importer.Finish().ok());
  jobs = Query("imports.test_jobs", {ws_});
  EXPECT_EQ(jobs[0].Text("status"), "completed");
  EXPECT_EQ(jobs[0].Int("total_rows"), 2);
  EXPECT_EQ(jobs[0].Int("imported_rows"), 1);
  EXPECT_EQ(jobs[0].Int("error_rows"), 1);
  auto errors = boost::json::parse(jobs[0].Text("errors")).as_array();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].at("row"), 3);
  EXPECT_EQ(errors[0].at("field"), "tz");
}

TEST_P(ImporterTest, AFileWithoutAnEmailColumnFailsTheJobAndNamesIt) {
  LeadImporter importer(*db_, clock_, &zones_, ws_, std::nullopt, {});
  ASSERT_TRUE(importer.Feed("name,company\nAnn,Acme\n").ok());
  Status s = importer.Finish();
  EXPECT_EQ(s.field(), "mapping");
  EXPECT_EQ(s.message(), "no column is mapped to email");
}

INSTANTIATE_TEST_SUITE_P(Db, ImporterTest, ::testing::ValuesIn(testing::DbBackends()),
                         testing::DbBackendName());

}  // namespace
}  // namespace kiln::leads
