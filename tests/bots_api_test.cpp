// Warm-up inboxes ("bots") over the API against the real `kiln` binary and the real mail stack
// (scripts/mailstack): CRUD with write-only secrets, verification over SMTP + IMAP with the
// diagnosis as status, pause/resume, CSV import (all or nothing, errors by row and column),
// provisioning a new mailbox on the running stack; the senders' warm-up plan; reputation.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "api_mailstack_fixture.h"
#include "api_test_util.h"
#include "kiln/base/clock.h"
#include "kiln/mail/sender_check.h"
#include "kiln/store/db.h"
#include "kiln/testing/mailstack.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;

class BotsApiTest : public KilnMailstackApiFixture {
 protected:
  json::object Endpoint(uint16_t port, const std::string& user, const std::string& password) {
    json::object o{{"host", "127.0.0.1"}, {"port", port}, {"security", "starttls"}};
    if (!user.empty()) o["username"] = user;
    if (!password.empty()) o["password"] = password;
    return o;
  }

  // A bot of the mail stack with its password (or another one).
  std::string BotBody(const std::string& email, const std::string& password) {
    return json::serialize(json::object{{"email", email},
                                        {"provider", "self_hosted"},
                                        {"allow_self_signed", true},
                                        {"smtp", Endpoint(ms_.smtp_port, "", password)},
                                        {"imap", Endpoint(ms_.imap_port, email, password)}});
  }

  std::string Password(const std::string& email) { return ms_.User(email).value().password; }
};

