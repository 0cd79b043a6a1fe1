// Webhooks over HTTP against the real `kiln serve` (its own dispatcher thread) on SQLite and
// PostgreSQL, with a receiver on 127.0.0.1 (webhooks/test_receiver.h):
//   - subscription CRUD, validation naming the field, the SSRF guard, isolation between workspaces;
//   - a real one-click unsubscribe (POST /u/{token}) reaches the receiver as a signed event; the
//     receiver fails the first three attempts and sees the retries come with growing delays; the
//     delivery log shows every attempt;
//   - the test ping and a retry by hand;
//   - inbound provider events: a generic batch (all-or-nothing, 400 naming events[i].field, a
//     replay recorded once) and Mailgun's format (a forged signature is 401 and records nothing).
// Retry delays are shortened with webhook_backoff_permille; private targets are allowed with
// webhook_allow_private_targets (the receiver is on 127.0.0.1).
#include "api_test_util.h"
#include "kiln/api/tracking_tokens.h"
#include "kiln/auth/crypto.h"
#include "kiln/auth/secret_box.h"
#include "kiln/base/clock.h"
#include "kiln/store/db.h"
#include "kiln/webhooks/backoff.h"
#include "kiln/webhooks/signature.h"
#include "kiln/webhooks/test_receiver.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;
using webhooks::testing::TestReceiver;

constexpr int64_t kBackoffPermille = 4;  // 1 min -> 240 ms, 5 min -> 1.2 s, 30 min -> 7.2 s

constexpr char kTestQueries[] = R"(-- Test-only statements.
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
-- name: test.all_events
SELECT COUNT(*) AS n FROM events;
-- name: test.suppression
SELECT COUNT(*) AS n FROM suppression_list WHERE workspace_id = $1 AND email = $2 AND reason = $3;
-- name: test.contact_status
SELECT status FROM contacts WHERE id = $1;
-- name: test.message_status
SELECT status FROM messages WHERE id = $1;
-- name: test.ledger
SELECT COUNT(*) AS n FROM inbound_provider_events WHERE workspace_id = $1;
)";

class WebhooksApiTest : public KilnApiFixture {
 protected:
  void SetUp() override {
    KilnApiFixture::SetUp();
    if (HasFatalFailure()) return;
    StartKiln({"--rate-limit-per-minute", "1000000", "--webhook-allow-private-targets", "true",
               "--webhook-backoff-permille", std::to_string(kBackoffPermille), "--webhook-tick-ms",
               "50", "--webhook-settle-ms", "100"});
    if (HasFatalFailure()) return;
    a_ = NewOwner("owner@kiln-a.test");
    b_ = NewOwner("owner@kiln-b.test");
  }

