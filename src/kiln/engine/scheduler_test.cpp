// The scheduler in virtual time against recording fake transports: a campaign of a few senders and
// a couple of hundred leads over simulated weeks, checked against every rule it must keep.
#include "kiln/engine/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kiln/api/tracking_tokens.h"
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
-- name: sched_test.sender_warmup
UPDATE senders SET warmup_end_at = $2, warmup_start_at = $3, warmup_start_volume = $4,
                   warmup_daily_increase = $5, warmup_daily_target = $6, timezone = $7,
                   warmup_enabled = 1
WHERE id = $1;
-- name: sched_test.campaign_mix
UPDATE campaigns SET warmup_mix_percent = $2, updated_at = updated_at + 1 WHERE id = $1;
-- name: sched_test.campaign_tracking
UPDATE campaigns SET track_opens = $2, track_clicks = $3, plain_text_only = $4,
                     updated_at = updated_at + 1
WHERE id = $1;
-- name: sched_test.campaign_tracking_domain
UPDATE campaigns SET tracking_domain = $2, updated_at = updated_at + 1 WHERE id = $1;
-- name: sched_test.sender_tracking_domain
UPDATE senders SET tracking_domain = $2 WHERE id = $1;
-- name: sched_test.campaign_all_day
UPDATE campaigns SET schedule = '{"days":[1,2,3,4,5,6,7],"start":"00:00","end":"24:00"}',
                     updated_at = updated_at + 1
WHERE id = $1;
-- name: sched_test.sender_health
UPDATE senders SET health_score = $2 WHERE id = $1;
-- name: sched_test.campaign_status
SELECT status, paused_reason FROM campaigns WHERE id = $1;
-- name: sched_test.mark_bounced
UPDATE messages SET status = 'bounced', bounced_at = $2
WHERE id IN (SELECT id FROM messages WHERE campaign_id = $1 AND status = 'sent' ORDER BY id
             LIMIT $3);
-- name: sched_test.lease_owner
SELECT lease_owner FROM senders WHERE id = $1;
-- name: sched_test.message_state
SELECT m.status, m.claimed_by, m.lease_until FROM messages m JOIN contacts c ON c.id = m.contact_id
WHERE m.campaign_id = $1 AND c.email = $2;
-- name: sched_test.message_states
SELECT status, claimed_by FROM messages WHERE campaign_id = $1 ORDER BY id;
-- name: sched_test.untouched_leads
SELECT COUNT(*) AS n FROM campaign_contacts
WHERE campaign_id = $1 AND status = 'pending' AND next_at = $2 AND current_step = 0
  AND sender_id IS NULL AND last_sent_at IS NULL;
-- name: sched_test.lead_messages
SELECT m.step_id, m.sender_id, m.status, m.sent_at FROM messages m
WHERE m.campaign_id = $1 AND m.contact_id = $2 ORDER BY m.sent_at, m.id;
-- name: sched_test.set_failures
UPDATE senders SET consecutive_failures = $2 WHERE id = $1;
-- name: sched_test.failures
SELECT consecutive_failures AS n, status, status_reason FROM senders WHERE id = $1;
-- name: sched_test.sender_only
INSERT INTO senders (workspace_id, email, from_name, smtp_host, smtp_port, smtp_security,
                     daily_quota, status, created_at, updated_at)
VALUES ($1, $2, 'Wes', '127.0.0.1', 25, 'none', $3, 'active', $4, $4) RETURNING id;
)sql";

struct SentMail {
  int64_t sender_id = 0;
  int64_t at_ms = 0;
  std::string rcpt;
  std::string data;
  bool refused = false;  // by RandomRefusals
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
    if (on_send_ != nullptr && *on_send_) (*on_send_)(log_->back());
    const int64_t now = clock_.NowMillis();
    const bool outage = refusals_ != nullptr && now >= refusals_->outage_from_ms &&
                        now < refusals_->outage_until_ms;
    if (outage || (refusals_ != nullptr && refusals_->percent > 0 &&
                   refusals_->rng.Uniform(100) < static_cast<uint64_t>(refusals_->percent))) {
      log_->back().refused = true;
      co_return refusals_->answer;
    }
    if (per_rcpt_ != nullptr) {
      auto it = per_rcpt_->find(envelope.rcpt_to.at(0));
      if (it != per_rcpt_->end()) co_return it->second;
    }
    co_return answer_;
  }
  // Refuses a share of all sends at random (seeded), and every send in [outage_from_ms,
  // outage_until_ms), before any other answer.
  struct RandomRefusals {
    int percent = 0;
    int64_t outage_from_ms = 0, outage_until_ms = 0;
    domain::Rng rng{1};
    mail::SendResult answer;
  };
  void SetRandomRefusals(RandomRefusals* refusals) { refusals_ = refusals; }
  // Answers for particular recipients, looked up before `answer`.
  void SetPerRecipient(const std::map<std::string, mail::SendResult>* answers) {
    per_rcpt_ = answers;
  }
  // Called with every message as it is logged, before it is answered.
  void SetOnSend(const std::function<void(const SentMail&)>* on_send) { on_send_ = on_send; }
  boost::asio::awaitable<void> Close() override { co_return; }

 private:
  int64_t sender_id_;
  const Clock& clock_;
  std::vector<SentMail>* log_;
  mail::SendResult answer_;
  const std::map<std::string, mail::SendResult>* per_rcpt_ = nullptr;
  RandomRefusals* refusals_ = nullptr;
  const std::function<void(const SentMail&)>* on_send_ = nullptr;
};

// The exchanges of OverlappingFakeTransports, shared by all of one scheduler's senders.
struct Exchanges {
  struct Event {
    bool start = true;  // else the end of an exchange
    int64_t sender_id = 0;
    std::string rcpt;
  };
  // Exchanges held until released: by default each new exchange releases the held ones, and the
  // `expected`-th exchange is not held (nothing would come after it to release it). With
  // `hold_all`, only Release() lets them go. A held exchange that nobody releases answers a
  // transient failure after `bound` (so a broken engine fails the test rather than hanging it).
  int expected = 0;
  bool hold_all = false;
  std::chrono::milliseconds bound{30'000};
  // Called at the start of every exchange, on the scheduler's thread (before the mutex is taken).
  std::function<void(const std::string& rcpt)> on_start;

  std::mutex mu;
  std::condition_variable cv;
  std::vector<Event> events;
  int started = 0;
  int timed_out = 0;
  int active_total = 0, max_active_total = 0;
  std::map<int64_t, int> active, max_active;  // per sender
  std::vector<boost::asio::steady_timer*> held;
  boost::asio::any_io_executor executor;

  // From any thread: lets every held exchange finish.
  void Release() {
    boost::asio::post(executor, [this] {
      std::lock_guard lock(mu);
      for (auto* t : held) t->cancel();
      held.clear();
    });
  }
  // From any thread: waits until `n` exchanges started (at most `bound`); true when they did.
  bool WaitStarted(int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, bound, [&] { return started >= n; });
  }
};

// A fake Transport (named as such) whose exchanges stay open until released (Exchanges), so
// several senders' exchanges are in flight at once; it accepts every message.
class OverlappingFakeTransport final : public mail::Transport {
 public:
  OverlappingFakeTransport(int64_t sender_id, Exchanges* x) : sender_id_(sender_id), x_(*x) {}
  boost::asio::awaitable<mail::SendResult> Send(const mail::Envelope& envelope,
                                                std::string_view) override {
    const std::string rcpt = envelope.rcpt_to.at(0);
    if (x_.on_start) x_.on_start(rcpt);
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, x_.bound);
    bool hold = false;
    {
      std::lock_guard lock(x_.mu);
      ++x_.started;
      x_.max_active[sender_id_] = std::max(x_.max_active[sender_id_], ++x_.active[sender_id_]);
      x_.max_active_total = std::max(x_.max_active_total, ++x_.active_total);
      x_.events.push_back({true, sender_id_, rcpt});
      if (!x_.hold_all) {
        for (auto* t : x_.held) t->cancel();
        x_.held.clear();
      }
      hold = x_.hold_all || x_.started < x_.expected;
      if (hold) x_.held.push_back(&timer);
    }
    x_.cv.notify_all();
    if (hold) {
      auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (!ec) {
        std::lock_guard lock(x_.mu);
        std::erase(x_.held, &timer);
        ++x_.timed_out;
      }
    }
    {
      std::lock_guard lock(x_.mu);
      --x_.active[sender_id_];
      --x_.active_total;
      x_.events.push_back({false, sender_id_, rcpt});
    }
    mail::SendResult r;
    r.cls = mail::SendResult::Class::kAccepted;
    r.code = 250;
    r.text = "2.0.0 Ok: queued";
    co_return r;
  }
  boost::asio::awaitable<void> Close() override { co_return; }

 private:
  int64_t sender_id_;
  Exchanges& x_;
};

