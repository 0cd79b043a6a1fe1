// Analytics over HTTP: the real `kiln` binary on SQLite and PostgreSQL. A campaign made through
// the API (not launched: the engine leaves it alone) gets messages and events written straight
// into kiln's database, as the engine, the tracking endpoints and the inbox watcher would; the
// answers are checked to the last number (worked out below), with and without machine hits, over
// a date range, with the A/B test on both sides of its sample minimum; then the overview, warm-up
// placement, the viewer role, another workspace (404) and every bad parameter (400 naming it).
//
// The history (T0 = 2026-03-10T00:00Z; D1 = 2026-03-11):
//   step 1 variant A, a0..a9 (even: sender s1, odd: s2): all sent at T0+1h; a0..a5 replied on D1
//     (a0's lead now 'interested', a1's 'meeting_booked': 2 positive); human opens a0 (twice),
//     a1, a2; machine-only opens a3, a4; a human click on a0.
//   step 1 variant B, b0..b9 (same senders): b0..b8 sent; b9 refused at SMTP time (hard bounce);
//     b0 replied on D1 (lead 'not_interested'); b1 soft-bounced by DSN after sending; b2
//     unsubscribed and complained; a machine click on b3.
//   step 2 variant C, c0 (s1): sent on D1.
// Totals: sent 20, delivered 19 (b1 bounced back), attempted 21, bounced 2 (hard 1, soft 1),
// opened 3 (5 with machine hits), clicked 1 (2), replied 7, positive 2, unsubscribed 1,
// complained 1. Rates: delivery 19/20 = 0.95, open 3/19 = 0.157895 (5/19 = 0.263158), reply 7/19 =
// 0.368421, positive 2/7 = 0.285714, bounce 2/21 = 0.095238, hard bounce 1/21 = 0.047619.
// A/B on replies: A 6/10 vs B 1/8 delivered: pooled 7/18, z = 2.054137, p = 0.039962. On opens:
// A 3/10 vs B 0/8: z = 1.697056, p = 0.089686; with machine hits A 5/10: z = 2.353394, p =
// 0.018603.
#include "api_test_util.h"
#include "kiln/base/clock.h"
#include "kiln/store/db.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;

constexpr int64_t kT0 = 1'773'100'800'000;  // 2026-03-10T00:00:00Z
constexpr int64_t kHour = 3'600'000;

constexpr char kTestQueries[] = R"(-- Test-only statements.
-- name: test.contact
INSERT INTO contacts (workspace_id, email, status, created_at, updated_at)
VALUES ($1, $2, $3, 0, 0) RETURNING id;
-- name: test.message
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, variant_id, sender_id,
                      status, scheduled_at, replied_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'sent', 0, $7, 0, 0) RETURNING id;
-- name: test.event
INSERT INTO events (workspace_id, message_id, campaign_id, type, detail, is_machine, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7);
-- name: test.bot
INSERT INTO bots (workspace_id, email, provider, smtp_host, smtp_port, smtp_security, imap_host,
                  imap_port, imap_security, aging_start_at, created_at, updated_at)
VALUES ($1, $2, 'gmail', 'h', 25, 'none', 'h', 143, 'none', 0, 0, 0) RETURNING id;
-- name: test.warmup
INSERT INTO warmup_messages (workspace_id, sender_id, bot_id, peer_sender_id, direction, token,
                             status, placement, scheduled_at, sent_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, 'out', 'tok', 'sent', $5, $6, $6, 0, 0);
-- name: test.reputation_day
INSERT INTO reputation_daily (subject_kind, subject_id, workspace_id, day, warmup_sent, inbox, spam,
                              other_folder, missing, computed_at)
VALUES ('sender', $1, $2, $3, $4, $5, $6, $7, $8, 0);
)";

class AnalyticsApiTest : public KilnApiFixture {
 protected:
  void SetUp() override {
    KilnApiFixture::SetUp();
    if (HasFatalFailure()) return;
    StartKiln({"--rate-limit-per-minute", "1000000"});
    if (HasFatalFailure()) return;
    a_ = NewOwner("owner@kiln-a.test");
    b_ = NewOwner("owner@kiln-b.test");
  }

  store::Database& Db() { return KilnApiFixture::Db(kTestQueries); }

