// Fuzzes the template engine: Template::Parse and Render on arbitrary templates and data.
// Input layout: byte 0 holds render flags (bit 0 html_escape_values, bit 1 single_line, bit 2
// strict), bytes 1..8 the spin seed; the rest is the template, then optionally a NUL byte and
// the data as "path=value" lines (values are untrusted, except lines starting with '!', which
// are safe HTML).
// Invariants: never crash or hang; output within max_output_bytes; single_line output holds no
// CR or LF; an HTML render of a template without '<' never outputs '<' from untrusted data; a
// render is deterministic; missing variables are variables the template reads.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/template/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  const uint8_t flags = data[0];
  uint64_t seed;
  std::memcpy(&seed, data + 1, sizeof seed);
  std::string_view rest(reinterpret_cast<const char*>(data + 9), size - 9);
  const size_t split = rest.find('\0');
  const std::string_view source = rest.substr(0, split);
  const std::string_view values = split == std::string_view::npos ? "" : rest.substr(split + 1);

  kiln::tmpl::TemplateOptions topt;
  topt.max_source_bytes = 64 * 1024;
  auto t = kiln::tmpl::Template::Parse(source, topt);
  if (!t.ok()) {
    FUZZ_CHECK(!t.status().message().empty());
    return 0;
  }

  kiln::tmpl::RenderContext vars;
  bool any_safe = false;
  size_t pos = 0;
  while (pos < values.size()) {
    size_t eol = values.find('\n', pos);
    if (eol == std::string_view::npos) eol = values.size();
    std::string_view line = values.substr(pos, eol - pos);
    pos = eol + 1;
    const bool safe = !line.empty() && line[0] == '!';
    if (safe) line.remove_prefix(1);
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key(line.substr(0, eq)), value(line.substr(eq + 1));
    if (safe) {
      any_safe = true;
      vars.SetSafe(std::move(key), std::move(value));
    } else {
      vars.Set(std::move(key), std::move(value));
    }
  }

  kiln::tmpl::RenderOptions ropt;
  ropt.html_escape_values = flags & 1;
  ropt.single_line = flags & 2;
  ropt.strict = flags & 4;
  ropt.spin_seed = seed;
  ropt.max_output_bytes = 16 * 1024;
  auto r = t->Render(vars, ropt);
  if (!r.ok()) {
    const auto code = r.status().code();
    FUZZ_CHECK(code == kiln::Status::Code::kTooLarge ||
               (ropt.strict && code == kiln::Status::Code::kInvalidArgument));
    return 0;
  }
  const std::string& out = r->text;
  FUZZ_CHECK(out.size() <= ropt.max_output_bytes);
  if (ropt.single_line) FUZZ_CHECK(out.find_first_of("\r\n") == std::string::npos);
  if (ropt.html_escape_values && !any_safe && source.find('<') == std::string_view::npos) {
    FUZZ_CHECK(out.find('<') == std::string::npos);
  }
  const auto& names = t->variables();
  for (const auto& m : r->missing) {
    FUZZ_CHECK(std::find(names.begin(), names.end(), m.name) != names.end());
    FUZZ_CHECK(m.line >= 1 && m.column >= 1);
  }
  auto again = t->Render(vars, ropt);
  FUZZ_CHECK(again.ok() && again->text == out);
  return 0;
}
