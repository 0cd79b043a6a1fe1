// POST /workspaces/{ws}/senders/import over the API against the real `kiln` binary: a good file
// (header aliases, a preset, shared login columns) creates unverified senders that verify against
// the real mail stack (scripts/mailstack: the passwords were sealed as for a sender added by hand);
// bad rows are reported by row and column and nothing is written; duplicates inside the file and
// against the workspace; a BOM, `;` and CRLF; Windows-1252; hostile files (formula cells, a 1 MB
// cell, invalid UTF-8, no header, too many rows) answer clear errors.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

#include "api_mailstack_fixture.h"
#include "api_test_util.h"
#include "kiln/testing/mailstack.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;

class SendersImportApiTest : public KilnMailstackApiFixture {
 protected:
  ClientResponse Import(Session& s, const std::string& csv) {
    auto r = s.http->Send("POST", s.Ws() + "/senders/import", csv, s.H(false));
    if (!r.ok()) {
      ADD_FAILURE() << "POST .../senders/import: " << r.status().ToString() << "\nkiln's log:\n"
                    << proc_.ReadLog();
      return {};
    }
    return *r;
  }

  static json::array Senders(Session& s) {
    return Json(s.Get(s.Ws() + "/senders")).at("items").as_array();
  }

  static json::array Problems(const ClientResponse& r) {
    return Json(r).at("error").at("problems").as_array();
  }

  // "row:column" of every problem, in order.
  static std::vector<std::string> Where(const ClientResponse& r) {
    std::vector<std::string> out;
    for (const auto& p : Problems(r)) {
      out.push_back(std::to_string(p.at("row").as_int64()) + ":" +
                    std::string(p.at("column").as_string()));
    }
    return out;
  }

  // A row of the stack's sender `local`@kiln-a.test for the header kHeader.
  std::string StackRow(const std::string& local, const std::string& smtp_port) {
    const std::string email = local + "@kiln-a.test";
    return email + ",127.0.0.1," + smtp_port + ",starttls,127.0.0.1," +
           std::to_string(ms_.imap_port) + ",starttls," + ms_.User(email).value().password +
           ",yes\n";
  }
  static constexpr char kHeader[] =
      "email,smtp_host,smtp_port,smtp_security,imap_host,imap_port,imap_security,password,"
      "allow_self_signed\n";
};

