// The scheduler in virtual time against recording fake transports: a campaign of a few senders and
// a couple of hundred leads over simulated weeks, checked against every rule it must keep.
#include "kiln/engine/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "kiln/domain/civil_time.h"
#include "kiln/testing/db_fixture.h"
#include "kiln/testing/fake_clock.h"

namespace kiln::engine {
namespace {

using ::kiln::testing::FakeClock;

constexpr std::string_view kFixtureSql = R"sql(
-- name: sched_test.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('w', $1, $1) RETURNING id;
-- name: sched_test.campaign
INSERT INTO campaigns (workspace_id, name, status, schedule, timezone, daily_limit, created_at,
                       updated_at)
VALUES ($1, 'c', 'running', $2, $3, $4, $5, $5) RETURNING id;
-- name: sched_test.step
INSERT INTO campaign_steps (workspace_id, campaign_id, position, delay_minutes, created_at,
                            updated_at)
VALUES ($1, $2, $3, $4, $5, $5) RETURNING id;
-- name: sched_test.variant
INSERT INTO step_variants (workspace_id, step_id, label, weight, subject, body_html, body_text,
                           created_at, updated_at)
VALUES ($1, $2, 'A', 1, $3, $4, $5, $6, $6) RETURNING id;
-- name: sched_test.sender
INSERT INTO senders (workspace_id, email, from_name, smtp_host, smtp_port, smtp_security,
                     daily_quota, status, created_at, updated_at)
VALUES ($1, $2, 'Sam', '127.0.0.1', 25, 'none', $3, 'active', $4, $4) RETURNING id;
-- name: sched_test.pool
INSERT INTO campaign_senders (campaign_id, sender_id, workspace_id, created_at)
VALUES ($1, $2, $3, $4);
-- name: sched_test.contact
INSERT INTO contacts (workspace_id, email, first_name, timezone, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $5) RETURNING id;
-- name: sched_test.enrol
INSERT INTO campaign_contacts (workspace_id, campaign_id, contact_id, next_at, status, created_at,
                               updated_at)
VALUES ($1, $2, $3, $4, 'pending', $4, $4);
-- name: sched_test.mark_replied
UPDATE campaign_contacts SET status = 'replied' WHERE campaign_id = $1 AND contact_id = $2;
-- name: sched_test.sent_count
SELECT COUNT(*) AS n FROM messages WHERE campaign_id = $1 AND status = 'sent';
-- name: sched_test.sender_status
SELECT status, status_reason FROM senders WHERE id = $1;
-- name: sched_test.lead_status
SELECT status, stop_reason FROM campaign_contacts WHERE campaign_id = $1 AND contact_id = $2;
-- name: sched_test.suppressed
SELECT reason FROM suppression_list WHERE workspace_id = $1 AND email = $2;
-- name: sched_test.suppress_domain
INSERT INTO suppression_list (workspace_id, domain, reason, created_at)
VALUES ($1, $2, 'manual', $3);
)sql";

struct SentMail {
  int64_t sender_id = 0;
  int64_t at_ms = 0;
  std::string rcpt;
  std::string data;
};

// A fake Transport (named as such): records every message and answers with `answer`.
class RecordingFakeTransport final : public mail::Transport {
 public:
  RecordingFakeTransport(int64_t sender_id, const Clock& clock, std::vector<SentMail>* log,
                         mail::SendResult answer)
      : sender_id_(sender_id), clock_(clock), log_(log), answer_(std::move(answer)) {}
  boost::asio::awaitable<mail::SendResult> Send(const mail::Envelope& envelope,
                                                std::string_view data) override {
    log_->push_back({sender_id_, clock_.NowMillis(), envelope.rcpt_to.at(0), std::string(data)});
    co_return answer_;
  }
  boost::asio::awaitable<void> Close() override { co_return; }

 private:
  int64_t sender_id_;
  const Clock& clock_;
  std::vector<SentMail>* log_;
  mail::SendResult answer_;
};

mail::SendResult Accepted() {
  mail::SendResult r;
  r.cls = mail::SendResult::Class::kAccepted;
  r.code = 250;
  r.text = "2.0.0 Ok: queued";
  return r;
}

std::string Header(const std::string& data, const std::string& name) {
  const std::string key = "\r\n" + name + ": ";
  size_t p = data.find(key);
  if (p == std::string::npos) return "";
  p += key.size();
  return data.substr(p, data.find("\r\n", p) - p);
}

class SchedulerTest : public ::testing::TestWithParam<std::string> {
 protected:
  // 2026-01-05 is a Monday; start at 00:00 UTC.
  static constexpr int64_t kStart = 1'767'571'200'000;
  static constexpr int64_t kMinute = 60'000;
  static constexpr int64_t kDay = 1440 * kMinute;

