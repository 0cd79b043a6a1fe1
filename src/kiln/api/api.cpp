#include "kiln/api/api.h"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "kiln/api/json_input.h"
#include "kiln/api/tracking.h"
#include "kiln/api/tracking_tokens.h"
#include "kiln/auth/crypto.h"
#include "kiln/auth/jwt.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::field;
using http::bhttp::status;
using http::bhttp::verb;

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kMember:
      return "member";
    case Role::kAdmin:
      return "admin";
    case Role::kOwner:
      return "owner";
  }
  return "viewer";
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "viewer") return Role::kViewer;
  if (name == "member") return Role::kMember;
  if (name == "admin") return Role::kAdmin;
  if (name == "owner") return Role::kOwner;
  return std::nullopt;
}

namespace {

constexpr std::string_view kJwtKeySetting = "jwt_signing_key";

bool IsStateChanging(verb m) { return m != verb::get && m != verb::head && m != verb::options; }

// Loads the instance-wide JWT signing key from the settings table (sealed with the secret box),
// creating it on first start. Kept in the database so every node of a cluster shares it.
Result<std::string> LoadOrCreateJwtKey(store::Database& db, const auth::SecretBox& box,
                                       const Clock& clock) {
  std::string key;
  Status st = db.Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto row,
                          tx.QueryOne("settings.get_instance", {std::string(kJwtKeySetting)}));
    if (row) {
      KILN_ASSIGN_OR_RETURN(auto raw, auth::Base64UrlDecode(row->Text("value")));
      KILN_ASSIGN_OR_RETURN(key, box.Open(raw, "settings:jwt_signing_key"));
      return Status::Ok();
    }
    // First start: create one. Another node starting at the same moment may win the insert;
    // then its key is the one everybody uses.
    std::string fresh = auth::RandomBytes(32);
    KILN_ASSIGN_OR_RETURN(auto sealed, box.Seal(fresh, "settings:jwt_signing_key"));
    KILN_RETURN_IF_ERROR(
        tx.Exec("settings.put_instance_if_absent",
                {std::string(kJwtKeySetting), auth::Base64UrlEncode(sealed), clock.NowMillis()})
            .status());
    KILN_ASSIGN_OR_RETURN(auto stored,
                          tx.QueryRow("settings.get_instance", {std::string(kJwtKeySetting)}));
    KILN_ASSIGN_OR_RETURN(auto raw, auth::Base64UrlDecode(stored.Text("value")));
    KILN_ASSIGN_OR_RETURN(key, box.Open(raw, "settings:jwt_signing_key"));
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext("cannot load the session signing key");
  return key;
}

}  // namespace

Api::Api(ApiDeps deps, http::Router* router) : deps_(deps), router_(router) {
  auto key = LoadOrCreateJwtKey(*deps_.db, *deps_.secrets, *deps_.clock);
  if (!key.ok()) {
    // A start-up failure: main checks init_status() before serving.
    init_status_ = key.status();
  } else {
    jwt_key_ = std::move(key).value();
  }
  if (init_status_.ok()) {
    auto tracking_key = LoadOrCreateTrackingKey(*deps_.db, *deps_.secrets, *deps_.clock);
    if (!tracking_key.ok()) {
      init_status_ = tracking_key.status();
    } else {
      tracking_key_ = std::move(tracking_key).value();
    }
  }
  rate_limiter_ = std::make_unique<auth::RateLimiter>(
      *deps_.clock, deps_.config->GetInt("rate_limit_per_minute"), std::chrono::minutes(1));
  login_throttle_ = std::make_unique<auth::LoginThrottle>(
      *deps_.clock, static_cast<int>(deps_.config->GetInt("login_attempts_per_window")),
      std::chrono::seconds(deps_.config->GetInt("login_window_s")));
}

std::string Api::CsrfTokenFor(std::string_view session_family) const {
  return auth::Base64UrlEncode(
      auth::HmacSha256(jwt_key_, std::string("csrf:") + std::string(session_family)));
}

