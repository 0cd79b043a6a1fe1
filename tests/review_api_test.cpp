// API tests against the real `kiln serve` on SQLite and PostgreSQL for behaviour that sits across
// several route files:
//   - leads: keyset pages of a filtered list (q=, status=, list_id=) give every matching lead
//     exactly once, newest first, and next_before is null on the last page (also when the last
//     page is full).
//   - Postmark's webhook records on the inbound provider URL: a hard bounce and a spam complaint
//     suppress the address and stop the lead's sequence as Mailgun's do; replays count once; opens
//     are ignored; a bad record names its field; the URL's token is the credential.
//   - live progress: each sender's "today" (sent, warm-up sent) is its own calendar day in its
//     time zone, not the UTC day: a sender at UTC+14 next to one on UTC, with warm-up mail around
//     both midnights.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "api_test_util.h"
#include "kiln/base/clock.h"
#include "kiln/base/time_format.h"
#include "kiln/http/websocket_test_client.h"
#include "kiln/store/db.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;
using http::TestWebSocket;

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;

constexpr char kTestQueries[] = R"(-- Test-only statements.
-- name: test.warmup_sent
INSERT INTO warmup_messages (workspace_id, sender_id, peer_sender_id, direction, token, status,
                             scheduled_at, sent_at, created_at, updated_at)
VALUES ($1, $2, $3, 'out', 'tok', 'sent', $4, $4, $4, $4);
-- name: test.activate_sender
UPDATE senders SET status = 'active' WHERE workspace_id = $1 AND id = $2;
-- name: test.insert_message
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, message_id_header, status,
                      scheduled_at, sent_at, created_at, updated_at)
VALUES ($1, $2, $3, (SELECT id FROM campaign_steps WHERE campaign_id = $2 ORDER BY position LIMIT 1),
        $4, 'sent', $5, $5, $5, $5)
RETURNING id;
-- name: test.events
SELECT COUNT(*) AS n FROM events WHERE workspace_id = $1 AND type = $2;
-- name: test.suppression
SELECT COUNT(*) AS n FROM suppression_list WHERE workspace_id = $1 AND email = $2 AND reason = $3;
-- name: test.contact_status
SELECT status FROM contacts WHERE id = $1;
-- name: test.message_status
SELECT status FROM messages WHERE id = $1;
-- name: test.enrolment_status
SELECT status FROM campaign_contacts WHERE campaign_id = $1 AND contact_id = $2;
-- name: test.ledger
SELECT COUNT(*) AS n FROM inbound_provider_events WHERE workspace_id = $1 AND provider = $2;
)";

class ReviewApiTest : public KilnApiFixture {
 protected:
  void SetUp() override {
    KilnApiFixture::SetUp();
    if (HasFatalFailure()) return;
    StartKiln({"--rate-limit-per-minute", "1000000", "--no-workers"});
    if (HasFatalFailure()) return;
    a_ = NewOwner("owner@kiln-a.test");
  }

  // Every page of `query` (with limit) until next_before is null; the ids in answer order.
  std::vector<int64_t> PageThrough(const std::string& query, int64_t limit, int* pages) {
    std::vector<int64_t> ids;
    std::string before;
    *pages = 0;
    for (int guard = 0; guard < 100; ++guard) {
      auto r = a_.Get(a_.Ws() + "/contacts?limit=" + std::to_string(limit) + query + before);
      EXPECT_EQ(r.status, 200) << query << " -> " << r.body;
      if (r.status != 200) break;
      ++*pages;
      auto v = Json(r);
      const auto& items = v.at("items").as_array();
      EXPECT_LE(static_cast<int64_t>(items.size()), limit);
      for (const auto& item : items) ids.push_back(item.at("id").as_int64());
      const auto& next = v.at("next_before");
      if (next.is_null()) return ids;
      EXPECT_FALSE(items.empty()) << "a page with a next_before must answer items";
      EXPECT_EQ(next.as_int64(), items.back().at("id").as_int64());
      before = "&before=" + std::to_string(next.as_int64());
    }
    ADD_FAILURE() << "paging " << query << " did not end";
    return ids;
  }

