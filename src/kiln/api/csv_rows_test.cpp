#include "kiln/api/csv_rows.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

namespace kiln::api {
namespace {

namespace json = boost::json;

constexpr CsvColumn kColumns[] = {
    {"email", "email", CsvColumn::kText},
    {"smtp_port", "smtp.port", CsvColumn::kInt},
    {"smtp_host", "smtp.host", CsvColumn::kText},
    {"allow_self_signed", "allow_self_signed", CsvColumn::kBool},
};
constexpr CsvAlias kAliases[] = {{"e_mail", "email"}, {"smtp_server", "smtp_host"}};

TEST(CsvRowsTest, ReadsRecordsNumberedLikeASpreadsheetAndStopsOrKeepsBadOnes) {
  auto rows = ReadCsvRows("email;smtp_port\r\n\r\na@x.test;25\r\n", {.what = "senders"});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[1].row, 2);  // the blank line is not counted
  EXPECT_EQ((*rows)[1].cells, (std::vector<std::string>{"a@x.test", "25"}));

  const std::string long_cell = "email,name\na@x.test," + std::string(100, 'n') + "\nb@x.test,b\n";
  auto stop = ReadCsvRows(long_cell, {.what = "bots", .max_field_bytes = 64});
  ASSERT_FALSE(stop.ok());
  EXPECT_NE(stop.status().message().find("row 2 (line 2) is not valid CSV"), std::string::npos)
      << stop.status().ToString();
  auto keep =
      ReadCsvRows(long_cell, {.what = "bots", .max_field_bytes = 64, .stop_on_bad_record = false});
  ASSERT_TRUE(keep.ok()) << keep.status().ToString();
  ASSERT_EQ(keep->size(), 3u);
  EXPECT_NE((*keep)[1].error.find("longer than 64 bytes"), std::string::npos) << (*keep)[1].error;
  EXPECT_TRUE((*keep)[2].error.empty());

  auto many = ReadCsvRows("email\na\nb\nc\n", {.max_rows = 2, .what = "senders"});
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.status().code(), Status::Code::kTooLarge);
  EXPECT_EQ(many.status().message(), "the file has more than 2 senders; split it");
}

TEST(CsvRowsTest, MapsHeadersThroughNormalisationAndAliases) {
  EXPECT_EQ(NormalizeCsvHeader("\xEF\xBB\xBF SMTP Server "), "smtp_server");
  EXPECT_EQ(NormalizeCsvHeader("Allow-Self-Signed"), "allow_self_signed");
  auto cols = MapCsvHeader({"E-Mail", "SMTP Server", "smtp_port"}, kColumns, kAliases, "email",
                           "email, ...");
  ASSERT_TRUE(cols.ok()) << cols.status().ToString();
  ASSERT_EQ(cols->size(), 3u);
  EXPECT_STREQ((*cols)[0]->name, "email");
  EXPECT_STREQ((*cols)[1]->name, "smtp_host");

  auto unknown = MapCsvHeader({"email", "colour"}, kColumns, kAliases, "email", "email, ...");
  EXPECT_EQ(unknown.status().field(), "columns");
  EXPECT_EQ(unknown.status().message(),
            "unknown column 'colour' in the first row; the columns are email, ...");
  auto twice = MapCsvHeader({"email", "smtp_host", "SMTP server"}, kColumns, kAliases, "email", "");
  EXPECT_EQ(twice.status().message(), "column 'smtp_host' appears twice");
  auto missing = MapCsvHeader({"smtp_host"}, kColumns, kAliases, "email", "");
  EXPECT_EQ(missing.status().message(), "the first row must name an email column");
}

TEST(CsvRowsTest, TurnsCellsIntoTheRoutesInputAndNamesTheColumnAtFault) {
  std::vector<const CsvColumn*> cols = {&kColumns[0], &kColumns[1], &kColumns[2], &kColumns[3]};
  auto in = CsvCellsToInput({" a@x.test ", "587", "", "Yes"}, cols);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(json::serialize(*in),
            R"({"email":"a@x.test","smtp":{"port":587},"allow_self_signed":true})");

  EXPECT_EQ(CsvCellsToInput({"a", "25x"}, cols).status().field(), "smtp_port");
  EXPECT_EQ(CsvCellsToInput({"a", "=1+1"}, cols).status().message(), "must be a whole number");
  EXPECT_EQ(CsvCellsToInput({"a", "", "", "maybe"}, cols).status().field(), "allow_self_signed");
  EXPECT_EQ(CsvCellsToInput({"a\xC3\x28"}, cols).status().message(), "is not valid UTF-8");
  auto extra = CsvCellsToInput({"a", "1", "h", "no", "x"}, cols);
  EXPECT_EQ(extra.status().field(), "columns");
  EXPECT_EQ(extra.status().message(), "has 5 fields; the header names 4");

  EXPECT_TRUE(CsvRowIsBlank({"", " ", "\t"}));
  EXPECT_FALSE(CsvRowIsBlank({"", "x"}));
  EXPECT_EQ(CsvColumnFor("smtp.port", cols), "smtp_port");
  EXPECT_EQ(CsvColumnFor("imap.host", cols), "imap_host");
}

TEST(CsvRowsTest, ProblemsAreCappedButCounted) {
  CsvProblems problems(2);
  EXPECT_TRUE(problems.empty());
  problems.Add(3, "smtp_port", "must be a whole number");
  problems.Add(4, "", "column 2 is longer than 64 bytes");
  problems.Add(5, "email", "appears on an earlier row of this file");
  EXPECT_EQ(problems.count(), 3);
  EXPECT_EQ(problems.Summary().message(), "3 rows have errors; nothing was imported");
  json::array items = problems.Take();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("field").as_string(), "row 3, smtp_port");
  EXPECT_EQ(items[1].at("field").as_string(), "row 4");
  EXPECT_EQ(items[1].at("column").as_string(), "");
}

}  // namespace
}  // namespace kiln::api
