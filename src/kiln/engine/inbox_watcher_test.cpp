// The inbox watcher against the real mail stack (scripts/mailstack: Postfix + Dovecot on
// 127.0.0.1), on SQLite and PostgreSQL. The engine's Scheduler sends the first step of two
// campaigns from sender3@kiln-a.test through the stack's port that accepts unknown users (so an
// unknown lead produces a real RFC 3464 DSN in the sender's INBOX); the test then plays the leads
// and their mail providers over SMTP: a threaded reply, an unthreaded reply from a lead's
// address, auto-replies (one into Junk), an ARF complaint, warm-up mail and a stranger's mail.
// Lead addresses carry a per-run tag (bot6+tag@kiln-b.test) so that mail of earlier runs, still
// in the shared mailbox, cannot be mistaken for this run's.
// Needs `scripts/mailstack start` and `eval "$(scripts/mailstack env)"`.
#include "kiln/engine/inbox_watcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kiln/auth/secret_box.h"
#include "kiln/engine/scheduler.h"
#include "kiln/engine/worker.h"
#include "kiln/mail/incoming.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/mail/smtp_client.h"
#include "kiln/testing/db_fixture.h"
#include "kiln/testing/fake_clock.h"
#include "kiln/testing/mailstack.h"

namespace kiln::engine {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kFixtureSql = R"sql(
-- name: iw_test.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('w', $1, $1) RETURNING id;
-- name: iw_test.campaign
INSERT INTO campaigns (workspace_id, name, status, schedule, timezone, stop_on_auto_reply,
                       created_at, updated_at)
VALUES ($1, $2, 'running', '{"days":[1,2,3,4,5,6,7],"start":"00:00","end":"23:59"}', 'UTC', $3,
        $4, $4) RETURNING id;
-- name: iw_test.step
INSERT INTO campaign_steps (workspace_id, campaign_id, position, delay_minutes, created_at,
                            updated_at)
VALUES ($1, $2, $3, $4, $5, $5) RETURNING id;
-- name: iw_test.variant
INSERT INTO step_variants (workspace_id, step_id, subject, body_html, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $5);
-- name: iw_test.sender
INSERT INTO senders (workspace_id, email, from_name, smtp_host, smtp_port, smtp_security,
                     smtp_username, imap_host, imap_port, imap_security, imap_username,
                     allow_self_signed, daily_quota, status, created_at, updated_at)
VALUES ($1, $2, 'Kiln Test', $3, $4, 'starttls', $2, $3, $5, 'starttls', $2, 1, 5000, 'active', $6,
        $6)
RETURNING id;
-- name: iw_test.sender_secrets
UPDATE senders SET smtp_secret = $2, imap_secret = $3 WHERE id = $1;
-- name: iw_test.pool
INSERT INTO campaign_senders (campaign_id, sender_id, workspace_id, created_at)
VALUES ($1, $2, $3, $4);
-- name: iw_test.contact
INSERT INTO contacts (workspace_id, email, first_name, created_at, updated_at)
VALUES ($1, $2, 'Lee', $3, $3) RETURNING id;
-- name: iw_test.enrol
INSERT INTO campaign_contacts (workspace_id, campaign_id, contact_id, next_at, status, created_at,
                               updated_at)
VALUES ($1, $2, $3, $4, 'pending', $4, $4);
-- name: iw_test.lead
SELECT c.id AS contact_id, c.status AS contact_status, cc.status AS enrolment_status,
       cc.stop_reason, m.id AS message_id, m.message_id_header, m.subject, m.status AS message_status,
       m.replied_at, m.bounced_at
FROM contacts c
JOIN campaign_contacts cc ON cc.contact_id = c.id
LEFT JOIN messages m ON m.contact_id = c.id AND m.campaign_id = cc.campaign_id
WHERE c.workspace_id = $1 AND c.email = $2
ORDER BY m.id LIMIT 1;
-- name: iw_test.events
SELECT type, detail FROM events WHERE message_id = $1 ORDER BY id;
-- name: iw_test.suppression
SELECT reason, campaign_id FROM suppression_list WHERE workspace_id = $1 AND email = $2;
-- name: iw_test.conversation_messages
SELECT cm.direction, cm.classification, cm.folder, cm.body_text, cm.from_address,
       cv.contact_id, cv.campaign_id, cv.sender_id, cv.is_read, cv.thread_root_header
FROM conversation_messages cm JOIN conversations cv ON cv.id = cm.conversation_id
WHERE cm.workspace_id = $1 AND cm.message_id_header = $2;
-- name: iw_test.counts
SELECT (SELECT COUNT(*) FROM events WHERE workspace_id = $1) AS events,
       (SELECT COUNT(*) FROM conversation_messages WHERE workspace_id = $1) AS conversation_messages,
       (SELECT COUNT(*) FROM conversations WHERE workspace_id = $1) AS conversations,
       (SELECT COUNT(*) FROM suppression_list WHERE workspace_id = $1) AS suppressions,
       (SELECT COUNT(*) FROM inbound_messages WHERE workspace_id = $1) AS inbound;
-- name: iw_test.inbound
SELECT kind, outcome FROM inbound_messages WHERE workspace_id = $1 AND message_key = $2;
-- name: iw_test.bump_uidvalidity
UPDATE mailbox_scan_state SET uidvalidity = uidvalidity + 1000 WHERE owner_id = $1;
-- name: iw_test.scan_state
SELECT folder, uidvalidity, last_uid FROM mailbox_scan_state WHERE owner_id = $1 ORDER BY folder;
-- name: iw_test.break_imap_secret
UPDATE senders SET imap_secret = $2 WHERE id = $1;
-- name: iw_test.sender_reason
SELECT status, status_reason FROM senders WHERE id = $1;
-- name: iw_test.watch
SELECT last_error, next_poll_at, lease_owner FROM inbox_watch WHERE sender_id = $1;
)sql";