TEST_P(BotsApiTest, CrudVerifyPauseResume) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  const std::string bots = s.Ws() + "/bots";

  auto r = s.Post(bots, BotBody("bot1@kiln-b.test", Password("bot1@kiln-b.test")));
  ASSERT_EQ(r.status, 201) << r.body;
  auto bot = Json(r).as_object();
  const int64_t id = bot.at("id").as_int64();
  EXPECT_EQ(bot.at("status").as_string(), "unverified");
  EXPECT_EQ(bot.at("smtp").at("username").as_string(), "bot1@kiln-b.test");  // defaulted
  EXPECT_TRUE(bot.at("smtp").at("has_password").as_bool());
  EXPECT_EQ(r.body.find("secret-bot1"), std::string::npos);
  EXPECT_EQ(bot.at("daily_send_limit").as_int64(), 20);
  EXPECT_EQ(bot.at("aging_start_volume").as_int64(), 2);
  EXPECT_EQ(bot.at("health_score").as_int64(), 100);
  const std::string one = bots + "/" + std::to_string(id);

  r = s.Action(one + "/verify");
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r).as_object();
  EXPECT_TRUE(v.at("smtp").at("ok").as_bool()) << r.body;
  EXPECT_TRUE(v.at("imap").at("ok").as_bool()) << r.body;
  EXPECT_EQ(v.at("bot").at("status").as_string(), "active");
  EXPECT_FALSE(v.at("bot").at("last_checked_at").is_null());

  // A wrong password explains itself, per protocol.
  r = s.Post(bots, BotBody("bot2@kiln-b.test", "not-the-password"));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string two = bots + "/" + std::to_string(Json(r).at("id").as_int64());
  r = s.Action(two + "/verify");
  ASSERT_EQ(r.status, 200) << r.body;
  v = Json(r).as_object();
  EXPECT_FALSE(v.at("smtp").at("ok").as_bool());
  EXPECT_EQ(v.at("smtp").at("kind").as_string(), "auth");
  EXPECT_EQ(v.at("imap").at("kind").as_string(), "auth");
  EXPECT_EQ(v.at("bot").at("status").as_string(), "failed");
  std::string reason(v.at("bot").at("status_reason").as_string());
  EXPECT_NE(reason.find("SMTP: "), std::string::npos) << reason;
  EXPECT_NE(reason.find("IMAP: "), std::string::npos) << reason;
  EXPECT_NE(reason.find("rejected"), std::string::npos) << reason;
  // Fixing the password and verifying again makes it active.
  r = s.Patch(
      two, json::serialize(json::object{{"smtp", {{"password", Password("bot2@kiln-b.test")}}},
                                        {"imap", {{"password", Password("bot2@kiln-b.test")}}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  r = s.Action(two + "/verify");
  EXPECT_EQ(Json(r).at("bot").at("status").as_string(), "active") << r.body;

  // Changes keep what is left out; rules that span fields name the field.
  r = s.Patch(one, R"({"daily_send_limit":35,"reply_rate_percent":40,"timezone":"Europe/Paris",
                       "aging_start_at":"2026-01-01","aging_end_at":"2026-02-01",
                       "reply_delay_min_minutes":10,"reply_delay_max_minutes":90,
                       "important_rate_percent":20,"daily_receive_limit":50})");
  ASSERT_EQ(r.status, 200) << r.body;
  bot = Json(r).as_object();
  EXPECT_EQ(bot.at("daily_send_limit").as_int64(), 35);
  EXPECT_EQ(bot.at("aging_end_at").as_string(), "2026-02-01T00:00:00.000Z");
  EXPECT_EQ(bot.at("timezone").as_string(), "Europe/Paris");
  EXPECT_EQ(bot.at("provider").as_string(), "self_hosted");
  EXPECT_EQ(bot.at("status").as_string(), "active");
  r = s.Patch(one, R"({"reply_delay_max_minutes":5})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrField(r), "reply_delay_max_minutes");
  r = s.Patch(one, R"({"aging_start_volume":50})");
  EXPECT_EQ(ErrField(r), "daily_send_limit") << r.body;
  r = s.Patch(one, R"({"aging_end_at":"2025-12-01"})");
  EXPECT_EQ(ErrField(r), "aging_end_at") << r.body;
  r = s.Patch(one, R"({"provider":"hotmail"})");
  EXPECT_EQ(ErrField(r), "provider");
  r = s.Patch(one, R"({"smtp":{"port":0}})");
  EXPECT_EQ(ErrField(r), "smtp.port");
  r = s.Post(bots, BotBody("bot1@kiln-b.test", "x"));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(ErrField(r), "email");

  // Pause: verify refuses; resume verifies and reactivates.
  r = s.Post(one + "/pause", R"({"reason":"owner asked"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("status").as_string(), "paused");
  EXPECT_EQ(Json(r).at("status_reason").as_string(), "owner asked");
  r = s.Action(one + "/verify");
  EXPECT_EQ(r.status, 409) << r.body;
  r = s.Get(bots + "?status=paused");
  EXPECT_EQ(Json(r).at("items").as_array().size(), 1u);
  r = s.Action(one + "/resume");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("bot").at("status").as_string(), "active");

  r = s.Get(bots);
  EXPECT_EQ(Json(r).at("items").as_array().size(), 2u);
  EXPECT_EQ(r.body.find("secret-bot"), std::string::npos);

  // Another workspace sees nothing.
  Session other = NewOwner("other@kiln-a.test");
  EXPECT_EQ(other.Get(other.Ws() + "/bots/" + std::to_string(id)).status, 404);
  EXPECT_EQ(other.Get(s.Ws() + "/bots").status, 404);

  r = s.Delete(two);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(s.Get(two).status, 404);
}

TEST_P(BotsApiTest, CsvImportIsAllOrNothingAndEveryStackBotVerifies) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  const std::string bots = s.Ws() + "/bots";
  const std::string header =
      "email,smtp_host,smtp_port,smtp_security,smtp_password,imap_host,imap_port,imap_security,"
      "imap_password,allow_self_signed,daily_send_limit,reply_rate_percent\n";
  auto line = [&](int n, const std::string& port) {
    std::string email = "bot" + std::to_string(n) + "@kiln-b.test";
    std::string pw = Password(email);
    return email + ",127.0.0.1," + port + ",starttls," + pw + ",127.0.0.1," +
           std::to_string(ms_.imap_port) + ",starttls,\"" + pw + "\",yes,30,25\n";
  };
  const std::string good_port = std::to_string(ms_.smtp_port);
  auto import = [&](const std::string& csv) {
    return s.http->Send("POST", bots + "/import", csv, s.H(false)).value();
  };

  // Row 3: a port that is not a number; row 4: the address of row 2 again; row 5: port out of
  // range. Nothing is written.
  auto r =
      import(header + line(1, good_port) + line(2, "25x") + line(1, good_port) + line(3, "70000"));
  ASSERT_EQ(r.status, 400) << r.body;
  auto problems = Json(r).at("error").at("problems").as_array();
  ASSERT_EQ(problems.size(), 3u) << r.body;
  EXPECT_EQ(problems[0].at("row").as_int64(), 3);
  EXPECT_EQ(problems[0].at("column").as_string(), "smtp_port");
  EXPECT_EQ(problems[1].at("row").as_int64(), 4);
  EXPECT_EQ(problems[1].at("column").as_string(), "email");
  EXPECT_EQ(problems[2].at("row").as_int64(), 5);
  EXPECT_EQ(problems[2].at("column").as_string(), "smtp_port");
  EXPECT_EQ(Json(s.Get(bots)).at("items").as_array().size(), 0u);

  // An unknown column fails the whole file naming it.
  r = import("email,colour\nbot1@kiln-b.test,red\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("colour"), std::string::npos) << r.body;
  // Broken quoting.
  r = import(header + "\"bot1@kiln-b.test,127.0.0.1\n");
  EXPECT_EQ(r.status, 400) << r.body;

  // bot1..bot6 of kiln-b.test, then each verifies.
  std::string csv = header;
  for (int n = 1; n <= 6; ++n) csv += line(n, good_port);
  r = import(csv);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Json(r).at("created").as_int64(), 6);
  // Importing one of them again names the row and the existing bot; still nothing written.
  r = import(header + line(1, good_port));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r).at("error").at("problems").as_array()[0].at("column").as_string(), "email");
  auto items = Json(s.Get(bots)).at("items").as_array();
  ASSERT_EQ(items.size(), 6u);
  for (const auto& b : items) {
    EXPECT_EQ(b.at("daily_send_limit").as_int64(), 30);
    EXPECT_EQ(b.at("reply_rate_percent").as_int64(), 25);
    auto v = s.Action(bots + "/" + std::to_string(b.at("id").as_int64()) + "/verify");
    ASSERT_EQ(v.status, 200) << v.body;
    EXPECT_EQ(Json(v).at("bot").at("status").as_string(), "active")
        << b.at("email").as_string() << ": " << v.body;
  }
}

