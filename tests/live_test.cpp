// The live WebSocket (/api/v1/workspaces/{ws}/live) against the real `kiln serve` binary on SQLite
// and PostgreSQL: refused without authentication, from a foreign Origin and for a workspace the
// caller is not in; a snapshot at connect, then an update within seconds after rows change (a sent
// message and its event written straight into kiln's database, as the engine of another process
// would); another workspace's events never appear; the per-user connection limit; an API key.
// GET /api/v1/live?workspace={ws} (issue 4 §7's name) is the same stream: the caller's only
// workspace without the parameter, 400 naming `workspace` when that is ambiguous. Lead imports
// stream `import` frames with their progress (rows written by an import worker of another node, and
// a real import through the API).
#include <chrono>
#include <thread>

#include "api_test_util.h"
#include "kiln/base/clock.h"
#include "kiln/http/websocket_test_client.h"
#include "kiln/store/db.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;
using http::TestWebSocket;

constexpr char kTestQueries[] = R"(-- Test-only statements.
-- name: test.activate_sender
UPDATE senders SET status = 'active' WHERE workspace_id = $1 AND id = $2;
-- name: test.insert_message
INSERT INTO messages (workspace_id, campaign_id, contact_id, step_id, sender_id, status,
                      scheduled_at, sent_at, created_at, updated_at)
VALUES ($1, $2, $3, (SELECT id FROM campaign_steps WHERE campaign_id = $2 ORDER BY position LIMIT 1),
        $4, 'sent', $5, $5, $5, $5)
RETURNING id;
-- name: test.insert_warmup
INSERT INTO warmup_messages (workspace_id, sender_id, peer_sender_id, direction, token, status,
                             scheduled_at, sent_at, created_at, updated_at)
VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $6, $6);
-- name: test.insert_event
INSERT INTO events (workspace_id, message_id, campaign_id, type, detail, created_at)
VALUES ($1, $2, $3, $4, '{}', $5)
RETURNING id;
-- name: test.insert_import
INSERT INTO upload_jobs (workspace_id, kind, file_name, status, bytes_total, bytes_read,
                         created_at, updated_at, started_at)
VALUES ($1, 'contacts_csv', $2, 'running', $3, 0, $4, $4, $4)
RETURNING id;
-- name: test.import_progress
UPDATE upload_jobs SET status = $3, processed_rows = $4, imported_rows = $5, skipped_rows = $6,
       error_rows = $7, bytes_read = $8, updated_at = $9
WHERE workspace_id = $1 AND id = $2;
)";

class LiveTest : public KilnApiFixture {
 protected:
  void SetUp() override {
    KilnApiFixture::SetUp();
    if (HasFatalFailure()) return;
    // No engine: the test is the only writer of messages and events.
    StartKiln(
        {"--rate-limit-per-minute", "1000000", "--no-workers", "--live-connections-per-user", "3"});
    if (HasFatalFailure()) return;
    a_ = NewOwner("owner@kiln-a.test");
    b_ = NewOwner("owner@kiln-b.test");
  }

  store::Database& Db() { return KilnApiFixture::Db(kTestQueries); }

