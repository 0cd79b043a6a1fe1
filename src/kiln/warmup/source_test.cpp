#include "kiln/warmup/source.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "kiln/engine/scheduler.h"
#include "kiln/mail/classify_warmup.h"
#include "kiln/mail/incoming.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/testing/db_fixture.h"
#include "kiln/warmup/content.h"

namespace kiln::warmup {
namespace {

constexpr std::string_view kFixtureSql = R"sql(
-- name: warmup_test.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('w', $1, $1) RETURNING id;
-- name: warmup_test.sender
INSERT INTO senders (workspace_id, email, from_name, smtp_host, smtp_port, smtp_security,
                     status, warmup_start_at, warmup_end_at, warmup_start_volume,
                     warmup_daily_increase, warmup_daily_target, created_at, updated_at)
VALUES ($1, $2, $3, '127.0.0.1', 25, 'none', 'active', $4, $5, 3, 1, 10, $4, $4)
RETURNING id;
-- name: warmup_test.bot
INSERT INTO bots (workspace_id, name, email, provider, smtp_host, smtp_port, smtp_security,
                  imap_host, imap_port, imap_security, aging_start_at, aging_end_at,
                  aging_start_volume, daily_send_limit, daily_receive_limit, status, created_at,
                  updated_at)
VALUES ($1, $2, $3, $4, '127.0.0.1', 25, 'none', '127.0.0.1', 143, 'none', $5, $5, 1, $6, $7,
        'active', $5, $5)
RETURNING id;
-- name: warmup_test.bot_status
UPDATE bots SET status = $2 WHERE id = $1;
-- name: warmup_test.bot_receive_limit
UPDATE bots SET daily_receive_limit = $2 WHERE id = $1;
-- name: warmup_test.sender_status
UPDATE senders SET status = $2 WHERE id = $1;
-- name: warmup_test.insert
INSERT INTO warmup_messages (workspace_id, sender_id, bot_id, peer_sender_id, direction,
                             thread_id, parent_id, exchange, token, message_id_header, subject,
                             status, scheduled_at, sent_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $13, $13)
RETURNING id;
-- name: warmup_test.bodies
INSERT INTO warmup_bodies (message_id, text_body, html_body) VALUES ($1, $2, $3);
-- name: warmup_test.row
SELECT w.id, w.sender_id, w.bot_id, w.peer_sender_id, w.direction, w.thread_id, w.parent_id,
       w.exchange, w.token, w.message_id_header, w.subject, COALESCE(b.text_body, '') AS text_body,
       w.status, w.scheduled_at, w.sent_at, w.replied_at, w.error, w.smtp_code
FROM warmup_messages w LEFT JOIN warmup_bodies b ON b.message_id = w.id WHERE w.id = $1;
)sql";

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kStart = 1'790'000'000'000;  // Mon, 21 Sep 2026 14:13:20 UTC
constexpr int64_t kNow = kStart + 30 * kDay;   // the bots are aged by now

class WarmupSourceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store::OpenOptions options;
    options.extra_sql_files.push_back({"queries/warmup_test.sql", std::string(kFixtureSql)});
    auto db = testing::OpenFreshTestDatabase(GetParam(), options);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    workspace_ = Insert("warmup_test.workspace", {kStart});
  }

  int64_t Insert(std::string_view query, const store::Params& params) {
    int64_t id = 0;
    Status st = db_->Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(store::Row row, tx.QueryRow(query, params));
      id = row.Int("id");
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return id;
  }
  // A warm-up row with its bodies: `params` as warmup_test.insert's, with the text and html
  // bodies after the subject (12th and 13th).
  int64_t InsertWarmup(const store::Params& params) {
    store::Params row(params.begin(), params.end());
    row.erase(row.begin() + 11, row.begin() + 13);
    const int64_t id = Insert("warmup_test.insert", row);
    Exec("warmup_test.bodies", {id, params[11], params[12]});
    return id;
  }
  void Exec(std::string_view query, const store::Params& params) {
    Status st = db_->Write([&](store::Tx& tx) { return tx.Exec(query, params).status(); });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  store::Row Row(int64_t id) {
    std::optional<store::Row> out;
    Status st = db_->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(store::Row row, tx.QueryRow("warmup_test.row", {id}));
      out = std::move(row);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return *out;
  }

  engine::SenderInfo Sender(std::string email, std::string name,
                            std::optional<int64_t> warmup_end = kNow + 20 * kDay) {
    engine::SenderInfo s;
    s.id = Insert("warmup_test.sender", {workspace_, email, name, kStart, warmup_end});
    s.workspace_id = workspace_;
    s.email = std::move(email);
    s.from_name = std::move(name);
    s.status = "active";
    return s;
  }
  int64_t Bot(std::string email, int receive_limit, int send_limit = 20,
              std::string provider = "other") {
    return Insert("warmup_test.bot",
                  {workspace_, "Bot " + email, email, provider, kStart, send_limit, receive_limit});
  }

  static mail::SendResult Accepted() {
    mail::SendResult r;
    r.cls = mail::SendResult::Class::kAccepted;
    r.code = 250;
    r.text = "2.0.0 Ok: queued";
    return r;
  }

  std::unique_ptr<store::Database> db_;
  domain::TimeZoneDatabase zones_;
  int64_t workspace_ = 0;
};

