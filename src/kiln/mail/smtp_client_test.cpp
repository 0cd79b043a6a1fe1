// SmtpClient against the scripted FakeSmtpServer: exact transcripts (testdata/smtp_*.ref),
// classification, the step each failure stops at, reconnects, timeouts, SOCKS5 and source-address
// binding.
#include "kiln/mail/smtp_client.h"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <ostream>
#include <thread>

#include "kiln/mail/smtp_fake_server.h"

namespace kiln::mail {

// gtest prints a stage by its name.
inline void PrintTo(SmtpStage stage, std::ostream* os) { *os << SmtpStageName(stage); }

namespace {
namespace asio = boost::asio;
using asio::ip::tcp;
using testing::CompareGolden;
using testing::FakeSmtpScript;
using testing::FakeSmtpServer;
using Class = SendResult::Class;

SmtpConfig FakeConfig(const FakeSmtpServer& server) {
  SmtpConfig c;
  c.host = "127.0.0.1";
  c.port = server.port();
  c.security = SmtpSecurity::kNone;
  c.username = "user@kiln.test";
  c.secret = "pw";
  c.helo_name = "client.kiln.test";
  c.timeouts.connect = std::chrono::milliseconds(2000);
  c.timeouts.greeting = std::chrono::milliseconds(2000);
  c.timeouts.command = std::chrono::milliseconds(2000);
  c.timeouts.data = std::chrono::milliseconds(2000);
  return c;
}

const char kMessage[] =
    "From: <user@kiln.test>\r\nTo: <a@dest.test>\r\nSubject: hi\r\n\r\nline one\r\n.leading dot\r\n"
    ".\r\nlast\r\n";

TEST(SmtpClientFake, PipelinedTranscriptOverOneConnection) {
  FakeSmtpServer server(FakeSmtpScript{});
  {
    BlockingSmtpClient client(FakeConfig(server));
    Envelope env{"user@kiln.test", {"a@dest.test", "b@dest.test"}};
    SendResult first = client.Send(env, kMessage);
    EXPECT_EQ(first.cls, Class::kAccepted) << first.reason;
    EXPECT_EQ(first.code, 250);
    EXPECT_EQ(first.enhanced, "2.0.0");
    ASSERT_EQ(first.recipients.size(), 2u);
    EXPECT_EQ(first.recipients[1].cls, Class::kAccepted);
    SendResult second = client.Send(Envelope{"user@kiln.test", {"c@dest.test"}}, "Subject: 2\n\nx");
    EXPECT_EQ(second.cls, Class::kAccepted) << second.reason;
    EXPECT_EQ(client.client().connections_opened(), 1);
  }
  EXPECT_EQ(CompareGolden("smtp_pipelined.ref", server.Transcript()), "");
}

TEST(SmtpClientFake, LoginWithoutPipeliningAndAPartialRecipientFailure) {
  FakeSmtpScript script;
  script.ehlo = {"fake.test", "ENHANCEDSTATUSCODES", "AUTH LOGIN"};
  script.rcpt_replies["gone@dest.test"] = "550 5.1.1 <gone@dest.test>: User unknown";
  FakeSmtpServer server(script);
  {
    BlockingSmtpClient client(FakeConfig(server));
    SendResult r = client.Send(Envelope{"user@kiln.test", {"gone@dest.test", "a@dest.test"}},
                               "Subject: x\r\n\r\nbody\r\n");
    EXPECT_EQ(r.cls, Class::kAccepted) << r.reason;
    ASSERT_EQ(r.recipients.size(), 2u);
    EXPECT_EQ(r.recipients[0].cls, Class::kPermanent);
    EXPECT_EQ(r.recipients[0].enhanced, "5.1.1");
    EXPECT_EQ(r.recipients[1].cls, Class::kAccepted);
  }
  EXPECT_EQ(CompareGolden("smtp_login_no_pipelining.ref", server.Transcript()), "");
}

TEST(SmtpClientFake, EveryRecipientRefusedIsPermanentWithReason) {
  FakeSmtpScript script;
  script.rcpt_replies["gone@dest.test"] = "550 5.1.1 <gone@dest.test>: User unknown";
  FakeSmtpServer server(script);
  BlockingSmtpClient client(FakeConfig(server));
  SendResult r = client.Send(Envelope{"user@kiln.test", {"gone@dest.test"}}, "Subject: x\n\nb");
  EXPECT_EQ(r.cls, Class::kPermanent);
  EXPECT_EQ(r.failure, SmtpFailure::kRecipients);
  EXPECT_EQ(r.code, 550);
  EXPECT_EQ(r.enhanced, "5.1.1");
  EXPECT_EQ(r.reason,
            "recipient <gone@dest.test> refused: 550 5.1.1 <gone@dest.test>: User unknown");
  // The connection survives a refused transaction and the next message goes through it.
  SendResult ok = client.Send(Envelope{"user@kiln.test", {"a@dest.test"}}, "Subject: x\n\nb");
  EXPECT_EQ(ok.cls, Class::kAccepted) << ok.reason;
  EXPECT_EQ(server.connections(), 1);
}

TEST(SmtpClientFake, RelayDeniedAndGreylistingAreClassified) {
  FakeSmtpScript script;
  script.rcpt_replies["far@away.test"] = "554 5.7.1 <far@away.test>: Relay access denied";
  script.rcpt_replies["grey@dest.test"] = "450 4.2.0 <grey@dest.test>: Greylisted, try later";
  FakeSmtpServer server(script);
  BlockingSmtpClient client(FakeConfig(server));
  SendResult relay = client.Send(Envelope{"user@kiln.test", {"far@away.test"}}, "S: x\n\nb");
  EXPECT_EQ(relay.cls, Class::kSenderProblem) << relay.reason;
  EXPECT_EQ(relay.failure, SmtpFailure::kSenderRejected);
  SendResult grey = client.Send(Envelope{"user@kiln.test", {"grey@dest.test"}}, "S: x\n\nb");
  EXPECT_EQ(grey.cls, Class::kTransient) << grey.reason;
  EXPECT_EQ(grey.code, 450);
}

TEST(SmtpClientFake, XOAuth2AgainstAFakeProvider) {
  FakeSmtpScript script;
  script.password = "ya29.fake-access-token";
  FakeSmtpServer server(script);
  {
    SmtpConfig config = FakeConfig(server);
    config.auth = SmtpAuth::kXOAuth2;
    config.secret = "ya29.fake-access-token";
    {
      BlockingSmtpClient good(config);
      SendResult ok = good.Connect();
      EXPECT_EQ(ok.cls, Class::kAccepted) << ok.reason;
    }
    config.secret = "ya29.expired-token";
    BlockingSmtpClient bad(config);
    SendResult refused = bad.Connect();
    EXPECT_EQ(refused.cls, Class::kSenderProblem);
    EXPECT_EQ(refused.failure, SmtpFailure::kAuth);
    EXPECT_EQ(refused.enhanced, "5.7.8");
    EXPECT_EQ(refused.reason.rfind("OAuth access token rejected: 535 5.7.8", 0), 0u)
        << refused.reason;
  }
  EXPECT_EQ(CompareGolden("smtp_xoauth2.ref", server.Transcript()), "");
}

TEST(SmtpClientFake, WrongPasswordIsASenderProblem) {
  FakeSmtpServer server(FakeSmtpScript{});
  SmtpConfig config = FakeConfig(server);
  config.secret = "wrong";
  BlockingSmtpClient client(config);
  SendResult r = client.Send(Envelope{"user@kiln.test", {"a@dest.test"}}, "S: x\n\nb");
  EXPECT_EQ(r.cls, Class::kSenderProblem);
  EXPECT_EQ(r.failure, SmtpFailure::kAuth);
  EXPECT_EQ(r.stage, SmtpStage::kAuth);
  EXPECT_EQ(r.reason, "username or password rejected: 535 5.7.8 Error: authentication failed");
}

TEST(SmtpClientFake, ReconnectsWhenTheServerClosedTheConnection) {
  FakeSmtpScript script;
  script.close_after_messages = 1;
  FakeSmtpServer server(script);
  BlockingSmtpClient client(FakeConfig(server));
  for (int i = 0; i < 3; ++i) {
    SendResult r = client.Send(Envelope{"user@kiln.test", {"a@dest.test"}}, "S: x\n\nb");
    EXPECT_EQ(r.cls, Class::kAccepted) << i << ": " << r.reason;
  }
  EXPECT_EQ(server.connections(), 3);
  EXPECT_EQ(client.client().connections_opened(), 3);
}

TEST(SmtpClientFake, SizeLimitIsCheckedBeforeSending) {
  FakeSmtpScript script;
  script.ehlo = {"fake.test", "PIPELINING", "SIZE 1000", "AUTH PLAIN"};
  FakeSmtpServer server(script);
  BlockingSmtpClient client(FakeConfig(server));
  SendResult r = client.Send(Envelope{"user@kiln.test", {"a@dest.test"}},
                             "Subject: big\r\n\r\n" + std::string(2000, 'x'));
  EXPECT_EQ(r.cls, Class::kPermanent);
  EXPECT_EQ(r.enhanced, "5.3.4");
  EXPECT_EQ(r.stage, SmtpStage::kMailFrom);  // the SIZE the server would refuse at MAIL FROM
  EXPECT_EQ(server.Transcript().find("MAIL FROM"), std::string::npos);
}

TEST(SmtpClientFake, SilentServerTimesOutAtTheGreeting) {
  FakeSmtpScript script;
  script.silent = true;
  FakeSmtpServer server(script);
  SmtpConfig config = FakeConfig(server);
  config.timeouts.greeting = std::chrono::milliseconds(300);
  BlockingSmtpClient client(config);
  auto start = std::chrono::steady_clock::now();
  SendResult r = client.Connect();
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.cls, Class::kTransient);
  EXPECT_EQ(r.failure, SmtpFailure::kTimeout);
  EXPECT_EQ(r.stage, SmtpStage::kGreeting);
  EXPECT_NE(r.reason.find("timed out after 300 ms waiting for the greeting"), std::string::npos)
      << r.reason;
  EXPECT_LT(took, std::chrono::milliseconds(2000));
}

TEST(SmtpClientFake, ClosedPortIsRefusedAndTransient) {
  uint16_t port;
  {
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  SmtpConfig config;
  config.host = "127.0.0.1";
  config.port = port;
  config.security = SmtpSecurity::kNone;
  BlockingSmtpClient client(config);
  SendResult r = client.Send(Envelope{"a@b.test", {"c@d.test"}}, "S: x\n\nb");
  EXPECT_EQ(r.cls, Class::kTransient);
  EXPECT_EQ(r.failure, SmtpFailure::kRefused);
  EXPECT_EQ(r.stage, SmtpStage::kConnect);
  EXPECT_EQ(r.reason, "connection refused by 127.0.0.1:" + std::to_string(port));
}

// SendResult::stage: where the exchange stopped, set by the client at each step rather than read
// from the wording of `reason`.

TEST(SmtpClientStage, NamesAreStable) {
  const std::vector<std::pair<SmtpStage, std::string_view>> names = {
      {SmtpStage::kNone, "none"},         {SmtpStage::kResolve, "resolve"},
      {SmtpStage::kConnect, "connect"},   {SmtpStage::kTls, "tls"},
      {SmtpStage::kGreeting, "greeting"}, {SmtpStage::kEhlo, "ehlo"},
      {SmtpStage::kStartTls, "starttls"}, {SmtpStage::kAuth, "auth"},
      {SmtpStage::kRset, "rset"},         {SmtpStage::kMailFrom, "mail_from"},
      {SmtpStage::kRcpt, "rcpt"},         {SmtpStage::kData, "data"},
      {SmtpStage::kMessage, "message"}};
  for (const auto& [stage, name] : names) EXPECT_EQ(SmtpStageName(stage), name);
}

TEST(SmtpClientStage, UnusableSettingsStopAtConnect) {
  FakeSmtpServer server(FakeSmtpScript{});
  SmtpConfig bad_source = FakeConfig(server);
  bad_source.source_address = "not-an-ip";
  SendResult r = BlockingSmtpClient(bad_source).Connect();
  EXPECT_EQ(r.failure, SmtpFailure::kConfig) << r.reason;
  EXPECT_EQ(r.stage, SmtpStage::kConnect);
  SmtpConfig bad_ca = FakeConfig(server);
  bad_ca.security = SmtpSecurity::kStartTls;
  bad_ca.ca_file = "/nonexistent/kiln-test-ca.pem";
  r = BlockingSmtpClient(bad_ca).Connect();
  EXPECT_EQ(r.failure, SmtpFailure::kConfig) << r.reason;
  EXPECT_EQ(r.stage, SmtpStage::kConnect);
  EXPECT_EQ(server.connections(), 0);
}

TEST(SmtpClientStage, RefusedGreeting) {
  FakeSmtpScript script;
  script.greeting = "554 5.3.2 fake.test has no SMTP service for you";
  FakeSmtpServer server(script);
  BlockingSmtpClient client(FakeConfig(server));
  SendResult r = client.Connect();
  EXPECT_EQ(r.cls, Class::kSenderProblem) << r.reason;
  EXPECT_EQ(r.failure, SmtpFailure::kGreeting);
  EXPECT_EQ(r.stage, SmtpStage::kGreeting);
  EXPECT_EQ(r.code, 554);
  EXPECT_EQ(server.Transcript().find("EHLO"), std::string::npos) << server.Transcript();
}

TEST(SmtpClientStage, EhloAndHeloRefused) {
  FakeSmtpScript script;
  script.ehlo_reply = "550 5.7.1 EHLO client.kiln.test not welcome";
  script.helo_reply = "550 5.7.1 HELO client.kiln.test not welcome";
  FakeSmtpServer server(script);
  BlockingSmtpClient client(FakeConfig(server));
  SendResult r = client.Send(Envelope{"user@kiln.test", {"a@dest.test"}}, "S: x\n\nb");
  EXPECT_EQ(r.cls, Class::kSenderProblem) << r.reason;
  EXPECT_EQ(r.failure, SmtpFailure::kGreeting);
  EXPECT_EQ(r.stage, SmtpStage::kEhlo);
  EXPECT_EQ(r.code, 550);
  EXPECT_NE(server.Transcript().find("C: HELO client.kiln.test"), std::string::npos)
      << server.Transcript();
  EXPECT_EQ(server.Transcript().find("C: AUTH"), std::string::npos) << server.Transcript();
}

TEST(SmtpClientStage, EhloDeferred) {
  FakeSmtpScript script;
  script.ehlo_reply = "421 4.3.2 fake.test busy, try later";
  FakeSmtpServer server(script);
  BlockingSmtpClient client(FakeConfig(server));
  SendResult r = client.Connect();
  EXPECT_EQ(r.cls, Class::kTransient) << r.reason;
  EXPECT_EQ(r.stage, SmtpStage::kEhlo);
  EXPECT_EQ(r.code, 421);
}

TEST(SmtpClientStage, StartTlsNotOfferedOrRefused) {
  {
    FakeSmtpServer server(FakeSmtpScript{});  // its EHLO does not offer STARTTLS
    SmtpConfig config = FakeConfig(server);
    config.security = SmtpSecurity::kStartTls;
    BlockingSmtpClient client(config);
    SendResult r = client.Connect();
    EXPECT_EQ(r.cls, Class::kSenderProblem) << r.reason;
    EXPECT_EQ(r.failure, SmtpFailure::kTls);
    EXPECT_EQ(r.stage, SmtpStage::kStartTls);
  }
  FakeSmtpScript script;
  script.ehlo = {"fake.test", "STARTTLS", "AUTH PLAIN"};
  script.starttls_reply = "454 4.7.0 TLS not available due to local problem";
  FakeSmtpServer server(script);
  SmtpConfig config = FakeConfig(server);
  config.security = SmtpSecurity::kStartTls;
  BlockingSmtpClient client(config);
  SendResult r = client.Connect();
  EXPECT_EQ(r.cls, Class::kTransient) << r.reason;
  EXPECT_EQ(r.failure, SmtpFailure::kTls);
  EXPECT_EQ(r.stage, SmtpStage::kStartTls);
  EXPECT_EQ(r.code, 454);
  EXPECT_EQ(server.Transcript().find("C: AUTH"), std::string::npos) << server.Transcript();
}

TEST(SmtpClientStage, TlsHandshakeFailsAfterStartTls) {
  FakeSmtpScript script;
  script.ehlo = {"fake.test", "STARTTLS", "AUTH PLAIN"};
  script.starttls_reply = "220 2.0.0 Ready to start TLS";
  FakeSmtpServer server(script);
  SmtpConfig config = FakeConfig(server);
  config.security = SmtpSecurity::kStartTls;
  BlockingSmtpClient client(config);
  SendResult r = client.Connect();
  EXPECT_EQ(r.failure, SmtpFailure::kTls) << r.reason;
  EXPECT_EQ(r.stage, SmtpStage::kTls);
  EXPECT_NE(r.reason.find("TLS handshake with 127.0.0.1:" + std::to_string(server.port())),
            std::string::npos)
      << r.reason;
  EXPECT_NE(server.Transcript().find("C: <TLS handshake>"), std::string::npos)
      << server.Transcript();
}

TEST(SmtpClientStage, ImplicitTlsAgainstAPlainServer) {
  FakeSmtpServer server(FakeSmtpScript{});  // greets in plain text
  SmtpConfig config = FakeConfig(server);
  config.security = SmtpSecurity::kTls;
  BlockingSmtpClient client(config);
  SendResult r = client.Connect();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.stage, SmtpStage::kTls) << r.reason;
}

TEST(SmtpClientStage, SuccessNamesTheLastStep) {
  FakeSmtpServer server(FakeSmtpScript{});
  {
    BlockingSmtpClient client(FakeConfig(server));
    SendResult opened = client.Connect();
    EXPECT_EQ(opened.cls, Class::kAccepted) << opened.reason;
    EXPECT_EQ(opened.stage, SmtpStage::kAuth);
    SendResult sent = client.Send(Envelope{"user@kiln.test", {"a@dest.test"}}, "S: x\n\nb");
    EXPECT_EQ(sent.cls, Class::kAccepted) << sent.reason;
    EXPECT_EQ(sent.stage, SmtpStage::kMessage);
    EXPECT_EQ(client.Connect().stage, SmtpStage::kAuth);  // already open
  }
  SmtpConfig anonymous = FakeConfig(server);
  anonymous.username.clear();
  BlockingSmtpClient client(anonymous);
  SendResult opened = client.Connect();
  EXPECT_EQ(opened.cls, Class::kAccepted) << opened.reason;
  EXPECT_EQ(opened.stage, SmtpStage::kEhlo);
}

// The transaction's steps, each refused in turn, with and without PIPELINING.
struct TransactionStageCase {
  std::string name;
  void (*script)(FakeSmtpScript&);
  Class cls;
  SmtpFailure failure;
  SmtpStage stage;
  int code;
};

class SmtpClientTransactionStage
    : public ::testing::TestWithParam<std::tuple<TransactionStageCase, bool>> {};

TEST_P(SmtpClientTransactionStage, StopsAtTheRefusingStep) {
  const auto& [c, pipelining] = GetParam();
  FakeSmtpScript script;
  script.ehlo = {"fake.test", "ENHANCEDSTATUSCODES", "AUTH PLAIN"};
  if (pipelining) script.ehlo.push_back("PIPELINING");
  c.script(script);
  FakeSmtpServer server(script);
  BlockingSmtpClient client(FakeConfig(server));
  SendResult r = client.Send(Envelope{"user@kiln.test", {"a@dest.test"}}, "S: x\n\nb");
  EXPECT_EQ(r.cls, c.cls) << r.reason;
  EXPECT_EQ(r.failure, c.failure) << r.reason;
  EXPECT_EQ(r.stage, c.stage) << SmtpStageName(r.stage) << ": " << r.reason;
  EXPECT_EQ(r.code, c.code) << r.reason;
  // The session survives a refused transaction: the next message goes through it (RSET first)
  // and stops at the same step again, or, for another recipient, is accepted.
  SendResult next = client.Send(Envelope{"user@kiln.test", {"b@dest.test"}}, "S: y\n\nb");
  EXPECT_EQ(next.stage, c.stage == SmtpStage::kRcpt ? SmtpStage::kMessage : c.stage) << next.reason;
  EXPECT_EQ(server.connections(), 1);
  EXPECT_NE(server.Transcript().find("C: RSET"), std::string::npos) << server.Transcript();
}

INSTANTIATE_TEST_SUITE_P(
    Steps, SmtpClientTransactionStage,
    ::testing::Combine(
        ::testing::Values(
            TransactionStageCase{"MailFrom550",
                                 [](FakeSmtpScript& s) {
                                   s.mail_reply = "550 5.7.1 <user@kiln.test>: Sender rejected";
                                 },
                                 Class::kSenderProblem, SmtpFailure::kSenderRejected,
                                 SmtpStage::kMailFrom, 550},
            TransactionStageCase{"Rcpt550",
                                 [](FakeSmtpScript& s) {
                                   s.rcpt_replies["a@dest.test"] =
                                       "550 5.1.1 <a@dest.test>: Recipient address rejected";
                                 },
                                 Class::kPermanent, SmtpFailure::kRecipients, SmtpStage::kRcpt,
                                 550},
            TransactionStageCase{"Data554",
                                 [](FakeSmtpScript& s) {
                                   s.data_command_reply = "554 5.5.1 Error: DATA not accepted";
                                 },
                                 Class::kPermanent, SmtpFailure::kMessageRejected, SmtpStage::kData,
                                 554},
            TransactionStageCase{"Final552",
                                 [](FakeSmtpScript& s) {
                                   s.data_reply = "552 5.3.4 Message size exceeds fixed limit";
                                 },
                                 Class::kPermanent, SmtpFailure::kMessageRejected,
                                 SmtpStage::kMessage, 552},
            TransactionStageCase{
                "Final451",
                [](FakeSmtpScript& s) { s.data_reply = "451 4.3.0 Error: queue file write error"; },
                Class::kTransient, SmtpFailure::kMessageRejected, SmtpStage::kMessage, 451}),
        ::testing::Bool()),
    [](const auto& info) {
      return std::get<0>(info.param).name + (std::get<1>(info.param) ? "_Pipelined" : "_OneByOne");
    });

TEST(SmtpClientFake, BindsTheSourceAddress) {
  FakeSmtpServer server(FakeSmtpScript{});
  SmtpConfig config = FakeConfig(server);
  config.source_address = "127.0.0.2";
  BlockingSmtpClient client(config);
  SendResult r = client.Send(Envelope{"user@kiln.test", {"a@dest.test"}}, "S: x\n\nb");
  EXPECT_EQ(r.cls, Class::kAccepted) << r.reason;
  ASSERT_EQ(server.peer_addresses().size(), 1u);
  EXPECT_EQ(server.peer_addresses()[0], "127.0.0.2");
}

// A minimal SOCKS5 proxy (RFC 1928/1929) on loopback that records the destinations it was asked
// for and relays bytes.
class TestSocks5Proxy {
 public:
  explicit TestSocks5Proxy(std::string user = "", std::string pass = "")
      : user_(std::move(user)),
        pass_(std::move(pass)),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io_, Accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestSocks5Proxy() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(io_, Serve(std::make_shared<tcp::socket>(std::move(sock))), asio::detached);
    }
  }
  static asio::awaitable<void> Pump(std::shared_ptr<tcp::socket> from,
                                    std::shared_ptr<tcp::socket> to) {
    std::array<char, 8192> buf;
    for (;;) {
      auto [ec, n] =
          co_await from->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      auto [wec, wn] = co_await asio::async_write(*to, asio::buffer(buf.data(), n),
                                                  asio::as_tuple(asio::use_awaitable));
      if (wec) break;
    }
    boost::system::error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
  }
  asio::awaitable<void> Serve(std::shared_ptr<tcp::socket> client) {
    auto tok = asio::as_tuple(asio::use_awaitable);
    std::array<uint8_t, 2> head;
    if (std::get<0>(co_await asio::async_read(*client, asio::buffer(head), tok))) co_return;
    std::vector<uint8_t> methods(head[1]);
    if (std::get<0>(co_await asio::async_read(*client, asio::buffer(methods), tok))) co_return;
    uint8_t want = user_.empty() ? 0 : 2;
    bool offered = std::find(methods.begin(), methods.end(), want) != methods.end();
    std::array<uint8_t, 2> choice{5, offered ? want : uint8_t{0xFF}};
    co_await asio::async_write(*client, asio::buffer(choice), tok);
    if (!offered) co_return;
    if (want == 2) {
      std::array<uint8_t, 2> vh;
      co_await asio::async_read(*client, asio::buffer(vh), tok);
      std::string u(vh[1], '\0');
      co_await asio::async_read(*client, asio::buffer(u), tok);
      std::array<uint8_t, 1> pl;
      co_await asio::async_read(*client, asio::buffer(pl), tok);
      std::string p(pl[0], '\0');
      co_await asio::async_read(*client, asio::buffer(p), tok);
      bool ok = u == user_ && p == pass_;
      std::array<uint8_t, 2> verdict{1, uint8_t(ok ? 0 : 1)};
      co_await asio::async_write(*client, asio::buffer(verdict), tok);
      if (!ok) co_return;
    }
    std::array<uint8_t, 4> req;
    co_await asio::async_read(*client, asio::buffer(req), tok);
    std::string host;
    if (req[3] == 1) {
      std::array<uint8_t, 4> ip;
      co_await asio::async_read(*client, asio::buffer(ip), tok);
      host = asio::ip::address_v4(ip).to_string();
    } else if (req[3] == 3) {
      std::array<uint8_t, 1> len;
      co_await asio::async_read(*client, asio::buffer(len), tok);
      host.resize(len[0]);
      co_await asio::async_read(*client, asio::buffer(host), tok);
    }
    std::array<uint8_t, 2> port_bytes;
    co_await asio::async_read(*client, asio::buffer(port_bytes), tok);
    uint16_t port = static_cast<uint16_t>(port_bytes[0] << 8 | port_bytes[1]);
    {
      std::lock_guard lock(mu_);
      requests_.push_back(host + ":" + std::to_string(port));
    }
    auto upstream = std::make_shared<tcp::socket>(io_);
    // (Kept out of the co_await expression: GCC 12 mishandles temporaries of ?: inside co_await.)
    if (host == "localhost") host = "127.0.0.1";
    const tcp::endpoint target(asio::ip::make_address(host), port);
    auto [cec] = co_await upstream->async_connect(target, tok);
    std::array<uint8_t, 10> rep{5, uint8_t(cec ? 5 : 0), 0, 1, 127, 0, 0, 1, 0, 0};
    co_await asio::async_write(*client, asio::buffer(rep), tok);
    if (cec) co_return;
    asio::co_spawn(io_, Pump(client, upstream), asio::detached);
    asio::co_spawn(io_, Pump(upstream, client), asio::detached);
  }

  std::string user_, pass_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

