// API tests: the real `kiln` binary on an ephemeral port, spoken to over HTTP, on SQLite and on
// PostgreSQL. Covers sessions (login, CSRF, refresh rotation and reuse detection, logout), roles,
// API keys, workspace isolation for every route of the OpenAPI document, strict input handling,
// secrets at rest, rate limits, security headers and graceful shutdown.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "api_test_util.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr char kOwnerPassword[] = "correct horse battery staple";

// An API-key client.
struct KeyClient {
  std::unique_ptr<HttpClient> http;
  std::string key;
  HeaderList H(bool body = true) const {
    HeaderList h{{"Authorization", "Bearer " + key}};
    if (body) h.push_back({"Content-Type", "application/json"});
    return h;
  }
  ClientResponse Send(const std::string& m, const std::string& t, const std::string& body = "") {
    return http->Send(m, t, body, H(!body.empty())).value();
  }
};

class ApiTest : public KilnApiFixture {
 protected:
  void SetUp() override {
    KilnApiFixture::SetUp();
    log_level_ = "info";  // the access log is part of what the secrets test reads
    std::filesystem::create_directories(web_root_ + "/assets");
    std::ofstream(web_root_ + "/index.html")
        << "<!doctype html><title>Kiln</title><div id=root></div>";
    std::ofstream(web_root_ + "/assets/app-abc123.js") << "console.log('kiln')";
  }

  Session Owner() {
    auto r = CreateUser("owner@kiln-a.test", kOwnerPassword, true);
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    return Login("owner@kiln-a.test", kOwnerPassword);
  }

  static std::string Ws(const Session& s) { return "/api/v1/workspaces/" + std::to_string(s.ws); }

  static std::string SenderBody(const std::string& email,
                                const std::string& password = "smtp-pass-Zq9") {
    return json::serialize(json::object{{"name", "Sales " + email},
                                        {"email", email},
                                        {"daily_quota", 40},
                                        {"smtp",
                                         {{"host", "smtp.kiln-a.test"},
                                          {"port", 587},
                                          {"security", "starttls"},
                                          {"username", email},
                                          {"password", password}}},
                                        {"imap",
                                         {{"host", "imap.kiln-a.test"},
                                          {"port", 993},
                                          {"security", "tls"},
                                          {"username", email},
                                          {"password", "imap-pass-Zq9"}}}});
  }
};

TEST_P(ApiTest, FirstStartPrintsUrlAndHowToCreateTheOwner) {
  StartKiln();
  EXPECT_TRUE(proc_.WaitForStdout("kiln user create --email")) << proc_.stdout_text();
  auto r = CreateUser("owner@kiln-a.test", "", true);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("password \\(shown once\\): (\\S+)")))
      << r.out;
  Session s = Login("owner@kiln-a.test", m[1].str());
  EXPECT_GT(s.ws, 0);
  auto dup = CreateUser("OWNER@kiln-a.test", kOwnerPassword, false);
  EXPECT_NE(dup.exit_code, 0);
  EXPECT_NE(dup.err.find("already exists"), std::string::npos) << dup.err;
  auto weak = CreateUser("weak@kiln-a.test", "short", false);
  EXPECT_NE(weak.exit_code, 0);
  EXPECT_NE(weak.err.find("password"), std::string::npos) << weak.err;
}

TEST_P(ApiTest, LoginSetsHardenedCookiesAndRejectsBadCredentials) {
  StartKiln();
  ASSERT_EQ(CreateUser("owner@kiln-a.test", kOwnerPassword, true).exit_code, 0);
  auto c = Client();
  auto bad =
      c->Post("/api/v1/auth/login", R"({"email":"owner@kiln-a.test","password":"nope nope nope"})")
          .value();
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(ErrCode(bad), "unauthenticated");
  auto unknown =
      c->Post("/api/v1/auth/login", R"({"email":"ghost@kiln-a.test","password":"nope nope nope"})")
          .value();
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(Json(unknown).at("error").at("message"),
            Json(bad).at("error").at("message"));  // no account discovery
  auto ok = c->Post("/api/v1/auth/login",
                    R"({"email":"Owner@Kiln-A.test","password":"correct horse battery staple"})")
                .value();
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto cookies = ok.Headers("Set-Cookie");
  ASSERT_EQ(cookies.size(), 3u);
  for (const auto& ck : cookies) {
    EXPECT_NE(ck.find("SameSite=Strict"), std::string::npos) << ck;
    if (ck.rfind("kiln_csrf=", 0) != 0) {
      EXPECT_NE(ck.find("HttpOnly"), std::string::npos) << ck;
    }
  }
  EXPECT_EQ(Json(ok).at("user").at("email"), "owner@kiln-a.test");
  EXPECT_EQ(Json(ok).at("workspaces").as_array().size(), 1u);
  EXPECT_EQ(c->Get("/api/v1/me").value().status, 200);
}

