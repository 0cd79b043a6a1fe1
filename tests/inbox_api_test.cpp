// The unified inbox over HTTP, end to end: the real `kiln serve` (its own workers and inbox
// watcher), the real mail stack (scripts/mailstack), SQLite and PostgreSQL.
//
// The campaign's first message is written into kiln's database as the engine records it and sent
// to the lead's real mailbox composed the way the engine composes; the lead answers over SMTP with
// In-Reply-To; kiln's inbox watcher finds the answer and the API lists the conversation. Then:
// filters, the thread in order, read/unread and statuses, roles (a viewer reads, cannot change or
// answer), a reply through the sender's SMTP that arrives threaded in the lead's Dovecot mailbox
// with a copy in the sender's Sent folder, and a reply refused by the sender's SMTP server
// answering an error that names the failure. Needs `scripts/mailstack start` and `eval
// "$(scripts/mailstack env)"`.
#include <chrono>
#include <thread>

#include "api_test_util.h"
#include "kiln/auth/secret_box.h"
#include "kiln/base/clock.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/mail/smtp_client.h"
#include "kiln/store/db.h"
#include "kiln/testing/mailstack.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;

constexpr char kTestQueries[] = R"(-- Test-only statements.
-- name: test.activate_sender
UPDATE senders SET status = 'active' WHERE workspace_id = $1 AND id = $2;
-- name: test.insert_sent
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, sender_id, status,
                      message_id_header, thread_root_header, subject, scheduled_at, sent_at,
                      created_at, updated_at)
VALUES ($1, $2, $3, (SELECT id FROM campaign_steps WHERE campaign_id = $2 ORDER BY position LIMIT 1),
        $4, 'sent', $5, $5, $6, $7, $7, $7, $7)
ON CONFLICT (campaign_id, contact_id, step_id) DO UPDATE
  SET status = 'sent', sender_id = $4, message_id_header = $5, thread_root_header = $5,
      subject = $6, sent_at = $7
RETURNING id;
-- name: test.set_smtp_secret
UPDATE senders SET smtp_secret = $2 WHERE id = $1;
-- name: test.contact_status
SELECT status FROM contacts WHERE id = $1;
-- name: test.enrolment
SELECT status FROM campaign_contacts WHERE campaign_id = $1 AND contact_id = $2;
)";

class InboxApiTest : public KilnApiFixture {
 protected:
  void SetUp() override {
    auto stack = Mailstack::FromEnv();
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    stack_ = *stack;
    KilnApiFixture::SetUp();
    if (HasFatalFailure()) return;
    StartKiln({"--rate-limit-per-minute", "1000000", "--inbox-poll-seconds", "10"});
    if (HasFatalFailure()) return;
    tag_ =
        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1'000'000'000);
  }
  store::Database& Db() { return KilnApiFixture::Db(kTestQueries); }
  std::string QueryText(std::string_view query, store::Params params, std::string_view col) {
    std::string out = "<missing>";
    Status st = Db().Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow(query, params));
      out = row.Text(col);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }
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
  // The first conversation of the workspace, waiting for kiln's watcher to find it.
  json::object WaitForConversation(Session& s) {
    for (int i = 0; i < 90; ++i) {
      auto r = s.Get(s.Ws() + "/conversations");
      EXPECT_EQ(r.status, 200) << r.body;
      auto v = Json(r);
      if (v.is_object() && !v.at("items").as_array().empty()) {
        return v.at("items").as_array()[0].as_object();
      }
      std::this_thread::sleep_for(milliseconds(1000));
    }
    ADD_FAILURE() << "kiln's inbox watcher recorded no conversation in 90 s";
    return {};
  }
  // A header of a stored message (Maildir files have LF line ends), unfolded.
  static std::string Header(const std::string& data, const std::string& name) {
    const std::string key = name + ": ";
    std::string out;
    bool in_field = false;
    size_t p = 0;
    while (p < data.size()) {
      size_t end = data.find('\n', p);
      if (end == std::string::npos) end = data.size();
      std::string line = data.substr(p, end - p);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      p = end + 1;
      if (line.empty()) break;  // end of the header block
      if (in_field && (line[0] == ' ' || line[0] == '\t')) {
        out += line;
        continue;
      }
      if (in_field) break;
      if (line.compare(0, key.size(), key) == 0) {
        out = line.substr(key.size());
        in_field = true;
      }
    }
    return out;
  }

  Mailstack stack_;
  std::string tag_;
};

