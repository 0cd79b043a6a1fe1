// Tracking endpoints and the suppression API over HTTP: the real `kiln` binary on SQLite and
// PostgreSQL. Opens and clicks from many connections at once all recorded (group commit), and
// every answered hit still there after a SIGKILL. Unsubscribe through the page + form and through
// RFC 8058 one-click (idempotent, every effect in the database), tampered tokens (every byte of a
// real token flipped) answering 404 with nothing written, tokens that cannot cross workspaces,
// opens and clicks with the machine flag, refused open redirects, and suppression CRUD, CSV import
// with per-row errors, export round trip and isolation.
//
// Messages are made by the engine; the tests write them straight into kiln's database with
// test-only queries, and build tokens with the instance's own tracking key.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "api_test_util.h"
#include "kiln/api/tracking_tokens.h"
#include "kiln/auth/crypto.h"
#include "kiln/auth/secret_box.h"
#include "kiln/base/clock.h"
#include "kiln/dns/dns_test_util.h"
#include "kiln/store/db.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;

constexpr char kTestQueries[] = R"(-- Test-only statements.
-- name: test.activate_sender
UPDATE senders SET status = 'active' WHERE workspace_id = $1 AND id = $2;
-- name: test.insert_message
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, status, scheduled_at, sent_at,
                      created_at, updated_at)
VALUES ($1, $2, $3, (SELECT id FROM campaign_steps WHERE campaign_id = $2 ORDER BY position LIMIT 1),
        $4, $5, $6, $5, $5)
RETURNING id;
-- name: test.events
SELECT COUNT(*) AS n, COALESCE(SUM(is_machine), 0) AS machine FROM events
WHERE message_id = $1 AND type = $2;
-- name: test.all_events
SELECT COUNT(*) AS n FROM events;
-- name: test.all_suppressions
SELECT COUNT(*) AS n FROM suppression_list;
-- name: test.contact_status
SELECT status FROM contacts WHERE id = $1;
-- name: test.enrolment_status
SELECT status FROM campaign_contacts WHERE campaign_id = $1 AND contact_id = $2;
-- name: test.message_status
SELECT status, opened_at, clicked_at FROM messages WHERE id = $1;
-- name: test.suppression
SELECT reason, source, campaign_id FROM suppression_list WHERE workspace_id = $1 AND email = $2;
)";

class TrackingApiTest : public KilnApiFixture {
 protected:
  void SetUp() override {
    KilnApiFixture::SetUp();
    if (HasFatalFailure()) return;
    StartKiln({"--rate-limit-per-minute", "1000000"});
    if (HasFatalFailure()) return;
    a_ = NewOwner("owner@kiln-a.test");
    b_ = NewOwner("owner@kiln-b.test");
    auto box = auth::SecretBox::LoadOrCreateKeyFile(data_dir_ + "/secret.key");
    ASSERT_TRUE(box.ok()) << box.status().ToString();
    SystemClock clock;
    auto key = api::LoadOrCreateTrackingKey(Db(), *box, clock);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_ = *key;
  }

