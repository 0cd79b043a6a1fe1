// Request and Response: what a handler sees and returns. Plain values, no sockets, so every
// handler is testable by calling it (DESIGN.md: handlers are functions from request to response).
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"

namespace kiln::http {

namespace bhttp = boost::beast::http;

struct Request {
  bhttp::verb method = bhttp::verb::get;
  std::string target;  // raw request-target, e.g. "/api/v1/campaigns?page=2"
  std::string path;    // percent-decoded path without the query, e.g. "/api/v1/campaigns"
  std::map<std::string, std::string> query;        // decoded query parameters (last one wins)
  std::map<std::string, std::string> path_params;  // "{id}" segments matched by the router
  bhttp::fields headers;
  std::string body;
  // A body streamed to disk (ServerOptions::stream_body_for): its path, and `body` stays empty.
  std::string body_file;
  std::string remote_ip;   // peer address
  std::string request_id;  // X-Request-Id from the client if sane, else generated
  std::string route;       // the matched route pattern, e.g. "/api/v1/campaigns/{id}" (for metrics)

  std::string_view Header(bhttp::field f) const;
  std::string_view Header(std::string_view name) const;
  // Value of a cookie from the Cookie header, if present.
  std::optional<std::string> Cookie(std::string_view name) const;
};

struct Response {
  bhttp::status status = bhttp::status::ok;
  bhttp::fields headers;
  std::string body;

  static Response Json(bhttp::status status, std::string json_body);
  static Response Text(bhttp::status status, std::string text,
                       std::string_view content_type = "text/plain; charset=utf-8");
  // {"error":{"code":"...","message":"...","field":"..."}} — the one error shape of the API.
  static Response Error(bhttp::status status, std::string_view code, std::string_view message,
                        std::string_view field = {});
  static Response NoContent();

  void SetHeader(bhttp::field f, std::string_view v) { headers.set(f, v); }
  void SetHeader(std::string_view name, std::string_view v) { headers.set(name, v); }
  // Appends a Set-Cookie header (several may be set).
  void AddCookie(std::string_view set_cookie_value) {
    headers.insert(bhttp::field::set_cookie, set_cookie_value);
  }
};

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, for query strings). Fails with
// InvalidArgument naming the offset when an escape is truncated or not hex, or when the decoded
// text contains a NUL byte (never legitimate in a path or parameter, a classic truncation trick).
Result<std::string> PercentDecode(std::string_view encoded, bool plus_is_space = false);

// Splits a request-target in origin form ("/a/b?x=1&y=2") into request.path (decoded) and
// request.query (decoded; the last of repeated names wins), and stores it in request.target.
// Fails with InvalidArgument when the target is not origin form, or the path or query has invalid
// percent-encoding or a NUL; request is then left with only `target` set.
Status ParseTarget(std::string_view target, Request& request);

// The raw (still encoded) path part of a request-target: everything before '?' or '#'.
std::string_view RawPath(std::string_view target);

}  // namespace kiln::http