TEST_P(InboxApiTest, LeadReplyIsListedAndAnsweredInThread) {
  Session owner = NewOwner("owner@kiln-a.test");
  const std::string sender_email = "sender3@kiln-a.test";
  auto user = stack_.User(sender_email);
  ASSERT_TRUE(user.ok());
  json::object sender_body{{"name", "Sales"},
                           {"email", sender_email},
                           {"from_name", "Sam Sender"},
                           {"allow_self_signed", true},
                           {"smtp",
                            {{"host", stack_.host},
                             {"port", stack_.smtp_port},
                             {"security", "starttls"},
                             {"username", sender_email},
                             {"password", user->password}}},
                           {"imap",
                            {{"host", stack_.host},
                             {"port", stack_.imap_port},
                             {"security", "starttls"},
                             {"username", sender_email},
                             {"password", user->password}}}};
  const int64_t sender = CreateId(owner, "/senders", sender_body);
  ASSERT_GT(sender, 0);
  ASSERT_TRUE(Db().Write([&](store::Tx& tx) {
                    return tx.Exec("test.activate_sender", {owner.ws, sender}).status();
                  })
                  .ok());
  const std::string lead_email = "bot6+i" + tag_ + "@kiln-b.test";
  const int64_t list = CreateId(owner, "/lists", {{"name", "Leads"}});
  const int64_t lead =
      CreateId(owner, "/contacts",
               {{"email", lead_email}, {"first_name", "Lee"}, {"list_ids", json::array{list}}});
  json::array steps{json::object{
      {"delay_minutes", 0},
      {"variants", json::array{json::object{{"subject", "Hello"}, {"body_text", "Hi there"}}}}}};
  const int64_t campaign = CreateId(owner, "/campaigns",
                                    {{"name", "Outreach"},
                                     {"sender_ids", json::array{sender}},
                                     {"list_ids", json::array{list}},
                                     {"steps", steps}});
  auto launched = owner.Action(owner.Ws() + "/campaigns/" + std::to_string(campaign) + "/launch");
  ASSERT_EQ(launched.status, 200) << launched.body;

  // The campaign's first message, as the engine records and composes it.
  const std::string cold_id = "cold" + tag_ + "@kiln-a.test";
  const std::string cold_subject = "Quick question " + tag_;
  const int64_t sent_at = SystemClock().NowMillis();
  ASSERT_TRUE(Db().Write([&](store::Tx& tx) -> Status {
                    return tx
                        .Exec("test.insert_sent", {owner.ws, campaign, lead, sender,
                                                   "<" + cold_id + ">", cold_subject, sent_at})
                        .status();
                  })
                  .ok());
  {
    mail::OutgoingMessage m;
    m.from = {"Sam Sender", sender_email};
    m.to = {{"Lee", lead_email}};
    m.subject = cold_subject;
    m.text_body = "Hi Lee, would this help? " + tag_;
    m.message_id = cold_id;
    m.date = SystemClock().Now();
    auto raw = mail::ComposeMessage(m);
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    Deliver(sender_email, lead_email, *raw);
  }
  // The lead answers from their mail client.
  const std::string answer_id = "answer" + tag_ + "@kiln-b.test";
  {
    mail::OutgoingMessage m;
    m.from = {"Lee", lead_email};
    m.to = {{"Sam Sender", sender_email}};
    m.subject = "Re: " + cold_subject;
    m.text_body = "Yes, tell me more. " + tag_;
    m.message_id = answer_id;
    m.in_reply_to = cold_id;
    m.date = SystemClock().Now();
    auto raw = mail::ComposeMessage(m);
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    Deliver(lead_email, sender_email, *raw);
  }

  json::object conv = WaitForConversation(owner);
  ASSERT_FALSE(conv.empty());
  const int64_t id = conv.at("id").as_int64();
  const std::string path = owner.Ws() + "/conversations/" + std::to_string(id);
  EXPECT_EQ(conv.at("lead").at("email").as_string(), lead_email);
  EXPECT_EQ(conv.at("lead").at("status").as_string(), "replied");
  EXPECT_EQ(conv.at("campaign_id").as_int64(), campaign);
  EXPECT_EQ(conv.at("sender_id").as_int64(), sender);
  EXPECT_EQ(conv.at("status").as_string(), "open");
  EXPECT_FALSE(conv.at("is_read").as_bool());
  EXPECT_EQ(conv.at("subject").as_string(), cold_subject);
  // The sequence stopped on the reply.
  EXPECT_EQ(QueryText("test.enrolment", {campaign, lead}, "status"), "replied");

  auto count = [&](const std::string& query) -> int64_t {
    auto r = owner.Get(owner.Ws() + "/conversations" + query);
    EXPECT_EQ(r.status, 200) << query << " -> " << r.body;
    auto v = Json(r);
    return v.is_object() ? static_cast<int64_t>(v.at("items").as_array().size()) : -1;
  };
  EXPECT_EQ(count("?unread=true"), 1);
  EXPECT_EQ(count("?unread=false"), 0);
  EXPECT_EQ(count("?q=" + tag_), 1);
  EXPECT_EQ(count("?q=nothing-like-this"), 0);
  EXPECT_EQ(count("?status=open&campaign_id=" + std::to_string(campaign)), 1);
  EXPECT_EQ(count("?sender_id=" + std::to_string(sender + 1000)), 0);
  EXPECT_EQ(count("?status=closed"), 0);
  EXPECT_EQ(count("?limit=1&before=" + std::to_string(id)), 0);
  auto bad = owner.Get(owner.Ws() + "/conversations?status=happy");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrField(bad), "status");
  bad = owner.Get(owner.Ws() + "/conversations?unread=maybe");
  EXPECT_EQ(ErrField(bad), "unread");

  // The thread: our campaign mail, then their answer.
  auto thread = owner.Get(path);
  ASSERT_EQ(thread.status, 200) << thread.body;
  auto messages = Json(thread).at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u) << thread.body;
  EXPECT_EQ(messages[0].at("kind").as_string(), "campaign");
  EXPECT_EQ(messages[0].at("message_id").as_string(), "<" + cold_id + ">");
  EXPECT_EQ(messages[1].at("direction").as_string(), "in");
  EXPECT_EQ(messages[1].at("kind").as_string(), "reply");
  EXPECT_EQ(messages[1].at("message_id").as_string(), "<" + answer_id + ">");
  EXPECT_NE(std::string(messages[1].at("body_text").as_string()).find("tell me more"),
            std::string::npos);

  // A viewer reads but changes nothing.
  auto added = owner.Post(
      owner.Ws() + "/members",
      json::serialize(json::object{{"email", "viewer@kiln-a.test"}, {"role", "viewer"}}));
  ASSERT_EQ(added.status, 201) << added.body;
  Session viewer =
      Login("viewer@kiln-a.test", std::string(Json(added).at("initial_password").as_string()));
  viewer.ws = owner.ws;
  EXPECT_EQ(viewer.Get(path).status, 200);
  EXPECT_EQ(viewer.Patch(path, R"({"is_read":true})").status, 403);
  EXPECT_EQ(viewer.Post(path + "/reply", R"({"text":"hi"})").status, 403);
  // Another workspace does not see it.
  Session stranger = NewOwner("stranger@kiln-b.test");
  EXPECT_EQ(stranger.Get(path).status, 404);

  // Read, interested, meeting booked.
  auto patched =
      owner.Patch(path, R"({"is_read":true,"status":"interested","lead_status":"meeting_booked"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_TRUE(Json(patched).at("is_read").as_bool());
  EXPECT_EQ(Json(patched).at("status").as_string(), "interested");
  EXPECT_EQ(Json(patched).at("lead").at("status").as_string(), "meeting_booked");
  EXPECT_EQ(QueryText("test.contact_status", {lead}, "status"), "meeting_booked");
  EXPECT_EQ(count("?unread=true"), 0);
  EXPECT_EQ(count("?status=interested"), 1);
  bad = owner.Patch(path, R"({"lead_status":"vip"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrField(bad), "lead_status");
  bad = owner.Patch(path, R"({"colour":"red"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(owner.Patch(owner.Ws() + "/conversations/999999", R"({"is_read":true})").status, 404);

  // Our answer: through sender3's SMTP, threaded on their answer, copied to Sent.
  const std::string our_text = "Great, does Tuesday suit you? " + tag_;
  auto replied = owner.Post(path + "/reply", json::serialize(json::object{{"text", our_text}}));
  ASSERT_EQ(replied.status, 201) << replied.body;
  auto rv = Json(replied);
  EXPECT_TRUE(rv.at("sent_copy").as_bool()) << replied.body;
  EXPECT_EQ(rv.at("to").as_string(), lead_email);
  EXPECT_EQ(rv.at("subject").as_string(), "Re: " + cold_subject);
  EXPECT_EQ(rv.at("smtp").at("code").as_int64(), 250);
  const std::string our_id = std::string(rv.at("message_id").as_string());
  auto arrived = stack_.WaitForMessage("bot6@kiln-b.test", our_text, milliseconds(30'000));
  ASSERT_TRUE(arrived.ok()) << arrived.status().ToString();
  EXPECT_EQ(Header(*arrived, "In-Reply-To"), "<" + answer_id + ">");
  const std::string references = Header(*arrived, "References");
  EXPECT_NE(references.find("<" + cold_id + ">"), std::string::npos) << references;
  EXPECT_NE(references.find("<" + answer_id + ">"), std::string::npos) << references;
  EXPECT_EQ(Header(*arrived, "Message-ID"), our_id);
  EXPECT_EQ(Header(*arrived, "Subject"), "Re: " + cold_subject);
  auto copy = stack_.WaitForMessage(sender_email, our_text, milliseconds(10'000), "Sent");
  EXPECT_TRUE(copy.ok()) << copy.status().ToString();

  thread = owner.Get(path);
  messages = Json(thread).at("messages").as_array();
  ASSERT_EQ(messages.size(), 3u) << thread.body;
  EXPECT_EQ(messages[2].at("direction").as_string(), "out");
  EXPECT_EQ(messages[2].at("message_id").as_string(), our_id);
  EXPECT_EQ(messages[2].at("body_text").as_string(), our_text);

  // A sender whose SMTP login is refused: the answer names the failure; nothing is recorded.
  auto box = auth::SecretBox::LoadOrCreateKeyFile(data_dir_ + "/secret.key");
  ASSERT_TRUE(box.ok()) << box.status().ToString();
  auto wrong = box->Seal("not-the-password", "senders:" + std::to_string(sender) + ":smtp_secret");
  ASSERT_TRUE(wrong.ok());
  ASSERT_TRUE(Db().Write([&](store::Tx& tx) {
                    return tx.Exec("test.set_smtp_secret", {sender, store::Blob{*wrong}}).status();
                  })
                  .ok());
  auto refused = owner.Post(path + "/reply", R"({"text":"Are you there?"})");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(ErrCode(refused), "failed_precondition");
  EXPECT_NE(refused.body.find(sender_email), std::string::npos) << refused.body;
  // Where the exchange stopped (the AUTH step) and what went wrong there.
  EXPECT_NE(refused.body.find("failed at auth (auth): "), std::string::npos) << refused.body;
  thread = owner.Get(path);
  EXPECT_EQ(Json(thread).at("messages").as_array().size(), 3u);
  bad = owner.Post(path + "/reply", R"({"text":""})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrField(bad), "text");
}

INSTANTIATE_TEST_SUITE_P(Db, InboxApiTest, ::testing::ValuesIn(DbBackends()), DbBackendName());

}  // namespace
}  // namespace kiln::testing