  void Write(const std::function<Status(store::Tx&)>& fn) {
    Status st = Db().Write(fn);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // The campaign and history described at the top.
  void MakeHistory() {
    s1_ = CreateId(a_, "/senders", json::parse(SenderBody("s1@kiln-a.test")).as_object());
    s2_ = CreateId(a_, "/senders", json::parse(SenderBody("s2@kiln-a.test")).as_object());
    json::array steps{
        json::object{
            {"delay_minutes", 0},
            {"variants",
             json::array{
                 json::object{{"label", "A"}, {"subject", "Quick question"}, {"body_text", "Hi"}},
                 json::object{{"label", "B"}, {"subject", "An idea"}, {"body_text", "Hello"}}}}},
        json::object{{"delay_minutes", 1440},
                     {"variants",
                      json::array{json::object{
                          {"label", "C"}, {"subject", "Following up"}, {"body_text", "Again"}}}}}};
    campaign_ = CreateId(
        a_, "/campaigns",
        {{"name", "Spring outreach"}, {"sender_ids", json::array{s1_, s2_}}, {"steps", steps}});
    auto got = a_.Get(a_.Ws() + "/campaigns/" + std::to_string(campaign_));
    ASSERT_EQ(got.status, 200) << got.body;
    json::value got_json = Json(got);
    const json::array& st = got_json.at("steps").as_array();
    ASSERT_EQ(st.size(), 2u) << got.body;
    step1_ = st[0].at("id").as_int64();
    step2_ = st[1].at("id").as_int64();
    var_a_ = st[0].at("variants").as_array()[0].at("id").as_int64();
    var_b_ = st[0].at("variants").as_array()[1].at("id").as_int64();
    var_c_ = st[1].at("variants").as_array()[0].at("id").as_int64();

    const int64_t ws = a_.ws;
    Write([&](store::Tx& tx) -> Status {
      auto message = [&](const std::string& email, const std::string& status, int64_t step,
                         int64_t variant, int64_t sender,
                         std::optional<int64_t> replied_at) -> Result<int64_t> {
        KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("test.contact", {ws, email, status}));
        KILN_ASSIGN_OR_RETURN(auto m, tx.QueryRow("test.message", {ws, campaign_, c.Int("id"), step,
                                                                   variant, sender, replied_at}));
        return m.Int("id");
      };
      auto event = [&](int64_t m, const std::string& type, int64_t at, bool machine = false,
                       const std::string& detail = "{}") {
        return tx.Exec("test.event", {ws, m, campaign_, type, detail, machine, at}).status();
      };
      const int64_t d1_reply = kT0 + 26 * kHour;
      for (int i = 0; i < 10; ++i) {
        std::string lead_status = i == 0 ? "interested" : i == 1 ? "meeting_booked" : "replied";
        bool replied = i <= 5;
        KILN_ASSIGN_OR_RETURN(
            int64_t m,
            message("a" + std::to_string(i) + "@lead.test", replied ? lead_status : "contacted",
                    step1_, var_a_, i % 2 == 0 ? s1_ : s2_,
                    replied ? std::optional<int64_t>(d1_reply) : std::nullopt));
        KILN_RETURN_IF_ERROR(event(m, "sent", kT0 + kHour));
        if (i <= 2) KILN_RETURN_IF_ERROR(event(m, "opened", kT0 + 2 * kHour));
        if (i == 0) KILN_RETURN_IF_ERROR(event(m, "opened", kT0 + 5 * kHour));
        if (i == 3 || i == 4) KILN_RETURN_IF_ERROR(event(m, "opened", kT0 + kHour + 4000, true));
        if (i == 0) KILN_RETURN_IF_ERROR(event(m, "clicked", kT0 + 3 * kHour));
        if (replied) KILN_RETURN_IF_ERROR(event(m, "replied", d1_reply));
      }
      for (int i = 0; i < 10; ++i) {
        KILN_ASSIGN_OR_RETURN(
            int64_t m,
            message("b" + std::to_string(i) + "@lead.test", i == 0 ? "not_interested" : "contacted",
                    step1_, var_b_, i % 2 == 0 ? s1_ : s2_,
                    i == 0 ? std::optional<int64_t>(d1_reply) : std::nullopt));
        if (i == 9) {
          KILN_RETURN_IF_ERROR(
              event(m, "bounced", kT0 + kHour, false, R"({"smtp_code":550,"reason":"no user"})"));
          continue;
        }
        KILN_RETURN_IF_ERROR(event(m, "sent", kT0 + kHour));
        if (i == 0) KILN_RETURN_IF_ERROR(event(m, "replied", d1_reply));
        if (i == 1) {
          KILN_RETURN_IF_ERROR(event(m, "bounced", kT0 + 2 * kHour, false,
                                     R"({"kind":"soft","reason":"mailbox_full"})"));
        }
        if (i == 2) {
          KILN_RETURN_IF_ERROR(event(m, "unsubscribed", kT0 + 3 * kHour));
          KILN_RETURN_IF_ERROR(event(m, "complained", kT0 + 4 * kHour));
        }
        if (i == 3) KILN_RETURN_IF_ERROR(event(m, "clicked", kT0 + kHour + 3000, true));
      }
      KILN_ASSIGN_OR_RETURN(
          int64_t c0, message("c0@lead.test", "contacted", step2_, var_c_, s1_, std::nullopt));
      return event(c0, "sent", kT0 + 30 * kHour);
    });
  }

