// Workspaces, members and roles, API keys, and the audit log.
#include <boost/json/parse.hpp>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/json_input.h"
#include "kiln/auth/crypto.h"
#include "kiln/auth/password.h"
#include "kiln/domain/email_address.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

json::object WorkspaceJson(const store::Row& w, Role role) {
  return {{"id", w.Int("id")},
          {"name", w.Text("name")},
          {"role", RoleName(role)},
          {"created_at", TimeOrNull(w, "created_at")}};
}

json::object MemberJson(const store::Row& m) {
  return {{"user_id", m.Int("user_id")},
          {"email", m.Text("email")},
          {"name", m.Text("name")},
          {"role", m.Text("role")},
          {"created_at", TimeOrNull(m, "created_at")}};
}

json::object ApiKeyJson(const store::Row& k) {
  json::object o{{"id", k.Int("id")},
                 {"name", k.Text("name")},
                 {"prefix", k.Text("prefix")},
                 {"role", k.Text("role")},
                 {"created_at", TimeOrNull(k, "created_at")},
                 {"last_used_at", TimeOrNull(k, "last_used_at")}};
  auto by = k.OptInt("created_by_user_id");
  o["created_by_user_id"] = by ? json::value(*by) : json::value(nullptr);
  return o;
}

Status ReadRole(JsonFields& in, Role* out) {
  std::string role;
  KILN_RETURN_IF_ERROR(in.Str("role", &role, {.min_len = 1, .max_len = 20}));
  auto r = ParseRole(role);
  if (!r)
    return Status::InvalidArgument("must be one of owner, admin, member, viewer",
                                   in.FieldName("role"));
  *out = *r;
  return Status::Ok();
}

Result<json::value> ListWorkspaces(Api& api, Ctx& ctx) {
  json::array items;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    if (!ctx.caller.is_session()) {
      KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("workspaces.by_id", {ctx.caller.key_workspace_id},
                                                "no such workspace"));
      items.push_back(WorkspaceJson(w, ctx.caller.key_role));
      return Status::Ok();
    }
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("workspaces.list_for_user", {ctx.caller.user_id}));
    for (const auto& r : rows)
      items.push_back(WorkspaceJson(r, ParseRole(r.Text("role")).value_or(Role::kViewer)));
    return Status::Ok();
  }));
  return json::object{{"items", std::move(items)}};
}

Result<json::value> CreateWorkspace(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  std::string name;
  KILN_RETURN_IF_ERROR(in.Str("name", &name, {.min_len = 1, .max_len = 200}));
  KILN_RETURN_IF_ERROR(in.Finish());
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("workspaces.insert", {name, now}));
    int64_t id = w.Int("id");
    KILN_RETURN_IF_ERROR(
        tx.Exec("members.insert", {id, ctx.caller.user_id, "owner", now}).status());
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, id, "workspace.created", "workspace",
                                    std::to_string(id), {{"name", name}}, now));
    KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("workspaces.by_id", {id}));
    out = WorkspaceJson(row, Role::kOwner);
    return Status::Ok();
  }));
  return out;
}

Result<json::value> GetWorkspace(Api& api, Ctx& ctx) {
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("workspaces.by_id", {ctx.ws}, "no such workspace"));
    out = WorkspaceJson(w, ctx.role);
    return Status::Ok();
  }));
  return out;
}

Result<json::value> RenameWorkspace(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  std::string name;
  KILN_RETURN_IF_ERROR(in.Str("name", &name, {.min_len = 1, .max_len = 200}));
  KILN_RETURN_IF_ERROR(in.Finish());
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(tx.Exec("workspaces.rename", {ctx.ws, name, now}).status());
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "workspace.renamed", "workspace",
                                    std::to_string(ctx.ws), {{"name", name}}, now));
    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("workspaces.by_id", {ctx.ws}, "no such workspace"));
    out = WorkspaceJson(w, ctx.role);
    return Status::Ok();
  }));
  return out;
}

