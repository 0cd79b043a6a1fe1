// Reputation: the health score formula on its own, and the counts, windows, daily history and
// stored scores from hand-made histories on each database backend. Every expected number is
// worked out by hand in the comments.
#include "kiln/warmup/reputation.h"

#include <gtest/gtest.h>

#include "kiln/base/time_format.h"
#include "kiln/testing/db_fixture.h"
#include "kiln/testing/fake_clock.h"

namespace kiln::warmup {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kHour = 3'600'000;

TEST(HealthTest, NoSampleMeansFullScore) {
  Activity a;
  a.inbox = 5;
  a.spam = 4;  // 9 placements: below the minimum of 10
  a.cold_sent = 19;
  a.bounced = 19;  // 19 cold sends: below the minimum of 20
  Health h = HealthOf(a);
  EXPECT_EQ(h.score, 100);
  EXPECT_FALSE(h.has_sample);
}

TEST(HealthTest, PlacementOnly) {
  Activity a;
  a.inbox = 6;
  a.spam = 2;
  a.other_folder = 1;
  a.missing = 1;
  // bad = 2 + 1 + 0.5 = 3.5 of 10 -> 70 * 0.35 = 24.5 -> 75.5 -> 76 (half away from zero)
  Health h = HealthOf(a);
  EXPECT_TRUE(h.has_sample);
  EXPECT_EQ(h.score, 76);
}

TEST(HealthTest, BouncesAndComplaintsAreCapped) {
  Activity a;
  a.cold_sent = 20;
  a.bounced = 10;    // 800 * 0.5 = 400 -> capped at 40
  a.complaints = 1;  // 10000 * 0.05 = 500 -> capped at 40
  EXPECT_EQ(HealthOf(a).score, 20);
  a.inbox = 0;
  a.spam = 10;  // placement: 70 -> 100 - 70 - 40 - 40 < 0 -> 0
  EXPECT_EQ(HealthOf(a).score, 0);
}

TEST(HealthTest, SmallBounceRate) {
  Activity a;
  a.cold_sent = 200;
  a.bounced = 3;  // 800 * 0.015 = 12 -> 88
  EXPECT_EQ(HealthOf(a).score, 88);
  EXPECT_DOUBLE_EQ(*RatesOf(a).bounce, 0.015);
  EXPECT_FALSE(RatesOf(a).inbox.has_value());
}

constexpr char kTestSql[] = R"(
-- name: t.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('w', 0, 0) RETURNING id;
-- name: t.sender
INSERT INTO senders (workspace_id, email, smtp_host, smtp_port, smtp_security, imap_host,
                     imap_port, imap_security, timezone, created_at, updated_at)
VALUES ($1, $2, 'h', 25, 'none', 'h', 143, 'none', $3, 0, 0) RETURNING id;
-- name: t.bot
INSERT INTO bots (workspace_id, email, smtp_host, smtp_port, smtp_security, imap_host, imap_port,
                  imap_security, aging_start_at, timezone, created_at, updated_at)
VALUES ($1, $2, 'h', 25, 'none', 'h', 143, 'none', 0, $3, 0, 0) RETURNING id;
-- name: t.warmup
INSERT INTO warmup_messages (workspace_id, sender_id, bot_id, peer_sender_id, direction, token,
                             status, placement, scheduled_at, sent_at, replied_at, created_at,
                             updated_at)
VALUES ($1, $2, $3, $4, $5, 'tok', $6, $7, $8, $8, $9, 0, 0);
-- name: t.campaign
INSERT INTO campaigns (workspace_id, name, created_at, updated_at) VALUES ($1, 'c', 0, 0)
RETURNING id;
-- name: t.step
INSERT INTO campaign_steps (workspace_id, campaign_id, position, created_at, updated_at)
VALUES ($1, $2, 0, 0, 0) RETURNING id;
-- name: t.contact
INSERT INTO contacts (workspace_id, email, created_at, updated_at) VALUES ($1, $2, 0, 0)
RETURNING id;
-- name: t.message
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, sender_id, status,
                      scheduled_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, 'sent', 0, 0, 0) RETURNING id;
