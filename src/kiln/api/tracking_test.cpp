#include "kiln/api/tracking.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "kiln/store/db.h"

namespace kiln::api {
namespace {

TEST(MachineHits, ProxiesScannersAndScriptsAreMachines) {
  for (const char* ua : {
           "",
           "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com "
           "GoogleImageProxy)",
           "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
           "Gecko)",
           "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
           "Barracuda Sentinel (EE)",
           "Mozilla/5.0 (compatible; Mimecast URL Protect)",
           "python-requests/2.31.0",
           "curl/8.4.0",
           "Go-http-client/1.1",
           "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "HeadlessChrome/120.0",
       }) {
    EXPECT_TRUE(IsMachineUserAgent(ua)) << ua;
  }
}

TEST(MachineHits, PeopleAreNot) {
  for (const char* ua : {
           "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/120.0.0.0 Safari/537.36",
           "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
           "like "
           "Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
           "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:120.0) Gecko/20100101 Firefox/120.0",
           "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
       }) {
    EXPECT_FALSE(IsMachineUserAgent(ua)) << ua;
  }
}

TEST(MachineHits, TooSoonAfterTheSendIsAScanner) {
  const char* human = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36";
  EXPECT_TRUE(IsMachineHit(human, 1'000'000, 1'000'000));
  EXPECT_TRUE(IsMachineHit(human, 1'000'000, 1'000'000 + kScannerWindowMs - 1));
  EXPECT_FALSE(IsMachineHit(human, 1'000'000, 1'000'000 + kScannerWindowMs));
  EXPECT_FALSE(IsMachineHit(human, std::nullopt, 1'000'000));
  EXPECT_FALSE(IsMachineHit(human, 2'000'000, 1'000'000));  // clock skew between nodes
  EXPECT_TRUE(IsMachineHit("curl/8.4.0", 0, 1'000'000'000));
}

TEST(TrackingDomain, HostnamesAreLowercasedAndEverythingElseNamesTheField) {
  EXPECT_EQ(*NormalizeTrackingDomain("Track.Example.COM", "tracking_domain"), "track.example.com");
  EXPECT_EQ(*NormalizeTrackingDomain("t-1.example.com.", "tracking_domain"), "t-1.example.com");
  EXPECT_EQ(*NormalizeTrackingDomain("", "tracking_domain"), "");
  for (const char* bad : {"localhost", "track..example.com", ".example.com", "-t.example.com",
                          "t-.example.com", "track.example.com/path", "https://track.example.com",
                          "track example.com", "track.example.com:8080", "127.0.0.1",
                          "tr\xc3\xa4"
                          "ck.example.com",
                          "a.b..", "."}) {
    auto r = NormalizeTrackingDomain(bad, "tracking_domain");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().field(), "tracking_domain") << bad;
    EXPECT_NE(r.status().message().find("is not a hostname"), std::string::npos) << bad;
  }
  EXPECT_FALSE(NormalizeTrackingDomain(std::string(64, 'a') + ".example.com", "f").ok());
  EXPECT_TRUE(NormalizeTrackingDomain(std::string(63, 'a') + ".example.com", "f").ok());
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  long_name += "com";
  EXPECT_FALSE(NormalizeTrackingDomain(long_name, "f").ok());
}

// The committer against a real SQLite database: hits of many threads at once all written, the
// first human open set once, unknown messages NotFound without failing their group.
constexpr char kCommitterQueries[] = R"(-- tracking_test
-- name: t.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('w', 1, 1) RETURNING id;
-- name: t.contact
INSERT INTO contacts (workspace_id, email, created_at, updated_at)
VALUES ($1, 'lead@t.test', 1, 1) RETURNING id;
-- name: t.campaign
INSERT INTO campaigns (workspace_id, name, status, created_at, updated_at)
VALUES ($1, 'c', 'running', 1, 1) RETURNING id;
-- name: t.step
INSERT INTO campaign_steps (workspace_id, campaign_id, position, created_at, updated_at)
VALUES ($1, $2, 0, 1, 1) RETURNING id;
-- name: t.message
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, status, scheduled_at,
                      sent_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, 'sent', 1000, 1000, 1, 1) RETURNING id;
-- name: t.events
SELECT COUNT(*) AS n, COALESCE(SUM(is_machine), 0) AS machine FROM events WHERE type = $1;
-- name: t.opened_at
SELECT opened_at FROM messages WHERE id = $1;
-- name: t.break_events
CREATE TRIGGER t_break BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk is full'); END;
-- name: t.mend_events
DROP TRIGGER IF EXISTS t_break;
)";

TEST(HitCommitter, ConcurrentHitsAreAllCommittedInGroups) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("kiln-hit-committer-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  store::OpenOptions opt;
  opt.pool_size = 2;
  opt.extra_sql_files = {{"queries/tracking_test.sql", kCommitterQueries}};
  auto db = store::OpenDatabase((dir / "kiln.db").string(), opt);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  int64_t ws = 0, msg = 0;
  Status made = (*db)->Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("t.workspace", {}));
    ws = w.Int("id");
    KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("t.contact", {ws}));
    KILN_ASSIGN_OR_RETURN(auto k, tx.QueryRow("t.campaign", {ws}));
    KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("t.step", {ws, k.Int("id")}));
    KILN_ASSIGN_OR_RETURN(auto m,
                          tx.QueryRow("t.message", {ws, k.Int("id"), c.Int("id"), s.Int("id")}));
    msg = m.Int("id");
    return Status::Ok();
  });
  ASSERT_TRUE(made.ok()) << made.ToString();
  constexpr int kThreads = 24, kHits = 40;
  const char* human = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36";
  std::atomic<int> ok{0}, not_found{0}, other{0};
  {
    HitCommitter committer(**db, 16);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        for (int j = 0; j < kHits; ++j) {
          Hit hit;
          hit.token.kind = TokenKind::kOpen;
          hit.token.workspace_id = ws;
          hit.token.message_id = j == 0 ? msg + 1000 : msg;  // one unknown message per thread
          hit.at_ms = 100'000 + i * kHits + j;
          hit.user_agent = i == 0 ? "curl/8.4.0" : human;
          hit.detail = "{}";
          Status st = committer.Record(hit);
          if (st.ok()) {
            ++ok;
          } else if (st.code() == Status::Code::kNotFound) {
            ++not_found;
          } else {
            ++other;
            ADD_FAILURE() << st.ToString();
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(committer.hits_committed(), static_cast<uint64_t>(kThreads * (kHits - 1)));
    // A group holds at most 16 hits (the bound given to the committer).
    EXPECT_GE(committer.groups_committed(), static_cast<uint64_t>(kThreads * (kHits - 1) / 16));
    std::printf("%d hits from %d threads in %llu transactions\n", kThreads * kHits, kThreads,
                static_cast<unsigned long long>(committer.groups_committed()));
  }
  EXPECT_EQ(ok.load(), kThreads * (kHits - 1));
  EXPECT_EQ(not_found.load(), kThreads);
  EXPECT_EQ(other.load(), 0);
  ASSERT_TRUE((*db)
                  ->Read([&](store::Tx& tx) -> Status {
                    KILN_ASSIGN_OR_RETURN(auto e, tx.QueryRow("t.events", {"opened"}));
                    EXPECT_EQ(e.Int("n"), kThreads * (kHits - 1));
                    EXPECT_EQ(e.Int("machine"), kHits - 1);  // thread 0's curl
                    KILN_ASSIGN_OR_RETURN(auto o, tx.QueryRow("t.opened_at", {msg}));
                    EXPECT_TRUE(o.OptInt("opened_at").has_value());
                    return Status::Ok();
                  })
                  .ok());
  db->reset();
  std::filesystem::remove_all(dir);
}

// A group whose transaction fails answers Unavailable to each of its hits and writes none of them;
// the next group commits again.
TEST(HitCommitter, AFailedGroupIsUnavailableForEachHitAndWritesNothing) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("kiln-hit-committer-fail-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  store::OpenOptions opt;
  opt.pool_size = 2;
  opt.extra_sql_files = {{"queries/tracking_test.sql", kCommitterQueries}};
  auto db = store::OpenDatabase((dir / "kiln.db").string(), opt);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  int64_t ws = 0, msg = 0;
  Status made = (*db)->Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("t.workspace", {}));
    ws = w.Int("id");
    KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("t.contact", {ws}));
    KILN_ASSIGN_OR_RETURN(auto k, tx.QueryRow("t.campaign", {ws}));
    KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("t.step", {ws, k.Int("id")}));
    KILN_ASSIGN_OR_RETURN(auto m,
                          tx.QueryRow("t.message", {ws, k.Int("id"), c.Int("id"), s.Int("id")}));
    msg = m.Int("id");
    return tx.Exec("t.break_events", {}).status();
  });
  ASSERT_TRUE(made.ok()) << made.ToString();
  Hit hit;
  hit.token.kind = TokenKind::kClick;
  hit.token.workspace_id = ws;
  hit.token.message_id = msg;
  hit.token.url = "https://a.example/";
  hit.at_ms = 100'000;
  hit.user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36";
  hit.detail = "{}";
  HitCommitter committer(**db);
  Status st = committer.Record(hit);
  EXPECT_EQ(st.code(), Status::Code::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find("tracking hits not recorded"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("disk is full"), std::string::npos) << st.ToString();
  EXPECT_EQ(committer.hits_committed(), 0u);
  auto count = [&] {
    int64_t n = -1;
    EXPECT_TRUE((*db)
                    ->Read([&](store::Tx& tx) -> Status {
                      KILN_ASSIGN_OR_RETURN(auto e, tx.QueryRow("t.events", {"clicked"}));
                      n = e.Int("n");
                      return Status::Ok();
                    })
                    .ok());
    return n;
  };
  EXPECT_EQ(count(), 0);
  ASSERT_TRUE(
      (*db)->Write([](store::Tx& tx) { return tx.Exec("t.mend_events", {}).status(); }).ok());
  EXPECT_TRUE(committer.Record(hit).ok());
  EXPECT_EQ(count(), 1);
  EXPECT_EQ(committer.hits_committed(), 1u);
}

}  // namespace
}  // namespace kiln::api