  store::Database& Db() { return KilnApiFixture::Db(kTestQueries); }
  int64_t Int(std::string_view query, store::Params params) {
    int64_t out = -1;
    Status st = Db().Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow(query, params));
      out = row.Int("n");
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << query << ": " << st.ToString();
    return out;
  }
  std::string StatusOf(std::string_view query, store::Params params) {
    std::string out = "<missing>";
    Status st = Db().Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow(query, params));
      out = row.Text("status");
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << query << ": " << st.ToString();
    return out;
  }

  int64_t CreateId(const std::string& path, const json::object& body) {
    auto r = a_.Post(a_.Ws() + path, json::serialize(body));
    EXPECT_EQ(r.status, 201) << path << " -> " << r.body;
    auto v = Json(r);
    return v.is_object() && v.as_object().contains("id") ? v.at("id").as_int64() : 0;
  }

  // A launched campaign with one lead, `email`, and one message sent to it an hour ago.
  struct Sent {
    int64_t campaign = 0, lead = 0, message = 0;
  };
  Sent MakeSent(const std::string& email) {
    Sent out;
    const int64_t sender = CreateSender("sender-" + email, "UTC");
    Status st = Db().Write([&](store::Tx& tx) {
      return tx.Exec("test.activate_sender", {a_.ws, sender}).status();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    const int64_t list = CreateId("/lists", {{"name", "List " + email}});
    out.lead = CreateId("/contacts", {{"email", email}, {"list_ids", json::array{list}}});
    json::array steps{json::object{
        {"delay_minutes", 0},
        {"variants", json::array{json::object{{"subject", "Hello"}, {"body_text", "Hi there"}}}}}};
    out.campaign = CreateId("/campaigns", {{"name", "Campaign " + email},
                                           {"sender_ids", json::array{sender}},
                                           {"list_ids", json::array{list}},
                                           {"steps", steps}});
    auto launched = a_.Action(a_.Ws() + "/campaigns/" + std::to_string(out.campaign) + "/launch");
    EXPECT_EQ(launched.status, 200) << launched.body;
    const int64_t sent_at = SystemClock().NowMillis() - 3'600'000;
    st = Db().Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(
          auto row, tx.QueryRow("test.insert_message", {a_.ws, out.campaign, out.lead,
                                                        "<" + email + ".1@kiln.test>", sent_at}));
      out.message = row.Int("id");
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  ClientResponse PostJson(const std::string& target, const std::string& body) {
    auto r = Client()->Send("POST", target, body, {{"Content-Type", "application/json"}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ClientResponse{};
  }

  int64_t CreateSender(const std::string& email, const std::string& timezone) {
    auto body = json::parse(SenderBody(email)).as_object();
    body["timezone"] = timezone;
    auto r = a_.Post(a_.Ws() + "/senders", json::serialize(body));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? Json(r).at("id").as_int64() : 0;
  }

  // The live stream's snapshot for workspace a_.
  json::object Snapshot() {
    std::string cookies;
    for (const auto& [name, value] : a_.http->cookies()) {
      cookies += (cookies.empty() ? "" : "; ") + name + "=" + value;
    }
    TestWebSocket::Options o;
    o.headers = {{"Cookie", cookies}, {"Origin", "https://kiln.test"}};
    int status = 0;
    std::string body;
    auto ws = TestWebSocket::Connect(proc_.port(), a_.Ws() + "/live", o, &status, &body);
    EXPECT_TRUE(ws.ok()) << status << " " << body;
    if (!ws.ok()) return {};
    for (int i = 0; i < 10; ++i) {
      auto text = (*ws)->Read(std::chrono::seconds(30));
      EXPECT_TRUE(text.ok()) << text.status().ToString();
      if (!text.ok()) return {};
      auto v = json::parse(*text).as_object();
      if (v.at("type").as_string() == "snapshot") return v;
    }
    ADD_FAILURE() << "no snapshot frame";
    return {};
  }

  Session a_;
};

TEST_P(ReviewApiTest, FilteredLeadPagesGiveEveryLeadOnceAndEndWithNullNextBefore) {
  auto list = a_.Post(a_.Ws() + "/lists", R"({"name":"Q4 targets"})");
  ASSERT_EQ(list.status, 201) << list.body;
  const int64_t list_id = Json(list).at("id").as_int64();
  // 40 leads: every other one is in the list, every third works at Acme, every fourth is
  // interested. The ones matching all three filters are i % 12 == 0 (i = 0, 12, 24, 36); the
  // list alone holds 20, Acme alone 14.
  json::array in_list, outside;
  for (int i = 0; i < 40; ++i) {
    json::object lead{{"email", "lead" + std::to_string(i) + "@kiln-a.test"},
                      {"first_name", "Lead" + std::to_string(i)},
                      {"company", i % 3 == 0 ? "Acme Corp" : "Globex"},
                      {"status", i % 4 == 0 ? "interested" : "new"}};
    (i % 2 == 0 ? in_list : outside).push_back(std::move(lead));
  }
  auto bulk = a_.Post(
      a_.Ws() + "/contacts/bulk",
      json::serialize(json::object{{"contacts", in_list}, {"list_ids", json::array{list_id}}}));
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  ASSERT_EQ(Json(bulk).at("created").as_int64(), 20);
  bulk = a_.Post(a_.Ws() + "/contacts/bulk", json::serialize(json::object{{"contacts", outside}}));
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  ASSERT_EQ(Json(bulk).at("created").as_int64(), 20);

  // What each filter must answer, read from the leads one by one (ids by email).
  std::map<std::string, int64_t> id_of;
  {
    int pages = 0;
    for (int64_t id : PageThrough("", 500, &pages)) {
      auto r = a_.Get(a_.Ws() + "/contacts/" + std::to_string(id));
      ASSERT_EQ(r.status, 200) << r.body;
      id_of[std::string(Json(r).at("email").as_string())] = id;
    }
    ASSERT_EQ(id_of.size(), 40u);
  }
  auto expect_ids = [&](auto pred) {
    std::vector<int64_t> ids;
    for (int i = 0; i < 40; ++i) {
      if (pred(i)) ids.push_back(id_of.at("lead" + std::to_string(i) + "@kiln-a.test"));
    }
    std::sort(ids.rbegin(), ids.rend());  // newest first
    return ids;
  };
  struct Case {
    std::string query;
    std::vector<int64_t> want;
  };
  const std::string list_q = "&list_id=" + std::to_string(list_id);
  const std::vector<Case> cases = {
      {"&q=acme", expect_ids([](int i) { return i % 3 == 0; })},
      {"&status=interested", expect_ids([](int i) { return i % 4 == 0; })},
      {list_q, expect_ids([](int i) { return i % 2 == 0; })},
      {"&q=acme&status=interested" + list_q, expect_ids([](int i) { return i % 12 == 0; })},
      {"&q=globex" + list_q, expect_ids([](int i) { return i % 2 == 0 && i % 3 != 0; })},
      {"&q=nobody", {}},
  };
  for (const Case& c : cases) {
    // Limits that divide the count (a full last page), that do not, and larger than the count.
    for (int64_t limit : {1, 2, 3, 4, 7, 50}) {
      SCOPED_TRACE(c.query + " limit=" + std::to_string(limit));
      int pages = 0;
      std::vector<int64_t> got = PageThrough(c.query, limit, &pages);
      EXPECT_EQ(got, c.want);
      EXPECT_EQ(std::set<int64_t>(got.begin(), got.end()).size(), got.size()) << "a lead twice";
      const int64_t n = static_cast<int64_t>(c.want.size());
      EXPECT_EQ(pages, n == 0 ? 1 : (n + limit - 1) / limit);
    }
  }
}

// Postmark's records (its documented shapes) on the workspace's inbound URL.
TEST_P(ReviewApiTest, PostmarkBounceAndComplaintSuppressAndStopTheLead) {
  auto setup = a_.http->Send("PUT", a_.Ws() + "/provider-webhook", "{}", a_.H());
  ASSERT_TRUE(setup.ok());
  ASSERT_EQ(setup->status, 200) << setup->body;
  const std::string url = std::string(Json(*setup).at("path").as_string());
  Sent gone = MakeSent("gone@customer.test");
  Sent angry = MakeSent("angry@customer.test");
  ASSERT_EQ(StatusOf("test.enrolment_status", {gone.campaign, gone.lead}), "pending");

  const std::string bounce =
      R"({"RecordType":"Bounce","MessageStream":"outbound","ID":4323372036854775807,
    "Type":"HardBounce","TypeCode":1,"Name":"Hard bounce","Tag":"Test",
    "MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","Metadata":{"a_key":"a_value"},"ServerID":23,
    "Description":"The server was unable to deliver your message (ex: unknown user, mailbox not found).",
    "Details":"smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    "Email":"Gone@Customer.test","From":"sender@example.com","BouncedAt":"2026-11-22T06:33:54.9070259Z",
    "DumpAvailable":true,"Inactive":true,"CanActivate":true,"Subject":"Hello"})";
  // The token is the credential: another path reaches nothing.
  EXPECT_EQ(PostJson("/api/webhooks/provider/not-the-token", bounce).status, 404);
  EXPECT_EQ(Int("test.ledger", {a_.ws, "postmark"}), 0);

  auto r = PostJson(url, bounce);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("recorded").as_int64(), 1);
  EXPECT_EQ(Int("test.events", {a_.ws, "bounced"}), 1);
  EXPECT_EQ(Int("test.suppression", {a_.ws, "gone@customer.test", "bounced"}), 1);
  EXPECT_EQ(StatusOf("test.contact_status", {gone.lead}), "bounced");
  EXPECT_EQ(StatusOf("test.message_status", {gone.message}), "bounced");
  EXPECT_EQ(StatusOf("test.enrolment_status", {gone.campaign, gone.lead}), "bounced");
  // Postmark retries until it gets a 2xx: the same record again changes nothing.
  r = PostJson(url, bounce);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("duplicates").as_int64(), 1);
  EXPECT_EQ(Int("test.events", {a_.ws, "bounced"}), 1);

  const std::string complaint = R"({"RecordType":"SpamComplaint","MessageStream":"outbound","ID":42,
    "Type":"SpamComplaint","TypeCode":100001,"Name":"Spam complaint","Tag":"Test",
    "MessageID":"00000000-0000-0000-0000-000000000000","ServerID":1234,"Description":"",
    "Details":"Test spam complaint details","Email":"angry@customer.test","From":"sender@example.com",
    "BouncedAt":"2026-11-22T06:40:00Z","DumpAvailable":true,"Inactive":true,"CanActivate":false,
    "Subject":"Hello"})";
  r = PostJson(url, complaint);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("recorded").as_int64(), 1);
  EXPECT_EQ(Int("test.events", {a_.ws, "complained"}), 1);
  EXPECT_EQ(Int("test.suppression", {a_.ws, "angry@customer.test", "complained"}), 1);
  EXPECT_EQ(StatusOf("test.contact_status", {angry.lead}), "unsubscribed");
  EXPECT_EQ(StatusOf("test.enrolment_status", {angry.campaign, angry.lead}), "unsubscribed");

  // Opens are Kiln's own tracking's to count: acknowledged, ignored.
  r = PostJson(url, R"({"RecordType":"Open","MessageStream":"outbound","FirstOpen":true,
    "Recipient":"angry@customer.test","MessageID":"00000000-0000-0000-0000-000000000000",
    "ReceivedAt":"2026-11-22T06:50:00Z","Platform":"WebMail","ReadSeconds":5})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("ignored").as_int64(), 1);
  EXPECT_EQ(Int("test.events", {a_.ws, "opened"}), 0);
  // A malformed record names its field and records nothing.
  r = PostJson(url,
               R"({"RecordType":"Bounce","ID":43,"Type":"HardBounce","Email":"not-an-address"})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrField(r), "Email");
  EXPECT_EQ(Int("test.ledger", {a_.ws, "postmark"}), 3);
}

