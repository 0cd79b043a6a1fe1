// The roll-up job and the stats read from it, on every database backend: a hand-made campaign
// history whose every number is worked out below; the same answer before the job ran (all live
// tail), after it (all roll-ups, in batches of two events so the first-of-a-kind rules cross batch
// boundaries) and half-way; the lease between two processes; and two jobs racing a writer without
// losing or double-counting an event.
//
// The history (T = 2026-01-01T00:00Z, day D0 = 20454; D1 the next day):
//   m1 lead c1 (now 'interested'), step 1 variant A, sender s1: sent; a machine open then two
//      human opens; a human click; a reply on D1.
//   m2 c2, step 1 B, s1: sent; a machine open and a machine click only.
//   m3 c3, step 1 A, s2: refused at SMTP time (a bounce without "kind": hard).
//   m4 c4, step 1 B, s2: sent; a soft DSN bounce, then a hard one.
//   m5 c5, step 2 C, s1: sent; a human open; unsubscribed twice; a complaint; a deferral.
//   m6 c6 (now 'replied'), step 2 C, s2: sent on D1, replied on D1, and an auto-reply.
// Totals: sent 5 (m1 m2 m4 m5 m6), bounced 2 (m3 m4), bounced_after_sent 1 (m4), hard 2 (m3 m4),
// soft 1 (m4), delivered 4, attempted 6, opened 2 (m1 m5), opened_any 3 (+m2), machine opens 2,
// clicked 1 (m1), clicked_any 2 (+m2), machine clicks 1, replied 2 (m1 m6), positive 1 (m1),
// unsubscribed 1, complained 1.
#include "kiln/analytics/rollup.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "kiln/analytics/stats.h"
#include "kiln/testing/db_fixture.h"
#include "kiln/testing/fake_clock.h"

