// Leads, lists and campaigns over the API: the real `kiln` binary over HTTP on SQLite and
// PostgreSQL. Covers every route's happy path, strict input (unknown fields, wrong types, ranges,
// schedules, time zones, ids of another workspace named by index), bulk per-row results, keyset
// pagination over 1,200 leads, search and filters, the launch check listing every problem at once,
// the campaign state machine with enrolment, and isolation between workspaces.
//
// Sender activation and suppression entries have no API yet (the engine and the suppression
// routes set them); the tests write them straight into kiln's database with test-only queries.
#include <algorithm>
#include <set>

#include "api_test_util.h"
#include "kiln/store/db.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;

constexpr char kTestQueries[] = R"(-- Test-only statements.
-- name: test.activate_sender
UPDATE senders SET status = 'active' WHERE workspace_id = $1 AND id = $2;
-- name: test.suppress_email
INSERT INTO suppression_list (workspace_id, email, reason, created_at) VALUES ($1, $2, 'manual', 0);
-- name: test.suppress_domain
INSERT INTO suppression_list (workspace_id, domain, reason, created_at) VALUES ($1, $2, 'manual', 0);
-- name: test.enrolled
SELECT COUNT(*) AS n FROM campaign_contacts WHERE workspace_id = $1 AND campaign_id = $2;
-- name: test.sent_message
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, status, scheduled_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, 'sent', 0, 0, 0);
-- name: test.unknown_message
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, status, scheduled_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, 'unknown', 0, 0, 0);
-- name: test.paused_lead
INSERT INTO campaign_contacts (workspace_id, campaign_id, contact_id, status, stop_reason,
                               created_at, updated_at)
VALUES ($1, $2, $3, 'paused', 'caught mid-send', 0, 0);
-- name: test.message_state
SELECT m.id, m.status, cc.status AS lead_status FROM messages m
JOIN campaign_contacts cc ON cc.campaign_id = m.campaign_id AND cc.contact_id = m.contact_id
WHERE m.campaign_id = $1 AND m.contact_id = $2;
)";

class CampaignsApiTest : public KilnApiFixture {
 protected:
  void SetUp() override {
    KilnApiFixture::SetUp();
    if (HasFatalFailure()) return;
    StartKiln({"--rate-limit-per-minute", "1000000"});
    if (HasFatalFailure()) return;
    a_ = NewOwner("owner@kiln-a.test");
  }

  // kiln's own database, for the test-only statements.
  store::Database& Db() { return KilnApiFixture::Db(kTestQueries); }
  void Exec(std::string_view query, store::Params params) {
    Status st = Db().Write([&](store::Tx& tx) { return tx.Exec(query, params).status(); });
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  int64_t Enrolled(int64_t ws, int64_t campaign) {
    int64_t n = -1;
    Status st = Db().Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("test.enrolled", {ws, campaign}));
      n = row.Int("n");
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return n;
  }

  int64_t Sender(Session& s, const std::string& email, bool active) {
    auto r = s.Post(s.Ws() + "/senders", SenderBody(email));
    EXPECT_EQ(r.status, 201) << r.body;
    int64_t id = Json(r).at("id").as_int64();
    if (active) Exec("test.activate_sender", {s.ws, id});
    return id;
  }
  int64_t List(Session& s, const std::string& name) {
    return CreateId(s, "/lists", {{"name", name}});
  }
  int64_t Lead(Session& s, const std::string& email, json::object extra = {}) {
    extra["email"] = email;
    return CreateId(s, "/contacts", extra);
  }

  static json::array OneStep(
      const std::string& subject = "Hello {{ first_name | default: 'there' }}") {
    return json::array{json::object{
        {"delay_minutes", 0},
        {"variants", json::array{json::object{{"subject", subject}, {"body_text", "Hi there"}}}}}};
  }

  // A campaign ready to launch: an active sender, a list with `leads` leads, one step.
  struct Ready {
    int64_t campaign, list, sender;
    std::vector<int64_t> leads;
  };
  Ready MakeReady(Session& s, int leads) {
    Ready r;
    r.sender = Sender(s, "ready-sender@kiln-a.test", true);
    r.list = List(s, "Ready list");
    for (int i = 0; i < leads; ++i) {
      r.leads.push_back(
          Lead(s, "lead" + std::to_string(i) + "@ready.test", {{"list_ids", json::array{r.list}}}));
    }
    r.campaign = CreateId(s, "/campaigns",
                          {{"name", "Q3 outreach"},
                           {"sender_ids", json::array{r.sender}},
                           {"list_ids", json::array{r.list}},
                           {"steps", OneStep()}});
    return r;
  }

  std::string C(Session& s, int64_t id, const std::string& tail = "") {
    return s.Ws() + "/campaigns/" + std::to_string(id) + tail;
  }

  Session a_;
};

// Leads ------------------------------------------------------------------------------------------

TEST_P(CampaignsApiTest, LeadLifecycle) {
  int64_t list = List(a_, "Founders");
  auto created = a_.Post(
      a_.Ws() + "/contacts",
      json::serialize(json::object{{"email", "  Ada.Lovelace@Analytical.TEST "},
                                   {"first_name", "Ada"},
                                   {"last_name", "Lovelace"},
                                   {"company", "Analytical Engines"},
                                   {"title", "CTO"},
                                   {"timezone", "Europe/London"},
                                   {"phone", "+44 20 7946 0000"},
                                   {"website", "https://analytical.test"},
                                   {"custom_fields",
                                    {{"Industry Name", "computing"},
                                     {"ice_breaker", "Loved your notes on Bernoulli numbers"}}},
                                   {"status", "interested"},
                                   {"list_ids", json::array{list}}}));
  ASSERT_EQ(created.status, 201) << created.body;
  auto lead = Json(created);
  int64_t id = lead.at("id").as_int64();
  EXPECT_EQ(lead.at("email"), "Ada.Lovelace@analytical.test");  // trimmed, domain lowercased
  EXPECT_EQ(lead.at("status"), "interested");
  EXPECT_EQ(lead.at("custom_fields").at("Industry Name"), "computing");
  EXPECT_EQ(lead.at("list_ids"), (json::array{list}));
  EXPECT_EQ(lead.at("suppressed"), false);

  auto got = a_.Get(a_.Ws() + "/contacts/" + std::to_string(id));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Json(got).at("timezone"), "Europe/London");

  // Same address in another case: 409 naming email.
  auto dup = a_.Post(a_.Ws() + "/contacts", R"({"email":"ada.lovelace@ANALYTICAL.test"})");
  EXPECT_EQ(dup.status, 409) << dup.body;
  EXPECT_EQ(ErrField(dup), "email");

  // Partial update keeps the rest; custom_fields is replaced whole.
  auto patched = a_.Patch(a_.Ws() + "/contacts/" + std::to_string(id),
                          R"({"status":"meeting_booked","custom_fields":{"note":"Tuesday"}})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Json(patched).at("status"), "meeting_booked");
  EXPECT_EQ(Json(patched).at("first_name"), "Ada");
  EXPECT_EQ(Json(patched).at("custom_fields"), (json::object{{"note", "Tuesday"}}));
  // Changing the address to another lead's is a conflict too.
  Lead(a_, "grace@hopper.test");
  auto clash =
      a_.Patch(a_.Ws() + "/contacts/" + std::to_string(id), R"({"email":"GRACE@hopper.test"})");
  EXPECT_EQ(clash.status, 409);
  EXPECT_EQ(ErrField(clash), "email");

  // A suppressed address is stored but flagged.
  Exec("test.suppress_domain", {a_.ws, "blocked.test"});
  Exec("test.suppress_email", {a_.ws, "optout@fine.test"});
  auto s1 = a_.Post(a_.Ws() + "/contacts", R"({"email":"anyone@Blocked.test"})");
  ASSERT_EQ(s1.status, 201) << s1.body;
  EXPECT_EQ(Json(s1).at("suppressed"), true);
  auto s2 = a_.Post(a_.Ws() + "/contacts", R"({"email":"OptOut@fine.test"})");
  EXPECT_EQ(Json(s2).at("suppressed"), true);
  auto s3 = a_.Post(a_.Ws() + "/contacts", R"({"email":"someone@notblocked.test"})");
  EXPECT_EQ(Json(s3).at("suppressed"), false);

  EXPECT_EQ(a_.Delete(a_.Ws() + "/contacts/" + std::to_string(id)).status, 204);
  EXPECT_EQ(a_.Get(a_.Ws() + "/contacts/" + std::to_string(id)).status, 404);
  EXPECT_EQ(a_.Delete(a_.Ws() + "/contacts/" + std::to_string(id)).status, 404);
  auto audit = a_.Get(a_.Ws() + "/audit-log?limit=500").body;
  for (const char* action :
       {"contact.created", "contact.updated", "contact.deleted", "list.created"}) {
    EXPECT_NE(audit.find(std::string("\"") + action + "\""), std::string::npos) << action;
  }
}