TEST_P(SendersImportApiTest, GoodFileCreatesUnverifiedSendersThatVerify) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  const std::string pw1 = ms_.User("sender1@kiln-a.test").value().password;
  // Aliases and spelling people use: "Email Address", "SMTP Server", "daily-limit", "Provider".
  const std::string csv =
      "Email Address,Sender Name,Provider,SMTP Server,smtp_port,SMTP-Encryption,imap_server,"
      "imap_port,imap_security,Password,allow_self_signed,daily-limit,warmup_max_volume,"
      "warmup_weekdays_only\n"
      "sender1@kiln-a.test,Ann Smith,custom,127.0.0.1," +
      std::to_string(ms_.smtp_port) + ",starttls,127.0.0.1," + std::to_string(ms_.imap_port) +
      ",starttls," + pw1 +
      ",yes,30,25,true\n"
      "\n"  // a blank line is skipped
      "bob@gmail.test,\"Bob, the sender\",gmail,,,,,,,app-password-1,,,,\n";
  auto r = Import(s, csv);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Json(r).at("created").as_int64(), 2);
  ASSERT_EQ(Json(r).at("ids").as_array().size(), 2u);

  auto items = Senders(s);
  ASSERT_EQ(items.size(), 2u);
  const auto& ann = items[0].as_object();
  EXPECT_EQ(ann.at("email").as_string(), "sender1@kiln-a.test");
  EXPECT_EQ(ann.at("name").as_string(), "sender1@kiln-a.test");  // no name column: the email
  EXPECT_EQ(ann.at("from_name").as_string(), "Ann Smith");
  EXPECT_EQ(ann.at("status").as_string(), "unverified");
  EXPECT_EQ(ann.at("daily_quota").as_int64(), 30);
  EXPECT_EQ(ann.at("warmup").at("max_volume").as_int64(), 25);
  EXPECT_TRUE(ann.at("warmup").at("weekdays_only").as_bool());
  EXPECT_EQ(ann.at("smtp").at("username").as_string(), "sender1@kiln-a.test");
  EXPECT_TRUE(ann.at("smtp").at("has_password").as_bool());
  EXPECT_TRUE(ann.at("imap").at("has_password").as_bool());
  // The preset filled the servers the row left empty; the shared password both logins.
  const auto& bob = items[1].as_object();
  EXPECT_EQ(bob.at("from_name").as_string(), "Bob, the sender");
  EXPECT_EQ(bob.at("smtp").at("host").as_string(), "smtp.gmail.com");
  EXPECT_EQ(bob.at("smtp").at("port").as_int64(), 587);
  EXPECT_EQ(bob.at("smtp").at("security").as_string(), "starttls");
  EXPECT_EQ(bob.at("imap").at("host").as_string(), "imap.gmail.com");
  EXPECT_EQ(bob.at("imap").at("port").as_int64(), 993);
  EXPECT_EQ(bob.at("imap").at("security").as_string(), "tls");
  EXPECT_EQ(bob.at("imap").at("username").as_string(), "bob@gmail.test");
  EXPECT_TRUE(bob.at("imap").at("has_password").as_bool());
  EXPECT_EQ(bob.at("status").as_string(), "unverified");

  // The sealed passwords open: the imported sender logs in over SMTP and IMAP.
  auto v = s.Action(s.Ws() + "/senders/" + std::to_string(ann.at("id").as_int64()) + "/verify");
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(Json(v).at("sender").at("status").as_string(), "active") << v.body;

  // Audited once per sender.
  auto audit = Json(s.Get(s.Ws() + "/audit-log?limit=50"));
  size_t imported = 0;
  for (const auto& e : audit.at("items").as_array()) {
    if (e.at("action").as_string() == "sender.imported") ++imported;
  }
  EXPECT_EQ(imported, 2u) << json::serialize(audit);

  // Outlook's servers come from its preset too (any case), and `custom` keeps what the row says.
  r = Import(s,
             "email,preset,password\n"
             "carol@outlook.test,Outlook,pw-2\n");
  ASSERT_EQ(r.status, 201) << r.body;
  auto carol = Json(
      s.Get(s.Ws() + "/senders/" + std::to_string(Json(r).at("ids").as_array()[0].as_int64())));
  EXPECT_EQ(carol.at("smtp").at("host").as_string(), "smtp.office365.com");
  EXPECT_EQ(carol.at("smtp").at("port").as_int64(), 587);
  EXPECT_EQ(carol.at("imap").at("host").as_string(), "outlook.office365.com");
  EXPECT_EQ(carol.at("imap").at("port").as_int64(), 993);
}

TEST_P(SendersImportApiTest, BadRowsAreReportedByRowAndColumnAndNothingIsWritten) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  const std::string port = std::to_string(ms_.smtp_port);
  const std::string csv =
      std::string(kHeader) + StackRow("sender1", port) +                            // row 2: good
      StackRow("sender2", "25x") +                                                  // row 3
      "sender3@kiln-a.test,127.0.0.1," + port + ",ssl,127.0.0.1,993,tls,pw,no\n" +  // row 4
      "not-an-address,127.0.0.1," + port + ",starttls,127.0.0.1,993,tls,pw,no\n" +  // row 5
      "dave@kiln-a.test,,587,starttls,127.0.0.1,993,tls,pw,no\n" +                  // row 6
      "erin@kiln-a.test,127.0.0.1,587,starttls,127.0.0.1,993,tls,pw,"
      "maybe\n" +  // row 7
      "fred@kiln-a.test,127.0.0.1,587,starttls,127.0.0.1,993,tls,pw,no,x\n";
  auto r = Import(s, csv);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json(r).at("error").at("message").as_string(),
            "6 rows have errors; nothing was imported");
  EXPECT_EQ(Where(r), (std::vector<std::string>{"3:smtp_port", "4:smtp_security", "5:email",
                                                "6:smtp_host", "7:allow_self_signed", "8:columns"}))
      << r.body;
  auto p = Problems(r);
  EXPECT_EQ(p[0].at("field").as_string(), "row 3, smtp_port");
  EXPECT_EQ(p[0].at("message").as_string(), "must be a whole number");
  EXPECT_EQ(p[1].at("message").as_string(), "must be one of tls, starttls, none");
  EXPECT_EQ(p[3].at("message").as_string(), "is required");
  EXPECT_EQ(p[5].at("message").as_string(), "has 10 fields; the header names 9");
  EXPECT_EQ(Senders(s).size(), 0u);

  // A preset nobody knows, an out-of-range port and a warm-up plan the rules refuse name their
  // columns; the shared password column is blamed for a password that is missing, and a custom
  // row without servers names the column to add.
  r = Import(s,
             "email,preset,password,smtp_port,warmup_start_volume,warmup_max_volume\n"
             "a@kiln-a.test,yahoo,pw,,,\n"
             "b@kiln-a.test,gmail,pw,70000,,\n"
             "c@kiln-a.test,gmail,pw,,50,10\n"
             "d@kiln-a.test,gmail,,,,\n"
             "e@kiln-a.test,custom,pw,,,\n");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Where(r), (std::vector<std::string>{"2:preset", "3:smtp_port", "4:warmup_max_volume",
                                                "5:password", "6:smtp_host"}))
      << r.body;
  EXPECT_EQ(Senders(s).size(), 0u);
}