  void SetUp() override {
    store::OpenOptions options;
    options.extra_sql_files.push_back({"queries/sched_test.sql", std::string(kFixtureSql)});
    auto db = kiln::testing::OpenFreshTestDatabase(GetParam(), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    clock_.Set(kStart);
  }

  Status Exec(std::string_view q, const store::Params& p) {
    return db_->Write([&](store::Tx& tx) { return tx.Exec(q, p).status(); });
  }
  Result<store::Row> Row(std::string_view q, const store::Params& p) {
    std::optional<store::Row> row;
    Status s = db_->Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(row, tx.QueryRow(q, p));
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return *row;
  }

  // A running campaign: Mon-Fri 09:00-17:00 in each lead's zone, `steps` delays in minutes.
  void MakeCampaign(const std::vector<int64_t>& delays, int senders, int quota) {
    ws_ = Row("sched_test.workspace", {kStart})->Int("id");
    campaign_ =
        Row("sched_test.campaign",
            {ws_, R"({"days":[1,2,3,4,5],"start":"09:00","end":"17:00"})", "UTC", 0, kStart})
            ->Int("id");
    for (size_t i = 0; i < delays.size(); ++i) {
      int64_t step =
          Row("sched_test.step", {ws_, campaign_, static_cast<int64_t>(i), delays[i], kStart})
              ->Int("id");
      step_ids_.push_back(step);
      ASSERT_TRUE(
          Row("sched_test.variant", {ws_, step, i == 0 ? "{Hi|Hello} {{ first_name }}" : "",
                                     "<p>Hello {{ first_name }}, step " + std::to_string(i + 1) +
                                         ". <a href=\"{{ unsubscribe_url }}\">unsubscribe</a></p>",
                                     "", kStart})
              .ok());
    }
    for (int s = 0; s < senders; ++s) {
      int64_t id = Row("sched_test.sender",
                       {ws_, "sender" + std::to_string(s + 1) + "@kiln-a.test", quota, kStart})
                       ->Int("id");
      sender_ids_.push_back(id);
      ASSERT_TRUE(Exec("sched_test.pool", {campaign_, id, ws_, kStart}).ok());
    }
  }

  int64_t AddLead(const std::string& email, const std::string& first, const std::string& tz) {
    int64_t id = Row("sched_test.contact", {ws_, email, first, tz, kStart})->Int("id");
    EXPECT_TRUE(Exec("sched_test.enrol", {ws_, campaign_, id, kStart}).ok());
    lead_zone_[email] = tz.empty() ? "UTC" : tz;
    contact_of_[email] = id;
    return id;
  }

  std::unique_ptr<Scheduler> MakeScheduler(std::map<int64_t, mail::SendResult> answers = {}) {
    SchedulerOptions o;
    o.worker_id = "test-worker";
    o.pacing = {.min_gap_ms = 5 * kMinute, .jitter_percent = 40};
    o.public_url = "https://kiln.example.com";
    o.tracking_key = std::string(32, 'k');
    o.seed = 7;
    return std::make_unique<Scheduler>(
        *db_, clock_, zones_,
        [this, answers](const SenderInfo& s,
                        boost::asio::any_io_executor) -> Result<std::unique_ptr<mail::Transport>> {
          auto it = answers.find(s.id);
          return std::unique_ptr<mail::Transport>(std::make_unique<RecordingFakeTransport>(
              s.id, clock_, &log_, it == answers.end() ? Accepted() : it->second));
        },
        std::move(o));
  }

  // Runs ticks every `step` of virtual time until `until`.
  TickStats RunUntil(Scheduler& s, int64_t until, int64_t step = 2 * kMinute) {
    TickStats total;
    while (clock_.NowMillis() < until) {
      auto t = s.RunOnce();
      EXPECT_TRUE(t.ok()) << t.status().ToString();
      if (!t.ok()) break;
      EXPECT_TRUE(s.campaign_errors().empty()) << s.campaign_errors().front();
      total.sent += t->sent;
      total.waiting += t->waiting;
      clock_.Advance(Millis(step));
    }
    return total;
  }

  FakeClock clock_;
  domain::TimeZoneDatabase zones_;
  std::unique_ptr<store::Database> db_;
  int64_t ws_ = 0, campaign_ = 0;
  std::vector<int64_t> step_ids_, sender_ids_;
  std::map<std::string, std::string> lead_zone_;
  std::map<std::string, int64_t> contact_of_;
  std::vector<SentMail> log_;
};

TEST_P(SchedulerTest, CampaignOverVirtualWeeksKeepsEveryRule) {
  const int64_t kFollowUpDelay = 2 * 1440;  // two days
  const int kQuota = 20;
  MakeCampaign({0, kFollowUpDelay}, /*senders=*/3, kQuota);
  const std::vector<std::string> zones = {"America/New_York", "Europe/Berlin", "Asia/Tokyo", ""};
  std::vector<std::string> emails;
  for (int i = 0; i < 200; ++i) {
    emails.push_back("lead" + std::to_string(i) + "@example" + std::to_string(i % 7) + ".test");
    AddLead(emails.back(), i == 0 ? "<b>Eve</b>" : "Lead" + std::to_string(i),
            zones[static_cast<size_t>(i) % zones.size()]);
  }
  auto scheduler = MakeScheduler();

  // Day one; then ten leads that got step 1 reply (as the inbox watcher would record it).
  RunUntil(*scheduler, kStart + kDay);
  std::set<std::string> replied;
  for (const SentMail& m : log_) {
    if (replied.size() == 10) break;
    replied.insert(m.rcpt);
  }
  ASSERT_EQ(replied.size(), 10u);
  for (const std::string& email : replied) {
    ASSERT_TRUE(Exec("sched_test.mark_replied", {campaign_, contact_of_[email]}).ok());
  }
  RunUntil(*scheduler, kStart + 21 * kDay);

  // Exactly one message per (lead, step); replied leads got no follow-up; others got both.
  std::map<std::string, std::vector<const SentMail*>> by_lead;
  for (const SentMail& m : log_) by_lead[m.rcpt].push_back(&m);
  ASSERT_EQ(by_lead.size(), emails.size());
  for (const auto& [email, mails] : by_lead) {
    if (replied.count(email)) {
      EXPECT_EQ(mails.size(), 1u) << email << " replied but got a follow-up";
      continue;
    }
    ASSERT_EQ(mails.size(), 2u) << email;
    const SentMail& first = *mails[0];
    const SentMail& second = *mails[1];
    EXPECT_GE(second.at_ms - first.at_ms, kFollowUpDelay * kMinute) << email;
    EXPECT_EQ(second.sender_id, first.sender_id) << email << ": follow-up from another sender";
    const std::string first_id = Header(first.data, "Message-ID");
    ASSERT_FALSE(first_id.empty());
    EXPECT_EQ(Header(second.data, "In-Reply-To"), first_id) << email;
    EXPECT_NE(Header(second.data, "References").find(first_id), std::string::npos);
    EXPECT_EQ(Header(second.data, "Subject"), "Re: " + Header(first.data, "Subject"));
  }
  EXPECT_EQ(Row("sched_test.sent_count", {campaign_})->Int("n"), static_cast<int64_t>(log_.size()));

  // Windows in each lead's zone; quotas per sender day; gaps between one sender's sends.
  std::map<std::pair<int64_t, int64_t>, int> per_sender_day;
  std::map<int64_t, int64_t> last_send;
  for (const SentMail& m : log_) {
    auto zone = zones_.Get(lead_zone_[m.rcpt]);
    ASSERT_TRUE(zone.ok());
    const int64_t local = (*zone)->ToLocalMillis(m.at_ms);
    const int64_t local_day = domain::FloorDiv(local, kDay);
    const int64_t minute = (local - local_day * kDay) / kMinute;
    const int weekday = domain::WeekdayFromDays(local_day);
    EXPECT_TRUE(weekday >= 1 && weekday <= 5) << m.rcpt << " on weekday " << weekday;
    EXPECT_TRUE(minute >= 9 * 60 && minute < 17 * 60) << m.rcpt << " at local minute " << minute;
    ++per_sender_day[{m.sender_id, m.at_ms / kDay}];
    if (last_send.count(m.sender_id)) {
      EXPECT_GE(m.at_ms - last_send[m.sender_id], 5 * kMinute) << "sender " << m.sender_id;
    }
    last_send[m.sender_id] = m.at_ms;
  }
  for (const auto& [key, n] : per_sender_day) {
    EXPECT_LE(n, kQuota) << "sender " << key.first << " day " << key.second;
  }
  // All three senders took part.
  std::set<int64_t> used;
  for (const SentMail& m : log_) used.insert(m.sender_id);
  EXPECT_EQ(used.size(), 3u);

  // Lead values are escaped in HTML; the unsubscribe link and RFC 8058 headers are there.
  const SentMail& eve = *by_lead[emails[0]][0];
  EXPECT_NE(eve.data.find("&lt;b&gt;Eve&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(eve.data.find("<p>Hello <b>Eve"), std::string::npos);  // in the HTML part
  EXPECT_EQ(Header(eve.data, "List-Unsubscribe").rfind("<https://kiln.example.com/", 0), 0u)
      << Header(eve.data, "List-Unsubscribe");
  EXPECT_EQ(Header(eve.data, "List-Unsubscribe-Post"), "List-Unsubscribe=One-Click");
}

mail::SendResult Failure(mail::SendResult::Class cls, int code, std::string enhanced,
                         mail::SmtpFailure failure, std::string reason) {
  mail::SendResult r;
  r.cls = cls;
  r.code = code;
  r.enhanced = std::move(enhanced);
  r.failure = failure;
  r.reason = std::move(reason);
  return r;
}

TEST_P(SchedulerTest, HardBounceStopsTheLeadAndSuppressesTheAddress) {
  MakeCampaign({0, 60}, 1, 50);
  const int64_t lead = AddLead("gone@example.test", "Gone", "");
  auto scheduler = MakeScheduler(
      {{sender_ids_[0],
        Failure(mail::SendResult::Class::kPermanent, 550, "5.1.1", mail::SmtpFailure::kRecipients,
                "recipient <gone@example.test> rejected: 550 5.1.1 no such user")}});
  RunUntil(*scheduler, kStart + 3 * kDay);
  ASSERT_EQ(log_.size(), 1u);  // no follow-up, no retry
  auto st = Row("sched_test.lead_status", {campaign_, lead});
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->Text("status"), "bounced");
  EXPECT_NE(st->Text("stop_reason").find("5.1.1"), std::string::npos);
  auto sup = Row("sched_test.suppressed", {ws_, "gone@example.test"});
  ASSERT_TRUE(sup.ok()) << sup.status().ToString();
  EXPECT_EQ(sup->Text("reason"), "bounced");
}

TEST_P(SchedulerTest, AuthFailureFailsTheSenderAndOthersCarryOn) {
  MakeCampaign({0}, 2, 50);
  for (int i = 0; i < 6; ++i) AddLead("l" + std::to_string(i) + "@example.test", "L", "");
  auto scheduler = MakeScheduler(
      {{sender_ids_[0], Failure(mail::SendResult::Class::kSenderProblem, 535, "5.7.8",
                                mail::SmtpFailure::kAuth, "authentication rejected: 535 5.7.8")}});
  RunUntil(*scheduler, kStart + 2 * kDay);
  auto st = Row("sched_test.sender_status", {sender_ids_[0]});
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->Text("status"), "failed");
  EXPECT_NE(st->Text("status_reason").find("authentication rejected"), std::string::npos);
  EXPECT_EQ(Row("sched_test.sender_status", {sender_ids_[1]})->Text("status"), "active");
  std::map<std::string, int> accepted;  // by the healthy sender
  int through_failed = 0;
  for (const SentMail& m : log_) {
    if (m.sender_id == sender_ids_[1])
      ++accepted[m.rcpt];
    else
      ++through_failed;
  }
  EXPECT_LE(through_failed, 1);  // the one attempt that found the problem
  EXPECT_EQ(accepted.size(), 6u);
  for (const auto& [rcpt, n] : accepted) EXPECT_EQ(n, 1) << rcpt;
  EXPECT_EQ(Row("sched_test.sent_count", {campaign_})->Int("n"), 6);
}

TEST_P(SchedulerTest, ElevenConsecutiveFailuresPauseTheSender) {
  MakeCampaign({0}, 1, 100);
  for (int i = 0; i < 15; ++i) AddLead("t" + std::to_string(i) + "@example.test", "T", "");
  auto scheduler = MakeScheduler(
      {{sender_ids_[0], Failure(mail::SendResult::Class::kTransient, 451, "4.3.0",
                                mail::SmtpFailure::kRecipients, "451 4.3.0 try again later")}});
  RunUntil(*scheduler, kStart + 2 * kDay);
  auto st = Row("sched_test.sender_status", {sender_ids_[0]});
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->Text("status"), "paused");
  EXPECT_NE(st->Text("status_reason").find("11 consecutive failures"), std::string::npos)
      << st->Text("status_reason");
  EXPECT_EQ(log_.size(), 11u);  // nothing after the pause
}

TEST_P(SchedulerTest, SuppressedDomainIsNeverMailed) {
  MakeCampaign({0}, 1, 50);
  const int64_t blocked = AddLead("ceo@blocked.test", "C", "");
  AddLead("ok@fine.test", "O", "");
  ASSERT_TRUE(Exec("sched_test.suppress_domain", {ws_, "blocked.test", kStart}).ok());
  auto scheduler = MakeScheduler();
  RunUntil(*scheduler, kStart + 2 * kDay);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(log_[0].rcpt, "ok@fine.test");
  auto st = Row("sched_test.lead_status", {campaign_, blocked});
  EXPECT_EQ(st->Text("status"), "stopped");
  EXPECT_EQ(st->Text("stop_reason"), "suppressed: manual");
}

INSTANTIATE_TEST_SUITE_P(Db, SchedulerTest, ::testing::ValuesIn(kiln::testing::DbBackends()),
                         kiln::testing::DbBackendName());

}  // namespace
}  // namespace kiln::engine
