// Fuzzes the API's strict JSON body reader: ParseJsonObject and every typed reader of JsonFields
// on arbitrary bytes. Invariants: never crash; a string accepted by Str() has no control
// characters and respects its length limit; an accepted Int lies within its bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/api/json_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto obj = kiln::api::ParseJsonObject(body);
  if (!obj.ok()) return 0;
  kiln::api::JsonFields in(*obj);
  std::string s;
  if (in.Str("name", &s, {.min_len = 1, .max_len = 50}).ok()) {
    FUZZ_CHECK(!s.empty() && s.size() <= 50);
    for (unsigned char c : s) FUZZ_CHECK(c >= 0x20 && c != 0x7F);
  }
  int64_t n = 0;
  if (in.Int("port", &n, 1, 65535).ok()) FUZZ_CHECK(n >= 1 && n <= 65535);
  bool b;
  (void)in.Bool("on", &b);
  const boost::json::object* nested = nullptr;
  if (in.OptObj("smtp", &nested).ok() && nested) {
    kiln::api::JsonFields inner(*nested, "smtp");
    std::optional<std::string> host;
    (void)inner.OptStr("host", &host, {.multiline = true, .nullable = true});
    (void)inner.Finish();
  }
  (void)in.Finish();
  return 0;
}