  store::Database& Db() { return KilnApiFixture::Db(kTestQueries); }
  // One column of the one row `query` answers; -1 / "<missing>" (and a test failure) otherwise.
  std::optional<store::Row> Row(std::string_view query, store::Params params) {
    std::optional<store::Row> out;
    Status st = Db().Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow(query, params));
      out = std::move(row);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << query << ": " << st.ToString();
    return out;
  }
  int64_t Int(std::string_view query, store::Params params, std::string_view col) {
    auto row = Row(query, std::move(params));
    return row ? row->Int(col) : -1;
  }
  std::string Text(std::string_view query, store::Params params, std::string_view col) {
    auto row = Row(query, std::move(params));
    return row ? row->Text(col) : "<missing>";
  }
  bool IsNull(std::string_view query, store::Params params, std::string_view col) {
    auto row = Row(query, std::move(params));
    return !row || row->IsNull(col);
  }
  int64_t Count(std::string_view query) { return Int(query, {}, "n"); }
  int64_t Events(int64_t msg, const std::string& type) {
    return Int("test.events", {msg, type}, "n");
  }
  int64_t MachineEvents(int64_t msg, const std::string& type) {
    return Int("test.events", {msg, type}, "machine");
  }
  std::string LeadStatus(int64_t lead) { return Text("test.contact_status", {lead}, "status"); }

  // A launched campaign with one lead and one sent message (sent an hour ago).
  struct Sent {
    int64_t campaign = 0, lead = 0, message = 0, scheduled = 0;
    std::string email;
  };
  Sent MakeSent(Session& s, const std::string& email, int64_t sent_ago_ms = 3600000) {
    Sent out;
    out.email = email;
    auto r = s.Post(s.Ws() + "/senders", SenderBody("sender-" + email));
    EXPECT_EQ(r.status, 201) << r.body;
    int64_t sender = Json(r).at("id").as_int64();
    Status st = Db().Write([&](store::Tx& tx) {
      return tx.Exec("test.activate_sender", {s.ws, sender}).status();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    int64_t list = CreateId(s, "/lists", {{"name", "List " + email}});
    out.lead = CreateId(s, "/contacts", {{"email", email}, {"list_ids", json::array{list}}});
    json::array steps{json::object{
        {"delay_minutes", 0},
        {"variants", json::array{json::object{{"subject", "Hello"}, {"body_text", "Hi there"}}}}}};
    out.campaign = CreateId(s, "/campaigns",
                            {{"name", "Campaign " + email},
                             {"sender_ids", json::array{sender}},
                             {"list_ids", json::array{list}},
                             {"steps", steps}});
    auto launched = s.Action(s.Ws() + "/campaigns/" + std::to_string(out.campaign) + "/launch");
    EXPECT_EQ(launched.status, 200) << launched.body;
    int64_t now = SystemClock().NowMillis();
    st = Db().Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(
          auto row, tx.QueryRow("test.insert_message", {s.ws, out.campaign, out.lead, "sent",
                                                        now - sent_ago_ms, now - sent_ago_ms}));
      out.message = row.Int("id");
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  std::string Path(const Result<std::string>& url) {
    EXPECT_TRUE(url.ok()) << url.status().ToString();
    return url.ok() ? url->substr(std::string_view("http://t.test").size()) : "/";
  }
  std::string UnsubPath(int64_t ws, int64_t msg) {
    return Path(api::UnsubscribeUrl("http://t.test", key_, ws, msg));
  }
  std::string OpenPath(int64_t ws, int64_t msg) {
    return Path(api::OpenPixelUrl("http://t.test", key_, ws, msg));
  }
  std::string ClickPath(int64_t ws, int64_t msg, const std::string& url) {
    return Path(api::ClickUrl("http://t.test", key_, ws, msg, 0, url));
  }

  ClientResponse Raw(const std::string& method, const std::string& target,
                     const std::string& body = "", HeaderList headers = {}) {
    auto c = Client();
    auto r = c->Send(method, target, body, headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ClientResponse{};
  }

  Session a_, b_;
  std::string key_;
};

constexpr char kHumanUa[] =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
    "Safari/537.36";

TEST_P(TrackingApiTest, UnsubscribeThroughPageAndForm) {
  Sent m = MakeSent(a_, "ann@lead.test");
  std::string path = UnsubPath(a_.ws, m.message);
  auto page = Raw("GET", path, "", {{"User-Agent", kHumanUa}});
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.Header("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("<form method=\"post\">"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("http"), std::string::npos) << "the page loads nothing from elsewhere";
  // Showing the page changes nothing (scanners fetch every link).
  EXPECT_EQ(Events(m.message, "unsubscribed"), 0);
  EXPECT_EQ(LeadStatus(m.lead), "new");

  auto done =
      Raw("POST", path, "List-Unsubscribe=One-Click",
          {{"Content-Type", "application/x-www-form-urlencoded"}, {"User-Agent", kHumanUa}});
  EXPECT_EQ(done.status, 200) << done.body;
  EXPECT_NE(done.body.find("unsubscribed"), std::string::npos);
  EXPECT_EQ(Events(m.message, "unsubscribed"), 1);
  EXPECT_EQ(LeadStatus(m.lead), "unsubscribed");
  EXPECT_EQ(Text("test.enrolment_status", {m.campaign, m.lead}, "status"), "unsubscribed");
  EXPECT_EQ(Text("test.suppression", {a_.ws, "ann@lead.test"}, "reason"), "unsubscribed");
  EXPECT_EQ(Text("test.suppression", {a_.ws, "ann@lead.test"}, "source"),
            std::to_string(m.message));
  EXPECT_TRUE(IsNull("test.suppression", {a_.ws, "ann@lead.test"}, "campaign_id"));
  // And it shows in the API.
  auto list = a_.Get(a_.Ws() + "/suppressions?q=ann");
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(Json(list).at("items").as_array().size(), 1u);
}

TEST_P(TrackingApiTest, OneClickIsImmediateAndIdempotent) {
  Sent m = MakeSent(a_, "Bob@Lead.test");
  std::string path = UnsubPath(a_.ws, m.message);
  for (int i = 0; i < 3; ++i) {
    // A machine POST from a mailbox provider: no cookies, no CSRF header, no redirect.
    auto r = Raw("POST", path, "List-Unsubscribe=One-Click",
                 {{"Content-Type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(r.HasHeader("Location"));
  }
  EXPECT_EQ(Events(m.message, "unsubscribed"), 1);
  EXPECT_EQ(LeadStatus(m.lead), "unsubscribed");
  EXPECT_EQ(Text("test.suppression", {a_.ws, "bob@lead.test"}, "reason"), "unsubscribed");
  EXPECT_EQ(Count("test.all_suppressions"), 1);
}

TEST_P(TrackingApiTest, EveryTamperedTokenIs404AndWritesNothing) {
  Sent m = MakeSent(a_, "cy@lead.test");
  auto token = api::SignToken(key_, {api::TokenKind::kUnsubscribe, a_.ws, m.message, 0, ""});
  ASSERT_TRUE(token.ok());
  auto raw = auth::Base64UrlDecode(*token);
  ASSERT_TRUE(raw.ok());
  for (size_t i = 0; i < raw->size(); ++i) {
    std::string bad = *raw;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    std::string t = auth::Base64UrlEncode(bad);
    EXPECT_EQ(Raw("POST", "/u/" + t, "List-Unsubscribe=One-Click").status, 404) << "byte " << i;
    EXPECT_EQ(Raw("GET", "/u/" + t).status, 404) << "byte " << i;
    EXPECT_EQ(Raw("GET", "/o/" + t + ".gif").status, 404) << "byte " << i;
  }
  for (std::string t : {std::string("x"), std::string("AAAA"), *token + "A", token->substr(1),
                        std::string(300, 'A')}) {
    EXPECT_EQ(Raw("POST", "/u/" + t, "List-Unsubscribe=One-Click").status, 404) << t;
  }
  // A valid token of another kind is not an unsubscribe token.
  auto open = api::SignToken(key_, {api::TokenKind::kOpen, a_.ws, m.message, 0, ""});
  EXPECT_EQ(Raw("POST", "/u/" + *open, "List-Unsubscribe=One-Click").status, 404);
  EXPECT_EQ(Count("test.all_events"), 0);
  EXPECT_EQ(Count("test.all_suppressions"), 0);
  EXPECT_EQ(LeadStatus(m.lead), "new");
}

TEST_P(TrackingApiTest, TokensCannotCrossWorkspaces) {
  Sent ma = MakeSent(a_, "dee@lead.test");
  Sent mb = MakeSent(b_, "eve@lead.test");
  // A correctly signed token naming workspace B with A's message (and the reverse) finds nothing.
  EXPECT_EQ(Raw("POST", UnsubPath(b_.ws, ma.message), "List-Unsubscribe=One-Click").status, 404);
  EXPECT_EQ(Raw("POST", UnsubPath(a_.ws, mb.message), "List-Unsubscribe=One-Click").status, 404);
  EXPECT_EQ(Raw("GET", OpenPath(b_.ws, ma.message)).status, 404);
  EXPECT_EQ(Raw("GET", ClickPath(b_.ws, ma.message, "https://a.example/")).status, 404);
  EXPECT_EQ(Count("test.all_events"), 0);
  EXPECT_EQ(Count("test.all_suppressions"), 0);
  // Unsubscribing in A leaves B's list alone.
  EXPECT_EQ(Raw("POST", UnsubPath(a_.ws, ma.message), "List-Unsubscribe=One-Click").status, 200);
  EXPECT_EQ(Json(b_.Get(b_.Ws() + "/suppressions")).at("items").as_array().size(), 0u);
}

TEST_P(TrackingApiTest, OpenPixelAndMachineFlag) {
  Sent m = MakeSent(a_, "fay@lead.test");
  auto r = Raw("GET", OpenPath(a_.ws, m.message), "", {{"User-Agent", kHumanUa}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "image/gif");
  EXPECT_EQ(r.body.size(), 43u);
  EXPECT_EQ(r.body.substr(0, 6), "GIF89a");
  EXPECT_NE(r.Header("Cache-Control").find("no-store"), std::string::npos);
  EXPECT_EQ(Events(m.message, "opened"), 1);
  EXPECT_EQ(MachineEvents(m.message, "opened"), 0);
  EXPECT_FALSE(IsNull("test.message_status", {m.message}, "opened_at"));
  // Google's image proxy and Apple Mail Privacy Protection are machines.
  Raw("GET", OpenPath(a_.ws, m.message), "",
      {{"User-Agent",
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com "
        "GoogleImageProxy)"}});
  Raw("GET", OpenPath(a_.ws, m.message), "",
      {{"User-Agent",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko)"}});
  EXPECT_EQ(Events(m.message, "opened"), 3);
  EXPECT_EQ(MachineEvents(m.message, "opened"), 2);
  // HEAD answers like GET and records nothing.
  r = Raw("HEAD", OpenPath(a_.ws, m.message), "", {{"User-Agent", kHumanUa}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Events(m.message, "opened"), 3);
}

TEST_P(TrackingApiTest, HitsWithinSecondsOfTheSendAreMachines) {
  Sent m = MakeSent(a_, "hal@lead.test", 0);
  int64_t fresh = m.message;
  // A security scanner with a browser's user agent fetching every link right after delivery.
  EXPECT_EQ(
      Raw("GET", ClickPath(a_.ws, fresh, "https://a.example/"), "", {{"User-Agent", kHumanUa}})
          .status,
      302);
  EXPECT_EQ(Raw("GET", OpenPath(a_.ws, fresh), "", {{"User-Agent", kHumanUa}}).status, 200);
  EXPECT_EQ(MachineEvents(fresh, "clicked"), 1);
  EXPECT_EQ(MachineEvents(fresh, "opened"), 1);
  EXPECT_TRUE(IsNull("test.message_status", {fresh}, "opened_at"));
  EXPECT_TRUE(IsNull("test.message_status", {fresh}, "clicked_at"));
}

// Group commit: hits from many connections at once are each answered after their group
// committed, so every answered hit is a row, and the first human open and click are set once.
TEST_P(TrackingApiTest, ConcurrentHitsFromManyConnectionsAreAllRecorded) {
  Sent m1 = MakeSent(a_, "ida@lead.test");
  Sent m2 = MakeSent(a_, "jon@lead.test");
  constexpr int kThreads = 16, kHitsPerThread = 25;
  std::atomic<int> answered{0}, failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    const int64_t msg = i % 2 == 0 ? m1.message : m2.message;
    const std::string open = OpenPath(a_.ws, msg);
    const std::string click = ClickPath(a_.ws, msg, "https://a.example/page");
    threads.emplace_back([&, open, click] {
      auto c = Client();
      for (int j = 0; j < kHitsPerThread; ++j) {
        const bool is_click = j % 5 == 4;
        auto r = c->Get(is_click ? click : open, {{"User-Agent", kHumanUa}});
        if (r.ok() && r->status == (is_click ? 302 : 200)) {
          ++answered;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(answered.load(), kThreads * kHitsPerThread);
  const int64_t opens_each = kThreads / 2 * (kHitsPerThread - kHitsPerThread / 5);
  const int64_t clicks_each = kThreads / 2 * (kHitsPerThread / 5);
  for (const Sent* m : {&m1, &m2}) {
    EXPECT_EQ(Events(m->message, "opened"), opens_each);
    EXPECT_EQ(Events(m->message, "clicked"), clicks_each);
    EXPECT_EQ(MachineEvents(m->message, "opened"), 0);
    EXPECT_FALSE(IsNull("test.message_status", {m->message}, "opened_at"));
    EXPECT_FALSE(IsNull("test.message_status", {m->message}, "clicked_at"));
  }
  EXPECT_EQ(Count("test.all_events"), kThreads * kHitsPerThread);
}

// Durability: kiln killed (SIGKILL) while hits are coming in keeps every hit it answered.
TEST_P(TrackingApiTest, KillAfterAnswersLosesNoAnsweredHit) {
  Sent m = MakeSent(a_, "kim@lead.test");
  const std::string open = OpenPath(a_.ws, m.message);
  constexpr int kThreads = 8;
  constexpr int kAnsweredBeforeKill = 300;
  std::atomic<int> answered{0};
  std::atomic<bool> killed{false};
  std::mutex mu;
  std::condition_variable enough;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      auto c = Client();
      c->set_timeout(std::chrono::seconds(30));
      while (!killed.load()) {
        auto r = c->Get(open, {{"User-Agent", kHumanUa}});
        if (!r.ok()) break;  // the server is gone
        if (r->status != 200) {
          ADD_FAILURE() << "open pixel answered " << r->status << ": " << r->body;
          break;
        }
        if (++answered >= kAnsweredBeforeKill) enough.notify_one();
      }
    });
  }
  {
    std::unique_lock lock(mu);
    EXPECT_TRUE(enough.wait_for(lock, std::chrono::seconds(120),
                                [&] { return answered.load() >= kAnsweredBeforeKill; }));
  }
  proc_.Signal(SIGKILL);
  EXPECT_NE(proc_.Wait(30), -1000);
  killed = true;
  for (auto& t : threads) t.join();
  // Hits in flight at the kill may have been committed without an answer; never the reverse.
  EXPECT_GE(Events(m.message, "opened"), answered.load());
  EXPECT_GE(answered.load(), kAnsweredBeforeKill);
}

// Custom tracking domains: set through the sender and campaign routes (validated, lowercased,
// cleared with null), checked against the test DNS zone (weak.kiln.test and a7.kiln.test share
// 192.0.2.7; a1.kiln.test is 192.0.2.1), and the tracking endpoints answer on such a Host.
TEST_P(TrackingApiTest, TrackingDomainsAreValidatedCheckedAndServed) {
  auto resolver = dns::testing::TestResolver();  // fails the test when scripts/dns is not running
  ASSERT_NE(resolver, nullptr);
  proc_.Stop();
  auto args = BaseArgs();
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--public-url") args[i + 1] = "https://weak.kiln.test";
  }
  args.insert(args.end(), {"--rate-limit-per-minute", "1000000", "--dns-resolver",
                           dns::testing::TestDnsServer()});
  Status started = proc_.Start(args);
  ASSERT_TRUE(started.ok()) << started.ToString();
  Session c = NewOwner("owner@kiln-c.test");
  auto Put = [](Session& s, const std::string& path, const std::string& body) {
    return s.http->Send("PUT", path, body, s.H()).value();
  };
  Sent m = MakeSent(c, "lia@lead.test");
  auto senders = Json(c.Get(c.Ws() + "/senders")).at("items").as_array();
  ASSERT_EQ(senders.size(), 1u);
  const std::string sender_path =
      c.Ws() + "/senders/" + std::to_string(senders[0].at("id").as_int64()) + "/tracking-domain";
  const std::string campaign_path =
      c.Ws() + "/campaigns/" + std::to_string(m.campaign) + "/tracking-domain";

  // Not set: no check.
  auto r = c.Get(sender_path);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("tracking_domain").as_string(), "");
  EXPECT_TRUE(Json(r).at("check").is_null());

  // Invalid values: 400 naming the field, nothing stored.
  for (const char* bad : {"\"https://a7.kiln.test\"", "\"a7\"", "\"192.0.2.7\"", "5"}) {
    r = Put(c, sender_path, std::string("{\"tracking_domain\":") + bad + "}");
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
    EXPECT_EQ(ErrField(r), "tracking_domain") << bad;
  }
  EXPECT_EQ(Json(c.Get(sender_path)).at("tracking_domain").as_string(), "");

  // Pointing here (same address as public_url's host).
  r = Put(c, sender_path, R"({"tracking_domain":"A7.Kiln.Test."})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("tracking_domain").as_string(), "a7.kiln.test");
  r = c.Get(sender_path);
  ASSERT_EQ(r.status, 200) << r.body;
  auto check = Json(r).at("check");
  EXPECT_TRUE(check.at("points_here").as_bool()) << r.body;
  EXPECT_EQ(check.at("addresses").as_array().at(0).as_string(), "192.0.2.7");
  EXPECT_EQ(check.at("server_addresses").as_array().at(0).as_string(), "192.0.2.7");
  EXPECT_EQ(check.at("problem").as_string(), "");

  // Pointing elsewhere, and not existing.
  ASSERT_EQ(Put(c, campaign_path, R"({"tracking_domain":"a1.kiln.test"})").status, 200);
  check = Json(c.Get(campaign_path)).at("check");
  EXPECT_FALSE(check.at("points_here").as_bool());
  EXPECT_NE(std::string(check.at("problem").as_string()).find("not at this server"),
            std::string::npos)
      << check;
  ASSERT_EQ(Put(c, campaign_path, R"({"tracking_domain":"nope.kiln.test"})").status, 200);
  check = Json(c.Get(campaign_path)).at("check");
  EXPECT_FALSE(check.at("points_here").as_bool());
  EXPECT_NE(std::string(check.at("problem").as_string()).find("no A or AAAA record"),
            std::string::npos)
      << check;
  // null clears; another workspace's sender is not found.
  r = Put(c, campaign_path, R"({"tracking_domain":null})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(c.Get(campaign_path)).at("tracking_domain").as_string(), "");
  Session other = NewOwner("owner@kiln-d.test");
  EXPECT_EQ(Put(other,
                other.Ws() + "/senders/" + std::to_string(senders[0].at("id").as_int64()) +
                    "/tracking-domain",
                R"({"tracking_domain":"a7.kiln.test"})")
                .status,
            404);

  // The tracking endpoints answer on a tracking domain's Host.
  auto pixel = Raw("GET", OpenPath(c.ws, m.message), "",
                   {{"Host", "a7.kiln.test"}, {"User-Agent", kHumanUa}});
  EXPECT_EQ(pixel.status, 200);
  EXPECT_EQ(pixel.Header("Content-Type"), "image/gif");
  auto click = Raw("GET", ClickPath(c.ws, m.message, "https://a.example/x"), "",
                   {{"Host", "a7.kiln.test"}, {"User-Agent", kHumanUa}});
  EXPECT_EQ(click.status, 302);
  auto page = Raw("GET", UnsubPath(c.ws, m.message), "", {{"Host", "a7.kiln.test"}});
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(Events(m.message, "opened"), 1);
  EXPECT_EQ(Events(m.message, "clicked"), 1);
}

TEST_P(TrackingApiTest, ClickRedirectsOnlyToSignedUrl) {
  Sent m = MakeSent(a_, "gus@lead.test");
  const std::string target = "https://www.example.com/pricing?utm_source=kiln&x=%20y";
  auto r = Raw("GET", ClickPath(a_.ws, m.message, target), "", {{"User-Agent", kHumanUa}});
  ASSERT_EQ(r.status, 302) << r.body;
  EXPECT_EQ(r.Header("Location"), target);
  EXPECT_EQ(Events(m.message, "clicked"), 1);
  EXPECT_EQ(MachineEvents(m.message, "clicked"), 0);
  EXPECT_FALSE(IsNull("test.message_status", {m.message}, "clicked_at"));
  // A security scanner's fetch is recorded as a machine click.
  r = Raw("GET", ClickPath(a_.ws, m.message, target), "",
          {{"User-Agent", "Barracuda Sentinel (EE)"}});
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(MachineEvents(m.message, "clicked"), 1);
  // Open-redirect attempts: a query parameter, a path appended, a token of another kind.
  auto token = ClickPath(a_.ws, m.message, target);
  EXPECT_EQ(Raw("GET", token + "?url=https://evil.example/").Header("Location"), target);
  EXPECT_EQ(Raw("GET", token + "/https://evil.example/").status, 404);
  auto unsub = api::SignToken(key_, {api::TokenKind::kUnsubscribe, a_.ws, m.message, 0, ""});
  EXPECT_EQ(Raw("GET", "/c/" + *unsub).status, 404);
  // The signed URL cannot be swapped: change the URL bytes inside a real token.
  auto raw = auth::Base64UrlDecode(token.substr(3));
  ASSERT_TRUE(raw.ok());
  std::string swapped = *raw;
  size_t at = swapped.find("www.example.com");
  ASSERT_NE(at, std::string::npos);
  swapped.replace(at, 15, "www.evilxxx.com");
  EXPECT_EQ(Raw("GET", "/c/" + auth::Base64UrlEncode(swapped)).status, 404);
  EXPECT_EQ(Events(m.message, "clicked"), 3);
}

TEST_P(TrackingApiTest, SuppressionCrudAndIsolation) {
  auto r = a_.Post(a_.Ws() + "/suppressions",
                   R"({"values":["Zed@Example.COM","@Spam.Example","@bücher.example"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("added").as_int64(), 3);
  r = a_.Post(a_.Ws() + "/suppressions", R"({"values":["zed@example.com"]})");
  EXPECT_EQ(Json(r).at("existing").as_int64(), 1);
  r = a_.Post(a_.Ws() + "/suppressions", R"({"values":["ok@example.com","not an address"]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrField(r), "values[1]");
  r = a_.Post(a_.Ws() + "/suppressions", R"({"values":["@"]})");
  EXPECT_EQ(ErrField(r), "values[0]");
  r = a_.Post(a_.Ws() + "/suppressions", R"({"values":["x@y.example"],"campaign_id":999999})");
  EXPECT_EQ(ErrField(r), "campaign_id");

  auto list = Json(a_.Get(a_.Ws() + "/suppressions"));
  auto& items = list.at("items").as_array();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].at("domain").as_string(), "bücher.example");
  EXPECT_EQ(items[1].at("domain").as_string(), "spam.example");
  EXPECT_EQ(items[2].at("email").as_string(), "zed@example.com");
  EXPECT_EQ(items[2].at("reason").as_string(), "manual");
  auto page = Json(a_.Get(a_.Ws() + "/suppressions?limit=2"));
  EXPECT_EQ(page.at("items").as_array().size(), 2u);
  auto rest = Json(a_.Get(a_.Ws() + "/suppressions?limit=2&before=" +
                          std::to_string(page.at("next_before").as_int64())));
  EXPECT_EQ(rest.at("items").as_array().size(), 1u);
  EXPECT_TRUE(rest.at("next_before").is_null());
  EXPECT_EQ(Json(a_.Get(a_.Ws() + "/suppressions?q=SPAM")).at("items").as_array().size(), 1u);

  // B sees none of it and cannot delete it.
  int64_t zed = items[2].at("id").as_int64();
  EXPECT_EQ(Json(b_.Get(b_.Ws() + "/suppressions")).at("items").as_array().size(), 0u);
  EXPECT_EQ(b_.Delete(b_.Ws() + "/suppressions/" + std::to_string(zed)).status, 404);
  EXPECT_EQ(b_.Delete(a_.Ws() + "/suppressions/" + std::to_string(zed)).status, 404);
  EXPECT_EQ(a_.Delete(a_.Ws() + "/suppressions/" + std::to_string(zed)).status, 204);
  EXPECT_EQ(a_.Delete(a_.Ws() + "/suppressions/" + std::to_string(zed)).status, 404);
  EXPECT_EQ(Json(a_.Get(a_.Ws() + "/suppressions")).at("items").as_array().size(), 2u);
}

TEST_P(TrackingApiTest, CsvImportErrorsByRowAndExportRoundTrip) {
  std::string csv =
      "email\r\n"
      "one@example.com\r\n"
      "\r\n"
      "not-an-address\r\n"
      "\"two@example.com\",extra,columns\r\n"
      "@Domain.Example\r\n"
      "\"unterminated@example.com\r\n"
      "@bad domain\r\n"
      "ONE@example.com\n"
      "=cmd|calc!A0@example.com\n";
  auto r = a_.http->Send("POST", a_.Ws() + "/suppressions/import", csv,
                         {{"Content-Type", "text/csv"}, {"X-CSRF-Token", a_.csrf}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  auto v = Json(*r);
  EXPECT_EQ(v.at("rows").as_int64(), 10);
  EXPECT_EQ(v.at("added").as_int64(), 4) << r->body;
  EXPECT_EQ(v.at("existing").as_int64(), 1);
  EXPECT_EQ(v.at("error_count").as_int64(), 3);
  auto& errors = v.at("errors").as_array();
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].at("row").as_int64(), 4);
  EXPECT_EQ(errors[1].at("row").as_int64(), 7);
  EXPECT_EQ(errors[2].at("row").as_int64(), 8);
  EXPECT_NE(std::string(errors[1].at("message").as_string()).find("quote"), std::string::npos);

  auto exported = a_.Get(a_.Ws() + "/suppressions/export");
  ASSERT_EQ(exported.status, 200);
  EXPECT_NE(exported.Header("Content-Type").find("text/csv"), std::string::npos);
  EXPECT_NE(exported.body.find("\"one@example.com\""), std::string::npos) << exported.body;
  EXPECT_NE(exported.body.find("\"'@domain.example\""), std::string::npos) << exported.body;
  EXPECT_NE(exported.body.find("\"'=cmd|calc!a0@example.com\""), std::string::npos)
      << "formulas are neutralised: " << exported.body;

  // The export imports into another workspace as the same list.
  r = b_.http->Send("POST", b_.Ws() + "/suppressions/import", exported.body,
                    {{"Content-Type", "text/csv"}, {"X-CSRF-Token", b_.csrf}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Json(*r).at("added").as_int64(), 4) << r->body;
  EXPECT_EQ(Json(*r).at("error_count").as_int64(), 0) << r->body;
  auto again = b_.Get(b_.Ws() + "/suppressions/export");
  auto addresses = [](const std::string& body) {
    std::vector<std::string> out;
    size_t pos = body.find('\n') + 1;
    while (pos < body.size()) {
      size_t end = body.find('\n', pos);
      std::string line = body.substr(pos, end - pos);
      out.push_back(line.substr(0, line.find("\",")));
      pos = end + 1;
    }
    return out;
  };
  EXPECT_EQ(addresses(again.body), addresses(exported.body));
  // Without a session or an API key: 401.
  EXPECT_EQ(Raw("POST", a_.Ws() + "/suppressions/import", "x@y.example").status, 401);
}

TEST_P(TrackingApiTest, CampaignEntriesAreWidenedByWorkspaceWideOnes) {
  Sent m = MakeSent(a_, "ivy@lead.test");
  auto r = a_.Post(a_.Ws() + "/suppressions",
                   "{\"values\":[\"ivy@lead.test\",\"@wide.example\"],\"campaign_id\":" +
                       std::to_string(m.campaign) + "}");
  ASSERT_EQ(r.status, 200) << r.body;
  auto scoped = Json(a_.Get(a_.Ws() + "/suppressions?campaign_id=" + std::to_string(m.campaign)));
  EXPECT_EQ(scoped.at("items").as_array().size(), 2u);
  // Adding the domain workspace-wide widens its entry.
  r = a_.Post(a_.Ws() + "/suppressions", R"({"values":["@wide.example"]})");
  EXPECT_EQ(Json(r).at("added").as_int64(), 1);
  // An unsubscribe always suppresses workspace-wide.
  EXPECT_EQ(Raw("POST", UnsubPath(a_.ws, m.message), "List-Unsubscribe=One-Click").status, 200);
  EXPECT_TRUE(IsNull("test.suppression", {a_.ws, "ivy@lead.test"}, "campaign_id"));
  EXPECT_EQ(Text("test.suppression", {a_.ws, "ivy@lead.test"}, "reason"), "unsubscribed");
  auto all = Json(a_.Get(a_.Ws() + "/suppressions"));
  ASSERT_EQ(all.at("items").as_array().size(), 2u);
  for (const auto& item : all.at("items").as_array()) EXPECT_TRUE(item.at("campaign_id").is_null());
}

TEST_P(TrackingApiTest, ImportTakesBodiesUpToTenMegabytes) {
  HeaderList h{{"Content-Type", "text/csv"}, {"X-CSRF-Token", a_.csrf}};
  // 4 MB: over the server's default 1 MB body limit, which the import route raises to 10 MB.
  std::string csv = "first@big.example\n" + std::string(4 << 20, '\n') + "last@big.example\n";
  auto r = a_.http->Send("POST", a_.Ws() + "/suppressions/import", csv, h);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body.substr(0, 300);
  EXPECT_EQ(Json(*r).at("added").as_int64(), 2);
  EXPECT_EQ(Json(*r).at("rows").as_int64(), (4 << 20) + 2);
  // Over 10 MB: 413 as soon as the headers are read; the server closes without reading the body,
  // so a client still writing may see the connection closed instead of the answer.
  r = a_.http->Send("POST", a_.Ws() + "/suppressions/import",
                    "x@big.example\n" + std::string(10 << 20, '\n'), h);
  if (r.ok()) {
    EXPECT_EQ(r->status, 413);
  } else {
    EXPECT_NE(r.status().message().find("write"), std::string::npos) << r.status().ToString();
  }
  // Other routes keep the default limit.
  auto big = a_.Post(a_.Ws() + "/suppressions",
                     "{\"values\":[\"" + std::string(2 << 20, 'a') + "@x.example\"]}");
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(Json(a_.Get(a_.Ws() + "/suppressions")).at("items").as_array().size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, TrackingApiTest, ::testing::ValuesIn(DbBackends()),
                         DbBackendName());

}  // namespace
}  // namespace kiln::testing
