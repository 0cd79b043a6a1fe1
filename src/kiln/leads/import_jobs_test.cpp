#include "kiln/leads/import_jobs.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kiln/testing/db_fixture.h"
#include "kiln/testing/fake_clock.h"

namespace kiln::leads {
namespace {
namespace fs = std::filesystem;

class ImportJobsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto db = testing::OpenFreshTestDatabase(GetParam());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(db_->Write([&](store::Tx& tx) -> Status {
                     KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("workspaces.insert", {"w", 1}));
                     ws_ = w.Int("id");
                     return Status::Ok();
                   })
                    .ok());
    dir_ = fs::temp_directory_path() /
           ("kiln-import-jobs-" + std::to_string(::getpid()) + "-" + GetParam());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteFile(ImportJobs& jobs, const std::string& content) {
    const std::string path = jobs.NewUploadPath();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  store::Row Job(int64_t id) {
    std::optional<store::Row> row;
    EXPECT_TRUE(db_->Read([&](store::Tx& tx) -> Status {
                     KILN_ASSIGN_OR_RETURN(row, tx.QueryOne("imports.job_get", {ws_, id}));
                     return Status::Ok();
                   })
                    .ok());
    EXPECT_TRUE(row.has_value());
    return *row;
  }

  static std::vector<std::vector<std::string>> ReadCsv(const std::string& text) {
    std::vector<std::vector<std::string>> out;
    CsvReader reader(CsvOptions{.delimiter = ','});
    auto sink = [&](CsvRecord& r) {
      out.push_back(r.fields);
      return Status::Ok();
    };
    EXPECT_TRUE(reader.Feed(text, sink).ok());
    EXPECT_TRUE(reader.Finish(sink).ok());
    return out;
  }

  static std::string Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  std::unique_ptr<store::Database> db_;
  testing::FakeClock clock_;
  domain::TimeZoneDatabase zones_;
  fs::path dir_;
  int64_t ws_ = 0;
};

TEST_P(ImportJobsTest, PreviewThenStartRunsTheJobToItsCountsAndReport) {
  ImportJobs jobs(*db_, clock_, zones_, dir_.string());
  const std::string path =
      WriteFile(jobs,
                "Work Email;Name;Colour\r\nann@acme.com;Ann Lee;blue\r\nnot-an-address;Bob;red\r\n"
                "ann@ACME.com;Ann;green\r\n=cmd|' /C calc'!A0;Eve;x\r\n");
  auto preview = PreviewFile(path);
  ASSERT_TRUE(preview.ok()) << preview.status().ToString();
  EXPECT_EQ(preview->delimiter, ';');
  EXPECT_TRUE(preview->has_header);
  EXPECT_EQ(preview->header, (std::vector<std::string>{"Work Email", "Name", "Colour"}));
  EXPECT_EQ(preview->mapping.columns[0].field, LeadField::kEmail);
  ASSERT_EQ(preview->rows.size(), 4u);

  auto id = jobs.Register(ws_, std::nullopt, "leads.csv", path);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(Job(*id).Text("status"), "pending");
  EXPECT_EQ(Job(*id).Int("bytes_total"), static_cast<int64_t>(fs::file_size(path)));

  // A mapping naming a column the file lacks is refused, naming it; the job stays pending.
  Status bad = jobs.Start(ws_, *id, {.mapping = {{"Phone", "phone"}}});
  EXPECT_EQ(bad.field(), "mapping.Phone");
  EXPECT_EQ(Job(*id).Text("status"), "pending");
  Status no_list = jobs.Start(ws_, *id, {.list_id = 999});
  EXPECT_EQ(no_list.field(), "list_id");

  ASSERT_TRUE(jobs.Start(ws_, *id, {.mapping = {{"Colour", "custom:favourite"}}}).ok());
  jobs.WaitIdle();
  store::Row job = Job(*id);
  EXPECT_EQ(job.Text("status"), "completed");
  EXPECT_EQ(job.Int("total_rows"), 4);
  EXPECT_EQ(job.Int("imported_rows"), 1);
  EXPECT_EQ(job.Int("duplicate_rows"), 1);
  EXPECT_EQ(job.Int("error_rows"), 2);
  EXPECT_EQ(job.Int("bytes_read"), job.Int("bytes_total"));
  EXPECT_FALSE(fs::exists(path)) << "the upload is removed once imported";
  // Every error row, with the formula neutralised.
  std::vector<std::vector<std::string>> report = ReadCsv(Slurp(job.Text("report_path")));
  ASSERT_EQ(report.size(), 3u);
  EXPECT_EQ(report[0], (std::vector<std::string>{"row", "line", "column", "reason", "email"}));
  EXPECT_EQ(report[1][0], "3");
  EXPECT_EQ(report[1][2], "Work Email");
  EXPECT_EQ(report[1][3].rfind("'not-an-address' is not a valid address", 0), 0u) << report[1][3];
  EXPECT_EQ(report[1][4], "not-an-address");
  EXPECT_EQ(report[2][0], "5");
  EXPECT_EQ(report[2][4], "'=cmd|' /C calc'!A0");
}

TEST_P(ImportJobsTest, AnInterruptedJobResumesAfterItsLastCommittedBatch) {
  // Rows of 11 KB (six notes of 1,900 characters, under the 2,000 allowed), so that the first
  // seven are past the reader's 64 KiB sniffing window.
  std::string csv = "email,name,n1,n2,n3,n4,n5,n6\n";
  std::string notes;
  for (int n = 0; n < 6; ++n) notes += "," + std::string(1'900, 'n');
  for (int i = 1; i <= 10; ++i) {
    csv += (i == 2 || i == 8 ? "bad" + std::to_string(i) : "lead" + std::to_string(i) + "@x.com") +
           ",Lead " + std::to_string(i) + notes + "\n";
  }
  int64_t id = 0;
  std::string report_path;
  {
    // A process that starts the job and dies after two batches (rows 1-3 and 4-6 committed,
    // row 7 read but not committed; its report already holds row 2's error).
    ImportJobs jobs(*db_, clock_, zones_, dir_.string(), /*workers=*/0);
    const std::string path = WriteFile(jobs, csv);
    auto r = jobs.Register(ws_, std::nullopt, "leads.csv", path);
    ASSERT_TRUE(r.ok());
    id = *r;
    ASSERT_TRUE(jobs.Start(ws_, id, {}).ok());
    report_path = Job(id).Text("report_path");
    std::ofstream report(report_path, std::ios::binary);
    report << ReportHeader();
    ImportOptions options;
    options.batch_rows = 3;
    LeadImporter crashed(*db_, clock_, &zones_, ws_, id, options,
                         [&](const ImportError& e) { report << ReportRow(e); });
    const size_t cut = csv.find("bad8");  // rows 1-7 fed
    ASSERT_TRUE(crashed.Feed(csv.substr(0, cut)).ok());
    report.flush();
  }
  store::Row mid = Job(id);
  EXPECT_EQ(mid.Text("status"), "running");
  EXPECT_EQ(mid.Int("processed_rows"), 6);
  clock_.Advance(Millis(1));
  ImportJobs restarted(*db_, clock_, zones_, dir_.string(), 1);
  auto queued = restarted.ResumeInterrupted(Millis(0));
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(*queued, 1);
  restarted.WaitIdle();
  store::Row done = Job(id);
  EXPECT_EQ(done.Text("status"), "completed");
  EXPECT_EQ(done.Int("total_rows"), 10);
  EXPECT_EQ(done.Int("imported_rows"), 8);
  EXPECT_EQ(done.Int("existing_rows"), 0) << "no row was imported twice";
  EXPECT_EQ(done.Int("error_rows"), 2);
  auto report = ReadCsv(Slurp(report_path));
  ASSERT_EQ(report.size(), 3u) << Slurp(report_path);
  EXPECT_EQ(report[1][0], "3");  // row 2 of the data = row 3 of the file
  EXPECT_EQ(report[2][0], "9");
}

TEST_P(ImportJobsTest, CancelAndBadFiles) {
  ImportJobs jobs(*db_, clock_, zones_, dir_.string(), 0);
  const std::string empty = WriteFile(jobs, "\n\n");
  auto r = jobs.Register(ws_, std::nullopt, "empty.csv", empty);
  EXPECT_EQ(r.status().field(), "file");
  EXPECT_EQ(r.status().message(), "holds no rows");
  EXPECT_FALSE(fs::exists(empty));
  const std::string path = WriteFile(jobs, "email\na@x.com\n");
  auto id = jobs.Register(ws_, std::nullopt, "a.csv", path);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(jobs.Cancel(ws_, *id).ok());
  EXPECT_EQ(Job(*id).Text("status"), "canceled");
  EXPECT_EQ(jobs.Cancel(ws_, *id).code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(jobs.Start(ws_, *id, {}).code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(jobs.Cancel(ws_, 424242).code(), Status::Code::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Db, ImportJobsTest, ::testing::ValuesIn(testing::DbBackends()),
                         testing::DbBackendName());

}  // namespace
}  // namespace kiln::leads