// A fake WarmupSource (named as such; the warm-up network is src/kiln/warmup/): every Next is a
// message to a bot address while `room` lasts, recorded by id.
class FakeWarmupSource final : public WarmupSource {
 public:
  struct Issued {
    int64_t sender_id = 0;
    int64_t at_ms = 0;
  };
  Result<std::optional<WarmupMessage>> Next(const SenderInfo& sender, int64_t now_ms) override {
    if (room == 0) return std::optional<WarmupMessage>();
    if (room > 0) --room;
    WarmupMessage m;
    m.warmup_message_id = static_cast<int64_t>(issued.size()) + 1;
    m.message.from = {sender.from_name, sender.email};
    m.message.to.push_back({"Bot", "bot@warm.test"});
    m.message.subject = "quick question " + std::to_string(m.warmup_message_id);
    m.message.text_body = "Hello there, how was the week?";
    m.message.message_id = "warm" + std::to_string(m.warmup_message_id) + "@kiln-a.test";
    m.message.date = FromUnixMillis(now_ms);
    m.message.extra_headers.push_back({"X-Kiln-Warmup", "t" + std::to_string(sender.id)});
    issued.push_back({sender.id, now_ms});
    return std::optional<WarmupMessage>(std::move(m));
  }
  Status Record(int64_t id, const mail::SendResult& result, int64_t) override {
    recorded[id] = result.ok();
    return Status::Ok();
  }

  int room = -1;  // messages it still has; -1: no end
  std::vector<Issued> issued;
  std::map<int64_t, bool> recorded;
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

  std::unique_ptr<Scheduler> MakeScheduler(
      std::map<int64_t, mail::SendResult> answers = {},
      const std::function<void(SchedulerOptions&)>& tune = nullptr) {
    SchedulerOptions o;
    o.worker_id = "test-worker";
    o.pacing = {.min_gap_ms = 5 * kMinute, .jitter_percent = 40};
    o.public_url = "https://kiln.example.com";
    o.tracking_key = std::string(32, 'k');
    o.seed = 7;
    if (tune) tune(o);
    return std::make_unique<Scheduler>(
        *db_, clock_, zones_,
        [this, answers](const SenderInfo& s,
                        boost::asio::any_io_executor) -> Result<std::unique_ptr<mail::Transport>> {
          auto it = answers.find(s.id);
          auto t = std::make_unique<RecordingFakeTransport>(
              s.id, clock_, &log_, it == answers.end() ? Accepted() : it->second);
          t->SetPerRecipient(&per_rcpt_);
          t->SetRandomRefusals(&refusals_);
          t->SetOnSend(&on_send_);
          return std::unique_ptr<mail::Transport>(std::move(t));
        },
        std::move(o));
  }

  std::unique_ptr<Scheduler> MakeOverlappingScheduler(
      Exchanges* x, const std::function<void(SchedulerOptions&)>& tune = nullptr) {
    SchedulerOptions o;
    o.worker_id = "test-worker";
    o.pacing = {.min_gap_ms = 0, .jitter_percent = 0};
    o.public_url = "https://kiln.example.com";
    o.tracking_key = std::string(32, 'k');
    o.seed = 7;
    if (tune) tune(o);
    return std::make_unique<Scheduler>(
        *db_, clock_, zones_,
        [x](const SenderInfo& s,
            boost::asio::any_io_executor executor) -> Result<std::unique_ptr<mail::Transport>> {
          x->executor = executor;
          return std::unique_ptr<mail::Transport>(
              std::make_unique<OverlappingFakeTransport>(s.id, x));
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

  // See the FollowUpWaitsForItsSender... tests: sender A (quota `a_quota`) sends a lead's first
  // step; then sender B joins the pool with new leads; the lead's follow-up, due an hour later
  // while A is paced until its next send, waits for A while B sends.
  void FollowUpWaitsForItsOwnSender(int a_quota) {
    MakeCampaign({0, 60}, /*senders=*/1, a_quota);
    ASSERT_TRUE(Exec("sched_test.campaign_all_day", {campaign_}).ok());
    const int64_t a = sender_ids_[0];
    const int64_t lead = AddLead("follow@example.test", "F", "");
    auto scheduler = MakeScheduler({}, [](SchedulerOptions& o) {
      o.pacing = {.min_gap_ms = 5 * kMinute, .jitter_percent = 0};
    });
    RunUntil(*scheduler, kStart + 2 * kMinute, kMinute);
    ASSERT_EQ(log_.size(), 1u);
    ASSERT_EQ(log_[0].sender_id, a);
    const int64_t first_at = log_[0].at_ms;
    // A may not send again before this: well after the follow-up is due.
    const std::optional<int64_t> a_next = scheduler->SenderNextSendAt(a);
    ASSERT_TRUE(a_next.has_value());
    ASSERT_GT(*a_next, first_at + 2 * 60 * kMinute);

    const int64_t b =
        Row("sched_test.sender_only", {ws_, "sender-b@kiln-a.test", 50, kStart})->Int("id");
    ASSERT_TRUE(Exec("sched_test.pool", {campaign_, b, ws_, kStart}).ok());
    for (int i = 0; i < 6; ++i) AddLead("n" + std::to_string(i) + "@example.test", "N", "");
    RunUntil(*scheduler, kStart + 3 * kDay, kMinute);

    std::vector<const SentMail*> mine;
    for (const SentMail& m : log_) {
      if (m.rcpt == "follow@example.test") mine.push_back(&m);
    }
    ASSERT_EQ(mine.size(), 2u) << "the follow-up was lost or sent twice";
    EXPECT_EQ(mine[1]->sender_id, a) << "the follow-up went out from another sender";
    EXPECT_GE(mine[1]->at_ms, *a_next) << "sent before its sender could send again";
    // B was free and sending while the follow-up waited for A.
    int b_meanwhile = 0;
    for (const SentMail& m : log_) {
      if (m.sender_id == b && m.at_ms >= first_at + 60 * kMinute && m.at_ms < mine[1]->at_ms) {
        ++b_meanwhile;
      }
    }
    EXPECT_GT(b_meanwhile, 0) << "the other sender sent nothing while the follow-up waited";
    // The database says the same: both steps sent, from A, and the lead went on to complete.
    auto rows = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto ms, tx.Query("sched_test.lead_messages", {campaign_, lead}));
      EXPECT_EQ(ms.size(), 2u);
      for (const auto& m : ms) {
        EXPECT_EQ(m.Text("status"), "sent");
        EXPECT_EQ(m.Int("sender_id"), a);
      }
      return Status::Ok();
    });
    EXPECT_TRUE(rows.ok()) << rows.ToString();
    EXPECT_EQ(Row("sched_test.lead_status", {campaign_, lead})->Text("status"), "completed");
    // The new leads: each got both steps, each from one sender.
    std::map<std::string, std::set<int64_t>> senders_of;
    std::map<std::string, int> count;
    for (const SentMail& m : log_) {
      senders_of[m.rcpt].insert(m.sender_id);
      ++count[m.rcpt];
    }
    for (int i = 0; i < 6; ++i) {
      const std::string e = "n" + std::to_string(i) + "@example.test";
      EXPECT_EQ(count[e], 2) << e;
      EXPECT_EQ(senders_of[e].size(), 1u) << e;
    }
  }