TEST_P(SendersImportApiTest, DuplicatesInTheFileAndInTheWorkspace) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  const std::string port = std::to_string(ms_.smtp_port);
  auto r = Import(s, std::string(kHeader) + StackRow("sender1", port));
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t existing = Json(r).at("ids").as_array()[0].as_int64();

  // Row 2: the workspace has it (another case); row 4: row 3 again.
  r = Import(s,
             "email,preset,password\n"
             "SENDER1@kiln-a.test,gmail,pw\n"
             "x@kiln-a.test,gmail,pw\n"
             "X@Kiln-A.test,gmail,pw\n");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Where(r), (std::vector<std::string>{"4:email", "2:email"})) << r.body;
  auto p = Problems(r);
  EXPECT_EQ(p[0].at("message").as_string(), "appears on an earlier row of this file");
  EXPECT_EQ(p[1].at("message").as_string(),
            "a sender with this email already exists in this workspace (id " +
                std::to_string(existing) + ")");
  EXPECT_EQ(Senders(s).size(), 1u);

  // Another workspace has its own senders: the same address imports there.
  Session other = NewOwner("other@kiln-b.test");
  r = Import(other, std::string(kHeader) + StackRow("sender1", port));
  EXPECT_EQ(r.status, 201) << r.body;
  // Not a member: 404, nothing learned.
  r = other.http->Send("POST", s.Ws() + "/senders/import", "email\n", other.H(false)).value();
  EXPECT_EQ(r.status, 404) << r.body;
}

TEST_P(SendersImportApiTest, BomSemicolonsCrlfAndWindows1252) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  // A spreadsheet's "CSV UTF-8" export in a locale that uses ';'.
  auto r = Import(s,
                  "\xEF\xBB\xBF"
                  "email;from_name;preset;password;daily_quota\r\n"
                  "zoe@kiln-a.test;Zo\xC3\xAB M\xC3\xBCller;gmail;\"p;w\";12\r\n"
                  "yan@kiln-a.test;\"Yan \"\"Y\"\" Li\";outlook;pw;7\r\n");
  ASSERT_EQ(r.status, 201) << r.body;
  auto items = Senders(s);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("email").as_string(), "zoe@kiln-a.test");
  EXPECT_EQ(items[0].at("from_name").as_string(), "Zo\xC3\xAB M\xC3\xBCller");
  EXPECT_EQ(items[0].at("daily_quota").as_int64(), 12);
  EXPECT_EQ(items[1].at("from_name").as_string(), "Yan \"Y\" Li");

  // An older export in Windows-1252: read as such, stored as UTF-8.
  r = Import(s,
             "email,from_name,preset,password\n"
             "ines@kiln-a.test,In\xE8s,gmail,pw\n");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Senders(s)[2].at("from_name").as_string(), "In\xC3\xA8s");
}

