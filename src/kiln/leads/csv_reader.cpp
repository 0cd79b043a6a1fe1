#include "kiln/leads/csv_reader.h"

#include <array>
#include <cstring>
#include <utility>

#include "kiln/base/utf8.h"

namespace kiln::leads {
namespace {

constexpr size_t kSniffBytes = 64 * 1024;

// Windows-1252 bytes 0x80-0x9F as Unicode; the five undefined ones map to the C1 control of the
// same value, as browsers (WHATWG) do. 0xA0-0xFF are Latin-1 (= U+00A0-U+00FF).
constexpr std::array<char16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string FromWindows1252(std::string_view in) {
  std::string out;
  out.reserve(in.size() + in.size() / 8);
  for (char ch : in) {
    const auto b = static_cast<unsigned char>(ch);
    if (b < 0x80) {
      out.push_back(ch);
    } else if (b < 0xA0) {
      AppendUtf8(out, kCp1252High[b - 0x80]);
    } else {
      AppendUtf8(out, b);
    }
  }
  return out;
}

// Whether `s` is UTF-8 except perhaps for a sequence cut off at its very end (the sniffed head
// may end in the middle of a character).
bool IsUtf8Prefix(std::string_view s) {
  if (IsValidUtf8(s)) return true;
  for (size_t cut = 1; cut <= 3 && cut < s.size(); ++cut) {
    const auto lead = static_cast<unsigned char>(s[s.size() - cut]);
    if ((lead & 0xC0) == 0xC0) return IsValidUtf8(s.substr(0, s.size() - cut));
    if ((lead & 0xC0) != 0x80) break;
  }
  return false;
}

// Counts each candidate delimiter outside quotes on the first lines; the one that appears the
// same number of times (>= 1) on the most lines wins, ties broken by frequency, then by `,`.
char SniffDelimiter(std::string_view head) {
  constexpr std::array<char, 3> kCandidates = {',', ';', '\t'};
  std::array<std::vector<int>, 3> per_line;
  std::array<int, 3> count = {0, 0, 0};
  bool quoted = false;
  int lines = 0;
  for (size_t i = 0; i < head.size() && lines < 20; ++i) {
    const char c = head[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && (c == '\n' || c == '\r')) {
      if (count != std::array<int, 3>{0, 0, 0} || lines > 0) {
        for (size_t k = 0; k < 3; ++k) per_line[k].push_back(count[k]);
        ++lines;
      }
      count = {0, 0, 0};
      if (c == '\r' && i + 1 < head.size() && head[i + 1] == '\n') ++i;
    } else if (!quoted) {
      for (size_t k = 0; k < 3; ++k) {
        if (c == kCandidates[k]) ++count[k];
      }
    }
  }
  if (count != std::array<int, 3>{0, 0, 0}) {
    for (size_t k = 0; k < 3; ++k) per_line[k].push_back(count[k]);
  }
  size_t best = 0;
  int best_consistent = -1;
  long best_total = -1;
  for (size_t k = 0; k < 3; ++k) {
    const std::vector<int>& v = per_line[k];
    if (v.empty() || v.front() == 0) continue;
    int consistent = 0;
    long total = 0;
    for (int n : v) {
      if (n == v.front()) ++consistent;
      total += n;
    }
    if (consistent > best_consistent || (consistent == best_consistent && total > best_total)) {
      best = k;
      best_consistent = consistent;
      best_total = total;
    }
  }
  return kCandidates[best];
}

}  // namespace

std::string_view CsvEncodingName(CsvEncoding e) {
  return e == CsvEncoding::kUtf8 ? "utf-8" : "windows-1252";
}

CsvReader::CsvReader(CsvOptions options) : options_(options) {
  if (options_.delimiter != 0) delimiter_ = options_.delimiter;
}

void CsvReader::Sniff(std::string_view head) {
  if (head.substr(0, 3) == "\xEF\xBB\xBF") {
    had_bom_ = true;
    head.remove_prefix(3);
  }
  encoding_ = had_bom_ || IsUtf8Prefix(head) ? CsvEncoding::kUtf8 : CsvEncoding::kWindows1252;
  if (options_.delimiter == 0) delimiter_ = SniffDelimiter(head);
  sniffed_ = true;
}

Status CsvReader::Feed(std::string_view bytes, const Sink& sink) {
  bytes_read_ += static_cast<int64_t>(bytes.size());
  if (!sniffed_) {
    head_.append(bytes);
    if (head_.size() < kSniffBytes) return Status::Ok();
    // Only the first 64 KiB decide, however large the chunks fed: the same file reads the same
    // whichever way it arrives.
    Sniff(std::string_view(head_).substr(0, kSniffBytes));
    std::string head = std::move(head_);
    head_.clear();
    return Parse(had_bom_ ? std::string_view(head).substr(3) : std::string_view(head), sink);
  }
  return Parse(bytes, sink);
}

Status CsvReader::Finish(const Sink& sink) {
  if (!sniffed_) {
    Sniff(head_);
    std::string head = std::move(head_);
    head_.clear();
    KILN_RETURN_IF_ERROR(
        Parse(had_bom_ ? std::string_view(head).substr(3) : std::string_view(head), sink));
  }
  switch (state_) {
    case State::kQuoted:
      Fail("a quoted field is not closed before the end of the file (line " +
           std::to_string(record_.line) + ")");
      return EndRecord(sink);
    case State::kSkipLine:
      return EndRecord(sink);
    default:
      if (!record_started_) return Status::Ok();
      EndField();
      return EndRecord(sink);
  }
}

void CsvReader::Fail(std::string message) {
  if (record_.error.empty()) record_.error = std::move(message);
}

void CsvReader::AppendToField(std::string_view bytes) {
  record_bytes_ += bytes.size();
  if (record_bytes_ > 4 * options_.max_field_bytes) {
    Fail("the record is longer than " + std::to_string(4 * options_.max_field_bytes) + " bytes");
    field_.clear();
    state_ = State::kSkipLine;
    return;
  }
  if (field_.size() + bytes.size() > options_.max_field_bytes) {
    Fail("column " + std::to_string(record_.fields.size() + 1) + " is longer than " +
         std::to_string(options_.max_field_bytes) + " bytes");
    field_.clear();
    state_ = State::kSkipLine;
    return;
  }
  field_.append(bytes);
}

void CsvReader::EndField() {
  if (record_.error.empty()) {
    if (record_.fields.size() >= options_.max_fields) {
      Fail("the record has more than " + std::to_string(options_.max_fields) + " columns");
    } else if (encoding_ == CsvEncoding::kWindows1252) {
      record_.fields.push_back(FromWindows1252(field_));
    } else if (!IsValidUtf8(field_)) {
      Fail("column " + std::to_string(record_.fields.size() + 1) +
           " holds bytes that are not UTF-8");
    } else {
      record_.fields.push_back(std::move(field_));
    }
  }
  field_.clear();
}

Status CsvReader::EndRecord(const Sink& sink) {
  state_ = State::kFieldStart;
  const bool blank =
      record_.error.empty() && record_.fields.size() == 1 && record_.fields[0].empty();
  if (!record_started_ || blank) {
    record_ = CsvRecord{};
    record_started_ = false;
    record_bytes_ = 0;
    return Status::Ok();
  }
  record_.number = ++record_number_;
  if (!record_.error.empty()) record_.fields.clear();
  Status s = sink(record_);
  record_ = CsvRecord{};
  record_started_ = false;
  record_bytes_ = 0;
  return s;
}

Status CsvReader::Parse(std::string_view in, const Sink& sink) {
  const char delim = delimiter_;
  size_t i = 0;
  const size_t n = in.size();
  auto start_record = [&] {
    if (!record_started_) {
      record_started_ = true;
      record_.line = line_;
    }
  };
  while (i < n) {
    const char c = in[i];
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') {
        ++i;
        continue;
      }
    }
    switch (state_) {
      case State::kFieldStart:
        start_record();
        if (c == '"') {
          state_ = State::kQuoted;
          quoted_cr_ = false;
          ++i;
          break;
        }
        state_ = State::kUnquoted;
        [[fallthrough]];
      case State::kUnquoted: {
        // The longest run of ordinary bytes at once.
        size_t j = i;
        while (j < n && in[j] != delim && in[j] != '\n' && in[j] != '\r') ++j;
        AppendToField(in.substr(i, j - i));
        i = j;
        if (state_ == State::kSkipLine || i == n) break;
        const char end = in[i++];
        EndField();
        if (end == delim) {
          state_ = State::kFieldStart;
          break;
        }
        ++line_;
        after_cr_ = end == '\r';
        KILN_RETURN_IF_ERROR(EndRecord(sink));
        break;
      }
      case State::kQuoted: {
        size_t j = i;
        for (; j < n && in[j] != '"'; ++j) {  // count line breaks inside the field: CRLF once
          if (in[j] == '\r' || (in[j] == '\n' && !quoted_cr_)) ++line_;
          quoted_cr_ = in[j] == '\r';
        }
        AppendToField(in.substr(i, j - i));
        i = j;
        if (state_ == State::kSkipLine || i == n) break;
        ++i;  // the quote
        state_ = State::kQuoteInQuoted;
        break;
      }
      case State::kQuoteInQuoted:
        if (c == '"') {
          AppendToField("\"");
          if (state_ != State::kSkipLine) state_ = State::kQuoted;
          ++i;
        } else if (c == delim) {
          EndField();
          state_ = State::kFieldStart;
          ++i;
        } else if (c == '\n' || c == '\r') {
          EndField();
          ++line_;
          after_cr_ = c == '\r';
          ++i;
          KILN_RETURN_IF_ERROR(EndRecord(sink));
        } else {
          Fail("column " + std::to_string(record_.fields.size() + 1) +
               " has text after its closing quote");
          field_.clear();
          state_ = State::kSkipLine;
        }
        break;
      case State::kSkipLine: {
        // After an error inside a record: drop bytes up to the next line end, then go on.
        size_t j = i;
        while (j < n && in[j] != '\n' && in[j] != '\r') ++j;
        i = j;
        if (i == n) break;
        after_cr_ = in[i] == '\r';
        ++i;
        ++line_;
        KILN_RETURN_IF_ERROR(EndRecord(sink));
        break;
      }
    }
  }
  return Status::Ok();
}

void AppendCsvField(std::string& out, std::string_view v, char delimiter) {
  const bool formula = !v.empty() && (v.front() == '=' || v.front() == '+' || v.front() == '-' ||
                                      v.front() == '@' || v.front() == '\t' || v.front() == '\r');
  // A field that starts with a byte order mark is quoted: at the start of a file the reader takes
  // an unquoted BOM for the encoding mark and drops it, so the field would not read back the same.
  const bool bom = v.starts_with("\xEF\xBB\xBF");
  const bool quote =
      formula || bom ||
      v.find_first_of(std::string{'"', '\n', '\r', delimiter}) != std::string_view::npos;
  if (quote) out.push_back('"');
  if (formula) out.push_back('\'');
  for (char c : v) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  if (quote) out.push_back('"');
}

}  // namespace kiln::leads
