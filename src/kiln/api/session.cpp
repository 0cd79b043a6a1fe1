// Sessions: login, refresh-token rotation with reuse detection, logout, and the signed-in user.
//
// A session is a *family* of refresh tokens. Login starts a family; each refresh marks the
// presented token rotated and issues the next one in the same family; presenting a token that was
// already rotated (a stolen copy being replayed, or the victim after the thief) revokes the whole
// family. Access tokens are short-lived JWTs naming the family (`sid`); every authenticated request
// checks the family is still live, so logout takes effect at once.
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/json_input.h"
#include "kiln/auth/crypto.h"
#include "kiln/auth/jwt.h"
#include "kiln/auth/password.h"
#include "kiln/base/time_format.h"
#include "kiln/domain/email_address.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

constexpr char kUserSchema[] =
    R"({"type":"object","properties":{"id":{"type":"integer"},"email":{"type":"string"},"name":{"type":"string"},"created_at":{"type":"string","format":"date-time"}}})";
constexpr char kSessionSchema[] =
    R"({"type":"object","properties":{"user":{"$ref":"#/components/schemas/User"},"workspaces":{"type":"array","items":{"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},"role":{"type":"string"}}}},"csrf_token":{"type":"string"},"access_expires_at":{"type":"string","format":"date-time"}}})";

json::object UserJson(const store::Row& u) {
  return {{"id", u.Int("id")},
          {"email", u.Text("email")},
          {"name", u.Text("name")},
          {"created_at", TimeOrNull(u, "created_at")}};
}

Result<json::array> WorkspacesOf(store::Tx& tx, int64_t user_id) {
  KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("workspaces.list_for_user", {user_id}));
  json::array out;
  for (const auto& r : rows) {
    out.push_back(json::object{{"id", r.Int("id")},
                               {"name", r.Text("name")},
                               {"role", r.Text("role")},
                               {"created_at", TimeOrNull(r, "created_at")}});
  }
  return out;
}

struct Issued {
  std::string refresh_token;
  std::string access_token;
  int64_t access_expires_ms;
};

// Inserts a new refresh token into `family` and signs an access token for it.
Result<Issued> IssueTokens(const Api& api, store::Tx& tx, int64_t user_id,
                           const std::string& family, const http::Request& req, int64_t now_ms) {
  Issued out;
  out.refresh_token = auth::RandomToken(32);
  int64_t refresh_ttl_ms = api.config().GetInt("refresh_token_ttl_s") * 1000;
  std::string ua(req.Header(http::bhttp::field::user_agent).substr(0, 300));
  KILN_RETURN_IF_ERROR(
      tx.Exec("refresh.insert", {user_id, family, auth::Sha256Hex(out.refresh_token), now_ms,
                                 now_ms + refresh_ttl_ms, req.remote_ip, ua})
          .status());
  int64_t access_ttl_s = api.config().GetInt("access_token_ttl_s");
  out.access_expires_ms = now_ms + access_ttl_s * 1000;
  json::object claims{{"sub", std::to_string(user_id)},
                      {"sid", family},
                      {"iat", now_ms / 1000},
                      {"exp", now_ms / 1000 + access_ttl_s}};
  out.access_token = auth::SignJwt(claims, api.jwt_key());
  return out;
}

void SetSessionCookies(const Api& api, http::Response& res, const Issued& t,
                       const std::string& family) {
  bool secure = api.config().GetBool("cookie_secure");
  int64_t refresh_ttl = api.config().GetInt("refresh_token_ttl_s");
  res.AddCookie(MakeCookie("kiln_access", t.access_token, "/",
                           api.config().GetInt("access_token_ttl_s"), true, secure));
  res.AddCookie(
      MakeCookie("kiln_refresh", t.refresh_token, "/api/v1/auth", refresh_ttl, true, secure));
  res.AddCookie(MakeCookie("kiln_csrf", api.CsrfTokenFor(family), "/", refresh_ttl, false, secure));
}

void ClearSessionCookies(const Api& api, http::Response& res) {
  bool secure = api.config().GetBool("cookie_secure");
  res.AddCookie(MakeCookie("kiln_access", "", "/", 0, true, secure));
  res.AddCookie(MakeCookie("kiln_refresh", "", "/api/v1/auth", 0, true, secure));
  res.AddCookie(MakeCookie("kiln_csrf", "", "/", 0, false, secure));
}

