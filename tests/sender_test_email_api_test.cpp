// POST /workspaces/{ws}/senders/{id}/test-email against the real `kiln` binary and the real mail
// stack (scripts/mailstack): a message sent through the sender's Postfix login lands in the
// recipient's Dovecot Maildir with the answered Message-ID; a wrong password stops at stage auth,
// a port where nothing listens at stage connect, an untrusted certificate at stage tls, a sender
// address the login does not own at stage send; suppressed recipients answer 409 and invalid ones
// 400, both naming `to`. And the blocking routes do not stall the API: a verification against a
// server that accepts TCP and never answers is still outstanding while other requests (health, a
// JSON API read) are answered, with kiln serving HTTP on one thread.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "api_mailstack_fixture.h"
#include "api_test_util.h"
#include "kiln/testing/mailstack.h"

namespace kiln::testing {
namespace {

namespace json = boost::json;
constexpr auto kBound = std::chrono::seconds(60);  // a bound on waits, never an expectation

// A TCP listener on 127.0.0.1 that accepts connections and never says a word: a mail server that
// hangs. Close() drops every connection and stops listening.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~SilentListener() { Close(); }

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }
  // True once `n` connections were accepted (false after kBound).
  bool WaitAccepted(int n) const {
    const auto deadline = std::chrono::steady_clock::now() + kBound;
    while (accepted_.load() < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }
  void Close() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(mu_);
    for (int c : connections_) ::close(c);
    connections_.clear();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::lock_guard lock(mu_);
      connections_.push_back(c);
      ++accepted_;
    }
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<int> connections_;
  std::thread thread_;
};

// A port on 127.0.0.1 where nothing listens: bound (so no one else takes it) but not listening,
// so a connection is refused.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot bind on 127.0.0.1";
    }
    port_ = ntohs(addr.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

std::string Token() {
  std::random_device rd;
  static constexpr char kAlnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string t = "t";
  for (int i = 0; i < 12; ++i) t += kAlnum[rd() % 36];
  return t;
}

class SenderTestEmailApiTest : public KilnMailstackApiFixture {
 protected:
  static std::string TestEmail(const std::string& to, const std::string& subject = "",
                               const std::string& body = "") {
    json::object o{{"to", to}};
    if (!subject.empty()) o["subject"] = subject;
    if (!body.empty()) o["body"] = body;
    return json::serialize(o);
  }
};

TEST_P(SenderTestEmailApiTest, DeliveredMessageIsInTheRecipientsMaildir) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  const std::string sender = AddStackSender(s, "sender1@kiln-a.test");
  const std::string token = Token();
  const std::string to = "sender3+" + token + "@kiln-a.test";

  auto r = s.Post(sender + "/test-email",
                  TestEmail(to, "Test " + token, "Hello from the test " + token + ".\n"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r).as_object();
  ASSERT_TRUE(v.at("ok").as_bool()) << r.body;
  EXPECT_EQ(v.at("smtp").at("code").as_int64(), 250) << r.body;
  EXPECT_NE(std::string(v.at("smtp").at("message").as_string()).find("queued"), std::string::npos)
      << r.body;
  const std::string message_id(v.at("message_id").as_string());
  ASSERT_NE(message_id.find("@kiln-a.test"), std::string::npos) << r.body;

  auto delivered = ms_.WaitForMessage("sender3@kiln-a.test", token, kBound);
  ASSERT_TRUE(delivered.ok()) << delivered.status().ToString();
  EXPECT_NE(delivered->find("Message-ID: <" + message_id + ">"), std::string::npos) << *delivered;
  EXPECT_NE(delivered->find("Subject: Test " + token), std::string::npos) << *delivered;
  EXPECT_NE(delivered->find("Hello from the test " + token), std::string::npos) << *delivered;
  EXPECT_NE(delivered->find("From: Kiln Test <sender1@kiln-a.test>"), std::string::npos)
      << *delivered;

  // Audited with its outcome, never with the message.
  r = s.Get(s.Ws() + "/audit-log?limit=5");
  ASSERT_EQ(r.status, 200) << r.body;
  bool audited = false;
  const json::value log = Json(r);
  for (const auto& e : log.at("items").as_array()) {
    if (e.at("action").as_string() == "sender.test_email") audited = true;
  }
  EXPECT_TRUE(audited) << r.body;
  EXPECT_EQ(r.body.find("Hello from the test"), std::string::npos) << r.body;
}

TEST_P(SenderTestEmailApiTest, WrongPasswordStopsAtAuthAndClosedPortAtConnect) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  const std::string to = "sender3+" + Token() + "@kiln-a.test";

  const std::string wrong = AddStackSender(s, "sender2@kiln-a.test", "not-the-password");
  auto r = s.Post(wrong + "/test-email", TestEmail(to));
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r).as_object();
  EXPECT_FALSE(v.at("ok").as_bool()) << r.body;
  EXPECT_EQ(v.at("stage").as_string(), "auth") << r.body;
  EXPECT_EQ(v.at("kind").as_string(), "auth") << r.body;
  std::string message(v.at("message").as_string());
  EXPECT_NE(message.find("535"), std::string::npos) << message;  // Postfix's exact reply
  EXPECT_NE(message.find("Check the SMTP username and password"), std::string::npos) << message;

  ClosedPort closed;
  const std::string nowhere = AddStackSender(s, "sender1@kiln-a.test", "", closed.port());
  r = s.Post(nowhere + "/test-email", TestEmail(to));
  ASSERT_EQ(r.status, 200) << r.body;
  v = Json(r).as_object();
  EXPECT_FALSE(v.at("ok").as_bool()) << r.body;
  EXPECT_EQ(v.at("stage").as_string(), "connect") << r.body;
  EXPECT_EQ(v.at("kind").as_string(), "refused") << r.body;
  message = std::string(v.at("message").as_string());
  EXPECT_NE(message.find("127.0.0.1:" + std::to_string(closed.port())), std::string::npos)
      << message;
  EXPECT_NE(message.find("Check the SMTP host and port"), std::string::npos) << message;
}