TEST_P(CampaignsApiTest, LeadInputIsStrict) {
  Session b = NewOwner("owner@kiln-b.test");
  int64_t own_list = List(a_, "mine");
  int64_t b_list = List(b, "theirs");
  std::string many_fields = "{";
  for (int i = 0; i < 101; ++i)
    many_fields += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":\"v\"";
  many_fields += "}";
  struct Case {
    std::string body;
    std::string field;
  } cases[] = {
      {R"({"email":"x@kiln.test","bogus":1})", "bogus"},
      {R"({"first_name":"x"})", "email"},
      {R"({"email":"not an address"})", "email"},
      {R"({"email":42})", "email"},
      {R"({"email":"x@kiln.test","first_name":["x"]})", "first_name"},
      {R"({"email":"x@kiln.test","timezone":"../../etc/passwd"})", "timezone"},
      {R"({"email":"x@kiln.test","timezone":"Europe/Paris; DROP"})", "timezone"},
      {R"({"email":"x@kiln.test","status":"hot"})", "status"},
      {R"({"email":"x@kiln.test","custom_fields":{"ok":1}})", "custom_fields.ok"},
      {R"({"email":"x@kiln.test","custom_fields":{"bad.key":"v"}})", "custom_fields.bad.key"},
      {R"({"email":"x@kiln.test","custom_fields":{"k":")" + std::string(2001, 'v') + "\"}}",
       "custom_fields.k"},
      {R"({"email":"x@kiln.test","custom_fields":)" + many_fields + "}", "custom_fields"},
      {R"({"email":"x@kiln.test","custom_fields":"text"})", "custom_fields"},
      {R"({"email":"x@kiln.test","list_ids":[)" + std::to_string(own_list) + "," +
           std::to_string(b_list) + "]}",
       "list_ids[1]"},
      {R"({"email":"x@kiln.test","list_ids":[)" + std::to_string(own_list) + "," +
           std::to_string(own_list) + "]}",
       "list_ids[1]"},
      {R"({"email":"x@kiln.test","list_ids":["1"]})", "list_ids[0]"},
      {R"({"email":"x@kiln.test","first_name":"a\nb"})", "first_name"},
  };
  for (const auto& c : cases) {
    auto r = a_.Post(a_.Ws() + "/contacts", c.body);
    EXPECT_EQ(r.status, 400) << c.body.substr(0, 200) << " -> " << r.body;
    EXPECT_EQ(ErrField(r), c.field) << c.body.substr(0, 200);
  }
  auto list = a_.Get(a_.Ws() + "/contacts");
  EXPECT_EQ(Json(list).at("items").as_array().size(), 0u) << "a refused lead was written";
  // Query parameters are checked too.
  for (const char* q :
       {"?limit=0", "?limit=501", "?limit=x", "?before=-1", "?status=hot", "?list_id=abc"}) {
    auto r = a_.Get(a_.Ws() + "/contacts" + q);
    EXPECT_EQ(r.status, 400) << q << " -> " << r.body;
  }
  EXPECT_EQ(a_.Get(a_.Ws() + "/contacts?list_id=" + std::to_string(b_list)).status, 404);
}

TEST_P(CampaignsApiTest, BulkInsertAnswersPerRow) {
  int64_t list = List(a_, "Imported");
  Lead(a_, "existing@kiln.test");
  json::array rows{
      json::object{{"email", "one@kiln.test"}, {"first_name", "One"}},
      json::object{{"email", "not-an-address"}},
      json::object{{"email", "EXISTING@kiln.test"}},
      json::object{{"email", "two@kiln.test"}, {"status", "bogus"}},
      json::object{{"email", "One@KILN.test"}},  // same as row 0
      json::string("just a string"),
      json::object{{"email", "three@kiln.test"}, {"list_ids", json::array{999999}}},
      json::object{{"email", "four@kiln.test"}, {"custom_fields", {{"plan", "pro"}}}},
  };
  auto r =
      a_.Post(a_.Ws() + "/contacts/bulk",
              json::serialize(json::object{{"contacts", rows}, {"list_ids", json::array{list}}}));
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r);
  EXPECT_EQ(v.at("created"), 2);
  EXPECT_EQ(v.at("duplicates"), 2);
  EXPECT_EQ(v.at("invalid"), 4);
  auto& res = v.at("results").as_array();
  ASSERT_EQ(res.size(), rows.size());
  const char* expect[] = {"created",   "invalid", "duplicate", "invalid",
                          "duplicate", "invalid", "invalid",   "created"};
  for (size_t i = 0; i < res.size(); ++i) {
    EXPECT_EQ(res[i].at("index"), static_cast<int64_t>(i));
    EXPECT_EQ(res[i].at("result"), expect[i]) << i << ": " << json::serialize(res[i]);
  }
  EXPECT_EQ(res[1].at("field"), "email");
  EXPECT_EQ(res[2].at("field"), "email");
  EXPECT_EQ(res[3].at("field"), "status");
  EXPECT_EQ(res[4].at("id"), res[0].at("id"));  // the duplicate names the lead it duplicates
  EXPECT_EQ(res[6].at("field"), "list_ids[0]");
  // Created rows are whole (in the list); refused rows left nothing.
  auto members = Json(a_.Get(a_.Ws() + "/contacts?list_id=" + std::to_string(list)));
  std::set<std::string> emails;
  for (const auto& c : members.at("items").as_array())
    emails.insert(std::string(c.at("email").as_string()));
  EXPECT_EQ(emails, (std::set<std::string>{"one@kiln.test", "four@kiln.test"}));
  EXPECT_EQ(Json(a_.Get(a_.Ws() + "/contacts?q=three")).at("items").as_array().size(), 0u);
  // Whole-call errors.
  json::array too_many;
  for (int i = 0; i < 1001; ++i)
    too_many.push_back(json::object{{"email", "x" + std::to_string(i) + "@kiln.test"}});
  auto big =
      a_.Post(a_.Ws() + "/contacts/bulk", json::serialize(json::object{{"contacts", too_many}}));
  EXPECT_EQ(big.status, 400);
  EXPECT_EQ(ErrField(big), "contacts");
  auto bad_list = a_.Post(a_.Ws() + "/contacts/bulk",
                          R"({"contacts":[{"email":"z@kiln.test"}],"list_ids":[999999]})");
  EXPECT_EQ(bad_list.status, 400);
  EXPECT_EQ(ErrField(bad_list), "list_ids[0]");
  EXPECT_EQ(a_.Post(a_.Ws() + "/contacts/bulk", R"({"contacts":[]})").status, 400);
  EXPECT_EQ(a_.Post(a_.Ws() + "/contacts/bulk", R"({"contacts":[],"extra":1})").status, 400);
}