-- name: t.event
INSERT INTO events (workspace_id, message_id, campaign_id, type, detail, created_at)
VALUES ($1, $2, $3, $4, $5, $6);
-- name: t.sender_score
SELECT health_score FROM senders WHERE id = $1;
-- name: t.bot_score
SELECT health_score FROM bots WHERE id = $1;
-- name: t.daily
SELECT day, warmup_sent, inbox, spam, other_folder, missing, replies, cold_sent, bounced,
       complaints, score
FROM reputation_daily WHERE subject_kind = $1 AND subject_id = $2 ORDER BY day;
)";

class ReputationDbTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store::OpenOptions options;
    options.extra_sql_files.push_back({"queries/reputation_test.sql", kTestSql});
    auto db = testing::OpenFreshTestDatabase(GetParam(), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    clock_.Set(ParseIso8601("2026-03-10T12:00:00Z").value());
    now_ = clock_.NowMillis();
  }

  int64_t Id(std::string_view query, const store::Params& params) {
    int64_t id = 0;
    Status s = db_->Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow(query, params));
      id = r.Int("id");
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return id;
  }
  void Exec(std::string_view query, const store::Params& params) {
    Status s = db_->Write([&](store::Tx& tx) { return tx.Exec(query, params).status(); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // `n` warm-up messages; `replied` of them answered.
  void Warmup(int n, int64_t sender, std::optional<int64_t> bot, std::optional<int64_t> peer,
              const char* direction, const char* status, const char* placement, int64_t at,
              int replied = 0) {
    for (int i = 0; i < n; ++i) {
      std::optional<int64_t> replied_at;
      if (i < replied) replied_at = at + kHour;
      Exec("t.warmup", {ws_, sender, bot, peer, direction, status, placement, at, replied_at});
    }
  }

  // The sender history of the comments in History below.
  void BuildHistory() {
    ws_ = Id("t.workspace", {});
    s_ = Id("t.sender", {ws_, "s@kiln-a.test", "UTC"});
    s2_ = Id("t.sender", {ws_, "s2@kiln-a.test", "UTC"});
    bot_ = Id("t.bot", {ws_, "b@kiln-b.test", "UTC"});
    quiet_bot_ = Id("t.bot", {ws_, "q@kiln-b.test", "Pacific/Kiritimati"});
    // S's warm-up mail to the bot.
    Warmup(10, s_, bot_, std::nullopt, "out", "sent", "inbox", now_ - 10 * kDay, 5);  // A
    Warmup(4, s_, bot_, std::nullopt, "out", "sent", "inbox", now_ - kDay);           // B
    Warmup(4, s_, bot_, std::nullopt, "out", "sent", "spam", now_ - kDay);
    Warmup(2, s_, bot_, std::nullopt, "out", "sent", "other_folder", now_ - kDay);
    Warmup(2, s_, bot_, std::nullopt, "out", "sent", "unknown", now_ - kHour);  // C: not looked for
    Warmup(1, s_, bot_, std::nullopt, "out", "sent", "spam", now_ - 20 * kDay);  // D: 30 days only
    Warmup(3, s_, bot_, std::nullopt, "out", "scheduled", "unknown", now_ + kHour);  // not sent
    // Peer warm-up: S's answer to S2 counts for S; S2's own mail to S does not.
    Warmup(1, s2_, std::nullopt, s_, "back", "sent", "inbox", now_ - kHour);
    Warmup(5, s2_, std::nullopt, s_, "out", "sent", "spam", now_ - kHour);
    // The bot's answers to S: 9 inbox, 3 spam, 4 answered back.
    Warmup(9, s_, bot_, std::nullopt, "back", "sent", "inbox", now_ - kDay, 4);
    Warmup(3, s_, bot_, std::nullopt, "back", "sent", "spam", now_ - kDay);
    // Cold mail: 40 sent yesterday; one hard bounce, one soft bounce, two replies today, and one
    // auto-reply (not a reply).
    int64_t campaign = Id("t.campaign", {ws_});
    int64_t step = Id("t.step", {ws_, campaign});
    for (int i = 0; i < 40; ++i) {
      int64_t contact = Id("t.contact", {ws_, "lead" + std::to_string(i) + "@x.test"});
      int64_t m = Id("t.message", {ws_, campaign, contact, step, s_});
      Exec("t.event", {ws_, m, campaign, "sent", "{}", now_ - kDay});
      if (i == 0) Exec("t.event", {ws_, m, campaign, "bounced", R"({"kind":"hard"})", now_ - kDay});
      if (i == 1) Exec("t.event", {ws_, m, campaign, "bounced", R"({"kind":"soft"})", now_ - kDay});
      if (i == 2 || i == 3) Exec("t.event", {ws_, m, campaign, "replied", "{}", now_ - kHour});
      if (i == 4) Exec("t.event", {ws_, m, campaign, "auto_replied", "{}", now_ - kHour});
    }
  }

  std::unique_ptr<store::Database> db_;
  testing::FakeClock clock_;
  int64_t now_ = 0;
  int64_t ws_ = 0, s_ = 0, s2_ = 0, bot_ = 0, quiet_bot_ = 0;
};

TEST_P(ReputationDbTest, WindowsFromHandMadeHistory) {
  BuildHistory();
  std::optional<ReputationReport> report;
  Status st = db_->Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(report, LoadReputation(tx, SubjectKind::kSender, ws_, s_, now_, 30));
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->windows.size(), 3u);

  // 7 days: B (4 inbox, 4 spam, 2 other), C (2 unknown), the peer answer (inbox): sent 13, placed
  // 11; cold 40 attempted, 1 hard bounce, 2 replies.
  // Score: 70 * (4 + 2/2) / 11 = 31.82; 800 * 1/40 = 20 -> 48.18 -> 48.
  const WindowReport& w7 = report->windows[0];
  EXPECT_EQ(w7.days, 7);
  EXPECT_EQ(w7.activity.warmup_sent, 13);
  EXPECT_EQ(w7.activity.inbox, 5);
  EXPECT_EQ(w7.activity.spam, 4);
  EXPECT_EQ(w7.activity.other_folder, 2);
  EXPECT_EQ(w7.activity.missing, 0);
  EXPECT_EQ(w7.activity.warmup_replies, 0);
  EXPECT_EQ(w7.activity.cold_sent, 40);
  EXPECT_EQ(w7.activity.bounced, 1);
  EXPECT_EQ(w7.activity.cold_replies, 2);
  EXPECT_EQ(w7.health.score, 48);

  // 14 days: + A (10 inbox, 5 answered): sent 23, placed 21 (15 inbox, 4 spam, 2 other).
  // Score: 70 * 5 / 21 = 16.67; bounces 20 -> 63.33 -> 63. Reply rate (5 + 2) / (23 + 40).
  const WindowReport& w14 = report->windows[1];
  EXPECT_EQ(w14.activity.warmup_sent, 23);
  EXPECT_EQ(w14.activity.placed(), 21);
  EXPECT_EQ(w14.activity.inbox, 15);
  EXPECT_EQ(w14.activity.warmup_replies, 5);
  EXPECT_EQ(w14.health.score, 63);
  EXPECT_NEAR(*RatesOf(w14.activity).reply, 7.0 / 63.0, 1e-12);
  EXPECT_NEAR(*RatesOf(w14.activity).inbox, 15.0 / 21.0, 1e-12);

  // 30 days: + D (spam): placed 22, bad 4 + 1 + 1 = 6 -> 70 * 6 / 22 = 19.09; -20 -> 60.9 -> 61.
  const WindowReport& w30 = report->windows[2];
  EXPECT_EQ(w30.activity.warmup_sent, 24);
  EXPECT_EQ(w30.activity.spam, 5);
  EXPECT_EQ(w30.health.score, 61);

  // The bot: its 12 answers, 9 inbox and 3 spam: 70 * 3 / 12 = 17.5 -> 82.5 -> 83; 4 of 12
  // answered back.
  st = db_->Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(report, LoadReputation(tx, SubjectKind::kBot, ws_, bot_, now_, 30));
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  const WindowReport& b14 = report->windows[1];
  EXPECT_EQ(b14.activity.warmup_sent, 12);
  EXPECT_EQ(b14.activity.inbox, 9);
  EXPECT_EQ(b14.activity.spam, 3);
  EXPECT_EQ(b14.activity.cold_sent, 0);
  EXPECT_EQ(b14.health.score, 83);
  EXPECT_NEAR(*RatesOf(b14.activity).reply, 4.0 / 12.0, 1e-12);

  // Another workspace's id, or a bot id asked as a sender, is not found.
  st = db_->Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(report, LoadReputation(tx, SubjectKind::kSender, ws_ + 1, s_, now_, 30));
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(report.has_value());
}

TEST_P(ReputationDbTest, DailyJobWritesHistoryAndScores) {
  BuildHistory();
  domain::TimeZoneDatabase zones;
  ReputationJob job(*db_, clock_, zones);
  auto n = job.RunOnce();
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 4);  // two senders, two bots

  struct Day {
    std::string day;
    int64_t warmup_sent, inbox, spam, other, replies, cold_sent, bounced;
    std::optional<int64_t> score;
  };
  auto daily = [&](const char* kind, int64_t id) {
    std::vector<Day> out;
    Status s = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("t.daily", {kind, id}));
      for (const auto& r : rows) {
        out.push_back({r.Text("day"), r.Int("warmup_sent"), r.Int("inbox"), r.Int("spam"),
                       r.Int("other_folder"), r.Int("replies"), r.Int("cold_sent"),
                       r.Int("bounced"), r.OptInt("score")});
      }
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  };
  auto s_days = daily("sender", s_);
  ASSERT_EQ(s_days.size(), 2u);
  // Yesterday (2026-03-09, UTC): B and the 40 cold sends. Its score: the 14 days ending at
  // 2026-03-10T00:00 hold A and B (placed 20, bad 5 -> 17.5) and the bounce (20): 62.5 -> 63.
  EXPECT_EQ(s_days[0].day, "2026-03-09");
  EXPECT_EQ(s_days[0].warmup_sent, 10);
  EXPECT_EQ(s_days[0].inbox, 4);
  EXPECT_EQ(s_days[0].spam, 4);
  EXPECT_EQ(s_days[0].other, 2);
  EXPECT_EQ(s_days[0].replies, 0);
  EXPECT_EQ(s_days[0].cold_sent, 40);
  EXPECT_EQ(s_days[0].bounced, 1);
  EXPECT_EQ(s_days[0].score, 63);
  // Today: C (2, not looked for), the peer answer (inbox), the two cold replies; score as the
  // 14-day window ending now: 63.
  EXPECT_EQ(s_days[1].day, "2026-03-10");
  EXPECT_EQ(s_days[1].warmup_sent, 3);
  EXPECT_EQ(s_days[1].inbox, 1);
  EXPECT_EQ(s_days[1].replies, 2);
  EXPECT_EQ(s_days[1].cold_sent, 0);
  EXPECT_EQ(s_days[1].score, 63);

  // The quiet bot lives on UTC+14: at 12:00 UTC its calendar reads 2026-03-11. No data: rows
  // without a score, and a health score of 100.
  auto q_days = daily("bot", quiet_bot_);
  ASSERT_EQ(q_days.size(), 2u);
  EXPECT_EQ(q_days[0].day, "2026-03-10");
  EXPECT_EQ(q_days[1].day, "2026-03-11");
  EXPECT_FALSE(q_days[1].score.has_value());

  auto score = [&](const char* query, int64_t id) {
    int64_t v = -1;
    Status s = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow(query, {id}));
      v = r.Int("health_score");
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return v;
  };
  EXPECT_EQ(score("t.sender_score", s_), 63);
  EXPECT_EQ(score("t.bot_score", bot_), 83);
  EXPECT_EQ(score("t.bot_score", quiet_bot_), 100);
  // S2 sent 5 (all spam) to S: 5 placements, below the sample of 10 -> 100.
  EXPECT_EQ(score("t.sender_score", s2_), 100);

  // Running again the same day rewrites the same rows (no duplicates); RunIfDue waits.
  ASSERT_TRUE(job.RunOnce().ok());
  EXPECT_EQ(daily("sender", s_).size(), 2u);
  auto skipped = job.RunIfDue(Millis(3'600'000));
  ASSERT_TRUE(skipped.ok());
  EXPECT_EQ(*skipped, 0);
  // A day later, yesterday's row is final and a new one starts; the history keeps three days.
  clock_.Advance(Millis(kDay));
  auto again = job.RunIfDue(Millis(3'600'000));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 4);
  s_days = daily("sender", s_);
  ASSERT_EQ(s_days.size(), 3u);
  EXPECT_EQ(s_days[2].day, "2026-03-11");
  EXPECT_EQ(s_days[2].warmup_sent, 0);
}

INSTANTIATE_TEST_SUITE_P(Db, ReputationDbTest, ::testing::ValuesIn(testing::DbBackends()),
                         testing::DbBackendName());

}  // namespace
}  // namespace kiln::warmup
