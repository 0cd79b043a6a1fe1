#include "kiln/leads/csv_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kiln::leads {
namespace {

struct Read {
  std::vector<CsvRecord> records;
  char delimiter = 0;
  CsvEncoding encoding = CsvEncoding::kUtf8;
};

// Reads `text` fed in chunks of `chunk` bytes (every split point is exercised by the callers).
Read ReadAll(std::string_view text, size_t chunk = 1 << 20, CsvOptions options = {}) {
  CsvReader reader(options);
  Read out;
  auto sink = [&](CsvRecord& r) {
    out.records.push_back(r);
    return Status::Ok();
  };
  for (size_t i = 0; i < text.size(); i += chunk) {
    EXPECT_TRUE(reader.Feed(text.substr(i, chunk), sink).ok());
  }
  EXPECT_TRUE(reader.Finish(sink).ok());
  out.delimiter = reader.delimiter();
  out.encoding = reader.encoding();
  return out;
}

using Fields = std::vector<std::string>;

TEST(CsvReaderTest, ReadsQuotedFieldsWithDelimitersQuotesAndNewlines) {
  const std::string text =
      "email,note\r\n"
      "a@x.com,\"one, two\"\r\n"
      "b@x.com,\"she said \"\"hi\"\"\"\r\n"
      "c@x.com,\"line 1\nline 2\"\n"
      "d@x.com,last";
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{1000}}) {
    Read r = ReadAll(text, chunk);
    ASSERT_EQ(r.records.size(), 5u) << "chunk " << chunk;
    EXPECT_EQ(r.records[1].fields, (Fields{"a@x.com", "one, two"}));
    EXPECT_EQ(r.records[2].fields, (Fields{"b@x.com", "she said \"hi\""}));
    EXPECT_EQ(r.records[3].fields, (Fields{"c@x.com", "line 1\nline 2"}));
    EXPECT_EQ(r.records[4].fields, (Fields{"d@x.com", "last"}));
    EXPECT_EQ(r.records[3].line, 4);
    EXPECT_EQ(r.records[4].line, 6) << "the quoted newline counts as a line";
    EXPECT_EQ(r.records[4].number, 5);
    for (const auto& rec : r.records) EXPECT_EQ(rec.error, "");
  }
}

TEST(CsvReaderTest, SniffsSemicolonAndTabDelimiters) {
  Read semi = ReadAll("email;first name;company\na@x.com;Ann;\"Acme, Inc\"\n");
  EXPECT_EQ(semi.delimiter, ';');
  EXPECT_EQ(semi.records[1].fields, (Fields{"a@x.com", "Ann", "Acme, Inc"}));
  Read tab = ReadAll("email\tname\na@x.com\tAnn, Lee\n");
  EXPECT_EQ(tab.delimiter, '\t');
  EXPECT_EQ(tab.records[1].fields, (Fields{"a@x.com", "Ann, Lee"}));
  Read comma = ReadAll("email,name\na@x.com,\"Lee; Ann\"\n");
  EXPECT_EQ(comma.delimiter, ',');
}

TEST(CsvReaderTest, StripsTheByteOrderMarkAndKeepsUtf8) {
  Read r = ReadAll(
      "\xEF\xBB\xBF"
      "email,name\na@x.com,Zo\xC3\xAB\n");
  EXPECT_EQ(r.encoding, CsvEncoding::kUtf8);
  EXPECT_EQ(r.records[0].fields[0], "email");
  EXPECT_EQ(r.records[1].fields[1], "Zo\xC3\xAB");
}

TEST(CsvReaderTest, FallsBackToWindows1252) {
  // "Zoë" and "€5" in Windows-1252.
  Read r = ReadAll(
      "email,name,price\na@x.com,Zo\xEB,\x80"
      "5\n",
      3);
  EXPECT_EQ(r.encoding, CsvEncoding::kWindows1252);
  EXPECT_EQ(r.records[1].fields, (Fields{"a@x.com", "Zo\xC3\xAB",
                                         "\xE2\x82\xAC"
                                         "5"}));
}

TEST(CsvReaderTest, InvalidUtf8LaterInTheFileFailsThatRecordOnly) {
  std::string text = "email,name\n";
  for (int i = 0; i < 5000; ++i) text += "a" + std::to_string(i) + "@x.com,Ann\n";  // > 64 KiB
  text += "bad@x.com,\xFF\xFE\n";
  text += "good@x.com,Bob\n";
  // The same however it arrives: in small chunks, or all at once (only the first 64 KiB decide
  // the encoding; reading all of a first large chunk took the file for Windows-1252).
  for (size_t chunk : {size_t{4096}, size_t{1} << 20}) {
    SCOPED_TRACE(chunk);
    Read r = ReadAll(text, chunk);
    ASSERT_EQ(r.encoding, CsvEncoding::kUtf8);
    ASSERT_EQ(r.records.size(), 5003u);
    EXPECT_EQ(r.records[5001].error, "column 2 holds bytes that are not UTF-8");
    EXPECT_TRUE(r.records[5001].fields.empty());
    EXPECT_EQ(r.records[5002].fields, (Fields{"good@x.com", "Bob"}));
  }
}