TEST_P(BotsApiTest, ProvisionCreatesAMailboxThatLogsIn) {
  const std::string pf = ms_.dir + "/postfix/conf";
  StartKiln({"--provision-adapter", "files", "--provision-dovecot-passwd",
             ms_.dir + "/dovecot/passwd", "--provision-postfix-vmailbox", pf + "/vmailbox",
             "--provision-postfix-senders", pf + "/senders", "--provision-users-file",
             ms_.dir + "/users.txt", "--provision-postfix-config-dir", pf});
  Session s = NewOwner("owner@kiln-a.test");
  const std::string provision = s.Ws() + "/bots/provision";
  std::random_device rd;
  const std::string local = "prov" + std::to_string(rd() % 1000000000);
  const std::string address = local + "@kiln-b.test";
  auto body = [&](const std::string& lp, const std::string& domain) {
    return json::serialize(json::object{{"local_part", lp},
                                        {"domain", domain},
                                        {"allow_self_signed", true},
                                        {"daily_send_limit", 25},
                                        {"smtp", Endpoint(ms_.smtp_port, "", "")},
                                        {"imap", Endpoint(ms_.imap_port, "", "")}});
  };
  auto r = s.Post(provision, body(local, "kiln-b.test"));
  ASSERT_EQ(r.status, 201) << r.body;
  auto v = Json(r).as_object();
  EXPECT_EQ(v.at("bot").at("email").as_string(), address);
  EXPECT_EQ(v.at("bot").at("provisioned_by").as_string(), "files");
  EXPECT_EQ(v.at("bot").at("status").as_string(), "active") << r.body;
  EXPECT_TRUE(v.at("imap").at("ok").as_bool()) << r.body;

  // The mailbox is real: its generated password (in the stack's users file) logs in over IMAP,
  // and mail to it is delivered once Postfix has reloaded its maps.
  auto stack = Mailstack::FromEnv();
  ASSERT_TRUE(stack.ok());
  auto user = stack->User(address);
  ASSERT_TRUE(user.ok()) << user.status().ToString();
  EXPECT_GE(user->password.size(), 20u);
  mail::ImapCheckConfig imap;
  imap.host = "127.0.0.1";
  imap.port = ms_.imap_port;
  imap.security = mail::SmtpSecurity::kStartTls;
  imap.username = address;
  imap.password = user->password;
  imap.allow_self_signed = true;
  auto d = mail::TestImapConnection(imap);
  EXPECT_TRUE(d.ok()) << d.message;
  imap.password = "wrong";
  EXPECT_EQ(mail::TestImapConnection(imap).kind, mail::Diagnosis::Kind::kAuth);

  mail::SmtpConfig smtp;
  smtp.host = "127.0.0.1";
  smtp.port = ms_.smtp_port;
  smtp.security = mail::SmtpSecurity::kStartTls;
  smtp.username = "bot1@kiln-b.test";
  smtp.secret = Password("bot1@kiln-b.test");
  smtp.allow_self_signed = true;
  const std::string marker = "provisioned-" + local;
  const std::string message = "From: <bot1@kiln-b.test>\r\nTo: <" + address +
                              ">\r\nSubject: hello\r\nMessage-ID: <" + marker +
                              "@kiln-b.test>\r\n\r\n" + marker + "\r\n";
  mail::Diagnosis sent;
  for (int attempt = 0; attempt < 20; ++attempt) {  // smtpd processes restart after the reload
    sent = mail::SendTestEmail(smtp, "bot1@kiln-b.test", address, message);
    if (sent.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ASSERT_TRUE(sent.ok()) << sent.message;
  auto got = ms_.WaitForMessage(address, marker, std::chrono::seconds(10));
  EXPECT_TRUE(got.ok()) << got.status().ToString();

  // The same mailbox again, a domain the server does not serve, a bad local part, a password.
  r = s.Post(provision, body(local, "kiln-b.test"));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(ErrField(r), "local_part");
  r = s.Post(provision, body(local + "x", "elsewhere.test"));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrField(r), "domain");
  r = s.Post(provision, body("Bad:Name", "kiln-b.test"));
  EXPECT_EQ(ErrField(r), "local_part");
  r = s.Post(provision, R"({"local_part":"a","domain":"kiln-b.test","smtp":{"host":"127.0.0.1",
      "port":25,"security":"none","password":"x"},"imap":{"host":"127.0.0.1","port":143,
      "security":"none"}})");
  EXPECT_EQ(ErrField(r), "smtp.password");
}

