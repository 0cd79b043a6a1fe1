// Fuzzes the CSV row reading of the bots and senders imports (api/csv_rows.h): the records, the
// header mapped through normalisation and aliases, each data row turned into a route's JSON input.
// Invariants: never crash; rows count up from 1; a mapped header has one column per cell, none
// twice; an input holds only the fields of the columns, text trimmed, non-empty and UTF-8, numbers
// as integers, flags as booleans; a refused row names one of its columns or "columns"; problems are
// capped but counted.
#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/api/csv_rows.h"
#include "kiln/base/utf8.h"

namespace {

using kiln::api::CsvAlias;
using kiln::api::CsvColumn;

constexpr CsvColumn kColumns[] = {
    {"email", "email", CsvColumn::kText},
    {"name", "name", CsvColumn::kText},
    {"smtp_host", "smtp.host", CsvColumn::kText},
    {"smtp_port", "smtp.port", CsvColumn::kInt},
    {"imap_port", "imap.port", CsvColumn::kInt},
    {"allow_self_signed", "allow_self_signed", CsvColumn::kBool},
    {"warmup_enabled", "warmup.enabled", CsvColumn::kBool},
};
constexpr CsvAlias kAliases[] = {{"e_mail", "email"}, {"smtp_server", "smtp_host"}};

void CheckValue(const CsvColumn& c, const boost::json::value& v) {
  switch (c.kind) {
    case CsvColumn::kInt:
      FUZZ_CHECK(v.is_int64());
      break;
    case CsvColumn::kBool:
      FUZZ_CHECK(v.is_bool());
      break;
    case CsvColumn::kText: {
      FUZZ_CHECK(v.is_string());
      std::string_view s = v.as_string();
      FUZZ_CHECK(!s.empty() && kiln::IsValidUtf8(s));
      FUZZ_CHECK(s.front() != ' ' && s.front() != '\t' && s.back() != ' ' && s.back() != '\t');
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto rows = kiln::api::ReadCsvRows(
      body, {.max_rows = 50, .what = "rows", .max_field_bytes = 256, .stop_on_bad_record = false});
  if (!rows.ok()) {
    FUZZ_CHECK(rows.status().code() == kiln::Status::Code::kTooLarge);
    return 0;
  }
  for (size_t i = 0; i < rows->size(); ++i)
    FUZZ_CHECK((*rows)[i].row == static_cast<int64_t>(i) + 1);
  if (rows->empty() || !(*rows)[0].error.empty()) return 0;
  auto columns = kiln::api::MapCsvHeader((*rows)[0].cells, kColumns, kAliases, "email", "...");
  if (!columns.ok()) {
    FUZZ_CHECK(columns.status().field() == "columns");
    return 0;
  }
  FUZZ_CHECK(columns->size() == (*rows)[0].cells.size());
  std::set<const CsvColumn*> distinct(columns->begin(), columns->end());
  FUZZ_CHECK(distinct.size() == columns->size());

  kiln::api::CsvProblems problems(3);
  for (size_t i = 1; i < rows->size(); ++i) {
    const auto& row = (*rows)[i];
    if (!row.error.empty() || kiln::api::CsvRowIsBlank(row.cells)) continue;
    auto in = kiln::api::CsvCellsToInput(row.cells, *columns);
    if (!in.ok()) {
      const std::string& field = in.status().field();
      bool named = field == "columns";
      for (const CsvColumn* c : *columns) named = named || field == c->name;
      FUZZ_CHECK(named);
      problems.Add(row.row, field, in.status().message());
      continue;
    }
    for (const CsvColumn* c : *columns) {
      std::string_view f = c->field;
      size_t dot = f.find('.');
      const boost::json::value* v = nullptr;
      if (dot == std::string_view::npos) {
        v = in->if_contains(f);
      } else if (const auto* sub = in->if_contains(f.substr(0, dot))) {
        FUZZ_CHECK(sub->is_object());
        v = sub->as_object().if_contains(f.substr(dot + 1));
      }
      if (v) CheckValue(*c, *v);
    }
    for (const auto& kv : *in) {
      bool known = false;
      for (const CsvColumn* c : *columns) {
        std::string_view f = c->field;
        known = known || f.substr(0, f.find('.')) == kv.key();
      }
      FUZZ_CHECK(known);
    }
    FUZZ_CHECK(kiln::api::CsvColumnFor(std::string(columns->front()->field), *columns) ==
               columns->front()->name);
  }
  FUZZ_CHECK(problems.Take().size() <= 3);
  return 0;
}