TEST(SmtpClientFake, GoesThroughASocks5Proxy) {
  FakeSmtpServer server(FakeSmtpScript{});
  TestSocks5Proxy proxy("proxyuser", "proxypass");
  SmtpConfig config = FakeConfig(server);
  config.host = "localhost";
  config.socks5_proxy = Socks5Proxy{"127.0.0.1", proxy.port(), "proxyuser", "proxypass"};
  BlockingSmtpClient client(config);
  SendResult r = client.Send(Envelope{"user@kiln.test", {"a@dest.test"}}, "S: x\n\nb");
  EXPECT_EQ(r.cls, Class::kAccepted) << r.reason;
  EXPECT_EQ(proxy.requests(),
            std::vector<std::string>{"localhost:" + std::to_string(server.port())});

  config.socks5_proxy.password = "wrong";
  BlockingSmtpClient refused(config);
  SendResult bad = refused.Connect();
  EXPECT_EQ(bad.cls, Class::kSenderProblem);
  EXPECT_EQ(bad.failure, SmtpFailure::kProxy);
  EXPECT_EQ(bad.stage, SmtpStage::kConnect);
  EXPECT_NE(bad.reason.find("username or password rejected"), std::string::npos) << bad.reason;
}

}  // namespace
}  // namespace kiln::mail