http::Response Api::ErrorResponse(const Status& s, std::string_view request_id) {
  status code = status::internal_server_error;
  switch (s.code()) {
    case Status::Code::kOk:
      code = status::ok;
      break;
    case Status::Code::kInvalidArgument:
      code = status::bad_request;
      break;
    case Status::Code::kNotFound:
      code = status::not_found;
      break;
    case Status::Code::kAlreadyExists:
      code = status::conflict;
      break;
    case Status::Code::kUnauthenticated:
      code = status::unauthorized;
      break;
    case Status::Code::kPermissionDenied:
      code = status::forbidden;
      break;
    case Status::Code::kFailedPrecondition:
      code = status::conflict;
      break;
    case Status::Code::kConflict:
      code = status::conflict;
      break;
    case Status::Code::kResourceExhausted:
      code = status::too_many_requests;
      break;
    case Status::Code::kTooLarge:
      code = status::payload_too_large;
      break;
    case Status::Code::kUnavailable:
      code = status::service_unavailable;
      break;
    case Status::Code::kDeadlineExceeded:
      code = status::gateway_timeout;
      break;
    case Status::Code::kInternal:
      code = status::internal_server_error;
      break;
  }
  if (s.code() == Status::Code::kInternal || s.code() == Status::Code::kUnavailable) {
    spdlog::error("request {}: {}", request_id, s.ToString());
    std::string msg =
        s.code() == Status::Code::kInternal
            ? "internal error (request id " + std::string(request_id) + ")"
            : "temporarily unavailable, try again (request id " + std::string(request_id) + ")";
    return http::Response::Error(code, s.code_name(), msg);
  }
  return http::Response::Error(code, s.code_name(), s.message(), s.field());
}

Result<Caller> Api::Authenticate(http::Request& req) const {
  std::string_view authz = req.Header(field::authorization);
  int64_t now_ms = deps_.clock->NowMillis();
  if (!authz.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authz.size() <= kBearer.size() || authz.substr(0, kBearer.size()) != kBearer) {
      return Status::Unauthenticated("Authorization header must be 'Bearer <API key>'");
    }
    std::string_view key = authz.substr(kBearer.size());
    if (key.size() > 200) return Status::Unauthenticated("invalid API key");
    std::string hash = auth::Sha256Hex(key);
    Caller caller;
    int64_t last_used = 0;
    Status st = deps_.db->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto row, tx.QueryOne("api_keys.by_hash", {hash}));
      if (!row || !row->IsNull("revoked_at"))
        return Status::Unauthenticated("invalid or revoked API key");
      caller.api_key_id = row->Int("id");
      caller.key_workspace_id = row->Int("workspace_id");
      caller.key_role = ParseRole(row->Text("role")).value_or(Role::kViewer);
      last_used = row->OptInt("last_used_at").value_or(0);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    if (now_ms - last_used > 60'000) {
      // Best effort: a failed touch must not fail the request.
      Status touch = deps_.db->Write([&](store::Tx& tx) {
        return tx.Exec("api_keys.touch", {caller.api_key_id, now_ms}).status();
      });
      if (!touch.ok())
        spdlog::warn("api key {}: cannot record last use: {}", caller.api_key_id, touch.ToString());
    }
    return caller;
  }
  auto cookie = req.Cookie("kiln_access");
  if (!cookie || cookie->empty()) return Status::Unauthenticated("sign in first");
  auto claims = auth::VerifyJwt(*cookie, jwt_key_, now_ms / 1000);
  if (!claims.ok())
    return Status::Unauthenticated("session expired or invalid: " + claims.status().message());
  const json::object& c = *claims;
  auto sub = c.find("sub");
  auto sid = c.find("sid");
  if (sub == c.end() || !sub->value().is_string() || sid == c.end() || !sid->value().is_string()) {
    return Status::Unauthenticated("malformed session token");
  }
  auto user_id = ParseId(sub->value().as_string());
  if (!user_id.ok()) return Status::Unauthenticated("malformed session token");
  Caller caller;
  caller.user_id = *user_id;
  caller.session_family = std::string(sid->value().as_string());
  Status st = deps_.db->Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto row,
                          tx.QueryOne("sessions.check", {caller.user_id, caller.session_family}));
    if (!row || row->Int("is_disabled") != 0 || row->Int("active") == 0) {
      return Status::Unauthenticated("session ended; sign in again");
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return caller;
}

Result<Role> Api::RoleIn(const Caller& caller, int64_t ws) const {
  if (!caller.is_session()) {
    if (caller.key_workspace_id != ws) return Status::NotFound("no such workspace");
    return caller.key_role;
  }
  std::optional<Role> role;
  Status st = deps_.db->Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto row, tx.QueryOne("members.role_of", {ws, caller.user_id}));
    if (row) role = ParseRole(row->Text("role"));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!role) return Status::NotFound("no such workspace");
  return *role;
}