Result<json::value> DeleteWorkspace(Api& api, Ctx& ctx) {
  int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    // The record of the deletion outlives the workspace (workspace_id is not kept: it cascades).
    KILN_RETURN_IF_ERROR(
        WriteAudit(tx, ctx, 0, "workspace.deleted", "workspace", std::to_string(ctx.ws), {}, now));
    KILN_ASSIGN_OR_RETURN(auto n, tx.Exec("workspaces.delete", {ctx.ws}));
    if (n != 1) return Status::NotFound("no such workspace");
    return Status::Ok();
  }));
  return json::value(nullptr);
}

Result<json::value> ListMembers(Api& api, Ctx& ctx) {
  json::array items;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("members.list", {ctx.ws}));
    for (const auto& r : rows) items.push_back(MemberJson(r));
    return Status::Ok();
  }));
  return json::object{{"items", std::move(items)}};
}

Result<json::value> AddMember(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  std::string email_in;
  std::optional<std::string> name;
  Role role;
  KILN_RETURN_IF_ERROR(in.Str("email", &email_in, {.min_len = 1, .max_len = 254}));
  KILN_RETURN_IF_ERROR(ReadRole(in, &role));
  KILN_RETURN_IF_ERROR(in.OptStr("name", &name, {.max_len = 200}));
  KILN_RETURN_IF_ERROR(in.Finish());
  auto email = domain::NormalizeEmailAddress(email_in);
  if (!email.ok()) return email.status().WithField("email");
  if (role == Role::kOwner && ctx.role != Role::kOwner) {
    return Status::PermissionDenied("only an owner can add another owner");
  }
  int64_t now = api.clock().NowMillis();
  // A new account gets a generated password, shown once in this answer. Hash outside the
  // transaction: argon2id is deliberately slow.
  std::string initial_password = auth::GeneratePassword();
  KILN_ASSIGN_OR_RETURN(auto hash, auth::HashPassword(initial_password));
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto existing, tx.QueryOne("users.by_email", {domain::EmailKey(*email)}));
    int64_t uid;
    bool created = false;
    if (existing) {
      uid = existing->Int("id");
    } else {
      std::string display = name && !name->empty() ? *name : email->substr(0, email->find('@'));
      KILN_ASSIGN_OR_RETURN(auto u, tx.QueryRow("users.insert", {*email, display, hash, now}));
      uid = u.Int("id");
      created = true;
    }
    auto ins = tx.Exec("members.insert", {ctx.ws, uid, std::string(RoleName(role)), now});
    if (!ins.ok()) {
      if (ins.status().code() == Status::Code::kAlreadyExists) {
        return Status::AlreadyExists("this person is already a member", "email");
      }
      return ins.status();
    }
    KILN_RETURN_IF_ERROR(
        WriteAudit(tx, ctx, ctx.ws, "member.added", "user", std::to_string(uid),
                   {{"email", *email}, {"role", RoleName(role)}, {"new_account", created}}, now));
    KILN_ASSIGN_OR_RETURN(auto m, tx.QueryRow("members.get", {ctx.ws, uid}));
    out["member"] = MemberJson(m);
    out["initial_password"] = created ? json::value(initial_password) : json::value(nullptr);
    return Status::Ok();
  }));
  return out;
}

// Owner changes need an owner; the last owner can never be demoted or removed.
Status GuardOwnerChange(store::Tx& tx, const Ctx& ctx, int64_t user_id, const std::string& old_role,
                        std::optional<Role> new_role) {
  bool touches_owner = old_role == "owner" || (new_role && *new_role == Role::kOwner);
  if (touches_owner && ctx.role != Role::kOwner) {
    return Status::PermissionDenied("only an owner can grant or remove the owner role");
  }
  if (old_role == "owner" && (!new_role || *new_role != Role::kOwner)) {
    KILN_ASSIGN_OR_RETURN(auto n, tx.QueryRow("members.count_owners", {ctx.ws}));
    if (n.Int("n") <= 1) {
      return Status::FailedPrecondition(
          "a workspace needs at least one owner; make someone else owner first",
          user_id == ctx.caller.user_id ? "role" : "");
    }
  }
  return Status::Ok();
}