Result<json::object> SessionBody(const Api& api, store::Tx& tx, const store::Row& user,
                                 const Issued& t, const std::string& family) {
  KILN_ASSIGN_OR_RETURN(auto workspaces, WorkspacesOf(tx, user.Int("id")));
  return json::object{{"user", UserJson(user)},
                      {"workspaces", std::move(workspaces)},
                      {"csrf_token", api.CsrfTokenFor(family)},
                      {"access_expires_at", FormatIso8601(t.access_expires_ms)}};
}

void SetRetryAfter(http::Response& res, Millis wait) {
  int64_t secs = std::max<int64_t>(1, (wait.count() + 999) / 1000);
  res.SetHeader(http::bhttp::field::retry_after, std::to_string(secs));
}

Result<json::value> Login(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  std::string email, password;
  KILN_RETURN_IF_ERROR(in.Str("email", &email, {.min_len = 1, .max_len = 254}));
  KILN_RETURN_IF_ERROR(
      in.Str("password", &password, {.min_len = 1, .max_len = 1024, .trim = false}));
  KILN_RETURN_IF_ERROR(in.Finish());
  std::string account = domain::EmailKey(email);
  const std::string& ip = ctx.req.remote_ip;
  Millis wait = api.login_throttle().RetryAfter(ip, account);
  if (wait.count() > 0) {
    SetRetryAfter(ctx.res, wait);
    return Status::ResourceExhausted("too many failed sign-in attempts; retry in " +
                                     std::to_string((wait.count() + 999) / 1000) + " s");
  }
  int64_t now = api.clock().NowMillis();
  std::optional<store::Row> user;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(user, tx.QueryOne("users.by_email", {account}));
    return Status::Ok();
  }));
  bool ok = false;
  if (user) {
    ok = auth::VerifyPassword(user->Text("password_hash"), password);
  } else {
    auth::VerifyPasswordDummy();  // same cost as a real check: no account discovery by timing
  }
  if (!ok || (user && user->Int("is_disabled") != 0)) {
    api.login_throttle().RecordFailure(ip, account);
    int64_t uid = user ? user->Int("id") : 0;
    Status audit = api.db().Write([&](store::Tx& tx) {
      return WriteAuditRaw(tx, 0, uid, 0, ip, "login.failed", "user",
                           uid ? std::to_string(uid) : "",
                           json::object{{"email", account.substr(0, 254)},
                                        {"reason", !ok ? "bad_credentials" : "disabled"}},
                           now);
    });
    if (!audit.ok()) spdlog::warn("cannot record failed login: {}", audit.ToString());
    if (ok) return Status::Unauthenticated("this account is disabled");
    return Status::Unauthenticated("email or password is wrong").WithField("password");
  }
  api.login_throttle().RecordSuccess(ip, account);
  int64_t uid = user->Int("id");
  std::string family = auth::RandomToken(16);
  std::optional<std::string> rehash;
  if (auth::PasswordNeedsRehash(user->Text("password_hash"))) {
    auto h = auth::HashPassword(password);
    if (h.ok()) rehash = std::move(h).value();
  }
  json::object body;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    if (rehash) KILN_RETURN_IF_ERROR(tx.Exec("users.set_password", {uid, *rehash, now}).status());
    KILN_RETURN_IF_ERROR(tx.Exec("users.set_last_login", {uid, now}).status());
    KILN_ASSIGN_OR_RETURN(auto issued, IssueTokens(api, tx, uid, family, ctx.req, now));
    KILN_RETURN_IF_ERROR(
        WriteAuditRaw(tx, 0, uid, 0, ip, "login", "user", std::to_string(uid), {}, now));
    KILN_ASSIGN_OR_RETURN(body, SessionBody(api, tx, *user, issued, family));
    SetSessionCookies(api, ctx.res, issued, family);
    return Status::Ok();
  }));
  return body;
}

