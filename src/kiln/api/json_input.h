// Strict reading of JSON request bodies. Every failure names the field at fault, so the API can
// answer {"error":{"code":"invalid_argument","message":…,"field":"smtp.port"}}.
//
// Usage:
//   KILN_ASSIGN_OR_RETURN(auto obj, ParseJsonObject(request.body));
//   JsonFields in(obj);
//   std::string email;
//   KILN_RETURN_IF_ERROR(in.Str("email", &email, {.max_len = 254}));
//   KILN_RETURN_IF_ERROR(in.Finish());   // unknown fields -> error
// Not thread-safe (one reader per request).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "kiln/base/status.h"
#include "kiln/base/utf8.h"

namespace kiln::api {

// Parses `body` as one JSON object. Fails: empty body, syntax error (with the byte offset),
// invalid UTF-8, nesting deeper than 32, a top-level value that is not an object.
Result<boost::json::object> ParseJsonObject(std::string_view body);

struct StrRule {
  size_t min_len = 0;      // in bytes, after trimming
  size_t max_len = 1000;   // in bytes
  bool trim = true;        // strip surrounding spaces/tabs
  bool multiline = false;  // allow \n, \r and \t (bodies, templates); never other controls
  bool nullable = false;   // accept null (read as "") in Opt* readers
};

class JsonFields {
 public:
  explicit JsonFields(const boost::json::object& obj, std::string prefix = {})
      : obj_(obj), prefix_(std::move(prefix)) {}

  // Required readers: missing -> "is required".
  Status Str(std::string_view key, std::string* out, StrRule rule = {});
  Status Int(std::string_view key, int64_t* out, int64_t min, int64_t max);
  Status Bool(std::string_view key, bool* out);
  Status Obj(std::string_view key, const boost::json::object** out);
  Status Arr(std::string_view key, const boost::json::array** out, size_t max_items);

  // Optional readers: missing -> *out untouched (stays nullopt).
  Status OptStr(std::string_view key, std::optional<std::string>* out, StrRule rule = {});
  Status OptInt(std::string_view key, std::optional<int64_t>* out, int64_t min, int64_t max);
  Status OptBool(std::string_view key, std::optional<bool>* out);
  Status OptObj(std::string_view key, const boost::json::object** out);  // nullptr when missing
  // An array of at most max_items elements (more -> "must have at most N items"); nullptr when
  // missing. The elements are the caller's to check (name them "key[i]").
  Status OptArr(std::string_view key, const boost::json::array** out, size_t max_items);

  // Fails on the first field that no reader asked for ("unknown field").
  Status Finish() const;

  // "smtp.port" for key "port" under prefix "smtp".
  std::string FieldName(std::string_view key) const;

 private:
  const boost::json::value* Get(std::string_view key);
  Status CheckStr(std::string_view key, const boost::json::value& v, std::string* out,
                  const StrRule& rule) const;

  const boost::json::object& obj_;
  std::string prefix_;
  std::set<std::string, std::less<>> seen_;
};

// Reads a path or query parameter as a positive int64 id; fails NotFound (an id that cannot
// exist is the same as one that does not).
Result<int64_t> ParseId(std::string_view text);

// UTF-8 validation lives in kiln/base/utf8.h.
using ::kiln::IsValidUtf8;

}  // namespace kiln::api