TEST_P(CampaignsApiTest, KeysetPaginationSearchAndFilters) {
  int64_t list = List(a_, "Half");
  std::set<int64_t> all_ids;
  for (int batch = 0; batch < 2; ++batch) {
    json::array rows;
    int n = batch == 0 ? 1000 : 200;
    for (int i = 0; i < n; ++i) {
      int k = batch * 1000 + i;
      rows.push_back(json::object{{"email", "lead" + std::to_string(k) + "@page.test"},
                                  {"first_name", k % 2 ? "Odd" : "Even"},
                                  {"company", k % 100 == 0 ? "Acme 100% Widgets" : "Globex"},
                                  {"status", k % 3 ? "new" : "contacted"}});
    }
    json::object body{{"contacts", rows}};
    if (batch == 1) body["list_ids"] = json::array{list};
    auto r = a_.Post(a_.Ws() + "/contacts/bulk", json::serialize(body));
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
    auto v = Json(r);
    ASSERT_EQ(v.at("created"), n);
    for (const auto& res : v.at("results").as_array()) all_ids.insert(res.at("id").as_int64());
  }
  ASSERT_EQ(all_ids.size(), 1200u);
  // Walk every page of 500: newest first, no repeats, nothing missed.
  std::vector<int64_t> seen;
  std::string next;
  std::vector<size_t> sizes;
  for (int page = 0; page < 10; ++page) {
    auto r = a_.Get(a_.Ws() + "/contacts?limit=500" + (next.empty() ? "" : "&before=" + next));
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
    auto v = Json(r);
    sizes.push_back(v.at("items").as_array().size());
    for (const auto& c : v.at("items").as_array()) seen.push_back(c.at("id").as_int64());
    if (v.at("next_before").is_null()) break;
    next = std::to_string(v.at("next_before").as_int64());
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{500, 500, 200}));
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()), all_ids);
  EXPECT_EQ(Json(a_.Get(a_.Ws() + "/contacts")).at("items").as_array().size(),
            50u);  // default page

  auto count = [&](const std::string& query) -> size_t {
    size_t total = 0;
    std::string before;
    for (;;) {
      auto r = a_.Get(a_.Ws() + "/contacts?limit=500" + query +
                      (before.empty() ? "" : "&before=" + before));
      EXPECT_EQ(r.status, 200) << query << " " << r.body.substr(0, 300);
      if (r.status != 200) return 0;
      auto v = Json(r);
      total += v.at("items").as_array().size();
      if (v.at("next_before").is_null()) return total;
      before = std::to_string(v.at("next_before").as_int64());
    }
  };
  EXPECT_EQ(count("&q=ACME"), 12u);      // case-insensitive, company
  EXPECT_EQ(count("&q=100%25"), 12u);    // '%' is literal, not a wildcard
  EXPECT_EQ(count("&q=_"), 0u);          // '_' is literal too
  EXPECT_EQ(count("&q=lead1199@"), 1u);  // email
  EXPECT_EQ(count("&q=odd"), 600u);      // first name
  EXPECT_EQ(count("&status=contacted"), 400u);
  EXPECT_EQ(count("&list_id=" + std::to_string(list)), 200u);
  EXPECT_EQ(count("&list_id=" + std::to_string(list) + "&status=contacted&q=even"), 33u);
}

// Lists ------------------------------------------------------------------------------------------

TEST_P(CampaignsApiTest, ListLifecycle) {
  Session b = NewOwner("owner@kiln-b.test");
  int64_t b_lead = Lead(b, "theirs@kiln-b.test");
  auto created =
      a_.Post(a_.Ws() + "/lists", R"({"name":"Webinar attendees","description":"May 2026"})");
  ASSERT_EQ(created.status, 201) << created.body;
  int64_t list = Json(created).at("id").as_int64();
  EXPECT_EQ(Json(created).at("contact_count"), 0);
  std::vector<int64_t> leads;
  for (int i = 0; i < 5; ++i) leads.push_back(Lead(a_, "w" + std::to_string(i) + "@kiln.test"));
  std::string url = a_.Ws() + "/lists/" + std::to_string(list);

  auto add = a_.Post(
      url + "/contacts",
      json::serialize(json::object{{"contact_ids", json::array{leads[0], leads[1], leads[2]}}}));
  ASSERT_EQ(add.status, 200) << add.body;
  EXPECT_EQ(Json(add).at("added"), 3);
  auto again =
      a_.Post(url + "/contacts",
              json::serialize(json::object{{"contact_ids", json::array{leads[2], leads[3]}}}));
  EXPECT_EQ(Json(again).at("added"), 1);
  EXPECT_EQ(Json(again).at("already_members"), 1);
  // One id of another workspace: 404 for the whole call, nothing added.
  auto foreign =
      a_.Post(url + "/contacts",
              json::serialize(json::object{{"contact_ids", json::array{leads[4], b_lead}}}));
  EXPECT_EQ(foreign.status, 404) << foreign.body;
  EXPECT_NE(foreign.body.find("contact_ids[1]"), std::string::npos) << foreign.body;
  EXPECT_EQ(Json(a_.Get(url)).at("contact_count"), 4);
  // Limits and shapes.
  json::array huge;
  for (int i = 1; i <= 10001; ++i) huge.push_back(i);
  EXPECT_EQ(
      ErrField(a_.Post(url + "/contacts", json::serialize(json::object{{"contact_ids", huge}}))),
      "contact_ids");
  EXPECT_EQ(ErrField(a_.Post(url + "/contacts", R"({"contact_ids":[1,0]})")), "contact_ids[1]");

  auto lists = Json(a_.Get(a_.Ws() + "/lists"));
  ASSERT_EQ(lists.at("items").as_array().size(), 1u);
  EXPECT_EQ(lists.at("items").at(0).at("contact_count"), 4);
  auto renamed = a_.Patch(url, R"json({"name":"Webinar (May)"})json");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(Json(renamed).at("name"), "Webinar (May)");
  EXPECT_EQ(Json(renamed).at("description"), "May 2026");
  EXPECT_EQ(a_.Patch(url, R"({"name":""})").status, 400);

  EXPECT_EQ(a_.Delete(url + "/contacts/" + std::to_string(leads[0])).status, 204);
  EXPECT_EQ(a_.Delete(url + "/contacts/" + std::to_string(leads[0])).status, 404);
  EXPECT_EQ(Json(a_.Get(url)).at("contact_count"), 3);
  auto lead1 = Json(a_.Get(a_.Ws() + "/contacts/" + std::to_string(leads[1])));
  EXPECT_EQ(lead1.at("list_ids"), (json::array{list}));

  EXPECT_EQ(a_.Delete(url).status, 204);
  EXPECT_EQ(a_.Get(url).status, 404);
  EXPECT_EQ(a_.Get(a_.Ws() + "/contacts/" + std::to_string(leads[1])).status, 200);  // leads stay
  auto audit = a_.Get(a_.Ws() + "/audit-log?limit=500").body;
  for (const char* action : {"list.created", "list.contacts_added", "list.updated",
                             "list.contact_removed", "list.deleted"}) {
    EXPECT_NE(audit.find(std::string("\"") + action + "\""), std::string::npos) << action;
  }
}