std::string HeaderValue(const mail::OutgoingMessage& m, std::string_view name) {
  for (const auto& [n, v] : m.extra_headers) {
    if (n == name) return v;
  }
  return "";
}

TEST_P(WarmupSourceTest, NewThreadsFillEveryBotsRoomAndNoMore) {
  engine::SenderInfo sender = Sender("ann@sender.test", "Ann Lee");
  std::map<int64_t, std::string> bots = {{Bot("b1@alpha.test", 2), "b1@alpha.test"},
                                         {Bot("b2@alpha.test", 2), "b2@alpha.test"},
                                         {Bot("b3@beta.test", 2), "b3@beta.test"}};
  DbWarmupSource source(*db_, zones_, {{0}, Millis(900'000), 7});
  std::map<std::string, int> received;
  std::vector<std::string> domains;
  for (int i = 0; i < 6; ++i) {
    auto next = source.Next(sender, kNow + i * 60'000);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    ASSERT_TRUE(next->has_value()) << "message " << i;
    const engine::WarmupMessage& w = **next;
    const mail::OutgoingMessage& m = w.message;
    EXPECT_EQ(m.from.email, "ann@sender.test");
    EXPECT_EQ(m.from.name, "Ann Lee");
    ASSERT_EQ(m.to.size(), 1u);
    ++received[m.to[0].email];
    domains.push_back(AddressDomain(m.to[0].email));
    EXPECT_TRUE(m.message_id.ends_with("@sender.test")) << m.message_id;
    EXPECT_TRUE(m.in_reply_to.empty());
    EXPECT_TRUE(m.list_unsubscribe_url.empty());
    EXPECT_TRUE(m.list_unsubscribe_mailto.empty());

    store::Row row = Row(w.warmup_message_id);
    EXPECT_EQ(row.Text("status"), "sending");  // claimed before anything is sent
    EXPECT_EQ(row.Text("direction"), "out");
    EXPECT_EQ(row.Int("exchange"), 1);
    EXPECT_EQ(row.Int("thread_id"), w.warmup_message_id);
    EXPECT_EQ(row.Text("message_id_header"), "<" + m.message_id + ">");
    EXPECT_EQ(row.Text("subject"), m.subject);
    const std::string token = row.Text("token");
    EXPECT_TRUE(mail::IsValidWarmupToken(token)) << token;
    EXPECT_EQ(HeaderValue(m, mail::kWarmupHeader), token);

    // What a bot will see: the tag survives composing and parsing.
    auto raw = mail::ComposeMessage(m);
    ASSERT_TRUE(raw.ok()) << raw.status().ToString();
    EXPECT_EQ(raw->find("List-Unsubscribe"), std::string::npos);
    auto parsed = mail::ParseIncoming(*raw);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(mail::ExtractWarmupToken(*parsed), token);

    ASSERT_TRUE(source.Record(w.warmup_message_id, Accepted(), kNow + i * 60'000 + 1000).ok());
    store::Row settled = Row(w.warmup_message_id);
    EXPECT_EQ(settled.Text("status"), "sent");
    EXPECT_EQ(settled.Int("smtp_code"), 250);
    EXPECT_EQ(settled.Int("sent_at"), kNow + i * 60'000);  // the claim's instant, kept
  }
  for (const auto& [id, email] : bots) EXPECT_EQ(received[email], 2) << email;
  for (size_t i = 1; i < domains.size(); ++i) {
    // beta has 2 of the 6 rooms: alpha twice in a row at most once (a,b,a,b,a,a).
    if (domains[i] == "beta.test") {
      EXPECT_NE(domains[i - 1], "beta.test");
    }
  }
  auto none = source.Next(sender, kNow + 10 * 60'000);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value()) << "every bot's receive limit is used for today";

  // The bots' next day (UTC): room again.
  auto tomorrow = source.Next(sender, kNow + kDay);
  ASSERT_TRUE(tomorrow.ok());
  EXPECT_TRUE(tomorrow->has_value());
}

TEST_P(WarmupSourceTest, ABotWhoseRepliesReachItsSendLimitGetsNothing) {
  engine::SenderInfo sender = Sender("ann@sender.test", "Ann");
  const int64_t busy = Bot("busy@alpha.test", 10, /*send_limit=*/1);
  const int64_t free_bot = Bot("free@beta.test", 1);
  // busy already sent its one reply today.
  const int64_t out = InsertWarmup({workspace_, sender.id, busy, std::nullopt, "out", std::nullopt,
                                    std::nullopt, 1, "aaaaaaaaaaaaaaaaaaaa", "<o1@sender.test>",
                                    "Hi", "x", "", "sent", kNow - 3'600'000, kNow - 3'600'000});
  InsertWarmup({workspace_, sender.id, busy, std::nullopt, "back", out, out, 2,
                "aaaaaaaaaaaaaaaaaaaa", "<r1@alpha.test>", "Re: Hi", "y", "", "sent",
                kNow - 600'000, kNow - 600'000});
  DbWarmupSource source(*db_, zones_, {{0}, Millis(900'000), 1});
  auto next = source.Next(sender, kNow);
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->message.to[0].email, "free@beta.test");
  ASSERT_TRUE(source.Record((*next)->warmup_message_id, Accepted(), kNow).ok());
  next = source.Next(sender, kNow + 1000);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  (void)free_bot;
}

TEST_P(WarmupSourceTest, PeersWarmEachOtherAndOwedAnswersComeFirst) {
  engine::SenderInfo ann = Sender("ann@a-corp.test", "Ann Lee");
  engine::SenderInfo bob = Sender("bob@b-corp.test", "Bob Stone");
  DbWarmupSource source(*db_, zones_, {{100}, Millis(900'000), 3});

  // No bots: Ann's new thread goes to Bob.
  auto first = source.Next(ann, kNow);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->message.to[0].email, "bob@b-corp.test");
  EXPECT_EQ(Row((*first)->warmup_message_id).Int("peer_sender_id"), bob.id);
  ASSERT_TRUE(source.Record((*first)->warmup_message_id, Accepted(), kNow + 1000).ok());
  store::Row out = Row((*first)->warmup_message_id);

  // The receiving side schedules Bob's answer (with its bodies) for later.
  const std::string token = out.Text("token");
  WarmupContent reply = ReplyContent(5, {"Bob Stone", "Ann Lee"}, token,
                                     {out.Text("subject"), out.Text("text_body"),
                                      "Ann Lee <ann@a-corp.test>", FromUnixMillis(kNow)});
  const int64_t owed =
      InsertWarmup({workspace_, ann.id, std::nullopt, bob.id, "back", out.Int("id"), out.Int("id"),
                    2, token, "<answer1@b-corp.test>", reply.subject, reply.text_body,
                    reply.html_body, "scheduled", kNow + 3'600'000, std::nullopt});

  // Not due yet: Bob starts a thread of his own (to Ann, the only peer).
  auto bob_next = source.Next(bob, kNow + 60'000);
  ASSERT_TRUE(bob_next.ok());
  ASSERT_TRUE(bob_next->has_value());
  EXPECT_NE((*bob_next)->warmup_message_id, owed);
  EXPECT_EQ(Row((*bob_next)->warmup_message_id).Text("direction"), "out");
  ASSERT_TRUE(source.Record((*bob_next)->warmup_message_id, Accepted(), kNow + 61'000).ok());

  // Due: the owed answer comes first, exactly as scheduled, threaded.
  bob_next = source.Next(bob, kNow + 3'600'000);
  ASSERT_TRUE(bob_next.ok());
  ASSERT_TRUE(bob_next->has_value());
  const mail::OutgoingMessage& m = (*bob_next)->message;
  EXPECT_EQ((*bob_next)->warmup_message_id, owed);
  EXPECT_EQ(m.from.email, "bob@b-corp.test");
  EXPECT_EQ(m.to[0].email, "ann@a-corp.test");
  EXPECT_EQ(m.to[0].name, "Ann Lee");
  EXPECT_EQ(m.subject, reply.subject);
  EXPECT_EQ(m.text_body, reply.text_body);
  EXPECT_EQ(m.message_id, "answer1@b-corp.test");
  const std::string out_header = out.Text("message_id_header");
  EXPECT_EQ(m.in_reply_to, out_header.substr(1, out_header.size() - 2));
  EXPECT_EQ(m.references, std::vector<std::string>{m.in_reply_to});
  EXPECT_EQ(HeaderValue(m, mail::kWarmupHeader), token);
  EXPECT_EQ(Row(owed).Text("status"), "sending");
  ASSERT_TRUE(source.Record(owed, Accepted(), kNow + 3'601'000).ok());
  EXPECT_EQ(Row(owed).Text("status"), "sent");
  EXPECT_EQ(Row(out.Int("id")).Int("replied_at"), kNow + 3'601'000);
}

TEST_P(WarmupSourceTest, ContinuationsBeforeNewThreadsAndCanceledWhenTheBotIsGone) {
  engine::SenderInfo ann = Sender("ann@a-corp.test", "Ann Lee");
  const int64_t bot = Bot("b1@alpha.test", 5);
  const std::string token = "cccccccccccccccccccc";
  const int64_t out = InsertWarmup({workspace_, ann.id, bot, std::nullopt, "out", std::nullopt,
                                    std::nullopt, 1, token, "<o1@a-corp.test>", "Plans", "Hi", "",
                                    "sent", kNow - 7'200'000, kNow - 7'200'000});
  const int64_t back = InsertWarmup({workspace_, ann.id, bot, std::nullopt, "back", out, out, 2,
                                     token, "<r1@alpha.test>", "Re: Plans", "Sure\n\n> Hi", "",
                                     "sent", kNow - 3'600'000, kNow - 3'600'000});
  // Scheduled without bodies: the source answers the stored parent itself.
  const int64_t cont =
      InsertWarmup({workspace_, ann.id, bot, std::nullopt, "out", out, back, 3, token, std::nullopt,
                    "", "", "", "scheduled", kNow - 60'000, std::nullopt});
  DbWarmupSource source(*db_, zones_, {{0}, Millis(900'000), 3});
  auto next = source.Next(ann, kNow);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_TRUE(next->has_value());
  const mail::OutgoingMessage& m = (*next)->message;
  EXPECT_EQ((*next)->warmup_message_id, cont);
  EXPECT_EQ(m.to[0].email, "b1@alpha.test");
  EXPECT_EQ(m.subject, "Re: Plans");
  EXPECT_NE(m.text_body.find("> Sure"), std::string::npos) << m.text_body;
  EXPECT_NE(m.text_body.find("kw-" + token), std::string::npos);
  EXPECT_TRUE(m.message_id.ends_with("@a-corp.test"));
  EXPECT_EQ(m.in_reply_to, "r1@alpha.test");
  EXPECT_EQ(m.references, (std::vector<std::string>{"o1@a-corp.test", "r1@alpha.test"}));
  store::Row claimed = Row(cont);
  EXPECT_EQ(claimed.Text("status"), "sending");
  EXPECT_EQ(claimed.Text("message_id_header"), "<" + m.message_id + ">");
  EXPECT_EQ(claimed.Text("text_body"), m.text_body);

  // A continuation to a bot that was paused meanwhile is canceled, not sent.
  const int64_t cont2 =
      InsertWarmup({workspace_, ann.id, bot, std::nullopt, "out", out, cont, 3, token, std::nullopt,
                    "Re: Plans", "text", "", "scheduled", kNow, std::nullopt});
  Exec("warmup_test.bot_status", {bot, "paused"});
  auto after = source.Next(ann, kNow + 1000);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_value());  // and no active bot for a new thread either
  EXPECT_EQ(Row(cont2).Text("status"), "canceled");
  EXPECT_NE(Row(cont2).Text("error").find("not active"), std::string::npos);
}

TEST_P(WarmupSourceTest, AContinuationWaitsForTheNextDayOfACounterpartWithNoRoomLeft) {
  engine::SenderInfo ann = Sender("ann@a-corp.test", "Ann Lee");
  const int64_t full = Bot("b1@alpha.test", 2);
  const int64_t other = Bot("b2@beta.test", 5);
  const std::string token = "dddddddddddddddddddd";
  // b1 (UTC) received two mails today; the receiving side then scheduled Ann's next mail in
  // the first thread without counting: sending it would make three.
  const int64_t first = InsertWarmup({workspace_, ann.id, full, std::nullopt, "out", std::nullopt,
                                      std::nullopt, 1, token, "<o1@a-corp.test>", "Plans", "Hi", "",
                                      "sent", kNow - 7'200'000, kNow - 7'200'000});
  const int64_t back = InsertWarmup({workspace_, ann.id, full, std::nullopt, "back", first, first,
                                     2, token, "<r1@alpha.test>", "Re: Plans", "Sure\n\n> Hi", "",
                                     "sent", kNow - 3'600'000, kNow - 3'600'000});
  InsertWarmup({workspace_, ann.id, full, std::nullopt, "out", std::nullopt, std::nullopt, 1,
                "eeeeeeeeeeeeeeeeeeee", "<o2@a-corp.test>", "Lunch", "Hi", "", "sent",
                kNow - 1'800'000, kNow - 1'800'000});
  const int64_t cont = InsertWarmup({workspace_, ann.id, full, std::nullopt, "out", first, back, 3,
                                     token, std::nullopt, "Re: Plans", "More", "", "scheduled",
                                     kNow - 60'000, std::nullopt});

  DbWarmupSource source(*db_, zones_, {{0}, Millis(900'000), 3});
  auto next = source.Next(ann, kNow);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_TRUE(next->has_value());
  EXPECT_NE((*next)->warmup_message_id, cont);
  EXPECT_EQ((*next)->message.to[0].email, "b2@beta.test");  // a new thread where there is room
  ASSERT_TRUE(source.Record((*next)->warmup_message_id, Accepted(), kNow + 1000).ok());
  // Still scheduled, due in b1's next day (midnight UTC) within the spread.
  const int64_t tomorrow = (kNow / kDay + 1) * kDay;
  store::Row waiting = Row(cont);
  EXPECT_EQ(waiting.Text("status"), "scheduled");
  EXPECT_GE(waiting.Int("scheduled_at"), tomorrow);
  EXPECT_LT(waiting.Int("scheduled_at"), tomorrow + 3 * 3'600'000);
  // Not due again today, whatever else Ann sends.
  next = source.Next(ann, kNow + 60'000);
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_NE((*next)->warmup_message_id, cont);
  EXPECT_EQ((*next)->message.to[0].email, "b2@beta.test");
  ASSERT_TRUE(source.Record((*next)->warmup_message_id, Accepted(), kNow + 61'000).ok());

  // In b1's next day it has room again: the continuation goes out, as the thread's next mail.
  next = source.Next(ann, waiting.Int("scheduled_at"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->warmup_message_id, cont);
  EXPECT_EQ((*next)->message.to[0].email, "b1@alpha.test");
  EXPECT_EQ((*next)->message.in_reply_to, "r1@alpha.test");
  EXPECT_EQ(Row(cont).Text("status"), "sending");

  // A continuation scheduled within the day it fills is counted already: it goes out at the cap.
  Exec("warmup_test.bot_receive_limit", {other, 3});  // b2: 2 received today, 1 room
  const int64_t cont2 =
      InsertWarmup({workspace_, ann.id, other, std::nullopt, "out", std::nullopt, std::nullopt, 3,
                    "ffffffffffffffffffff", std::nullopt, "Re: Notes", "Again", "", "scheduled",
                    kNow + 120'000, std::nullopt});
  next = source.Next(ann, kNow + 180'000);
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->warmup_message_id, cont2);
}

TEST_P(WarmupSourceTest, FailuresAndClaimsCaughtMidSend) {
  engine::SenderInfo ann = Sender("ann@a-corp.test", "Ann");
  Bot("b1@alpha.test", 5);
  DbWarmupSource source(*db_, zones_, {{0}, Millis(900'000), 3});
  auto next = source.Next(ann, kNow);
  ASSERT_TRUE(next.ok() && next->has_value());
  const int64_t id = (*next)->warmup_message_id;
  // A claim's sent_at is when its send began: it counts in that day from the claim on.
  EXPECT_EQ(Row(id).Text("status"), "sending");
  EXPECT_EQ(Row(id).OptInt("sent_at"), kNow);
  mail::SendResult refused;
  refused.cls = mail::SendResult::Class::kPermanent;
  refused.code = 550;
  refused.text = "5.7.1 rejected";
  refused.reason = "recipient <b1@alpha.test> rejected: 550 5.7.1 rejected";
  ASSERT_TRUE(source.Record(id, refused, kNow + 1000).ok());
  EXPECT_EQ(Row(id).Text("status"), "failed");
  EXPECT_EQ(Row(id).Text("error"), refused.reason);
  EXPECT_FALSE(Row(id).OptInt("sent_at").has_value());  // nothing went out: in no day's count
  Status again = source.Record(id, Accepted(), kNow + 2000);
  EXPECT_EQ(again.code(), Status::Code::kNotFound) << again.ToString();
  EXPECT_EQ(source.Record(999'999, Accepted(), kNow).code(), Status::Code::kNotFound);

  // A claim that was never settled (the process died mid-send).
  next = source.Next(ann, kNow + 10'000);
  ASSERT_TRUE(next.ok() && next->has_value());
  const int64_t caught = (*next)->warmup_message_id;
  auto lapsed = source.LapseClaims(kNow + 10'000 + 899'000);
  ASSERT_TRUE(lapsed.ok());
  EXPECT_EQ(*lapsed, 0);
  lapsed = source.LapseClaims(kNow + 10'000 + 901'000);
  ASSERT_TRUE(lapsed.ok());
  EXPECT_EQ(*lapsed, 1);
  EXPECT_EQ(Row(caught).Text("status"), "unknown");
  EXPECT_EQ(Row(caught).OptInt("sent_at"), kNow + 10'000);  // it may have gone out then
  // Never resent: the next mail is a new row; the unknown one still counts against the bot.
  next = source.Next(ann, kNow + 1'000'000);
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_NE((*next)->warmup_message_id, caught);
  // Next reports lapsed claims by itself (at most once a minute of its clock).
  const int64_t orphan = (*next)->warmup_message_id;
  auto later = source.Next(ann, kNow + 1'000'000 + 30'000);  // within the minute: not yet
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(Row(orphan).Text("status"), "sending");
  later = source.Next(ann, kNow + 1'000'000 + 901'000);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(Row(orphan).Text("status"), "unknown");
  // A late result still settles the unknown row.
  EXPECT_TRUE(source.Record(caught, Accepted(), kNow + 1'000'001).ok());
  EXPECT_EQ(Row(caught).Text("status"), "sent");
}

TEST_P(WarmupSourceTest, ConcurrentSourcesNeverExceedABotsLimit) {
  // Two sources (as two worker processes would have) for eight senders race for two bots with
  // 5 + 3 rooms: exactly 8 mails in all, none over a limit.
  std::vector<engine::SenderInfo> senders;
  for (int i = 0; i < 8; ++i) {
    senders.push_back(Sender("s" + std::to_string(i) + "@corp" + std::to_string(i) + ".test",
                             "Sender " + std::to_string(i)));
  }
  const int64_t b1 = Bot("b1@alpha.test", 5);
  const int64_t b2 = Bot("b2@beta.test", 3);
  std::atomic<int> sent{0}, failures{0};
  std::mutex mu;
  std::map<std::string, int> received;
  auto worker = [&](int first) {
    DbWarmupSource source(*db_, zones_, {{0}, Millis(900'000), static_cast<uint64_t>(first + 1)});
    for (int round = 0; round < 3; ++round) {
      for (int i = first; i < 8; i += 2) {
        auto next = source.Next(senders[static_cast<size_t>(i)], kNow + round * 1000);
        if (!next.ok()) {
          ADD_FAILURE() << next.status().ToString();
          ++failures;
          continue;
        }
        if (!next->has_value()) continue;
        {
          std::lock_guard lock(mu);
          ++received[(*next)->message.to[0].email];
        }
        ++sent;
        if (!source.Record((*next)->warmup_message_id, Accepted(), kNow + round * 1000 + 1).ok()) {
          ++failures;
        }
      }
    }
  };
  std::thread t1(worker, 0), t2(worker, 1);
  t1.join();
  t2.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(sent.load(), 8);
  EXPECT_EQ(received["b1@alpha.test"], 5);
  EXPECT_EQ(received["b2@beta.test"], 3);
  (void)b1;
  (void)b2;
}

TEST_P(WarmupSourceTest, KeptCandidatesNeverOverrunWhatChangedAndAreReadAgain) {
  // The source keeps the workspace's candidates between new threads (source.h); what changed in
  // the rows since is still obeyed at once, and new candidates come with the next read.
  engine::SenderInfo ann = Sender("ann@a-corp.test", "Ann");
  engine::SenderInfo bob = Sender("bob@b-corp.test", "Bob");
  const int64_t b1 = Bot("b1@alpha.test", 5);
  DbWarmupSource source(*db_, zones_, {{0}, Millis(900'000), 5, Millis(60'000), Millis(300'000)});
  auto next = source.Next(ann, kNow);
  ASSERT_TRUE(next.ok() && next->has_value()) << next.status().ToString();
  EXPECT_EQ((*next)->message.to[0].email, "b1@alpha.test");
  ASSERT_TRUE(source.Record((*next)->warmup_message_id, Accepted(), kNow + 1000).ok());

  // b1's limit is lowered to the one mail it has had: the kept room (4) is not used.
  Exec("warmup_test.bot_receive_limit", {b1, 1});
  next = source.Next(ann, kNow + 60'000);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value()) << "b1 is over its new limit";

  // A bot added meanwhile: taken once the candidates are read again (after candidates_refresh).
  Bot("b2@beta.test", 5);
  next = source.Next(ann, kNow + 120'000);
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value()) << "b2 is not among the kept candidates yet";
  next = source.Next(ann, kNow + 301'000);
  ASSERT_TRUE(next.ok() && next->has_value()) << next.status().ToString();
  EXPECT_EQ((*next)->message.to[0].email, "b2@beta.test");
  ASSERT_TRUE(source.Record((*next)->warmup_message_id, Accepted(), kNow + 302'000).ok());

  // Peers: a paused peer is skipped at once although its kept room says otherwise.
  DbWarmupSource peers(*db_, zones_, {{100}, Millis(900'000), 5, Millis(60'000), Millis(300'000)});
  next = peers.Next(ann, kNow + 400'000);
  ASSERT_TRUE(next.ok() && next->has_value()) << next.status().ToString();
  EXPECT_EQ((*next)->message.to[0].email, "bob@b-corp.test");
  Exec("warmup_test.sender_status", {bob.id, "paused"});
  next = peers.Next(ann, kNow + 460'000);
  ASSERT_TRUE(next.ok());
  // The only peer is paused: the other kind (a bot with room: b2) takes the thread.
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->message.to[0].email, "b2@beta.test");
}

// Pairing's history is the sender's latest pairing_history sent mails (source.h), yet the sender
// still goes round every bot before it meets one again: with a history of 2 and 6 bots, twelve
// new threads meet each bot twice and every bot once before any twice (a history that forgot and
// started over from the same place would go round the first three only).
TEST_P(WarmupSourceTest, ABoundedHistoryStillGoesRoundEveryBot) {
  engine::SenderInfo ann = Sender("ann@a-corp.test", "Ann");
  std::set<std::string> all;
  for (const char* email : {"b1@alpha.test", "b2@beta.test", "b3@gamma.test", "b4@alpha.test",
                            "b5@beta.test", "b6@gamma.test"}) {
    Bot(email, 2);
    all.insert(email);
  }
  WarmupSourceOptions options{{0}, Millis(900'000), 11};
  options.pairing_history = 2;
  DbWarmupSource source(*db_, zones_, options);
  std::vector<std::string> met;
  for (int i = 0; i < 12; ++i) {
    const int64_t at = kNow + i * 60'000;
    auto next = source.Next(ann, at);
    ASSERT_TRUE(next.ok() && next->has_value())
        << "thread " << i << ": " << next.status().ToString();
    met.push_back((*next)->message.to[0].email);
    ASSERT_TRUE(source.Record((*next)->warmup_message_id, Accepted(), at + 1000).ok());
  }
  EXPECT_EQ(std::set<std::string>(met.begin(), met.begin() + 6), all)
      << ::testing::PrintToString(met);
  EXPECT_EQ(std::set<std::string>(met.begin() + 6, met.end()), all)
      << ::testing::PrintToString(met);
  for (size_t i = 1; i < met.size(); ++i) {
    EXPECT_NE(AddressDomain(met[i]), AddressDomain(met[i - 1])) << ::testing::PrintToString(met);
  }
}

INSTANTIATE_TEST_SUITE_P(Db, WarmupSourceTest, ::testing::ValuesIn(testing::DbBackends()),
                         testing::DbBackendName());

}  // namespace
}  // namespace kiln::warmup
