// Read views over HTTP, on SQLite and PostgreSQL: a lead's activity timeline
// (GET .../contacts/{id}/events), the webhook event types (GET .../webhooks/event-types) and every
// custom tracking domain of a workspace in one answer (GET .../tracking-domains).
//
// The timeline's history is written straight into kiln's database, as the engine, the tracking
// endpoints and the inbox watcher would: lead L got three messages from two campaigns,
//   m1 Spring step 1 variant A: sent, opened by a machine, clicked (URL, user agent, IP);
//   m2 Autumn step 1 (variant deleted since): deferred, sent, bounced (soft, reason);
//   m3 Spring step 2 variant B: sent, replied, unsubscribed;
// and lead O got one message (sent, replied) in between, which L's timeline never shows.
#include <algorithm>
#include <optional>

#include "api_test_util.h"
#include "kiln/base/time_format.h"
#include "kiln/store/db.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;

constexpr int64_t kT0 = 1'773'100'800'000;  // 2026-03-10T00:00:00Z
constexpr int64_t kMinute = 60'000;

constexpr char kTestQueries[] = R"(-- Test-only statements.
-- name: test.message
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, variant_id, sender_id,
                      status, scheduled_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'sent', 0, 0, 0) RETURNING id;
-- name: test.event
INSERT INTO events (workspace_id, message_id, campaign_id, type, detail, is_machine, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id;
)";

struct Campaign {
  int64_t id = 0;
  std::vector<int64_t> steps;
  std::vector<std::vector<int64_t>> variants;  // per step
};

class ActivityApiTest : public KilnApiFixture {
 protected:
  void SetUp() override {
    KilnApiFixture::SetUp();
    if (HasFatalFailure()) return;
    // Webhook URLs on 127.0.0.1 only (nothing is sent: no event happens after they are saved).
    StartKiln({"--rate-limit-per-minute", "1000000", "--webhook-allow-private-targets", "true"});
    if (HasFatalFailure()) return;
    a_ = NewOwner("owner@kiln-a.test");
    b_ = NewOwner("owner@kiln-b.test");
  }

  store::Database& Db() { return KilnApiFixture::Db(kTestQueries); }

  // A campaign of `labels.size()` steps, step i with one variant per label in labels[i].
  Campaign MakeCampaign(Session& s, const std::string& name, int64_t sender,
                        const std::vector<std::vector<std::string>>& labels) {
    json::array steps;
    for (size_t i = 0; i < labels.size(); ++i) {
      json::array variants;
      for (const auto& l : labels[i]) {
        variants.push_back(
            json::object{{"label", l}, {"subject", "Hello " + l}, {"body_text", "Hi"}});
      }
      steps.push_back(json::object{{"delay_minutes", i == 0 ? 0 : 1440}, {"variants", variants}});
    }
    Campaign c;
    c.id = CreateId(s, "/campaigns",
                    {{"name", name}, {"sender_ids", json::array{sender}}, {"steps", steps}});
    auto got = s.Get(s.Ws() + "/campaigns/" + std::to_string(c.id));
    EXPECT_EQ(got.status, 200) << got.body;
    json::value v = Json(got);
    if (!v.is_object()) return c;
    for (const auto& st : v.at("steps").as_array()) {
      c.steps.push_back(st.at("id").as_int64());
      c.variants.emplace_back();
      for (const auto& var : st.at("variants").as_array())
        c.variants.back().push_back(var.at("id").as_int64());
    }
    return c;
  }

  // A viewer of a_'s workspace.
  Session Viewer() {
    auto added =
        a_.Post(a_.Ws() + "/members",
                json::serialize(json::object{{"email", "viewer@kiln-a.test"}, {"role", "viewer"}}));
    EXPECT_EQ(added.status, 201) << added.body;
    Session v =
        Login("viewer@kiln-a.test", std::string(Json(added).at("initial_password").as_string()));
    v.ws = a_.ws;
    return v;
  }

  Session a_, b_;
};

// Every page of `target` (which ends in "?limit=N"), following next_before until it is null.
json::array AllPages(Session& s, const std::string& target, int* pages) {
  json::array all;
  std::string next = target;
  *pages = 0;
  for (int guard = 0; guard < 100; ++guard) {
    auto r = s.Get(next);
    EXPECT_EQ(r.status, 200) << next << " -> " << r.body;
    json::value v = Json(r);
    if (!v.is_object()) break;
    ++*pages;
    for (const auto& item : v.at("items").as_array()) all.push_back(item);
    if (v.at("next_before").is_null()) break;
    next = target + "&before=" + std::to_string(v.at("next_before").as_int64());
  }
  return all;
}