  json::value Analytics(Session& s, const std::string& query = "") {
    auto r = s.Get(s.Ws() + "/campaigns/" + std::to_string(campaign_) + "/analytics" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r);
  }

  static double Num(const json::value& v) { return v.is_double() ? v.as_double() : -1; }

  Session a_, b_;
  int64_t s1_ = 0, s2_ = 0, campaign_ = 0, step1_ = 0, step2_ = 0;
  int64_t var_a_ = 0, var_b_ = 0, var_c_ = 0;
};

TEST_P(AnalyticsApiTest, CampaignNumbersToTheLast) {
  MakeHistory();
  ASSERT_FALSE(HasFatalFailure());
  json::value v = Analytics(a_);
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.at("campaign").at("name").as_string(), "Spring outreach");
  EXPECT_TRUE(v.at("from").is_null());
  const json::value& t = v.at("totals");
  EXPECT_EQ(t.at("sent").as_int64(), 20);
  EXPECT_EQ(t.at("delivered").as_int64(), 19);
  EXPECT_EQ(t.at("opened").as_int64(), 3);
  EXPECT_EQ(t.at("clicked").as_int64(), 1);
  EXPECT_EQ(t.at("replied").as_int64(), 7);
  EXPECT_EQ(t.at("positive_replies").as_int64(), 2);
  EXPECT_EQ(t.at("bounced").as_int64(), 2);
  EXPECT_EQ(t.at("bounced_hard").as_int64(), 1);
  EXPECT_EQ(t.at("bounced_soft").as_int64(), 1);
  EXPECT_EQ(t.at("unsubscribed").as_int64(), 1);
  EXPECT_EQ(t.at("complained").as_int64(), 1);
  EXPECT_EQ(t.at("machine_opens").as_int64(), 2);
  EXPECT_EQ(t.at("machine_clicks").as_int64(), 1);
  EXPECT_DOUBLE_EQ(Num(t.at("delivery_rate")), 0.95);
  EXPECT_DOUBLE_EQ(Num(t.at("open_rate")), 0.157895);
  EXPECT_DOUBLE_EQ(Num(t.at("click_rate")), 0.052632);
  EXPECT_DOUBLE_EQ(Num(t.at("reply_rate")), 0.368421);
  EXPECT_DOUBLE_EQ(Num(t.at("positive_reply_rate")), 0.285714);
  EXPECT_DOUBLE_EQ(Num(t.at("bounce_rate")), 0.095238);
  EXPECT_DOUBLE_EQ(Num(t.at("hard_bounce_rate")), 0.047619);
  EXPECT_DOUBLE_EQ(Num(t.at("unsubscribe_rate")), 0.052632);

  auto& steps = v.at("by_step").as_array();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].at("step_id").as_int64(), step1_);
  EXPECT_EQ(steps[0].at("sent").as_int64(), 19);
  auto& variants = steps[0].at("variants").as_array();
  ASSERT_EQ(variants.size(), 2u);
  EXPECT_EQ(variants[0].at("label").as_string(), "A");
  EXPECT_EQ(variants[0].at("delivered").as_int64(), 10);
  EXPECT_EQ(variants[0].at("replied").as_int64(), 6);
  EXPECT_EQ(variants[0].at("positive_replies").as_int64(), 2);
  EXPECT_EQ(variants[0].at("opened").as_int64(), 3);
  EXPECT_DOUBLE_EQ(Num(variants[0].at("reply_rate")), 0.6);
  EXPECT_EQ(variants[1].at("label").as_string(), "B");
  EXPECT_EQ(variants[1].at("sent").as_int64(), 9);
  EXPECT_EQ(variants[1].at("delivered").as_int64(), 8);
  EXPECT_EQ(variants[1].at("replied").as_int64(), 1);
  EXPECT_DOUBLE_EQ(Num(variants[1].at("reply_rate")), 0.125);
  EXPECT_EQ(steps[1].at("sent").as_int64(), 1);
  EXPECT_EQ(steps[1].at("variants").as_array()[0].at("label").as_string(), "C");

  // Default minimum sample (100): no winner, and the reason names the short variant.
  const json::value& reply = steps[0].at("ab_test").at("reply");
  EXPECT_TRUE(reply.at("winner_variant_id").is_null());
  EXPECT_EQ(reply.at("leader_variant_id").as_int64(), var_a_);
  EXPECT_EQ(reply.at("runner_up_variant_id").as_int64(), var_b_);
  EXPECT_DOUBLE_EQ(Num(reply.at("z")), 2.054137);
  EXPECT_DOUBLE_EQ(Num(reply.at("p_value")), 0.039962);
  EXPECT_FALSE(reply.at("significant").as_bool());
  EXPECT_EQ(reply.at("reason").as_string(), "variant A has 10 of the 100 messages needed");
  EXPECT_EQ(steps[1].at("ab_test").at("reply").at("reason").as_string(), "fewer than two variants");

  auto& senders = v.at("by_sender").as_array();
  ASSERT_EQ(senders.size(), 2u);
  EXPECT_EQ(senders[0].at("email").as_string(), "s1@kiln-a.test");
  EXPECT_EQ(senders[0].at("sent").as_int64(), 11);
  EXPECT_EQ(senders[1].at("sent").as_int64(), 9);
  EXPECT_EQ(senders[1].at("bounced").as_int64(), 2);

  auto& daily = v.at("daily").as_array();
  ASSERT_EQ(daily.size(), 2u);
  EXPECT_EQ(daily[0].at("day").as_string(), "2026-03-10");
  EXPECT_EQ(daily[0].at("sent").as_int64(), 19);
  EXPECT_EQ(daily[0].at("replied").as_int64(), 0);
  EXPECT_EQ(daily[1].at("day").as_string(), "2026-03-11");
  EXPECT_EQ(daily[1].at("sent").as_int64(), 1);
  EXPECT_EQ(daily[1].at("replied").as_int64(), 7);
  EXPECT_EQ(daily[1].at("positive_replies").as_int64(), 2);
}