Result<json::value> ChangeMemberRole(Api& api, Ctx& ctx) {
  auto uid = ParseId(ctx.req.path_params["user_id"]);
  if (!uid.ok()) return Status::NotFound("no such member");
  JsonFields in(ctx.body);
  Role role;
  KILN_RETURN_IF_ERROR(ReadRole(in, &role));
  KILN_RETURN_IF_ERROR(in.Finish());
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto m, tx.QueryRow("members.get", {ctx.ws, *uid}, "no such member"));
    std::string old_role = m.Text("role");
    KILN_RETURN_IF_ERROR(GuardOwnerChange(tx, ctx, *uid, old_role, role));
    KILN_RETURN_IF_ERROR(
        tx.Exec("members.set_role", {ctx.ws, *uid, std::string(RoleName(role))}).status());
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "member.role_changed", "user",
                                    std::to_string(*uid),
                                    {{"from", old_role}, {"to", RoleName(role)}}, now));
    KILN_ASSIGN_OR_RETURN(auto after, tx.QueryRow("members.get", {ctx.ws, *uid}));
    out = MemberJson(after);
    return Status::Ok();
  }));
  return out;
}

Result<json::value> RemoveMember(Api& api, Ctx& ctx) {
  auto uid = ParseId(ctx.req.path_params["user_id"]);
  if (!uid.ok()) return Status::NotFound("no such member");
  int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto m, tx.QueryRow("members.get", {ctx.ws, *uid}, "no such member"));
    std::string old_role = m.Text("role");
    KILN_RETURN_IF_ERROR(GuardOwnerChange(tx, ctx, *uid, old_role, std::nullopt));
    KILN_RETURN_IF_ERROR(tx.Exec("members.delete", {ctx.ws, *uid}).status());
    return WriteAudit(tx, ctx, ctx.ws, "member.removed", "user", std::to_string(*uid),
                      {{"email", m.Text("email")}, {"role", old_role}}, now);
  }));
  return json::value(nullptr);
}

Result<json::value> ListApiKeys(Api& api, Ctx& ctx) {
  json::array items;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("api_keys.list", {ctx.ws}));
    for (const auto& r : rows) items.push_back(ApiKeyJson(r));
    return Status::Ok();
  }));
  return json::object{{"items", std::move(items)}};
}

Result<json::value> CreateApiKey(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  std::string name;
  Role role;
  KILN_RETURN_IF_ERROR(in.Str("name", &name, {.min_len = 1, .max_len = 200}));
  KILN_RETURN_IF_ERROR(ReadRole(in, &role));
  KILN_RETURN_IF_ERROR(in.Finish());
  if (role > ctx.role) {
    return Status::PermissionDenied("a key cannot have a higher role than yours (" +
                                    std::string(RoleName(ctx.role)) + ")");
  }
  // kiln_<8 chars shown in lists>_<secret>; only the SHA-256 of the whole key is stored.
  std::string prefix = auth::RandomToken(6).substr(0, 8);
  std::string key = "kiln_" + prefix + "_" + auth::RandomToken(32);
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(
        auto row, tx.QueryRow("api_keys.insert",
                              {ctx.ws, name, "kiln_" + prefix, auth::Sha256Hex(key),
                               std::string(RoleName(role)), NullIfZero(ctx.caller.user_id), now}));
    int64_t id = row.Int("id");
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "api_key.created", "api_key",
                                    std::to_string(id), {{"name", name}, {"role", RoleName(role)}},
                                    now));
    KILN_ASSIGN_OR_RETURN(auto k, tx.QueryRow("api_keys.get", {ctx.ws, id}));
    out = ApiKeyJson(k);
    out["key"] = key;
    return Status::Ok();
  }));
  return out;
}