  // A running campaign with `leads` enrolled leads and an active sender.
  struct Running {
    int64_t campaign = 0, sender = 0;
    std::vector<int64_t> leads;
  };
  Running Launch(Session& s, const std::string& tag, int leads) {
    Running out;
    auto r = s.Post(s.Ws() + "/senders", SenderBody("sender-" + tag + "@kiln-a.test"));
    EXPECT_EQ(r.status, 201) << r.body;
    out.sender = Json(r).at("id").as_int64();
    Status st = Db().Write([&](store::Tx& tx) {
      return tx.Exec("test.activate_sender", {s.ws, out.sender}).status();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    int64_t list = CreateId(s, "/lists", {{"name", "List " + tag}});
    for (int i = 0; i < leads; ++i) {
      out.leads.push_back(
          CreateId(s, "/contacts",
                   {{"email", "lead" + std::to_string(i) + "-" + tag + "@lead.test"},
                    {"list_ids", json::array{list}}}));
    }
    json::array steps{json::object{
        {"delay_minutes", 0},
        {"variants", json::array{json::object{{"subject", "Hello"}, {"body_text", "Hi there"}}}}}};
    out.campaign = CreateId(s, "/campaigns",
                            {{"name", "Campaign " + tag},
                             {"sender_ids", json::array{out.sender}},
                             {"list_ids", json::array{list}},
                             {"steps", steps}});
    auto launched = s.Action(s.Ws() + "/campaigns/" + std::to_string(out.campaign) + "/launch");
    EXPECT_EQ(launched.status, 200) << launched.body;
    return out;
  }

  // What the engine of another process writes for one send: the message and its 'sent' event.
  int64_t RecordSend(Session& s, const Running& c, int64_t lead) {
    int64_t now = SystemClock().NowMillis();
    int64_t event = 0;
    Status st = Db().Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(
          auto msg, tx.QueryRow("test.insert_message", {s.ws, c.campaign, lead, c.sender, now}));
      KILN_ASSIGN_OR_RETURN(auto ev, tx.QueryRow("test.insert_event",
                                                 {s.ws, msg.Int("id"), c.campaign, "sent", now}));
      event = ev.Int("id");
      return Status::Ok();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return event;
  }

  std::string CookieHeader(const Session& s) {
    std::string out;
    for (const auto& [name, value] : s.http->cookies()) {
      if (!out.empty()) out += "; ";
      out += name + "=" + value;
    }
    return out;
  }
  TestWebSocket::Options Browser(const Session& s, std::string origin = "https://kiln.test") {
    TestWebSocket::Options o;
    o.headers = {{"Cookie", CookieHeader(s)}, {"Origin", std::move(origin)}};
    return o;
  }
  std::string LivePath(int64_t ws) { return "/api/v1/workspaces/" + std::to_string(ws) + "/live"; }

  // The next frame that is not a heartbeat, parsed.
  json::object NextFrame(TestWebSocket& ws, std::chrono::milliseconds timeout) {
    auto deadline = Steady::now() + timeout;
    while (Steady::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
      auto text = ws.Read(left);
      if (!text.ok()) break;
      boost::system::error_code ec;
      json::value v = json::parse(*text, ec);
      EXPECT_FALSE(ec) << *text;
      if (ec || !v.is_object()) return {};
      if (v.at("type").as_string() == "heartbeat") continue;
      return v.as_object();
    }
    ADD_FAILURE() << "no frame within " << timeout.count() << " ms";
    return {};
  }

  static const json::object* CampaignIn(const json::object& frame, int64_t id) {
    if (!frame.contains("campaigns")) return nullptr;
    for (const auto& c : frame.at("campaigns").as_array()) {
      if (c.at("id").as_int64() == id) return &c.as_object();
    }
    return nullptr;
  }

  Session a_, b_;
};

TEST_P(LiveTest, RefusesWithoutAuthFromForeignOriginsAndForOtherWorkspaces) {
  int status = 0;
  std::string body;
  // No credentials.
  auto r = TestWebSocket::Connect(proc_.port(), LivePath(a_.ws), {}, &status, &body);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(status, 401) << body;
  // Signed in, but the page is another site's (cross-site WebSocket hijacking).
  r = TestWebSocket::Connect(proc_.port(), LivePath(a_.ws), Browser(a_, "https://evil.example"),
                             &status, &body);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(status, 403) << body;
  EXPECT_NE(body.find("evil.example"), std::string::npos) << body;
  // Signed in, own origin, someone else's workspace: as if it did not exist.
  r = TestWebSocket::Connect(proc_.port(), LivePath(b_.ws), Browser(a_), &status, &body);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(status, 404) << body;
  r = TestWebSocket::Connect(proc_.port(), LivePath(999999), Browser(a_), &status, &body);
  EXPECT_EQ(status, 404) << body;
  // A plain GET with credentials: 426, the route speaks WebSocket.
  auto plain = a_.Get(a_.Ws() + "/live");
  EXPECT_EQ(plain.status, 426) << plain.body;
  // The origin of the Host the browser used is fine too (no public_url match needed).
  r = TestWebSocket::Connect(proc_.port(), LivePath(a_.ws),
                             Browser(a_, "http://127.0.0.1:" + std::to_string(proc_.port())),
                             &status, &body);
  EXPECT_TRUE(r.ok()) << status << " " << body;
}

TEST_P(LiveTest, SnapshotThenUpdatesScopedToTheWorkspace) {
  Running a = Launch(a_, "a", 3);
  Running b = Launch(b_, "b", 2);
  int64_t first = RecordSend(a_, a, a.leads[0]);

  auto ws = TestWebSocket::Connect(proc_.port(), LivePath(a_.ws), Browser(a_));
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  auto snapshot = NextFrame(**ws, 5s);
  ASSERT_EQ(snapshot.at("type").as_string(), "snapshot") << json::serialize(snapshot);
  EXPECT_EQ(snapshot.at("workspace_id").as_int64(), a_.ws);
  const json::object* c = CampaignIn(snapshot, a.campaign);
  ASSERT_NE(c, nullptr) << json::serialize(snapshot);
  EXPECT_EQ(c->at("sent").as_int64(), 1);
  EXPECT_EQ(c->at("enrolled").as_int64(), 3);
  EXPECT_EQ(c->at("remaining").as_int64(), 3);
  EXPECT_GT(c->at("rate_per_minute").as_double(), 0.0);
  EXPECT_EQ(CampaignIn(snapshot, b.campaign), nullptr) << "another workspace's campaign";
  EXPECT_EQ(snapshot.at("today").at("sent").as_int64(), 1);
  EXPECT_EQ(snapshot.at("today").at("quota").as_int64(), 50);  // one active sender, default quota
  const auto& feed = snapshot.at("activity").as_array();
  ASSERT_EQ(feed.size(), 1u) << json::serialize(snapshot);
  EXPECT_EQ(feed[0].at("id").as_int64(), first);
  EXPECT_EQ(feed[0].at("type").as_string(), "sent");
  EXPECT_EQ(feed[0].at("lead_email").as_string(), "lead0-a@lead.test");

  // Sends in another workspace: nothing of them reaches this socket.
  RecordSend(b_, b, b.leads[0]);
  // A send here: an update within about a second (the poll interval), with the new event only.
  auto before = Steady::now();
  int64_t second = RecordSend(a_, a, a.leads[1]);
  auto update = NextFrame(**ws, 5s);
  auto latency = Steady::now() - before;
  ASSERT_EQ(update.at("type").as_string(), "update") << json::serialize(update);
  EXPECT_LT(latency, 3s);
  RecordProperty(
      "update_latency_ms",
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(latency).count()));
  c = CampaignIn(update, a.campaign);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->at("sent").as_int64(), 2);
  EXPECT_EQ(update.at("today").at("sent").as_int64(), 2);
  const auto& fresh = update.at("activity").as_array();
  ASSERT_EQ(fresh.size(), 1u) << json::serialize(update);
  EXPECT_EQ(fresh[0].at("id").as_int64(), second);
  EXPECT_EQ(CampaignIn(update, b.campaign), nullptr);