TEST_P(SendersImportApiTest, HostileFilesAnswerClearErrors) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");

  // No header: the first row is data, so its first cell is an unknown column.
  auto r = Import(s, "sender1@kiln-a.test,127.0.0.1,587\n");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json(r).at("error").at("field").as_string(), "columns");
  EXPECT_NE(r.body.find("unknown column 'sender1@kiln-a.test'"), std::string::npos) << r.body;
  // A header without an email column, a column twice (through an alias), an empty file, a header
  // and nothing else.
  for (const std::string& csv : {std::string("from_name,preset\nAnn,gmail\n"),
                                 std::string("email,password,pass\na@kiln-a.test,x,y\n"),
                                 std::string(""), std::string("email,preset\n")}) {
    r = Import(s, csv);
    EXPECT_EQ(r.status, 400) << csv << ": " << r.body;
    EXPECT_EQ(Json(r).at("error").at("field").as_string(), "columns") << r.body;
  }

  // Formula cells are text: where a field's rules refuse them they are a problem of that column...
  r = Import(s,
             "email,smtp_host,smtp_port,smtp_security,imap_host,imap_port,imap_security,password\n"
             "a@kiln-a.test,=cmd|' /C calc'!A0,587,starttls,imap.test,993,tls,pw\n"
             "\"=HYPERLINK(\"\"http://evil.test\"\")\",smtp.test,587,starttls,imap.test,993,tls,"
             "pw\n"
             "b@kiln-a.test,smtp.test,=1+1,starttls,imap.test,993,tls,pw\n");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Where(r), (std::vector<std::string>{"2:smtp_host", "3:email", "4:smtp_port"}))
      << r.body;
  // ...elsewhere they are kept verbatim, never evaluated (and a password is taken as it is).
  r = Import(s,
             "email,from_name,preset,password\n"
             "c@kiln-a.test,\"=HYPERLINK(\"\"http://evil.test\"\",\"\"x\"\")\",gmail,=+pw@1\n");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Senders(s)[0].at("from_name").as_string(), "=HYPERLINK(\"http://evil.test\",\"x\")");

  // A 1 MB cell: a problem of its row, and the good row after it is not written either.
  r = Import(s,
             "email,from_name,preset,password\n"
             "d@kiln-a.test," +
                 std::string(1'000'000, 'A') +
                 ",gmail,pw\n"
                 "e@kiln-a.test,Eve,gmail,pw\n");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Where(r), (std::vector<std::string>{"2:"})) << r.body;
  EXPECT_NE(Problems(r)[0].at("message").as_string().find("longer than"), std::string::npos)
      << r.body;
  EXPECT_EQ(Senders(s).size(), 1u);

  // Invalid UTF-8 in a file that is UTF-8 (its first 64 KiB say so): the row that holds it.
  std::string big = "email,from_name,preset,password\n";
  for (int i = 0; i < 400; ++i) {
    big += "u" + std::to_string(i) + "@kiln-a.test,Name " + std::to_string(i) + " " +
           std::string(150, 'x') + ",gmail,pw\n";
  }
  big += "bad@kiln-a.test,Bad \xC3\x28 byte,gmail,pw\n";  // row 402
  ASSERT_GT(big.size(), 64u * 1024);
  r = Import(s, big);
  ASSERT_EQ(r.status, 400) << r.body.substr(0, 500);
  EXPECT_EQ(Where(r), (std::vector<std::string>{"402:"})) << r.body;
  EXPECT_NE(Problems(r)[0].at("message").as_string().find("UTF-8"), std::string::npos) << r.body;

  // A quote left open swallows the rest of the file: reported, nothing written.
  r = Import(s, "email,from_name,preset,password\nf@kiln-a.test,\"Fay,gmail,pw\n");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Where(r), (std::vector<std::string>{"2:"})) << r.body;

  // More than 5,000 rows: refused as too large before any row is checked.
  std::string many = "email\n";
  for (int i = 0; i < 5001; ++i) many += "m" + std::to_string(i) + "@kiln-a.test\n";
  r = Import(s, many);
  EXPECT_EQ(r.status, 413) << r.body.substr(0, 300);
  EXPECT_NE(r.body.find("more than 5000 senders"), std::string::npos) << r.body.substr(0, 300);
  EXPECT_EQ(Senders(s).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, SendersImportApiTest, ::testing::ValuesIn(DbBackends()),
                         DbBackendName());

}  // namespace
}  // namespace kiln::testing
