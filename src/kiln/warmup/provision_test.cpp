// FilesProvisioner on files in a temporary folder: the lines it appends, the domains it serves, the
// mailboxes it refuses to create twice, and the settings that configure it. (Against the running
// mail stack, with the daemons reloaded: tests/bots_api_test.cpp.)
#include "kiln/warmup/provision.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace kiln::warmup {
namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FilesProvisionerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kiln-provision-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "passwd") << "bot1@kiln-b.test:{PLAIN}secret-bot1::::::\n";
    std::ofstream(dir_ / "vmailbox") << "# mailboxes\nbot1@kiln-b.test kiln-b.test/bot1/\n";
    std::ofstream(dir_ / "senders") << "bot1@kiln-b.test bot1@kiln-b.test";  // no final newline
    std::ofstream(dir_ / "users.txt") << "bot1@kiln-b.test secret-bot1\n";
    chmod((dir_ / "passwd").c_str(), 0640);
  }
  void TearDown() override { fs::remove_all(dir_); }

  FilesProvisionerOptions Options() const {
    return {.dovecot_passwd = dir_ / "passwd",
            .postfix_vmailbox = dir_ / "vmailbox",
            .postfix_senders = dir_ / "senders",
            .users_file = dir_ / "users.txt",
            .postfix_config_dir = ""};
  }

  fs::path dir_;
};

TEST_F(FilesProvisionerTest, AppendsOneLinePerFile) {
  FilesProvisioner p(Options());
  EXPECT_EQ(p.name(), "files");
  Status s = p.CreateMailbox("new.bot@kiln-b.test", "Zq9-pass_word");
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Read(dir_ / "passwd"),
            "bot1@kiln-b.test:{PLAIN}secret-bot1::::::\n"
            "new.bot@kiln-b.test:{PLAIN}Zq9-pass_word::::::\n");
  EXPECT_EQ(Read(dir_ / "vmailbox"),
            "# mailboxes\nbot1@kiln-b.test kiln-b.test/bot1/\n"
            "new.bot@kiln-b.test kiln-b.test/new.bot/\n");
  EXPECT_EQ(Read(dir_ / "senders"),
            "bot1@kiln-b.test bot1@kiln-b.test\nnew.bot@kiln-b.test new.bot@kiln-b.test\n");
  EXPECT_EQ(Read(dir_ / "users.txt"),
            "bot1@kiln-b.test secret-bot1\nnew.bot@kiln-b.test Zq9-pass_word\n");
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "passwd").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);  // appended in place: mode (and owner) kept
}

TEST_F(FilesProvisionerTest, RefusesWhatItCannotDo) {
  FilesProvisioner p(Options());
  Status s = p.CreateMailbox("bot1@kiln-b.test", "x");
  EXPECT_EQ(s.code(), Status::Code::kAlreadyExists) << s.ToString();
  s = p.CreateMailbox("bot9@other.test", "x");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("does not serve other.test"), std::string::npos) << s.message();
  // A suffix of a served domain is not that domain.
  s = p.CreateMailbox("bot9@b.test", "x");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(p.CreateMailbox("Bot9@kiln-b.test", "x").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(p.CreateMailbox("bot9:x@kiln-b.test", "x").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(p.CreateMailbox("bot9@kiln-b.test", "a:b").code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(p.CreateMailbox("bot9@kiln-b.test", "a b").code(), Status::Code::kInvalidArgument);
  // A login that exists only in the passwd-file is refused too.
  std::ofstream(dir_ / "passwd", std::ios::app) << "ghost@kiln-b.test:{PLAIN}x::::::\n";
  EXPECT_EQ(p.CreateMailbox("ghost@kiln-b.test", "x").code(), Status::Code::kAlreadyExists);
  // Nothing was appended by the refusals.
  EXPECT_EQ(Read(dir_ / "vmailbox"), "# mailboxes\nbot1@kiln-b.test kiln-b.test/bot1/\n");

  FilesProvisionerOptions o = Options();
  o.postfix_vmailbox = dir_ / "missing";
  s = FilesProvisioner(o).CreateMailbox("bot9@kiln-b.test", "x");
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s.message();
  // A reload that fails is reported naming the command.
  o = Options();
  o.postfix_config_dir = (dir_ / "no-such-postfix").string();
  s = FilesProvisioner(o).CreateMailbox("bot9@kiln-b.test", "x");
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("reload"), std::string::npos) << s.message();
}

TEST(ProvisionerFromConfigTest, NamesTheSettings) {
  Config c = Config::Defaults(AllSettings());
  auto p = ProvisionerFromConfig(c);
  EXPECT_EQ(p.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(p.status().message().find("provision_adapter"), std::string::npos);
  ASSERT_TRUE(c.Set("provision_adapter", "ldap").ok());
  EXPECT_NE(ProvisionerFromConfig(c).status().message().find("unknown"), std::string::npos);
  ASSERT_TRUE(c.Set("provision_adapter", "files").ok());
  EXPECT_NE(ProvisionerFromConfig(c).status().message().find("provision_dovecot_passwd"),
            std::string::npos);
  ASSERT_TRUE(c.Set("provision_dovecot_passwd", "/p").ok());
  EXPECT_NE(ProvisionerFromConfig(c).status().message().find("provision_postfix_vmailbox"),
            std::string::npos);
  ASSERT_TRUE(c.Set("provision_postfix_vmailbox", "/v").ok());
  auto ok = ProvisionerFromConfig(c);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)->name(), "files");
}

}  // namespace
}  // namespace kiln::warmup