TEST_P(ApiTest, CsrfRequiredForCookieWrites) {
  StartKiln();
  Session s = Owner();
  auto no_csrf =
      s.http
          ->Send("PATCH", "/api/v1/me", R"({"name":"Ann"})", {{"Content-Type", "application/json"}})
          .value();
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_NE(no_csrf.body.find("CSRF"), std::string::npos);
  auto wrong = s.http
                   ->Send("PATCH", "/api/v1/me", R"({"name":"Ann"})",
                          {{"Content-Type", "application/json"}, {"X-CSRF-Token", "forged"}})
                   .value();
  EXPECT_EQ(wrong.status, 403);
  auto ok = s.Patch("/api/v1/me", R"({"name":"Ann"})");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Json(ok).at("name"), "Ann");
  // A form post (no JSON content type) is refused even with the token.
  auto form =
      s.http
          ->Send("PATCH", "/api/v1/me", "name=x",
                 {{"Content-Type", "application/x-www-form-urlencoded"}, {"X-CSRF-Token", s.csrf}})
          .value();
  EXPECT_EQ(form.status, 400);
}

TEST_P(ApiTest, RefreshRotatesAndReuseRevokesTheFamily) {
  StartKiln();
  Session s = Owner();
  std::string old_refresh = s.http->cookies().at("kiln_refresh");
  auto r1 = s.http->Send("POST", "/api/v1/auth/refresh", "", {{"X-CSRF-Token", s.csrf}}).value();
  ASSERT_EQ(r1.status, 200) << r1.body;
  std::string new_refresh = s.http->cookies().at("kiln_refresh");
  EXPECT_NE(old_refresh, new_refresh);
  EXPECT_EQ(s.Get("/api/v1/me").status, 200);
  // Refresh without the CSRF header is refused and changes nothing.
  EXPECT_EQ(s.http->Send("POST", "/api/v1/auth/refresh", "", {}).value().status, 403);
  // A thief replays the old token: the whole family dies, including the new tokens.
  auto thief = Client();
  thief->SetCookie("kiln_refresh", old_refresh);
  auto replay = thief->Send("POST", "/api/v1/auth/refresh", "", {{"X-CSRF-Token", s.csrf}}).value();
  EXPECT_EQ(replay.status, 401) << replay.body;
  EXPECT_EQ(s.Get("/api/v1/me").status, 401);
  EXPECT_EQ(
      s.http->Send("POST", "/api/v1/auth/refresh", "", {{"X-CSRF-Token", s.csrf}}).value().status,
      401);
  // The event is in the audit log (seen by a fresh session).
  Session again = Login("owner@kiln-a.test", kOwnerPassword);
  auto audit = again.Get(Ws(again) + "/audit-log");
  EXPECT_NE(audit.body.find("session.reuse_detected"), std::string::npos) << audit.body;
}

TEST_P(ApiTest, LogoutEndsTheSessionAtOnce) {
  StartKiln();
  Session s = Owner();
  std::string access = s.http->cookies().at("kiln_access");
  EXPECT_EQ(
      s.http->Send("POST", "/api/v1/auth/logout", "", {{"X-CSRF-Token", s.csrf}}).value().status,
      204);
  auto c = Client();
  c->SetCookie("kiln_access", access);  // the JWT has not expired, but its family is revoked
  EXPECT_EQ(c->Get("/api/v1/me").value().status, 401);
}