constexpr std::string_view kSender = "sender3@kiln-a.test";

class InboxWatcherTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto stack = testing::Mailstack::FromEnv();
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    stack_ = *stack;
    store::OpenOptions options;
    options.extra_sql_files.push_back({"queries/iw_test.sql", std::string(kFixtureSql)});
    auto db = testing::OpenFreshTestDatabase(GetParam(), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    auto box = auth::SecretBox::FromKey(std::string(32, 's'));
    ASSERT_TRUE(box.ok());
    box_ = std::make_unique<auth::SecretBox>(std::move(box).value());
    clock_.Set(SystemClock().NowMillis());
    tag_ =
        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1'000'000'000);
  }

  // "bot6+r123@kiln-b.test": delivered to bot6, unique to this run.
  std::string Lead(std::string_view user, std::string_view role) const {
    return std::string(user) + "+" + std::string(role) + tag_ + "@kiln-b.test";
  }

  std::optional<store::Row> LeadRow(const std::string& email) {
    std::optional<store::Row> out;
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(out, tx.QueryOne("iw_test.lead", {ws_, email}));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  std::vector<std::pair<std::string, std::string>> Events(int64_t message_id) {
    std::vector<std::pair<std::string, std::string>> out;
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("iw_test.events", {message_id}));
      for (const auto& r : rows) out.emplace_back(r.Text("type"), r.Text("detail"));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  std::map<std::string, int64_t> Counts() {
    std::map<std::string, int64_t> out;
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("iw_test.counts", {ws_}));
      for (const char* c :
           {"events", "conversation_messages", "conversations", "suppressions", "inbound"}) {
        out[c] = r.Int(c);
      }
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  // Mail from the outside world, as an MX receives it: unauthenticated SMTP to the stack.
  void Deliver(const std::string& mail_from, const std::string& rcpt, const std::string& data) {
    mail::SmtpConfig c;
    c.host = stack_.host;
    c.port = stack_.smtp_port;
    c.security = mail::SmtpSecurity::kNone;
    c.helo_name = "mx.kiln-b.test";
    mail::BlockingSmtpClient client(c);
    mail::SendResult r = client.Send(mail::Envelope{mail_from, {rcpt}}, data);
    ASSERT_TRUE(r.ok()) << r.reason;
  }

  // A lead's answer composed like a mail client does.
  std::string Compose(const std::string& from, const std::string& to, const std::string& subject,
                      const std::string& text, const std::string& in_reply_to,
                      std::vector<std::pair<std::string, std::string>> extra = {}) {
    mail::OutgoingMessage m;
    m.from = {"Lee", from};
    m.to = {{"", to}};
    m.subject = subject;
    m.text_body = text;
    m.date = SystemClock().Now();
    m.in_reply_to = in_reply_to;
    m.extra_headers = std::move(extra);
    auto raw = mail::ComposeMessage(m);
    EXPECT_TRUE(raw.ok()) << raw.status().ToString();
    return raw.ok() ? *raw : "";
  }

  Result<WatchStats> RunWatcher(InboxWatcher& watcher) {
    auto stats = watcher.RunOnce();
    if (stats.ok()) {
      for (const auto& e : watcher.mailbox_errors()) ADD_FAILURE() << e;
    }
    return stats;
  }

  testing::Mailstack stack_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<auth::SecretBox> box_;
  testing::FakeClock clock_;  // the engine's and the watcher's time
  SystemClock real_clock_;    // IMAP I/O timeouts
  std::string tag_;
  int64_t ws_ = 0;
  int64_t sender_id_ = 0;
};