// Campaigns --------------------------------------------------------------------------------------

TEST_P(CampaignsApiTest, CampaignCreateGetEditAndList) {
  int64_t s1 = Sender(a_, "s1@kiln-a.test", true);
  int64_t s2 = Sender(a_, "s2@kiln-a.test", false);
  int64_t list = List(a_, "Prospects");
  Lead(a_, "p1@prospect.test", {{"list_ids", json::array{list}}});
  Lead(a_, "p2@prospect.test", {{"list_ids", json::array{list}}});
  json::object body{
      {"name", "Agencies EU"},
      {"schedule", {{"days", json::array{5, 1, 2}}, {"start", "08:30"}, {"end", "17:45"}}},
      {"timezone", "Europe/Berlin"},
      {"start_at", "2026-12-01T08:00:00Z"},
      {"daily_limit", 300},
      {"warmup_mix_percent", 20},
      {"track_opens", false},
      {"track_clicks", true},
      {"stop_on_auto_reply", true},
      {"sender_ids", json::array{s2, s1}},
      {"list_ids", json::array{list}},
      {"steps",
       json::array{
           json::object{
               {"delay_minutes", 0},
               {"variants", json::array{json::object{{"label", "A"},
                                                     {"weight", 70},
                                                     {"subject", "Quick question"},
                                                     {"body_html", "<p>Hi {{ first_name }}</p>"}},
                                        json::object{{"label", "B"},
                                                     {"weight", 30},
                                                     {"subject", "Idea for {{ company }}"},
                                                     {"body_text", "Hi"},
                                                     {"enabled", false}}}}},
           json::object{{"delay_minutes", 4320},
                        {"condition", "no_open"},
                        {"variants", json::array{json::object{{"subject", "Re: Quick question"},
                                                              {"body_text", "Bumping this"}}}}}}}};
  auto created = a_.Post(a_.Ws() + "/campaigns", json::serialize(body));
  ASSERT_EQ(created.status, 201) << created.body;
  auto c = Json(created);
  int64_t id = c.at("id").as_int64();
  EXPECT_EQ(c.at("status"), "draft");
  EXPECT_EQ(c.at("schedule"), json::parse(R"({"days":[1,2,5],"start":"08:30","end":"17:45"})"));
  EXPECT_EQ(c.at("timezone"), "Europe/Berlin");
  EXPECT_EQ(c.at("start_at"), "2026-12-01T08:00:00.000Z");
  EXPECT_EQ(c.at("daily_limit"), 300);
  EXPECT_EQ(c.at("warmup_mix_percent"), 20);
  EXPECT_EQ(c.at("track_opens"), false);
  EXPECT_EQ(c.at("stop_on_auto_reply"), true);
  EXPECT_EQ(c.at("sender_ids"), (json::array{std::min(s1, s2), std::max(s1, s2)}));
  EXPECT_EQ(c.at("list_ids"), (json::array{list}));
  ASSERT_EQ(c.at("steps").as_array().size(), 2u);
  EXPECT_EQ(c.at("steps").at(1).at("condition"), "no_open");
  EXPECT_EQ(c.at("steps").at(1).at("delay_minutes"), 4320);
  EXPECT_EQ(c.at("steps").at(0).at("variants").at(1).at("enabled"), false);
  EXPECT_EQ(c.at("steps").at(0).at("variants").at(0).at("weight"), 70);
  EXPECT_EQ(c.at("steps").at(1).at("variants").at(0).at("label"), "A");  // default label
  EXPECT_EQ(c.at("counts").at("audience"), 2);
  EXPECT_EQ(c.at("counts").at("enrolled"), 0);

  // Defaults.
  auto minimal = Json(a_.Post(a_.Ws() + "/campaigns", R"({"name":"Minimal"})"));
  EXPECT_EQ(minimal.at("schedule"),
            json::parse(R"({"days":[1,2,3,4,5],"start":"09:00","end":"17:00"})"));
  EXPECT_EQ(minimal.at("timezone"), "UTC");
  EXPECT_EQ(minimal.at("track_opens"), true);
  EXPECT_EQ(minimal.at("steps").as_array().size(), 0u);

  // Edit: partial; steps replaced by position (step ids kept), a step removed.
  int64_t step0 = c.at("steps").at(0).at("id").as_int64();
  auto edited =
      a_.Patch(C(a_, id),
               json::serialize(json::object{
                   {"name", "Agencies EU v2"},
                   {"start_at", nullptr},
                   {"sender_ids", json::array{s1}},
                   {"steps", json::array{json::object{
                                 {"variants", json::array{json::object{{"subject", "New subject"},
                                                                       {"body_text", "x"}}}}}}}}));
  ASSERT_EQ(edited.status, 200) << edited.body;
  auto e = Json(edited);
  EXPECT_EQ(e.at("name"), "Agencies EU v2");
  EXPECT_EQ(e.at("start_at"), nullptr);
  EXPECT_EQ(e.at("timezone"), "Europe/Berlin");  // untouched
  EXPECT_EQ(e.at("sender_ids"), (json::array{s1}));
  ASSERT_EQ(e.at("steps").as_array().size(), 1u);
  EXPECT_EQ(e.at("steps").at(0).at("id"), step0);
  EXPECT_EQ(e.at("steps").at(0).at("variants").as_array().size(), 1u);
  EXPECT_EQ(e.at("steps").at(0).at("variants").at(0).at("subject"), "New subject");

  auto list_all = Json(a_.Get(a_.Ws() + "/campaigns"));
  ASSERT_EQ(list_all.at("items").as_array().size(), 2u);
  EXPECT_EQ(list_all.at("items").at(0).at("name"), "Minimal");  // newest first
  EXPECT_EQ(list_all.at("items").at(1).at("counts").at("audience"), 2);
  EXPECT_EQ(Json(a_.Get(a_.Ws() + "/campaigns?status=running")).at("items").as_array().size(), 0u);
  EXPECT_EQ(a_.Get(a_.Ws() + "/campaigns?status=sleeping").status, 400);
  EXPECT_EQ(a_.Get(C(a_, id + 1000)).status, 404);
}