  FakeClock clock_;
  domain::TimeZoneDatabase zones_;
  std::unique_ptr<store::Database> db_;
  int64_t ws_ = 0, campaign_ = 0;
  std::vector<int64_t> step_ids_, sender_ids_;
  std::map<std::string, std::string> lead_zone_;
  std::map<std::string, int64_t> contact_of_;
  std::vector<SentMail> log_;
  std::map<std::string, mail::SendResult> per_rcpt_;
  RecordingFakeTransport::RandomRefusals refusals_;
  std::function<void(const SentMail&)> on_send_;
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

// Issue 4 §3: transient failures retry with backoff and only MORE than 10 consecutive failures of
// one sender pause it. With 2% of sends refused at random (fixed seed), eleven in a row is
// essentially impossible (0.02^11), so no sender may be paused and every lead gets its mail.
TEST_P(SchedulerTest, RandomTransientRefusalsNeverPauseASender) {
  MakeCampaign({0, 60}, /*senders=*/4, /*quota=*/400);
  ASSERT_TRUE(Exec("sched_test.campaign_all_day", {campaign_}).ok());
#ifdef KILN_SANITIZED
  const int kLeads = 150;
#else
  const int kLeads = 600;
#endif
  for (int i = 0; i < kLeads; ++i) {
    AddLead("r" + std::to_string(i) + "@example" + std::to_string(i % 5) + ".test", "R", "");
  }
  refusals_.percent = 2;
  refusals_.rng = domain::Rng(20261122);
  refusals_.answer = Failure(mail::SendResult::Class::kTransient, 451, "4.3.0",
                             mail::SmtpFailure::kRecipients, "451 4.3.0 try again later");
  auto scheduler = MakeScheduler({}, [](SchedulerOptions& o) {
    o.pacing = {.min_gap_ms = kMinute, .jitter_percent = 0};
    o.domain_hourly_cap = 3;
  });
  RunUntil(*scheduler, kStart + 4 * kDay, kMinute);

  int refused = 0;
  std::map<int64_t, int> run, longest;  // consecutive refusals per sender, as the server saw them
  for (const SentMail& m : log_) {
    if (m.refused) {
      ++refused;
      longest[m.sender_id] = std::max(longest[m.sender_id], ++run[m.sender_id]);
    } else {
      run[m.sender_id] = 0;
    }
  }
  EXPECT_GT(refused, kLeads / 100);  // the refusals did happen (2% of ~2 attempts per lead)
  for (int64_t id : sender_ids_) {
    auto st = Row("sched_test.sender_status", {id});
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->Text("status"), "active") << "sender " << id << ": " << st->Text("status_reason")
                                            << " (longest run of refusals " << longest[id] << ")";
  }
  // Every lead got both steps exactly once (the refused attempts were retried).
  EXPECT_EQ(Row("sched_test.sent_count", {campaign_})->Int("n"), 2 * kLeads);
  std::map<std::string, int> accepted;
  for (const SentMail& m : log_) {
    if (!m.refused) ++accepted[m.rcpt];
  }
  EXPECT_EQ(accepted.size(), static_cast<size_t>(kLeads));
  for (const auto& [rcpt, n] : accepted) EXPECT_EQ(n, 2) << rcpt;
}

// The server defers everything for 15 minutes (say 421 while it restarts): the sender backs
// off attempt by attempt at its pacing gap and carries on afterwards. Before, one tick tried lead
// after lead into the outage and paused the sender with "11 consecutive failures" within a second.
TEST_P(SchedulerTest, ShortServerOutageDoesNotPauseTheSender) {
  MakeCampaign({0}, /*senders=*/1, /*quota=*/400);
  ASSERT_TRUE(Exec("sched_test.campaign_all_day", {campaign_}).ok());
  for (int i = 0; i < 40; ++i) AddLead("o" + std::to_string(i) + "@example.test", "O", "");
  refusals_.outage_from_ms = kStart + 10 * kMinute;
  refusals_.outage_until_ms = kStart + 25 * kMinute;
  refusals_.answer = Failure(mail::SendResult::Class::kTransient, 421, "4.3.2",
                             mail::SmtpFailure::kNetwork, "421 4.3.2 service shutting down");
  auto scheduler = MakeScheduler(
      {}, [](SchedulerOptions& o) { o.pacing = {.min_gap_ms = kMinute, .jitter_percent = 0}; });
  RunUntil(*scheduler, kStart + 2 * kDay, kMinute);
  auto st = Row("sched_test.sender_status", {sender_ids_[0]});
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->Text("status"), "active") << st->Text("status_reason");
  int refused = 0;
  for (size_t i = 0; i < log_.size(); ++i) {
    if (log_[i].refused) ++refused;
    if (i > 0) {
      EXPECT_GE(log_[i].at_ms - log_[i - 1].at_ms, kMinute) << "attempt " << i;
    }
  }
  EXPECT_GE(refused, 2);
  EXPECT_LE(refused, 10);  // one attempt per pacing gap (~4 minutes here) during the outage
  EXPECT_EQ(Row("sched_test.sent_count", {campaign_})->Int("n"), 40);
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