TEST_P(ActivityApiTest, LeadEventsSpanCampaignsNewestFirstInKeysetPages) {
  const int64_t sender =
      CreateId(a_, "/senders", json::parse(SenderBody("s1@kiln-a.test")).as_object());
  Campaign spring = MakeCampaign(a_, "Spring outreach", sender, {{"A"}, {"A", "B"}});
  Campaign autumn = MakeCampaign(a_, "Autumn follow-up", sender, {{"X"}});
  ASSERT_EQ(spring.steps.size(), 2u);
  ASSERT_EQ(autumn.steps.size(), 1u);
  const int64_t lead = CreateId(a_, "/contacts", {{"email", "lea@lead.test"}});
  const int64_t other = CreateId(a_, "/contacts", {{"email", "otto@lead.test"}});
  const int64_t quiet = CreateId(a_, "/contacts", {{"email", "quiet@lead.test"}});

  struct Expected {
    int64_t id;
    std::string type;
    int64_t at;
    int64_t campaign_id;
    std::string campaign_name;
    int64_t step;
    std::optional<std::string> variant;
    int64_t message_id;
    bool is_machine;
    json::object detail;  // as answered
  };
  std::vector<Expected> expected;  // in insertion order
  const int64_t ws = a_.ws;
  Status st = Db().Write([&](store::Tx& tx) -> Status {
    expected.clear();
    auto message = [&](int64_t campaign, int64_t contact, int64_t step,
                       std::optional<int64_t> variant) -> Result<int64_t> {
      KILN_ASSIGN_OR_RETURN(
          auto m,
          tx.QueryRow("test.message",
                      {ws, campaign, contact, step,
                       variant ? store::Value(*variant) : store::Value(std::nullopt), sender}));
      return m.Int("id");
    };
    auto event = [&](int64_t m, int64_t campaign, const std::string& type, int64_t at, bool machine,
                     const std::string& detail) -> Result<int64_t> {
      KILN_ASSIGN_OR_RETURN(
          auto e, tx.QueryRow("test.event", {ws, m, campaign, type, detail, machine, at}));
      return e.Int("id");
    };
    KILN_ASSIGN_OR_RETURN(int64_t m1,
                          message(spring.id, lead, spring.steps[0], spring.variants[0][0]));
    KILN_ASSIGN_OR_RETURN(int64_t mo,
                          message(spring.id, other, spring.steps[0], spring.variants[0][0]));
    KILN_ASSIGN_OR_RETURN(int64_t m2, message(autumn.id, lead, autumn.steps[0], std::nullopt));
    KILN_ASSIGN_OR_RETURN(int64_t m3,
                          message(spring.id, lead, spring.steps[1], spring.variants[1][1]));
    struct Row {
      int64_t m, campaign;
      std::string type;
      int64_t at;
      bool machine;
      std::string detail;
      bool mine;
    };
    const std::string click =
        R"({"user_agent":"Mozilla/5.0","ip":"203.0.113.9","url":"https://example.com/pricing","link_index":0})";
    for (const Row& r : std::vector<Row>{
             {m1, spring.id, "sent", kT0, false, "{}", true},
             {mo, spring.id, "sent", kT0 + kMinute, false, "{}", false},
             {m1, spring.id, "opened", kT0 + 2 * kMinute, true,
              R"({"user_agent":"GoogleImageProxy","ip":"66.249.0.1"})", true},
             {m1, spring.id, "clicked", kT0 + 3 * kMinute, false, click, true},
             {m2, autumn.id, "deferred", kT0 + 4 * kMinute, false,
              R"({"smtp_code":451,"reason":"try later"})", true},
             {mo, spring.id, "replied", kT0 + 5 * kMinute, false, "{}", false},
             {m2, autumn.id, "sent", kT0 + 6 * kMinute, false, "{}", true},
             {m2, autumn.id, "bounced", kT0 + 7 * kMinute, false,
              R"({"kind":"soft","reason":"mailbox full"})", true},
             {m3, spring.id, "sent", kT0 + 8 * kMinute, false, "{}", true},
             {m3, spring.id, "replied", kT0 + 9 * kMinute, false, "{}", true},
             {m3, spring.id, "unsubscribed", kT0 + 10 * kMinute, false, "{}", true},
         }) {
      KILN_ASSIGN_OR_RETURN(int64_t id, event(r.m, r.campaign, r.type, r.at, r.machine, r.detail));
      if (!r.mine) continue;
      json::object detail = json::parse(r.detail).as_object();
      detail.erase("ip");
      const bool is_autumn = r.campaign == autumn.id;
      expected.push_back(
          {id, r.type, r.at, r.campaign, is_autumn ? "Autumn follow-up" : "Spring outreach",
           r.m == m3 ? 2 : 1,
           is_autumn ? std::nullopt : std::optional<std::string>(r.m == m3 ? "B" : "A"), r.m,
           r.machine, detail});
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(expected.size(), 9u);
  std::reverse(expected.begin(), expected.end());  // newest first

  const std::string events = a_.Ws() + "/contacts/" + std::to_string(lead) + "/events";
  // One page holding everything, then pages of 4 (4 + 4 + 1) and of 9 (exactly one page).
  auto whole = a_.Get(events);
  ASSERT_EQ(whole.status, 200) << whole.body;
  json::value whole_json = Json(whole);
  EXPECT_TRUE(whole_json.at("next_before").is_null());
  const json::array& items = whole_json.at("items").as_array();
  ASSERT_EQ(items.size(), expected.size()) << whole.body;
  for (size_t i = 0; i < items.size(); ++i) {
    const Expected& e = expected[i];
    const json::object& got = items[i].as_object();
    SCOPED_TRACE("item " + std::to_string(i) + ": " + json::serialize(got));
    EXPECT_EQ(got.size(), 10u);
    EXPECT_EQ(got.at("id").as_int64(), e.id);
    EXPECT_EQ(got.at("type").as_string(), e.type);
    EXPECT_EQ(got.at("at").as_string(), FormatIso8601(e.at));
    EXPECT_EQ(got.at("campaign_id").as_int64(), e.campaign_id);
    EXPECT_EQ(got.at("campaign_name").as_string(), e.campaign_name);
    EXPECT_EQ(got.at("step").as_int64(), e.step);
    if (e.variant) {
      EXPECT_EQ(got.at("variant").as_string(), *e.variant);
    } else {
      EXPECT_TRUE(got.at("variant").is_null());
    }
    EXPECT_EQ(got.at("message_id").as_int64(), e.message_id);
    EXPECT_EQ(got.at("is_machine").as_bool(), e.is_machine);
    EXPECT_EQ(got.at("detail").as_object(), e.detail);
  }
  // The click's URL is there; the lead's IP address never is.
  const json::object& click = items[6].as_object();
  EXPECT_EQ(click.at("type").as_string(), "clicked");
  EXPECT_EQ(click.at("detail").at("url").as_string(), "https://example.com/pricing");
  EXPECT_FALSE(click.at("detail").as_object().contains("ip"));

  for (int limit : {1, 4, 8, 9}) {
    int pages = 0;
    json::array all = AllPages(a_, events + "?limit=" + std::to_string(limit), &pages);
    EXPECT_EQ(all, items) << "limit " << limit;
    EXPECT_EQ(pages, (9 + limit - 1) / limit) << "limit " << limit;
  }
  auto second = a_.Get(events + "?limit=2&before=" + std::to_string(expected[1].id));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(Json(second).at("items").as_array()[0].at("id").as_int64(), expected[2].id);

  // A lead without events; a viewer reads; nobody else does.
  auto none = a_.Get(a_.Ws() + "/contacts/" + std::to_string(quiet) + "/events");
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_TRUE(Json(none).at("items").as_array().empty());
  EXPECT_TRUE(Json(none).at("next_before").is_null());
  Session viewer = Viewer();
  auto seen = viewer.Get(events);
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(Json(seen).at("items").as_array(), items);

  const std::string b_view = b_.Ws() + "/contacts/" + std::to_string(lead) + "/events";
  auto foreign = b_.Get(b_view);
  EXPECT_EQ(foreign.status, 404) << foreign.body;
  EXPECT_EQ(ErrCode(foreign), "not_found");
  EXPECT_EQ(b_.Get(events).status, 404);  // a_'s workspace: not a member
  EXPECT_EQ(a_.Get(a_.Ws() + "/contacts/999999/events").status, 404);
  EXPECT_EQ(a_.Get(a_.Ws() + "/contacts/abc/events").status, 404);
  // Deleting the lead takes its messages and events with it.
  EXPECT_EQ(a_.Delete(a_.Ws() + "/contacts/" + std::to_string(lead)).status, 204);
  EXPECT_EQ(a_.Get(events).status, 404);

  for (const std::string& bad :
       {std::string("?limit=0"), std::string("?limit=201"), std::string("?limit=x"),
        std::string("?before=0"), std::string("?before=x")}) {
    auto r = a_.Get(a_.Ws() + "/contacts/" + std::to_string(other) + "/events" + bad);
    EXPECT_EQ(r.status, 400) << bad << " -> " << r.body;
    EXPECT_EQ(ErrField(r), bad.substr(1, bad.find('=') - 1)) << bad;
  }
}

TEST_P(ActivityApiTest, WebhookEventTypesAreListedWithDescriptions) {
  Session viewer = Viewer();
  auto r = viewer.Get(viewer.Ws() + "/webhooks/event-types");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::value body = Json(r);
  const json::array& items = body.at("items").as_array();
  std::vector<std::string> types;
  for (const auto& item : items) {
    types.emplace_back(item.at("type").as_string());
    EXPECT_GE(item.at("description").as_string().size(), 10u) << json::serialize(item);
  }
  EXPECT_EQ(types, (std::vector<std::string>{"sent", "failed", "bounced", "opened", "clicked",
                                             "replied", "auto_replied", "unsubscribed",
                                             "complained", "deferred", "unknown"}));
  // Each listed type is one a subscription can name: an unknown one is refused naming it.
  json::array all_types;
  for (const auto& t : types) all_types.emplace_back(t);
  auto refused =
      a_.Post(a_.Ws() + "/webhooks",
              json::serialize(json::object{{"url", "http://127.0.0.1:9/hook"},
                                           {"event_types", json::array{"sent", "ping"}}}));
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(ErrField(refused), "event_types[1]");
  auto accepted = a_.Post(a_.Ws() + "/webhooks",
                          json::serialize(json::object{{"url", "http://127.0.0.1:9/hook"},
                                                       {"event_types", all_types}}));
  EXPECT_EQ(accepted.status, 201) << accepted.body;

  EXPECT_EQ(b_.Get(a_.Ws() + "/webhooks/event-types").status, 404);
  // The literal segment is not taken for a webhook id.
  EXPECT_EQ(a_.Get(a_.Ws() + "/webhooks/event-types").status, 200);
}

TEST_P(ActivityApiTest, TrackingDomainsOfEverySenderAndCampaignInOneAnswer) {
  const std::string overview = a_.Ws() + "/tracking-domains";
  auto empty = a_.Get(overview);
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(Json(empty), json::parse(R"({"senders":[],"campaigns":[]})"));

  const int64_t s1 =
      CreateId(a_, "/senders", json::parse(SenderBody("s1@kiln-a.test")).as_object());
  const int64_t s2 =
      CreateId(a_, "/senders", json::parse(SenderBody("s2@kiln-a.test")).as_object());
  const int64_t c1 = MakeCampaign(a_, "Spring outreach", s1, {{"A"}}).id;
  const int64_t c2 = MakeCampaign(a_, "Autumn follow-up", s2, {{"A"}}).id;
  CreateId(b_, "/senders", json::parse(SenderBody("s9@kiln-b.test")).as_object());

  auto put = [&](const std::string& owner, int64_t id, json::value domain) {
    auto r =
        a_.http
            ->Send("PUT", a_.Ws() + "/" + owner + "/" + std::to_string(id) + "/tracking-domain",
                   json::serialize(json::object{{"tracking_domain", domain}}), a_.H())
            .value();
    EXPECT_EQ(r.status, 200) << r.body;
  };
  put("senders", s2, "Track.Example.com");
  put("campaigns", c1, "links.example.org");

  auto got = a_.Get(overview);
  ASSERT_EQ(got.status, 200) << got.body;
  json::object expected{
      {"senders",
       json::array{
           json::object{{"id", s1}, {"email", "s1@kiln-a.test"}, {"tracking_domain", ""}},
           json::object{
               {"id", s2}, {"email", "s2@kiln-a.test"}, {"tracking_domain", "track.example.com"}}}},
      {"campaigns", json::array{json::object{{"id", c2},
                                             {"name", "Autumn follow-up"},
                                             {"status", "draft"},
                                             {"tracking_domain", ""}},
                                json::object{{"id", c1},
                                             {"name", "Spring outreach"},
                                             {"status", "draft"},
                                             {"tracking_domain", "links.example.org"}}}}};
  EXPECT_EQ(Json(got), json::value(expected));

  // Clearing shows at once; a viewer reads the same; another workspace sees only its own.
  put("campaigns", c1, nullptr);
  expected["campaigns"].as_array()[1].as_object()["tracking_domain"] = "";
  EXPECT_EQ(Json(a_.Get(overview)), json::value(expected));
  Session viewer = Viewer();
  EXPECT_EQ(Json(viewer.Get(overview)), json::value(expected));
  auto theirs = b_.Get(b_.Ws() + "/tracking-domains");
  ASSERT_EQ(theirs.status, 200) << theirs.body;
  EXPECT_EQ(Json(theirs).at("senders").as_array().size(), 1u);
  EXPECT_TRUE(Json(theirs).at("campaigns").as_array().empty());
  EXPECT_EQ(b_.Get(overview).status, 404);
}

INSTANTIATE_TEST_SUITE_P(Db, ActivityApiTest, ::testing::ValuesIn(DbBackends()), DbBackendName());

}  // namespace
}  // namespace kiln::testing