TEST_P(CampaignsApiTest, CampaignInputIsStrict) {
  Session b = NewOwner("owner@kiln-b.test");
  int64_t s1 = Sender(a_, "s1@kiln-a.test", false);
  int64_t s2 = Sender(a_, "s2@kiln-a.test", false);
  int64_t b_sender = Sender(b, "b@kiln-b.test", false);
  int64_t list = List(a_, "L");
  int64_t b_list = List(b, "BL");
  auto ids = [](std::initializer_list<int64_t> v) {
    std::string s = "[";
    for (auto x : v) s += (s.size() > 1 ? "," : "") + std::to_string(x);
    return s + "]";
  };
  std::string step_ok = R"({"variants":[{"subject":"s","body_text":"b"}]})";
  struct Case {
    std::string body;
    std::string field;
  } cases[] = {
      {R"({"name":"x","nope":true})", "nope"},
      {R"({"schedule":{"days":[1],"start":"09:00","end":"10:00"}})", "name"},
      {R"({"name":""})", "name"},
      {R"({"name":5})", "name"},
      {R"({"name":"x","daily_limit":"100"})", "daily_limit"},
      {R"({"name":"x","daily_limit":-1})", "daily_limit"},
      {R"({"name":"x","warmup_mix_percent":101})", "warmup_mix_percent"},
      {R"({"name":"x","warmup_mix_percent":2.5})", "warmup_mix_percent"},
      {R"({"name":"x","track_opens":1})", "track_opens"},
      {R"({"name":"x","timezone":"Mars/Olympus Mons"})", "timezone"},
      {R"({"name":"x","timezone":"/etc/localtime"})", "timezone"},
      {R"({"name":"x","start_at":"next tuesday"})", "start_at"},
      {R"({"name":"x","schedule":{"days":[0],"start":"09:00","end":"17:00"}})", "schedule.days[0]"},
      {R"({"name":"x","schedule":{"days":[1,8],"start":"09:00","end":"17:00"}})",
       "schedule.days[1]"},
      {R"({"name":"x","schedule":{"days":[2,2],"start":"09:00","end":"17:00"}})",
       "schedule.days[1]"},
      {R"({"name":"x","schedule":{"days":[],"start":"09:00","end":"17:00"}})", "schedule.days"},
      {R"({"name":"x","schedule":{"days":[1],"start":"9:00","end":"17:00"}})", "schedule.start"},
      {R"({"name":"x","schedule":{"days":[1],"start":"09:00","end":"24:00"}})", "schedule.end"},
      {R"({"name":"x","schedule":{"days":[1],"start":"17:00","end":"09:00"}})", "schedule.end"},
      {R"({"name":"x","schedule":{"days":[1],"start":"09:00"}})", "schedule.end"},
      {R"({"name":"x","schedule":{"days":[1],"start":"09:00","end":"17:00","tz":"UTC"}})",
       "schedule.tz"},
      {R"({"name":"x","sender_ids":)" + ids({s1, s2, b_sender}) + "}", "sender_ids[2]"},
      {R"({"name":"x","sender_ids":)" + ids({s1, s1}) + "}", "sender_ids[1]"},
      {R"({"name":"x","sender_ids":"1"})", "sender_ids"},
      {R"({"name":"x","list_ids":)" + ids({list, b_list}) + "}", "list_ids[1]"},
      {R"({"name":"x","list_ids":[999999]})", "list_ids[0]"},
      {R"({"name":"x","steps":[)" + step_ok + R"(,{"delay_minutes":525601,"variants":[]}]})",
       "steps[1].delay_minutes"},
      {R"({"name":"x","steps":[{"condition":"opened","variants":[]}]})", "steps[0].condition"},
      {R"({"name":"x","steps":[)" + step_ok + R"(,{"condition":"replied","variants":[]}]})",
       "steps[1].condition"},
      {R"({"name":"x","steps":[{"delay_minutes":0}]})", "steps[0].variants"},
      {R"({"name":"x","steps":[{"variants":[{"weight":101}]}]})", "steps[0].variants[0].weight"},
      {R"({"name":"x","steps":[{"variants":[{"subject":"a\r\nBcc: x@evil.test"}]}]})",
       "steps[0].variants[0].subject"},
      {R"({"name":"x","steps":[{"variants":[{"subject":"s","colour":"red"}]}]})",
       "steps[0].variants[0].colour"},
      {R"({"name":"x","steps":[{"variants":[1]}]})", "steps[0].variants[0]"},
      {R"({"name":"x","steps":["step"]})", "steps[0]"},
  };
  for (const auto& c : cases) {
    auto r = a_.Post(a_.Ws() + "/campaigns", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_EQ(ErrCode(r), "invalid_argument") << c.body;
    EXPECT_EQ(ErrField(r), c.field) << c.body << " -> " << r.body;
  }
  EXPECT_EQ(Json(a_.Get(a_.Ws() + "/campaigns")).at("items").as_array().size(), 0u)
      << "a refused campaign was written";
  // The same checks on edit, and nothing half-applied.
  int64_t id = CreateId(a_, "/campaigns", {{"name", "Edit me"}});
  auto r = a_.Patch(C(a_, id), R"({"name":"Renamed","sender_ids":)" + ids({s1, b_sender}) + "}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrField(r), "sender_ids[1]");
  EXPECT_EQ(Json(a_.Get(C(a_, id))).at("name"), "Edit me");
}

TEST_P(CampaignsApiTest, LaunchListsEveryProblemAtOnce) {
  int64_t unverified = Sender(a_, "new-box@kiln-a.test", false);
  int64_t empty_list = List(a_, "Empty");
  int64_t id = CreateId(a_, "/campaigns", {{"name", "Broken"}});
  auto r = a_.Action(C(a_, id, "/launch"));
  ASSERT_EQ(r.status, 409) << r.body;
  auto err = Json(r).at("error");
  EXPECT_EQ(err.at("code"), "failed_precondition");
  std::map<std::string, std::string> problems;
  for (const auto& p : err.at("problems").as_array()) {
    problems[std::string(p.at("field").as_string())] = std::string(p.at("message").as_string());
  }
  EXPECT_EQ(problems.size(), 3u) << r.body;
  EXPECT_EQ(problems["steps"], "the campaign has no steps");
  EXPECT_NE(problems["sender_ids"].find("no senders"), std::string::npos);
  EXPECT_NE(problems["list_ids"].find("audience is empty"), std::string::npos);

  // Now every other kind: a step without an enabled variant, an empty subject, an empty body, an
  // unverified sender (named), lists whose leads cannot be mailed.
  int64_t list = List(a_, "Gone");
  Lead(a_, "bounced@kiln.test", {{"status", "bounced"}, {"list_ids", json::array{list}}});
  Lead(a_, "unsub@kiln.test", {{"status", "unsubscribed"}, {"list_ids", json::array{list}}});
  Exec("test.suppress_email", {a_.ws, "blocked@kiln.test"});
  Lead(a_, "blocked@kiln.test", {{"list_ids", json::array{list}}});
  auto patched = a_.Patch(
      C(a_, id),
      json::serialize(json::object{
          {"sender_ids", json::array{unverified}},
          {"list_ids", json::array{empty_list, list}},
          {"steps",
           json::array{
               json::object{
                   {"variants", json::array{json::object{{"subject", "  "}, {"body_text", "x"}},
                                            json::object{{"subject", "ok"}, {"body_html", ""}}}}},
               json::object{{"delay_minutes", 60},
                            {"variants",
                             json::array{json::object{
                                 {"subject", "s"}, {"body_text", "b"}, {"enabled", false}}}}}}}}));
  ASSERT_EQ(patched.status, 200) << patched.body;
  r = a_.Action(C(a_, id, "/launch"));
  ASSERT_EQ(r.status, 409) << r.body;
  problems.clear();
  auto err2 = Json(r);
  for (const auto& p : err2.at("error").at("problems").as_array()) {
    problems[std::string(p.at("field").as_string())] = std::string(p.at("message").as_string());
  }
  EXPECT_EQ(problems.size(), 5u) << r.body;
  EXPECT_TRUE(problems.contains("steps[0].variants[0].subject")) << r.body;
  EXPECT_TRUE(problems.contains("steps[0].variants[1].body_html")) << r.body;
  EXPECT_TRUE(problems.contains("steps[1].variants")) << r.body;
  EXPECT_NE(problems["sender_ids[0]"].find("new-box@kiln-a.test is unverified"), std::string::npos)
      << r.body;
  EXPECT_NE(
      problems["list_ids"].find("3 leads in the lists, 2 unsubscribed or bounced, 1 suppressed"),
      std::string::npos)
      << problems["list_ids"];
  EXPECT_EQ(Json(a_.Get(C(a_, id))).at("status"), "draft");
  EXPECT_EQ(Enrolled(a_.ws, id), 0);
}

TEST_P(CampaignsApiTest, StateMachineAndEnrolment) {
  Ready r = MakeReady(a_, 4);
  // Leads that must be skipped: suppressed (by domain), unsubscribed, bounced.
  Exec("test.suppress_domain", {a_.ws, "blocked.test"});
  Lead(a_, "x@blocked.test", {{"list_ids", json::array{r.list}}});
  Lead(a_, "gone@kiln.test", {{"status", "unsubscribed"}, {"list_ids", json::array{r.list}}});
  Lead(a_, "dead@kiln.test", {{"status", "bounced"}, {"list_ids", json::array{r.list}}});
  // The same lead through two lists counts once.
  int64_t second = List(a_, "Second");
  a_.Post(a_.Ws() + "/lists/" + std::to_string(second) + "/contacts",
          json::serialize(json::object{{"contact_ids", json::array{r.leads[0]}}}));
  ASSERT_EQ(a_.Patch(C(a_, r.campaign),
                     json::serialize(json::object{{"list_ids", json::array{r.list, second}}}))
                .status,
            200);

  // Actions that do not apply to a draft.
  for (const char* action : {"/pause", "/resume", "/complete"}) {
    auto bad = std::string(action) == "/pause" ? a_.Post(C(a_, r.campaign, action), "{}")
                                               : a_.Action(C(a_, r.campaign, action));
    EXPECT_EQ(bad.status, 409) << action << " " << bad.body;
    EXPECT_EQ(ErrField(bad), "status") << action;
    EXPECT_NE(bad.body.find("is draft"), std::string::npos) << bad.body;
  }

  auto launched = a_.Action(C(a_, r.campaign, "/launch"));
  ASSERT_EQ(launched.status, 200) << launched.body;
  auto c = Json(launched);
  EXPECT_EQ(c.at("status"), "running");
  EXPECT_FALSE(c.at("started_at").is_null());
  EXPECT_EQ(c.at("launch").at("enrolled"), 4);
  EXPECT_EQ(c.at("launch").at("skipped_suppressed"), 1);
  EXPECT_EQ(c.at("launch").at("skipped_unsubscribed_or_bounced"), 2);
  EXPECT_EQ(c.at("counts").at("audience"), 7);
  EXPECT_EQ(c.at("counts").at("enrolled"), 4);
  EXPECT_EQ(Enrolled(a_.ws, r.campaign), 4);
  std::string started_at(c.at("started_at").as_string());

  auto twice = a_.Action(C(a_, r.campaign, "/launch"));
  EXPECT_EQ(twice.status, 409);
  EXPECT_EQ(ErrField(twice), "status");
  EXPECT_NE(twice.body.find("is running"), std::string::npos) << twice.body;
  auto steps_running =
      a_.Patch(C(a_, r.campaign), json::serialize(json::object{{"steps", OneStep("Changed")}}));
  EXPECT_EQ(steps_running.status, 409);
  EXPECT_NE(steps_running.body.find("pause the campaign to edit its steps"), std::string::npos)
      << steps_running.body;
  EXPECT_EQ(a_.Action(C(a_, r.campaign, "/archive")).status, 409);
  // Other settings may change while running.
  EXPECT_EQ(a_.Patch(C(a_, r.campaign), R"({"daily_limit":50})").status, 200);

  auto paused = a_.Post(C(a_, r.campaign, "/pause"), R"({"reason":"checking copy"})");
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(Json(paused).at("status"), "paused");
  EXPECT_EQ(Json(paused).at("paused_reason"), "checking copy");
  EXPECT_EQ(a_.Post(C(a_, r.campaign, "/pause"), "{}").status, 409);
  EXPECT_EQ(ErrField(a_.Post(C(a_, r.campaign, "/pause"), R"({"why":"x"})")), "why");
  auto relaunch = a_.Action(C(a_, r.campaign, "/launch"));
  EXPECT_EQ(relaunch.status, 409);
  EXPECT_NE(relaunch.body.find("resume"), std::string::npos) << relaunch.body;

  // Paused: steps may change. A step with sent messages cannot be removed.
  auto two_steps = json::array{
      OneStep().at(0),
      json::object{
          {"delay_minutes", 1440},
          {"variants", json::array{json::object{{"subject", "Follow-up"}, {"body_text", "b"}}}}}};
  auto edited = a_.Patch(C(a_, r.campaign), json::serialize(json::object{{"steps", two_steps}}));
  ASSERT_EQ(edited.status, 200) << edited.body;
  int64_t step2 = Json(edited).at("steps").at(1).at("id").as_int64();
  Exec("test.sent_message", {a_.ws, r.campaign, r.leads[0], step2});
  auto shrink = a_.Patch(C(a_, r.campaign), json::serialize(json::object{{"steps", OneStep()}}));
  EXPECT_EQ(shrink.status, 409) << shrink.body;
  EXPECT_NE(shrink.body.find("step 2 has sent messages"), std::string::npos) << shrink.body;
  EXPECT_EQ(Json(a_.Get(C(a_, r.campaign))).at("steps").as_array().size(), 2u);
  EXPECT_EQ(Json(a_.Get(C(a_, r.campaign))).at("counts").at("sent"), 1);
  // A message caught mid-send by a crash is surfaced, not counted as sent.
  EXPECT_EQ(Json(a_.Get(C(a_, r.campaign))).at("counts").at("unknown"), 0);
  Exec("test.unknown_message", {a_.ws, r.campaign, r.leads[1], step2});
  EXPECT_EQ(Json(a_.Get(C(a_, r.campaign))).at("counts").at("unknown"), 1);
  EXPECT_EQ(Json(a_.Get(C(a_, r.campaign))).at("counts").at("sent"), 1);

  // A lead added meanwhile joins on resume; the others are not enrolled twice.
  Lead(a_, "late@kiln.test", {{"list_ids", json::array{r.list}}});
  auto resumed = a_.Action(C(a_, r.campaign, "/resume"));
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(Json(resumed).at("status"), "running");
  EXPECT_EQ(Json(resumed).at("resume").at("enrolled"), 1);
  EXPECT_EQ(Json(resumed).at("started_at"),
            json::value(started_at));  // the first launch time stays
  EXPECT_EQ(Enrolled(a_.ws, r.campaign), 5);

  auto done = a_.Action(C(a_, r.campaign, "/complete"));
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Json(done).at("status"), "completed");
  EXPECT_FALSE(Json(done).at("completed_at").is_null());
  EXPECT_EQ(a_.Action(C(a_, r.campaign, "/resume")).status, 409);
  auto frozen = a_.Patch(C(a_, r.campaign), R"({"name":"too late"})");
  EXPECT_EQ(frozen.status, 409);
  EXPECT_EQ(ErrField(frozen), "status");
  EXPECT_EQ(Json(a_.Action(C(a_, r.campaign, "/archive"))).at("status"), "archived");
  auto again = a_.Action(C(a_, r.campaign, "/archive"));
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(again.body.find("is archived"), std::string::npos);

  // A draft can be archived directly.
  int64_t draft = CreateId(a_, "/campaigns", {{"name", "Never sent"}});
  EXPECT_EQ(Json(a_.Action(C(a_, draft, "/archive"))).at("status"), "archived");
  EXPECT_EQ(a_.Action(C(a_, draft, "/launch")).status, 409);

  auto audit = a_.Get(a_.Ws() + "/audit-log?limit=500").body;
  for (const char* action :
       {"campaign.created", "campaign.updated", "campaign.launched", "campaign.paused",
        "campaign.resumed", "campaign.completed", "campaign.archived"}) {
    EXPECT_NE(audit.find(std::string("\"") + action + "\""), std::string::npos) << action;
  }
}

TEST_P(CampaignsApiTest, LaunchChecksTemplatesForEveryLeadAndPreviewRenders) {
  int64_t sender = Sender(a_, "tpl-sender@kiln-a.test", true);
  int64_t list = List(a_, "Templated");
  int64_t ada = Lead(a_, "ada@kiln.test",
                     {{"first_name", "Ada"},
                      {"company", "Analytical & Co"},
                      {"custom_fields", {{"Industry Name", "computing"}}},
                      {"list_ids", json::array{list}}});
  int64_t bob = Lead(a_, "bob@kiln.test", {{"first_name", "Bob"}, {"list_ids", json::array{list}}});
  Lead(a_, "cy@kiln.test", {{"list_ids", json::array{list}}});
  auto variant = [](const std::string& subject, const std::string& html, const std::string& text) {
    return json::object{{"subject", subject}, {"body_html", html}, {"body_text", text}};
  };
  json::array steps{
      json::object{
          {"variants",
           json::array{
               variant(
                   "{Hi|Hello} {{ first_name | default: 'there' }}",
                   "<p>About {{ company }}</p><a href=\"{{ unsubscribe_url }}\">unsubscribe</a>",
                   "Industry: {{ custom[\"Industry Name\"] | default: 'yours' }}"),
               variant("Idea for {{ company | upcse }}", "<p>x</p>", "")}}},
      json::object{{"delay_minutes", 60},
                   {"variants", json::array{variant("Re: {{ first_name | default: 'you' }}", "",
                                                    "Hi,\n{% if company %}again")}}}};
  int64_t id = CreateId(a_, "/campaigns",
                        {{"name", "Templated"},
                         {"sender_ids", json::array{sender}},
                         {"list_ids", json::array{list}},
                         {"steps", steps}});
  auto r = a_.Action(C(a_, id, "/launch"));
  ASSERT_EQ(r.status, 409) << r.body;
  auto err = Json(r);
  std::map<std::string, json::object> problems;
  for (const auto& p : err.at("error").at("problems").as_array()) {
    problems[std::string(p.at("field").as_string())] = p.as_object();
  }
  EXPECT_EQ(problems.size(), 3u) << r.body;
  // A variable empty for two leads: which variable, how many, which leads.
  ASSERT_TRUE(problems.contains("steps[0].variants[0].body_html")) << r.body;
  auto& company = problems["steps[0].variants[0].body_html"];
  EXPECT_EQ(company.at("variable"), "company");
  EXPECT_EQ(company.at("lead_count"), 2);
  std::set<std::string> named;
  for (const auto& l : company.at("leads").as_array())
    named.insert(std::string(l.at("email").as_string()));
  EXPECT_EQ(named, (std::set<std::string>{"bob@kiln.test", "cy@kiln.test"}));
  // Syntax errors: step, variant, line and column.
  ASSERT_TRUE(problems.contains("steps[0].variants[1].subject")) << r.body;
  EXPECT_EQ(problems["steps[0].variants[1].subject"].at("line"), 1);
  EXPECT_GT(problems["steps[0].variants[1].subject"].at("column").as_int64(), 1);
  EXPECT_NE(std::string(problems["steps[0].variants[1].subject"].at("message").as_string())
                .find("upcase"),
            std::string::npos);
  ASSERT_TRUE(problems.contains("steps[1].variants[0].body_text")) << r.body;
  EXPECT_EQ(problems["steps[1].variants[0].body_text"].at("step"), 1);
  EXPECT_EQ(problems["steps[1].variants[0].body_text"].at("line"), 2);
  EXPECT_EQ(Enrolled(a_.ws, id), 0);

  // Preview: the lead's values, HTML-escaped in the HTML body; spintax stable per lead.
  std::string preview = C(a_, id, "/preview");
  auto p1 = a_.Post(preview, json::serialize(json::object{{"step_index", 0}, {"contact_id", ada}}));
  ASSERT_EQ(p1.status, 200) << p1.body;
  auto v1 = Json(p1);
  std::string subject(v1.at("subject").as_string());
  EXPECT_TRUE(subject == "Hi Ada" || subject == "Hello Ada") << subject;
  EXPECT_NE(v1.at("body_html").as_string().find("About Analytical &amp; Co"), std::string::npos)
      << p1.body;
  EXPECT_NE(v1.at("body_html").as_string().find("href=\"https://"), std::string::npos) << p1.body;
  EXPECT_EQ(v1.at("body_text"), "Industry: computing");
  EXPECT_EQ(v1.at("missing").as_array().size(), 0u);
  EXPECT_EQ(v1.at("variant_label"), "A");
  EXPECT_EQ(
      Json(a_.Post(preview, json::serialize(json::object{{"step_index", 0}, {"contact_id", ada}})))
          .at("subject"),
      json::value(subject));
  auto p2 = Json(a_.Post(
      preview,
      json::serialize(json::object{{"step_index", 0}, {"variant_index", 0}, {"contact_id", bob}})));
  ASSERT_EQ(p2.at("missing").as_array().size(), 1u);
  EXPECT_EQ(p2.at("missing").at(0).at("variable"), "company");
  EXPECT_EQ(p2.at("body_text"), "Industry: yours");
  auto broken = a_.Post(
      preview,
      json::serialize(json::object{{"step_index", 0}, {"variant_index", 1}, {"contact_id", ada}}));
  EXPECT_EQ(broken.status, 409);
  EXPECT_EQ(ErrField(broken), "steps[0].variants[1].subject");
  EXPECT_EQ(ErrField(a_.Post(
                preview, json::serialize(json::object{{"step_index", 5}, {"contact_id", ada}}))),
            "step_index");
  EXPECT_EQ(ErrField(a_.Post(preview,
                             json::serialize(json::object{
                                 {"step_index", 0}, {"variant_index", 7}, {"contact_id", ada}}))),
            "variant_index");
  EXPECT_EQ(ErrField(a_.Post(preview, R"({"step_index":0})")), "contact_id");
  EXPECT_EQ(
      a_.Post(preview, json::serialize(json::object{{"step_index", 0}, {"contact_id", ada + 1000}}))
          .status,
      404);
  Session b = NewOwner("owner@kiln-b.test");
  int64_t b_lead = Lead(b, "b@kiln-b.test");
  EXPECT_EQ(
      a_.Post(preview, json::serialize(json::object{{"step_index", 0}, {"contact_id", b_lead}}))
          .status,
      404);

  // Fixed templates launch.
  steps.at(0).at("variants").at(0).as_object()["body_html"] =
      "<p>About {{ company | default: 'your team' }}</p>";
  steps.at(0).at("variants").at(1).as_object()["subject"] =
      "Idea for {{ company | upcase | default: 'you' }}";
  steps.at(1).at("variants").at(0).as_object()["body_text"] =
      "Hi,\n{% if company %}again{% endif %}";
  ASSERT_EQ(a_.Patch(C(a_, id), json::serialize(json::object{{"steps", steps}})).status, 200);
  auto ok = a_.Action(C(a_, id, "/launch"));
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Json(ok).at("launch").at("enrolled"), 3);
}

