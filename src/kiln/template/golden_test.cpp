// A realistic cold email (subject + HTML body with CSS, signature and unsubscribe link)
// rendered for three leads and compared with golden files in testdata/.
// KILN_UPDATE_GOLDEN=1 rewrites the golden files (review the diff before committing).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "kiln/template/template.h"

namespace kiln::tmpl {
namespace {

std::string TestDataPath(const std::string& name) {
  const char* dir = std::getenv("KILN_SOURCE_DIR");
  return std::string(dir ? dir : KILN_TEST_SOURCE_DIR) + "/src/kiln/template/testdata/" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::string path = TestDataPath(name);
  if (std::getenv("KILN_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  const std::string expected = ReadFile(path);
  ASSERT_FALSE(expected.empty()) << "missing golden file " << path
                                 << " (run with KILN_UPDATE_GOLDEN=1 to create it)";
  EXPECT_EQ(expected, actual) << "golden mismatch: " << path;
}

TEST(GoldenTest, ColdEmailForThreeLeads) {
  std::string subject_source = ReadFile(TestDataPath("cold_email_subject.liquid"));
  ASSERT_FALSE(subject_source.empty());
  if (subject_source.back() == '\n') subject_source.pop_back();
  auto subject = Template::Parse(subject_source);
  ASSERT_TRUE(subject.ok()) << subject.status().ToString();
  auto body = Template::Parse(ReadFile(TestDataPath("cold_email_body.html.liquid")));
  ASSERT_TRUE(body.ok()) << body.status().ToString();

  // Built once per campaign and sender; each lead's context chains to it.
  RenderContext sender;
  sender.Set("sender.first_name", "Ana")
      .SetSafe(
          "sender.signature",
          "<p>Best,<br>Ana Ruiz<br><span style=\"color:#888\">Kiln &middot; Lisbon</span></p>");

  struct Lead {
    uint64_t id;
    std::vector<std::pair<std::string, std::string>> fields;
  };
  const Lead leads[] = {
      {1001,
       {{"first_name", "marie-claire"},
        {"company", "Bäckerei Müller & Söhne"},
        {"city", "München"},
        {"employees", "240"},
        {"custom.Industry Name", "Food & Beverage"},
        {"custom.tool", "Lemlist"}}},
      // Hostile data: markup and a header-injection attempt, no first name.
      {1002,
       {{"first_name", "   "},
        {"company", "<script>alert(1)</script> Corp\r\nBcc: everyone@example.com"},
        {"employees", "12"}}},
      // Nearly empty lead: no company, no custom fields.
      {1003, {{"first_name", "JOSÉ"}}},
  };
  const uint64_t step_id = 2, variant_id = 1;
  for (const Lead& lead : leads) {
    RenderContext vars(&sender);
    for (const auto& [k, v] : lead.fields) vars.Set(k, v);
    vars.SetSafe("unsubscribe_url", "https://t.kiln.example/u/" + std::to_string(lead.id) + "?s=2");

    RenderOptions subject_options;
    subject_options.single_line = true;
    subject_options.spin_seed = SpinSeed({lead.id, step_id, variant_id});
    auto s = subject->Render(vars, subject_options);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->text.find_first_of("\r\n"), std::string::npos);

    RenderOptions body_options;
    body_options.html_escape_values = true;
    body_options.spin_seed = subject_options.spin_seed;
    auto b = body->Render(vars, body_options);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ(b->text.find("<script>"), std::string::npos);

    std::string report;
    for (const MissingVar& m : b->missing) {
      report += "missing: " + m.name + " at " + std::to_string(m.line) + ":" +
                std::to_string(m.column) + (m.present_but_empty ? " (empty)" : "") + "\n";
    }
    ExpectGolden("cold_email_lead" + std::to_string(lead.id) + ".golden",
                 "Subject: " + s->text + "\n" + report + "\n" + b->text);
  }
}

}  // namespace
}  // namespace kiln::tmpl