namespace kiln::analytics {
namespace {

constexpr int64_t kT = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kD0 = 20454;
constexpr int64_t kHour = 3'600'000;

constexpr char kTestSql[] = R"(
-- name: t.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('w', 0, 0) RETURNING id;
-- name: t.sender
INSERT INTO senders (workspace_id, email, smtp_host, smtp_port, smtp_security, imap_host,
                     imap_port, imap_security, created_at, updated_at)
VALUES ($1, $2, 'h', 25, 'none', 'h', 143, 'none', 0, 0) RETURNING id;
-- name: t.campaign
INSERT INTO campaigns (workspace_id, name, created_at, updated_at) VALUES ($1, 'Launch', 0, 0)
RETURNING id;
-- name: t.campaign_sender
INSERT INTO campaign_senders (campaign_id, sender_id, workspace_id, created_at)
VALUES ($1, $2, $3, 0);
-- name: t.step
INSERT INTO campaign_steps (workspace_id, campaign_id, position, created_at, updated_at)
VALUES ($1, $2, $3, 0, 0) RETURNING id;
-- name: t.variant
INSERT INTO step_variants (workspace_id, step_id, label, subject, created_at, updated_at)
VALUES ($1, $2, $3, $4, 0, 0) RETURNING id;
-- name: t.contact
INSERT INTO contacts (workspace_id, email, status, created_at, updated_at)
VALUES ($1, $2, $3, 0, 0) RETURNING id;
-- name: t.message
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, variant_id, sender_id,
                      status, scheduled_at, replied_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'sent', 0, $7, 0, 0) RETURNING id;
-- name: t.event
INSERT INTO events (workspace_id, message_id, campaign_id, type, detail, is_machine, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7);
-- name: t.max_event
SELECT COALESCE(MAX(id), 0) AS id FROM events;
-- name: t.rolled_sent
SELECT COALESCE(CAST(SUM(sent) AS BIGINT), 0) AS n FROM analytics_daily WHERE campaign_id = $1;
-- name: t.lead_status
UPDATE contacts SET status = $3, updated_at = 1 WHERE workspace_id = $1 AND email = $2;
-- name: t.delete_lead
DELETE FROM contacts WHERE workspace_id = $1 AND email = $2;
-- name: t.reply
UPDATE messages SET replied_at = $2, updated_at = 1 WHERE id = $1;
-- name: t.delete_variant
DELETE FROM step_variants WHERE id = $1;
-- name: t.delete_campaign
DELETE FROM campaigns WHERE id = $1;
-- name: t.delete_sender
DELETE FROM senders WHERE id = $1;
-- name: t.delete_workspace
DELETE FROM workspaces WHERE id = $1;
-- name: t.positive_cells
SELECT COUNT(*) AS n FROM analytics_positive WHERE campaign_id = $1;
-- name: t.all_positive_cells
SELECT COUNT(*) AS n FROM analytics_positive;
-- name: t.positive_mismatches
-- Cells of analytics_positive (kept by the triggers of migration 0014) that differ from the
-- positives counted from scratch, in either direction, plus negative cells: 0 when exact.
SELECT (SELECT COUNT(*) FROM
          (SELECT m.campaign_id, m.step_id, COALESCE(m.variant_id, 0) AS variant_id,
                  COALESCE(m.sender_id, 0) AS sender_id, m.replied_at / 86400000 AS day,
                  COUNT(*) AS positive
           FROM messages m JOIN contacts c ON c.id = m.contact_id
           WHERE m.replied_at IS NOT NULL AND c.status IN ('interested', 'meeting_booked')
           GROUP BY m.campaign_id, m.step_id, COALESCE(m.variant_id, 0),
                    COALESCE(m.sender_id, 0), m.replied_at / 86400000
           EXCEPT
           SELECT campaign_id, step_id, variant_id, sender_id, day, positive
           FROM analytics_positive WHERE positive <> 0) a) +
       (SELECT COUNT(*) FROM
          (SELECT campaign_id, step_id, variant_id, sender_id, day, positive
           FROM analytics_positive WHERE positive <> 0
           EXCEPT
           SELECT m.campaign_id, m.step_id, COALESCE(m.variant_id, 0) AS variant_id,
                  COALESCE(m.sender_id, 0) AS sender_id, m.replied_at / 86400000 AS day,
                  COUNT(*) AS positive
           FROM messages m JOIN contacts c ON c.id = m.contact_id
           WHERE m.replied_at IS NOT NULL AND c.status IN ('interested', 'meeting_booked')
           GROUP BY m.campaign_id, m.step_id, COALESCE(m.variant_id, 0),
                    COALESCE(m.sender_id, 0), m.replied_at / 86400000) b) +
       (SELECT COUNT(*) FROM analytics_positive WHERE positive < 0) AS n;
)";

class RollupTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store::OpenOptions o;
    o.extra_sql_files = {{"queries/analytics_test.sql", kTestSql}};
    auto db = testing::OpenFreshTestDatabase(GetParam(), o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    Status st = db_->Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("t.workspace", {}));
      ws_ = w.Int("id");
      KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("t.campaign", {ws_}));
      campaign_ = c.Int("id");
      for (int i = 0; i < 2; ++i) {
        KILN_ASSIGN_OR_RETURN(
            auto s, tx.QueryRow("t.sender", {ws_, "s" + std::to_string(i + 1) + "@kiln.test"}));
        senders_[i] = s.Int("id");
        KILN_RETURN_IF_ERROR(tx.Exec("t.campaign_sender", {campaign_, senders_[i], ws_}).status());
      }
      for (int i = 0; i < 2; ++i) {
        KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("t.step", {ws_, campaign_, i}));
        steps_[i] = s.Int("id");
      }
      const char* labels[3] = {"A", "B", "C"};
      for (int i = 0; i < 3; ++i) {
        KILN_ASSIGN_OR_RETURN(auto v,
                              tx.QueryRow("t.variant", {ws_, steps_[i < 2 ? 0 : 1], labels[i],
                                                        std::string("Subject ") + labels[i]}));
        variants_[i] = v.Int("id");
      }
      return Status::Ok();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // A message of lead `email` (status `lead_status`) on step/variant/sender indexes.
  int64_t Message(const std::string& email, const std::string& lead_status, int step, int variant,
                  int sender, std::optional<int64_t> replied_at = std::nullopt) {
    int64_t id = 0;
    Status st = db_->Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("t.contact", {ws_, email, lead_status}));
      KILN_ASSIGN_OR_RETURN(
          auto m, tx.QueryRow("t.message", {ws_, campaign_, c.Int("id"), steps_[step],
                                            variants_[variant], senders_[sender], replied_at}));
      id = m.Int("id");
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return id;
  }

  void Event(int64_t message, const std::string& type, int64_t at, bool machine = false,
             const std::string& detail = "{}") {
    Status st = db_->Write([&](store::Tx& tx) {
      return tx.Exec("t.event", {ws_, message, campaign_, type, detail, machine, at}).status();
    });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  void MakeHistory() {
    int64_t m1 = Message("c1@lead.test", "interested", 0, 0, 0, kT + 25 * kHour);
    int64_t m2 = Message("c2@lead.test", "contacted", 0, 1, 0);
    int64_t m3 = Message("c3@lead.test", "bounced", 0, 0, 1);
    int64_t m4 = Message("c4@lead.test", "bounced", 0, 1, 1);
    int64_t m5 = Message("c5@lead.test", "unsubscribed", 1, 2, 0);
    int64_t m6 = Message("c6@lead.test", "replied", 1, 2, 1, kT + 27 * kHour);
    Event(m1, "sent", kT + 1 * kHour);
    Event(m2, "sent", kT + 1 * kHour);
    Event(m3, "bounced", kT + 1 * kHour, false, R"({"smtp_code":550})");
    Event(m4, "sent", kT + 1 * kHour);
    Event(m5, "sent", kT + 1 * kHour);
    Event(m1, "opened", kT + 1 * kHour + 5000, true);
    Event(m2, "opened", kT + 1 * kHour + 5000, true);
    Event(m2, "clicked", kT + 1 * kHour + 6000, true);
    Event(m1, "opened", kT + 2 * kHour);
    Event(m1, "clicked", kT + 2 * kHour);
    Event(m4, "bounced", kT + 2 * kHour, false, R"({"kind":"soft","reason":"mailbox_full"})");
    Event(m5, "opened", kT + 3 * kHour);
    Event(m5, "unsubscribed", kT + 3 * kHour);
    Event(m5, "complained", kT + 4 * kHour);
    Event(m5, "unsubscribed", kT + 4 * kHour);
    Event(m5, "deferred", kT + 4 * kHour);
    Event(m1, "opened", kT + 5 * kHour);
    Event(m4, "bounced", kT + 5 * kHour, false, R"({"kind":"hard","reason":"no_mailbox"})");
    Event(m1, "replied", kT + 25 * kHour);
    Event(m6, "sent", kT + 26 * kHour);
    Event(m6, "replied", kT + 27 * kHour);
    Event(m6, "auto_replied", kT + 27 * kHour);
    m2_ = m2;
  }

  CampaignStats Stats(DayRange range = {}) {
    CampaignStats out;
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto s, LoadCampaignStats(tx, ws_, campaign_, range));
      if (!s) return Status::NotFound("campaign");
      out = std::move(*s);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  int64_t Scalar(std::string_view query, store::Params params, std::string_view col) {
    int64_t v = -1;
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow(query, params));
      v = row.Int(col);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return v;
  }

  static void ExpectSame(const CampaignStats& a, const CampaignStats& b) {
    EXPECT_EQ(a.totals, b.totals);
    ASSERT_EQ(a.steps.size(), b.steps.size());
    for (size_t i = 0; i < a.steps.size(); ++i) {
      EXPECT_EQ(a.steps[i].counters, b.steps[i].counters) << "step " << i;
      ASSERT_EQ(a.steps[i].variants.size(), b.steps[i].variants.size());
      for (size_t k = 0; k < a.steps[i].variants.size(); ++k) {
        EXPECT_EQ(a.steps[i].variants[k].counters, b.steps[i].variants[k].counters);
      }
    }
    ASSERT_EQ(a.senders.size(), b.senders.size());
    for (size_t i = 0; i < a.senders.size(); ++i) {
      EXPECT_EQ(a.senders[i].counters, b.senders[i].counters) << "sender " << i;
    }
    ASSERT_EQ(a.daily.size(), b.daily.size());
    for (size_t i = 0; i < a.daily.size(); ++i) {
      EXPECT_EQ(a.daily[i].day, b.daily[i].day);
      EXPECT_EQ(a.daily[i].counters, b.daily[i].counters) << "day " << a.daily[i].day;
    }
  }

  std::unique_ptr<store::Database> db_;
  int64_t ws_ = 0, campaign_ = 0, m2_ = 0;
  int64_t senders_[2] = {}, steps_[2] = {}, variants_[3] = {};
};

