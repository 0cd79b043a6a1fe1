// Fuzzes the lead CSV reader and the row checks. Invariants: never crash; reading the same bytes
// in two different chunkings gives the same records; every field is UTF-8 and within the size
// limit; record numbers count up from 1; writing good records back (AppendCsvField) and reading
// them again gives the same fields (formula-looking fields come back with their apostrophe).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "kiln/base/utf8.h"
#include "kiln/leads/csv_reader.h"
#include "kiln/leads/lead_row.h"

namespace {

using kiln::Status;
using kiln::leads::CsvOptions;
using kiln::leads::CsvReader;
using kiln::leads::CsvRecord;

std::vector<CsvRecord> ReadChunked(std::string_view in, size_t chunk, const CsvOptions& options) {
  CsvReader reader(options);
  std::vector<CsvRecord> out;
  auto sink = [&](CsvRecord& r) {
    out.push_back(r);
    return Status::Ok();
  };
  for (size_t i = 0; i < in.size(); i += chunk)
    FUZZ_CHECK(reader.Feed(in.substr(i, chunk), sink).ok());
  FUZZ_CHECK(reader.Finish(sink).ok());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t chunk = 1 + data[0] % 13;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const CsvOptions options{.delimiter = 0, .max_field_bytes = 64, .max_fields = 16};
  const std::vector<CsvRecord> whole = ReadChunked(in, in.size() + 1, options);
  const std::vector<CsvRecord> parts = ReadChunked(in, chunk, options);
  FUZZ_CHECK(whole.size() == parts.size());
  for (size_t i = 0; i < whole.size(); ++i) {
    FUZZ_CHECK(whole[i].fields == parts[i].fields);
    FUZZ_CHECK(whole[i].error == parts[i].error);
    FUZZ_CHECK(whole[i].line == parts[i].line);
    FUZZ_CHECK(whole[i].number == static_cast<int64_t>(i) + 1);
    FUZZ_CHECK(whole[i].error.empty() || whole[i].fields.empty());
    FUZZ_CHECK(whole[i].fields.size() <= options.max_fields);
    for (const std::string& f : whole[i].fields) {
      FUZZ_CHECK(kiln::IsValidUtf8(f));
      // Windows-1252 decoding can grow a field up to 3 times.
      FUZZ_CHECK(f.size() <= 3 * options.max_field_bytes);
    }
  }
  if (whole.empty()) return 0;

  // The row checks never crash on whatever the reader produced.
  const auto& first = whole.front().fields;
  const bool header = kiln::leads::LooksLikeHeader(first);
  const auto mapping = kiln::leads::GuessMapping(first, header);
  for (const CsvRecord& r : whole) {
    if (r.error.empty()) (void)kiln::leads::ReadLeadRow(r.fields, mapping, first);
  }

  // Round trip through the writer.
  std::string written;
  std::vector<std::vector<std::string>> expected;
  for (const CsvRecord& r : whole) {
    if (!r.error.empty() || r.fields.empty()) continue;
    if (r.fields.size() == 1 && r.fields[0].empty()) continue;  // would be a blank line
    std::vector<std::string> want;
    for (size_t i = 0; i < r.fields.size(); ++i) {
      if (i) written.push_back(',');
      kiln::leads::AppendCsvField(written, r.fields[i]);
      const std::string& f = r.fields[i];
      const bool formula = !f.empty() && (f[0] == '=' || f[0] == '+' || f[0] == '-' ||
                                          f[0] == '@' || f[0] == '\t' || f[0] == '\r');
      want.push_back(formula ? "'" + f : f);
    }
    written += "\r\n";
    expected.push_back(std::move(want));
  }
  const CsvOptions big{.delimiter = ',', .max_field_bytes = 1024, .max_fields = 64};
  const std::vector<CsvRecord> back = ReadChunked(written, written.size() + 1, big);
  FUZZ_CHECK(back.size() == expected.size());
  for (size_t i = 0; i < back.size(); ++i) FUZZ_CHECK(back[i].fields == expected[i]);
  return 0;
}