// Quoted-printable soft breaks and =XX escapes undone, so a test can read an HTML part.
std::string DecodeQp(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=' && i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
      i += 2;
    } else if (s[i] == '=' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// A sender in warm-up (its end date ahead) sends only warm-up mail, at the plan's ramp volume on
// each day of its own calendar (Asia/Tokyo here), and no cold mail at all.
TEST_P(SchedulerTest, SenderInWarmupSendsTheRampAndNoColdMail) {
  MakeCampaign({0}, 1, 50);
  for (int i = 0; i < 20; ++i) AddLead("w" + std::to_string(i) + "@example.test", "W", "");
  const int64_t sender = sender_ids_[0];
  // Plan: 3 on the first Tokyo day, +2 a day, at most 6; ends in 10 days.
  ASSERT_TRUE(
      Exec("sched_test.sender_warmup", {sender, kStart + 10 * kDay, kStart, 3, 2, 6, "Asia/Tokyo"})
          .ok());
  FakeWarmupSource warmup;
  auto scheduler = MakeScheduler({}, [&](SchedulerOptions& o) { o.warmup = &warmup; });
  RunUntil(*scheduler, kStart + 4 * kDay);

  // Per Tokyo day (UTC+9): kStart is 09:00 on Jan 5 in Tokyo, so the first day is Jan 5.
  std::map<int64_t, int> per_day;
  auto tokyo = zones_.Get("Asia/Tokyo");
  ASSERT_TRUE(tokyo.ok());
  for (const SentMail& m : log_) {
    EXPECT_EQ(m.rcpt, "bot@warm.test") << "cold mail during warm-up";
    EXPECT_EQ(Header(m.data, "List-Unsubscribe"), "") << "warm-up mail carries no unsubscribe";
    EXPECT_EQ(Header(m.data, "X-Kiln-Warmup"), "t" + std::to_string(sender));
    ++per_day[domain::FloorDiv((*tokyo)->ToLocalMillis(m.at_ms), kDay)];
  }
  const int64_t first = domain::FloorDiv((*tokyo)->ToLocalMillis(kStart), kDay);
  EXPECT_EQ(per_day[first], 3);
  EXPECT_EQ(per_day[first + 1], 5);
  EXPECT_EQ(per_day[first + 2], 6);
  EXPECT_EQ(per_day[first + 3], 6);
  EXPECT_EQ(Row("sched_test.sent_count", {campaign_})->Int("n"), 0);
  for (const auto& [id, ok] : warmup.recorded) EXPECT_TRUE(ok) << id;
  EXPECT_EQ(warmup.recorded.size(), log_.size());
  auto today = scheduler->SenderToday(sender);
  ASSERT_TRUE(today.has_value());
  EXPECT_TRUE(today->allowance.in_warmup);
  EXPECT_EQ(today->cold_sent, 0);
}

// After warm-up, a sender's day mixes warm-up mail at the campaign's share, spread through the
// day rather than in a block; a sender in no running campaign still warms up during its ramp.
TEST_P(SchedulerTest, WarmupShareIsMixedIntoTheDayAndIdleSendersWarmUp) {
  MakeCampaign({0}, 1, 10);
  ASSERT_TRUE(Exec("sched_test.campaign_mix", {campaign_, 20}).ok());
  ASSERT_TRUE(Exec("sched_test.campaign_all_day", {campaign_}).ok());
  for (int i = 0; i < 40; ++i) AddLead("m" + std::to_string(i) + "@example.test", "M", "");
  const int64_t idle =
      Row("sched_test.sender_only", {ws_, "idle@kiln-a.test", 50, kStart})->Int("id");
  ASSERT_TRUE(
      Exec("sched_test.sender_warmup", {idle, kStart + 30 * kDay, kStart, 4, 1, 20, "UTC"}).ok());
  FakeWarmupSource warmup;
  auto scheduler = MakeScheduler({}, [&](SchedulerOptions& o) { o.warmup = &warmup; });
  RunUntil(*scheduler, kStart + kDay);  // Monday, UTC

  std::vector<const SentMail*> campaign_sender;
  int idle_warm = 0;
  for (const SentMail& m : log_) {
    if (m.sender_id == idle) {
      EXPECT_EQ(m.rcpt, "bot@warm.test");
      ++idle_warm;
    } else {
      campaign_sender.push_back(&m);
    }
  }
  EXPECT_EQ(idle_warm, 4);                 // the ramp's first day
  ASSERT_EQ(campaign_sender.size(), 10u);  // the daily quota: 8 cold + 2 warm-up
  int warm = 0;
  for (const SentMail* m : campaign_sender) warm += m->rcpt == "bot@warm.test";
  EXPECT_EQ(warm, 2);
  // Not both at the start: the first warm-up send comes after some cold ones.
  EXPECT_NE(campaign_sender[0]->rcpt, "bot@warm.test");
  EXPECT_NE(campaign_sender[1]->rcpt, "bot@warm.test");
}

// Senders below engine_min_health_score send no cold mail (warm-up goes on); the healthy one
// takes the leads.
TEST_P(SchedulerTest, UnhealthySenderSendsNoColdMailButKeepsWarmingUp) {
  MakeCampaign({0}, 2, 20);
  ASSERT_TRUE(Exec("sched_test.campaign_mix", {campaign_, 50}).ok());
  ASSERT_TRUE(Exec("sched_test.campaign_all_day", {campaign_}).ok());
  ASSERT_TRUE(Exec("sched_test.sender_health", {sender_ids_[0], 30}).ok());
  for (int i = 0; i < 10; ++i) AddLead("h" + std::to_string(i) + "@example.test", "H", "");
  FakeWarmupSource warmup;
  auto scheduler = MakeScheduler({}, [&](SchedulerOptions& o) {
    o.warmup = &warmup;
    o.rotation.min_health_score = 50;
  });
  RunUntil(*scheduler, kStart + kDay);
  int cold_unhealthy = 0, warm_unhealthy = 0, cold_healthy = 0;
  for (const SentMail& m : log_) {
    const bool warm = m.rcpt == "bot@warm.test";
    if (m.sender_id == sender_ids_[0]) {
      (warm ? warm_unhealthy : cold_unhealthy)++;
    } else if (!warm) {
      ++cold_healthy;
    }
  }
  EXPECT_EQ(cold_unhealthy, 0);
  EXPECT_EQ(warm_unhealthy, 10);  // half of its quota of 20
  EXPECT_EQ(cold_healthy, 10);
}

// At most N cold sends from one sender to one recipient domain in any rolling hour; the other
// domains are not held up.
TEST_P(SchedulerTest, PerRecipientDomainHourlyCap) {
  MakeCampaign({0}, 1, 200);
  for (int i = 0; i < 30; ++i) AddLead("d" + std::to_string(i) + "@same.test", "D", "");
  for (int i = 0; i < 10; ++i) AddLead("o" + std::to_string(i) + "@other.test", "O", "");
  auto scheduler = MakeScheduler({}, [&](SchedulerOptions& o) {
    o.pacing = {.min_gap_ms = kMinute, .jitter_percent = 0};
    o.domain_hourly_cap = 4;
  });
  RunUntil(*scheduler, kStart + kDay, kMinute);
  std::vector<int64_t> same;
  int other = 0;
  for (const SentMail& m : log_) {
    if (m.rcpt.ends_with("@same.test"))
      same.push_back(m.at_ms);
    else
      ++other;
  }
  EXPECT_EQ(same.size(), 30u);
  EXPECT_EQ(other, 10);
  for (size_t i = 4; i < same.size(); ++i) {
    EXPECT_GE(same[i] - same[i - 4], 60 * kMinute) << "5 sends to same.test within an hour";
  }
}

// A hard-bounce rate above 3% once 50 sends are in pauses the sender and the running campaign,
// with the numbers as the reason; bounces found later (the inbox watcher's, in the database)
// count the same way.
TEST_P(SchedulerTest, HardBounceRatePausesSenderAndCampaign) {
  MakeCampaign({0}, 1, 500);
  for (int i = 0; i < 80; ++i) AddLead("b" + std::to_string(i) + "@example.test", "B", "");
  auto scheduler = MakeScheduler(
      {}, [&](SchedulerOptions& o) { o.pacing = {.min_gap_ms = kMinute, .jitter_percent = 0}; });
  // 60 sends, all accepted at SMTP time.
  while (Row("sched_test.sent_count", {campaign_})->Int("n") < 60) {
    ASSERT_TRUE(scheduler->RunOnce().ok());
    clock_.Advance(Millis(kMinute));
    ASSERT_LT(clock_.NowMillis(), kStart + 2 * kDay);
  }
  EXPECT_EQ(Row("sched_test.campaign_status", {campaign_})->Text("status"), "running");
  // The inbox watcher finds 2 of them bounced: 2/60 = 3.33% > 3%.
  ASSERT_TRUE(Exec("sched_test.mark_bounced", {campaign_, clock_.NowMillis(), 2}).ok());
  const size_t before = log_.size();
  RunUntil(*scheduler, clock_.NowMillis() + 10 * kMinute, kMinute);
  auto sender = Row("sched_test.sender_status", {sender_ids_[0]});
  EXPECT_EQ(sender->Text("status"), "paused");
  EXPECT_NE(sender->Text("status_reason").find("hard-bounce rate 3.3"), std::string::npos)
      << sender->Text("status_reason");
  auto campaign = Row("sched_test.campaign_status", {campaign_});
  EXPECT_EQ(campaign->Text("status"), "paused");
  EXPECT_NE(campaign->Text("paused_reason").find("sender1@kiln-a.test"), std::string::npos)
      << campaign->Text("paused_reason");
  EXPECT_NE(campaign->Text("paused_reason").find("of 6"), std::string::npos)
      << campaign->Text("paused_reason");
  EXPECT_LE(log_.size(), before + 1);  // at most the send of the tick that found it
}

// The same rule at SMTP time: permanent refusals count at once.
TEST_P(SchedulerTest, SmtpTimeBouncesPauseTheSenderWhenTheRateIsTooHigh) {
  MakeCampaign({0}, 1, 500);
  for (int i = 0; i < 80; ++i) {
    const std::string email = "s" + std::to_string(i) + "@example.test";
    AddLead(email, "S", "");
    if (i % 10 == 9) {  // 10%
      per_rcpt_[email] = Failure(mail::SendResult::Class::kPermanent, 550, "5.1.1",
                                 mail::SmtpFailure::kRecipients, "550 5.1.1 no such user");
    }
  }
  auto scheduler = MakeScheduler(
      {}, [&](SchedulerOptions& o) { o.pacing = {.min_gap_ms = kMinute, .jitter_percent = 0}; });
  RunUntil(*scheduler, kStart + 2 * kDay, kMinute);
  EXPECT_EQ(Row("sched_test.sender_status", {sender_ids_[0]})->Text("status"), "paused");
  EXPECT_EQ(Row("sched_test.campaign_status", {campaign_})->Text("status"), "paused");
  EXPECT_EQ(log_.size(), 50u);  // paused on the 50th: 5 of 50 bounced
}

// Open pixel and click redirects in cold HTML: every http(s) link goes through /c/ with a token
// that verifies to the original URL; the unsubscribe link is left alone; plain-text-only
// campaigns send no HTML at all.
TEST_P(SchedulerTest, TrackingRewritesLinksButNeverTheUnsubscribeLink) {
  ws_ = Row("sched_test.workspace", {kStart})->Int("id");
  campaign_ = Row("sched_test.campaign",
                  {ws_, R"({"days":[1,2,3,4,5],"start":"00:00","end":"24:00"})", "UTC", 0, kStart})
                  ->Int("id");
  const int64_t step = Row("sched_test.step", {ws_, campaign_, 0, 0, kStart})->Int("id");
  ASSERT_TRUE(Row("sched_test.variant",
                  {ws_, step, "Hi",
                   "<html><body><p>See <a href=\"https://example.com/p?a=1&amp;b=2\">this</a> and "
                   "<a href='http://docs.example.com/'>that</a>, <a href=\"mailto:x@y.test\">mail"
                   "</a>. <a href=\"{{ unsubscribe_url }}\">unsubscribe</a></p></body></html>",
                   "", kStart})
                  .ok());
  const int64_t sender =
      Row("sched_test.sender", {ws_, "sender1@kiln-a.test", 50, kStart})->Int("id");
  ASSERT_TRUE(Exec("sched_test.pool", {campaign_, sender, ws_, kStart}).ok());
  AddLead("t1@example.test", "T", "");
  auto scheduler = MakeScheduler();
  RunUntil(*scheduler, kStart + kDay);
  ASSERT_EQ(log_.size(), 1u);
  const std::string decoded = DecodeQp(log_[0].data);
  const std::string body = decoded.substr(decoded.find("Content-Type: text/html"));
  std::vector<std::string> clicks;
  for (size_t p = body.find("https://kiln.example.com/c/"); p != std::string::npos;
       p = body.find("https://kiln.example.com/c/", p + 1)) {
    const size_t end = body.find_first_of("\"'", p);
    clicks.push_back(body.substr(p, end - p));
  }
  ASSERT_EQ(clicks.size(), 2u) << body;
  const std::string key(32, 'k');
  auto first = api::VerifyToken(key, clicks[0].substr(clicks[0].rfind('/') + 1));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->url, "https://example.com/p?a=1&b=2");
  EXPECT_EQ(first->link_index, 0);
  EXPECT_EQ(first->workspace_id, ws_);
  auto second = api::VerifyToken(key, clicks[1].substr(clicks[1].rfind('/') + 1));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->url, "http://docs.example.com/");
  EXPECT_NE(body.find("href=\"mailto:x@y.test\""), std::string::npos);
  const std::string unsub = Header(log_[0].data, "List-Unsubscribe");
  ASSERT_GT(unsub.size(), 2u);
  EXPECT_NE(body.find("href=\"" + unsub.substr(1, unsub.size() - 2) + "\""), std::string::npos)
      << "the unsubscribe link must stay as it is";
  const size_t pixel = body.find("https://kiln.example.com/o/");
  ASSERT_NE(pixel, std::string::npos);
  EXPECT_LT(pixel, body.find("</body>"));

  // Plain text only: no HTML part, no pixel, no tracked links.
  ASSERT_TRUE(Exec("sched_test.campaign_tracking", {campaign_, 1, 1, 1}).ok());
  AddLead("t2@example.test", "T", "");
  RunUntil(*scheduler, kStart + 2 * kDay);
  ASSERT_EQ(log_.size(), 2u);
  EXPECT_EQ(log_[1].data.find("text/html"), std::string::npos);
  EXPECT_EQ(log_[1].data.find("/o/"), std::string::npos);
  EXPECT_NE(DecodeQp(log_[1].data).find("this"), std::string::npos);
}

