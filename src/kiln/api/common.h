// Helpers shared by the API's route files: JSON views of rows, audit records, cookies.
// Pure functions over their arguments; thread-safe.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/api/api.h"
#include "kiln/store/db.h"

namespace kiln::api {

// ISO 8601 string of a Unix-ms column, or null when the column is NULL.
boost::json::value TimeOrNull(const store::Row& row, std::string_view col);

// Records one audit entry in the same transaction as the change it describes.
// workspace_id 0 means "not about one workspace" (logins). The caller (user or key) and the
// client IP come from ctx.
Status WriteAudit(store::Tx& tx, const Ctx& ctx, int64_t workspace_id, std::string_view action,
                  std::string_view target_type, std::string_view target_id,
                  const boost::json::object& details, int64_t now_ms);
// The same without a Ctx (login attempts happen before there is a caller).
Status WriteAuditRaw(store::Tx& tx, int64_t workspace_id, int64_t user_id, int64_t api_key_id,
                     std::string_view ip, std::string_view action, std::string_view target_type,
                     std::string_view target_id, const boost::json::object& details,
                     int64_t now_ms);

// Checks the shape of an IANA time zone name ("Europe/Paris", "Etc/GMT+5", "UTC"): 1..64 bytes of
// letters, digits, '/', '_', '-', '+', no empty segments (so no path tricks). Whether the zone
// exists is the engine's check against tzdata. Fails InvalidArgument naming `field`.
Status CheckTimezoneShape(std::string_view tz, const std::string& field);

// Checks a mail server's host: an IP address, or a host name of letters, digits, '-' and '.'
// (no empty labels). Fails InvalidArgument naming `field`.
Status ValidateHost(const std::string& host, const std::string& field);

// Reads a JSON array of object ids (positive integers, no repeats). Fails InvalidArgument naming
// the element at fault: "sender_ids[2]".
Result<std::vector<int64_t>> ReadIdArray(const boost::json::array& arr, const std::string& field);

// NULL (nullopt) for 0, else the id: optional foreign keys.
std::optional<int64_t> NullIfZero(int64_t v);

// Keyset paging of list endpoints: ?limit=1..max_limit (default 50) and ?before=<id> (default:
// from the newest). `what` names the id in the error ("a lead id").
struct Page {
  int64_t limit = 50;
  int64_t before = INT64_MAX;
};
Result<Page> ReadPage(const http::Request& req, std::string_view what, int64_t max_limit = 500);

// The answer of a keyset-paged list, {items, next_before}, from `rows` read newest first with
// LIMIT page.limit + 1: the first page.limit rows through `to_json`; next_before is the id of the
// last one answered when a further row exists, else null.
boost::json::object PagedItems(const std::vector<store::Row>& rows, const Page& page,
                               const std::function<boost::json::value(const store::Row&)>& to_json);

// The response schema of such a list: {"items": [item_schema...], "next_before": id or null}. An
// empty item_schema leaves the items undescribed.
std::string PagedSchema(std::string_view item_schema);

// An optional ?name=<id> filter: 0 when absent; InvalidArgument naming the parameter when it is
// not an id (`what`: "a list id").
Result<int64_t> ReadIdFilter(const http::Request& req, std::string_view name,
                             std::string_view what);

// ?q=: a search term (trimmed, at most 200 bytes, valid UTF-8) as a LIKE pattern "%term%" over
// lowercased columns, with LIKE's wildcards escaped; "" when absent or blank.
Result<std::string> ReadSearchPattern(const http::Request& req);

// "name=value; Path=/; HttpOnly; SameSite=Strict; Max-Age=N[; Secure]".
std::string MakeCookie(std::string_view name, std::string_view value, std::string_view path,
                       int64_t max_age_s, bool http_only, bool secure);

}  // namespace kiln::api
