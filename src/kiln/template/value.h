// Values and variable sources for template rendering.
//
// A Value is what a template variable holds: nil, a boolean, a number or a string. A string is
// either *untrusted* text (everything that comes from a lead: names, company, custom fields),
// which an HTML render escapes, or *safe* HTML (Value::Safe: the sender's signature and the
// unsubscribe URL, which the workspace controls and Kiln generates), which is written as is.
// Template text and literals written in the template are safe too: the template's author owns
// them. That is the whole trust model: escaping is decided per value, never per template.
//
// Variables is the lookup interface a render reads; RenderContext is the ready-made flat map,
// cheap to fill per lead and chainable to a shared parent (sender and workspace fields built once
// per campaign, lead fields per lead). Paths are dotted: "first_name", "sender.first_name",
// "custom.Industry Name" (the template spells the last one custom["Industry Name"]).
//
// Thread-safety: Value is a plain value. A RenderContext may be read by many threads at once
// (Find is const) but must not be modified while read.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kiln::tmpl {

class Value {
 public:
  enum class Kind { kNil, kBool, kNumber, kString };

  Value() = default;  // nil
  static Value Nil() { return Value(); }
  static Value Bool(bool b) {
    Value v;
    v.kind_ = Kind::kBool;
    v.bool_ = b;
    return v;
  }
  static Value Number(double d) {
    Value v;
    v.kind_ = Kind::kNumber;
    v.number_ = d;
    return v;
  }
  // Untrusted text: escaped when rendered into HTML.
  static Value String(std::string s) {
    Value v;
    v.kind_ = Kind::kString;
    v.text_ = std::move(s);
    return v;
  }
  // Trusted HTML (or a URL Kiln generated): never escaped.
  static Value Safe(std::string html) {
    Value v = String(std::move(html));
    v.safe_ = true;
    return v;
  }

  Kind kind() const { return kind_; }
  bool is_nil() const { return kind_ == Kind::kNil; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool boolean() const { return bool_; }
  double number() const { return number_; }
  // The string of a kString value ("" for other kinds; see AppendTo for their text).
  const std::string& text() const { return text_; }
  bool safe() const { return safe_; }
  void set_safe(bool safe) { safe_ = safe; }

  // Liquid truthiness: only nil and false are falsy (an empty string is truthy).
  bool Truthy() const { return !(kind_ == Kind::kNil || (kind_ == Kind::kBool && !bool_)); }
  // Appends the value as text: nil -> "", booleans "true"/"false", numbers in shortest form
  // with integers printed without a fraction ("42", "4.5").
  void AppendTo(std::string* out) const;
  // True when AppendTo would append nothing.
  bool RendersEmpty() const { return kind_ == Kind::kNil || (is_string() && text_.empty()); }

 private:
  Kind kind_ = Kind::kNil;
  bool bool_ = false;
  bool safe_ = false;
  double number_ = 0;
  std::string text_;
};

// Where a render looks variables up.
class Variables {
 public:
  virtual ~Variables() = default;
  // The value at `path` ("first_name", "sender.signature", "custom.Industry Name"), or nullptr
  // when there is none (the template renders it as empty and reports it as missing).
  virtual const Value* Find(std::string_view path) const = 0;
};

// A flat map of path -> Value with an optional parent consulted for paths it does not hold.
// The parent must outlive this context.
class RenderContext final : public Variables {
 public:
  explicit RenderContext(const Variables* parent = nullptr) : parent_(parent) {}

  // Each setter replaces any earlier value at `path` and returns *this for chaining.
  RenderContext& Set(std::string path, std::string text) {  // untrusted text
    return SetValue(std::move(path), Value::String(std::move(text)));
  }
  RenderContext& SetSafe(std::string path, std::string html) {  // trusted HTML / URL
    return SetValue(std::move(path), Value::Safe(std::move(html)));
  }
  RenderContext& SetValue(std::string path, Value value) {
    values_.insert_or_assign(std::move(path), std::move(value));
    return *this;
  }
  // Drops every value (keeps the parent and the allocated buckets, for reuse per lead).
  void Clear() { values_.clear(); }
  size_t size() const { return values_.size(); }

  const Value* Find(std::string_view path) const override {
    auto it = values_.find(path);
    if (it != values_.end()) return &it->second;
    return parent_ ? parent_->Find(path) : nullptr;
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  const Variables* parent_;
  std::unordered_map<std::string, Value, Hash, std::equal_to<>> values_;
};

}  // namespace kiln::tmpl
