#include "kiln/leads/lead_row.h"

#include <gtest/gtest.h>

namespace kiln::leads {
namespace {

using Fields = std::vector<std::string>;

TEST(LeadRowTest, DetectsHeaderRows) {
  EXPECT_TRUE(LooksLikeHeader({"Email", "First Name", "Company"}));
  EXPECT_TRUE(LooksLikeHeader({"Contact", "Notes"}));  // short labels
  EXPECT_FALSE(LooksLikeHeader({"ann@example.com", "Ann"}));
  EXPECT_FALSE(LooksLikeHeader({"Ann", "Lee", "42"}));
}

TEST(LeadRowTest, GuessesTheUsualColumnsAndKeepsTheRestAsCustomFields) {
  const Fields header = {"E-mail Address",   "Given name",       "Surname", "Organization",
                         "Job Title",        "Time Zone",        "Mobile",  "URL",
                         "Favourite Colour", "favourite colour", ""};
  ColumnMapping m = GuessMapping(header, true);
  ASSERT_EQ(m.columns.size(), header.size());
  EXPECT_EQ(m.columns[0].field, LeadField::kEmail);
  EXPECT_EQ(m.columns[1].field, LeadField::kFirstName);
  EXPECT_EQ(m.columns[2].field, LeadField::kLastName);
  EXPECT_EQ(m.columns[3].field, LeadField::kCompany);
  EXPECT_EQ(m.columns[4].field, LeadField::kTitle);
  EXPECT_EQ(m.columns[5].field, LeadField::kTimezone);
  EXPECT_EQ(m.columns[6].field, LeadField::kPhone);
  EXPECT_EQ(m.columns[7].field, LeadField::kWebsite);
  EXPECT_EQ(m.columns[8].field, LeadField::kCustom);
  EXPECT_EQ(m.columns[8].custom_key, "favourite_colour");
  EXPECT_EQ(m.columns[9].custom_key, "favourite_colour_2");
  EXPECT_EQ(m.columns[10].field, LeadField::kIgnore);
  EXPECT_TRUE(ValidateMapping(m).ok());
}

TEST(LeadRowTest, AccentedAndFrenchHeaders) {
  ColumnMapping m = GuessMapping({"Courriel", "Pr\xC3\xA9nom", "Nom"}, true);
  EXPECT_EQ(m.columns[0].field, LeadField::kEmail);
  EXPECT_EQ(m.columns[1].field, LeadField::kFirstName);
  EXPECT_EQ(m.columns[2].field, LeadField::kLastName);
}

TEST(LeadRowTest, WithoutHeaderTheEmailColumnIsFoundByItsValue) {
  ColumnMapping m = GuessMapping({"Ann", "ann@example.com", "Acme"}, false);
  EXPECT_FALSE(m.has_header);
  EXPECT_EQ(m.columns[1].field, LeadField::kEmail);
  EXPECT_EQ(m.columns[0].custom_key, "column_1");
}

TEST(LeadRowTest, UserMappingCorrectsTheGuessAndNamesBadKeys) {
  const Fields header = {"Work", "Name", "Other email"};
  ColumnMapping guess = GuessMapping(header, true);
  EXPECT_EQ(ValidateMapping(guess).message(), "no column is mapped to email");
  auto m = ApplyUserMapping(header, guess, {{"Other email", "email"}, {"Work", "custom:work"}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->columns[2].field, LeadField::kEmail);
  EXPECT_EQ(m->columns[0].custom_key, "work");
  auto by_number = ApplyUserMapping(header, guess, {{"3", "email"}});
  ASSERT_TRUE(by_number.ok());
  EXPECT_EQ(by_number->columns[2].field, LeadField::kEmail);

  auto unknown_col = ApplyUserMapping(header, guess, {{"Nope", "email"}});
  EXPECT_EQ(unknown_col.status().field(), "mapping.Nope");
  auto bad_target = ApplyUserMapping(header, guess, {{"Work", "salary"}});
  EXPECT_EQ(bad_target.status().field(), "mapping.Work");
  auto bad_key = ApplyUserMapping(header, guess, {{"Work", "custom:Bad Key"}});
  EXPECT_EQ(bad_key.status().field(), "mapping.Work");
  auto two = ApplyUserMapping(header, guess, {{"Work", "email"}, {"3", "email"}});
  EXPECT_EQ(two.status().message(), "more than one column is mapped to email");
}

TEST(LeadRowTest, ReadsAndChecksARow) {
  const Fields header = {"Email", "Name", "TZ", "Notes"};
  ColumnMapping m = GuessMapping(header, true);
  domain::TimeZoneDatabase zones;
  auto row = ReadLeadRow({"  Ann@Example.COM ", "Ann Marie Lee", "Europe/Paris", "likes tea"}, m,
                         header, &zones);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->email, "Ann@example.com");
  EXPECT_EQ(row->first_name, "Ann Marie");
  EXPECT_EQ(row->last_name, "Lee");
  EXPECT_EQ(row->timezone, "Europe/Paris");
  ASSERT_EQ(row->custom.size(), 1u);
  EXPECT_EQ(row->custom[0], (std::pair<std::string, std::string>{"notes", "likes tea"}));

  auto bad_email = ReadLeadRow({"not-an-address", "", "", ""}, m, header, &zones);
  EXPECT_EQ(bad_email.status().field(), "Email");
  EXPECT_NE(bad_email.status().message().find("'not-an-address' is not a valid address"),
            std::string::npos);
  auto empty = ReadLeadRow({"", "Ann", "", ""}, m, header, &zones);
  EXPECT_EQ(empty.status().message(), "is empty (an email is required)");
  auto bad_zone = ReadLeadRow({"a@x.com", "", "Mars/Base", ""}, m, header, &zones);
  EXPECT_EQ(bad_zone.status().field(), "TZ");
  auto short_row = ReadLeadRow({}, m, header, &zones);
  EXPECT_EQ(short_row.status().field(), "Email");
  auto long_note = ReadLeadRow({"a@x.com", "", "", std::string(2001, 'n')}, m, header, &zones);
  EXPECT_EQ(long_note.status().field(), "Notes");
}

TEST(LeadRowTest, AcceptsIdnDomains) {
  ColumnMapping m = GuessMapping({"email"}, true);
  auto row = ReadLeadRow({"j\xC3\xBCrgen@m\xC3\xBCller.de"}, m, {"email"});
  ASSERT_TRUE(row.ok()) << row.status().ToString();
}

TEST(LeadRowTest, FlagsRoleAddressesAndDisposableDomains) {
  EXPECT_TRUE(IsRoleAddress("Info@acme.com"));
  EXPECT_TRUE(IsRoleAddress("sales+eu@acme.com"));
  EXPECT_FALSE(IsRoleAddress("ann@acme.com"));
  EXPECT_TRUE(IsDisposableDomain("mailinator.com"));
  EXPECT_TRUE(IsDisposableDomain("eu.Mailinator.com"));
  EXPECT_FALSE(IsDisposableDomain("notmailinator.com"));
  ColumnMapping m = GuessMapping({"email"}, true);
  auto row = ReadLeadRow({"support@yopmail.com"}, m, {"email"});
  ASSERT_TRUE(row.ok());
  EXPECT_TRUE(row->role_address);
  EXPECT_TRUE(row->disposable_domain);
}

}  // namespace
}  // namespace kiln::leads
