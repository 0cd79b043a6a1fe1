// The receiving side of warm-up against the real mail stack (scripts/mailstack: Postfix + Dovecot
// on 127.0.0.1): warm-up mail sent over SMTP from sender1@kiln-a.test to bot1@kiln-b.test (INBOX)
// and to bot2+Junk@kiln-b.test (Junk) is found, recorded, rescued, opened, flagged and answered by
// the bots (in virtual time: a FakeClock), and the answers found and hidden in sender1's mailbox.
// Needs `scripts/mailstack start` and `eval "$(scripts/mailstack env)"`; runs on SQLite and, with
// KILN_TEST_PG_URL, on PostgreSQL.
#include "kiln/warmup/bot_runner.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kiln/domain/random.h"
#include "kiln/mail/classify_warmup.h"
#include "kiln/mail/imap_inbox.h"
#include "kiln/mail/incoming.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/mail/smtp_client.h"
#include "kiln/testing/db_fixture.h"
#include "kiln/testing/fake_clock.h"
#include "kiln/testing/mailstack.h"
#include "kiln/warmup/content.h"

namespace kiln::warmup {
namespace {

constexpr std::string_view kFixtureSql = R"sql(
-- name: botrun_test.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('w', $1, $1) RETURNING id;
-- name: botrun_test.sender
INSERT INTO senders (workspace_id, email, from_name, smtp_host, smtp_port, smtp_security,
                     smtp_username, imap_host, imap_port, imap_security, imap_username,
                     allow_self_signed, status, warmup_reply_rate_percent, created_at, updated_at)
VALUES ($1, $2, 'Sam Sender', $3, $4, 'starttls', $2, $3, $5, 'starttls', $2, 1, 'active', 100,
        $6, $6)
RETURNING id;
-- name: botrun_test.sender_secret
UPDATE senders SET imap_secret = $2 WHERE id = $1;
-- name: botrun_test.bot
INSERT INTO bots (workspace_id, name, email, smtp_host, smtp_port, smtp_security, smtp_username,
                  imap_host, imap_port, imap_security, imap_username, allow_self_signed,
                  aging_start_at, aging_end_at, aging_start_volume, daily_send_limit,
                  important_rate_percent, reply_delay_min_minutes, reply_delay_max_minutes,
                  status, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, 'starttls', $3, $4, $6, 'starttls', $3, 1, $7, $7, 1, $8, 100, 10, 20,
        'active', $7, $7)
RETURNING id;
-- name: botrun_test.bot_timezone
UPDATE bots SET timezone = $2 WHERE id = $1;
-- name: botrun_test.bot_secrets
UPDATE bots SET smtp_secret = $2, imap_secret = $3 WHERE id = $1;
-- name: botrun_test.out
INSERT INTO warmup_messages (workspace_id, sender_id, bot_id, direction, exchange, token,
                             message_id_header, subject, status, scheduled_at, sent_at,
                             created_at, updated_at)
VALUES ($1, $2, $3, 'out', 1, $4, $5, $6, 'sent', $7, $7, $7, $7)
RETURNING id;
-- name: botrun_test.peer_out
INSERT INTO warmup_messages (workspace_id, sender_id, peer_sender_id, direction, exchange, token,
                             message_id_header, subject, status, scheduled_at, sent_at,
                             created_at, updated_at)
VALUES ($1, $2, $3, 'out', 1, $4, $5, $6, 'sent', $7, $7, $7, $7)
RETURNING id;
-- name: botrun_test.thread
UPDATE warmup_messages SET thread_id = id WHERE id = $1;
-- name: botrun_test.rows
SELECT w.id, w.sender_id, w.bot_id, w.peer_sender_id, w.direction, w.thread_id, w.parent_id,
       w.exchange, w.token, w.message_id_header, w.subject, COALESCE(b.text_body, '') AS text_body,
       w.status, w.placement, w.scheduled_at, w.sent_at, w.delivered_at, w.opened_at,
       w.flagged_at, w.rescued_at, w.replied_at, w.error, w.updated_at
FROM warmup_messages w LEFT JOIN warmup_bodies b ON b.message_id = w.id ORDER BY w.id;
-- name: botrun_test.bot_status
SELECT status, status_reason FROM bots WHERE id = $1;
-- name: botrun_test.scan_states
SELECT owner_kind, owner_id, folder, uidvalidity, last_uid FROM mailbox_scan_state
ORDER BY owner_kind, owner_id, folder;
-- name: botrun_test.as_if_found_in_junk
UPDATE warmup_messages SET delivered_at = $2, placement = 'spam' WHERE id = $1;
-- name: botrun_test.as_if_sending
UPDATE warmup_messages SET status = 'sending', scheduled_at = $2, updated_at = $2 WHERE id = $1;
-- name: botrun_test.lease_elsewhere
UPDATE queue_tasks SET status = 'leased', lease_owner = 'elsewhere', lease_until = $2
WHERE dedupe_key = $1;
-- name: botrun_test.task
SELECT status, lease_owner, run_at FROM queue_tasks WHERE dedupe_key = $1;
-- name: botrun_test.break_uidvalidity
UPDATE mailbox_scan_state SET uidvalidity = uidvalidity + 1000 WHERE owner_kind = $1 AND owner_id = $2;
)sql";

using RowMap = std::map<std::string, std::string>;

std::string ValueText(const store::Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "NULL";
        } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>) {
          return std::to_string(x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else {
          return x.bytes;
        }
      },
      v.get());
}

class BotRunnerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto stack = testing::Mailstack::FromEnv();
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    stack_ = std::move(stack).value();
    store::OpenOptions options;
    options.extra_sql_files.push_back({"queries/botrun_test.sql", std::string(kFixtureSql)});
    auto db = testing::OpenFreshTestDatabase(GetParam(), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto box = auth::SecretBox::FromKey(std::string(32, 'k'));
    ASSERT_TRUE(box.ok());
    box_.emplace(std::move(box).value());
  }

  std::vector<RowMap> Rows(std::string_view query, const store::Params& params = {}) {
    std::vector<RowMap> out;
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto rows, tx.Query(query, params));
      for (const store::Row& r : rows) {
        RowMap m;
        for (size_t i = 0; i < r.columns().size(); ++i)
          m[r.columns()[i]] = ValueText(r.values()[i]);
        out.push_back(std::move(m));
      }
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  std::map<int64_t, RowMap> WarmupRows() {
    std::map<int64_t, RowMap> out;
    for (RowMap& r : Rows("botrun_test.rows")) out[std::stoll(r["id"])] = std::move(r);
    return out;
  }

  // The reply row of `parent`, if any.
  std::optional<RowMap> ReplyOf(int64_t parent) {
    for (auto& [id, r] : WarmupRows()) {
      if (r["parent_id"] == std::to_string(parent)) return r;
    }
    return std::nullopt;
  }

  std::string Sealed(const std::string& plain, const std::string& aad) {
    auto s = box_->Seal(plain, aad);
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : std::string();
  }

  mail::ImapInbox OpenImap(const std::string& address) {
    mail::ImapConfig c;
    c.host = stack_.host;
    c.port = stack_.imap_port;
    c.security = mail::ImapSecurity::kStartTls;
    c.username = address;
    auto user = stack_.User(address);
    EXPECT_TRUE(user.ok());
    c.secret = user.ok() ? user->password : "";
    c.allow_self_signed = true;
    return mail::ImapInbox(c, real_clock_);
  }

  // The message with `message_id` (without brackets) in `folder` of `address`, over IMAP.
  std::optional<mail::FetchedMessage> FindOverImap(const std::string& address,
                                                   const std::string& folder,
                                                   const std::string& message_id) {
    mail::ImapInbox inbox = OpenImap(address);
    Status st = inbox.Connect();
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (!st.ok()) return std::nullopt;
    auto fetched = inbox.FetchSince(folder, {}, 100000);
    EXPECT_TRUE(fetched.ok()) << fetched.status().ToString();
    if (!fetched.ok()) return std::nullopt;
    for (mail::FetchedMessage& m : fetched->messages) {
      if (m.message_id == message_id) return std::move(m);
    }
    return std::nullopt;
  }

  struct SentWarmup {
    int64_t row_id = 0;
    std::string token;
    std::string message_id;  // without brackets
  };

  // The workspace, sender1 (IMAP password sealed as the API seals it) and the bots
  // {email, name, daily_send_limit, wrong password?}; ids in sender_ and bots_.
  struct BotSpec {
    std::string email;
    std::string name;
    int limit = 5;
    bool wrong_password = false;
  };
  void CreateWorld(const std::vector<BotSpec>& bots) {
    t0_ = clock_.NowMillis();
    auto sender_user = stack_.User("sender1@kiln-a.test");
    ASSERT_TRUE(sender_user.ok());
    sender_password_ = sender_user->password;
    Status setup = db_->Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("botrun_test.workspace", {t0_}));
      ws_ = w.Int("id");
      KILN_ASSIGN_OR_RETURN(
          auto s, tx.QueryRow("botrun_test.sender", {ws_, "sender1@kiln-a.test", stack_.host,
                                                     stack_.starttls_port, stack_.imap_port, t0_}));
      sender_ = s.Int("id");
      KILN_RETURN_IF_ERROR(
          tx.Exec("botrun_test.sender_secret",
                  {sender_,
                   store::Blob{Sealed(sender_password_,
                                      "senders:" + std::to_string(sender_) + ":imap_secret")}})
              .status());
      for (const BotSpec& b : bots) {
        KILN_ASSIGN_OR_RETURN(
            auto row, tx.QueryRow("botrun_test.bot",
                                  {ws_, b.name, b.email, stack_.host, stack_.starttls_port,
                                   stack_.imap_port, t0_ - 86'400'000 * int64_t{30}, b.limit}));
        const int64_t id = row.Int("id");
        bots_.push_back(id);
        KILN_ASSIGN_OR_RETURN(auto user, stack_.User(b.email));
        std::string password = b.wrong_password ? "not-" + user.password : user.password;
        std::string prefix = "bots:" + std::to_string(id) + ":";
        KILN_RETURN_IF_ERROR(tx.Exec("botrun_test.bot_secrets",
                                     {id, store::Blob{Sealed(password, prefix + "smtp_secret")},
                                      store::Blob{Sealed(password, prefix + "imap_secret")}})
                                 .status());
      }
      return Status::Ok();
    });
    ASSERT_TRUE(setup.ok()) << setup.ToString();
  }

  // The sending side: the row as the WarmupSource writes it (status 'sent' at `sent_at`) and,
  // unless `rcpt` is empty, the mail over SMTP from sender1.
  SentWarmup SendWarmup(int64_t bot, const std::string& rcpt, int64_t sent_at) {
    SentWarmup out;
    out.token = NewWarmupToken(rng_, clock_.NowMillis());
    out.message_id = mail::GenerateMessageId("kiln-a.test");
    WarmupContent content =
        NewThreadContent(rng_.Next(), {.from_name = "Sam Sender", .to_name = ""}, out.token);
    Status st = db_->Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("botrun_test.out", {ws_, sender_, bot, out.token,
                                                                      "<" + out.message_id + ">",
                                                                      content.subject, sent_at}));
      out.row_id = row.Int("id");
      return tx.Exec("botrun_test.thread", {out.row_id}).status();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (rcpt.empty()) return out;
    mail::SmtpConfig smtp;
    smtp.host = stack_.host;
    smtp.port = stack_.starttls_port;
    smtp.security = mail::SmtpSecurity::kStartTls;
    smtp.username = "sender1@kiln-a.test";
    smtp.secret = sender_password_;
    smtp.allow_self_signed = true;
    mail::BlockingSmtpClient client(smtp);
    mail::OutgoingMessage m;
    m.from = {"Sam Sender", "sender1@kiln-a.test"};
    m.to = {{"", rcpt}};
    m.subject = content.subject;
    m.text_body = content.text_body;
    m.html_body = content.html_body;
    m.message_id = out.message_id;
    m.date = clock_.Now();
    m.extra_headers.emplace_back(std::string(mail::kWarmupHeader), out.token);
    auto data = mail::ComposeMessage(m);
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    mail::SendResult r = client.Send(mail::DefaultEnvelope(m), *data);
    EXPECT_TRUE(r.ok()) << r.reason;
    client.Close();
    return out;
  }

  testing::Mailstack stack_;
  std::unique_ptr<store::Database> db_;
  std::optional<auth::SecretBox> box_;
  SystemClock real_clock_;
  testing::FakeClock clock_;  // decisions in virtual time; the mail itself is real
  domain::Rng rng_{
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  int64_t t0_ = 0;
  int64_t ws_ = 0;
  int64_t sender_ = 0;
  std::string sender_password_;
  std::vector<int64_t> bots_;
};

