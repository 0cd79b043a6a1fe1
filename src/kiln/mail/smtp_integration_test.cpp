// SmtpClient against the real Postfix + Dovecot of scripts/mailstack (which must be running and
// its `env` exported; scripts/test does both).
#include <gtest/gtest.h>

#include <ostream>
#include <thread>

#include "kiln/mail/sender_check.h"
#include "kiln/mail/smtp_client.h"
#include "kiln/testing/mailstack.h"

namespace kiln::mail {

// gtest prints a stage by its name.
inline void PrintTo(SmtpStage stage, std::ostream* os) { *os << SmtpStageName(stage); }

namespace {
using Class = SendResult::Class;
using kiln::testing::Mailstack;
using std::chrono::milliseconds;

class SmtpMailstackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto stack = Mailstack::FromEnv();
    ASSERT_TRUE(stack.ok()) << stack.status().ToString();
    stack_ = *stack;
  }
  SmtpConfig Config(uint16_t port, SmtpSecurity security, const std::string& user) {
    SmtpConfig c;
    c.host = stack_.host;
    c.port = port;
    c.security = security;
    c.username = user;
    c.secret = stack_.User(user).ok() ? stack_.User(user)->password : "";
    c.helo_name = "client.kiln.test";
    return c;
  }
  static std::string Message(const std::string& from, const std::string& to,
                             const std::string& token) {
    return "From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + token + "\r\nMessage-ID: <" +
           token + "@kiln.test>\r\n\r\nHello,\r\n.a line with a dot\r\n" + token + "\r\n";
  }
  static std::string Token(const std::string& name) {
    return name + "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  Mailstack stack_;
};

TEST_F(SmtpMailstackTest, AuthPlainDeliversIntoDovecot) {
  BlockingSmtpClient client(Config(stack_.smtp_port, SmtpSecurity::kNone, "sender1@kiln-a.test"));
  std::string token = Token("plain");
  SendResult r = client.Send(Envelope{"sender1@kiln-a.test", {"bot1@kiln-b.test"}},
                             Message("sender1@kiln-a.test", "bot1@kiln-b.test", token));
  ASSERT_EQ(r.cls, Class::kAccepted) << r.reason;
  EXPECT_EQ(r.code, 250);
  EXPECT_EQ(r.enhanced, "2.0.0");
  auto delivered = stack_.WaitForMessage("bot1@kiln-b.test", token, milliseconds(10000));
  ASSERT_TRUE(delivered.ok()) << delivered.status().ToString();
  EXPECT_NE(delivered->find("\n.a line with a dot"), std::string::npos) << "dot-stuffing undone";
}

TEST_F(SmtpMailstackTest, AuthLoginOverStartTlsWithTheStacksCa) {
  SmtpConfig c = Config(stack_.starttls_port, SmtpSecurity::kStartTls, "sender2@kiln-a.test");
  c.auth = SmtpAuth::kLogin;
  c.ca_file = stack_.ca_file;
  BlockingSmtpClient client(c);
  std::string token = Token("login");
  SendResult r = client.Send(Envelope{"sender2@kiln-a.test", {"bot2@kiln-b.test"}},
                             Message("sender2@kiln-a.test", "bot2@kiln-b.test", token));
  ASSERT_EQ(r.cls, Class::kAccepted) << r.reason;
  EXPECT_TRUE(stack_.WaitForMessage("bot2@kiln-b.test", token, milliseconds(10000)).ok());
}

TEST_F(SmtpMailstackTest, SelfSignedRefusedByDefaultAcceptedWhenAllowed) {
  SmtpConfig c = Config(stack_.starttls_port, SmtpSecurity::kStartTls, "sender1@kiln-a.test");
  BlockingSmtpClient strict(c);
  SendResult refused = strict.Connect();
  EXPECT_EQ(refused.cls, Class::kSenderProblem);
  EXPECT_EQ(refused.failure, SmtpFailure::kTls);
  EXPECT_EQ(refused.stage, SmtpStage::kTls);  // after STARTTLS succeeded
  EXPECT_NE(refused.reason.find("self-signed certificate"), std::string::npos) << refused.reason;
  c.allow_self_signed = true;
  BlockingSmtpClient lenient(c);
  SendResult ok = lenient.Connect();
  EXPECT_EQ(ok.cls, Class::kAccepted) << ok.reason;
}

TEST_F(SmtpMailstackTest, CertificateForAnotherNameRefusedUnlessSelfSignedAllowed) {
  Status extras = stack_.Require("the wrong-name TLS test");
  ASSERT_TRUE(extras.ok()) << extras.ToString();
  // The certificate is trusted (its own CA file): only its names are wrong.
  SmtpConfig c = Config(stack_.wrong_name_smtps_port, SmtpSecurity::kTls, "sender1@kiln-a.test");
  c.ca_file = stack_.wrong_name_ca_file;
  for (const std::string& host : {stack_.host, std::string("localhost")}) {
    c.host = host;
    BlockingSmtpClient strict(c);
    SendResult refused = strict.Connect();
    EXPECT_EQ(refused.cls, Class::kSenderProblem) << refused.reason;
    EXPECT_EQ(refused.failure, SmtpFailure::kTls) << refused.reason;
    EXPECT_EQ(refused.stage, SmtpStage::kTls) << refused.reason;
    EXPECT_NE(
        refused.reason.find("its names (DNS:wrong-name.kiln.test) do not match the host " + host),
        std::string::npos)
        << refused.reason;
    Diagnosis d = TestSmtpConnection(c);
    EXPECT_EQ(d.kind, Diagnosis::Kind::kTls) << d.message;
    EXPECT_NE(d.message.find("do not match the host " + host), std::string::npos) << d.message;
  }
  // The same server with the stack's own certificate, which names 127.0.0.1: accepted.
  SmtpConfig right = Config(stack_.smtps_port, SmtpSecurity::kTls, "sender1@kiln-a.test");
  right.ca_file = stack_.ca_file;
  BlockingSmtpClient matching(right);
  SendResult ok = matching.Connect();
  EXPECT_EQ(ok.cls, Class::kAccepted) << ok.reason;
  // allow_self_signed: encryption without authentication, the names are not checked.
  c.host = stack_.host;
  c.ca_file.clear();
  c.allow_self_signed = true;
  BlockingSmtpClient lenient(c);
  SendResult accepted = lenient.Connect();
  EXPECT_EQ(accepted.cls, Class::kAccepted) << accepted.reason;
}

TEST_F(SmtpMailstackTest, ImplicitTls) {
  SmtpConfig c = Config(stack_.smtps_port, SmtpSecurity::kTls, "bot3@kiln-b.test");
  c.allow_self_signed = true;
  BlockingSmtpClient client(c);
  std::string token = Token("smtps");
  SendResult r = client.Send(Envelope{"bot3@kiln-b.test", {"sender3@kiln-a.test"}},
                             Message("bot3@kiln-b.test", "sender3@kiln-a.test", token));
  ASSERT_EQ(r.cls, Class::kAccepted) << r.reason;
  EXPECT_TRUE(stack_.WaitForMessage("sender3@kiln-a.test", token, milliseconds(10000)).ok());
}

TEST_F(SmtpMailstackTest, WrongPasswordIsASenderProblem) {
  SmtpConfig c = Config(stack_.smtp_port, SmtpSecurity::kNone, "sender1@kiln-a.test");
  c.secret = "not-the-password";
  BlockingSmtpClient client(c);
  SendResult r = client.Send(Envelope{"sender1@kiln-a.test", {"bot1@kiln-b.test"}}, "S: x\n\nb");
  EXPECT_EQ(r.cls, Class::kSenderProblem);
  EXPECT_EQ(r.failure, SmtpFailure::kAuth);
  EXPECT_EQ(r.stage, SmtpStage::kAuth);
  EXPECT_EQ(r.code, 535);
  EXPECT_EQ(r.enhanced, "5.7.8");
  EXPECT_EQ(r.reason.rfind("username or password rejected: 535 5.7.8", 0), 0u) << r.reason;
}

TEST_F(SmtpMailstackTest, StartTlsRequiredWithoutTlsIsASenderProblem) {
  SmtpConfig c = Config(stack_.starttls_port, SmtpSecurity::kNone, "");
  BlockingSmtpClient client(c);
  SendResult r = client.Send(Envelope{"x@outside.test", {"bot1@kiln-b.test"}}, "S: x\n\nb");
  EXPECT_EQ(r.cls, Class::kSenderProblem) << r.reason;
  EXPECT_EQ(r.code, 530);
  EXPECT_EQ(r.stage, SmtpStage::kMailFrom) << r.reason;
}

TEST_F(SmtpMailstackTest, SenderAddressNotOwnedIsASenderProblem) {
  BlockingSmtpClient client(Config(stack_.smtp_port, SmtpSecurity::kNone, "sender1@kiln-a.test"));
  SendResult r = client.Send(Envelope{"sender2@kiln-a.test", {"bot1@kiln-b.test"}}, "S: x\n\nb");
  EXPECT_EQ(r.cls, Class::kSenderProblem) << r.reason;
  EXPECT_EQ(r.failure, SmtpFailure::kSenderRejected);
  EXPECT_EQ(r.code, 553);
  // Postfix delays the reject (smtpd_delay_reject): the sender is refused in reply to RCPT TO.
  EXPECT_EQ(r.stage, SmtpStage::kRcpt) << r.reason;
}

TEST_F(SmtpMailstackTest, UnknownUserAndDomainRefusedAtRcpt) {
  BlockingSmtpClient client(Config(stack_.smtp_port, SmtpSecurity::kNone, "sender1@kiln-a.test"));
  SendResult user =
      client.Send(Envelope{"sender1@kiln-a.test", {"nobody@kiln-b.test"}}, "S: x\n\nb");
  EXPECT_EQ(user.cls, Class::kPermanent) << user.reason;
  EXPECT_EQ(user.enhanced, "5.1.1");
  EXPECT_EQ(user.stage, SmtpStage::kRcpt);
  SendResult domain =
      client.Send(Envelope{"sender1@kiln-a.test", {"someone@unknown-domain.test"}}, "S: x\n\nb");
  EXPECT_EQ(domain.cls, Class::kPermanent) << domain.reason;
  EXPECT_EQ(domain.code, 550);
  EXPECT_EQ(domain.stage, SmtpStage::kRcpt);
  EXPECT_EQ(client.client().connections_opened(), 1);
}

TEST_F(SmtpMailstackTest, UnknownUserAcceptedThenBouncedWithADsn) {
  BlockingSmtpClient client(
      Config(stack_.smtp_accept_port, SmtpSecurity::kNone, "sender3@kiln-a.test"));
  std::string token = Token("bounce");
  SendResult r = client.Send(Envelope{"sender3@kiln-a.test", {"ghost@kiln-b.test"}},
                             Message("sender3@kiln-a.test", "ghost@kiln-b.test", token));
  ASSERT_EQ(r.cls, Class::kAccepted) << r.reason;
  auto dsn = stack_.WaitForMessage("sender3@kiln-a.test", token, milliseconds(15000));
  ASSERT_TRUE(dsn.ok()) << dsn.status().ToString();
  EXPECT_NE(dsn->find("Status: 5.1.1"), std::string::npos);
  EXPECT_NE(dsn->find("message/delivery-status"), std::string::npos);
}

TEST_F(SmtpMailstackTest, OversizeMessageIsPermanent) {
  BlockingSmtpClient client(Config(stack_.smtp_port, SmtpSecurity::kNone, "sender1@kiln-a.test"));
  std::string big = "Subject: big\r\n\r\n";
  while (big.size() < stack_.size_limit + 1000) big += std::string(76, 'x') + "\r\n";
  SendResult r = client.Send(Envelope{"sender1@kiln-a.test", {"bot1@kiln-b.test"}}, big);
  EXPECT_EQ(r.cls, Class::kPermanent) << r.reason;
  EXPECT_EQ(r.enhanced, "5.3.4");
  EXPECT_EQ(r.stage, SmtpStage::kMailFrom);  // Postfix announces SIZE: refused before MAIL FROM
}

TEST_F(SmtpMailstackTest, HundredMessagesOverOneConnection) {
  BlockingSmtpClient client(Config(stack_.smtp_port, SmtpSecurity::kNone, "sender2@kiln-a.test"));
  std::string token = Token("hundred");
  for (int i = 0; i < 100; ++i) {
    SendResult r = client.Send(
        Envelope{"sender2@kiln-a.test", {"bot4@kiln-b.test"}},
        Message("sender2@kiln-a.test", "bot4@kiln-b.test", token + "-" + std::to_string(i)));
    ASSERT_EQ(r.cls, Class::kAccepted) << i << ": " << r.reason;
  }
  EXPECT_EQ(client.client().connections_opened(), 1);
  EXPECT_TRUE(stack_.WaitForMessage("bot4@kiln-b.test", token + "-99@", milliseconds(20000)).ok());
}

TEST_F(SmtpMailstackTest, ReconnectsAfterTheServerClosedAnIdleConnection) {
  BlockingSmtpClient client(
      Config(stack_.smtp_idle_port, SmtpSecurity::kNone, "sender1@kiln-a.test"));
  Envelope env{"sender1@kiln-a.test", {"bot5@kiln-b.test"}};
  SendResult first = client.Send(env, "Subject: one\r\n\r\nb\r\n");
  ASSERT_EQ(first.cls, Class::kAccepted) << first.reason;
  std::this_thread::sleep_for(milliseconds(3000));  // the port's smtpd_timeout is 2 s
  SendResult second = client.Send(env, "Subject: two\r\n\r\nb\r\n");
  EXPECT_EQ(second.cls, Class::kAccepted) << second.reason;
  EXPECT_EQ(client.client().connections_opened(), 2);
}

TEST_F(SmtpMailstackTest, JunkFolderByAddressExtension) {
  BlockingSmtpClient client(Config(stack_.smtp_port, SmtpSecurity::kNone, "sender1@kiln-a.test"));
  std::string token = Token("junk");
  SendResult r = client.Send(Envelope{"sender1@kiln-a.test", {"bot6+Junk@kiln-b.test"}},
                             Message("sender1@kiln-a.test", "bot6@kiln-b.test", token));
  ASSERT_EQ(r.cls, Class::kAccepted) << r.reason;
  EXPECT_TRUE(stack_.WaitForMessage("bot6@kiln-b.test", token, milliseconds(10000), "Junk").ok());
}

}  // namespace
}  // namespace kiln::mail
