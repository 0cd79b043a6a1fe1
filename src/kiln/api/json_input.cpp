#include "kiln/api/json_input.h"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <charconv>
#include <cmath>

#include "kiln/base/utf8.h"

namespace kiln::api {

namespace json = boost::json;

Result<json::object> ParseJsonObject(std::string_view body) {
  if (body.empty()) return Status::InvalidArgument("request body is empty; expected a JSON object");
  if (!IsValidUtf8(body)) return Status::InvalidArgument("request body is not valid UTF-8");
  json::parse_options opt;
  opt.max_depth = 32;
  opt.allow_invalid_utf8 = false;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, {}, opt);
  if (ec) {
    return Status::InvalidArgument("request body is not valid JSON: " + ec.message());
  }
  if (!v.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  return std::move(v.as_object());
}

std::string JsonFields::FieldName(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

const json::value* JsonFields::Get(std::string_view key) {
  seen_.insert(std::string(key));
  auto it = obj_.find(key);
  return it == obj_.end() ? nullptr : &it->value();
}

Status JsonFields::CheckStr(std::string_view key, const json::value& v, std::string* out,
                            const StrRule& rule) const {
  if (!v.is_string()) return Status::InvalidArgument("must be a string", FieldName(key));
  std::string_view s = v.as_string();
  if (rule.trim) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  }
  for (unsigned char c : s) {
    bool allowed_ws = rule.multiline && (c == '\n' || c == '\r' || c == '\t');
    if ((c < 0x20 && !allowed_ws) || c == 0x7F) {
      return Status::InvalidArgument("must not contain control characters", FieldName(key));
    }
  }
  if (s.size() < rule.min_len) {
    return Status::InvalidArgument(
        rule.min_len == 1 ? "must not be empty"
                          : "must be at least " + std::to_string(rule.min_len) + " characters",
        FieldName(key));
  }
  if (s.size() > rule.max_len) {
    return Status::InvalidArgument("must be at most " + std::to_string(rule.max_len) + " bytes",
                                   FieldName(key));
  }
  out->assign(s);
  return Status::Ok();
}

Status JsonFields::Str(std::string_view key, std::string* out, StrRule rule) {
  const json::value* v = Get(key);
  if (!v) return Status::InvalidArgument("is required", FieldName(key));
  return CheckStr(key, *v, out, rule);
}

Status JsonFields::OptStr(std::string_view key, std::optional<std::string>* out, StrRule rule) {
  const json::value* v = Get(key);
  if (!v) return Status::Ok();
  if (v->is_null()) {
    if (!rule.nullable)
      return Status::InvalidArgument("must be a string, not null", FieldName(key));
    *out = std::string();
    return Status::Ok();
  }
  std::string s;
  KILN_RETURN_IF_ERROR(CheckStr(key, *v, &s, rule));
  *out = std::move(s);
  return Status::Ok();
}

namespace {

Status ReadInt(const json::value& v, int64_t min, int64_t max, int64_t* out,
               const std::string& field) {
  int64_t n = 0;
  if (v.is_int64()) {
    n = v.as_int64();
  } else if (v.is_uint64()) {
    return Status::InvalidArgument("must be at most " + std::to_string(max), field);
  } else if (v.is_double()) {
    double d = v.as_double();
    if (!std::isfinite(d) || d != std::floor(d))
      return Status::InvalidArgument("must be a whole number", field);
    if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
      return Status::InvalidArgument(
          "must be between " + std::to_string(min) + " and " + std::to_string(max), field);
    }
    n = static_cast<int64_t>(d);
  } else {
    return Status::InvalidArgument("must be a number", field);
  }
  if (n < min || n > max) {
    return Status::InvalidArgument(
        "must be between " + std::to_string(min) + " and " + std::to_string(max), field);
  }
  *out = n;
  return Status::Ok();
}

}  // namespace

Status JsonFields::Int(std::string_view key, int64_t* out, int64_t min, int64_t max) {
  const json::value* v = Get(key);
  if (!v) return Status::InvalidArgument("is required", FieldName(key));
  return ReadInt(*v, min, max, out, FieldName(key));
}

Status JsonFields::OptInt(std::string_view key, std::optional<int64_t>* out, int64_t min,
                          int64_t max) {
  const json::value* v = Get(key);
  if (!v) return Status::Ok();
  int64_t n;
  KILN_RETURN_IF_ERROR(ReadInt(*v, min, max, &n, FieldName(key)));
  *out = n;
  return Status::Ok();
}

Status JsonFields::Bool(std::string_view key, bool* out) {
  const json::value* v = Get(key);
  if (!v) return Status::InvalidArgument("is required", FieldName(key));
  if (!v->is_bool()) return Status::InvalidArgument("must be true or false", FieldName(key));
  *out = v->as_bool();
  return Status::Ok();
}

Status JsonFields::OptBool(std::string_view key, std::optional<bool>* out) {
  const json::value* v = Get(key);
  if (!v) return Status::Ok();
  if (!v->is_bool()) return Status::InvalidArgument("must be true or false", FieldName(key));
  *out = v->as_bool();
  return Status::Ok();
}

Status JsonFields::Obj(std::string_view key, const json::object** out) {
  const json::value* v = Get(key);
  if (!v) return Status::InvalidArgument("is required", FieldName(key));
  if (!v->is_object()) return Status::InvalidArgument("must be an object", FieldName(key));
  *out = &v->as_object();
  return Status::Ok();
}

Status JsonFields::OptObj(std::string_view key, const json::object** out) {
  *out = nullptr;
  const json::value* v = Get(key);
  if (!v) return Status::Ok();
  if (!v->is_object()) return Status::InvalidArgument("must be an object", FieldName(key));
  *out = &v->as_object();
  return Status::Ok();
}

Status JsonFields::Arr(std::string_view key, const json::array** out, size_t max_items) {
  KILN_RETURN_IF_ERROR(OptArr(key, out, max_items));
  if (!*out) return Status::InvalidArgument("is required", FieldName(key));
  return Status::Ok();
}

Status JsonFields::OptArr(std::string_view key, const json::array** out, size_t max_items) {
  *out = nullptr;
  const json::value* v = Get(key);
  if (!v) return Status::Ok();
  if (!v->is_array()) return Status::InvalidArgument("must be an array", FieldName(key));
  if (v->as_array().size() > max_items) {
    return Status::InvalidArgument("must have at most " + std::to_string(max_items) + " items",
                                   FieldName(key));
  }
  *out = &v->as_array();
  return Status::Ok();
}

Status JsonFields::Finish() const {
  for (const auto& kv : obj_) {
    if (!seen_.contains(std::string_view(kv.key()))) {
      return Status::InvalidArgument("unknown field", FieldName(kv.key()));
    }
  }
  return Status::Ok();
}

Result<int64_t> ParseId(std::string_view text) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0 || text.empty() ||
      text[0] == '+') {
    return Status::NotFound("no such object");
  }
  return v;
}

}  // namespace kiln::api