TEST_P(ApiTest, RolesAreEnforced) {
  StartKiln();
  Session owner = Owner();
  auto add =
      owner.Post(Ws(owner) + "/members", R"({"email":"viewer@kiln-b.test","role":"viewer"})");
  ASSERT_EQ(add.status, 201) << add.body;
  std::string pw(Json(add).at("initial_password").as_string());
  Session viewer = Login("viewer@kiln-b.test", pw);
  EXPECT_EQ(viewer.ws, owner.ws);
  EXPECT_EQ(viewer.Get(Ws(owner) + "/senders").status, 200);
  auto denied = viewer.Post(Ws(owner) + "/senders", SenderBody("s1@kiln-a.test"));
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(ErrCode(denied), "permission_denied");
  EXPECT_EQ(viewer.Get(Ws(owner) + "/audit-log").status, 403);
  auto promote =
      owner.Patch(Ws(owner) + "/members/" + std::to_string(viewer.user_id), R"({"role":"member"})");
  EXPECT_EQ(promote.status, 200) << promote.body;
  EXPECT_EQ(viewer.Post(Ws(owner) + "/senders", SenderBody("s1@kiln-a.test")).status, 201);
  // An admin cannot create owners; the last owner cannot be demoted.
  EXPECT_EQ(
      owner.Patch(Ws(owner) + "/members/" + std::to_string(viewer.user_id), R"({"role":"admin"})")
          .status,
      200);
  EXPECT_EQ(
      viewer.Patch(Ws(owner) + "/members/" + std::to_string(viewer.user_id), R"({"role":"owner"})")
          .status,
      403);
  auto demote =
      owner.Patch(Ws(owner) + "/members/" + std::to_string(owner.user_id), R"({"role":"admin"})");
  EXPECT_EQ(demote.status, 409) << demote.body;
  auto audit = owner.Get(Ws(owner) + "/audit-log").body;
  for (const char* action : {"member.added", "member.role_changed", "sender.created", "login"}) {
    EXPECT_NE(audit.find(std::string("\"") + action + "\""), std::string::npos) << action;
  }
}

TEST_P(ApiTest, ApiKeysAreScopedShownOnceAndRevocable) {
  StartKiln();
  Session owner = Owner();
  auto created = owner.Post(Ws(owner) + "/api-keys", R"({"name":"zapier","role":"member"})");
  ASSERT_EQ(created.status, 201) << created.body;
  std::string key(Json(created).at("key").as_string());
  int64_t key_id = Json(created).at("id").as_int64();
  auto list = owner.Get(Ws(owner) + "/api-keys");
  EXPECT_EQ(list.body.find(key), std::string::npos);  // never shown again
  KeyClient k{std::make_unique<HttpClient>("127.0.0.1", proc_.port()), key};
  EXPECT_EQ(k.Send("POST", Ws(owner) + "/senders", SenderBody("k1@kiln-a.test")).status, 201);
  EXPECT_EQ(k.Send("GET", "/api/v1/workspaces").status, 200);
  EXPECT_EQ(k.Send("POST", "/api/v1/workspaces", R"({"name":"x"})").status, 403);  // session-only
  EXPECT_EQ(k.Send("GET", Ws(owner) + "/api-keys").status, 403);                   // member < admin
  EXPECT_EQ(owner.Delete(Ws(owner) + "/api-keys/" + std::to_string(key_id)).status, 204);
  EXPECT_EQ(k.Send("GET", Ws(owner) + "/senders").status, 401);
  KeyClient bogus{std::make_unique<HttpClient>("127.0.0.1", proc_.port()), "kiln_xxxxxxxx_nope"};
  EXPECT_EQ(bogus.Send("GET", Ws(owner) + "/senders").status, 401);
  EXPECT_EQ(owner.Post(Ws(owner) + "/api-keys", R"({"name":"x","role":"superuser"})").status, 400);
}