TEST(CsvReaderTest, OversizedFieldFailsItsRecordAndReadingGoesOn) {
  std::string text = "email,note\na@x.com," + std::string(2000, 'x') + "\nb@x.com,ok\n";
  Read r = ReadAll(text, 100, CsvOptions{.max_field_bytes = 1000});
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[1].error, "column 2 is longer than 1000 bytes");
  EXPECT_EQ(r.records[2].fields, (Fields{"b@x.com", "ok"}));
  EXPECT_EQ(r.records[2].line, 3);
}

TEST(CsvReaderTest, TextAfterAClosingQuoteIsAnError) {
  Read r = ReadAll("email,name\na@x.com,\"Ann\"x\nb@x.com,Bob\n");
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[1].error, "column 2 has text after its closing quote");
  EXPECT_EQ(r.records[2].fields, (Fields{"b@x.com", "Bob"}));
}

TEST(CsvReaderTest, AQuoteLeftOpenIsReportedWithItsLine) {
  Read r = ReadAll("email,name\na@x.com,\"Ann\nb@x.com,Bob\n");
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[1].error, "a quoted field is not closed before the end of the file (line 2)");
}

TEST(CsvReaderTest, TooManyColumns) {
  Read r = ReadAll("a,b,c,d\n", 1 << 20, CsvOptions{.max_fields = 3});
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].error, "the record has more than 3 columns");
}

TEST(CsvReaderTest, SkipsBlankLinesAndReadsCrOnlyLineEnds) {
  Read r = ReadAll("email\r\r\na@x.com\rb@x.com\r\n\n");
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[1].fields, (Fields{"a@x.com"}));
  EXPECT_EQ(r.records[2].fields, (Fields{"b@x.com"}));
  EXPECT_EQ(r.records[2].line, 4);
}

TEST(CsvReaderTest, EmptyFieldsAndTrailingDelimiter) {
  Read r = ReadAll("a,,c,\n\"\",x\n");
  EXPECT_EQ(r.records[0].fields, (Fields{"a", "", "c", ""}));
  EXPECT_EQ(r.records[1].fields, (Fields{"", "x"}));
}

TEST(CsvReaderTest, SinkFailureStopsTheReading) {
  CsvReader reader;
  int seen = 0;
  Status s = reader.Feed(std::string(70000, 'a') + "\nb\nc\n", [&](CsvRecord&) {
    ++seen;
    return Status::Internal("stop");
  });
  EXPECT_EQ(s.message(), "stop");
  EXPECT_EQ(seen, 1);
}

TEST(CsvWriterTest, NeutralisesFormulasAndQuotesWhenNeeded) {
  std::string out;
  AppendCsvField(out, "=cmd|' /C calc'!A0");
  out += ',';
  AppendCsvField(out, "plain");
  out += ',';
  AppendCsvField(out, "a,\"b\"");
  out += ',';
  AppendCsvField(out, "-1");
  out += ',';
  AppendCsvField(out, "@SUM(A1)");
  EXPECT_EQ(out, "\"'=cmd|' /C calc'!A0\",plain,\"a,\"\"b\"\"\",\"'-1\",\"'@SUM(A1)\"");
  // The written field reads back as the text with its apostrophe.
  Read r = ReadAll(out + "\n");
  EXPECT_EQ(r.records[0].fields[0], "'=cmd|' /C calc'!A0");
  EXPECT_EQ(r.records[0].fields[2], "a,\"b\"");
}

TEST(CsvWriterTest, FieldStartingWithByteOrderMarkReadsBackAtTheStartOfAFile) {
  // Found by fuzz_csv: a first field starting with U+FEFF, written unquoted, lost its BOM bytes
  // on reading because the reader takes a leading BOM for the encoding mark.
  std::string out;
  AppendCsvField(out, "\xEF\xBB\xBFm");
  EXPECT_EQ(out, "\"\xEF\xBB\xBFm\"");
  Read r = ReadAll(out + "\r\n");
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].fields[0], "\xEF\xBB\xBFm");
}

}  // namespace
}  // namespace kiln::leads