Result<json::value> RevokeApiKey(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such API key");
  int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto n, tx.Exec("api_keys.revoke", {ctx.ws, *id, now}));
    if (n != 1) return Status::NotFound("no such API key");
    return WriteAudit(tx, ctx, ctx.ws, "api_key.revoked", "api_key", std::to_string(*id), {}, now);
  }));
  return json::value(nullptr);
}

Result<json::value> ListAudit(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(const Page page, ReadPage(ctx.req, "an audit entry id"));
  const int64_t limit = page.limit, before = page.before;
  json::array items;
  int64_t last_id = 0;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("audit.list", {ctx.ws, before, limit + 1}));
    for (size_t i = 0; i < rows.size() && static_cast<int64_t>(i) < limit; ++i) {
      const auto& r = rows[i];
      json::value details;
      boost::system::error_code ec;
      details = json::parse(r.Text("details"), ec);
      if (ec) details = json::object{};
      auto user_id = r.OptInt("user_id");
      auto key_id = r.OptInt("api_key_id");
      items.push_back(
          json::object{{"id", r.Int("id")},
                       {"action", r.Text("action")},
                       {"user_id", user_id ? json::value(*user_id) : json::value(nullptr)},
                       {"user_email", r.IsNull("user_email") ? json::value(nullptr)
                                                             : json::value(r.Text("user_email"))},
                       {"api_key_id", key_id ? json::value(*key_id) : json::value(nullptr)},
                       {"target_type", r.Text("target_type")},
                       {"target_id", r.Text("target_id")},
                       {"ip", r.Text("ip")},
                       {"details", std::move(details)},
                       {"created_at", TimeOrNull(r, "created_at")}});
      last_id = r.Int("id");
    }
    if (static_cast<int64_t>(rows.size()) <= limit) last_id = 0;
    return Status::Ok();
  }));
  return json::object{{"items", std::move(items)},
                      {"next_before", last_id ? json::value(last_id) : json::value(nullptr)}};
}

constexpr char kWorkspaceSchema[] =
    R"({"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},"role":{"type":"string","enum":["owner","admin","member","viewer"]},"created_at":{"type":"string","format":"date-time"}}})";
constexpr char kNameBody[] =
    R"({"type":"object","required":["name"],"additionalProperties":false,"properties":{"name":{"type":"string","minLength":1,"maxLength":200}}})";
constexpr char kMemberSchema[] =
    R"({"type":"object","properties":{"user_id":{"type":"integer"},"email":{"type":"string"},"name":{"type":"string"},"role":{"type":"string"},"created_at":{"type":"string","format":"date-time"}}})";
constexpr char kApiKeySchema[] =
    R"({"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},"prefix":{"type":"string"},"role":{"type":"string"},"created_at":{"type":"string"},"last_used_at":{"type":["string","null"]},"created_by_user_id":{"type":["integer","null"]},"key":{"type":"string","description":"only in the answer to creation"}}})";
constexpr char kListSchema[] = R"({"type":"object","properties":{"items":{"type":"array"}}})";

}  // namespace