// Every route of the OpenAPI document under a workspace, called by workspace B's user and B's API
// key with workspace A's ids, answers 404 and never A's data.
TEST_P(ApiTest, WorkspaceIsolationOnEveryRoute) {
  // Every route is asked several times by one caller: more than the default rate limit allows.
  StartKiln({"--rate-limit-per-minute", "100000"});
  Session a = Owner();
  auto sender = a.Post(Ws(a) + "/senders", SenderBody("secret-sender@kiln-a.test"));
  ASSERT_EQ(sender.status, 201);
  int64_t sender_id = Json(sender).at("id").as_int64();
  auto key = a.Post(Ws(a) + "/api-keys", R"({"name":"a-key","role":"admin"})");
  int64_t a_key_id = Json(key).at("id").as_int64();

  ASSERT_EQ(CreateUser("owner@kiln-b.test", kOwnerPassword, true).exit_code, 0);
  Session b = Login("owner@kiln-b.test", kOwnerPassword);
  ASSERT_NE(b.ws, a.ws);
  auto bkey = b.Post(Ws(b) + "/api-keys", R"({"name":"b-key","role":"owner"})");
  KeyClient bk{std::make_unique<HttpClient>("127.0.0.1", proc_.port()),
               std::string(Json(bkey).at("key").as_string())};

  auto doc = Json(b.Get("/api/v1/openapi.json"));
  int checked = 0;
  for (const auto& [path, ops] : doc.at("paths").as_object()) {
    std::string p(path);
    if (p.find("{ws}") == std::string::npos) continue;
    std::string target = std::regex_replace(p, std::regex("\\{ws\\}"), std::to_string(a.ws));
    target = std::regex_replace(target, std::regex("\\{user_id\\}"), std::to_string(a.user_id));
    target =
        std::regex_replace(target, std::regex("\\{id\\}"),
                           p.find("api-keys") != std::string::npos ? std::to_string(a_key_id)
                                                                   : std::to_string(sender_id));
    for (const auto& [method, op] : ops.as_object()) {
      std::string m(method);
      for (auto& ch : m) ch = static_cast<char>(std::toupper(ch));
      std::string body = op.as_object().contains("requestBody") ? R"({"name":"pwned"})" : "";
      auto by_user = b.http->Send(m, target, body, b.H(!body.empty())).value();
      EXPECT_EQ(by_user.status, 404) << m << " " << target << " -> " << by_user.body;
      EXPECT_EQ(by_user.body.find("secret-sender"), std::string::npos);
      auto by_key = bk.Send(m, target, body);
      EXPECT_EQ(by_key.status, 404) << m << " " << target << " (API key) -> " << by_key.body;
      ++checked;
    }
  }
  EXPECT_GE(checked, 15);
  // Inside its own workspace, B names A's objects by id: still 404 (every object query is scoped).
  for (const auto& [path, ops] : doc.at("paths").as_object()) {
    std::string p(path);
    if (p.find("{ws}") == std::string::npos || p.find("{id}") == std::string::npos) continue;
    std::string target = std::regex_replace(p, std::regex("\\{ws\\}"), std::to_string(b.ws));
    target =
        std::regex_replace(target, std::regex("\\{id\\}"),
                           p.find("api-keys") != std::string::npos ? std::to_string(a_key_id)
                                                                   : std::to_string(sender_id));
    for (const auto& [method, op] : ops.as_object()) {
      std::string m(method);
      for (auto& ch : m) ch = static_cast<char>(std::toupper(ch));
      std::string body = op.as_object().contains("requestBody") ? R"({"name":"pwned"})" : "";
      auto r = b.http->Send(m, target, body, b.H(!body.empty())).value();
      // A body the route cannot accept may be refused (400) before the object is looked up;
      // that reveals nothing. Anything else must be 404.
      bool ok = r.status == 404 || (!body.empty() && r.status == 400);
      EXPECT_TRUE(ok) << m << " " << target << " (B's workspace, A's object) -> " << r.status << " "
                      << r.body;
      EXPECT_EQ(r.body.find("secret-sender"), std::string::npos);
      ++checked;
    }
  }
  auto b_member = b.http
                      ->Send("PATCH", Ws(b) + "/members/" + std::to_string(a.user_id),
                             R"({"role":"viewer"})", b.H())
                      .value();
  EXPECT_EQ(b_member.status, 404) << b_member.body;
  // A's data is untouched.
  auto still = a.Get(Ws(a) + "/senders/" + std::to_string(sender_id));
  EXPECT_EQ(Json(still).at("name"), "Sales secret-sender@kiln-a.test");
  EXPECT_EQ(a.Get(Ws(a)).status, 200);
}