// Kiritimati is UTC+14 all year: its midnight is 10:00 UTC, so at any moment its day began 10 h
// after or 14 h before the UTC day. Warm-up mail one minute either side of both midnights tells the
// two days apart; the count must follow the sender's own day (it followed the UTC day before).
TEST_P(ReviewApiTest, LiveWarmupTodayFollowsEachSendersOwnDay) {
  const int64_t kiribati = CreateSender("far-east@kiln-a.test", "Pacific/Kiritimati");
  const int64_t london = CreateSender("utc@kiln-a.test", "UTC");
  ASSERT_GT(kiribati, 0);
  ASSERT_GT(london, 0);
  const int64_t now = SystemClock().NowMillis();
  const int64_t utc_midnight = now - now % kDayMs;
  // The last 10:00 UTC at or before now.
  int64_t kiribati_midnight = utc_midnight + 10 * kHourMs;
  if (kiribati_midnight > now) kiribati_midnight -= kDayMs;
  std::vector<int64_t> times;
  for (int64_t t : {now - 1000, kiribati_midnight - 60'000, kiribati_midnight + 60'000,
                    utc_midnight - 60'000, utc_midnight + 60'000, now - 30 * kHourMs}) {
    if (t < now) times.push_back(t);
  }
  Status st = Db().Write([&](store::Tx& tx) -> Status {
    for (int64_t t : times) {
      KILN_RETURN_IF_ERROR(tx.Exec("test.warmup_sent", {a_.ws, kiribati, london, t}).status());
      KILN_RETURN_IF_ERROR(tx.Exec("test.warmup_sent", {a_.ws, london, kiribati, t}).status());
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();

  json::object frame = Snapshot();
  ASSERT_TRUE(frame.contains("senders")) << json::serialize(frame);
  const int64_t at = ParseIso8601(std::string(frame.at("at").as_string())).value();
  auto count_since = [&](int64_t start) {
    return static_cast<int64_t>(
        std::count_if(times.begin(), times.end(), [&](int64_t t) { return t >= start; }));
  };
  int64_t total = 0;
  for (const auto& item : frame.at("senders").as_array()) {
    const auto& sender = item.as_object();
    const int64_t id = sender.at("id").as_int64();
    SCOPED_TRACE(json::serialize(sender));
    ASSERT_TRUE(sender.contains("day_start"));
    const int64_t day_start = ParseIso8601(std::string(sender.at("day_start").as_string())).value();
    // The sender's day: the midnight of its zone at or before the frame's time, less than a day
    // before it.
    EXPECT_LE(day_start, at);
    EXPECT_GT(day_start, at - kDayMs);
    EXPECT_EQ((day_start + (id == kiribati ? 14 * kHourMs : 0)) % kDayMs, 0);
    EXPECT_EQ(sender.at("warmup_today").as_int64(), count_since(day_start));
    total += sender.at("warmup_today").as_int64();
  }
  EXPECT_EQ(frame.at("today").at("warmup_sent").as_int64(), total);
  // The two days differ, and so do the counts (unless this ran within a minute after a midnight,
  // when one of the marks is still in the future).
  const int64_t kiribati_start = kiribati_midnight <= at && at - kiribati_midnight < kDayMs
                                     ? kiribati_midnight
                                     : kiribati_midnight + kDayMs;
  EXPECT_NE(kiribati_start, utc_midnight);
  if (times.size() == 6) {
    EXPECT_NE(count_since(kiribati_start), count_since(utc_midnight));
  }
}

INSTANTIATE_TEST_SUITE_P(Db, ReviewApiTest, ::testing::ValuesIn(DbBackends()), DbBackendName());

}  // namespace
}  // namespace kiln::testing