TEST_P(SenderTestEmailApiTest, UntrustedCertificateStopsAtTlsAndForeignSenderAtSend) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  const std::string to = "sender3+" + Token() + "@kiln-a.test";
  auto add = [&](const json::object& input) {
    auto r = s.Post(s.Ws() + "/senders", json::serialize(input));
    EXPECT_EQ(r.status, 201) << r.body;
    return s.Ws() + "/senders/" + std::to_string(r.status == 201 ? Json(r).at("id").as_int64() : 0);
  };

  // The stack's certificate is self-signed: refused when the sender does not allow that.
  json::object strict = StackSenderInput("sender2@kiln-a.test");
  strict["allow_self_signed"] = false;
  auto r = s.Post(add(strict) + "/test-email", TestEmail(to));
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = Json(r).as_object();
  EXPECT_FALSE(v.at("ok").as_bool()) << r.body;
  EXPECT_EQ(v.at("stage").as_string(), "tls") << r.body;
  EXPECT_EQ(v.at("kind").as_string(), "tls") << r.body;

  // Logged in as sender2, sending as sender1: Postfix refuses the envelope sender (553).
  json::object foreign = StackSenderInput("sender1@kiln-a.test");
  foreign["smtp"].as_object()["username"] = "sender2@kiln-a.test";
  foreign["smtp"].as_object()["password"] = ms_.User("sender2@kiln-a.test").value().password;
  r = s.Post(add(foreign) + "/test-email", TestEmail(to));
  ASSERT_EQ(r.status, 200) << r.body;
  v = Json(r).as_object();
  EXPECT_FALSE(v.at("ok").as_bool()) << r.body;
  EXPECT_EQ(v.at("stage").as_string(), "send") << r.body;
  EXPECT_EQ(v.at("kind").as_string(), "sender") << r.body;
  EXPECT_NE(std::string(v.at("message").as_string()).find("553"), std::string::npos) << r.body;
}

