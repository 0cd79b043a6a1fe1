// Sender checks against the real mail stack, a closed port, a silent listener, a bad certificate
// and a host name that cannot resolve (a 70-character label: glibc refuses it without sending a
// DNS query, so nothing leaves the machine).
#include "kiln/mail/sender_check.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "kiln/testing/mailstack.h"

namespace kiln::mail {
namespace {
using Kind = Diagnosis::Kind;
using kiln::testing::Mailstack;
using std::chrono::milliseconds;

class SenderCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto stack = Mailstack::FromEnv();
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    stack_ = *stack;
  }
  SmtpConfig Smtp(const std::string& user, const std::string& password) {
    SmtpConfig c;
    c.host = stack_.host;
    c.port = stack_.starttls_port;
    c.security = SmtpSecurity::kStartTls;
    c.ca_file = stack_.ca_file;
    c.username = user;
    c.secret = password;
    c.timeouts.connect = c.timeouts.greeting = c.timeouts.command = milliseconds(3000);
    return c;
  }
  ImapCheckConfig Imap(const std::string& user, const std::string& password) {
    ImapCheckConfig c;
    c.host = stack_.host;
    c.port = stack_.imaps_port;
    c.security = SmtpSecurity::kTls;
    c.ca_file = stack_.ca_file;
    c.username = user;
    c.password = password;
    c.timeout = milliseconds(3000);
    return c;
  }
  Mailstack stack_;
};

// A listening socket that accepts (in the kernel backlog) but never answers.
class SilentListener {
 public:
  SilentListener()
      : acceptor_(io_, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                      0)) {}
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

uint16_t ClosedPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor probe(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return probe.local_endpoint().port();
}

TEST_F(SenderCheckTest, SmtpOk) {
  Diagnosis d = TestSmtpConnection(Smtp("sender1@kiln-a.test", "secret-sender1"));
  EXPECT_EQ(d.kind, Kind::kOk) << d.message;
  EXPECT_EQ(d.message, "connected to 127.0.0.1:" + std::to_string(stack_.starttls_port) +
                           " and authenticated as sender1@kiln-a.test");
}

TEST_F(SenderCheckTest, SmtpWrongPassword) {
  Diagnosis d = TestSmtpConnection(Smtp("sender1@kiln-a.test", "nope"));
  EXPECT_EQ(d.kind, Kind::kAuth);
  EXPECT_EQ(d.message.rfind("username or password rejected: 535 5.7.8", 0), 0u) << d.message;
}

TEST_F(SenderCheckTest, SmtpBadCertificate) {
  SmtpConfig c = Smtp("sender1@kiln-a.test", "secret-sender1");
  c.ca_file.clear();  // the system store does not know the stack's self-signed certificate
  Diagnosis d = TestSmtpConnection(c);
  EXPECT_EQ(d.kind, Kind::kTls);
  EXPECT_EQ(d.message, "TLS certificate of 127.0.0.1:" + std::to_string(stack_.starttls_port) +
                           " not accepted: self-signed certificate");
}

TEST_F(SenderCheckTest, SmtpAllowSelfSigned) {
  SmtpConfig c = Smtp("sender1@kiln-a.test", "secret-sender1");
  c.ca_file.clear();
  c.allow_self_signed = true;  // trust is waived; the name (IP SAN 127.0.0.1) is still checked
  Diagnosis d = TestSmtpConnection(c);
  EXPECT_EQ(d.kind, Kind::kOk) << d.message;
}

TEST_F(SenderCheckTest, SmtpRefused) {
  SmtpConfig c = Smtp("", "");
  c.port = ClosedPort();
  Diagnosis d = TestSmtpConnection(c);
  EXPECT_EQ(d.kind, Kind::kRefused);
  EXPECT_EQ(d.message, "connection refused by 127.0.0.1:" + std::to_string(c.port));
}

TEST_F(SenderCheckTest, SmtpTimeout) {
  SilentListener silent;
  SmtpConfig c = Smtp("", "");
  c.port = silent.port();
  c.timeouts.greeting = milliseconds(300);
  Diagnosis d = TestSmtpConnection(c);
  EXPECT_EQ(d.kind, Kind::kTimeout);
  EXPECT_EQ(d.message, "timed out after 300 ms waiting for the greeting (127.0.0.1:" +
                           std::to_string(c.port) + ")");
}

TEST_F(SenderCheckTest, SmtpDns) {
  SmtpConfig c = Smtp("", "");
  c.host = std::string(70, 'a') + ".kiln.test";
  Diagnosis d = TestSmtpConnection(c);
  EXPECT_EQ(d.kind, Kind::kDns);
  EXPECT_EQ(d.message.rfind("cannot resolve " + c.host, 0), 0u) << d.message;
}

TEST_F(SenderCheckTest, SendTestEmailDeliversAndReportsSenderNotAllowed) {
  SmtpConfig c = Smtp("sender2@kiln-a.test", "secret-sender2");
  std::string token = "check-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  Diagnosis ok = SendTestEmail(c, "sender2@kiln-a.test", "sender2@kiln-a.test",
                               "Subject: Kiln test " + token + "\r\n\r\nIt works.\r\n");
  EXPECT_EQ(ok.kind, Kind::kOk) << ok.message;
  EXPECT_TRUE(stack_.WaitForMessage("sender2@kiln-a.test", token, milliseconds(10000)).ok());
  Diagnosis bad = SendTestEmail(c, "sender1@kiln-a.test", "bot1@kiln-b.test", "Subject: x\r\n\r\nb");
  EXPECT_EQ(bad.kind, Kind::kSender);
  EXPECT_EQ(bad.message.rfind("sender address <sender1@kiln-a.test> not allowed: 553 5.7.1", 0), 0u)
      << bad.message;
}

TEST_F(SenderCheckTest, ImapOkWrongPasswordRefusedAndBadCertificate) {
  Diagnosis ok = TestImapConnection(Imap("bot1@kiln-b.test", "secret-bot1"));
  EXPECT_EQ(ok.kind, Kind::kOk) << ok.message;
  Diagnosis starttls = [&] {
    ImapCheckConfig c = Imap("bot1@kiln-b.test", "secret-bot1");
    c.port = stack_.imap_port;
    c.security = SmtpSecurity::kStartTls;
    return TestImapConnection(c);
  }();
  EXPECT_EQ(starttls.kind, Kind::kOk) << starttls.message;
  Diagnosis wrong = TestImapConnection(Imap("bot1@kiln-b.test", "nope"));
  EXPECT_EQ(wrong.kind, Kind::kAuth);
  EXPECT_EQ(wrong.message.rfind("username or password rejected: NO", 0), 0u) << wrong.message;
  ImapCheckConfig closed = Imap("bot1@kiln-b.test", "secret-bot1");
  closed.port = ClosedPort();
  EXPECT_EQ(TestImapConnection(closed).kind, Kind::kRefused);
  ImapCheckConfig untrusted = Imap("bot1@kiln-b.test", "secret-bot1");
  untrusted.ca_file.clear();
  Diagnosis tls = TestImapConnection(untrusted);
  EXPECT_EQ(tls.kind, Kind::kTls);
  EXPECT_NE(tls.message.find("self-signed certificate"), std::string::npos) << tls.message;
}

}  // namespace
}  // namespace kiln::mail