TEST_P(BotsApiTest, ProvisioningOffSaysSo) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  auto r = s.Post(s.Ws() + "/bots/provision",
                  R"({"local_part":"a","domain":"kiln-b.test","smtp":{"host":"127.0.0.1",
                      "port":25,"security":"none"},"imap":{"host":"127.0.0.1","port":143,
                      "security":"none"}})");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("provision_adapter"), std::string::npos) << r.body;
}

TEST_P(BotsApiTest, SenderWarmupPlan) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  json::object body = json::parse(SenderBody("sender1@kiln-a.test")).as_object();
  body["timezone"] = "America/New_York";
  body["warmup"] = {{"start_at", "2026-03-02"}, {"end_at", "2026-04-13"}, {"start_volume", 4},
                    {"daily_increase", 3},      {"max_volume", 45},       {"weekdays_only", true},
                    {"reply_rate_percent", 35}};
  auto r = s.Post(s.Ws() + "/senders", json::serialize(body));
  ASSERT_EQ(r.status, 201) << r.body;
  auto sender = Json(r).as_object();
  const std::string one = s.Ws() + "/senders/" + std::to_string(sender.at("id").as_int64());
  auto plan = sender.at("warmup").as_object();
  EXPECT_EQ(sender.at("timezone").as_string(), "America/New_York");
  EXPECT_TRUE(plan.at("enabled").as_bool());
  EXPECT_EQ(plan.at("start_at").as_string(), "2026-03-02T00:00:00.000Z");
  EXPECT_EQ(plan.at("end_at").as_string(), "2026-04-13T00:00:00.000Z");
  EXPECT_EQ(sender.at("warmup_end_at").as_string(), "2026-04-13T00:00:00.000Z");
  EXPECT_EQ(plan.at("start_volume").as_int64(), 4);
  EXPECT_EQ(plan.at("daily_increase").as_int64(), 3);
  EXPECT_EQ(plan.at("max_volume").as_int64(), 45);
  EXPECT_TRUE(plan.at("weekdays_only").as_bool());
  EXPECT_EQ(plan.at("reply_rate_percent").as_int64(), 35);

  // A partial change keeps the rest of the plan; GET shows it.
  r = s.Patch(one, R"({"warmup":{"enabled":false,"max_volume":60}})");
  ASSERT_EQ(r.status, 200) << r.body;
  plan = Json(s.Get(one)).at("warmup").as_object();
  EXPECT_FALSE(plan.at("enabled").as_bool());
  EXPECT_EQ(plan.at("max_volume").as_int64(), 60);
  EXPECT_EQ(plan.at("start_volume").as_int64(), 4);
  EXPECT_EQ(plan.at("end_at").as_string(), "2026-04-13T00:00:00.000Z");

  // Validation through domain::ValidateWarmupPlan, naming the field.
  r = s.Patch(one, R"({"warmup":{"max_volume":3}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrField(r), "warmup.max_volume") << r.body;
  r = s.Patch(one, R"({"warmup":{"end_at":"2026-03-01"}})");
  EXPECT_EQ(ErrField(r), "warmup.end_at") << r.body;
  r = s.Patch(one, R"({"warmup_end_at":"2026-03-02"})");
  EXPECT_EQ(ErrField(r), "warmup_end_at") << r.body;
  r = s.Patch(one, R"({"warmup":{"start_volume":0}})");
  EXPECT_EQ(ErrField(r), "warmup.start_volume");
  r = s.Patch(one, R"({"warmup":{"pace":"fast"}})");
  EXPECT_EQ(ErrField(r), "warmup.pace");
  r = s.Patch(one, R"({"timezone":"../etc/passwd"})");
  EXPECT_EQ(ErrField(r), "timezone");
  // Nothing above changed the plan.
  plan = Json(s.Get(one)).at("warmup").as_object();
  EXPECT_EQ(plan.at("max_volume").as_int64(), 60);
  EXPECT_EQ(plan.at("end_at").as_string(), "2026-04-13T00:00:00.000Z");
}