void RegisterWorkspaceRoutes(Api& api) {
  Api* a = &api;
  auto bind = [a](Result<json::value> (*fn)(Api&, Ctx&)) {
    return [a, fn](Ctx& c) { return fn(*a, c); };
  };
  api.Add(verb::get, "/api/v1/workspaces", {Access::kAuthenticated}, bind(ListWorkspaces),
          {.summary = "Workspaces of the caller (an API key sees its own)",
           .tag = "workspaces",
           .response_schema = kListSchema});
  api.Add(verb::post, "/api/v1/workspaces", {Access::kSession}, bind(CreateWorkspace),
          {.summary = "Create a workspace; the caller becomes its owner",
           .tag = "workspaces",
           .request_schema = kNameBody,
           .response_schema = kWorkspaceSchema,
           .success_status = 201});
  api.Add(verb::get, "/api/v1/workspaces/{ws}", {Access::kWorkspace, Role::kViewer},
          bind(GetWorkspace),
          {.summary = "One workspace", .tag = "workspaces", .response_schema = kWorkspaceSchema});
  api.Add(verb::patch, "/api/v1/workspaces/{ws}", {Access::kWorkspace, Role::kAdmin},
          bind(RenameWorkspace),
          {.summary = "Rename a workspace",
           .tag = "workspaces",
           .request_schema = kNameBody,
           .response_schema = kWorkspaceSchema});
  api.Add(verb::delete_, "/api/v1/workspaces/{ws}", {Access::kWorkspace, Role::kOwner},
          bind(DeleteWorkspace),
          {.summary = "Delete a workspace and everything in it",
           .tag = "workspaces",
           .success_status = 204});
  api.Add(verb::get, "/api/v1/workspaces/{ws}/members", {Access::kWorkspace, Role::kViewer},
          bind(ListMembers),
          {.summary = "Members and their roles", .tag = "members", .response_schema = kListSchema});
  api.Add(
      verb::post, "/api/v1/workspaces/{ws}/members", {Access::kWorkspace, Role::kAdmin},
      bind(AddMember),
      {.summary = "Add a member by email; a new account gets a one-time password shown once",
       .tag = "members",
       .request_schema =
           R"({"type":"object","required":["email","role"],"additionalProperties":false,"properties":{"email":{"type":"string","format":"email"},"role":{"type":"string","enum":["owner","admin","member","viewer"]},"name":{"type":"string","maxLength":200}}})",
       .response_schema =
           R"({"type":"object","properties":{"member":{"type":"object"},"initial_password":{"type":["string","null"]}}})",
       .success_status = 201});
  api.Add(
      verb::patch, "/api/v1/workspaces/{ws}/members/{user_id}", {Access::kWorkspace, Role::kAdmin},
      bind(ChangeMemberRole),
      {.summary = "Change a member's role",
       .tag = "members",
       .request_schema =
           R"({"type":"object","required":["role"],"additionalProperties":false,"properties":{"role":{"type":"string","enum":["owner","admin","member","viewer"]}}})",
       .response_schema = kMemberSchema});
  api.Add(verb::delete_, "/api/v1/workspaces/{ws}/members/{user_id}",
          {Access::kWorkspace, Role::kAdmin}, bind(RemoveMember),
          {.summary = "Remove a member (never the last owner)",
           .tag = "members",
           .success_status = 204});
  api.Add(verb::get, "/api/v1/workspaces/{ws}/api-keys", {Access::kWorkspace, Role::kAdmin},
          bind(ListApiKeys),
          {.summary = "API keys of the workspace (never the keys themselves)",
           .tag = "api-keys",
           .response_schema = kListSchema});
  api.Add(
      verb::post, "/api/v1/workspaces/{ws}/api-keys", {Access::kWorkspace, Role::kAdmin},
      bind(CreateApiKey),
      {.summary = "Create an API key; the key is in this answer only",
       .tag = "api-keys",
       .request_schema =
           R"({"type":"object","required":["name","role"],"additionalProperties":false,"properties":{"name":{"type":"string","minLength":1,"maxLength":200},"role":{"type":"string","enum":["owner","admin","member","viewer"]}}})",
       .response_schema = kApiKeySchema,
       .success_status = 201});
  api.Add(verb::delete_, "/api/v1/workspaces/{ws}/api-keys/{id}",
          {Access::kWorkspace, Role::kAdmin}, bind(RevokeApiKey),
          {.summary = "Revoke an API key", .tag = "api-keys", .success_status = 204});
  api.Add(verb::get, "/api/v1/workspaces/{ws}/audit-log", {Access::kWorkspace, Role::kAdmin},
          bind(ListAudit),
          {.summary = "Audit log, newest first; ?limit=1..500&before=<id>",
           .tag = "audit",
           .response_schema = PagedSchema("")});
}

}  // namespace kiln::api
