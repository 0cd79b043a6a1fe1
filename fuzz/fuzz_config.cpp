// Fuzzes kiln::ParseConfigFile and Config::Resolve over the real settings table.
// Invariants: parsed names and values are trimmed single-line strings; resolving never crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/base/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = kiln::ParseConfigFile(input, "fuzz.conf");
  if (parsed.ok()) {
    for (const auto& [name, value] : *parsed) {
      FUZZ_CHECK(!name.empty());
      FUZZ_CHECK(name.find('\n') == std::string::npos && value.find('\n') == std::string::npos);
      FUZZ_CHECK(name.front() != ' ' && name.back() != ' ');
    }
  } else {
    FUZZ_CHECK(parsed.status().message().find("fuzz.conf") != std::string::npos);
  }
  auto config = kiln::Config::Resolve(kiln::AllSettings(), {}, {}, input, "fuzz.conf");
  if (config.ok()) {
    for (const auto& def : kiln::AllSettings()) (void)config->SourceOf(def.name);
  }
  return 0;
}