// A worker that started with nothing to do takes the sender of a campaign launched later at its
// next refresh, not a third of a lease later (the e2e flow launches into a running worker).
TEST_P(SchedulerTest, SenderOfACampaignLaunchedLaterIsTakenAtTheNextRefresh) {
  auto scheduler = MakeScheduler({}, [](SchedulerOptions& o) {
    o.lease = Millis(60 * kMinute);
    o.refresh = Millis(kMinute);
  });
  RunUntil(*scheduler, kStart + 2 * kMinute, 30'000);  // nothing to hold yet
  MakeCampaign({0}, 1, 50);
  ASSERT_TRUE(Exec("sched_test.campaign_all_day", {campaign_}).ok());
  AddLead("late@example.test", "L", "");
  RunUntil(*scheduler, clock_.NowMillis() + 10 * kMinute, 30'000);  // pacing: 5 min ± 40%
  ASSERT_EQ(log_.size(), 1u) << "a lease/3 (20 min) wait would leave the lead unsent";
}

// Custom tracking domains: the sender's domain carries its links and unsubscribe URL, and a
// campaign's own domain wins over the sender's (issue 6 §2); the scheme stays public_url's.
TEST_P(SchedulerTest, TrackingLinksUseTheCampaignsElseTheSendersTrackingDomain) {
  ws_ = Row("sched_test.workspace", {kStart})->Int("id");
  campaign_ = Row("sched_test.campaign",
                  {ws_, R"({"days":[1,2,3,4,5],"start":"00:00","end":"24:00"})", "UTC", 0, kStart})
                  ->Int("id");
  const int64_t step = Row("sched_test.step", {ws_, campaign_, 0, 0, kStart})->Int("id");
  ASSERT_TRUE(Row("sched_test.variant",
                  {ws_, step, "Hi",
                   "<html><body><p>See <a href=\"https://example.com/p\">this</a>. "
                   "<a href=\"{{ unsubscribe_url }}\">unsubscribe</a></p></body></html>",
                   "", kStart})
                  .ok());
  const int64_t sender =
      Row("sched_test.sender", {ws_, "sender1@kiln-a.test", 50, kStart})->Int("id");
  ASSERT_TRUE(Exec("sched_test.sender_tracking_domain", {sender, "track.kiln-a.test"}).ok());
  ASSERT_TRUE(Exec("sched_test.pool", {campaign_, sender, ws_, kStart}).ok());
  AddLead("t1@example.test", "T", "");
  auto scheduler = MakeScheduler();
  RunUntil(*scheduler, kStart + kDay);
  ASSERT_EQ(log_.size(), 1u);
  auto check = [&](const std::string& data, const std::string& origin) {
    EXPECT_EQ(Header(data, "List-Unsubscribe").rfind("<" + origin + "/u/", 0), 0u)
        << Header(data, "List-Unsubscribe");
    const std::string body = DecodeQp(data);
    EXPECT_NE(body.find(origin + "/o/"), std::string::npos) << "pixel on " << origin;
    EXPECT_NE(body.find(origin + "/c/"), std::string::npos) << "click link on " << origin;
    EXPECT_EQ(body.find("https://kiln.example.com/"), std::string::npos)
        << "no link on public_url's host";
  };
  check(log_[0].data, "https://track.kiln-a.test");

  ASSERT_TRUE(Exec("sched_test.campaign_tracking_domain", {campaign_, "links.acme.test"}).ok());
  AddLead("t2@example.test", "T", "");
  RunUntil(*scheduler, kStart + 2 * kDay);
  ASSERT_EQ(log_.size(), 2u);
  check(log_[1].data, "https://links.acme.test");
}

// Two workers on one database split the senders (each holds at most its fair share); when one
// stops, the other takes its senders once their leases lapse.
TEST_P(SchedulerTest, WorkersShareSendersFairly) {
  MakeCampaign({0}, 4, 50);
  AddLead("x@example.test", "X", "");
  auto a = MakeScheduler({}, [](SchedulerOptions& o) {
    o.worker_id = "worker-a";
    o.lease = Millis(10 * kMinute);
  });
  auto b = MakeScheduler({}, [](SchedulerOptions& o) {
    o.worker_id = "worker-b";
    o.lease = Millis(10 * kMinute);
  });
  ASSERT_TRUE(a->RunOnce().ok());
  EXPECT_EQ(a->HeldSenders().size(), 4u);  // alone: all of them
  ASSERT_TRUE(b->RunOnce().ok());
  EXPECT_EQ(b->HeldSenders().size(), 0u);  // nothing free yet
  // Both heartbeat; at the next refresh a gives back what is over ceil(4 / 2), b takes it.
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(Millis(4 * kMinute));
    ASSERT_TRUE(a->RunOnce().ok());
    ASSERT_TRUE(b->RunOnce().ok());
  }
  EXPECT_EQ(a->HeldSenders().size(), 2u);
  EXPECT_EQ(b->HeldSenders().size(), 2u);
  for (int64_t id : b->HeldSenders()) {
    EXPECT_EQ(Row("sched_test.lease_owner", {id})->Text("lease_owner"), "worker-b");
  }
  // b stops ticking, as a killed process would (no release): within a lease plus a refresh, a
  // holds all four again.
  for (int i = 0; i < 6; ++i) {
    clock_.Advance(Millis(4 * kMinute));
    ASSERT_TRUE(a->RunOnce().ok());
  }
  EXPECT_EQ(a->HeldSenders().size(), 4u);
}

// Decision 0011: the heartbeat is the lease. A worker that stood still for longer than a lease
// (its heartbeat lapsed) finds at its next refresh that another worker took its senders, drops
// them from memory instead of sending for them, and gets its fair share back later.
TEST_P(SchedulerTest, AWorkerWhoseHeartbeatLapsedDropsTheSendersTakenMeanwhile) {
  MakeCampaign({0}, 4, 50);
  AddLead("x@example.test", "X", "");
  auto options = [](const char* id) {
    return [id](SchedulerOptions& o) {
      o.worker_id = id;
      o.lease = Millis(10 * kMinute);
    };
  };
  auto a = MakeScheduler({}, options("worker-a"));
  ASSERT_TRUE(a->RunOnce().ok());
  ASSERT_EQ(a->HeldSenders().size(), 4u);
  // Within the lease nobody else may take them, however often another worker looks.
  auto b = MakeScheduler({}, options("worker-b"));
  clock_.Advance(Millis(9 * kMinute));
  ASSERT_TRUE(b->RunOnce().ok());
  EXPECT_EQ(b->HeldSenders().size(), 0u) << "a lease was taken before its holder's heartbeat "
                                            "was a lease old";
  // a stands still past its lease: at its next fair share b, alone among the live workers,
  // takes all four.
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(Millis(kMinute));
    ASSERT_TRUE(b->RunOnce().ok());
  }
  EXPECT_EQ(b->HeldSenders().size(), 4u);
  for (int64_t id : b->HeldSenders()) {
    EXPECT_EQ(Row("sched_test.lease_owner", {id})->Text("lease_owner"), "worker-b");
  }
  // a wakes up: it holds nothing any more, in memory or in the database.
  ASSERT_TRUE(a->RunOnce().ok());
  EXPECT_EQ(a->HeldSenders().size(), 0u) << "a kept senders another worker had taken";
  EXPECT_FALSE(a->NextSendAt().has_value());
  // Both live again: at the next fair shares they split the senders.
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(Millis(4 * kMinute));
    ASSERT_TRUE(b->RunOnce().ok());
    ASSERT_TRUE(a->RunOnce().ok());
  }
  EXPECT_EQ(a->HeldSenders().size(), 2u);
  EXPECT_EQ(b->HeldSenders().size(), 2u);
}