// Workspace B's user, on B's own workspace path, names A's objects by id: 404 for every object
// route.
TEST_P(CampaignsApiTest, ObjectsOfAnotherWorkspaceAreNotFound) {
  Ready r = MakeReady(a_, 2);
  Session b = NewOwner("owner@kiln-b.test");
  int64_t b_list = List(b, "B's list");
  int64_t b_lead = Lead(b, "b-lead@kiln-b.test");
  std::string camp = b.Ws() + "/campaigns/" + std::to_string(r.campaign);
  std::string lead = b.Ws() + "/contacts/" + std::to_string(r.leads[0]);
  std::string list = b.Ws() + "/lists/" + std::to_string(r.list);
  struct Call {
    std::string method, url, body;
  } calls[] = {
      {"GET", camp, ""},
      {"PATCH", camp, R"({"name":"pwned"})"},
      {"POST", camp + "/launch", ""},
      {"POST", camp + "/pause", "{}"},
      {"POST", camp + "/resume", ""},
      {"POST", camp + "/complete", ""},
      {"POST", camp + "/archive", ""},
      {"POST", camp + "/preview",
       json::serialize(json::object{{"step_index", 0}, {"contact_id", b_lead}})},
      {"GET", lead, ""},
      {"PATCH", lead, R"({"first_name":"pwned"})"},
      {"DELETE", lead, ""},
      {"GET", list, ""},
      {"PATCH", list, R"({"name":"pwned"})"},
      {"DELETE", list, ""},
      {"POST", list + "/contacts",
       json::serialize(json::object{{"contact_ids", json::array{b_lead}}})},
      {"DELETE", list + "/contacts/" + std::to_string(r.leads[0]), ""},
      // B's own list, A's lead.
      {"POST", b.Ws() + "/lists/" + std::to_string(b_list) + "/contacts",
       json::serialize(json::object{{"contact_ids", json::array{r.leads[1]}}})},
      {"GET", b.Ws() + "/contacts?list_id=" + std::to_string(r.list), ""},
  };
  for (const auto& c : calls) {
    auto res = b.http->Send(c.method, c.url, c.body, b.H(!c.body.empty())).value();
    EXPECT_EQ(res.status, 404) << c.method << " " << c.url << " -> " << res.body;
    EXPECT_EQ(res.body.find("ready"), std::string::npos) << res.body;
  }
  // Ids of A in B's campaign input are refused by index.
  auto bc =
      b.Post(b.Ws() + "/campaigns",
             json::serialize(json::object{{"name", "B"}, {"sender_ids", json::array{r.sender}}}));
  EXPECT_EQ(bc.status, 400);
  EXPECT_EQ(ErrField(bc), "sender_ids[0]");
  // B sees none of A's objects in its lists, and A's objects are untouched.
  EXPECT_EQ(Json(b.Get(b.Ws() + "/campaigns")).at("items").as_array().size(), 0u);
  EXPECT_EQ(Json(b.Get(b.Ws() + "/contacts")).at("items").as_array().size(), 1u);
  EXPECT_EQ(Json(a_.Get(C(a_, r.campaign))).at("status"), "draft");
  EXPECT_EQ(Json(a_.Get(a_.Ws() + "/lists/" + std::to_string(r.list))).at("contact_count"), 2);
  EXPECT_EQ(Json(a_.Get(C(a_, r.campaign))).at("name"), "Q3 outreach");
}

