// The JSON API (/api/v1): its request pipeline and the registration of every route.
//
// A route is a function from a Ctx (the request, the authenticated caller, the workspace in the
// path, the strictly-parsed body) to a Result<json>. The pipeline around it does, in order:
// authentication (session cookie JWT or Bearer API key) -> CSRF check for cookie-authenticated
// state-changing requests -> per-caller rate limit -> workspace membership (non-members get 404,
// never data) -> role check (403) -> body parsing (400 naming the field) -> the handler -> Status
// to HTTP mapping in the one error shape.
//
// Exposes to the outside world: every route registered here (docs/api.md, /api/v1/openapi.json).
// Thread-safety: routes are added at start-up; after that Api is used read-only from many threads
// (the rate limiter and login throttle it owns are thread-safe).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kiln/auth/rate_limit.h"
#include "kiln/auth/secret_box.h"
#include "kiln/base/clock.h"
#include "kiln/base/config.h"
#include "kiln/base/status.h"
#include "kiln/http/router.h"
#include "kiln/store/db.h"

namespace kiln::leads {
class ImportJobs;
}

namespace kiln::api {

enum class Role { kViewer = 1, kMember = 2, kAdmin = 3, kOwner = 4 };
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

// Who is calling: a signed-in user (cookie session) or an API key.
struct Caller {
  int64_t user_id = 0;           // 0 for API keys
  int64_t api_key_id = 0;        // 0 for sessions
  int64_t key_workspace_id = 0;  // the API key's workspace
  Role key_role = Role::kViewer;
  std::string session_family;  // refresh-token family of a cookie session
  bool is_session() const { return user_id != 0; }
};

struct Ctx {
  http::Request& req;
  http::Response& res;  // the handler may add headers and cookies
  Caller caller;
  int64_t ws = 0;             // workspace id from the path (kWorkspace routes)
  Role role = Role::kViewer;  // caller's role in ws
  boost::json::object body;   // parsed body (routes documented with a request schema)
  // Set by a handler that fails with several problems at once (e.g. a campaign launch): each
  // {"field","message"}; answered as error.problems next to code and message.
  boost::json::array problems;
};

enum class Access {
  kPublic,         // no authentication
  kAuthenticated,  // a session or an API key
  kSession,        // a signed-in user only (not API keys): account and workspace creation
  kWorkspace,      // a member of {ws} (or an API key of {ws}) with at least min_role
};
struct Rule {
  Access access = Access::kWorkspace;
  Role min_role = Role::kViewer;
  // The handler reads ctx.req.body itself (a CSV upload): no JSON parsing, any Content-Type.
  bool raw_body = false;
};

// A handler that answers something other than JSON (a CSV download) fills ctx.res (body and
// Content-Type) and returns a null value; the success status still comes from the route's doc.
using ApiHandler = std::function<Result<boost::json::value>(Ctx&)>;

struct ApiDeps {
  store::Database* db;
  const Clock* clock;
  const Config* config;
  const auth::SecretBox* secrets;
  leads::ImportJobs* imports = nullptr;  // lead CSV imports (imports.cpp); null: routes answer 503
};

class Api {
 public:
  Api(ApiDeps deps, http::Router* router);

  // OK when construction succeeded (the session signing key could be loaded or created).
  const Status& init_status() const { return init_status_; }

  // Registers every route of the API on the router (and /api/v1/openapi.json).
  void RegisterAll();

  // Adds one route behind the pipeline. doc.success_status is the status of a success answer; a
  // handler returning a null json value with 204 answers no body.
  void Add(http::bhttp::verb method, std::string pattern, Rule rule, ApiHandler handler,
           http::RouteDoc doc);

  // Maps a Status to the API's error response (status code + error shape). Internal errors are
  // logged with the request id and answered without detail.
  static http::Response ErrorResponse(const Status& status, std::string_view request_id);

