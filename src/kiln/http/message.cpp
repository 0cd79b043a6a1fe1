#include "kiln/http/message.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <string>

namespace kiln::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view Request::Header(bhttp::field f) const {
  auto it = headers.find(f);
  return it == headers.end() ? std::string_view() : std::string_view(it->value());
}

std::string_view Request::Header(std::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string_view() : std::string_view(it->value());
}

std::optional<std::string> Request::Cookie(std::string_view name) const {
  // Browsers may send several Cookie headers over HTTP/2 proxies; look at all of them.
  for (auto it = headers.find(bhttp::field::cookie);
       it != headers.end() && it->name() == bhttp::field::cookie; ++it) {
    std::string_view rest = it->value();
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = Trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (Trim(pair.substr(0, eq)) != name) continue;
      std::string_view value = Trim(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return std::string(value);
    }
  }
  return std::nullopt;
}

Response Response::Json(bhttp::status status, std::string json_body) {
  Response r;
  r.status = status;
  r.headers.set(bhttp::field::content_type, "application/json");
  r.body = std::move(json_body);
  return r;
}

Response Response::Text(bhttp::status status, std::string text, std::string_view content_type) {
  Response r;
  r.status = status;
  r.headers.set(bhttp::field::content_type, content_type);
  r.body = std::move(text);
  return r;
}

Response Response::Error(bhttp::status status, std::string_view code, std::string_view message,
                         std::string_view field) {
  boost::json::object error;
  error["code"] = code;
  error["message"] = message;
  if (!field.empty()) error["field"] = field;
  boost::json::object root;
  root["error"] = std::move(error);
  return Json(status, boost::json::serialize(root));
}

Response Response::NoContent() {
  Response r;
  r.status = bhttp::status::no_content;
  return r;
}

Result<std::string> PercentDecode(std::string_view encoded, bool plus_is_space) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    char c = encoded[i];
    if (c == '%') {
      bool complete = i + 2 < encoded.size();
      int hi = complete ? HexValue(encoded[i + 1]) : -1;
      int lo = complete ? HexValue(encoded[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Status::InvalidArgument("invalid percent-encoding at offset " + std::to_string(i));
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') {
      return Status::InvalidArgument("NUL byte at offset " + std::to_string(i));
    }
    out.push_back(c);
  }
  return out;
}

std::string_view RawPath(std::string_view target) {
  return target.substr(0, target.find_first_of("?#"));
}

Status ParseTarget(std::string_view target, Request& request) {
  request.target = std::string(target);
  request.path.clear();
  request.query.clear();
  if (target.empty() || target.front() != '/') {
    return Status::InvalidArgument("request-target must start with '/'", "target");
  }
  std::string_view raw_path = RawPath(target);
  auto path = PercentDecode(raw_path);
  if (!path.ok()) return path.status().WithContext("path").WithField("path");

  std::map<std::string, std::string> query;
  if (raw_path.size() < target.size() && target[raw_path.size()] == '?') {
    std::string_view rest = target.substr(raw_path.size() + 1);
    rest = rest.substr(0, rest.find('#'));
    while (!rest.empty()) {
      size_t amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
      if (pair.empty()) continue;
      size_t eq = pair.find('=');
      auto name = PercentDecode(pair.substr(0, eq), true);
      if (!name.ok()) return name.status().WithContext("query").WithField("query");
      auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
      if (!value.ok()) {
        return value.status().WithContext("query parameter " + *name).WithField(*name);
      }
      query[std::move(*name)] = std::move(*value);
    }
  }
  request.path = std::move(*path);
  request.query = std::move(query);
  return Status::Ok();
}

}  // namespace kiln::http