TEST_P(CampaignsApiTest, ViewersReadButCannotChange) {
  auto add = a_.Post(a_.Ws() + "/members", R"({"email":"viewer@kiln-a.test","role":"viewer"})");
  ASSERT_EQ(add.status, 201) << add.body;
  Session v =
      Login("viewer@kiln-a.test", std::string(Json(add).at("initial_password").as_string()));
  int64_t id = CreateId(a_, "/campaigns", {{"name", "Readable"}});
  EXPECT_EQ(v.Get(a_.Ws() + "/campaigns/" + std::to_string(id)).status, 200);
  EXPECT_EQ(v.Get(a_.Ws() + "/contacts").status, 200);
  EXPECT_EQ(v.Get(a_.Ws() + "/lists").status, 200);
  EXPECT_EQ(v.Post(a_.Ws() + "/contacts", R"({"email":"x@kiln.test"})").status, 403);
  EXPECT_EQ(v.Post(a_.Ws() + "/lists", R"({"name":"x"})").status, 403);
  EXPECT_EQ(v.Action(a_.Ws() + "/campaigns/" + std::to_string(id) + "/launch").status, 403);
}

// A message caught mid-send by a crash (unknown) is resolved by a user: "sent" counts it and lets
// the lead go on; "not_sent" puts it back to be sent again; either way the paused lead continues.
TEST_P(CampaignsApiTest, ResolveUnknownMessage) {
  Ready r = MakeReady(a_, 3);
  const int64_t step = Json(a_.Get(C(a_, r.campaign))).at("steps").at(0).at("id").as_int64();
  for (int i = 0; i < 2; ++i) {
    Exec("test.paused_lead", {a_.ws, r.campaign, r.leads[i]});
    Exec("test.unknown_message", {a_.ws, r.campaign, r.leads[i], step});
  }
  auto state = [&](int64_t lead) {
    std::optional<store::Row> row;
    Status st = Db().Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(row, tx.QueryRow("test.message_state", {r.campaign, lead}));
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return *row;
  };
  const int64_t m0 = state(r.leads[0]).Int("id"), m1 = state(r.leads[1]).Int("id");
  auto resolve = [&](int64_t mid, const std::string& body) {
    return a_.Post(C(a_, r.campaign, "/messages/" + std::to_string(mid) + "/resolve"), body);
  };
  EXPECT_EQ(Json(a_.Get(C(a_, r.campaign))).at("counts").at("unknown"), 2);

  EXPECT_EQ(ErrField(resolve(m0, R"({"outcome":"maybe"})")), "outcome");
  EXPECT_EQ(ErrField(resolve(m0, R"({})")), "outcome");
  EXPECT_EQ(resolve(999999, R"({"outcome":"sent"})").status, 404);

  auto sent = resolve(m0, R"({"outcome":"sent"})");
  ASSERT_EQ(sent.status, 200) << sent.body;
  EXPECT_EQ(Json(sent).at("status"), "sent");
  EXPECT_EQ(Json(sent).at("lead_resumed"), true);
  EXPECT_EQ(state(r.leads[0]).Text("status"), "sent");
  EXPECT_EQ(state(r.leads[0]).Text("lead_status"), "active");

  auto not_sent = resolve(m1, R"({"outcome":"not_sent"})");
  ASSERT_EQ(not_sent.status, 200) << not_sent.body;
  EXPECT_EQ(Json(not_sent).at("status"), "scheduled");
  EXPECT_EQ(state(r.leads[1]).Text("status"), "scheduled");
  EXPECT_EQ(state(r.leads[1]).Text("lead_status"), "active");

  // Only an unknown message can be resolved, once.
  auto again = resolve(m0, R"({"outcome":"not_sent"})");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_NE(again.body.find("is sent"), std::string::npos) << again.body;
  auto counts = Json(a_.Get(C(a_, r.campaign))).at("counts");
  EXPECT_EQ(counts.at("unknown"), 0);
  EXPECT_EQ(counts.at("sent"), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, CampaignsApiTest, ::testing::ValuesIn(DbBackends()),
                         DbBackendName());

}  // namespace

}  // namespace kiln::testing
