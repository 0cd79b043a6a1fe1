#include "kiln/api/common.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/json/serialize.hpp>

#include "kiln/api/json_input.h"
#include "kiln/base/time_format.h"
#include "kiln/base/utf8.h"

namespace kiln::api {

namespace json = boost::json;

Status ValidateHost(const std::string& host, const std::string& field) {
  if (host.empty()) return Status::InvalidArgument("must not be empty", field);
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (!ec) return Status::Ok();
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.';
    if (!ok) return Status::InvalidArgument("must be a host name or an IP address", field);
  }
  if (host.front() == '.' || host.front() == '-' || host.find("..") != std::string::npos) {
    return Status::InvalidArgument("must be a host name or an IP address", field);
  }
  return Status::Ok();
}

Status CheckTimezoneShape(std::string_view tz, const std::string& field) {
  const std::string msg = "must be an IANA time zone name such as Europe/Paris";
  if (tz.empty() || tz.size() > 64) return Status::InvalidArgument(msg, field);
  size_t segment_start = 0;
  for (size_t i = 0; i <= tz.size(); ++i) {
    if (i == tz.size() || tz[i] == '/') {
      std::string_view seg = tz.substr(segment_start, i - segment_start);
      if (seg.empty()) return Status::InvalidArgument(msg, field);
      segment_start = i + 1;
      continue;
    }
    char c = tz[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '+';
    if (!ok) return Status::InvalidArgument(msg, field);
  }
  return Status::Ok();
}

Result<std::vector<int64_t>> ReadIdArray(const json::array& arr, const std::string& field) {
  std::vector<int64_t> ids;
  ids.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    const json::value& v = arr[i];
    std::string name = field + "[" + std::to_string(i) + "]";
    if (!v.is_int64() || v.as_int64() <= 0)
      return Status::InvalidArgument("must be an id (a positive integer)", name);
    ids.push_back(v.as_int64());
  }
  std::vector<int64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  if (auto dup = std::adjacent_find(sorted.begin(), sorted.end()); dup != sorted.end()) {
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] == *dup && std::find(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(i),
                                      *dup) != ids.begin() + static_cast<std::ptrdiff_t>(i)) {
        return Status::InvalidArgument("repeats id " + std::to_string(*dup),
                                       field + "[" + std::to_string(i) + "]");
      }
    }
  }
  return ids;
}

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
  return tx
      .Exec("audit.insert", {NullIfZero(workspace_id), NullIfZero(user_id), NullIfZero(api_key_id),
                             std::string(action), std::string(target_type), std::string(target_id),
                             std::string(ip), json::serialize(details), now_ms})
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

boost::json::object PagedItems(
    const std::vector<store::Row>& rows, const Page& page,
    const std::function<boost::json::value(const store::Row&)>& to_json) {
  boost::json::array items;
  const size_t n = std::min(rows.size(), static_cast<size_t>(page.limit));
  for (size_t i = 0; i < n; ++i) items.push_back(to_json(rows[i]));
  boost::json::value next = nullptr;
  if (rows.size() > n && n > 0) next = rows[n - 1].Int("id");
  return {{"items", std::move(items)}, {"next_before", std::move(next)}};
}

std::string PagedSchema(std::string_view item_schema) {
  std::string out = R"({"type":"object","properties":{"items":{"type":"array")";
  if (!item_schema.empty()) {
    out += R"(,"items":)";
    out += item_schema;
  }
  out += R"(},"next_before":{"type":["integer","null"]}}})";
  return out;
}

Result<Page> ReadPage(const http::Request& req, std::string_view what, int64_t max_limit) {
  Page page;
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    auto v = ParseId(it->second);
    if (!v.ok() || *v > max_limit) {
      return Status::InvalidArgument("must be a number from 1 to " + std::to_string(max_limit),
                                     "limit");
    }
    page.limit = *v;
  }
  if (auto it = req.query.find("before"); it != req.query.end()) {
    auto v = ParseId(it->second);
    if (!v.ok()) return Status::InvalidArgument("must be " + std::string(what), "before");
    page.before = *v;
  }
  return page;
}

Result<int64_t> ReadIdFilter(const http::Request& req, std::string_view name,
                             std::string_view what) {
  auto it = req.query.find(std::string(name));
  if (it == req.query.end()) return int64_t{0};
  auto v = ParseId(it->second);
  if (!v.ok()) return Status::InvalidArgument("must be " + std::string(what), std::string(name));
  return *v;
}

Result<std::string> ReadSearchPattern(const http::Request& req) {
  auto it = req.query.find("q");
  if (it == req.query.end()) return std::string();
  std::string_view term = it->second;
  while (!term.empty() && term.front() == ' ') term.remove_prefix(1);
  while (!term.empty() && term.back() == ' ') term.remove_suffix(1);
  if (term.size() > 200) return Status::InvalidArgument("must be at most 200 bytes", "q");
  if (!IsValidUtf8(term)) return Status::InvalidArgument("must be valid UTF-8", "q");
  if (term.empty()) return std::string();
  std::string p = "%";
  for (char c : term) {
    if (c == '%' || c == '_' || c == '\\') p.push_back('\\');
    p.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  p.push_back('%');
  return p;
}

}  // namespace kiln::api
