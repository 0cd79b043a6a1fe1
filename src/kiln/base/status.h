// Status and Result<T>: expected failures as values (after LevelDB's status.h).
//
// A Status is either OK or carries a Code, a human-readable message and, for input errors, the
// name of the offending field ("email", "steps[2].delay_hours", "row 17, field email").
// Result<T> holds either a T or a non-OK Status. Both are plain values; not thread-safe to
// mutate concurrently, safe to copy across threads.
#pragma once

#include <cassert>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace kiln {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,     // the caller sent something wrong; `field` names it
    kNotFound,            // no such object (also: exists but belongs to another workspace)
    kAlreadyExists,       // unique constraint: e.g. duplicate email
    kUnauthenticated,     // no or bad credentials
    kPermissionDenied,    // authenticated but the role does not allow it
    kFailedPrecondition,  // the object is in the wrong state for this operation
    kConflict,            // concurrent modification / reuse of a one-time token
    kResourceExhausted,   // quota or rate limit; may carry a retry hint in the message
    kTooLarge,            // a body, file or value over its limit
    kUnavailable,         // a dependency (db, mail server) is down; retry later
    kDeadlineExceeded,    // a timeout
    kInternal,            // a bug or an unexpected failure of a dependency
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg, std::string field = {}) {
    return Status(Code::kInvalidArgument, std::move(msg), std::move(field));
  }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg, std::string field = {}) {
    return Status(Code::kAlreadyExists, std::move(msg), std::move(field));
  }
  static Status Unauthenticated(std::string msg) {
    return Status(Code::kUnauthenticated, std::move(msg));
  }
  static Status PermissionDenied(std::string msg) {
    return Status(Code::kPermissionDenied, std::move(msg));
  }
  static Status FailedPrecondition(std::string msg, std::string field = {}) {
    return Status(Code::kFailedPrecondition, std::move(msg), std::move(field));
  }
  static Status Conflict(std::string msg) { return Status(Code::kConflict, std::move(msg)); }
  static Status ResourceExhausted(std::string msg) {
    return Status(Code::kResourceExhausted, std::move(msg));
  }
  static Status TooLarge(std::string msg, std::string field = {}) {
    return Status(Code::kTooLarge, std::move(msg), std::move(field));
  }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status DeadlineExceeded(std::string msg) {
    return Status(Code::kDeadlineExceeded, std::move(msg));
  }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    return Status(code_, std::string(context) + ": " + message_, field_);
  }
  // Returns a copy with `field` set (keeps code and message).
  Status WithField(std::string field) const {
    Status s = *this;
    s.field_ = std::move(field);
    return s;
  }

  // Stable machine-readable name: "invalid_argument", "not_found", ...
  static std::string_view CodeName(Code code);
  std::string_view code_name() const { return CodeName(code_); }
  // "not_found: no such campaign" (+ " [field]" when set).
  std::string ToString() const;

  bool operator==(const Status& o) const = default;

 private:
  Status(Code code, std::string msg, std::string field = {})
      : code_(code), message_(std::move(msg)), field_(std::move(field)) {}

  Code code_ = Code::kOk;
  std::string message_;
  std::string field_;
};

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  // From anything T can be built from (e.g. a json::object into Result<json::value>).
  template <typename U>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
           !std::is_same_v<std::decay_t<U>, Status> && !std::is_same_v<std::decay_t<U>, Result>)
      Result(U&& v)
      : v_(std::in_place_type<T>, std::forward<U>(v)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {         // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) std::abort();          // an OK status carries no value: a bug
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & {
    if (!ok()) std::abort();
    return std::get<T>(v_);
  }
  const T& value() const& {
    if (!ok()) std::abort();
    return std::get<T>(v_);
  }
  T&& value() && {
    if (!ok()) std::abort();
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  T value_or(T fallback) const& { return ok() ? std::get<T>(v_) : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kiln

// Propagates a non-OK Status from an expression returning Status.
#define KILN_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::kiln::Status kiln_status_ = (expr);        \
    if (!kiln_status_.ok()) return kiln_status_; \
  } while (0)

#define KILN_CONCAT_INNER_(a, b) a##b
#define KILN_CONCAT_(a, b) KILN_CONCAT_INNER_(a, b)
// KILN_ASSIGN_OR_RETURN(auto x, ComputeResult()); returns the Status on failure.
#define KILN_ASSIGN_OR_RETURN(lhs, expr) \
  KILN_ASSIGN_OR_RETURN_IMPL_(KILN_CONCAT_(kiln_result_, __LINE__), lhs, expr)
#define KILN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