TEST_P(AnalyticsApiTest, MachineHitsRangesAndTheAbMinimum) {
  MakeHistory();
  ASSERT_FALSE(HasFatalFailure());
  json::value machine = Analytics(a_, "?include_machine=true&ab_min_sample=8");
  const json::value& t = machine.at("totals");
  EXPECT_TRUE(machine.at("include_machine").as_bool());
  EXPECT_EQ(t.at("opened").as_int64(), 5);
  EXPECT_EQ(t.at("clicked").as_int64(), 2);
  EXPECT_DOUBLE_EQ(Num(t.at("open_rate")), 0.263158);
  const json::value& ab = machine.at("by_step").as_array()[0].at("ab_test");
  EXPECT_EQ(ab.at("reply").at("winner_variant_id").as_int64(), var_a_);
  EXPECT_TRUE(ab.at("reply").at("significant").as_bool());
  EXPECT_EQ(ab.at("reply").at("reason").as_string(), "");
  EXPECT_EQ(ab.at("open").at("winner_variant_id").as_int64(), var_a_);  // 5/10 vs 0/8
  EXPECT_DOUBLE_EQ(Num(ab.at("open").at("p_value")), 0.018603);

  json::value human = Analytics(a_, "?ab_min_sample=8");
  const json::value& open = human.at("by_step").as_array()[0].at("ab_test").at("open");
  EXPECT_TRUE(open.at("winner_variant_id").is_null());  // 3/10 vs 0/8
  EXPECT_DOUBLE_EQ(Num(open.at("z")), 1.697056);
  EXPECT_EQ(open.at("reason").as_string(), "not significant: p = 0.0897 >= 0.05");
  json::value short_b = Analytics(a_, "?ab_min_sample=9");
  EXPECT_EQ(short_b.at("by_step").as_array()[0].at("ab_test").at("reply").at("reason").as_string(),
            "variant B has 8 of the 9 messages needed");

  json::value d1 = Analytics(a_, "?from=2026-03-11&to=2026-03-11");
  EXPECT_EQ(d1.at("from").as_string(), "2026-03-11");
  EXPECT_EQ(d1.at("totals").at("sent").as_int64(), 1);
  EXPECT_EQ(d1.at("totals").at("replied").as_int64(), 7);
  EXPECT_EQ(d1.at("totals").at("positive_replies").as_int64(), 2);
  EXPECT_EQ(d1.at("totals").at("opened").as_int64(), 0);
  ASSERT_EQ(d1.at("daily").as_array().size(), 1u);
  json::value week = Analytics(a_, "?from=2026-03-09&to=2026-03-15");
  EXPECT_EQ(week.at("totals").at("sent").as_int64(), 20);
  ASSERT_EQ(week.at("daily").as_array().size(), 7u);  // every day of the range, empty ones too
  EXPECT_EQ(week.at("daily").as_array()[0].at("sent").as_int64(), 0);
  EXPECT_TRUE(week.at("daily").as_array()[0].at("open_rate").is_null());
}