constexpr char kInsertWarmupSql[] = R"(
-- name: t.warmup
INSERT INTO warmup_messages (workspace_id, sender_id, bot_id, direction, token, status, placement,
                             scheduled_at, sent_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, 'tok', 'sent', $5, $6, $6, $6, $6);
)";

TEST_P(BotsApiTest, Reputation) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  auto r = s.Post(s.Ws() + "/senders", SenderBody("sender1@kiln-a.test"));
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t sender = Json(r).at("id").as_int64();
  r = s.Post(s.Ws() + "/bots", BotBody("bot1@kiln-b.test", "pw"));
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t bot = Json(r).at("id").as_int64();

  // No data: every window empty, rates null, score 100 without a sample.
  r = s.Get(s.Ws() + "/senders/" + std::to_string(sender) + "/reputation");
  ASSERT_EQ(r.status, 200) << r.body;
  auto rep = Json(r).as_object();
  EXPECT_EQ(rep.at("health_score").as_int64(), 100);
  auto windows = rep.at("windows").as_array();
  ASSERT_EQ(windows.size(), 3u);
  EXPECT_EQ(windows[0].at("days").as_int64(), 7);
  EXPECT_EQ(windows[2].at("days").as_int64(), 30);
  EXPECT_TRUE(windows[1].at("inbox_rate").is_null());
  EXPECT_FALSE(windows[1].at("has_sample").as_bool());
  EXPECT_TRUE(rep.at("daily").as_array().empty());

  // Yesterday the sender's mail to the bot landed 8 times in the inbox and twice in spam, and the
  // bot's 10 answers all in the inbox: sender 100 - 70 * 2/10 = 86; bot 100.
  store::OpenOptions options;
  options.pool_size = 1;
  options.extra_sql_files.push_back({"queries/bots_api_test.sql", kInsertWarmupSql});
  auto db = store::OpenDatabase(DatabaseUrl(), options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  const int64_t at = SystemClock().NowMillis() - 86'400'000;
  Status st = (*db)->Write([&](store::Tx& tx) -> Status {
    for (int i = 0; i < 10; ++i) {
      KILN_RETURN_IF_ERROR(
          tx.Exec("t.warmup", {s.ws, sender, bot, "out", i < 8 ? "inbox" : "spam", at}).status());
      KILN_RETURN_IF_ERROR(tx.Exec("t.warmup", {s.ws, sender, bot, "back", "inbox", at}).status());
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  r = s.Get(s.Ws() + "/senders/" + std::to_string(sender) + "/reputation");
  windows = Json(r).at("windows").as_array();
  EXPECT_EQ(windows[0].at("warmup_sent").as_int64(), 10);
  EXPECT_EQ(windows[0].at("inbox").as_int64(), 8);
  EXPECT_EQ(windows[0].at("spam").as_int64(), 2);
  EXPECT_DOUBLE_EQ(windows[0].at("inbox_rate").as_double(), 0.8);
  EXPECT_DOUBLE_EQ(windows[0].at("spam_rate").as_double(), 0.2);
  EXPECT_EQ(windows[1].at("score").as_int64(), 86);
  r = s.Get(s.Ws() + "/bots/" + std::to_string(bot) + "/reputation?days=7");
  ASSERT_EQ(r.status, 200) << r.body;
  windows = Json(r).at("windows").as_array();
  EXPECT_EQ(windows[1].at("warmup_sent").as_int64(), 10);
  EXPECT_EQ(windows[1].at("score").as_int64(), 100);

  EXPECT_EQ(s.Get(s.Ws() + "/bots/" + std::to_string(bot + 1000) + "/reputation").status, 404);
  EXPECT_EQ(s.Get(s.Ws() + "/senders/" + std::to_string(sender) + "/reputation?days=0").status,
            400);
}

constexpr char kActivitySql[] = R"(
-- name: t.activity
-- $5 status, $6 placement, $7 sent_at, then delivered/opened/rescued/replied (0: not yet).
INSERT INTO warmup_messages (workspace_id, sender_id, bot_id, direction, token, subject, status,
                             placement, scheduled_at, sent_at, delivered_at, opened_at, rescued_at,
                             replied_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, 'tok', 'Hello ' || $4, $5, $6, $7, $7,
        NULLIF(CAST($8 AS BIGINT), 0), NULLIF(CAST($9 AS BIGINT), 0),
        NULLIF(CAST($10 AS BIGINT), 0), NULLIF(CAST($11 AS BIGINT), 0), $7, $7);
)";

// GET .../bots/{id}/activity: the warm-up mail a bot received, newest first, with what it did.
TEST_P(BotsApiTest, Activity) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  auto r = s.Post(s.Ws() + "/senders", SenderBody("sender1@kiln-a.test"));
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t sender = Json(r).at("id").as_int64();
  r = s.Post(s.Ws() + "/bots", BotBody("bot1@kiln-b.test", "pw"));
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t bot = Json(r).at("id").as_int64();
  const std::string activity = s.Ws() + "/bots/" + std::to_string(bot) + "/activity";

  r = s.Get(activity);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Json(r).at("items").as_array().empty()) << r.body;
  EXPECT_TRUE(Json(r).at("next_before").is_null()) << r.body;

  store::OpenOptions options;
  options.pool_size = 1;
  options.extra_sql_files.push_back({"queries/bots_activity_test.sql", kActivitySql});
  auto db = store::OpenDatabase(DatabaseUrl(), options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  const int64_t t = 1'700'000'000'000;  // 2023-11-14T22:13:20Z
  Status st = (*db)->Write([&](store::Tx& tx) -> Status {
    // Found in the inbox, read and answered; then found in spam and moved out; the bot's own
    // answer (not received mail) and a mail not sent yet are not activity.
    KILN_RETURN_IF_ERROR(tx.Exec("t.activity", {s.ws, sender, bot, "out", "sent", "inbox", t,
                                                t + 60'000, t + 120'000, 0, t + 180'000})
                             .status());
    KILN_RETURN_IF_ERROR(
        tx.Exec("t.activity", {s.ws, sender, bot, "back", "sent", "inbox", t + 180'000, 0, 0, 0, 0})
            .status());
    KILN_RETURN_IF_ERROR(tx.Exec("t.activity", {s.ws, sender, bot, "out", "sent", "spam",
                                                t + 240'000, t + 300'000, 0, t + 360'000, 0})
                             .status());
    return tx
        .Exec("t.activity",
              {s.ws, sender, bot, "out", "scheduled", "unknown", t + 400'000, 0, 0, 0, 0})
        .status();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();

  r = s.Get(activity);
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value page = Json(r);
  const auto& items = page.at("items").as_array();
  ASSERT_EQ(items.size(), 2u) << r.body;
  EXPECT_EQ(items[0].at("placement").as_string(), "spam") << r.body;
  EXPECT_EQ(items[0].at("sender_email").as_string(), "sender1@kiln-a.test") << r.body;
  EXPECT_EQ(items[0].at("subject").as_string(), "Hello out") << r.body;
  EXPECT_EQ(items[0].at("received_at").as_string(), "2023-11-14T22:18:20.000Z") << r.body;
  EXPECT_EQ(items[0].at("rescued_at").as_string(), "2023-11-14T22:19:20.000Z") << r.body;
  EXPECT_TRUE(items[0].at("replied_at").is_null()) << r.body;
  EXPECT_EQ(items[1].at("placement").as_string(), "inbox") << r.body;
  EXPECT_EQ(items[1].at("opened_at").as_string(), "2023-11-14T22:15:20.000Z") << r.body;
  EXPECT_EQ(items[1].at("replied_at").as_string(), "2023-11-14T22:16:20.000Z") << r.body;
  EXPECT_TRUE(items[1].at("rescued_at").is_null()) << r.body;
  EXPECT_TRUE(page.at("next_before").is_null()) << r.body;

  // One at a time: the second page holds the older one, and nothing after it.
  r = s.Get(activity + "?limit=1");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value first = Json(r);
  ASSERT_EQ(first.at("items").as_array().size(), 1u) << r.body;
  const int64_t next = first.at("next_before").as_int64();
  EXPECT_EQ(next, items[0].at("id").as_int64()) << r.body;
  r = s.Get(activity + "?limit=1&before=" + std::to_string(next));
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value second = Json(r);
  ASSERT_EQ(second.at("items").as_array().size(), 1u) << r.body;
  EXPECT_EQ(second.at("items").as_array()[0].at("id").as_int64(), items[1].at("id").as_int64());
  EXPECT_TRUE(second.at("next_before").is_null()) << r.body;

  EXPECT_EQ(s.Get(s.Ws() + "/bots/" + std::to_string(bot + 1000) + "/activity").status, 404);
  r = s.Get(activity + "?limit=0");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrField(r), "limit") << r.body;
}

INSTANTIATE_TEST_SUITE_P(Backends, BotsApiTest, ::testing::ValuesIn(DbBackends()), DbBackendName());

}  // namespace
}  // namespace kiln::testing