TEST_P(InboxWatcherTest, RepliesBouncesAutoRepliesAndComplaintsStopLeadsExactlyOnce) {
  const int64_t t0 = clock_.NowMillis();
  // Campaign A keeps mailing after an auto-reply; campaign B stops on one.
  const std::string reply_lead = Lead("bot6", "r");
  const std::string unthreaded_lead = Lead("bot6", "u");
  const std::string ooo_lead = Lead("bot5", "o");
  const std::string complaint_lead = Lead("bot4", "c");
  const std::string bounce_lead = "nobody" + tag_ + "@kiln-b.test";
  const std::string ooo_stop_lead = Lead("bot5", "s");
  const std::vector<std::string> leads_a = {reply_lead, unthreaded_lead, ooo_lead, complaint_lead,
                                            bounce_lead};
  int64_t campaign_a = 0, campaign_b = 0;
  Status setup = db_->Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("iw_test.workspace", {t0}));
    ws_ = w.Int("id");
    KILN_ASSIGN_OR_RETURN(
        auto s, tx.QueryRow("iw_test.sender", {ws_, std::string(kSender), stack_.host,
                                               stack_.smtp_accept_port, stack_.imap_port, t0}));
    sender_id_ = s.Int("id");
    KILN_ASSIGN_OR_RETURN(auto user, stack_.User(kSender));
    const std::string id = std::to_string(sender_id_);
    KILN_ASSIGN_OR_RETURN(auto smtp_secret,
                          box_->Seal(user.password, "senders:" + id + ":smtp_secret"));
    KILN_ASSIGN_OR_RETURN(auto imap_secret,
                          box_->Seal(user.password, "senders:" + id + ":imap_secret"));
    KILN_RETURN_IF_ERROR(tx.Exec("iw_test.sender_secrets",
                                 {sender_id_, store::Blob{smtp_secret}, store::Blob{imap_secret}})
                             .status());
    for (auto [name, stop_on_auto, campaign] :
         {std::tuple{"A", false, &campaign_a}, std::tuple{"B", true, &campaign_b}}) {
      KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("iw_test.campaign", {ws_, name, stop_on_auto, t0}));
      *campaign = c.Int("id");
      for (int i = 0; i < 2; ++i) {
        KILN_ASSIGN_OR_RETURN(auto st, tx.QueryRow("iw_test.step", {ws_, *campaign, i,
                                                                    i == 0 ? 0 : 3 * 24 * 60, t0}));
        KILN_RETURN_IF_ERROR(
            tx.Exec(
                  "iw_test.variant",
                  {ws_, st.Int("id"), i == 0 ? "Quick question " + tag_ + " {{ first_name }}" : "",
                   "<p>Hi {{ first_name }}, step " + std::to_string(i + 1) + ".</p>", t0})
                .status());
      }
      KILN_RETURN_IF_ERROR(tx.Exec("iw_test.pool", {*campaign, sender_id_, ws_, t0}).status());
    }
    for (const std::string& email : leads_a) {
      KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("iw_test.contact", {ws_, email, t0}));
      KILN_RETURN_IF_ERROR(tx.Exec("iw_test.enrol", {ws_, campaign_a, c.Int("id"), t0}).status());
    }
    KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("iw_test.contact", {ws_, ooo_stop_lead, t0}));
    KILN_RETURN_IF_ERROR(tx.Exec("iw_test.enrol", {ws_, campaign_b, c.Int("id"), t0}).status());
    return Status::Ok();
  });
  ASSERT_TRUE(setup.ok()) << setup.ToString();

  // The engine sends step 1 to every lead.
  {
    domain::TimeZoneDatabase zones;
    SchedulerOptions o;
    o.worker_id = "iw-test";
    o.pacing = {.min_gap_ms = 1'000, .jitter_percent = 0};
    o.public_url = "https://kiln.example.com";
    o.tracking_key = std::string(32, 't');
    SmtpDefaults smtp;
    smtp.helo_name = "client.kiln.test";
    Scheduler scheduler(*db_, clock_, zones, SmtpTransportFactory(*box_, smtp), o);
    int sent = 0;
    // A large quota keeps the paced sends minutes apart, close to the real time of the replies.
    for (int tick = 0; tick < 1000 && sent < 6; ++tick) {
      auto stats = scheduler.RunOnce();
      ASSERT_TRUE(stats.ok()) << stats.status().ToString();
      ASSERT_TRUE(scheduler.campaign_errors().empty()) << scheduler.campaign_errors().front();
      sent += stats->sent;
      clock_.Advance(milliseconds(5'000));
    }
    ASSERT_EQ(sent, 6);
    scheduler.CloseTransports();
  }
  std::map<std::string, std::string> ours;  // lead -> our Message-ID without brackets
  std::map<std::string, std::string> subjects;
  for (const std::string& lead :
       {reply_lead, unthreaded_lead, ooo_lead, complaint_lead, bounce_lead, ooo_stop_lead}) {
    auto row = LeadRow(lead);
    ASSERT_TRUE(row.has_value()) << lead;
    ASSERT_EQ(row->Text("message_status"), "sent") << lead;
    ours[lead] = mail::NormalizeMessageId(row->Text("message_id_header"));
    subjects[lead] = row->Text("subject");
  }
  const std::string sender(kSender);

  // The leads' side.
  const std::string reply_text = "Sounds interesting, call me. " + tag_;
  Deliver(reply_lead, sender,
          Compose(reply_lead, sender, "Re: " + subjects[reply_lead], reply_text, ours[reply_lead]));
  Deliver(unthreaded_lead, sender,
          Compose(unthreaded_lead, sender, "A new thread " + tag_, "Who are you? " + tag_, ""));
  // Automatic answers; the first into Junk (user+Junk delivers there), where providers file many.
  const std::string junk_rcpt = "sender3+Junk@kiln-a.test";
  Deliver(ooo_lead, junk_rcpt,
          Compose(ooo_lead, sender, "Out of Office: Re: " + subjects[ooo_lead],
                  "I am away until Monday. " + tag_, ours[ooo_lead],
                  {{"Auto-Submitted", "auto-replied"}}));
  Deliver(ooo_stop_lead, sender,
          Compose(ooo_stop_lead, sender, "Automatic reply: " + subjects[ooo_stop_lead],
                  "Away. " + tag_, ours[ooo_stop_lead], {{"Auto-Submitted", "auto-replied"}}));
  // A mailbox provider's ARF report about our message to complaint_lead.
  const std::string arf =
      "From: Feedback Loop <fbl@kiln-b.test>\r\nTo: <" + sender + ">\r\nSubject: Abuse report " +
      tag_ + "\r\nMessage-ID: <arf" + tag_ +
      "@kiln-b.test>\r\nDate: " + mail::FormatRfc5322Date(SystemClock().Now()) +
      "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; "
      "boundary=\"arf\"\r\n\r\n--arf\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse "
      "report.\r\n--arf\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: "
      "abuse\r\nUser-Agent: KilnTestFBL/1.0\r\nVersion: 1\r\nOriginal-Mail-From: <" +
      sender + ">\r\nOriginal-Rcpt-To: <" + complaint_lead +
      ">\r\nReported-Domain: kiln-a.test\r\n\r\n--arf\r\nContent-Type: "
      "text/rfc822-headers\r\n\r\nFrom: <" +
      sender + ">\r\nTo: <" + complaint_lead + ">\r\nSubject: " + subjects[complaint_lead] +
      "\r\nMessage-ID: <" + ours[complaint_lead] + ">\r\n\r\n--arf--\r\n";
  Deliver("fbl@kiln-b.test", sender, arf);
  // Warm-up mail from a lead's address, threaded on our message: the warm-up engine's, untouched.
  const std::string warmup_id = "warm" + tag_ + "@kiln-b.test";
  {
    mail::OutgoingMessage m;
    m.from = {"", reply_lead};
    m.to = {{"", sender}};
    m.subject = "Re: " + subjects[reply_lead];
    m.text_body = "warm-up " + tag_;
    m.message_id = warmup_id;
    m.in_reply_to = ours[reply_lead];
    m.date = SystemClock().Now();
    m.extra_headers = {{"X-Kiln-Warmup", "abcdefghij0123456789"}};
    auto raw = mail::ComposeMessage(m);
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    Deliver(reply_lead, sender, *raw);
  }
  // A stranger's mail: not a lead's, left alone.
  const std::string stranger = "stranger" + tag_ + "@kiln-b.test";
  Deliver(stranger, sender, Compose(stranger, sender, "Hello " + tag_, "Buy now " + tag_, ""));

  const auto wait = milliseconds(30'000);
  for (const std::string& needle : {reply_text, "Who are you? " + tag_, "Away. " + tag_,
                                    "Abuse report " + tag_, "warm-up " + tag_, "Buy now " + tag_}) {
    ASSERT_TRUE(stack_.WaitForMessage(sender, needle, wait).ok()) << needle;
  }
  ASSERT_TRUE(stack_.WaitForMessage(sender, "I am away until Monday. " + tag_, wait, "Junk").ok());
  ASSERT_TRUE(stack_.WaitForMessage(sender, bounce_lead, wait).ok())
      << "no DSN for " << bounce_lead;

  InboxWatcherOptions wo;
  wo.worker_id = "iw-test";
  wo.fetch_batch = 7;  // several batches, so positions are saved between them
  InboxWatcher watcher(*db_, clock_, ImapInboxFactory(*box_, real_clock_), wo);
  const auto poll_start = std::chrono::steady_clock::now();
  auto stats = RunWatcher(watcher);
  const double poll_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - poll_start)
          .count();
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->senders_polled, 1);
  EXPECT_EQ(stats->failed, 0);
  std::printf("first poll of %s (INBOX + Junk): %d messages in %.0f ms (%.2f ms per message)\n",
              std::string(kSender).c_str(), stats->messages_seen, poll_ms,
              stats->messages_seen > 0 ? poll_ms / stats->messages_seen : 0.0);
  EXPECT_EQ(stats->replies, 2);
  EXPECT_EQ(stats->auto_replies, 2);
  EXPECT_EQ(stats->bounces, 1);
  EXPECT_EQ(stats->complaints, 1);

  {  // Threaded reply: conversation, replied_at, event, lead replied, sequence stopped.
    auto row = LeadRow(reply_lead);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->Text("contact_status"), "replied");
    EXPECT_EQ(row->Text("enrolment_status"), "replied");
    EXPECT_FALSE(row->IsNull("replied_at"));
    auto events = Events(row->Int("message_id"));
    ASSERT_EQ(events.size(), 2u);  // sent, replied (the warm-up mail added nothing)
    EXPECT_EQ(events[1].first, "replied");
    EXPECT_NE(events[1].second.find("in_reply_to"), std::string::npos) << events[1].second;
  }
  {  // Unthreaded mail from a lead's address is that lead's reply.
    auto row = LeadRow(unthreaded_lead);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->Text("contact_status"), "replied");
    EXPECT_EQ(row->Text("enrolment_status"), "replied");
    auto events = Events(row->Int("message_id"));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_NE(events[1].second.find("from_address"), std::string::npos) << events[1].second;
  }
  {  // Auto-reply in campaign A (no stop_on_auto_reply): recorded, the sequence goes on.
    auto row = LeadRow(ooo_lead);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->Text("contact_status"), "new");
    EXPECT_EQ(row->Text("enrolment_status"), "active");
    EXPECT_TRUE(row->IsNull("replied_at"));
    auto events = Events(row->Int("message_id"));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].first, "auto_replied");
    EXPECT_NE(events[1].second.find("\"folder\":\"Junk\""), std::string::npos) << events[1].second;
  }
  {  // Auto-reply in campaign B (stop_on_auto_reply): the sequence stops.
    auto row = LeadRow(ooo_stop_lead);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->Text("enrolment_status"), "stopped");
    EXPECT_EQ(row->Text("stop_reason"), "auto_replied");
    EXPECT_EQ(row->Text("contact_status"), "new");
  }
  {  // The real DSN: hard bounce, suppressed, lead bounced.
    auto row = LeadRow(bounce_lead);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->Text("message_status"), "bounced");
    EXPECT_FALSE(row->IsNull("bounced_at"));
    EXPECT_EQ(row->Text("contact_status"), "bounced");
    EXPECT_EQ(row->Text("enrolment_status"), "bounced");
    auto events = Events(row->Int("message_id"));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].first, "bounced");
    EXPECT_NE(events[1].second.find("\"kind\":\"hard\""), std::string::npos) << events[1].second;
    EXPECT_NE(events[1].second.find("\"reason\":\"user_unknown\""), std::string::npos)
        << events[1].second;
    EXPECT_NE(events[1].second.find("5.1.1"), std::string::npos) << events[1].second;
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("iw_test.suppression", {ws_, bounce_lead}));
      EXPECT_EQ(s.Text("reason"), "bounced");
      EXPECT_TRUE(s.IsNull("campaign_id"));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  {  // ARF complaint: suppressed, lead unsubscribed.
    auto row = LeadRow(complaint_lead);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->Text("contact_status"), "unsubscribed");
    EXPECT_EQ(row->Text("enrolment_status"), "unsubscribed");
    EXPECT_EQ(row->Text("stop_reason"), "complained");
    auto events = Events(row->Int("message_id"));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].first, "complained");
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto s, tx.QueryRow("iw_test.suppression", {ws_, complaint_lead}));
      EXPECT_EQ(s.Text("reason"), "complained");
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  {  // The conversation of the threaded reply, its message, and nothing for warm-up or strangers.
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(
          auto rows, tx.Query("iw_test.conversation_messages", {ws_, "<" + warmup_id + ">"}));
      EXPECT_TRUE(rows.empty());
      KILN_ASSIGN_OR_RETURN(auto inbound,
                            tx.Query("iw_test.inbound", {ws_, "<" + warmup_id + ">"}));
      EXPECT_TRUE(inbound.empty());
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  const auto counts = Counts();
  EXPECT_EQ(counts.at("conversations"), 4);  // two replies, two auto-replies
  EXPECT_EQ(counts.at("conversation_messages"), 4);
  EXPECT_EQ(counts.at("suppressions"), 2);
  EXPECT_EQ(counts.at("inbound"), 6);
  EXPECT_EQ(counts.at("events"), 12);  // 6 sent + 6 recorded

  // Polled again after the interval: nothing new, nothing twice.
  clock_.Advance(milliseconds(121'000));
  stats = RunWatcher(watcher);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->senders_polled, 1);
  EXPECT_EQ(stats->replies + stats->auto_replies + stats->bounces + stats->complaints, 0);
  EXPECT_EQ(Counts(), counts);

  // Not due yet: not polled.
  stats = RunWatcher(watcher);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->senders_polled, 0);

  // UIDVALIDITY changed (as after a folder is rebuilt): every folder is read again from UID 1,
  // and the ledger keeps each message single.
  ASSERT_TRUE(db_->Write([&](store::Tx& tx) {
                   return tx.Exec("iw_test.bump_uidvalidity", {sender_id_}).status();
                 })
                  .ok());
  clock_.Advance(milliseconds(121'000));
  stats = RunWatcher(watcher);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->replies + stats->auto_replies + stats->bounces + stats->complaints, 0);
  EXPECT_GE(stats->duplicates, 6);
  EXPECT_EQ(Counts(), counts);

  // Another worker holds the mailbox: this one leaves it alone.
  InboxWatcherOptions other_options = wo;
  other_options.worker_id = "iw-other";
  {
    InboxWatcher other(*db_, clock_, ImapInboxFactory(*box_, real_clock_), other_options);
    clock_.Advance(milliseconds(121'000));
    ASSERT_TRUE(db_->Write([&](store::Tx& tx) -> Status {
                     return tx
                         .Exec("inbox.watch_claim",
                               {sender_id_, std::string("iw-test"), clock_.NowMillis() + 600'000,
                                clock_.NowMillis()})
                         .status();
                   })
                    .ok());
    auto other_stats = other.RunOnce();
    ASSERT_TRUE(other_stats.ok());
    EXPECT_EQ(other_stats->senders_polled, 0);
  }

  // A refused login is written on the sender (which stays active), and cleared once it works.
  auto wrong =
      box_->Seal("wrong-password", "senders:" + std::to_string(sender_id_) + ":imap_secret");
  ASSERT_TRUE(wrong.ok());
  ASSERT_TRUE(
      db_->Write([&](store::Tx& tx) {
           return tx.Exec("iw_test.break_imap_secret", {sender_id_, store::Blob{*wrong}}).status();
         })
          .ok());
  stats = watcher.RunOnce();  // holds the lease taken above as iw-test
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->mailbox_errors, 1);
  ASSERT_EQ(watcher.mailbox_errors().size(), 1u);
  EXPECT_NE(watcher.mailbox_errors()[0].find("login refused"), std::string::npos)
      << watcher.mailbox_errors()[0];
  auto reason = [&]() {
    std::pair<std::string, std::string> out;
    EXPECT_TRUE(db_->Read([&](store::Tx& tx) -> Status {
                     KILN_ASSIGN_OR_RETURN(auto r,
                                           tx.QueryRow("iw_test.sender_reason", {sender_id_}));
                     out = {r.Text("status"), r.Text("status_reason")};
                     return Status::Ok();
                   })
                    .ok());
    return out;
  };
  EXPECT_EQ(reason().first, "active");
  EXPECT_EQ(reason().second.rfind("IMAP: login refused", 0), 0u) << reason().second;
  auto user = stack_.User(kSender);
  ASSERT_TRUE(user.ok());
  auto right = box_->Seal(user->password, "senders:" + std::to_string(sender_id_) + ":imap_secret");
  ASSERT_TRUE(right.ok());
  ASSERT_TRUE(
      db_->Write([&](store::Tx& tx) {
           return tx.Exec("iw_test.break_imap_secret", {sender_id_, store::Blob{*right}}).status();
         })
          .ok());
  clock_.Advance(milliseconds(121'000));
  stats = RunWatcher(watcher);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->senders_polled, 1);
  EXPECT_EQ(reason().second, "");
  EXPECT_EQ(Counts(), counts);
}

INSTANTIATE_TEST_SUITE_P(Db, InboxWatcherTest, ::testing::ValuesIn(testing::DbBackends()),
                         testing::DbBackendName());

}  // namespace
}  // namespace kiln::engine
