// The MX check against the NSD test zone (scripts/dns; src/kiln/dns/testdata/kiln.test.zone):
// pass.kiln.test has MX records, weak.kiln.test only an A record (RFC 5321's implicit MX),
// relay.kiln.test only TXT (no mail server), absent.kiln.test does not exist.
#include "kiln/leads/mx_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kiln/dns/dns_test_util.h"
#include "kiln/leads/import_jobs.h"
#include "kiln/leads/importer.h"
#include "kiln/testing/db_fixture.h"
#include "kiln/testing/fake_clock.h"

namespace kiln::leads {
namespace {

using V = MailServerVerdict;

MxChecker::ResolverFactory TestFactory(std::atomic<int>* made = nullptr) {
  return [made]() -> Result<std::unique_ptr<dns::Resolver>> {
    if (made) ++*made;
    return dns::MakeResolver(
        {.servers = dns::testing::TestDnsServer(), .timeout = std::chrono::milliseconds(1000)});
  };
}

TEST(MxChecker, MxThenAddressFallbackAndEachDomainLookedUpOnce) {
  ASSERT_NE(dns::testing::TestResolver(), nullptr);  // fails with what to run when NSD is not up
  std::atomic<int> made{0};
  MxChecker checker(TestFactory(&made), 2);
  auto v = checker.Check({"pass.kiln.test", "weak.kiln.test", "relay.kiln.test", "absent.kiln.test",
                          "pass.kiln.test", "weak.kiln.test"});
  ASSERT_EQ(v.size(), 6u);
  EXPECT_EQ(v[0], V::kHasMailServer);
  EXPECT_EQ(v[1], V::kHasMailServer);  // A record only
  EXPECT_EQ(v[2], V::kNoMailServer);   // TXT only
  EXPECT_EQ(v[3], V::kNoMailServer);   // NXDOMAIN
  EXPECT_EQ(v[4], V::kHasMailServer);
  EXPECT_EQ(v[5], V::kHasMailServer);
  EXPECT_EQ(checker.lookups(), 4);
  EXPECT_LE(made.load(), 2);  // at most max_in_flight resolvers (threads) at once
  // A UTF-8 (IDN) domain is asked by its A-label (the zone has xn--bcher-kva, "bücher", with an
  // MX; "münchen" has no record at all), never as UTF-8, which would be a false NXDOMAIN.
  v =
      checker.Check({"b\xc3\xbc"
                     "cher.kiln.test",
                     "m\xc3\xbc"
                     "nchen.kiln.test"});
  EXPECT_EQ(v[0], V::kHasMailServer);
  EXPECT_EQ(v[1], V::kNoMailServer);
  EXPECT_EQ(checker.lookups(), 6);
  // Cached: asking again looks nothing up.
  v = checker.Check({"relay.kiln.test", "pass.kiln.test"});
  EXPECT_EQ(v[0], V::kNoMailServer);
  EXPECT_EQ(v[1], V::kHasMailServer);
  EXPECT_EQ(checker.lookups(), 6);
}

TEST(MxChecker, ALabelsOfInternationalisedDomains) {
  EXPECT_EQ(ToALabels("b\xc3\xbc"
                      "cher.kiln.test"),
            "xn--bcher-kva.kiln.test");
  EXPECT_EQ(ToALabels("pass.kiln.test"), "pass.kiln.test");
  // NFC first: "u" + combining diaeresis is the same domain as the precomposed "ü".
  EXPECT_EQ(ToALabels("bu\xcc\x88"
                      "cher.kiln.test"),
            "xn--bcher-kva.kiln.test");
  // Not valid UTF-8, and a disallowed code point (U+2764 HEAVY BLACK HEART): no A-label.
  EXPECT_EQ(ToALabels("b\xff.kiln.test"), std::nullopt);
  EXPECT_EQ(ToALabels("\xe2\x9d\xa4.kiln.test"), std::nullopt);
}

TEST(MxChecker, NoResolverMeansUnknownAndNothingCached) {
  MxChecker checker(
      []() -> Result<std::unique_ptr<dns::Resolver>> {
        return Status::InvalidArgument("dns_resolver: 'x' is not an IP address", "dns_resolver");
      },
      4);
  auto v = checker.Check({"pass.kiln.test", "absent.kiln.test"});
  EXPECT_EQ(v[0], V::kUnknown);
  EXPECT_EQ(v[1], V::kUnknown);
  EXPECT_EQ(checker.lookups(), 0);
}

TEST(MxChecker, TheImporterRejectsRowsWhoseDomainHasNoMailServer) {
  ASSERT_NE(dns::testing::TestResolver(), nullptr);
  auto db = testing::OpenFreshTestDatabase("sqlite", {});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  int64_t ws = 0;
  ASSERT_TRUE((*db)
                  ->Write([&](store::Tx& tx) -> Status {
                    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("workspaces.insert", {"w", 1}));
                    ws = w.Int("id");
                    return Status::Ok();
                  })
                  .ok());
  testing::FakeClock clock;
  MxChecker checker(TestFactory(), 4);
  std::vector<ImportError> errors;
  ImportOptions options;
  options.mx_check = &checker;
  options.batch_rows = 3;
  LeadImporter importer(**db, clock, nullptr, ws, std::nullopt, options,
                        [&](const ImportError& e) { errors.push_back(e); });
  const std::string csv =
      "email,first_name\n"
      "ann@pass.kiln.test,Ann\n"
      "bob@relay.kiln.test,Bob\n"
      "cy@weak.kiln.test,Cy\n"
      "dee@absent.kiln.test,Dee\n"
      "eve@PASS.kiln.test,Eve\n"
      "fay@relay.kiln.test,Fay\n";
  ASSERT_TRUE(importer.Feed(csv).ok());
  ASSERT_TRUE(importer.Finish().ok());
  EXPECT_EQ(importer.counts().rows, 6);
  EXPECT_EQ(importer.counts().imported, 3);
  EXPECT_EQ(importer.counts().invalid, 3);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].row, 3);
  EXPECT_EQ(errors[0].line, 3);
  EXPECT_EQ(errors[0].column, "email");
  EXPECT_EQ(errors[0].reason, "domain has no mail server (no MX or A record)");
  EXPECT_EQ(errors[0].email, "bob@relay.kiln.test");
  EXPECT_EQ(errors[1].email, "dee@absent.kiln.test");
  EXPECT_EQ(errors[2].row, 7);
  // pass, relay, weak, absent: four lookups for six rows.
  EXPECT_EQ(checker.lookups(), 4);
}