TEST_P(BotRunnerTest, BotsRescueOpenFlagAndAnswerAndTheSenderSideHidesTheAnswers) {
  // bot1 may send one reply a day; bot3's stored password is wrong.
  ASSERT_NO_FATAL_FAILURE(CreateWorld({{"bot1@kiln-b.test", "Bea One", 1, false},
                                       {"bot2@kiln-b.test", "Bo Two", 5, false},
                                       {"bot3@kiln-b.test", "Bix Three", 5, true}}));
  const int64_t bot1 = bots_[0], bot2 = bots_[1], bot3 = bots_[2];
  const int64_t t0 = t0_;
  testing::FakeClock& clock = clock_;
  const SentWarmup a = SendWarmup(bot1, "bot1@kiln-b.test", t0);
  const SentWarmup c = SendWarmup(bot1, "bot1@kiln-b.test", t0);
  const SentWarmup b = SendWarmup(bot2, "bot2+Junk@kiln-b.test", t0);
  const SentWarmup lost = SendWarmup(bot2, "", t0 - 7 * 3'600'000);  // never arrives
  for (const SentWarmup* s : {&a, &c}) {
    ASSERT_TRUE(stack_.WaitForMessage("bot1@kiln-b.test", s->token, std::chrono::seconds(20)).ok());
  }
  ASSERT_TRUE(
      stack_.WaitForMessage("bot2@kiln-b.test", b.token, std::chrono::seconds(20), "Junk").ok());

  domain::TimeZoneDatabase zones;
  BotRunnerOptions options;
  options.worker_id = "botrun-test-1";
  options.fetch_batch = 20;  // several rounds per folder (and a lease renewal between them)
  options.helo_name = "client.kiln.test";
  BotRunner runner(*db_, clock, real_clock_, *box_, zones, options);

  // Pass 1: the bots find the mail.
  auto stats = runner.RunOnce();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->found, 4);  // bot2's mail is seen in Junk, then once more in INBOX (no-op)
  EXPECT_EQ(stats->delivered, 3);
  EXPECT_EQ(stats->rescued, 1);
  EXPECT_EQ(stats->replies_scheduled, 3);
  EXPECT_EQ(stats->missing, 1);
  EXPECT_EQ(stats->mailboxes_failed, 1);  // bot3
  {
    auto rows = WarmupRows();
    for (const SentWarmup* s : {&a, &c}) {
      RowMap& r = rows[s->row_id];
      EXPECT_EQ(r["placement"], "inbox");
      EXPECT_EQ(r["delivered_at"], std::to_string(t0));
      EXPECT_EQ(r["opened_at"], std::to_string(t0));
      EXPECT_EQ(r["flagged_at"], std::to_string(t0));  // important_rate_percent 100
      EXPECT_EQ(r["rescued_at"], "NULL");
    }
    RowMap& rb = rows[b.row_id];
    EXPECT_EQ(rb["placement"], "spam");
    EXPECT_EQ(rb["rescued_at"], std::to_string(t0));
    EXPECT_EQ(rb["opened_at"], std::to_string(t0));
    EXPECT_EQ(rows[lost.row_id]["placement"], "missing");
    EXPECT_EQ(rows[lost.row_id]["delivered_at"], "NULL");
  }
  for (const SentWarmup* s : {&a, &c, &b}) {
    auto reply = ReplyOf(s->row_id);
    ASSERT_TRUE(reply.has_value()) << "no reply scheduled to row " << s->row_id;
    EXPECT_EQ((*reply)["direction"], "back");
    EXPECT_EQ((*reply)["status"], "scheduled");
    EXPECT_EQ((*reply)["exchange"], "2");
    EXPECT_EQ((*reply)["token"], s->token);
    EXPECT_EQ((*reply)["thread_id"], std::to_string(s->row_id));
    const int64_t at = std::stoll((*reply)["scheduled_at"]);
    EXPECT_GE(at, t0 + 10 * 60'000);  // the bots' reply-delay range: 10-20 minutes
    EXPECT_LE(at, t0 + 20 * 60'000);
    EXPECT_EQ((*reply)["subject"].rfind("Re: ", 0), 0u) << (*reply)["subject"];
  }
  // Over IMAP: bot1's mail is read and flagged; bot2's was moved out of Junk into its INBOX.
  {
    auto m = FindOverImap("bot1@kiln-b.test", "INBOX", a.message_id);
    ASSERT_TRUE(m.has_value());
    EXPECT_TRUE(m->seen);
    EXPECT_TRUE(m->flagged);
    auto rescued = FindOverImap("bot2@kiln-b.test", "INBOX", b.message_id);
    ASSERT_TRUE(rescued.has_value()) << "not rescued into bot2's INBOX";
    EXPECT_TRUE(rescued->seen);
    EXPECT_TRUE(rescued->flagged);
    EXPECT_FALSE(FindOverImap("bot2@kiln-b.test", "Junk", b.message_id).has_value());
  }
  // bot3 refused its login: marked failed with the reason.
  {
    auto status = Rows("botrun_test.bot_status", {bot3});
    ASSERT_EQ(status.size(), 1u);
    EXPECT_EQ(status[0]["status"], "failed");
    EXPECT_NE(status[0]["status_reason"].find("IMAP login refused"), std::string::npos)
        << status[0]["status_reason"];
  }

  // Pass 2, past the delays: the bots answer; bot1 only once today (daily_send_limit 1).
  clock.Advance(Millis(30 * 60'000));
  stats = runner.RunOnce();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->replies_sent, 2);
  EXPECT_EQ(stats->replies_deferred, 1);
  EXPECT_EQ(stats->replies_failed, 0);
  auto reply_a = ReplyOf(a.row_id), reply_c = ReplyOf(c.row_id), reply_b = ReplyOf(b.row_id);
  ASSERT_TRUE(reply_a && reply_c && reply_b);
  const bool a_first = (*reply_a)["status"] == "sent";
  RowMap& sent1 = a_first ? *reply_a : *reply_c;
  RowMap& waiting = a_first ? *reply_c : *reply_a;
  const SentWarmup& first = a_first ? a : c;
  EXPECT_EQ(sent1["status"], "sent");
  EXPECT_EQ(waiting["status"], "scheduled");
  EXPECT_EQ(waiting["scheduled_at"], std::to_string(t0 + 86'400'000));  // bot1's next day (UTC)
  EXPECT_EQ((*reply_b)["status"], "sent");
  EXPECT_EQ(WarmupRows()[first.row_id]["replied_at"], std::to_string(t0 + 30 * 60'000));

  // The answers reach sender1; its scans record and hide them (delivery takes real time).
  const std::vector<std::string> answers = {sent1["id"], (*reply_b)["id"]};
  for (int i = 0; i < 100; ++i) {
    auto rows = WarmupRows();
    bool all = true;
    for (const std::string& id : answers)
      all = all && rows[std::stoll(id)]["delivered_at"] != "NULL";
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    clock.Advance(options.scan_interval);
    stats = runner.RunOnce();
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  }
  auto rows = WarmupRows();
  for (const std::string& id : answers) {
    RowMap& r = rows[std::stoll(id)];
    EXPECT_EQ(r["placement"], "inbox") << id;
    EXPECT_NE(r["opened_at"], "NULL") << id;
    const std::string message_id = mail::NormalizeMessageId(r["message_id_header"]);
    EXPECT_NE(message_id.find("@kiln-b.test"), std::string::npos) << message_id;
    EXPECT_FALSE(FindOverImap("sender1@kiln-a.test", "INBOX", message_id).has_value())
        << "answer " << id << " was not hidden from the owner";
    auto hidden = FindOverImap("sender1@kiln-a.test", std::string(kHiddenWarmupFolder), message_id);
    ASSERT_TRUE(hidden.has_value()) << "answer " << id << " is not in the hidden folder";
    EXPECT_TRUE(hidden->seen);
    // Threaded: In-Reply-To the original, the original quoted, the same token.
    auto parsed = mail::ParseIncoming(hidden->raw);
    ASSERT_TRUE(parsed.ok());
    const SentWarmup& original = id == (*reply_b)["id"] ? b : first;
    EXPECT_EQ(parsed->in_reply_to, original.message_id);
    ASSERT_FALSE(parsed->references.empty());
    EXPECT_EQ(parsed->references.front(), original.message_id);
    EXPECT_EQ(mail::ExtractWarmupToken(*parsed), original.token);
    EXPECT_NE(parsed->text_body.find("\n> "), std::string::npos) << parsed->text_body;
    EXPECT_EQ(parsed->from.email, id == (*reply_b)["id"] ? "bot2@kiln-b.test" : "bot1@kiln-b.test");
    // The thread goes on from sender1 when its length (fixed by the token) allows.
    auto next = ReplyOf(std::stoll(id));
    if (ThreadTargetExchanges(original.token) > 2) {
      ASSERT_TRUE(next.has_value()) << "thread " << original.token << " should continue";
      EXPECT_EQ((*next)["direction"], "out");
      EXPECT_EQ((*next)["exchange"], "3");
      EXPECT_EQ((*next)["status"], "scheduled");
    } else {
      EXPECT_FALSE(next.has_value());
    }
  }

  // Another pass (and another worker at the same time) change nothing: nothing new is found and
  // every record is where it was; a changed UIDVALIDITY rescans without recording twice.
  auto before = WarmupRows();
  clock.Advance(options.scan_interval);
  BotRunnerOptions other_options = options;
  other_options.worker_id = "botrun-test-2";
  BotRunner other(*db_, clock, real_clock_, *box_, zones, other_options);
  stats = runner.RunOnce();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->delivered + stats->rescued + stats->opened + stats->flagged +
                stats->replies_scheduled + stats->replies_sent + stats->hidden,
            0);
  auto other_stats = other.RunOnce();
  ASSERT_TRUE(other_stats.ok());
  EXPECT_EQ(other_stats->mailboxes_scanned, 0);  // not due again yet
  for (int64_t bot : {bot1, bot2}) {
    Status st = db_->Write([&](store::Tx& tx) {
      return tx.Exec("botrun_test.break_uidvalidity", {"bot", bot}).status();
    });
    ASSERT_TRUE(st.ok());
  }
  clock.Advance(options.scan_interval);
  stats = other.RunOnce();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_GE(stats->found, 3);  // found again from UID 1...
  EXPECT_EQ(stats->delivered + stats->rescued + stats->opened + stats->flagged +
                stats->replies_scheduled + stats->replies_sent,
            0);  // ...and nothing recorded twice
  EXPECT_EQ(WarmupRows(), before);

  // The next day bot1 may answer again.
  clock.Set(t0 + 86'400'000 + 60'000);
  stats = runner.RunOnce();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->replies_sent, 1);
  EXPECT_EQ(WarmupRows()[std::stoll(waiting["id"])]["status"], "sent");
}

// What a crash leaves behind is settled, never repeated: a message moved out of Junk whose rescue
// was not recorded gets its rescue recorded when found in INBOX; a reply caught mid-send becomes
// 'unknown' and is not sent again. And a mailbox leased by another worker is left alone until
// that lease lapses.
TEST_P(BotRunnerTest, CrashLeftoversAreSettledAndLeasesAreRespected) {
  ASSERT_NO_FATAL_FAILURE(CreateWorld({{"bot4@kiln-b.test", "Dee Four", 5, false}}));
  const int64_t bot = bots_[0];
  const SentWarmup a = SendWarmup(bot, "bot4@kiln-b.test", t0_);
  ASSERT_TRUE(stack_.WaitForMessage("bot4@kiln-b.test", a.token, std::chrono::seconds(20)).ok());
  // The crash: the message was found in Junk (delivery recorded), moved to INBOX, and then the
  // process died before recording the rescue.
  ASSERT_TRUE(db_->Write([&](store::Tx& tx) {
                   return tx.Exec("botrun_test.as_if_found_in_junk", {a.row_id, t0_}).status();
                 })
                  .ok());

  domain::TimeZoneDatabase zones;
  BotRunnerOptions options;
  options.worker_id = "botrun-test-crash";
  BotRunner runner(*db_, clock_, real_clock_, *box_, zones, options);
  // Another worker holds bot4's mailbox: nothing happens to it until its lease lapses.
  const std::string key = "warmup_scan:bot:" + std::to_string(bot);
  auto stats = runner.RunOnce();  // creates the mailbox's task and scans it...
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_EQ(stats->mailboxes_scanned, 1);
  ASSERT_EQ(WarmupRows()[a.row_id]["rescued_at"], std::to_string(t0_));  // ...rescue recorded
  EXPECT_EQ(stats->delivered, 0);  // delivery was already recorded: not again
  EXPECT_EQ(stats->rescued, 1);
  EXPECT_EQ(WarmupRows()[a.row_id]["placement"], "spam");
  auto reply = ReplyOf(a.row_id);
  ASSERT_TRUE(reply.has_value());
  const int64_t reply_id = std::stoll((*reply)["id"]);

  clock_.Advance(options.scan_interval);
  ASSERT_TRUE(db_->Write([&](store::Tx& tx) {
                   return tx
                       .Exec("botrun_test.lease_elsewhere", {key, clock_.NowMillis() + 600'000})
                       .status();
                 })
                  .ok());
  stats = runner.RunOnce();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->mailboxes_scanned, 1);  // sender1's (it awaits an answer now), not bot4's
  EXPECT_EQ(Rows("botrun_test.task", {key})[0]["lease_owner"], "elsewhere");

  // The reply was claimed and the process died mid-send; the other worker's lease lapses.
  ASSERT_TRUE(
      db_->Write([&](store::Tx& tx) {
           return tx.Exec("botrun_test.as_if_sending", {reply_id, clock_.NowMillis()}).status();
         })
          .ok());
  clock_.Advance(Millis(3'600'000));
  stats = runner.RunOnce();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->mailboxes_scanned, 2);  // bot4's lease lapsed: taken over
  EXPECT_EQ(stats->replies_sent, 0);
  auto rows = WarmupRows();
  EXPECT_EQ(rows[reply_id]["status"], "unknown");
  EXPECT_NE(rows[reply_id]["error"].find("not resent"), std::string::npos)
      << rows[reply_id]["error"];
  EXPECT_EQ(rows[a.row_id]["replied_at"], "NULL");
  auto task = Rows("botrun_test.task", {key});
  EXPECT_EQ(task[0]["status"], "pending");
  EXPECT_EQ(task[0]["lease_owner"], "NULL");
  EXPECT_EQ(task[0]["run_at"], std::to_string(clock_.NowMillis() + options.scan_interval.count()));
}

// Peer warm-up: sender1's mail to sender2 (another sender of the workspace) is found in sender2's
// mailbox, opened, answered by a scheduled 'back' row that the queue manager will send from
// sender2 (the runner does not), and hidden from sender2's owner.
TEST_P(BotRunnerTest, APeerSenderAnswersThroughTheQueueManagerAndHidesTheMail) {
  ASSERT_NO_FATAL_FAILURE(CreateWorld({}));
  auto peer_user = stack_.User("sender2@kiln-a.test");
  ASSERT_TRUE(peer_user.ok());
  int64_t peer = 0;
  SentWarmup m;
  m.token = NewWarmupToken(rng_, clock_.NowMillis());
  m.message_id = mail::GenerateMessageId("kiln-a.test");
  WarmupContent content = NewThreadContent(rng_.Next(), {"Sam Sender", "Pat Peer"}, m.token);
  ASSERT_TRUE(db_->Write([&](store::Tx& tx) -> Status {
                   KILN_ASSIGN_OR_RETURN(
                       auto s, tx.QueryRow("botrun_test.sender",
                                           {ws_, "sender2@kiln-a.test", stack_.host,
                                            stack_.starttls_port, stack_.imap_port, t0_}));
                   peer = s.Int("id");
                   KILN_RETURN_IF_ERROR(
                       tx.Exec("botrun_test.sender_secret",
                               {peer, store::Blob{Sealed(
                                          peer_user->password,
                                          "senders:" + std::to_string(peer) + ":imap_secret")}})
                           .status());
                   KILN_ASSIGN_OR_RETURN(
                       auto row, tx.QueryRow("botrun_test.peer_out",
                                             {ws_, sender_, peer, m.token, "<" + m.message_id + ">",
                                              content.subject, t0_}));
                   m.row_id = row.Int("id");
                   return tx.Exec("botrun_test.thread", {m.row_id}).status();
                 })
                  .ok());
  mail::SmtpConfig smtp;
  smtp.host = stack_.host;
  smtp.port = stack_.starttls_port;
  smtp.security = mail::SmtpSecurity::kStartTls;
  smtp.username = "sender1@kiln-a.test";
  smtp.secret = sender_password_;
  smtp.allow_self_signed = true;
  mail::BlockingSmtpClient client(smtp);
  mail::OutgoingMessage out;
  out.from = {"Sam Sender", "sender1@kiln-a.test"};
  out.to = {{"Pat Peer", "sender2@kiln-a.test"}};
  out.subject = content.subject;
  out.text_body = content.text_body;
  out.message_id = m.message_id;
  out.date = clock_.Now();
  out.extra_headers.emplace_back(std::string(mail::kWarmupHeader), m.token);
  auto data = mail::ComposeMessage(out);
  ASSERT_TRUE(data.ok());
  ASSERT_TRUE(client.Send(mail::DefaultEnvelope(out), *data).ok());
  client.Close();
  ASSERT_TRUE(stack_.WaitForMessage("sender2@kiln-a.test", m.token, std::chrono::seconds(20)).ok());

  domain::TimeZoneDatabase zones;
  BotRunnerOptions options;
  options.worker_id = "botrun-test-peer";
  options.peer_reply_delay_min_minutes = 30;
  options.peer_reply_delay_max_minutes = 60;
  BotRunner runner(*db_, clock_, real_clock_, *box_, zones, options);
  auto stats = runner.RunOnce();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->delivered, 1);
  EXPECT_EQ(stats->hidden, 1);
  auto row = WarmupRows()[m.row_id];
  EXPECT_EQ(row["placement"], "inbox");
  EXPECT_EQ(row["opened_at"], std::to_string(t0_));
  EXPECT_EQ(row["flagged_at"], "NULL");  // flagging is a bot's habit
  auto reply = ReplyOf(m.row_id);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ((*reply)["direction"], "back");
  EXPECT_EQ((*reply)["peer_sender_id"], std::to_string(peer));
  EXPECT_EQ((*reply)["bot_id"], "NULL");
  EXPECT_NE((*reply)["message_id_header"].find("@kiln-a.test>"), std::string::npos);
  EXPECT_NE((*reply)["text_body"].find("kw-" + m.token), std::string::npos);
  const int64_t at = std::stoll((*reply)["scheduled_at"]);
  EXPECT_GE(at, t0_ + 30 * 60'000);
  EXPECT_LE(at, t0_ + 60 * 60'000);
  EXPECT_FALSE(FindOverImap("sender2@kiln-a.test", "INBOX", m.message_id).has_value());
  auto hidden = FindOverImap("sender2@kiln-a.test", std::string(kHiddenWarmupFolder), m.message_id);
  ASSERT_TRUE(hidden.has_value());
  EXPECT_TRUE(hidden->seen);

  // Due, but a peer's answer goes through its own transport: the runner leaves it scheduled.
  clock_.Advance(Millis(2 * 3'600'000));
  stats = runner.RunOnce();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->replies_sent, 0);
  EXPECT_EQ(WarmupRows()[std::stoll((*reply)["id"])]["status"], "scheduled");
}

// A bot whose time zone cannot be loaded (the API checks only the name's shape) keeps its day on
// the UTC calendar, as the sending side and the reputation job count it: it still answers.
TEST_P(BotRunnerTest, ABotWithAnUnknownTimeZoneAnswersOnTheUtcCalendar) {
  ASSERT_NO_FATAL_FAILURE(CreateWorld({{"bot4@kiln-b.test", "Quin Four", 5, false}}));
  const int64_t bot = bots_[0];
  Status st = db_->Write([&](store::Tx& tx) {
    return tx.Exec("botrun_test.bot_timezone", {bot, "Mars/Olympus_Mons"}).status();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  const SentWarmup a = SendWarmup(bot, "bot4@kiln-b.test", t0_);
  ASSERT_TRUE(stack_.WaitForMessage("bot4@kiln-b.test", a.token, std::chrono::seconds(20)).ok());

  domain::TimeZoneDatabase zones;
  BotRunnerOptions options;
  options.worker_id = "botrun-test-zone";
  BotRunner runner(*db_, clock_, real_clock_, *box_, zones, options);
  auto stats = runner.RunOnce();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->mailboxes_failed, 0);
  EXPECT_EQ(stats->replies_scheduled, 1);
  clock_.Advance(Millis(25 * 60'000));  // past the 10-20 minute delay and the scan interval
  stats = runner.RunOnce();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->mailboxes_failed, 0);
  EXPECT_EQ(stats->replies_sent, 1);
  auto reply = ReplyOf(a.row_id);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ((*reply)["status"], "sent");
}

INSTANTIATE_TEST_SUITE_P(Db, BotRunnerTest, ::testing::ValuesIn(testing::DbBackends()),
                         testing::DbBackendName());

}  // namespace
}  // namespace kiln::warmup