Result<json::value> Refresh(Api& api, Ctx& ctx) {
  auto token = ctx.req.Cookie("kiln_refresh");
  if (!token || token->empty() || token->size() > 200) {
    return Status::Unauthenticated("no session to refresh; sign in");
  }
  int64_t now = api.clock().NowMillis();
  std::string hash = auth::Sha256Hex(*token);
  json::object body;
  Status reuse_detected;
  Status st = api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto row, tx.QueryOne("refresh.by_hash", {hash}));
    if (!row) return Status::Unauthenticated("unknown session; sign in");
    std::string family = row->Text("family_id");
    std::string_view csrf = ctx.req.Header("X-CSRF-Token");
    if (csrf.empty() || !auth::ConstantTimeEqual(csrf, api.CsrfTokenFor(family))) {
      return Status::PermissionDenied("missing or invalid X-CSRF-Token header");
    }
    int64_t uid = row->Int("user_id");
    if (!row->IsNull("revoked_at")) return Status::Unauthenticated("session ended; sign in again");
    if (row->Int("expires_at") <= now)
      return Status::Unauthenticated("session expired; sign in again");
    if (!row->IsNull("rotated_at")) {
      // Reuse of a rotated token: someone holds a copy. End the whole family, keep the record.
      KILN_RETURN_IF_ERROR(tx.Exec("refresh.revoke_family", {family, now, "reuse"}).status());
      KILN_RETURN_IF_ERROR(WriteAuditRaw(tx, 0, uid, 0, ctx.req.remote_ip, "session.reuse_detected",
                                         "user", std::to_string(uid), {}, now));
      reuse_detected = Status::Unauthenticated(
          "this session was ended because an old token was reused; sign in again");
      return Status::Ok();  // commit the revocation
    }
    KILN_ASSIGN_OR_RETURN(auto changed, tx.Exec("refresh.mark_rotated", {row->Int("id"), now}));
    if (changed != 1) return Status::Unauthenticated("session changed concurrently; sign in again");
    KILN_ASSIGN_OR_RETURN(auto user, tx.QueryOne("users.by_id", {uid}));
    if (!user || user->Int("is_disabled") != 0)
      return Status::Unauthenticated("account unavailable");
    KILN_ASSIGN_OR_RETURN(auto issued, IssueTokens(api, tx, uid, family, ctx.req, now));
    KILN_ASSIGN_OR_RETURN(body, SessionBody(api, tx, *user, issued, family));
    SetSessionCookies(api, ctx.res, issued, family);
    return Status::Ok();
  });
  if (!st.ok()) {
    if (st.code() == Status::Code::kUnauthenticated) ClearSessionCookies(api, ctx.res);
    return st;
  }
  if (!reuse_detected.ok()) {
    ClearSessionCookies(api, ctx.res);
    return reuse_detected;
  }
  return body;
}

Result<json::value> Logout(Api& api, Ctx& ctx) {
  auto token = ctx.req.Cookie("kiln_refresh");
  int64_t now = api.clock().NowMillis();
  if (token && !token->empty() && token->size() <= 200) {
    KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto row, tx.QueryOne("refresh.by_hash", {auth::Sha256Hex(*token)}));
      if (!row) return Status::Ok();
      std::string family = row->Text("family_id");
      std::string_view csrf = ctx.req.Header("X-CSRF-Token");
      if (csrf.empty() || !auth::ConstantTimeEqual(csrf, api.CsrfTokenFor(family))) {
        return Status::PermissionDenied("missing or invalid X-CSRF-Token header");
      }
      KILN_RETURN_IF_ERROR(tx.Exec("refresh.revoke_family", {family, now, "logout"}).status());
      int64_t uid = row->Int("user_id");
      return WriteAuditRaw(tx, 0, uid, 0, ctx.req.remote_ip, "logout", "user", std::to_string(uid),
                           {}, now);
    }));
  }
  ClearSessionCookies(api, ctx.res);
  return json::value(nullptr);
}

Result<json::value> Me(Api& api, Ctx& ctx) {
  json::object body;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto user,
                          tx.QueryRow("users.by_id", {ctx.caller.user_id}, "no such user"));
    KILN_ASSIGN_OR_RETURN(auto ws, WorkspacesOf(tx, ctx.caller.user_id));
    body = json::object{{"user", UserJson(user)}, {"workspaces", std::move(ws)}};
    return Status::Ok();
  }));
  return body;
}