TEST_P(RollupTest, HandMadeHistoryLiveAndRolledUp) {
  MakeHistory();
  CampaignStats live = Stats();
  EXPECT_EQ(live.watermark, 0);
  const Counters& t = live.totals;
  EXPECT_EQ(t.sent, 5);
  EXPECT_EQ(t.bounced, 2);
  EXPECT_EQ(t.bounced_after_sent, 1);
  EXPECT_EQ(t.bounced_hard, 2);
  EXPECT_EQ(t.bounced_soft, 1);
  EXPECT_EQ(t.delivered(), 4);
  EXPECT_EQ(t.attempted(), 6);
  EXPECT_EQ(t.opened, 2);
  EXPECT_EQ(t.opened_any, 3);
  EXPECT_EQ(t.machine_opens, 2);
  EXPECT_EQ(t.clicked, 1);
  EXPECT_EQ(t.clicked_any, 2);
  EXPECT_EQ(t.machine_clicks, 1);
  EXPECT_EQ(t.replied, 2);
  EXPECT_EQ(t.positive, 1);
  EXPECT_EQ(t.unsubscribed, 1);
  EXPECT_EQ(t.complained, 1);

  ASSERT_EQ(live.steps.size(), 2u);
  ASSERT_EQ(live.steps[0].variants.size(), 2u);
  const Counters& a = live.steps[0].variants[0].counters;  // m1, m3
  EXPECT_EQ(live.steps[0].variants[0].label, "A");
  EXPECT_EQ(a.sent, 1);
  EXPECT_EQ(a.bounced_hard, 1);
  EXPECT_EQ(a.opened, 1);
  EXPECT_EQ(a.replied, 1);
  EXPECT_EQ(a.positive, 1);
  const Counters& b = live.steps[0].variants[1].counters;  // m2, m4
  EXPECT_EQ(b.sent, 2);
  EXPECT_EQ(b.delivered(), 1);
  EXPECT_EQ(b.opened, 0);
  EXPECT_EQ(b.opened_any, 1);
  EXPECT_EQ(b.clicked_any, 1);
  EXPECT_EQ(live.steps[0].counters.sent, 3);
  EXPECT_EQ(live.steps[1].counters.sent, 2);
  EXPECT_EQ(live.steps[1].counters.replied, 1);
  ASSERT_EQ(live.senders.size(), 2u);
  EXPECT_EQ(live.senders[0].email, "s1@kiln.test");
  EXPECT_EQ(live.senders[0].counters.sent, 3);  // m1 m2 m5
  EXPECT_EQ(live.senders[0].counters.opened, 2);
  EXPECT_EQ(live.senders[1].counters.sent, 2);  // m4 m6
  EXPECT_EQ(live.senders[1].counters.bounced, 2);
  ASSERT_EQ(live.daily.size(), 2u);
  EXPECT_EQ(live.daily[0].day, kD0);
  EXPECT_EQ(live.daily[0].counters.sent, 4);
  EXPECT_EQ(live.daily[0].counters.replied, 0);
  EXPECT_EQ(live.daily[1].counters.sent, 1);
  EXPECT_EQ(live.daily[1].counters.replied, 2);
  EXPECT_EQ(live.daily[1].counters.positive, 1);

  // A range: D1 only.
  CampaignStats d1 = Stats({.first = kD0 + 1, .last = kD0 + 1});
  EXPECT_EQ(d1.totals.sent, 1);
  EXPECT_EQ(d1.totals.replied, 2);
  EXPECT_EQ(d1.totals.positive, 1);
  EXPECT_EQ(d1.totals.opened, 0);
  ASSERT_EQ(d1.daily.size(), 1u);

  // Rolled up in batches of two events: the same answer, from the roll-ups.
  testing::FakeClock clock(kT + 48 * kHour);
  RollupJob job(*db_, clock, {.worker_id = "w1", .batch_events = 2});
  auto moved = job.RunOnce();
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  const int64_t max_id = Scalar("t.max_event", {}, "id");
  EXPECT_EQ(*moved, max_id);
  CampaignStats rolled = Stats();
  EXPECT_EQ(rolled.watermark, max_id);
  EXPECT_EQ(Scalar("t.rolled_sent", {campaign_}, "n"), 5);
  ExpectSame(live, rolled);
  ExpectSame(d1, Stats({.first = kD0 + 1, .last = kD0 + 1}));

  // New events land in the tail: m2's first human open (D1) and a second reply of m1 (ignored).
  Event(m2_, "opened", kT + 30 * kHour);
  CampaignStats with_tail = Stats();
  EXPECT_EQ(with_tail.watermark, max_id);
  EXPECT_EQ(with_tail.totals.opened, 3);
  EXPECT_EQ(with_tail.totals.opened_any, 3);  // m2 had a machine open already
  EXPECT_EQ(with_tail.daily[1].counters.opened, 1);
  auto again = job.RunOnce();
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 1);
  ExpectSame(with_tail, Stats());
  EXPECT_EQ(job.RunOnce().value_or(-1), 0);
}