// A sender outside the campaign's pool (removed from it, or sending a follow-up) is listed with
// its address in by_sender, whether its sends are rolled up yet or still in the live tail.
TEST_P(AnalyticsApiTest, SenderOutsideThePoolIsNamedByItsAddress) {
  MakeHistory();
  ASSERT_FALSE(HasFatalFailure());
  const int64_t s3 =
      CreateId(a_, "/senders", json::parse(SenderBody("s3@kiln-a.test")).as_object());
  const int64_t ws = a_.ws;
  Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("test.contact", {ws, "d0@lead.test", "contacted"}));
    KILN_ASSIGN_OR_RETURN(auto m, tx.QueryRow("test.message", {ws, campaign_, c.Int("id"), step1_,
                                                               var_a_, s3, std::nullopt}));
    return tx.Exec("test.event", {ws, m.Int("id"), campaign_, "sent", "{}", false, kT0 + kHour})
        .status();
  });
  json::value v = Analytics(a_);
  ASSERT_TRUE(v.is_object());
  auto& senders = v.at("by_sender").as_array();
  ASSERT_EQ(senders.size(), 3u) << json::serialize(v);
  EXPECT_EQ(senders[2].at("sender_id").as_int64(), s3);
  EXPECT_EQ(senders[2].at("email").as_string(), "s3@kiln-a.test");
  EXPECT_EQ(senders[2].at("sent").as_int64(), 1);
}

