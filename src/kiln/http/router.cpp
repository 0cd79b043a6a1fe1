#include "kiln/http/router.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string_view>

namespace kiln::http {
namespace {

[[noreturn]] void BadRoute(std::string_view pattern, std::string_view why) {
  std::fprintf(stderr, "kiln: invalid route pattern \"%.*s\": %.*s\n",
               static_cast<int>(pattern.size()), pattern.data(), static_cast<int>(why.size()),
               why.data());
  std::abort();
}

// "/a/b/" -> {"a", "b", ""}; "/" -> {}.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.size() <= 1) return out;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool IsApiPath(std::string_view path) { return path == "/api" || path.starts_with("/api/"); }

Response NotFound(bool api) {
  if (api) return Response::Error(bhttp::status::not_found, "not_found", "no such endpoint");
  return Response::Text(bhttp::status::not_found, "404 not found\n");
}

}  // namespace

void Router::Add(bhttp::verb method, std::string pattern, Handler handler, RouteDoc doc) {
  if (pattern.empty() || pattern.front() != '/') BadRoute(pattern, "must start with '/'");
  std::vector<Segment> segments;
  for (std::string_view part : SplitPath(pattern)) {
    bool has_brace = part.find_first_of("{}") != std::string_view::npos;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      std::string_view name = part.substr(1, part.size() - 2);
      if (name.empty()) BadRoute(pattern, "empty parameter name");
      for (char c : name) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
          BadRoute(pattern, "parameter names are [A-Za-z0-9_]");
        }
      }
      segments.push_back({std::string(name), true});
    } else if (has_brace) {
      BadRoute(pattern, "a segment is either literal or a whole {parameter}");
    } else {
      segments.push_back({std::string(part), false});
    }
  }
  for (const Route& r : routes_) {
    if (r.method == method && r.pattern == pattern) BadRoute(pattern, "registered twice");
  }
  if (!handler) BadRoute(pattern, "empty handler");
  routes_.push_back({method, std::move(pattern), std::move(handler), std::move(doc)});
  compiled_.push_back(std::move(segments));
}

void Router::AddWebSocket(std::string pattern, UpgradeHandler handler, RouteDoc doc) {
  if (!handler) BadRoute(pattern, "empty upgrade handler");
  doc.websocket = true;
  Handler plain = [handler](Request& request) -> Response {
    UpgradeResult result = handler(request);
    if (auto* refusal = std::get_if<Response>(&result)) return std::move(*refusal);
    Response r = Response::Error(bhttp::status::upgrade_required, "upgrade_required",
                                 "this endpoint is a WebSocket: send Connection: Upgrade and "
                                 "Upgrade: websocket");
    r.SetHeader(bhttp::field::upgrade, "websocket");
    r.SetHeader(bhttp::field::connection, "Upgrade");
    return r;
  };
  Add(bhttp::verb::get, std::move(pattern), std::move(plain), std::move(doc));
  routes_.back().upgrade = std::move(handler);
}

UpgradeResult Router::DispatchUpgrade(Request& request) const {
  auto found = Find(request);
  if (auto* response = std::get_if<Response>(&found)) return std::move(*response);
  const Route& route = routes_[std::get<size_t>(found)];
  if (route.upgrade) return route.upgrade(request);
  return route.handler(request);
}

Response Router::Dispatch(Request& request) const {
  auto found = Find(request);
  if (auto* response = std::get_if<Response>(&found)) return std::move(*response);
  return routes_[std::get<size_t>(found)].handler(request);
}

std::variant<const Route*, Response> Router::Resolve(Request& request) const {
  auto found = Find(request);
  if (auto* response = std::get_if<Response>(&found)) return std::move(*response);
  return &routes_[std::get<size_t>(found)];
}

std::variant<size_t, Response> Router::Find(Request& request) const {
  const bool already_decoded = request.target.empty();
  std::string_view raw = already_decoded ? std::string_view(request.path) : RawPath(request.target);
  const bool api = IsApiPath(already_decoded ? request.path : raw);

  if (raw.empty() || raw.front() != '/') {
    request.route = "(unmatched)";
    return api ? Response::Error(bhttp::status::bad_request, "bad_request",
                                 "path must start with '/'", "path")
               : Response::Text(bhttp::status::bad_request, "400 bad request: path\n");
  }
  std::vector<std::string> segments;
  for (std::string_view part : SplitPath(raw)) {
    if (already_decoded) {
      segments.emplace_back(part);
      continue;
    }
    auto decoded = PercentDecode(part);
    if (!decoded.ok()) {
      request.route = "(unmatched)";
      std::string message = "bad path: " + decoded.status().message();
      return api ? Response::Error(bhttp::status::bad_request, "bad_request", message, "path")
                 : Response::Text(bhttp::status::bad_request, "400 " + message + "\n");
    }
    segments.push_back(std::move(*decoded));
  }

  // The best route is the one whose first literal-vs-parameter difference is a literal.
  auto more_specific = [&](size_t a, size_t b) {
    for (size_t i = 0; i < compiled_[a].size(); ++i) {
      if (compiled_[a][i].is_param != compiled_[b][i].is_param) return !compiled_[a][i].is_param;
    }
    return false;
  };
  std::optional<size_t> best;
  bool best_is_exact_method = false;
  std::set<std::string_view> allowed;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const auto& pattern = compiled_[i];
    if (pattern.size() != segments.size()) continue;
    bool match = true;
    for (size_t s = 0; s < pattern.size() && match; ++s) {
      match = pattern[s].is_param ? !segments[s].empty() : pattern[s].text == segments[s];
    }
    if (!match) continue;
    bhttp::verb m = routes_[i].method;
    allowed.insert(bhttp::to_string(m));
    if (m == bhttp::verb::get) allowed.insert("HEAD");
    bool exact = m == request.method;
    bool head_via_get = request.method == bhttp::verb::head && m == bhttp::verb::get;
    if (!exact && !head_via_get) continue;
    if (!best || more_specific(i, *best) ||
        (!more_specific(*best, i) && exact && !best_is_exact_method)) {
      best = i;
      best_is_exact_method = exact;
    }
  }

  if (!best) {
    if (allowed.empty()) {
      if (fallback_ && !api) {
        request.route = "(fallback)";
        return fallback_(request);
      }
      request.route = "(unmatched)";
      return NotFound(api);
    }
    request.route = "(unmatched)";
    std::string allow;
    for (std::string_view m : allowed) {
      if (!allow.empty()) allow += ", ";
      allow += m;
    }
    Response r =
        api ? Response::Error(bhttp::status::method_not_allowed, "method_not_allowed",
                              std::string(bhttp::to_string(request.method)) +
                                  " is not allowed here; allowed: " + allow)
            : Response::Text(bhttp::status::method_not_allowed, "405 method not allowed\n");
    r.SetHeader(bhttp::field::allow, allow);
    return r;
  }

  const Route& route = routes_[*best];
  request.path_params.clear();
  for (size_t s = 0; s < compiled_[*best].size(); ++s) {
    if (compiled_[*best][s].is_param) request.path_params[compiled_[*best][s].text] = segments[s];
  }
  request.route = route.pattern;
  return *best;
}

}  // namespace kiln::http