// Positive replies follow the lead's current status exactly, whatever the roll-up job did: a lead
// flipping interested -> not_interested -> meeting_booked around roll-up passes, a lead made
// interested before its reply arrives, a variant deleted (its messages move to variant 0), a
// positive lead deleted, and finally the campaign deleted (the triggers must not get in its way).
TEST_P(RollupTest, PositiveRepliesFollowLeadStatusFlips) {
  MakeHistory();
  testing::FakeClock clock(kT + 48 * kHour);
  RollupJob job(*db_, clock, {.worker_id = "w1", .batch_events = 3});
  auto write = [&](std::string_view query, store::Params params) {
    Status st = db_->Write([&](store::Tx& tx) { return tx.Exec(query, params).status(); });
    ASSERT_TRUE(st.ok()) << query << ": " << st.ToString();
  };
  auto overview_positive = [&] {
    int64_t n = -1;
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto o,
                            LoadWorkspaceOverview(tx, ws_, {.first = kD0, .last = kD0 + 9}));
      n = o.totals.positive;
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return n;
  };
  // After every change: the cells equal a count from scratch, and the answer says `positive`
  // (all on D1, m1's variant A / sender s1 unless said otherwise) before and after a roll-up pass.
  auto expect_positive = [&](int64_t positive, const char* when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(Scalar("t.positive_mismatches", {}, "n"), 0);
    CampaignStats before = Stats();
    EXPECT_EQ(before.totals.positive, positive);
    EXPECT_EQ(overview_positive(), positive);
    ASSERT_TRUE(job.RunOnce().ok());
    CampaignStats after = Stats();
    ExpectSame(before, after);
    ASSERT_EQ(after.daily.size(), 2u);
    EXPECT_EQ(after.daily[0].counters.positive, 0);
    EXPECT_EQ(after.daily[1].counters.positive, positive);
  };
  expect_positive(1, "history: c1 interested");

  write("t.lead_status", {ws_, "c1@lead.test", "not_interested"});
  expect_positive(0, "c1 not_interested");
  EXPECT_EQ(Stats().steps[0].variants[0].counters.positive, 0);

  write("t.lead_status", {ws_, "c1@lead.test", "meeting_booked"});
  expect_positive(1, "c1 meeting_booked");
  CampaignStats s = Stats();
  EXPECT_EQ(s.steps[0].variants[0].counters.positive, 1);
  EXPECT_EQ(s.senders[0].counters.positive, 1);
  EXPECT_EQ(s.senders[1].counters.positive, 0);

  // interested -> meeting_booked is no change; c6 (replied) becomes interested: m6, step 2, s2.
  write("t.lead_status", {ws_, "c1@lead.test", "interested"});
  write("t.lead_status", {ws_, "c6@lead.test", "interested"});
  expect_positive(2, "c6 interested");
  s = Stats();
  EXPECT_EQ(s.steps[1].counters.positive, 1);
  EXPECT_EQ(s.senders[1].counters.positive, 1);

  // A lead marked interested before its reply is recorded: it counts from the reply on, on the
  // reply's day.
  int64_t m7 = Message("c7@lead.test", "interested", 0, 1, 1);
  expect_positive(2, "c7 interested, not replied yet");
  write("t.reply", {m7, kT + 30 * kHour});
  expect_positive(3, "c7's reply recorded");
  EXPECT_EQ(Stats().steps[0].variants[1].counters.positive, 1);

  // Variant A deleted: m1 keeps counting, now under variant 0 ("deleted").
  write("t.delete_variant", {variants_[0]});
  expect_positive(3, "variant A deleted");
  s = Stats();
  // B; A's rolled-up events under its old id (positive 0); the deleted variant 0 (m1's reply).
  ASSERT_EQ(s.steps[0].variants.size(), 3u);
  for (const VariantStats& v : s.steps[0].variants) {
    EXPECT_EQ(v.counters.positive, v.variant_id == variants_[1] || v.variant_id == 0 ? 1 : 0)
        << "variant " << v.variant_id;
  }

  // Positive lead c6 deleted with its messages; c7 flips out and back in before a pass.
  write("t.delete_lead", {ws_, "c6@lead.test"});
  write("t.lead_status", {ws_, "c7@lead.test", "not_interested"});
  write("t.lead_status", {ws_, "c7@lead.test", "meeting_booked"});
  EXPECT_EQ(Scalar("t.positive_mismatches", {}, "n"), 0);
  EXPECT_EQ(Stats().totals.positive, 2);
  EXPECT_EQ(overview_positive(), 2);

  write("t.delete_campaign", {campaign_});
  EXPECT_EQ(Scalar("t.positive_cells", {campaign_}, "n"), 0);
  EXPECT_EQ(Scalar("t.positive_mismatches", {}, "n"), 0);
  EXPECT_EQ(overview_positive(), 0);
}