Result<json::value> UpdateMe(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  std::string name;
  KILN_RETURN_IF_ERROR(in.Str("name", &name, {.min_len = 1, .max_len = 200}));
  KILN_RETURN_IF_ERROR(in.Finish());
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(tx.Exec("users.set_name", {ctx.caller.user_id, name, now}).status());
    KILN_ASSIGN_OR_RETURN(auto user,
                          tx.QueryRow("users.by_id", {ctx.caller.user_id}, "no such user"));
    out = UserJson(user);
    return Status::Ok();
  }));
  return out;
}

Result<json::value> ChangePassword(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  std::string current, next;
  KILN_RETURN_IF_ERROR(
      in.Str("current_password", &current, {.min_len = 1, .max_len = 1024, .trim = false}));
  KILN_RETURN_IF_ERROR(
      in.Str("new_password", &next, {.min_len = 1, .max_len = 1024, .trim = false}));
  KILN_RETURN_IF_ERROR(in.Finish());
  KILN_RETURN_IF_ERROR(auth::CheckPasswordPolicy(next).WithField("new_password"));
  int64_t now = api.clock().NowMillis();
  std::string stored;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto user,
                          tx.QueryRow("users.by_id", {ctx.caller.user_id}, "no such user"));
    stored = user.Text("password_hash");
    return Status::Ok();
  }));
  if (!auth::VerifyPassword(stored, current)) {
    return Status::InvalidArgument("current password is wrong", "current_password");
  }
  KILN_ASSIGN_OR_RETURN(auto hash, auth::HashPassword(next));
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(tx.Exec("users.set_password", {ctx.caller.user_id, hash, now}).status());
    // Every other session of this user ends; this one stays.
    KILN_RETURN_IF_ERROR(
        tx.Exec("refresh.revoke_user_except",
                {ctx.caller.user_id, ctx.caller.session_family, now, "password_changed"})
            .status());
    return WriteAudit(tx, ctx, 0, "user.password_changed", "user",
                      std::to_string(ctx.caller.user_id), {}, now);
  }));
  return json::value(nullptr);
}

}  // namespace

void RegisterSessionRoutes(Api& api) {
  Api* a = &api;
  std::string session_schema = kSessionSchema;
  api.Add(
      verb::post, "/api/v1/auth/login", {Access::kPublic}, [a](Ctx& c) { return Login(*a, c); },
      {.summary = "Sign in with email and password; sets the session cookies",
       .tag = "auth",
       .request_schema =
           R"({"type":"object","required":["email","password"],"additionalProperties":false,"properties":{"email":{"type":"string","maxLength":254},"password":{"type":"string","maxLength":1024}}})",
       .response_schema = session_schema});
  api.Add(verb::post, "/api/v1/auth/refresh", {Access::kPublic},
          [a](Ctx& c) { return Refresh(*a, c); },
          {.summary =
               "Rotate the refresh token (cookie) and get a new access token; needs X-CSRF-Token",
           .tag = "auth",
           .response_schema = session_schema});
  api.Add(verb::post, "/api/v1/auth/logout", {Access::kPublic},
          [a](Ctx& c) { return Logout(*a, c); },
          {.summary = "End this session (every token of its family); needs X-CSRF-Token",
           .tag = "auth",
           .success_status = 204});
  api.Add(
      verb::get, "/api/v1/me", {Access::kSession}, [a](Ctx& c) { return Me(*a, c); },
      {.summary = "The signed-in user and their workspaces",
       .tag = "account",
       .response_schema =
           R"({"type":"object","properties":{"user":{"$ref":"#/components/schemas/User"},"workspaces":{"type":"array"}}})"});
  api.Add(
      verb::patch, "/api/v1/me", {Access::kSession}, [a](Ctx& c) { return UpdateMe(*a, c); },
      {.summary = "Change the signed-in user's display name",
       .tag = "account",
       .request_schema =
           R"({"type":"object","required":["name"],"additionalProperties":false,"properties":{"name":{"type":"string","minLength":1,"maxLength":200}}})",
       .response_schema = kUserSchema});
  api.Add(
      verb::post, "/api/v1/me/password", {Access::kSession},
      [a](Ctx& c) { return ChangePassword(*a, c); },
      {.summary = "Change the password; every other session of the user ends",
       .tag = "account",
       .request_schema =
           R"({"type":"object","required":["current_password","new_password"],"additionalProperties":false,"properties":{"current_password":{"type":"string"},"new_password":{"type":"string","minLength":10,"maxLength":1024}}})",
       .success_status = 204});
}

}  // namespace kiln::api