  // The other workspace's owner sees their own send, never ours.
  auto wb = TestWebSocket::Connect(proc_.port(), LivePath(b_.ws), Browser(b_));
  ASSERT_TRUE(wb.ok()) << wb.status().ToString();
  auto snap_b = NextFrame(**wb, 5s);
  for (const auto& item : snap_b.at("activity").as_array()) {
    EXPECT_NE(item.at("id").as_int64(), first);
    EXPECT_NE(item.at("id").as_int64(), second);
    EXPECT_EQ(item.at("lead_email").as_string(), "lead0-b@lead.test");
  }
  EXPECT_EQ(CampaignIn(snap_b, a.campaign), nullptr);
  // And no frame of workspace A's send arrives there later.
  RecordSend(a_, a, a.leads[2]);
  auto on_a = NextFrame(**ws, 5s);
  EXPECT_EQ(on_a.at("activity").as_array().size(), 1u);
  auto quiet = (*wb)->Read(2500ms);
  while (quiet.ok() && quiet->find("\"heartbeat\"") != std::string::npos)
    quiet = (*wb)->Read(2500ms);
  EXPECT_FALSE(quiet.ok()) << "workspace B got a frame after A's send: " << *quiet;
}

TEST_P(LiveTest, TodaysWarmupCountsMailSentOrOnItsWayToday) {
  Running a = Launch(a_, "a", 1);
  // The sender's day (UTC): its mail sent today and its claim in flight (sent_at is the claim's
  // instant) count; a failed send (no sent_at), yesterday's mail and an answer it received do not.
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t today = now - now % (24 * 3'600'000);
  Status st = Db().Write([&](store::Tx& tx) -> Status {
    const store::Value none;
    for (const store::Params& p : std::vector<store::Params>{
             {a_.ws, a.sender, "out", "t1aaaaaaaaaaaaaaaaaa", "sent", today, today},
             {a_.ws, a.sender, "out", "t2aaaaaaaaaaaaaaaaaa", "sending", now, now},
             {a_.ws, a.sender, "out", "t3aaaaaaaaaaaaaaaaaa", "failed", now, none},
             {a_.ws, a.sender, "out", "t4aaaaaaaaaaaaaaaaaa", "sent", today - 1, today - 1},
             {a_.ws, a.sender, "back", "t5aaaaaaaaaaaaaaaaaa", "sent", now, now}}) {
      KILN_RETURN_IF_ERROR(tx.Exec("test.insert_warmup", p).status());
    }
    return Status::Ok();
  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto ws = TestWebSocket::Connect(proc_.port(), LivePath(a_.ws), Browser(a_));
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  auto snapshot = NextFrame(**ws, 5s);
  ASSERT_EQ(snapshot.at("type").as_string(), "snapshot") << json::serialize(snapshot);
  EXPECT_EQ(snapshot.at("today").at("warmup_sent").as_int64(), 2) << json::serialize(snapshot);
}

TEST_P(LiveTest, ConnectionLimitPerUserAndApiKeys) {
  std::vector<std::unique_ptr<TestWebSocket>> open;
  for (int i = 0; i < 3; ++i) {
    auto ws = TestWebSocket::Connect(proc_.port(), LivePath(a_.ws), Browser(a_));
    ASSERT_TRUE(ws.ok()) << i << ": " << ws.status().ToString();
    open.push_back(std::move(ws).value());
  }
  int status = 0;
  std::string body;
  auto start = Steady::now();
  auto refused = TestWebSocket::Connect(proc_.port(), LivePath(a_.ws), Browser(a_), &status, &body);
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(status, 429) << body;
  EXPECT_LT(Steady::now() - start, 2s);
  // Another user is not affected.
  auto other = TestWebSocket::Connect(proc_.port(), LivePath(b_.ws), Browser(b_));
  EXPECT_TRUE(other.ok()) << other.status().ToString();
  // Closing one lets the user in again.
  open[0]->Close();
  open.erase(open.begin());
  auto deadline = Steady::now() + 3s;
  bool admitted = false;
  while (!admitted && Steady::now() < deadline) {
    auto again = TestWebSocket::Connect(proc_.port(), LivePath(a_.ws), Browser(a_));
    admitted = again.ok();
    if (admitted)
      open.push_back(std::move(again).value());
    else
      std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(admitted);

  // A program with an API key of the workspace (no Origin, no cookie).
  auto key = a_.Post(a_.Ws() + "/api-keys", R"({"name":"dash","role":"viewer"})");
  ASSERT_EQ(key.status, 201) << key.body;
  std::string secret(Json(key).at("key").as_string());
  TestWebSocket::Options program;
  program.headers = {{"Authorization", "Bearer " + secret}};
  auto by_key = TestWebSocket::Connect(proc_.port(), LivePath(a_.ws), program);
  ASSERT_TRUE(by_key.ok()) << by_key.status().ToString();
  EXPECT_EQ(NextFrame(**by_key, 5s).at("type").as_string(), "snapshot");
  // The key cannot open another workspace's stream.
  auto cross = TestWebSocket::Connect(proc_.port(), LivePath(b_.ws), program, &status);
  EXPECT_FALSE(cross.ok());
  EXPECT_EQ(status, 404);
}

TEST_P(LiveTest, LiveRouteWithWorkspaceParameter) {
  const std::string base = "/api/v1/live";
  int status = 0;
  std::string body;
  auto error_field = [&] {
    ClientResponse r;
    r.status = status;
    r.body = body;
    return ErrField(r);
  };
  // The caller's only workspace without the parameter; the named one with it.
  for (const std::string& path : {base, base + "?workspace=" + std::to_string(a_.ws)}) {
    auto ws = TestWebSocket::Connect(proc_.port(), path, Browser(a_), &status, &body);
    ASSERT_TRUE(ws.ok()) << path << ": " << status << " " << body;
    auto snapshot = NextFrame(**ws, 5s);
    EXPECT_EQ(snapshot.at("type").as_string(), "snapshot") << path;
    EXPECT_EQ(snapshot.at("workspace_id").as_int64(), a_.ws) << path;
  }
  // The same refusals as the workspace route: no credentials, a foreign Origin, a workspace of
  // someone else (as if it did not exist), a plain GET.
  auto r = TestWebSocket::Connect(proc_.port(), base, {}, &status, &body);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(status, 401) << body;
  r = TestWebSocket::Connect(proc_.port(), base, Browser(a_, "https://evil.example"), &status,
                             &body);
  EXPECT_EQ(status, 403) << body;
  r = TestWebSocket::Connect(proc_.port(), base + "?workspace=" + std::to_string(b_.ws),
                             Browser(a_), &status, &body);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(status, 404) << body;
  EXPECT_EQ(a_.Get("/api/v1/live").status, 426);
  // Not an id: 400 naming the parameter.
  r = TestWebSocket::Connect(proc_.port(), base + "?workspace=abc", Browser(a_), &status, &body);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(status, 400) << body;
  EXPECT_EQ(error_field(), "workspace") << body;

  // An API key streams its own workspace without the parameter, and no other.
  auto key = a_.Post(a_.Ws() + "/api-keys", R"({"name":"live","role":"viewer"})");
  ASSERT_EQ(key.status, 201) << key.body;
  TestWebSocket::Options program;
  program.headers = {{"Authorization", "Bearer " + std::string(Json(key).at("key").as_string())}};
  auto by_key = TestWebSocket::Connect(proc_.port(), base, program, &status, &body);
  ASSERT_TRUE(by_key.ok()) << status << " " << body;
  EXPECT_EQ(NextFrame(**by_key, 5s).at("workspace_id").as_int64(), a_.ws);
  r = TestWebSocket::Connect(proc_.port(), base + "?workspace=" + std::to_string(b_.ws), program,
                             &status, &body);
  EXPECT_EQ(status, 404) << body;

  // A member of two workspaces must name one.
  auto second = a_.Post("/api/v1/workspaces", R"({"name":"Second"})");
  ASSERT_EQ(second.status, 201) << second.body;
  const int64_t second_ws = Json(second).at("id").as_int64();
  r = TestWebSocket::Connect(proc_.port(), base, Browser(a_), &status, &body);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(status, 400) << body;
  EXPECT_EQ(error_field(), "workspace") << body;
  EXPECT_NE(body.find("2 workspaces"), std::string::npos) << body;
  auto named = TestWebSocket::Connect(
      proc_.port(), base + "?workspace=" + std::to_string(second_ws), Browser(a_), &status, &body);
  ASSERT_TRUE(named.ok()) << status << " " << body;
  EXPECT_EQ(NextFrame(**named, 5s).at("workspace_id").as_int64(), second_ws);
}

TEST_P(LiveTest, ImportProgressFrames) {
  auto ws = TestWebSocket::Connect(proc_.port(), "/api/v1/live", Browser(a_));
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  ASSERT_EQ(NextFrame(**ws, 5s).at("type").as_string(), "snapshot");
  auto next_import = [&](int64_t id) -> json::object {
    const auto deadline = Steady::now() + 10s;
    while (Steady::now() < deadline) {
      auto f = NextFrame(
          **ws, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now()));
      if (f.empty()) break;
      if (f.at("type").as_string() != "import") continue;
      EXPECT_EQ(f.at("workspace_id").as_int64(), a_.ws);
      if (f.at("import").at("id").as_int64() == id) return f.at("import").as_object();
    }
    ADD_FAILURE() << "no import frame for job " << id;
    return {};
  };

  // A job on another node: running, then progress, then completed; one frame for each state.
  int64_t job = 0;
  auto write = [&](const std::function<Status(store::Tx&)>& fn) {
    Status st = Db().Write(fn);
    ASSERT_TRUE(st.ok()) << st.ToString();
  };
  write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("test.insert_import", {a_.ws, "leads.csv", 1000,
                                                                       SystemClock().NowMillis()}));
    job = row.Int("id");
    return Status::Ok();
  });
  auto item = next_import(job);
  EXPECT_EQ(item.at("status").as_string(), "running");
  EXPECT_EQ(item.at("file_name").as_string(), "leads.csv");
  EXPECT_EQ(item.at("rows_read").as_int64(), 0);
  EXPECT_EQ(item.at("progress").as_double(), 0.0);
  write([&](store::Tx& tx) {
    return tx
        .Exec("test.import_progress",
              {a_.ws, job, "running", 40, 30, 6, 4, 400, SystemClock().NowMillis()})
        .status();
  });
  item = next_import(job);
  EXPECT_EQ(item.at("status").as_string(), "running");
  EXPECT_EQ(item.at("rows_read").as_int64(), 40);
  EXPECT_EQ(item.at("rows_imported").as_int64(), 30);
  EXPECT_EQ(item.at("rows_skipped").as_int64(), 6);
  EXPECT_EQ(item.at("rows_failed").as_int64(), 4);
  EXPECT_DOUBLE_EQ(item.at("progress").as_double(), 0.4);
  write([&](store::Tx& tx) {
    return tx
        .Exec("test.import_progress",
              {a_.ws, job, "completed", 100, 80, 12, 8, 1000, SystemClock().NowMillis()})
        .status();
  });
  item = next_import(job);
  EXPECT_EQ(item.at("status").as_string(), "completed");
  EXPECT_EQ(item.at("rows_read").as_int64(), 100);
  EXPECT_DOUBLE_EQ(item.at("progress").as_double(), 1.0);
  // Nothing more about it: the job has not changed. Another workspace never sees it.
  auto wb = TestWebSocket::Connect(proc_.port(), "/api/v1/live", Browser(b_));
  ASSERT_TRUE(wb.ok()) << wb.status().ToString();
  ASSERT_EQ(NextFrame(**wb, 5s).at("type").as_string(), "snapshot");
  auto quiet = (*wb)->Read(2500ms);
  while (quiet.ok() && quiet->find("\"heartbeat\"") != std::string::npos)
    quiet = (*wb)->Read(2500ms);
  EXPECT_FALSE(quiet.ok()) << "workspace B got a frame: " << *quiet;
  // A new listener of A gets the recently ended job after its snapshot.
  auto late = TestWebSocket::Connect(proc_.port(), "/api/v1/live", Browser(a_));
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  ASSERT_EQ(NextFrame(**late, 5s).at("type").as_string(), "snapshot");
  auto again = NextFrame(**late, 5s);
  ASSERT_EQ(again.at("type").as_string(), "import") << json::serialize(again);
  EXPECT_EQ(again.at("import").at("id").as_int64(), job);
  EXPECT_EQ(again.at("import").at("status").as_string(), "completed");

  // A real import through the API: its frames end with the counts the API reports.
  std::string csv = "email,first_name\n";
  for (int i = 0; i < 3000; ++i) csv += "lead" + std::to_string(i) + "@import.test,Lead\n";
  csv += "not-an-address,Bad\nlead1@import.test,Twice\n";
  auto up = a_.http
                ->Send("POST", a_.Ws() + "/imports?file_name=live.csv", csv,
                       {{"Content-Type", "text/csv"}, {"X-CSRF-Token", a_.csrf}})
                .value();
  ASSERT_EQ(up.status, 201) << up.body;
  const int64_t real = Json(up).at("id").as_int64();
  ASSERT_EQ(a_.Post(a_.Ws() + "/imports/" + std::to_string(real) + "/start", "{}").status, 202);
  double progress = 0;
  for (;;) {
    item = next_import(real);
    if (item.empty()) break;
    EXPECT_GE(item.at("progress").as_double(), progress);
    progress = item.at("progress").as_double();
    const std::string st(item.at("status").as_string());
    if (st == "running") continue;
    EXPECT_EQ(st, "completed") << json::serialize(item);
    break;
  }
  ASSERT_FALSE(item.empty());
  EXPECT_EQ(item.at("rows_read").as_int64(), 3002);
  EXPECT_EQ(item.at("rows_imported").as_int64(), 3000);
  EXPECT_EQ(item.at("rows_skipped").as_int64(), 1);
  EXPECT_EQ(item.at("rows_failed").as_int64(), 1);
  auto api = Json(a_.Get(a_.Ws() + "/imports/" + std::to_string(real)));
  EXPECT_EQ(api.at("counts").at("imported").as_int64(), 3000) << api;
}

INSTANTIATE_TEST_SUITE_P(Backends, LiveTest, ::testing::ValuesIn(DbBackends()), DbBackendName());

}  // namespace
}  // namespace kiln::testing