// A deleted sender moves its positive replies to sender 0; deleting the whole workspace (every
// cascade at once: leads, campaigns, messages, senders, variants) goes through the triggers and
// leaves no cell behind.
TEST_P(RollupTest, PositiveRepliesThroughSenderAndWorkspaceDeletion) {
  MakeHistory();
  auto write = [&](std::string_view query, store::Params params) {
    Status st = db_->Write([&](store::Tx& tx) { return tx.Exec(query, params).status(); });
    ASSERT_TRUE(st.ok()) << query << ": " << st.ToString();
  };
  write("t.lead_status", {ws_, "c6@lead.test", "meeting_booked"});
  EXPECT_EQ(Stats().totals.positive, 2);
  write("t.delete_sender", {senders_[1]});
  EXPECT_EQ(Scalar("t.positive_mismatches", {}, "n"), 0);
  CampaignStats s = Stats();
  EXPECT_EQ(s.totals.positive, 2);
  ASSERT_FALSE(s.senders.empty());
  EXPECT_EQ(s.senders[0].sender_id, 0);  // m6's reply, its sender deleted
  EXPECT_EQ(s.senders[0].counters.positive, 1);
  write("t.delete_workspace", {ws_});
  EXPECT_EQ(Scalar("t.all_positive_cells", {}, "n"), 0);
  EXPECT_EQ(Scalar("t.positive_mismatches", {}, "n"), 0);
}