TEST_P(ApiTest, BadInputIsRefusedWithTheFieldNamed) {
  StartKiln();
  Session s = Owner();
  std::string url = Ws(s) + "/senders";
  struct Case {
    std::string body;
    int status;
    std::string field;
  } cases[] = {
      {"{not json", 400, ""},
      {"[]", 400, ""},
      {R"({"name":"x","email":"a@kiln-a.test","smtp":{},"imap":{},"bogus":1})", 400, "bogus"},
      {R"({"email":"a@kiln-a.test"})", 400, "name"},
      {R"({"name":7,"email":"a@kiln-a.test"})", 400, "name"},
      {R"({"name":"x","email":"not-an-address","smtp":{},"imap":{}})", 400, "email"},
      {R"({"name":"x","email":"a@kiln-a.test","smtp":{"host":"h.test","port":99999999999999999999,"security":"tls","username":"u","password":"p"},"imap":{}})",
       400, "smtp.port"},
      {R"({"name":"x","email":"a@kiln-a.test","smtp":{"host":"h.test","port":25,"security":"ssl3","username":"u","password":"p"},"imap":{}})",
       400, "smtp.security"},
      {R"({"name":"x","email":"a@kiln-a.test","smtp":{"host":"h.test","port":25,"security":"tls","username":"u","password":"p"},"imap":{"host":"i.test","port":993,"security":"tls","username":"u"}})",
       400, "imap.password"},
      {R"({"name":"x\r\nBcc: evil@x.test","email":"a@kiln-a.test","smtp":{},"imap":{}})", 400,
       "name"},
      {R"({"name":"x","email":"a@kiln-a.test","daily_quota":1e308,"smtp":{},"imap":{}})", 400,
       "daily_quota"},
      {"{\"name\":\"\xff\xfe\",\"email\":\"a@kiln-a.test\"}", 400, ""},
  };
  for (const auto& c : cases) {
    auto r = s.Post(url, c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_EQ(ErrCode(r), "invalid_argument") << c.body;
    if (!c.field.empty()) {
      EXPECT_EQ(ErrField(r), c.field) << c.body << " -> " << r.body;
    }
  }
  // Nothing half-written: every refused body left no sender behind.
  EXPECT_EQ(Json(s.Get(url)).at("items").as_array().size(), 0u);
  // Oversized body -> 413 in the error shape.
  auto big = s.Post(url, "{\"name\":\"" + std::string(2 << 20, 'a') + "\"}");
  EXPECT_EQ(big.status, 413);
  // SQL-looking strings are data.
  std::string sql = "Robert'); DROP TABLE senders;--";
  auto body = json::parse(SenderBody("bobby@kiln-a.test"));
  body.as_object()["name"] = sql;
  auto created = s.Post(url, json::serialize(body));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Json(s.Get(url)).at("items").at(0).at("name"), json::value(sql));
  // A duplicate names the field.
  auto dup = s.Post(url, SenderBody("BOBBY@kiln-a.test"));
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(ErrField(dup), "email");
}

TEST_P(ApiTest, SenderSecretsAreWriteOnlyAndEncryptedAtRest) {
  StartKiln();
  Session s = Owner();
  const std::string secret = "Sup3r-Secret-SMTP-Passw0rd";
  auto created = s.Post(Ws(s) + "/senders", SenderBody("vault@kiln-a.test", secret));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body.find(secret), std::string::npos);
  EXPECT_EQ(Json(created).at("smtp").at("has_password"), true);
  int64_t id = Json(created).at("id").as_int64();
  auto upd = s.Patch(Ws(s) + "/senders/" + std::to_string(id),
                     R"({"smtp":{"password":"An0ther-Secret-Value"},"daily_quota":80})");
  ASSERT_EQ(upd.status, 200) << upd.body;
  EXPECT_EQ(Json(upd).at("daily_quota"), 80);
  EXPECT_EQ(Json(upd).at("smtp").at("host"), "smtp.kiln-a.test");
  EXPECT_EQ(upd.body.find("An0ther"), std::string::npos);
  proc_.Stop();
  EXPECT_EQ(proc_.ReadLog().find(secret), std::string::npos);
  EXPECT_EQ(proc_.ReadLog().find("An0ther-Secret-Value"), std::string::npos);
  if (GetParam() == "sqlite") {
    for (const auto& f : fs::directory_iterator(data_dir_)) {
      std::ifstream in(f.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      EXPECT_EQ(ss.str().find(secret), std::string::npos) << f.path();
      EXPECT_EQ(ss.str().find("An0ther-Secret-Value"), std::string::npos) << f.path();
    }
  }
  auto key = fs::status(data_dir_ + "/secret.key");
  EXPECT_EQ(key.permissions() & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);
}