  const ApiDeps& deps() const { return deps_; }
  store::Database& db() const { return *deps_.db; }
  const Clock& clock() const { return *deps_.clock; }
  const Config& config() const { return *deps_.config; }
  const auth::SecretBox& secrets() const { return *deps_.secrets; }
  const std::string& jwt_key() const { return jwt_key_; }
  // Key of the signed tracking tokens (tracking_tokens.h).
  const std::string& tracking_key() const { return tracking_key_; }
  // The router, for routes outside the JSON pipeline (tracking pages, pixel, redirects).
  http::Router& router() const { return *router_; }
  auth::LoginThrottle& login_throttle() { return *login_throttle_; }

  // The request body limit for `target`: routes that take uploads (suppression CSV import, up to
  // 10 MB) get their own when larger than `default_limit`; every other target gets default_limit.
  static size_t BodyLimitFor(std::string_view target, size_t default_limit);
  // Targets whose body the server streams to a file (lead CSV uploads: http::ServerOptions::
  // stream_body_for), and their limit (2 GiB).
  static bool StreamsBody(std::string_view target);
  static uint64_t UploadLimit();

  // CSRF token bound to a session family (HMAC of the family id).
  std::string CsrfTokenFor(std::string_view session_family) const;

  // The pipeline's checks, for routes outside the JSON pipeline (the live WebSocket): who is
  // calling (Unauthenticated when nobody valid), and the caller's role in workspace `ws` (NotFound
  // "no such workspace" for a non-member or another workspace's API key, as on every route).
  Result<Caller> AuthenticateCaller(http::Request& req) const { return Authenticate(req); }
  Result<Role> RoleIn(const Caller& caller, int64_t ws) const;

 private:
  Result<Caller> Authenticate(http::Request& req) const;
  http::Response Run(const Rule& rule, const ApiHandler& handler, const http::RouteDoc& doc,
                     http::Request& req) const;

  ApiDeps deps_;
  http::Router* router_;
  Status init_status_;
  std::string jwt_key_;
  std::string tracking_key_;
  std::unique_ptr<auth::RateLimiter> rate_limiter_;
  std::unique_ptr<auth::LoginThrottle> login_throttle_;
};

// Route groups (each in its own file).
void RegisterSessionRoutes(Api& api);      // session.cpp: /auth/*, /me
void RegisterWorkspaceRoutes(Api& api);    // workspaces.cpp: workspaces, members, api keys, audit
void RegisterSenderRoutes(Api& api);       // senders.cpp
void RegisterBotRoutes(Api& api);          // bots.cpp: warm-up inboxes, provisioning, reputation
void RegisterContactRoutes(Api& api);      // contacts.cpp: leads and lists
void RegisterLeadEventRoutes(Api& api);    // lead_events.cpp: a lead's activity timeline
void RegisterCampaignRoutes(Api& api);     // campaigns.cpp
void RegisterSuppressionRoutes(Api& api);  // suppression.cpp
void RegisterImportRoutes(Api& api);       // imports.cpp: lead CSV imports, lead export
void RegisterInboxRoutes(Api& api);        // inbox.cpp: the unified inbox, replies to leads
void RegisterDkimRoutes(Api& api);         // dkim.cpp: DKIM keys per sending domain
void RegisterIpPoolRoutes(Api& api);       // ip_pools.cpp: a campaign's IP pool
void RegisterLiveRoutes(Api& api);         // live.cpp: the live WebSocket of a workspace
void RegisterWebhookRoutes(Api& api);      // webhooks.cpp: outgoing webhooks, provider events
void RegisterAnalyticsRoutes(Api& api);    // analytics.cpp: campaign stats, overview, placement
void RegisterOpenApiRoute(Api& api, http::Router& router);  // openapi.cpp
void RegisterSenderTestEmailRoutes(Api& api);  // sender_test_email.cpp: a sender's test email
void RegisterSenderImportRoutes(Api& api);     // senders_import.cpp: senders from a CSV file

// Generates the OpenAPI 3.1 document of every route on the router.
std::string OpenApiDocument(const http::Router& router);

}  // namespace kiln::api
