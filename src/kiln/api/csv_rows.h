// CSV uploads whose rows become the JSON input of one create route (warm-up inboxes, senders):
// POST .../bots/import and POST .../senders/import read the file with leads::CsvReader (quoting,
// `,` `;` or tab delimiters, byte order mark, Windows-1252), map the header row to the route's
// input fields, turn each data row into the JSON object the single-item create takes, and report
// every problem by row and column so a file is fixed in one pass.
//
// Rows are numbered like a spreadsheet shows them: the header is row 1, the first data row 2.
// Pure functions over their arguments; CsvProblems is used by one thread.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"

namespace kiln::api {

// One column a file may have and the input field it fills.
struct CsvColumn {
  const char* name;   // the canonical header name: "smtp_port"
  const char* field;  // the input field, at most one level deep: "smtp.port", "email"
  enum Kind { kText, kInt, kBool } kind;
};

// Another header people use for a column: {"daily_limit", "daily_quota"}.
struct CsvAlias {
  const char* alias;
  const char* name;  // a CsvColumn::name
};

// One record of the file.
struct CsvRow {
  int64_t row = 0;                 // 1 for the header
  std::vector<std::string> cells;  // meaningful only when error is empty
  std::string error;               // why the reader cannot use the record (names the column)
};

struct CsvFileOptions {
  size_t max_rows = 5000;  // data rows below the header
  std::string_view what;   // the items, for messages: "bots", "senders"
  size_t max_field_bytes = 1 << 20;
  // True: a record the reader cannot use fails the whole file, naming its row and line.
  // False: it comes back with CsvRow::error set, for the caller to report with the other rows.
  bool stop_on_bad_record = true;
};

// Reads every record of `body`, header included. Fails InvalidArgument for a record the reader
// cannot use (stop_on_bad_record) and TooLarge when the file has more than max_rows data rows.
Result<std::vector<CsvRow>> ReadCsvRows(std::string_view body, const CsvFileOptions& options);

// A header cell as compared with column names and aliases: trimmed, ASCII lowercase, spaces and
// '-' read as '_' ("SMTP Host" -> "smtp_host"); a byte order mark the reader left is dropped.
std::string NormalizeCsvHeader(std::string_view raw);

// Maps the header row to `columns` (directly or through `aliases`). Fails InvalidArgument with
// field "columns" for an unknown column (the message lists `known`), a column named twice (also
// through an alias), or a missing `required` column.
Result<std::vector<const CsvColumn*>> MapCsvHeader(const std::vector<std::string>& header,
                                                   std::span<const CsvColumn> columns,
                                                   std::span<const CsvAlias> aliases,
                                                   std::string_view required,
                                                   std::string_view known);

// True when every cell is empty or white space (the row is skipped).
bool CsvRowIsBlank(const std::vector<std::string>& cells);

// One data row as the route's JSON input: cells trimmed of spaces and tabs, empty cells left out,
// kInt cells as whole numbers, kBool cells from true/false/yes/no/1/0. Fails InvalidArgument with
// field "columns" when the row has more cells than the header, else naming the column of the cell
// that cannot be read (not UTF-8, not a number, not a yes/no).
Result<boost::json::object> CsvCellsToInput(const std::vector<std::string>& cells,
                                            const std::vector<const CsvColumn*>& columns);

// The column to blame for a problem with input field `field` ("smtp.port"): the file's column that
// fills it, else the field with '.' read as '_' ("smtp_port").
std::string CsvColumnFor(std::string_view field, const std::vector<const CsvColumn*>& columns);

// The problems of a file, answered as error.problems: [{field:"row 3, smtp_port", row, column,
// message}], at most max_reported of them (count() has them all).
class CsvProblems {
 public:
  explicit CsvProblems(size_t max_reported = 200) : max_reported_(max_reported) {}

  void Add(int64_t row, std::string_view column, std::string_view message);
  int64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // The problems so far; leaves this empty.
  boost::json::array Take();
  // InvalidArgument "N rows have errors; nothing was imported" (N counts problems).
  Status Summary() const;

 private:
  size_t max_reported_;
  int64_t count_ = 0;
  boost::json::array items_;
};

}  // namespace kiln::api