TEST_P(ApiTest, RateLimitsAndLoginThrottle) {
  StartKiln({"--rate-limit-per-minute", "5", "--login-attempts-per-window", "3"});
  Session s = Owner();
  int limited = 0;
  std::string retry;
  for (int i = 0; i < 10; ++i) {
    auto r = s.Get("/api/v1/me");
    if (r.status == 429) {
      ++limited;
      retry = r.Header("Retry-After");
      EXPECT_EQ(ErrCode(r), "rate_limited");
    }
  }
  EXPECT_GE(limited, 4);
  EXPECT_FALSE(retry.empty());
  auto c = Client();
  int throttled = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = c->Post("/api/v1/auth/login",
                     R"({"email":"owner@kiln-a.test","password":"wrong wrong wrong"})")
                 .value();
    if (r.status == 429) {
      ++throttled;
      EXPECT_FALSE(r.Header("Retry-After").empty());
    }
  }
  EXPECT_GE(throttled, 2);
  // Even the right password waits now.
  auto right =
      c->Post("/api/v1/auth/login",
              std::string(R"({"email":"owner@kiln-a.test","password":")") + kOwnerPassword + "\"}")
          .value();
  EXPECT_EQ(right.status, 429);
}

TEST_P(ApiTest, SecurityHeadersEverywhereAndStaticFilesConfined) {
  StartKiln();
  auto c = Client();
  for (const char* path :
       {"/", "/campaigns/12", "/api/v1/me", "/api/v1/nope", "/healthz", "/assets/app-abc123.js",
        "/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd"}) {
    auto r = c->Get(path).value();
    EXPECT_NE(r.Header("Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos)
        << path;
    EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff") << path;
    EXPECT_FALSE(r.Header("Referrer-Policy").empty()) << path;
    EXPECT_FALSE(r.Header("X-Request-Id").empty()) << path;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << path;
  }
  EXPECT_NE(c->Get("/campaigns/12").value().body.find("<div id=root>"),
            std::string::npos);  // SPA fallback
  EXPECT_EQ(c->Get("/api/v1/nope").value().status, 404);
  EXPECT_EQ(c->Get("/healthz").value().status, 200);
  EXPECT_EQ(c->Get("/readyz").value().status, 200);
  auto metrics = c->Get("/metrics").value();
  EXPECT_NE(metrics.body.find("route=\"/api/v1/me\""), std::string::npos)
      << metrics.body.substr(0, 2000);
}

TEST_P(ApiTest, OpenApiDocumentsEveryRouteAndDocsListThem) {
  StartKiln();
  auto c = Client();
  auto doc = Json(c->Get("/api/v1/openapi.json").value());
  ASSERT_TRUE(doc.is_object());
  std::set<std::string> documented;
  for (const auto& [path, ops] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : ops.as_object()) {
      EXPECT_FALSE(op.at("summary").as_string().empty()) << path;
      std::string m(method);
      for (auto& ch : m) ch = static_cast<char>(std::toupper(ch));
      documented.insert(m + " " + std::string(path));
      // Each documented authenticated route exists and is protected.
      if (op.as_object().contains("security") && !op.at("security").as_array().empty()) {
        std::string target =
            std::regex_replace(std::string(path), std::regex("\\{[a-z_]+\\}"), "1");
        auto r = c->Send(m, target, "", {}).value();
        EXPECT_EQ(r.status, 401) << m << " " << target;
      }
    }
  }
  // docs/api.md lists every route the server has, and no route it does not have.
  std::ifstream in(std::string(KILN_SOURCE_DIR) + "/docs/api.md");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string md = ss.str();
  std::set<std::string> in_docs;
  std::regex row("\\| `(GET|POST|PUT|PATCH|DELETE) (/[^`?]*)[^`]*` \\|");
  for (auto it = std::sregex_iterator(md.begin(), md.end(), row); it != std::sregex_iterator();
       ++it) {
    in_docs.insert((*it)[1].str() + " /api/v1" + (*it)[2].str());
  }
  for (const auto& r : documented) {
    if (r.find("openapi.json") != std::string::npos) continue;
    if (r.find(" /api/v1/") == std::string::npos) {  // operational routes, named in the text
      EXPECT_NE(md.find("`" + r + "`"), std::string::npos)
          << r << " is served but missing from docs/api.md";
      continue;
    }
    EXPECT_TRUE(in_docs.contains(r)) << r << " is served but missing from docs/api.md";
  }
  for (const auto& r : in_docs)
    EXPECT_TRUE(documented.contains(r)) << r << " is in docs/api.md but not served";
}

TEST_P(ApiTest, SigtermFinishesInFlightWorkAndKeepsCommittedData) {
  StartKiln();
  Session s = Owner();
  ASSERT_EQ(s.Post(Ws(s) + "/senders", SenderBody("durable@kiln-a.test")).status, 201);
  // Start a slow request (login hashes with argon2id), then SIGTERM while it is in flight.
  auto c = Client();
  std::thread slow([&] {
    auto r =
        c->Post("/api/v1/auth/login", std::string(R"({"email":"owner@kiln-a.test","password":")") +
                                          kOwnerPassword + "\"}");
    EXPECT_TRUE(r.ok());
    if (r.ok()) {
      EXPECT_EQ(r->status, 200);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  proc_.Signal(SIGTERM);
  slow.join();
  EXPECT_EQ(proc_.Wait(20), 0);
  StartKiln();
  Session again = Login("owner@kiln-a.test", kOwnerPassword);
  EXPECT_NE(again.Get(Ws(again) + "/senders").body.find("durable@kiln-a.test"), std::string::npos);
}

TEST_P(ApiTest, StartupFailuresAreOneClearLine) {
  StartKiln();
  // Port in use.
  auto busy = RunKiln({"serve", "--listen", "127.0.0.1:" + std::to_string(proc_.port()),
                       "--data-dir", data_dir_ + "/other"},
                      "", 20);
  EXPECT_NE(busy.exit_code, 0);
  EXPECT_NE(busy.err.find("address already in use"), std::string::npos) << busy.err;
  // Bad setting value.
  auto bad = RunKiln({"serve", "--http-threads", "many"}, "", 20);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("http_threads"), std::string::npos) << bad.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, ApiTest, ::testing::ValuesIn(DbBackends()), DbBackendName());

TEST(ApiStartupTest, UnwritableDataDirAndBrokenDatabaseStopStartup) {
  std::string dir = MakeTempDir("kiln-ro");
  // A file where the data folder should be.
  std::ofstream(dir + "/file") << "x";
  auto r = RunKiln({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir + "/file/var"}, "", 20);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("kiln: "), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // A database file that is not a database.
  fs::create_directories(dir + "/var");
  std::ofstream(dir + "/var/kiln.db") << std::string(4096, 'Z');
  auto broken = RunKiln({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir + "/var"}, "", 20);
  EXPECT_NE(broken.exit_code, 0);
  EXPECT_NE(broken.err.find("kiln: "), std::string::npos) << broken.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kiln::testing

namespace kiln::testing {
namespace {

TEST(CliTest, DkimKeygenPrintsTheRecordToPublish) {
  for (const char* type : {"rsa", "ed25519"}) {
    auto r = RunKiln(
        {"dkim", "keygen", "--domain", "kiln-a.test", "--selector", "s2026", "--type", type});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("s2026._domainkey.kiln-a.test"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("v=DKIM1"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(std::string("k=") + type), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("PRIVATE KEY-----"), std::string::npos) << r.out;
  }
  auto bad =
      RunKiln({"dkim", "keygen", "--domain", "kiln-a.test", "--selector", "s1", "--type", "dsa"});
  EXPECT_NE(bad.exit_code, 0);
}

TEST(CliTest, SettingsComeFromFlagsThenEnvironmentThenConfigFile) {
  std::string dir = MakeTempDir("kiln-cfg");
  std::ofstream(dir + "/kiln.conf")
      << "# test\nlisten = 127.0.0.1:0\ndata_dir = " << dir << "/from-file\nhttp_threads = 3\n";
  // The config file alone.
  KilnProcess p;
  ASSERT_TRUE(p.Start({"--config", dir + "/kiln.conf"}).ok());
  EXPECT_TRUE(p.WaitForStdout(dir + "/from-file/kiln.db")) << p.stdout_text();
  EXPECT_EQ(p.Stop(), 0);
  // A flag beats the file.
  ASSERT_TRUE(p.Start({"--config", dir + "/kiln.conf", "--data-dir", dir + "/from-flag"}).ok());
  EXPECT_TRUE(p.WaitForStdout(dir + "/from-flag/kiln.db")) << p.stdout_text();
  EXPECT_EQ(p.Stop(), 0);
  // An unknown setting in the file stops start-up and names it.
  std::ofstream(dir + "/bad.conf") << "listne = 127.0.0.1:0\n";
  auto r = RunKiln({"serve", "--config", dir + "/bad.conf"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("listne"), std::string::npos) << r.err;
  auto help = RunKiln({"--help"});
  EXPECT_NE(help.out.find("--rate-limit-per-minute"), std::string::npos);
  EXPECT_NE(help.out.find("KILN_RATE_LIMIT_PER_MINUTE"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kiln::testing
