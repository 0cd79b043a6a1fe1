// Router: maps (method, path pattern) to a handler. Patterns are literal segments and "{name}"
// segments ("/api/v1/campaigns/{id}/steps"); a literal segment beats a parameter. A path that
// matches no pattern -> 404; a path that matches with another method -> 405 with Allow.
//
// A WebSocket route (AddWebSocket) is a GET route whose handler answers an upgrade request with an
// accept or a refusal (websocket.h); the Server runs accepted connections. A plain GET to it gets
// the handler's refusal, or 426 Upgrade Required when the handler would have accepted.
//
// A route whose handler blocks its thread for long (an SMTP or IMAP login, an outgoing HTTP call)
// says so with RouteDoc::blocking; the Server then runs it on its pool of blocking threads
// (blocking_pool.h) instead of an I/O thread. Its handler stays an ordinary synchronous function.
//
// Routes are registered at start-up (single thread), then Dispatch and Resolve are thread-safe.
// Every route carries its documentation (RouteDoc); /api/v1/openapi.json is generated from it.
#pragma once

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "kiln/http/message.h"
#include "kiln/http/websocket.h"

namespace kiln::http {

using Handler = std::function<Response(Request&)>;

// What a route does, for the OpenAPI document.
struct RouteDoc {
  std::string summary;          // one line; required
  std::string tag;              // group: "auth", "workspaces", ...
  std::string request_schema;   // JSON Schema of the body as JSON text ("" when no body)
  std::string response_schema;  // JSON Schema of a success body as JSON text ("" when empty)
  int success_status = 200;
  bool authenticated = true;  // needs a session cookie or an API key
  bool websocket = false;     // a WebSocket route (set by Router::AddWebSocket)
  // The handler waits on the network or another slow resource (seconds): the Server runs it on
  // its blocking pool, and may answer 503 when that pool is full.
  bool blocking = false;
};

struct Route {
  bhttp::verb method;
  std::string pattern;
  Handler handler;
  RouteDoc doc;
  UpgradeHandler upgrade;  // WebSocket routes only
};

class Router {
 public:
  // Registers a route. A malformed pattern (not starting with '/', a segment mixing literal text
  // and braces, an empty "{}") or a duplicate (method, pattern) is a programming error: aborts
  // with a message naming the pattern.
  void Add(bhttp::verb method, std::string pattern, Handler handler, RouteDoc doc);
  // Finds the handler, fills request.path_params and request.route, and runs it. Answers 404/405
  // in the API's error shape when nothing matches (for /api/ paths; plain text otherwise).
  // The path is taken from request.target (segments split first, then percent-decoded, so "%2F"
  // stays inside one parameter), or from request.path when target is empty. Invalid
  // percent-encoding or a NUL byte answers 400. HEAD is served by the GET route when no HEAD route
  // exists (the server drops the body). Exceptions from handlers propagate to the caller.
  // request.route is set to the matched pattern, "(fallback)" or "(unmatched)".
  Response Dispatch(Request& request) const;
  // Dispatch in two steps: finds the route like Dispatch (filling path_params and route) and
  // returns it without running its handler, or returns the response when nothing matches (404,
  // 405, 400, or the fallback's answer, which runs here). The Route lives as long as the Router.
  std::variant<const Route*, Response> Resolve(Request& request) const;
  // Registers a WebSocket route on GET `pattern` (same pattern rules as Add).
  void AddWebSocket(std::string pattern, UpgradeHandler handler, RouteDoc doc);
  // For a WebSocket upgrade request: finds the route like Dispatch (filling path_params and
  // route) and, when it is a WebSocket route, answers its handler's accept or refusal. Any other
  // outcome is Dispatch's response (an upgrade to an ordinary route is served as a plain request).
  UpgradeResult DispatchUpgrade(Request& request) const;
  // Fallback for paths no route matches (e.g. static files of the web UI). Optional.
  void SetFallback(Handler handler) { fallback_ = std::move(handler); }
  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Segment {
    std::string text;  // literal text, or the parameter name
    bool is_param = false;
  };
  // The matched route's index, or the response when nothing matches (404, 405, 400, fallback).
  std::variant<size_t, Response> Find(Request& request) const;

  std::vector<Route> routes_;
  std::vector<std::vector<Segment>> compiled_;  // parallel to routes_
  Handler fallback_;
};

}  // namespace kiln::http
