// Helpers for tests that drive the real `kiln` binary over HTTP (tests only): reading the API's
// JSON and error shape, a signed-in browser-like session (cookies + CSRF header), an API-key
// client, and a fixture that runs kiln on SQLite or PostgreSQL with a fresh database.
// Not thread-safe: one test thread per fixture.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "kiln/store/db.h"
#include "kiln/testing/db_fixture.h"
#include "kiln/testing/http_client.h"
#include "kiln_process.h"

namespace kiln::testing {

inline boost::json::value Json(const ClientResponse& r) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(r.body, ec);
  if (ec) return boost::json::value(nullptr);
  return v;
}

// error.field of an error answer ("" when absent); a marker when the body is not the error shape.
inline std::string ErrField(const ClientResponse& r) {
  auto v = Json(r);
  if (!v.is_object() || !v.as_object().contains("error")) return "<no error shape: " + r.body + ">";
  auto& e = v.as_object().at("error").as_object();
  return e.contains("field") ? std::string(e.at("field").as_string()) : "";
}

inline std::string ErrCode(const ClientResponse& r) {
  auto v = Json(r);
  if (!v.is_object() || !v.as_object().contains("error")) return "<no error shape: " + r.body + ">";
  return std::string(v.as_object().at("error").as_object().at("code").as_string());
}

// A signed-in browser-like client: cookie jar + CSRF header.
struct Session {
  std::unique_ptr<HttpClient> http;
  std::string csrf;
  int64_t user_id = 0;
  int64_t ws = 0;  // first workspace

  HeaderList H(bool with_body = true) const {
    HeaderList h;
    if (with_body) h.push_back({"Content-Type", "application/json"});
    if (!csrf.empty()) h.push_back({"X-CSRF-Token", csrf});
    return h;
  }
  ClientResponse Get(const std::string& t) { return http->Get(t).value(); }
  ClientResponse Post(const std::string& t, const std::string& body) {
    return http->Send("POST", t, body, H()).value();
  }
  // A POST without a body (actions such as launch).
  ClientResponse Action(const std::string& t) {
    return http->Send("POST", t, "", H(false)).value();
  }
  ClientResponse Patch(const std::string& t, const std::string& body) {
    return http->Send("PATCH", t, body, H()).value();
  }
  ClientResponse Delete(const std::string& t) {
    return http->Send("DELETE", t, "", H(false)).value();
  }
  std::string Ws() const { return "/api/v1/workspaces/" + std::to_string(ws); }
};

// POSTs `body` to the workspace path (e.g. "/senders") and returns the new row's id (0, and a test
// failure naming the request and the answer, unless the answer is 201 with an id).
inline int64_t CreateId(Session& s, const std::string& path, const boost::json::object& body) {
  auto r = s.Post(s.Ws() + path, boost::json::serialize(body));
  EXPECT_EQ(r.status, 201) << path << " " << boost::json::serialize(body) << " -> " << r.body;
  auto v = Json(r);
  return v.is_object() && v.as_object().contains("id") ? v.at("id").as_int64() : 0;
}

// Runs kiln for one test on the backend named by the test parameter ("sqlite" or "postgres").
class KilnApiFixture : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    data_dir_ = MakeTempDir("kiln-api");
    if (GetParam() != "sqlite") {
      auto url = CreateTestDatabaseUrl(GetParam());
      ASSERT_TRUE(url.ok()) << url.status().ToString();
      db_url_ = *url;
    }
    web_root_ = data_dir_ + "/web";
    std::filesystem::create_directories(web_root_);
    std::ofstream(web_root_ + "/index.html") << "<!doctype html><title>Kiln</title>";
  }
  void TearDown() override {
    db_.reset();
    proc_.Stop();
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }

  // kiln's own database, opened on first use (not migrated: kiln did that) with the test's own
  // named queries from `sql` (the text of a .sql file; its name is only for error messages),
  // closed in TearDown. Every call must pass the same text.
  store::Database& Db(std::string_view sql = {}) {
    if (!db_) {
      store::OpenOptions opt;
      opt.pool_size = 1;
      opt.migrate = false;
      if (!sql.empty()) opt.extra_sql_files = {{"queries/api_test_fixture.sql", std::string(sql)}};
      auto db = store::OpenDatabase(DatabaseUrl(), opt);
      EXPECT_TRUE(db.ok()) << db.status().ToString();
      if (db.ok()) db_ = std::move(db).value();
    }
    return *db_;
  }

  std::vector<std::string> BaseArgs() const {
    std::vector<std::string> a = {"--data-dir",  data_dir_,  "--web-root",   web_root_,
                                  "--log-level", log_level_, "--public-url", "https://kiln.test"};
    if (!db_url_.empty()) {
      a.push_back("--db");
      a.push_back(db_url_);
    }
    return a;
  }

  // The database kiln uses: the SQLite file in the data folder, or the PostgreSQL URL.
  std::string DatabaseUrl() const { return db_url_.empty() ? data_dir_ + "/kiln.db" : db_url_; }

  void StartKiln(std::vector<std::string> extra = {}) {
    auto args = BaseArgs();
    args.insert(args.end(), extra.begin(), extra.end());
    Status st = proc_.Start(args);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  RunResult CreateUser(const std::string& email, const std::string& password, bool owner) {
    std::vector<std::string> args = {"user", "create", "--email", email};
    if (owner) args.push_back("--owner");
    auto base = BaseArgs();
    args.insert(args.end(), base.begin(), base.end());
    return RunKiln(args, password.empty() ? "" : password + "\n");
  }

  std::unique_ptr<HttpClient> Client() {
    auto c = std::make_unique<HttpClient>("127.0.0.1", proc_.port());
    c->EnableCookies(true);
    return c;
  }

  Session Login(const std::string& email, const std::string& password) {
    Session s;
    s.http = Client();
    auto r = s.http->Post("/api/v1/auth/login", boost::json::serialize(boost::json::object{
                                                    {"email", email}, {"password", password}}));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return s;
    EXPECT_EQ(r->status, 200) << r->body;
    auto v = Json(*r);
    if (v.is_object()) {
      s.csrf = std::string(v.at("csrf_token").as_string());
      s.user_id = v.at("user").at("id").as_int64();
      auto& ws = v.at("workspaces").as_array();
      if (!ws.empty()) s.ws = ws[0].at("id").as_int64();
    }
    return s;
  }

  // A new owner with their own workspace.
  Session NewOwner(const std::string& email) {
    auto r = CreateUser(email, "correct horse battery staple", true);
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    return Login(email, "correct horse battery staple");
  }

  static std::string SenderBody(const std::string& email) {
    return boost::json::serialize(boost::json::object{{"name", "Sales " + email},
                                                      {"email", email},
                                                      {"smtp",
                                                       {{"host", "smtp.kiln-a.test"},
                                                        {"port", 587},
                                                        {"security", "starttls"},
                                                        {"username", email},
                                                        {"password", "smtp-pass-Zq9"}}},
                                                      {"imap",
                                                       {{"host", "imap.kiln-a.test"},
                                                        {"port", 993},
                                                        {"security", "tls"},
                                                        {"username", email},
                                                        {"password", "imap-pass-Zq9"}}}});
  }

  std::string data_dir_, db_url_, web_root_;
  std::string log_level_ = "warn";
  KilnProcess proc_;
  std::unique_ptr<store::Database> db_;
};

}  // namespace kiln::testing
