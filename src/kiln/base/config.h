// Settings: one table of every setting (name, type, default, one line of doc), after Postfix's
// mail_params.h, and a resolved Config built from flags > KILN_* environment > config file >
// defaults. The same table prints `kiln --help` and docs/operations.md.
//
// A Config is immutable once built and safe to read from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"

namespace kiln {

struct SettingDef {
  enum class Type { kString, kInt, kBool };
  std::string_view name;  // snake_case; flag is --name with '_' -> '-', env is KILN_NAME
  Type type;
  std::string_view default_value;
  std::string_view doc;  // one line
  int64_t min = 0;       // kInt only
  int64_t max = 0;       // kInt only; min == max == 0 means unbounded
};

// The table of every setting Kiln has (defined in settings.cpp).
std::span<const SettingDef> AllSettings();

class Config {
 public:
  // Resolves every setting. `flags` holds values given on the command line (by setting name),
  // `env` the process environment (e.g. from environ), `file_text` the contents of the config file
  // (empty if none). Precedence: flags > env > file > default. Fails with the setting's name and
  // the source of the bad value ("http_threads: not an integer (from KILN_HTTP_THREADS)").
  static Result<Config> Resolve(std::span<const SettingDef> defs,
                                const std::map<std::string, std::string>& flags,
                                const std::map<std::string, std::string>& env,
                                std::string_view file_text, std::string_view file_name = "config");

  // Typed accessors; aborting on an unknown name or a wrong type is a programming error.
  const std::string& GetString(std::string_view name) const;
  int64_t GetInt(std::string_view name) const;
  bool GetBool(std::string_view name) const;

  // Overrides a value after resolution (tests, derived defaults). Validates like Resolve.
  Status Set(std::string_view name, std::string value);

  // Where each value came from: "flag", "env", "file", "default".
  const std::string& SourceOf(std::string_view name) const;

  // A config with only defaults.
  static Config Defaults(std::span<const SettingDef> defs);

 private:
  struct Entry {
    const SettingDef* def;
    std::string value;
    std::string source;
  };
  const Entry& Find(std::string_view name) const;
  std::map<std::string, Entry, std::less<>> entries_;
};

// Parses "key = value" lines; '#' starts a comment; blank lines ignored. Fails with the line
// number.
Result<std::map<std::string, std::string>> ParseConfigFile(std::string_view text,
                                                           std::string_view file_name);

// "listen" -> "KILN_LISTEN", "http_threads" -> "--http-threads".
std::string EnvNameOf(std::string_view setting);
std::string FlagNameOf(std::string_view setting);

// Markdown table of all settings (for docs/operations.md and `kiln settings --markdown`).
std::string SettingsMarkdown(std::span<const SettingDef> defs);

}  // namespace kiln
