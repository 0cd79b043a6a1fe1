#include "kiln/api/csv_rows.h"

#include <charconv>
#include <set>
#include <utility>

#include "kiln/base/utf8.h"
#include "kiln/leads/csv_reader.h"

namespace kiln::api {

namespace json = boost::json;

namespace {

std::string Trim(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  size_t end = s.find_last_not_of(" \t");
  return std::string(s.substr(begin, end - begin + 1));
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

Result<std::vector<CsvRow>> ReadCsvRows(std::string_view body, const CsvFileOptions& options) {
  leads::CsvReader reader(leads::CsvOptions{.max_field_bytes = options.max_field_bytes});
  std::vector<CsvRow> rows;
  auto sink = [&](leads::CsvRecord& r) -> Status {
    if (!r.error.empty() && options.stop_on_bad_record) {
      return Status::InvalidArgument("row " + std::to_string(r.number) + " (line " +
                                     std::to_string(r.line) + ") is not valid CSV: " + r.error);
    }
    if (rows.size() > options.max_rows) {  // the header and max_rows data rows are in
      return Status::TooLarge("the file has more than " + std::to_string(options.max_rows) + " " +
                              std::string(options.what) + "; split it");
    }
    rows.push_back(CsvRow{.row = r.number, .cells = std::move(r.fields), .error = r.error});
    return Status::Ok();
  };
  KILN_RETURN_IF_ERROR(reader.Feed(body, sink));
  KILN_RETURN_IF_ERROR(reader.Finish(sink));
  return rows;
}

std::string NormalizeCsvHeader(std::string_view raw) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (raw.starts_with(kBom)) raw.remove_prefix(kBom.size());
  std::string name = AsciiLower(Trim(raw));
  for (char& c : name) {
    if (c == ' ' || c == '-') c = '_';
  }
  return name;
}

Result<std::vector<const CsvColumn*>> MapCsvHeader(const std::vector<std::string>& header,
                                                   std::span<const CsvColumn> columns,
                                                   std::span<const CsvAlias> aliases,
                                                   std::string_view required,
                                                   std::string_view known) {
  std::vector<const CsvColumn*> out;
  std::set<std::string> seen;
  for (const std::string& raw : header) {
    std::string name = NormalizeCsvHeader(raw);
    for (const CsvAlias& a : aliases) {
      if (name == a.alias) name = a.name;
    }
    const CsvColumn* found = nullptr;
    for (const CsvColumn& c : columns) {
      if (name == c.name) found = &c;
    }
    if (!found) {
      return Status::InvalidArgument("unknown column '" + raw.substr(0, 64) +
                                         "' in the first row; the columns are " +
                                         std::string(known),
                                     "columns");
    }
    if (!seen.insert(name).second) {
      return Status::InvalidArgument("column '" + name + "' appears twice", "columns");
    }
    out.push_back(found);
  }
  if (!required.empty() && !seen.count(std::string(required))) {
    return Status::InvalidArgument("the first row must name " +
                                       std::string(required == "email" ? "an " : "a ") +
                                       std::string(required) + " column",
                                   "columns");
  }
  return out;
}

bool CsvRowIsBlank(const std::vector<std::string>& cells) {
  for (const auto& c : cells) {
    if (c.find_first_not_of(" \t\r") != std::string::npos) return false;
  }
  return true;
}

Result<json::object> CsvCellsToInput(const std::vector<std::string>& cells,
                                     const std::vector<const CsvColumn*>& columns) {
  if (cells.size() > columns.size()) {
    return Status::InvalidArgument("has " + std::to_string(cells.size()) +
                                       " fields; the header names " +
                                       std::to_string(columns.size()),
                                   "columns");
  }
  json::object obj;
  for (size_t i = 0; i < cells.size(); ++i) {
    std::string cell = Trim(cells[i]);
    if (cell.empty()) continue;
    const CsvColumn& c = *columns[i];
    if (!IsValidUtf8(cell)) return Status::InvalidArgument("is not valid UTF-8", c.name);
    json::value v;
    if (c.kind == CsvColumn::kInt) {
      int64_t n = 0;
      auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), n);
      if (ec != std::errc() || ptr != cell.data() + cell.size()) {
        return Status::InvalidArgument("must be a whole number", c.name);
      }
      v = n;
    } else if (c.kind == CsvColumn::kBool) {
      std::string lower = AsciiLower(cell);
      if (lower == "true" || lower == "1" || lower == "yes") {
        v = true;
      } else if (lower == "false" || lower == "0" || lower == "no") {
        v = false;
      } else {
        return Status::InvalidArgument("must be true or false", c.name);
      }
    } else {
      v = json::string(cell);
    }
    std::string_view field = c.field;
    size_t dot = field.find('.');
    if (dot == std::string_view::npos) {
      obj[field] = std::move(v);
    } else {
      json::value& sub = obj[field.substr(0, dot)];
      if (!sub.is_object()) sub.emplace_object();
      sub.as_object()[field.substr(dot + 1)] = std::move(v);
    }
  }
  return obj;
}

std::string CsvColumnFor(std::string_view field, const std::vector<const CsvColumn*>& columns) {
  for (const CsvColumn* c : columns) {
    if (field == c->field) return c->name;
  }
  std::string name(field);
  for (char& ch : name) {
    if (ch == '.') ch = '_';
  }
  return name;
}

void CsvProblems::Add(int64_t row, std::string_view column, std::string_view message) {
  ++count_;
  if (items_.size() >= max_reported_) return;
  std::string where = "row " + std::to_string(row);
  if (!column.empty()) where += ", " + std::string(column);
  items_.push_back(
      json::object{{"field", where}, {"row", row}, {"column", column}, {"message", message}});
}

json::array CsvProblems::Take() { return std::exchange(items_, {}); }

Status CsvProblems::Summary() const {
  return Status::InvalidArgument(std::to_string(count_) +
                                 (count_ == 1 ? " row has" : " rows have") +
                                 " errors; nothing was imported");
}

}  // namespace kiln::api
