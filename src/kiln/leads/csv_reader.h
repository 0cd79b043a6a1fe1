// CsvReader: a streaming reader of the CSV files people export from spreadsheets and CRMs.
//
// Bytes go in by chunks of any size (Feed), complete records come out through a callback, and
// memory stays bounded by the largest record allowed, never by the file: a 2 GB upload is read
// with a few megabytes. What it accepts:
//   - RFC 4180 quoting: fields in double quotes may hold the delimiter, doubled quotes and line
//     breaks; CRLF, LF and lone CR line ends;
//   - the delimiter `,`, `;` or tab, sniffed from the first lines unless given;
//   - UTF-8 with or without a byte order mark, else Windows-1252 (which also reads Latin-1): the
//     encoding is sniffed once from the first 64 KiB; a UTF-8 file with invalid bytes further on
//     gets an error for the record that holds them rather than mis-decoded text.
// What it refuses, per record and without stopping (each error names the record's first line and
// the column): a field longer than max_field_bytes or a record longer than four times that (the
// reader skips to the end of that line and goes on), more than max_fields fields, text after a
// closing quote, invalid UTF-8, a quote left open at the end of the file. Blank lines are skipped.
//
// Thread-safety: a CsvReader is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"

namespace kiln::leads {

enum class CsvEncoding { kUtf8, kWindows1252 };
std::string_view CsvEncodingName(CsvEncoding e);  // "utf-8", "windows-1252"

struct CsvOptions {
  char delimiter = 0;  // ',', ';' or '\t'; 0 sniffs it from the first lines
  size_t max_field_bytes = 1 << 20;
  size_t max_fields = 500;
};

struct CsvRecord {
  int64_t number = 0;  // 1 for the first record of the file (the header row when there is one)
  int64_t line = 0;    // the physical line (1-based) where the record starts
  std::vector<std::string> fields;  // UTF-8; meaningful only when error is empty
  std::string error;                // why the record cannot be used, naming the column
};

class CsvReader {
 public:
  // Called for each complete record, in order. A non-OK status stops the reading: Feed/Finish
  // return it unchanged.
  using Sink = std::function<Status(CsvRecord&)>;

  explicit CsvReader(CsvOptions options = {});

  // Reads the next bytes of the file. Success: every record completed by these bytes went to
  // `sink`. Failure: what `sink` returned.
  Status Feed(std::string_view bytes, const Sink& sink);

  // The end of the file: completes the last record (or reports a quote left open).
  Status Finish(const Sink& sink);

  // Known once the sniffing is done (after 64 KiB or at Finish).
  char delimiter() const { return delimiter_; }
  CsvEncoding encoding() const { return encoding_; }
  bool had_bom() const { return had_bom_; }
  int64_t bytes_read() const { return bytes_read_; }

 private:
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted, kSkipLine };

  void Sniff(std::string_view head);
  Status Parse(std::string_view bytes, const Sink& sink);
  void EndField();
  Status EndRecord(const Sink& sink);
  void Fail(std::string message);
  void AppendToField(std::string_view bytes);

  CsvOptions options_;
  bool sniffed_ = false;
  std::string head_;  // bytes held back until the sniffing decision
  char delimiter_ = ',';
  CsvEncoding encoding_ = CsvEncoding::kUtf8;
  bool had_bom_ = false;
  int64_t bytes_read_ = 0;

  State state_ = State::kFieldStart;
  bool after_cr_ = false;   // the previous byte was a CR ending a line (an LF after it is skipped)
  bool quoted_cr_ = false;  // the previous byte inside a quoted field was a CR
  int64_t line_ = 1;
  int64_t record_number_ = 0;
  CsvRecord record_;
  bool record_started_ = false;
  std::string field_;
  size_t record_bytes_ = 0;  // bounded by 4 * max_field_bytes
};

// One field for a CSV file that a spreadsheet will open: quoted when it holds a delimiter, a quote
// or a line break, and prefixed with an apostrophe when it would start a formula (=, +, -, @, tab,
// CR), so that `=cmd|' /C calc'!A0` stays text.
void AppendCsvField(std::string& out, std::string_view value, char delimiter = ',');

}  // namespace kiln::leads