// The import job path (POST …/imports/{id}/start with check_mx): the option is stored with the
// job, the job's checker asks ImportJobs' DNS servers, and the report names each rejected row.
TEST(MxChecker, AnImportJobStartedWithCheckMxReportsRowsWithoutMailServer) {
  ASSERT_NE(dns::testing::TestResolver(), nullptr);
  auto db = testing::OpenFreshTestDatabase("sqlite", {});
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  int64_t ws = 0;
  ASSERT_TRUE((*db)
                  ->Write([&](store::Tx& tx) -> Status {
                    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("workspaces.insert", {"w", 1}));
                    ws = w.Int("id");
                    return Status::Ok();
                  })
                  .ok());
  const auto dir =
      std::filesystem::temp_directory_path() / ("kiln-mx-import-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  testing::FakeClock clock;
  domain::TimeZoneDatabase zones;
  for (bool check : {false, true}) {
    ImportJobs jobs(**db, clock, zones, dir.string(), 1, dns::testing::TestDnsServer());
    const std::string path = jobs.NewUploadPath();
    std::ofstream(path, std::ios::binary) << "email\n"
                                          << (check ? "a" : "b") << "@pass.kiln.test\n"
                                          << (check ? "a" : "b") << "@relay.kiln.test\n";
    auto id = jobs.Register(ws, std::nullopt, "leads.csv", path);
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ASSERT_TRUE(jobs.Start(ws, *id, {.check_mx = check}).ok());
    jobs.WaitIdle();
    std::optional<store::Row> job;
    ASSERT_TRUE((*db)
                    ->Read([&](store::Tx& tx) -> Status {
                      KILN_ASSIGN_OR_RETURN(job, tx.QueryOne("imports.job_get", {ws, *id}));
                      return Status::Ok();
                    })
                    .ok());
    ASSERT_TRUE(job.has_value());
    EXPECT_EQ(job->Text("status"), "completed");
    EXPECT_EQ(job->Int("imported_rows"), check ? 1 : 2) << "check_mx " << check;
    EXPECT_EQ(job->Int("error_rows"), check ? 1 : 0) << "check_mx " << check;
    std::ifstream in(job->Text("report_path"), std::ios::binary);
    std::stringstream report;
    report << in.rdbuf();
    EXPECT_EQ(report.str().find("domain has no mail server") != std::string::npos, check)
        << report.str();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kiln::leads