// Decision 0010: while one sender's exchange is in flight, other due senders' messages are
// claimed, built and sent. The first exchange is held until another sender's exchange starts, so
// with one send at a time the first would wait out its bound and the order below would not hold.
TEST_P(SchedulerTest, AnotherSendersMessageGoesOutWhileOneExchangeIsInFlight) {
  MakeCampaign({0}, /*senders=*/2, /*quota=*/50);
  ASSERT_TRUE(Exec("sched_test.campaign_all_day", {campaign_}).ok());
  AddLead("a@example.test", "A", "");
  AddLead("b@example.test", "B", "");
  Exchanges x;
  x.expected = 2;
  auto scheduler = MakeOverlappingScheduler(&x);
  auto t = scheduler->RunOnce();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->sent, 2);
  EXPECT_EQ(x.timed_out, 0);
  ASSERT_EQ(x.events.size(), 4u);
  // start (first sender), start (the other sender), then the ends: the first exchange was still
  // open when the second began.
  EXPECT_TRUE(x.events[0].start);
  EXPECT_TRUE(x.events[1].start);
  EXPECT_NE(x.events[0].sender_id, x.events[1].sender_id);
  EXPECT_NE(x.events[0].rcpt, x.events[1].rcpt);
  EXPECT_EQ(x.max_active_total, 2);
  EXPECT_EQ(Row("sched_test.sent_count", {campaign_})->Int("n"), 2);
}

// Many leads, three senders, no pacing gap, at most two exchanges at once: exchanges overlap up
// to the bound and never two of one sender; each claim is committed before its exchange starts;
// every lead gets exactly one message. (Each exchange is held until the next one starts, so a
// scheduler that sent one at a time would leave every exchange to time out.)
TEST_P(SchedulerTest, ConcurrentSendsKeepTheBoundAndOneExchangePerSender) {
  // A quota this large spaces a sender's sends over its day by next to nothing: every sender is
  // due again as soon as its exchange is settled, so the whole campaign goes in one tick.
  MakeCampaign({0}, /*senders=*/3, /*quota=*/1'000'000'000);
  ASSERT_TRUE(Exec("sched_test.campaign_all_day", {campaign_}).ok());
  const int kLeads = 30;
  for (int i = 0; i < kLeads; ++i) AddLead("c" + std::to_string(i) + "@example.test", "C", "");
  Exchanges x;
  x.expected = kLeads;
  int not_claimed_first = 0;
  x.on_start = [&](const std::string& rcpt) {
    auto m = Row("sched_test.message_state", {campaign_, rcpt});
    if (!m.ok() || m->Text("status") != "sending" || m->Text("claimed_by") != "test-worker" ||
        m->IsNull("lease_until")) {
      ++not_claimed_first;
    }
  };
  auto scheduler =
      MakeOverlappingScheduler(&x, [](SchedulerOptions& o) { o.max_concurrent_sends = 2; });
  int sent = 0;
  for (int tick = 0; tick < 50 && sent < kLeads; ++tick) {
    auto t = scheduler->RunOnce();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    sent += t->sent;
    clock_.Advance(Millis(kMinute));
  }
  EXPECT_EQ(sent, kLeads);
  EXPECT_EQ(x.timed_out, 0);
  EXPECT_EQ(not_claimed_first, 0) << "an exchange began before its claim was committed";
  EXPECT_EQ(x.max_active_total, 2);
  ASSERT_EQ(x.max_active.size(), 3u);
  for (const auto& [sender, n] : x.max_active) EXPECT_EQ(n, 1) << "sender " << sender;
  std::map<std::string, int> per_rcpt;
  for (const auto& e : x.events) {
    if (e.start) ++per_rcpt[e.rcpt];
  }
  EXPECT_EQ(per_rcpt.size(), static_cast<size_t>(kLeads));
  for (const auto& [rcpt, n] : per_rcpt) EXPECT_EQ(n, 1) << rcpt;
  EXPECT_EQ(Row("sched_test.sent_count", {campaign_})->Int("n"), kLeads);
}

// A crash with exchanges in flight (decision 0004): every message whose exchange began is
// `sending` under this worker, so a restarted worker reaps each as `unknown` after the lease and
// never resends it. (The worker here is not killed: it is held mid-exchange on its own thread while
// the database is looked at, and then lets go: its late records settle the reaped claims as sent,
// which is what the server said.)
TEST_P(SchedulerTest, ExchangesInFlightAtACrashAreClaimedAndReapedAsUnknown) {
  MakeCampaign({0}, /*senders=*/2, /*quota=*/50);
  ASSERT_TRUE(Exec("sched_test.campaign_all_day", {campaign_}).ok());
  AddLead("a@example.test", "A", "");
  AddLead("b@example.test", "B", "");
  Exchanges x;
  x.hold_all = true;
  const Millis lease(10 * kMinute);
  auto scheduler = MakeOverlappingScheduler(&x, [&](SchedulerOptions& o) { o.lease = lease; });
  Result<TickStats> tick = Status::Internal("the tick did not run");
  std::thread worker([&] { tick = scheduler->RunOnce(); });
  const bool both = x.WaitStarted(2);
  EXPECT_TRUE(both) << "the second sender's exchange never began while the first was held";
  if (both) {
    auto states = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("sched_test.message_states", {campaign_}));
      EXPECT_EQ(rows.size(), 2u);
      for (const auto& r : rows) {
        EXPECT_EQ(r.Text("status"), "sending");
        EXPECT_EQ(r.Text("claimed_by"), "test-worker");
      }
      return Status::Ok();
    });
    EXPECT_TRUE(states.ok()) << states.ToString();
    // What a restarted worker finds once the lease has lapsed.
    clock_.Advance(lease + Millis(kMinute));
    Ledger restarted(*db_, clock_, "restarted-worker", lease);
    auto reaped = restarted.ReapLapsed();
    ASSERT_TRUE(reaped.ok()) << reaped.status().ToString();
    EXPECT_EQ(*reaped, 2);
    auto unknown = restarted.CountUnknown(ws_, campaign_);
    ASSERT_TRUE(unknown.ok());
    EXPECT_EQ(*unknown, 2);
  }
  // The day's counts behind the quotas and the campaign's daily limit (the day is UTC's, with
  // room on both sides): a claim whose outcome is unknown may have gone out, so it counts, and
  // once settled as sent it still counts once.
  const int64_t day_start = clock_.NowMillis() - 6 * 60 * kMinute;
  const int64_t day_end = clock_.NowMillis() + 6 * 60 * kMinute;
  auto expect_counts = [&](const char* when) {
    EXPECT_EQ(Row("engine.campaign_sends_between", {campaign_, day_start, day_end})->Int("n"), 2)
        << when;
    int64_t cold = 0;
    for (int64_t sender : sender_ids_) {
      cold += Row("engine.sender_day_counts", {sender, day_start, day_end})->Int("cold");
    }
    EXPECT_EQ(cold, 2) << when;
    EXPECT_EQ(
        Row("engine.campaign_sends_between", {campaign_, day_end, day_end + kMinute})->Int("n"), 0)
        << when << ": another day";
  };
  if (both) expect_counts("unknown");
  x.Release();
  worker.join();
  ASSERT_TRUE(tick.ok()) << tick.status().ToString();
  EXPECT_EQ(x.timed_out, 0);
  EXPECT_EQ(x.started, 2);  // nothing was sent twice
  EXPECT_EQ(Row("sched_test.sent_count", {campaign_})->Int("n"), 2);
  expect_counts("settled as sent");
}