TEST_P(RollupTest, LeaseKeepsOneProcessAtATime) {
  MakeHistory();
  testing::FakeClock clock(kT + 48 * kHour);
  RollupJob a(*db_, clock, {.worker_id = "a", .batch_events = 5, .lease = Millis(60'000)});
  RollupJob b(*db_, clock, {.worker_id = "b", .batch_events = 5, .lease = Millis(60'000)});
  auto first = a.RunBatch();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_GT(*first, 0);
  EXPECT_EQ(b.RunBatch().value_or(-1), 0);  // a holds the lease
  clock.Advance(Millis(61'000));            // a is gone: its lease lapses
  auto taken = b.RunOnce();
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ(*first + *taken, Scalar("t.max_event", {}, "id"));
  Event(m2_, "opened", kT + 30 * kHour);
  EXPECT_EQ(a.RunBatch().value_or(-1), 0);  // b holds it now
  ASSERT_TRUE(b.ReleaseLease().ok());
  EXPECT_EQ(a.RunBatch().value_or(-1), 1);  // released: a takes over at once
  EXPECT_EQ(Stats().totals.opened, 3);
}

TEST_P(RollupTest, TwoJobsRacingAWriterCountEveryEventOnce) {
  // Leases of 1 ms on the real clock: the two jobs take the lease from each other all the time, so
  // both reach the batch transaction; the watermark's row lock and compare-and-set keep the counts.
  SystemClock clock;
  constexpr int kMessages = 60;
  std::atomic<bool> writing{true};
  auto run = [&](const std::string& id) {
    RollupJob job(*db_, clock, {.worker_id = id, .batch_events = 7, .lease = Millis(1)});
    while (writing.load()) (void)job.RunOnce(3);
  };
  std::thread j1(run, "racer-1");
  std::thread j2(run, "racer-2");
  for (int i = 0; i < kMessages; ++i) {
    int64_t m = Message("r" + std::to_string(i) + "@lead.test", "contacted", i % 2, i % 2, i % 2);
    Event(m, "sent", kT + i * 1000);
    Event(m, "opened", kT + i * 1000 + 10, true);
    Event(m, "opened", kT + i * 1000 + 20);
    Event(m, "opened", kT + i * 1000 + 30);
  }
  writing = false;
  j1.join();
  j2.join();
  // Catch up (the racers' leases lapsed after 1 ms; wait for that on the real clock).
  RollupJob last(*db_, clock, {.worker_id = "last", .batch_events = 1000, .lease = Millis(1)});
  int64_t max_id = Scalar("t.max_event", {}, "id");
  for (int attempt = 0; attempt < 1000; ++attempt) {
    (void)last.RunOnce();
    if (Stats().watermark == max_id) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CampaignStats s = Stats();
  ASSERT_EQ(s.watermark, max_id);
  EXPECT_EQ(s.totals.sent, kMessages);
  EXPECT_EQ(s.totals.opened, kMessages);
  EXPECT_EQ(s.totals.opened_any, kMessages);
  EXPECT_EQ(s.totals.machine_opens, kMessages);
  EXPECT_EQ(Scalar("t.rolled_sent", {campaign_}, "n"), kMessages);
}

INSTANTIATE_TEST_SUITE_P(Db, RollupTest, ::testing::ValuesIn(testing::DbBackends()),
                         testing::DbBackendName());

TEST(DayTest, NamesAndParsing) {
  EXPECT_EQ(DayName(kD0), "2026-01-01");
  EXPECT_EQ(ParseDay("2026-01-01", "from").value_or(-1), kD0);
  EXPECT_EQ(ParseDay("2024-02-29", "from").value_or(-1) + 1,
            ParseDay("2024-03-01", "from").value_or(-1));
  for (const char* bad : {"2026-02-30", "2026-1-01", "20260101", "2026-01-01T00", "", "1969-12-31",
                          "2026-13-01", "abcd-ef-gh"}) {
    auto r = ParseDay(bad, "to");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().field(), "to");
  }
}

}  // namespace
}  // namespace kiln::analytics
