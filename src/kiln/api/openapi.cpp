// /api/v1/openapi.json: generated from the route table, so it cannot drift from the code.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "kiln/api/api.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

json::value SchemaOrEmpty(const std::string& text) {
  if (text.empty()) return json::object{};
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) std::abort();  // a route's schema literal is broken: a programming error, caught by tests
  return v;
}

std::string OperationId(verb m, const std::string& pattern) {
  std::string id(http::bhttp::to_string(m));
  for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char c : pattern.substr(pattern.rfind("/api/v1", 0) == 0 ? 7 : 0)) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      id += c;
    } else if (id.back() != '_') {
      id += '_';
    }
  }
  while (!id.empty() && id.back() == '_') id.pop_back();
  return id;
}

json::object ErrorResponse(const char* description) {
  return {
      {"description", description},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

}  // namespace

std::string OpenApiDocument(const http::Router& router) {
  json::object paths;
  for (const auto& r : router.routes()) {
    json::object op;
    op["operationId"] = OperationId(r.method, r.pattern);
    op["summary"] = r.doc.summary;
    if (!r.doc.tag.empty()) op["tags"] = json::array{json::string(r.doc.tag)};
    // A WebSocket route: GET with Upgrade: websocket, answered 101 and then a stream of frames.
    if (r.doc.websocket) op["x-websocket"] = true;
    json::array params;
    size_t pos = 0;
    while ((pos = r.pattern.find('{', pos)) != std::string::npos) {
      size_t end = r.pattern.find('}', pos);
      std::string name = r.pattern.substr(pos + 1, end - pos - 1);
      params.push_back(json::object{{"name", name},
                                    {"in", "path"},
                                    {"required", true},
                                    {"schema", {{"type", "integer"}, {"minimum", 1}}}});
      pos = end;
    }
    if (!params.empty()) op["parameters"] = std::move(params);
    if (!r.doc.request_schema.empty()) {
      op["requestBody"] = json::object{
          {"required", true},
          {"content", {{"application/json", {{"schema", SchemaOrEmpty(r.doc.request_schema)}}}}}};
    }
    json::object responses;
    json::object ok{{"description", "success"}};
    if (!r.doc.response_schema.empty()) {
      ok["content"] =
          json::object{{"application/json", {{"schema", SchemaOrEmpty(r.doc.response_schema)}}}};
    }
    responses[std::to_string(r.doc.success_status)] = std::move(ok);
    if (!r.doc.request_schema.empty())
      responses["400"] = ErrorResponse("invalid input; `field` names it");
    if (r.doc.authenticated) {
      responses["401"] = ErrorResponse("not signed in or the session ended");
      responses["403"] = ErrorResponse("the role does not allow it, or the CSRF header is missing");
      responses["429"] = ErrorResponse("rate limited; see Retry-After");
      op["security"] = json::array{json::object{{"cookieSession", json::array{}}},
                                   json::object{{"apiKey", json::array{}}}};
    } else {
      op["security"] = json::array{};
    }
    if (r.pattern.find('{') != std::string::npos)
      responses["404"] = ErrorResponse("no such object (or not yours)");
    op["responses"] = std::move(responses);
    std::string method(http::bhttp::to_string(r.method));
    for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    json::value& entry = paths[r.pattern];
    if (!entry.is_object()) entry.emplace_object();
    entry.as_object()[method] = std::move(op);
  }
  json::object doc{{"openapi", "3.1.0"},
                   {"info",
                    {{"title", "Kiln API"},
                     {"version", "1"},
                     {"description",
                      "Self-hosted cold email: senders, warm-up, campaigns. Errors: "
                      "{\"error\":{\"code\",\"message\",\"field\"}}."}}},
                   {"paths", std::move(paths)},
                   {"components",
                    {{"securitySchemes",
                      {{"cookieSession",
                        {{"type", "apiKey"},
                         {"in", "cookie"},
                         {"name", "kiln_access"},
                         {"description",
                          "session from POST /api/v1/auth/login; state-changing requests also need "
                          "X-CSRF-Token"}}},
                       {"apiKey",
                        {{"type", "http"},
                         {"scheme", "bearer"},
                         {"description", "a workspace API key: Authorization: Bearer kiln_..."}}}}},
                     {"schemas",
                      {{"Error",
                        {{"type", "object"},
                         {"required", json::array{"error"}},
                         {"properties",
                          {{"error",
                            {{"type", "object"},
                             {"required", json::array{"code", "message"}},
                             {"properties",
                              {{"code", {{"type", "string"}}},
                               {"message", {{"type", "string"}}},
                               {"field", {{"type", "string"}}}}}}}}}}},
                       {"User",
                        {{"type", "object"},
                         {"properties",
                          {{"id", {{"type", "integer"}}},
                           {"email", {{"type", "string"}}},
                           {"name", {{"type", "string"}}},
                           {"created_at", {{"type", "string"}, {"format", "date-time"}}}}}}},
                       {"Sender",
                        {{"type", "object"},
                         {"description", "see GET /api/v1/workspaces/{ws}/senders/{id}"}}}}}}}};
  return json::serialize(doc);
}

void RegisterOpenApiRoute(Api& api, http::Router& router) {
  (void)api;
  const http::Router* r = &router;
  router.Add(verb::get, "/api/v1/openapi.json",
             [r](http::Request&) {
               return http::Response::Json(http::bhttp::status::ok, OpenApiDocument(*r));
             },
             {.summary = "This OpenAPI 3.1 document", .tag = "meta", .authenticated = false});
}

}  // namespace kiln::api