// rotation.h: a follow-up sticks to the sender of the first step. When that sender cannot send at
// the follow-up's due time (paced: its next send hours away; spent: its daily quota used up) while
// another sender of the pool is free and sending, the follow-up waits for its own sender: it is not
// sent by the other one, and not lost: it goes out from its sender when that one may send again.
TEST_P(SchedulerTest, FollowUpWaitsForItsSenderWhileItIsPaced) {
  // Quota 3 with no jitter: after the first send at 00:00 the next is 12 hours later.
  FollowUpWaitsForItsOwnSender(3);
}

TEST_P(SchedulerTest, FollowUpWaitsForItsSenderWhileItsQuotaIsSpent) {
  // Quota 1: spent by the first step; the sender's next send is at its next day.
  FollowUpWaitsForItsOwnSender(1);
}

// The same while the follow-ups' sender is mid-exchange: two leads' follow-ups stick to A and
// are due in the same tick, with B free and due. The first follow-up's exchange on A is held
// open; the second waits for it to end and then goes out from A as well, never from B.
TEST_P(SchedulerTest, FollowUpWaitsForItsSenderWhileItIsMidExchange) {
  MakeCampaign({0, 60}, /*senders=*/1, /*quota=*/1'000'000'000);
  ASSERT_TRUE(Exec("sched_test.campaign_all_day", {campaign_}).ok());
  const int64_t a = sender_ids_[0];
  AddLead("f0@example.test", "F", "");
  AddLead("f1@example.test", "F", "");
  Exchanges x;
  x.expected = 0;  // step 1: nothing held
  auto scheduler = MakeOverlappingScheduler(&x);
  auto t = scheduler->RunOnce();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->sent, 2);

  const int64_t b =
      Row("sched_test.sender_only", {ws_, "sender-b@kiln-a.test", 1'000'000'000, kStart})
          ->Int("id");
  ASSERT_TRUE(Exec("sched_test.pool", {campaign_, b, ws_, kStart}).ok());
  // Follow-ups: each exchange is held until the next one starts, or for half a second (the last
  // one, or one that the scheduler rightly waits for: nothing else may start meanwhile).
  {
    std::lock_guard lock(x.mu);
    x.expected = 1'000'000;
    x.bound = std::chrono::milliseconds(500);
    x.events.clear();
  }
  clock_.Advance(Millis(61 * kMinute));
  for (int tick = 0; tick < 5; ++tick) {
    ASSERT_TRUE(scheduler->RunOnce().ok());
    clock_.Advance(Millis(kMinute));
  }
  std::map<std::string, std::vector<int64_t>> senders_of;  // follow-up exchanges per lead
  for (const auto& e : x.events) {
    if (e.start) senders_of[e.rcpt].push_back(e.sender_id);
  }
  for (const char* rcpt : {"f0@example.test", "f1@example.test"}) {
    ASSERT_EQ(senders_of[rcpt].size(), 1u) << rcpt << ": follow-up lost or sent twice";
    EXPECT_EQ(senders_of[rcpt][0], a) << rcpt << ": follow-up from another sender";
  }
  for (const auto& [sender, n] : x.max_active) EXPECT_LE(n, 1) << "sender " << sender;
  EXPECT_EQ(Row("sched_test.sent_count", {campaign_})->Int("n"), 4);
}

// senders.consecutive_failures: a warm-up success sets it back to 0 whether the failures were
// counted by this worker or found in the row when the sender was taken (a previous worker's);
// a success after failures resets it; more than 10 failures in a row, across refreshes, still
// pause the sender. (Successes skip the write when the counter is known to be 0.)
TEST_P(SchedulerTest, WarmupSuccessResetsTheFailureCounterAndFailuresStillPause) {
  ws_ = Row("sched_test.workspace", {kStart})->Int("id");
  const int64_t id =
      Row("sched_test.sender_only", {ws_, "warm@kiln-a.test", 50, kStart})->Int("id");
  ASSERT_TRUE(
      Exec("sched_test.sender_warmup", {id, kStart + 30 * kDay, kStart, 40, 0, 40, "UTC"}).ok());
  ASSERT_TRUE(Exec("sched_test.set_failures", {id, 10}).ok());  // left by a previous worker
  refusals_.answer = Failure(mail::SendResult::Class::kTransient, 421, "4.3.2",
                             mail::SmtpFailure::kNetwork, "421 4.3.2 try later");
  // The next `refuse` sends are refused (an outage as long as that).
  int refuse = 0;
  on_send_ = [&](const SentMail&) {
    refusals_.outage_from_ms = 0;
    refusals_.outage_until_ms = refuse > 0 ? std::numeric_limits<int64_t>::max() : 0;
    if (refuse > 0) --refuse;
  };
  FakeWarmupSource warmup;
  auto scheduler = MakeScheduler({}, [&](SchedulerOptions& o) {
    o.warmup = &warmup;
    o.pacing = {.min_gap_ms = kMinute, .jitter_percent = 0};
  });
  auto failures = [&] { return Row("sched_test.failures", {id})->Int("n"); };
  ASSERT_TRUE(scheduler->RunOnce().ok());
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_FALSE(log_[0].refused);
  EXPECT_EQ(failures(), 0) << "the success did not reset the counter it found in the row";

  // Three refusals in a row (one a minute), then a success.
  refuse = 3;
  int64_t most = 0;
  while (log_.size() < 5) {
    ASSERT_TRUE(scheduler->RunOnce().ok());
    most = std::max(most, failures());
    clock_.Advance(Millis(kMinute));
    ASSERT_LT(clock_.NowMillis(), kStart + 2 * kDay);
  }
  EXPECT_EQ(most, 3);
  EXPECT_FALSE(log_.back().refused);
  EXPECT_EQ(failures(), 0) << "the success after failures did not reset the counter";
  EXPECT_EQ(Row("sched_test.failures", {id})->Text("status"), "active");

  // A long outage: refused once a minute across many refreshes, paused at the 11th in a row.
  refuse = 1000;
  const size_t before = log_.size();
  RunUntil(*scheduler, clock_.NowMillis() + 60 * kMinute, kMinute);
  auto row = Row("sched_test.failures", {id});
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->Text("status"), "paused");
  EXPECT_NE(row->Text("status_reason").find("11 consecutive failures"), std::string::npos)
      << row->Text("status_reason");
  EXPECT_EQ(log_.size() - before, 11u);
}

// The same for cold mail: a success resets a counter found in the row, so two later failures do
// not pause a sender that had ten before its success.
TEST_P(SchedulerTest, ColdSuccessResetsTheFailureCounterFoundInTheRow) {
  MakeCampaign({0}, /*senders=*/1, /*quota=*/100);
  ASSERT_TRUE(Exec("sched_test.campaign_all_day", {campaign_}).ok());
  const int64_t id = sender_ids_[0];
  ASSERT_TRUE(Exec("sched_test.set_failures", {id, 10}).ok());
  AddLead("ok@example.test", "O", "");
  auto scheduler = MakeScheduler(
      {}, [](SchedulerOptions& o) { o.pacing = {.min_gap_ms = kMinute, .jitter_percent = 0}; });
  RunUntil(*scheduler, kStart + 5 * kMinute, kMinute);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_EQ(Row("sched_test.failures", {id})->Int("n"), 0);
  for (const char* e : {"no1@example.test", "no2@example.test"}) {
    AddLead(e, "N", "");
    per_rcpt_[e] = Failure(mail::SendResult::Class::kTransient, 451, "4.3.0",
                           mail::SmtpFailure::kRecipients, "451 4.3.0 try again later");
  }
  while (log_.size() < 3) {
    ASSERT_TRUE(scheduler->RunOnce().ok());
    clock_.Advance(Millis(kMinute));
    ASSERT_LT(clock_.NowMillis(), kStart + kDay);
  }
  auto row = Row("sched_test.failures", {id});
  EXPECT_EQ(row->Int("n"), 2);
  EXPECT_EQ(row->Text("status"), "active") << row->Text("status_reason");
  // The next success resets it again.
  AddLead("ok2@example.test", "O", "");
  std::erase_if(per_rcpt_, [](const auto&) { return true; });
  RunUntil(*scheduler, clock_.NowMillis() + 2 * 60 * kMinute, kMinute);
  EXPECT_EQ(Row("sched_test.failures", {id})->Int("n"), 0);
}

// A stop request (SIGTERM in `kiln worker`) in the middle of a tick with many due leads: the tick
// claims nothing after it, settles the two exchanges in flight (recorded `sent`, none left
// `sending`: decision 0004), leaves every other lead as it was and returns; a later tick sends
// them, each exactly once.
TEST_P(SchedulerTest, StopRequestEndsTheTickAfterSettlingTheExchangesInFlight) {
  MakeCampaign({0}, /*senders=*/3, /*quota=*/1'000'000'000);
  ASSERT_TRUE(Exec("sched_test.campaign_all_day", {campaign_}).ok());
  const int kLeads = 20;
  for (int i = 0; i < kLeads; ++i) AddLead("q" + std::to_string(i) + "@example.test", "Q", "");
  std::atomic<bool> stop{false};
  Exchanges x;
  // The first exchange is held until the second starts, and the second sets the stop request:
  // both are in flight when it comes. An exchange after them would not be held (no hang).
  x.expected = 2;
  int starts = 0;
  x.on_start = [&](const std::string&) {
    if (++starts == 2) stop = true;
  };
  auto scheduler = MakeOverlappingScheduler(&x);
  auto t = scheduler->RunOnce(&stop);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->cut_short);
  EXPECT_EQ(t->sent, 2);
  EXPECT_EQ(x.started, 2) << "a message was claimed and sent after the stop request";
  EXPECT_EQ(x.max_active_total, 2);
  EXPECT_EQ(x.timed_out, 0);
  auto states = db_->Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("sched_test.message_states", {campaign_}));
    EXPECT_EQ(rows.size(), 2u) << "only the started exchanges have messages";
    for (const auto& r : rows) EXPECT_EQ(r.Text("status"), "sent");
    return Status::Ok();
  });
  ASSERT_TRUE(states.ok()) << states.ToString();
  EXPECT_EQ(Row("sched_test.untouched_leads", {campaign_, kStart})->Int("n"), kLeads - 2);

  // Without a stop request, the next ticks send the rest.
  stop = false;
  x.on_start = nullptr;
  int sent = 2;
  for (int tick = 0; tick < 50 && sent < kLeads; ++tick) {
    clock_.Advance(Millis(kMinute));
    auto next = scheduler->RunOnce(&stop);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_FALSE(next->cut_short);
    sent += next->sent;
  }
  EXPECT_EQ(sent, kLeads);
  EXPECT_EQ(x.timed_out, 0);
  std::map<std::string, int> per_rcpt;
  for (const auto& e : x.events) {
    if (e.start) ++per_rcpt[e.rcpt];
  }
  EXPECT_EQ(per_rcpt.size(), static_cast<size_t>(kLeads));
  for (const auto& [rcpt, n] : per_rcpt) EXPECT_EQ(n, 1) << rcpt;
  EXPECT_EQ(Row("sched_test.sent_count", {campaign_})->Int("n"), kLeads);
}