TEST_P(AnalyticsApiTest, OverviewPlacementRolesAndBadParameters) {
  MakeHistory();
  ASSERT_FALSE(HasFatalFailure());
  auto r = a_.Get(a_.Ws() + "/analytics/overview?from=2026-03-10&to=2026-03-11");
  ASSERT_EQ(r.status, 200) << r.body;
  json::value o = Json(r);
  EXPECT_EQ(o.at("totals").at("sent").as_int64(), 20);
  EXPECT_EQ(o.at("totals").at("replied").as_int64(), 7);
  EXPECT_EQ(o.at("totals").at("positive_replies").as_int64(), 2);
  ASSERT_EQ(o.at("daily").as_array().size(), 2u);
  EXPECT_EQ(o.at("daily").as_array()[1].at("sent").as_int64(), 1);
  auto recent = a_.Get(a_.Ws() + "/analytics/overview");  // the last 30 days: none of it
  ASSERT_EQ(recent.status, 200) << recent.body;
  EXPECT_EQ(Json(recent).at("daily").as_array().size(), 30u);
  EXPECT_EQ(Json(recent).at("totals").at("sent").as_int64(), 0);
  auto other = b_.Get(b_.Ws() + "/analytics/overview?from=2026-03-10&to=2026-03-11");
  EXPECT_EQ(Json(other).at("totals").at("sent").as_int64(), 0);

  // Placement: the reputation history (one day) and the window by provider.
  const int64_t now = SystemClock().NowMillis();
  Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto bot, tx.QueryRow("test.bot", {a_.ws, "bot@kiln-a.test"}));
    for (const char* placement : {"inbox", "inbox", "inbox", "spam", "unknown"}) {
      KILN_RETURN_IF_ERROR(tx.Exec("test.warmup", {a_.ws, s1_, bot.Int("id"), std::nullopt,
                                                   placement, now - 5 * 24 * kHour})
                               .status());
    }
    KILN_RETURN_IF_ERROR(tx.Exec("test.warmup", {a_.ws, s1_, std::nullopt, s2_, "other_folder",
                                                 now - 5 * 24 * kHour})
                             .status());
    return tx.Exec("test.reputation_day", {s1_, a_.ws, "2026-03-10", 5, 3, 1, 0, 0}).status();
  });
  auto p = a_.Get(a_.Ws() + "/senders/" + std::to_string(s1_) + "/placement?days=365");
  ASSERT_EQ(p.status, 200) << p.body;
  json::value pl = Json(p);
  EXPECT_EQ(pl.at("days").as_int64(), 365);
  EXPECT_EQ(pl.at("totals").at("placed").as_int64(), 4);
  EXPECT_DOUBLE_EQ(Num(pl.at("totals").at("inbox_rate")), 0.75);
  ASSERT_EQ(pl.at("daily").as_array().size(), 1u);
  EXPECT_EQ(pl.at("daily").as_array()[0].at("day").as_string(), "2026-03-10");
  EXPECT_EQ(pl.at("daily").as_array()[0].at("spam").as_int64(), 1);
  auto& providers = pl.at("by_provider").as_array();
  ASSERT_EQ(providers.size(), 2u) << p.body;
  EXPECT_EQ(providers[0].at("provider").as_string(), "gmail");
  EXPECT_EQ(providers[0].at("inbox").as_int64(), 3);
  EXPECT_EQ(providers[0].at("spam").as_int64(), 1);
  EXPECT_DOUBLE_EQ(Num(providers[0].at("spam_rate")), 0.25);
  EXPECT_EQ(providers[1].at("provider").as_string(), "peer");
  EXPECT_EQ(providers[1].at("other_folder").as_int64(), 1);

  // A viewer reads everything; another workspace sees nothing.
  auto added =
      a_.Post(a_.Ws() + "/members",
              json::serialize(json::object{{"email", "viewer@kiln-a.test"}, {"role", "viewer"}}));
  ASSERT_EQ(added.status, 201) << added.body;
  Session viewer =
      Login("viewer@kiln-a.test", std::string(Json(added).at("initial_password").as_string()));
  viewer.ws = a_.ws;
  EXPECT_EQ(Analytics(viewer).at("totals").at("sent").as_int64(), 20);
  EXPECT_EQ(viewer.Get(viewer.Ws() + "/senders/" + std::to_string(s1_) + "/placement").status, 200);
  const std::string theirs = b_.Ws() + "/campaigns/" + std::to_string(campaign_) + "/analytics";
  EXPECT_EQ(b_.Get(theirs).status, 404);
  EXPECT_EQ(b_.Get(b_.Ws() + "/senders/" + std::to_string(s1_) + "/placement").status, 404);
  EXPECT_EQ(a_.Get(a_.Ws() + "/campaigns/999999/analytics").status, 404);

  const std::string mine = a_.Ws() + "/campaigns/" + std::to_string(campaign_) + "/analytics";
  struct Bad {
    std::string target, field;
  };
  for (const Bad& bad : std::vector<Bad>{
           {mine + "?from=2026-02-30", "from"},
           {mine + "?from=yesterday", "from"},
           {mine + "?to=2026-3-1", "to"},
           {mine + "?from=2026-03-11&to=2026-03-10", "to"},
           {mine + "?include_machine=maybe", "include_machine"},
           {mine + "?ab_min_sample=0", "ab_min_sample"},
           {mine + "?ab_min_sample=1000001", "ab_min_sample"},
           {a_.Ws() + "/analytics/overview?from=2000-01-01&to=2026-01-01", "from"},
           {a_.Ws() + "/analytics/overview?to=2026-13-01", "to"},
           {a_.Ws() + "/senders/" + std::to_string(s1_) + "/placement?days=0", "days"},
           {a_.Ws() + "/senders/" + std::to_string(s1_) + "/placement?days=366", "days"},
       }) {
    auto res = a_.Get(bad.target);
    EXPECT_EQ(res.status, 400) << bad.target << " -> " << res.body;
    EXPECT_EQ(ErrField(res), bad.field) << bad.target;
  }
}

INSTANTIATE_TEST_SUITE_P(Db, AnalyticsApiTest, ::testing::ValuesIn(DbBackends()), DbBackendName());

}  // namespace
}  // namespace kiln::testing
