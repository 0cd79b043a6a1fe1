#include "kiln/api/common.h"

#include <boost/json/serialize.hpp>

#include "kiln/base/time_format.h"

namespace kiln::api {

namespace json = boost::json;

std::optional<int64_t> NullIfZero(int64_t v) {
  if (v == 0) return std::nullopt;
  return v;
}

json::value TimeOrNull(const store::Row& row, std::string_view col) {
  auto v = row.OptInt(col);
  if (!v) return nullptr;
  return json::value(FormatIso8601(*v));
}

Status WriteAuditRaw(store::Tx& tx, int64_t workspace_id, int64_t user_id, int64_t api_key_id,
                     std::string_view ip, std::string_view action, std::string_view target_type,
                     std::string_view target_id, const json::object& details, int64_t now_ms) {
  return tx.Exec("audit.insert", {NullIfZero(workspace_id), NullIfZero(user_id), NullIfZero(api_key_id), std::string(action), std::string(target_type),
                                  std::string(target_id), std::string(ip), json::serialize(details),
                                  now_ms})
      .status();
}

Status WriteAudit(store::Tx& tx, const Ctx& ctx, int64_t workspace_id, std::string_view action,
                  std::string_view target_type, std::string_view target_id,
                  const json::object& details, int64_t now_ms) {
  return WriteAuditRaw(tx, workspace_id, ctx.caller.user_id, ctx.caller.api_key_id,
                       ctx.req.remote_ip, action, target_type, target_id, details, now_ms);
}

std::string MakeCookie(std::string_view name, std::string_view value, std::string_view path,
                       int64_t max_age_s, bool http_only, bool secure) {
  std::string c;
  c.reserve(name.size() + value.size() + 96);
  c.append(name).append("=").append(value).append("; Path=").append(path);
  c.append("; Max-Age=").append(std::to_string(max_age_s)).append("; SameSite=Strict");
  if (http_only) c.append("; HttpOnly");
  if (secure) c.append("; Secure");
  return c;
}

}  // namespace kiln::api