TEST_P(SenderTestEmailApiTest, SuppressedAndInvalidRecipientsAreRefusedNamingTo) {
  StartKiln();
  Session s = NewOwner("owner@kiln-a.test");
  const std::string sender = AddStackSender(s, "sender1@kiln-a.test");
  const std::string token = Token();
  const std::string blocked = "sender3+" + token + "@kiln-a.test";
  auto r = s.Post(s.Ws() + "/suppressions",
                  json::serialize(json::object{{"values", {blocked, "@blocked.kiln-b.test"}}}));
  ASSERT_EQ(r.status, 200) << r.body;

  // Compared case-insensitively, by address and by domain.
  for (const std::string& to :
       {blocked, "Sender3+" + token + "@KILN-A.test", std::string("someone@blocked.kiln-b.test")}) {
    r = s.Post(sender + "/test-email", TestEmail(to, "Test " + token));
    EXPECT_EQ(r.status, 409) << to << ": " << r.body;
    EXPECT_EQ(ErrField(r), "to") << r.body;
    EXPECT_NE(r.body.find("suppression list"), std::string::npos) << r.body;
  }
  for (const char* to : {"", "not an address", "a@b", "two@kiln-a.test, three@kiln-a.test"}) {
    r = s.Post(sender + "/test-email", json::serialize(json::object{{"to", to}}));
    EXPECT_EQ(r.status, 400) << "'" << to << "': " << r.body;
    EXPECT_EQ(ErrField(r), "to") << r.body;
  }
  r = s.Post(sender + "/test-email", "{}");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(ErrField(r), "to") << r.body;
  r = s.Post(s.Ws() + "/senders/999999/test-email", TestEmail(blocked));
  EXPECT_EQ(r.status, 404) << r.body;

  // Nothing reached the suppressed mailbox.
  for (const std::string& m : ms_.ReadMessages("sender3@kiln-a.test")) {
    EXPECT_EQ(m.find("Test " + token), std::string::npos) << m;
  }
}

TEST_P(SenderTestEmailApiTest, HangingMailServerDoesNotStallTheApi) {
  StartKiln({"--http-threads", "1"});
  Session s = NewOwner("owner@kiln-a.test");
  SilentListener hanging;
  const std::string sender =
      AddStackSender(s, "sender1@kiln-a.test", "", hanging.port(), hanging.port());

  auto verify = std::async(std::launch::async, [&] {
    HttpClient c("127.0.0.1", proc_.port());
    c.EnableCookies(true);
    for (const auto& [name, value] : s.http->cookies()) c.SetCookie(name, value);
    c.set_timeout(std::chrono::milliseconds(120'000));
    return c.Send("POST", sender + "/verify", "", s.H(false));
  });
  ASSERT_TRUE(hanging.WaitAccepted(1));  // the verification is inside its SMTP session now

  auto health = Client();
  auto h = health->Get("/healthz");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->status, 200);
  auto list = s.Get(s.Ws() + "/senders");
  EXPECT_EQ(list.status, 200) << list.body;
  // Those were answered while the verification still waits on the silent server.
  EXPECT_EQ(verify.wait_for(std::chrono::seconds(0)), std::future_status::timeout);

  hanging.Close();  // the server hangs up: the verification fails and answers
  auto r = verify.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  auto v = Json(*r).as_object();
  EXPECT_FALSE(v.at("smtp").at("ok").as_bool()) << r->body;
  EXPECT_EQ(v.at("sender").at("status").as_string(), "failed") << r->body;
}

INSTANTIATE_TEST_SUITE_P(Backends, SenderTestEmailApiTest, ::testing::ValuesIn(DbBackends()),
                         DbBackendName());

}  // namespace
}  // namespace kiln::testing