// A stop request between warm-up sends: the warm-up source is asked for (and claims) nothing more.
TEST_P(SchedulerTest, StopRequestEndsTheWarmupPartOfATick) {
  ws_ = Row("sched_test.workspace", {kStart})->Int("id");
  for (int i = 0; i < 4; ++i) {
    const int64_t id = Row("sched_test.sender_only",
                           {ws_, "warm" + std::to_string(i) + "@kiln-a.test", 50, kStart})
                           ->Int("id");
    ASSERT_TRUE(
        Exec("sched_test.sender_warmup", {id, kStart + 30 * kDay, kStart, 20, 1, 40, "UTC"}).ok());
  }
  FakeWarmupSource warmup;
  std::atomic<bool> stop{false};
  on_send_ = [&](const SentMail&) { stop = true; };
  auto scheduler = MakeScheduler({}, [&](SchedulerOptions& o) {
    o.warmup = &warmup;
    o.pacing = {.min_gap_ms = 0, .jitter_percent = 0};
  });
  auto t = scheduler->RunOnce(&stop);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->cut_short);
  EXPECT_EQ(t->warmup_sent, 1);
  EXPECT_EQ(warmup.issued.size(), 1u);
  EXPECT_EQ(warmup.recorded.size(), 1u);
  // The other senders warm up at the next ticks.
  on_send_ = nullptr;
  stop = false;
  for (int tick = 0; tick < 10; ++tick) {
    clock_.Advance(Millis(kMinute));
    ASSERT_TRUE(scheduler->RunOnce(&stop).ok());
  }
  std::set<int64_t> warmed;
  for (const SentMail& m : log_) warmed.insert(m.sender_id);
  EXPECT_EQ(warmed.size(), 4u);
}

INSTANTIATE_TEST_SUITE_P(Db, SchedulerTest, ::testing::ValuesIn(kiln::testing::DbBackends()),
                         kiln::testing::DbBackendName());

}  // namespace
}  // namespace kiln::engine