  store::Database& Db() { return KilnApiFixture::Db(kTestQueries); }
  int64_t Int(std::string_view query, store::Params params, std::string_view col = "n") {
    int64_t out = -1;
    Status st = Db().Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow(query, params));
      out = row.Int(col);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << query << ": " << st.ToString();
    return out;
  }
  std::string Text(std::string_view query, store::Params params, std::string_view col) {
    std::string out = "<missing>";
    Status st = Db().Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow(query, params));
      out = row.Text(col);
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << query << ": " << st.ToString();
    return out;
  }

  // A launched campaign with one lead and one message sent an hour ago.
  struct Sent {
    int64_t campaign = 0, lead = 0, message = 0;
    std::string email, header;
  };
  Sent MakeSent(Session& s, const std::string& email) {
    Sent out;
    out.email = email;
    out.header = "<" + email + ".1@kiln.test>";
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
    const int64_t sent_at = SystemClock().NowMillis() - 3'600'000;
    st = Db().Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(
          auto row,
          tx.QueryRow("test.insert_message", {s.ws, out.campaign, out.lead, out.header, sent_at}));
      out.message = row.Int("id");
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return out;
  }

  // Creates a subscription; answers {id, secret}.
  std::pair<int64_t, std::string> Subscribe(Session& s, const std::string& url,
                                            json::array types = {}) {
    auto r =
        s.Post(s.Ws() + "/webhooks",
               json::serialize(json::object{
                   {"url", url}, {"description", "CRM sync"}, {"event_types", std::move(types)}}));
    EXPECT_EQ(r.status, 201) << r.body;
    auto v = Json(r);
    if (!v.is_object()) return {0, ""};
    return {v.at("id").as_int64(), std::string(v.at("secret").as_string())};
  }

  ClientResponse Raw(const std::string& method, const std::string& target,
                     const std::string& body = "", HeaderList headers = {}) {
    auto c = Client();
    auto r = c->Send(method, target, body, headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : ClientResponse{};
  }
  ClientResponse PostJson(const std::string& target, const std::string& body) {
    return Raw("POST", target, body, {{"Content-Type", "application/json"}});
  }

  // Polls the delivery log until `pred` holds on its items (or 30 s pass).
  json::array WaitForLog(Session& s, int64_t hook,
                         const std::function<bool(const json::array&)>& pred) {
    json::array items;
    for (int i = 0; i < 600; ++i) {
      auto r = s.Get(s.Ws() + "/webhooks/" + std::to_string(hook) + "/deliveries");
      EXPECT_EQ(r.status, 200) << r.body;
      items = Json(r).at("items").as_array();
      if (pred(items)) return items;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "the delivery log never got there: " << json::serialize(items);
    return items;
  }

  Session a_, b_;
};

TEST_P(WebhooksApiTest, SubscriptionCrudValidationSsrfAndIsolation) {
  TestReceiver receiver;
  auto [id, secret] = Subscribe(a_, receiver.Url(), {"clicked", "unsubscribed"});
  ASSERT_GT(id, 0);
  EXPECT_EQ(secret.rfind("whsec_", 0), 0u);
  const std::string path = a_.Ws() + "/webhooks/" + std::to_string(id);
  // The secret is never answered again.
  auto got = a_.Get(path);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_FALSE(Json(got).as_object().contains("secret"));
  EXPECT_EQ(json::serialize(Json(got).at("event_types")), R"(["clicked","unsubscribed"])");
  EXPECT_EQ(got.body.find(secret), std::string::npos);
  auto list = a_.Get(a_.Ws() + "/webhooks");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Json(list).at("items").as_array().size(), 1u);
  EXPECT_EQ(list.body.find(secret), std::string::npos);

  // Validation names the field.
  auto bad_type = a_.Patch(path, R"({"event_types":["clicked","shipped"]})");
  EXPECT_EQ(bad_type.status, 400);
  EXPECT_EQ(ErrField(bad_type), "event_types[1]");
  auto twice = a_.Patch(path, R"({"event_types":["clicked","clicked"]})");
  EXPECT_EQ(ErrField(twice), "event_types[1]");
  for (const char* url : {"ftp://example.com/x", "https://user:pw@example.com/", "not a url",
                          "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/"}) {
    auto r = a_.Post(a_.Ws() + "/webhooks", json::serialize(json::object{{"url", url}}));
    EXPECT_EQ(r.status, 400) << url << ": " << r.body;
    EXPECT_EQ(ErrField(r), "url") << url;
  }
  auto meta =
      a_.Post(a_.Ws() + "/webhooks", R"({"url":"http://169.254.169.254/latest/meta-data/"})");
  EXPECT_NE(meta.body.find("link-local"), std::string::npos) << meta.body;
  auto unknown = a_.Post(a_.Ws() + "/webhooks", R"({"url":"https://a.example/","secret":"x"})");
  EXPECT_EQ(ErrField(unknown), "secret");

  // PATCH keeps what it is not given.
  auto patched = a_.Patch(path, R"({"description":"billing","is_enabled":false})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Json(patched).at("description").as_string(), "billing");
  EXPECT_FALSE(Json(patched).at("is_enabled").as_bool());
  EXPECT_EQ(Json(patched).at("url").as_string(), receiver.Url());

  // Another workspace sees nothing and changes nothing.
  const std::string foreign = b_.Ws() + "/webhooks/" + std::to_string(id);
  EXPECT_EQ(b_.Get(foreign).status, 404);
  EXPECT_EQ(b_.Delete(foreign).status, 404);
  EXPECT_EQ(b_.Action(foreign + "/test").status, 404);
  EXPECT_EQ(b_.Get(foreign + "/deliveries").status, 404);
  EXPECT_EQ(b_.Get(a_.Ws() + "/webhooks").status, 404);

  EXPECT_EQ(a_.Delete(path).status, 204);
  EXPECT_EQ(a_.Get(path).status, 404);
  EXPECT_TRUE(receiver.hits().empty());
}

TEST_P(WebhooksApiTest, UnsubscribeReachesReceiverSignedWithGrowingRetries) {
  TestReceiver receiver({503, 500, 500});
  auto [hook, secret] = Subscribe(a_, receiver.Url("/hooks/kiln?src=test"), {"unsubscribed"});
  ASSERT_GT(hook, 0);
  Sent m = MakeSent(a_, "lead@customer.test");
  // A real one-click unsubscribe through the tracking endpoint.
  auto box = auth::SecretBox::LoadOrCreateKeyFile(data_dir_ + "/secret.key");
  ASSERT_TRUE(box.ok()) << box.status().ToString();
  SystemClock clock;
  auto key = api::LoadOrCreateTrackingKey(Db(), *box, clock);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto token = api::SignToken(*key, {api::TokenKind::kUnsubscribe, a_.ws, m.message, 0, ""});
  ASSERT_TRUE(token.ok());
  auto unsub = Raw("POST", "/u/" + *token, "List-Unsubscribe=One-Click",
                   {{"Content-Type", "application/x-www-form-urlencoded"}});
  ASSERT_EQ(unsub.status, 200) << unsub.body;

  ASSERT_TRUE(receiver.WaitFor(4, std::chrono::seconds(60))) << receiver.hits().size();
  auto hits = receiver.hits();
  ASSERT_EQ(hits.size(), 4u);
  std::string event_id = hits[0].event_id;
  EXPECT_EQ(event_id.rfind("evt_", 0), 0u) << event_id;
  const int64_t now_s = SystemClock().NowMillis() / 1000;
  for (size_t i = 0; i < hits.size(); ++i) {
    EXPECT_EQ(hits[i].target, "/hooks/kiln?src=test");
    EXPECT_EQ(hits[i].event_id, event_id) << i;
    EXPECT_EQ(hits[i].body, hits[0].body) << i;
    Status v = webhooks::VerifySignature(secret, hits[i].signature, hits[i].body, now_s);
    EXPECT_TRUE(v.ok()) << i << ": " << v.ToString();
    EXPECT_FALSE(
        webhooks::VerifySignature("whsec_wrong", hits[i].signature, hits[i].body, now_s).ok());
  }
  auto body = json::parse(hits[0].body).as_object();
  EXPECT_EQ(body.at("id").as_string(), event_id);
  EXPECT_EQ(body.at("type").as_string(), "unsubscribed");
  EXPECT_EQ(body.at("workspace_id").as_int64(), a_.ws);
  const auto& data = body.at("data").as_object();
  EXPECT_EQ(data.at("lead_email").as_string(), m.email);
  EXPECT_EQ(data.at("message_id").as_string(), m.header);
  EXPECT_EQ(data.at("campaign_id").as_int64(), m.campaign);
  EXPECT_EQ(data.at("lead_id").as_int64(), m.lead);

  // Retries never come before their scheduled delay, and each waits longer than the one before.
  std::vector<int64_t> gaps;
  for (size_t i = 1; i < hits.size(); ++i) {
    gaps.push_back(
        std::chrono::duration_cast<std::chrono::milliseconds>(hits[i].at - hits[i - 1].at).count());
    auto bounds = webhooks::RetryDelayBounds(static_cast<int64_t>(i), kBackoffPermille);
    ASSERT_TRUE(bounds);
    EXPECT_GE(gaps.back(), bounds->min_ms) << "retry " << i;
  }
  EXPECT_LT(gaps[0], gaps[1]);
  EXPECT_LT(gaps[1], gaps[2]);
  std::printf("retry gaps: %lld ms, %lld ms, %lld ms\n", static_cast<long long>(gaps[0]),
              static_cast<long long>(gaps[1]), static_cast<long long>(gaps[2]));

  // The delivery log tells the story.
  auto items = WaitForLog(a_, hook, [](const json::array& it) {
    return it.size() == 1 && it[0].at("status").as_string() == "delivered";
  });
  ASSERT_EQ(items.size(), 1u);
  const auto& d = items[0].as_object();
  EXPECT_EQ(d.at("event_type").as_string(), "unsubscribed");
  EXPECT_EQ(d.at("attempts").as_int64(), 4);
  EXPECT_EQ(d.at("last_status_code").as_int64(), 200);
  EXPECT_EQ(d.at("last_error").as_string(), "");
  EXPECT_TRUE(d.at("next_attempt_at").is_null());
  EXPECT_EQ("evt_" + std::to_string(d.at("event_id").as_int64()), event_id);
  auto failed = a_.Get(a_.Ws() + "/webhooks/" + std::to_string(hook) + "/deliveries?status=failed");
  EXPECT_EQ(Json(failed).at("items").as_array().size(), 0u);
  auto bad_status = a_.Get(a_.Ws() + "/webhooks/" + std::to_string(hook) + "/deliveries?status=x");
  EXPECT_EQ(ErrField(bad_status), "status");
  auto w = Json(a_.Get(a_.Ws() + "/webhooks/" + std::to_string(hook)));
  EXPECT_EQ(w.at("failure_count").as_int64(), 0);
  EXPECT_FALSE(w.at("last_success_at").is_null());
}

TEST_P(WebhooksApiTest, TestPingAndRetryByHand) {
  TestReceiver receiver({500});
  auto [hook, secret] = Subscribe(a_, receiver.Url());
  const std::string path = a_.Ws() + "/webhooks/" + std::to_string(hook);
  auto first = a_.Action(path + "/test");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_FALSE(Json(first).at("delivered").as_bool());
  EXPECT_EQ(Json(first).at("status_code").as_int64(), 500);
  EXPECT_NE(Json(first).at("error").as_string().find("HTTP 500"), std::string::npos);
  const int64_t failed_id = Json(first).at("delivery_id").as_int64();
  auto second = a_.Action(path + "/test");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_TRUE(Json(second).at("delivered").as_bool());
  EXPECT_EQ(Json(second).at("status_code").as_int64(), 200);
  ASSERT_EQ(receiver.hits().size(), 2u);
  auto ping = json::parse(receiver.hits()[1].body).as_object();
  EXPECT_EQ(ping.at("type").as_string(), "ping");
  EXPECT_EQ(receiver.hits()[1].event_id, ping.at("id").as_string());
  EXPECT_TRUE(webhooks::VerifySignature(secret, receiver.hits()[1].signature,
                                        receiver.hits()[1].body, SystemClock().NowMillis() / 1000)
                  .ok());

  // The failed ping, retried by hand, goes out again on the next tick.
  auto log = Json(a_.Get(path + "/deliveries?status=failed")).at("items").as_array();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].at("id").as_int64(), failed_id);
  EXPECT_EQ(log[0].at("last_status_code").as_int64(), 500);
  auto retry = a_.Action(path + "/deliveries/" + std::to_string(failed_id) + "/retry");
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(Json(retry).at("status").as_string(), "pending");
  auto items = WaitForLog(a_, hook, [&](const json::array& it) {
    for (const auto& d : it) {
      if (d.at("id").as_int64() == failed_id) return d.at("status").as_string() == "delivered";
    }
    return false;
  });
  EXPECT_EQ(receiver.hits().size(), 3u);
  auto again = a_.Action(path + "/deliveries/" + std::to_string(failed_id) + "/retry");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(a_.Action(path + "/deliveries/999999/retry").status, 404);
  // Paging: newest first, next_before.
  auto page = Json(a_.Get(path + "/deliveries?limit=1"));
  EXPECT_EQ(page.at("items").as_array().size(), 1u);
  EXPECT_FALSE(page.at("next_before").is_null());
}

std::string MailgunBody(const std::string& key, const std::string& event, const std::string& id,
                        const std::string& recipient, const std::string& message_id) {
  const std::string ts = std::to_string(SystemClock().NowMillis() / 1000);
  const std::string token = auth::RandomToken(25);
  json::object data{{"event", event},
                    {"id", id},
                    {"timestamp", static_cast<double>(SystemClock().NowMillis()) / 1000.0},
                    {"recipient", recipient},
                    {"message", {{"headers", {{"message-id", message_id}}}}}};
  return json::serialize(
      json::object{{"signature",
                    {{"timestamp", ts},
                     {"token", token},
                     {"signature", auth::HexEncode(auth::HmacSha256(key, ts + token))}}},
                   {"event-data", data}});
}

TEST_P(WebhooksApiTest, InboundProviderEventsGenericAndMailgun) {
  const std::string mg_key = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
  auto setup =
      a_.http->Send("PUT", a_.Ws() + "/provider-webhook",
                    json::serialize(json::object{{"mailgun_signing_key", mg_key}}), a_.H());
  ASSERT_TRUE(setup.ok());
  ASSERT_EQ(setup->status, 200) << setup->body;
  const std::string url = std::string(Json(*setup).at("path").as_string());
  EXPECT_EQ(url.rfind("/api/webhooks/provider/", 0), 0u);
  auto info = Json(a_.Get(a_.Ws() + "/provider-webhook"));
  EXPECT_TRUE(info.at("mailgun_signing_key_set").as_bool());
  EXPECT_FALSE(info.as_object().contains("token"));

  Sent hard = MakeSent(a_, "gone@customer.test");
  Sent angry = MakeSent(a_, "angry@customer.test");
  const int64_t events_before = Int("test.all_events", {});

  // Unknown token: 404, nothing recorded.
  EXPECT_EQ(PostJson("/api/webhooks/provider/not-a-token",
                     R"({"events":[{"type":"complaint","email":"angry@customer.test"}]})")
                .status,
            404);
  // All or nothing: one bad event refuses the batch, naming it.
  auto bad = PostJson(
      url,
      json::serialize(json::object{
          {"events", json::array{
                         {{"type", "bounce"}, {"message_id", hard.header}, {"bounce_type", "hard"}},
                         {{"type", "complaint"}, {"email", angry.email}},
                         {{"type", "exploded"}, {"email", angry.email}},
                     }}}));
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(ErrField(bad), "events[2].type");
  EXPECT_EQ(Int("test.all_events", {}), events_before);
  EXPECT_EQ(Int("test.ledger", {a_.ws}), 0);

  // A good batch: a hard bounce by Message-ID (without brackets) and a soft one by address.
  const std::string batch = json::serialize(json::object{
      {"events",
       json::array{
           {{"type", "bounce"},
            {"id", "evt-100"},
            {"message_id", hard.header.substr(1, hard.header.size() - 2)},
            {"bounce_type", "hard"},
            {"reason", "550 5.1.1 no such user"},
            {"timestamp", 1763791200}},
           {{"type", "delivered"}, {"id", "evt-101"}, {"email", angry.email}},
           {{"type", "bounce"}, {"email", "nobody-we-know@else.test"}, {"bounce_type", "soft"}}}}});
  auto ok = PostJson(url, batch);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Json(ok).at("received").as_int64(), 3);
  EXPECT_EQ(Json(ok).at("recorded").as_int64(), 2);
  EXPECT_EQ(Json(ok).at("unmatched").as_int64(), 1);
  EXPECT_EQ(Int("test.events", {a_.ws, "bounced"}), 1);
  EXPECT_EQ(Int("test.suppression", {a_.ws, hard.email, "bounced"}), 1);
  EXPECT_EQ(Text("test.contact_status", {hard.lead}, "status"), "bounced");
  EXPECT_EQ(Text("test.message_status", {hard.message}, "status"), "bounced");
  // Replayed: recorded once.
  auto replay = PostJson(url, batch);
  ASSERT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(Json(replay).at("duplicates").as_int64(), 3);
  EXPECT_EQ(Json(replay).at("recorded").as_int64(), 0);
  EXPECT_EQ(Int("test.events", {a_.ws, "bounced"}), 1);

  // Mailgun: a forged signature is 401 and records nothing.
  const std::string forged =
      MailgunBody("key-not-the-right-one", "complained", "mg-evt-1", angry.email,
                  angry.header.substr(1, angry.header.size() - 2));
  auto refused = PostJson(url, forged);
  EXPECT_EQ(refused.status, 401) << refused.body;
  EXPECT_EQ(Int("test.events", {a_.ws, "complained"}), 0);
  EXPECT_EQ(Int("test.suppression", {a_.ws, angry.email, "complained"}), 0);
  // Signed with the workspace's key: the complaint is recorded, suppresses and stops the lead.
  const std::string signed_body = MailgunBody(mg_key, "complained", "mg-evt-1", angry.email,
                                              angry.header.substr(1, angry.header.size() - 2));
  auto accepted = PostJson(url, signed_body);
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(Json(accepted).at("recorded").as_int64(), 1);
  EXPECT_EQ(Int("test.events", {a_.ws, "complained"}), 1);
  EXPECT_EQ(Int("test.suppression", {a_.ws, angry.email, "complained"}), 1);
  EXPECT_EQ(Text("test.contact_status", {angry.lead}, "status"), "unsubscribed");
  // The same Mailgun event delivered again (Mailgun retries): recorded once.
  auto again = PostJson(url, signed_body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Json(again).at("duplicates").as_int64(), 1);
  EXPECT_EQ(Int("test.events", {a_.ws, "complained"}), 1);
  // Malformed Mailgun data names the field.
  auto no_sev = PostJson(url, MailgunBody(mg_key, "failed", "mg-evt-2", angry.email, "x@y"));
  EXPECT_EQ(no_sev.status, 400) << no_sev.body;
  EXPECT_EQ(ErrField(no_sev), "event-data.severity");

  // Rotating the URL retires the old one; the other workspace's URL cannot reach this one's leads.
  auto rotated = a_.http->Send("PUT", a_.Ws() + "/provider-webhook", "{}", a_.H());
  ASSERT_TRUE(rotated.ok());
  ASSERT_EQ(rotated->status, 200);
  EXPECT_EQ(PostJson(url, batch).status, 404);
  auto b_setup = b_.http->Send("PUT", b_.Ws() + "/provider-webhook", "{}", b_.H());
  ASSERT_TRUE(b_setup.ok());
  const std::string b_url = std::string(Json(*b_setup).at("path").as_string());
  auto cross = PostJson(b_url, R"({"events":[{"type":"unsubscribe","message_id":")" +
                                   angry.header.substr(1, angry.header.size() - 2) + R"("}]})");
  ASSERT_EQ(cross.status, 200) << cross.body;
  EXPECT_EQ(Json(cross).at("unmatched").as_int64(), 1);
  EXPECT_EQ(Int("test.events", {a_.ws, "unsubscribed"}), 0);
}

INSTANTIATE_TEST_SUITE_P(Db, WebhooksApiTest, ::testing::ValuesIn(DbBackends()), DbBackendName());

}  // namespace
}  // namespace kiln::testing