http::Response Api::Run(const Rule& rule, const ApiHandler& handler, const http::RouteDoc& doc,
                        http::Request& req) const {
  http::Response res;
  auto fail = [&](const Status& s) {
    http::Response err = ErrorResponse(s, req.request_id);
    for (const auto& f : res.headers) err.headers.insert(f.name_string(), f.value());
    return err;
  };
  Ctx ctx{req, res, {}, 0, Role::kViewer, {}, {}};
  if (rule.access != Access::kPublic) {
    auto caller = Authenticate(req);
    if (!caller.ok()) return fail(caller.status());
    ctx.caller = std::move(caller).value();
    if (rule.access == Access::kSession && !ctx.caller.is_session()) {
      return fail(
          Status::PermissionDenied("this endpoint needs a signed-in user; API keys cannot use it"));
    }
    if (ctx.caller.is_session() && IsStateChanging(req.method)) {
      std::string_view token = req.Header("X-CSRF-Token");
      if (token.empty() ||
          !auth::ConstantTimeEqual(token, CsrfTokenFor(ctx.caller.session_family))) {
        return fail(Status::PermissionDenied("missing or invalid X-CSRF-Token header"));
      }
    }
    std::string rl_key = ctx.caller.is_session() ? "u:" + std::to_string(ctx.caller.user_id)
                                                 : "k:" + std::to_string(ctx.caller.api_key_id);
    auto d = rate_limiter_->Check(rl_key);
    res.SetHeader("X-RateLimit-Limit", std::to_string(d.limit));
    res.SetHeader("X-RateLimit-Remaining", std::to_string(d.remaining));
    if (!d.allowed) {
      auto secs = std::max<int64_t>(1, (d.retry_after.count() + 999) / 1000);
      res.SetHeader(field::retry_after, std::to_string(secs));
      return fail(
          Status::ResourceExhausted("too many requests; retry in " + std::to_string(secs) + " s"));
    }
  }
  if (rule.access == Access::kWorkspace) {
    auto ws = ParseId(req.path_params["ws"]);
    if (!ws.ok()) return fail(Status::NotFound("no such workspace"));
    ctx.ws = *ws;
    auto role = RoleIn(ctx.caller, ctx.ws);
    if (!role.ok()) return fail(role.status());
    ctx.role = *role;
    if (ctx.role < rule.min_role) {
      return fail(Status::PermissionDenied("this needs the " +
                                           std::string(RoleName(rule.min_role)) +
                                           " role; you are " + std::string(RoleName(ctx.role))));
    }
  }
  bool has_body_method =
      req.method == verb::post || req.method == verb::put || req.method == verb::patch;
  if (!doc.request_schema.empty() && has_body_method) {
    std::string_view ct = req.Header(field::content_type);
    if (ct.substr(0, 16) != "application/json") {
      return fail(Status::InvalidArgument("Content-Type must be application/json"));
    }
    auto body = ParseJsonObject(req.body);
    if (!body.ok()) return fail(body.status());
    ctx.body = std::move(body).value();
  } else if (!req.body.empty() && !rule.raw_body) {
    return fail(Status::InvalidArgument("this endpoint takes no request body"));
  }
  auto result = handler(ctx);
  if (!result.ok()) {
    http::Response err = fail(result.status());
    if (!ctx.problems.empty()) {
      boost::system::error_code ec;
      json::value v = json::parse(err.body, ec);
      if (!ec && v.is_object() && v.as_object().contains("error")) {
        v.as_object()["error"].as_object()["problems"] = std::move(ctx.problems);
        err.body = json::serialize(v);
      }
    }
    return err;
  }
  auto code = static_cast<status>(doc.success_status);
  if (code == status::no_content) {
    res.status = code;
    res.body.clear();
    return res;
  }
  res.status = code;
  if (result->is_null() && !res.body.empty()) return res;
  res.body = json::serialize(*result);
  res.SetHeader(field::content_type, "application/json");
  return res;
}

void Api::Add(verb method, std::string pattern, Rule rule, ApiHandler handler, http::RouteDoc doc) {
  doc.authenticated = rule.access != Access::kPublic;
  http::RouteDoc doc_copy = doc;
  router_->Add(
      method, std::move(pattern),
      [this, rule, handler = std::move(handler), doc = std::move(doc_copy)](http::Request& req) {
        return Run(rule, handler, doc, req);
      },
      std::move(doc));
}

void Api::RegisterAll() {
  RegisterSessionRoutes(*this);
  RegisterWorkspaceRoutes(*this);
  RegisterSenderRoutes(*this);
  RegisterSenderTestEmailRoutes(*this);
  RegisterSenderImportRoutes(*this);
  RegisterBotRoutes(*this);
  RegisterContactRoutes(*this);
  RegisterLeadEventRoutes(*this);
  RegisterCampaignRoutes(*this);
  RegisterSuppressionRoutes(*this);
  RegisterImportRoutes(*this);
  RegisterInboxRoutes(*this);
  RegisterDkimRoutes(*this);
  RegisterIpPoolRoutes(*this);
  RegisterLiveRoutes(*this);
  RegisterWebhookRoutes(*this);
  RegisterAnalyticsRoutes(*this);
  RegisterTrackingRoutes(*this);
  RegisterOpenApiRoute(*this, *router_);
}

}  // namespace kiln::api
