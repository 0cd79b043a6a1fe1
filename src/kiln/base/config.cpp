#include "kiln/base/config.h"

#include <charconv>
#include <cstdlib>

namespace kiln {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

Status Validate(const SettingDef& def, std::string& value, std::string_view source) {
  auto where = [&] { return std::string(" (from ") + std::string(source) + ")"; };
  switch (def.type) {
    case SettingDef::Type::kString:
      if (value.find('\0') != std::string::npos) {
        return Status::InvalidArgument("contains a NUL byte" + where(), std::string(def.name));
      }
      return Status::Ok();
    case SettingDef::Type::kInt: {
      int64_t v = 0;
      auto t = Trim(value);
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec != std::errc() || ptr != t.data() + t.size() || t.empty()) {
        return Status::InvalidArgument(
            std::string(def.name) + ": '" + value + "' is not an integer" + where(),
            std::string(def.name));
      }
      if (!(def.min == 0 && def.max == 0) && (v < def.min || v > def.max)) {
        return Status::InvalidArgument(std::string(def.name) + ": " + std::to_string(v) +
                                           " is outside " + std::to_string(def.min) + ".." +
                                           std::to_string(def.max) + where(),
                                       std::string(def.name));
      }
      value = std::to_string(v);
      return Status::Ok();
    }
    case SettingDef::Type::kBool: {
      auto t = Trim(value);
      if (t == "1" || t == "true" || t == "yes" || t == "on") {
        value = "true";
      } else if (t == "0" || t == "false" || t == "no" || t == "off") {
        value = "false";
      } else {
        return Status::InvalidArgument(
            std::string(def.name) + ": '" + value + "' is not a boolean (true/false)" + where(),
            std::string(def.name));
      }
      return Status::Ok();
    }
  }
  return Status::Internal("unknown setting type");
}

}  // namespace

std::string EnvNameOf(std::string_view setting) {
  std::string out = "KILN_";
  for (char c : setting) out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return out;
}

std::string FlagNameOf(std::string_view setting) {
  std::string out = "--";
  for (char c : setting) out += (c == '_' ? '-' : c);
  return out;
}

Result<std::map<std::string, std::string>> ParseConfigFile(std::string_view text,
                                                           std::string_view file_name) {
  std::map<std::string, std::string> out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument(std::string(file_name) + " line " + std::to_string(line_no) +
                                     ": expected 'name = value'");
    }
    std::string key(Trim(line.substr(0, eq)));
    std::string value(Trim(line.substr(eq + 1)));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key.empty()) {
      return Status::InvalidArgument(std::string(file_name) + " line " + std::to_string(line_no) +
                                     ": empty setting name");
    }
    out[key] = value;
  }
  return out;
}

Result<Config> Config::Resolve(std::span<const SettingDef> defs,
                               const std::map<std::string, std::string>& flags,
                               const std::map<std::string, std::string>& env,
                               std::string_view file_text, std::string_view file_name) {
  KILN_ASSIGN_OR_RETURN(auto file, ParseConfigFile(file_text, file_name));
  Config c;
  for (const auto& def : defs) {
    Entry e{&def, std::string(def.default_value), "default"};
    if (auto it = file.find(std::string(def.name)); it != file.end()) {
      e.value = it->second;
      e.source = std::string(file_name);
      file.erase(it);
    }
    if (auto it = env.find(EnvNameOf(def.name)); it != env.end()) {
      e.value = it->second;
      e.source = EnvNameOf(def.name);
    }
    if (auto it = flags.find(std::string(def.name)); it != flags.end()) {
      e.value = it->second;
      e.source = FlagNameOf(def.name);
    }
    KILN_RETURN_IF_ERROR(Validate(def, e.value, e.source));
    c.entries_.emplace(std::string(def.name), std::move(e));
  }
  if (!file.empty()) {
    return Status::InvalidArgument(std::string(file_name) + ": unknown setting '" +
                                   file.begin()->first + "' (see kiln --help)");
  }
  for (const auto& [k, v] : flags) {
    if (!c.entries_.contains(k)) return Status::InvalidArgument("unknown setting '" + k + "'");
  }
  return c;
}

Config Config::Defaults(std::span<const SettingDef> defs) {
  auto r = Resolve(defs, {}, {}, "");
  if (!r.ok()) std::abort();  // the built-in table's defaults must validate
  return std::move(r).value();
}

const Config::Entry& Config::Find(std::string_view name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) std::abort();  // unknown setting name: a programming error
  return it->second;
}

const std::string& Config::GetString(std::string_view name) const { return Find(name).value; }

int64_t Config::GetInt(std::string_view name) const {
  const Entry& e = Find(name);
  if (e.def->type != SettingDef::Type::kInt) std::abort();
  return std::strtoll(e.value.c_str(), nullptr, 10);
}

bool Config::GetBool(std::string_view name) const {
  const Entry& e = Find(name);
  if (e.def->type != SettingDef::Type::kBool) std::abort();
  return e.value == "true";
}

const std::string& Config::SourceOf(std::string_view name) const { return Find(name).source; }

Status Config::Set(std::string_view name, std::string value) {
  auto it = entries_.find(name);
  if (it == entries_.end())
    return Status::InvalidArgument("unknown setting '" + std::string(name) + "'");
  KILN_RETURN_IF_ERROR(Validate(*it->second.def, value, "override"));
  it->second.value = std::move(value);
  it->second.source = "override";
  return Status::Ok();
}

std::string SettingsMarkdown(std::span<const SettingDef> defs) {
  std::string out =
      "| setting | flag | environment | default | meaning |\n| --- | --- | --- | --- | --- |\n";
  for (const auto& d : defs) {
    out += "| `" + std::string(d.name) + "` | `" + FlagNameOf(d.name) + "` | `" +
           EnvNameOf(d.name) + "` | `" + std::string(d.default_value) + "` | " +
           std::string(d.doc) + " |\n";
  }
  return out;
}

}  // namespace kiln
