// ImapInbox's XOAUTH2 login against a FAKE IMAP server: a scripted stand-in for a mailbox
// provider's IMAP front end (Gmail, Outlook), which the local Dovecot cannot play without an OAuth
// token endpoint. It runs on 127.0.0.1 in this process, advertises AUTH=XOAUTH2, records every
// line, accepts one access token and answers any other with the provider's JSON error challenge
// (https://developers.google.com/gmail/imap/xoauth2-protocol): the client must answer that
// challenge with an empty line, after which the server sends the tagged NO.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/mail/imap_inbox.h"

namespace kiln::mail {
namespace {

// base64("user=lead.owner@example.com\x01" "auth=Bearer ya29.a0-good-token\x01\x01"), computed
// independently (Python's base64) so that the test does not trust Kiln's own encoder.
constexpr char kGoodResponse[] =
    "dXNlcj1sZWFkLm93bmVyQGV4YW1wbGUuY29tAWF1dGg9QmVhcmVyIHlhMjkuYTAtZ29vZC10b2tlbgEB";
// The same for the token "ya29.expired".
constexpr char kExpiredResponse[] =
    "dXNlcj1sZWFkLm93bmVyQGV4YW1wbGUuY29tAWF1dGg9QmVhcmVyIHlhMjkuZXhwaXJlZAEB";
// base64('{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}').
constexpr char kJsonChallenge[] =
    "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8i"
    "fQ==";

class FakeXOAuth2ImapServer {
 public:
  // `sasl_ir`: advertise SASL-IR (RFC 4959), i.e. accept the initial response on the
  // AUTHENTICATE line; otherwise the client must wait for an empty "+ " challenge first.
  // `offer_xoauth2`: list AUTH=XOAUTH2 among the capabilities.
  FakeXOAuth2ImapServer(bool sasl_ir, std::string accepted_response, bool offer_xoauth2 = true)
      : sasl_ir_(sasl_ir), offer_xoauth2_(offer_xoauth2), accepted_(std::move(accepted_response)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(listen_fd_, 8) != 0) {
      ADD_FAILURE() << "fake IMAP server cannot listen on 127.0.0.1";
      return;
    }
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeXOAuth2ImapServer() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }

  uint16_t port() const { return port_; }
  // "C: line" / "S: line" in order, CRLF removed.
  std::vector<std::string> Transcript() {
    std::lock_guard<std::mutex> lock(mu_);
    return transcript_;
  }

 private:
  void Serve() {
    while (!stopping_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      timeval tv{10, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      Session(fd);
      ::close(fd);
    }
  }

  void Send(int fd, const std::string& line) {
    Record("S: " + line);
    const std::string wire = line + "\r\n";
    ::send(fd, wire.data(), wire.size(), MSG_NOSIGNAL);
  }
  bool ReadLine(int fd, std::string& line) {
    line.clear();
    char c;
    while (::recv(fd, &c, 1, 0) == 1) {
      if (c == '\n') {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        Record("C: " + line);
        return true;
      }
      line.push_back(c);
    }
    return false;
  }
  void Record(std::string line) {
    std::lock_guard<std::mutex> lock(mu_);
    transcript_.push_back(std::move(line));
  }
  std::string Capabilities() const {
    return std::string("IMAP4rev1 ") + (sasl_ir_ ? "SASL-IR " : "") +
           (offer_xoauth2_ ? "AUTH=XOAUTH2 " : "") + "AUTH=PLAIN";
  }

  void Session(int fd) {
    Send(fd, "* OK Fake provider IMAP ready");
    std::string line;
    while (ReadLine(fd, line)) {
      const size_t sp = line.find(' ');
      const std::string tag = line.substr(0, sp);
      std::string rest = sp == std::string::npos ? "" : line.substr(sp + 1);
      std::string upper = rest;
      for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (upper == "CAPABILITY") {
        Send(fd, "* CAPABILITY " + Capabilities());
        Send(fd, tag + " OK CAPABILITY completed");
      } else if (upper.rfind("AUTHENTICATE XOAUTH2", 0) == 0) {
        std::string response;
        if (rest.size() > 21) {
          if (!sasl_ir_) {
            Send(fd, tag + " BAD initial response without SASL-IR");
            continue;
          }
          response = rest.substr(21);
        } else {
          Send(fd, "+ ");
          if (!ReadLine(fd, response)) return;
        }
        if (response == accepted_) {
          Send(fd, tag + " OK [CAPABILITY IMAP4rev1 MOVE] lead.owner@example.com authenticated");
          continue;
        }
        Send(fd, "+ " + std::string(kJsonChallenge));
        std::string answer;
        if (!ReadLine(fd, answer)) return;
        Send(fd, tag + " NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)");
      } else if (upper.rfind("LIST", 0) == 0) {
        Send(fd, "* LIST (\\Noselect) \"/\" \"\"");
        Send(fd, tag + " OK LIST completed");
      } else if (upper == "LOGOUT") {
        Send(fd, "* BYE Fake provider logging out");
        Send(fd, tag + " OK LOGOUT completed");
        return;
      } else {
        Send(fd, tag + " OK done");
      }
    }
  }

  bool sasl_ir_;
  bool offer_xoauth2_;
  std::string accepted_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> transcript_;
};

ImapConfig XOAuth2Config(uint16_t port, const std::string& token) {
  ImapConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.security = ImapSecurity::kNone;
  c.auth = ImapAuth::kXOAuth2;
  c.username = "lead.owner@example.com";
  c.secret = token;
  c.connect_timeout = std::chrono::milliseconds(5000);
  c.io_timeout = std::chrono::milliseconds(10000);
  return c;
}

// The client lines of the transcript from the AUTHENTICATE command on.
std::vector<std::string> ClientAuthLines(const std::vector<std::string>& transcript) {
  std::vector<std::string> out;
  bool in_auth = false;
  for (const std::string& line : transcript) {
    if (line.find("AUTHENTICATE") != std::string::npos) in_auth = true;
    if (in_auth && line.rfind("C: ", 0) == 0) out.push_back(line.substr(3));
  }
  return out;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

TEST(ImapXOAuth2FakeProvider, AcceptedTokenWithSaslIr) {
  FakeXOAuth2ImapServer server(/*sasl_ir=*/true, kGoodResponse);
  SystemClock clock;
  ImapInbox inbox(XOAuth2Config(server.port(), "ya29.a0-good-token"), clock);
  Status s = inbox.Connect();
  ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << Joined(server.Transcript());
  EXPECT_TRUE(inbox.IsConnected());
  inbox.Disconnect();
  const std::vector<std::string> client = ClientAuthLines(server.Transcript());
  ASSERT_FALSE(client.empty()) << Joined(server.Transcript());
  // One line: the mechanism with the initial response, nothing else (no LOGIN, no password).
  const size_t sp = client[0].find(' ');
  EXPECT_EQ(client[0].substr(sp + 1), std::string("AUTHENTICATE XOAUTH2 ") + kGoodResponse);
  for (const std::string& line : server.Transcript()) {
    EXPECT_EQ(line.find("LOGIN "), std::string::npos) << line;
  }
}

TEST(ImapXOAuth2FakeProvider, AcceptedTokenWithoutSaslIrWaitsForTheContinuation) {
  FakeXOAuth2ImapServer server(/*sasl_ir=*/false, kGoodResponse);
  SystemClock clock;
  ImapInbox inbox(XOAuth2Config(server.port(), "ya29.a0-good-token"), clock);
  Status s = inbox.Connect();
  ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << Joined(server.Transcript());
  const std::vector<std::string> client = ClientAuthLines(server.Transcript());
  ASSERT_GE(client.size(), 2u) << Joined(server.Transcript());
  const size_t sp = client[0].find(' ');
  EXPECT_EQ(client[0].substr(sp + 1), "AUTHENTICATE XOAUTH2");
  EXPECT_EQ(client[1], kGoodResponse);
}

TEST(ImapXOAuth2FakeProvider, RejectedTokenAnswersTheErrorChallengeAndIsUnauthenticated) {
  FakeXOAuth2ImapServer server(/*sasl_ir=*/true, kGoodResponse);
  SystemClock clock;
  ImapInbox inbox(XOAuth2Config(server.port(), "ya29.expired"), clock);
  Status s = inbox.Connect();
  ASSERT_FALSE(s.ok()) << Joined(server.Transcript());
  EXPECT_EQ(s.code(), Status::Code::kUnauthenticated) << s.ToString();
  EXPECT_FALSE(inbox.IsConnected());
  // The message names the account and server, says the token was refused, and carries the
  // provider's own words (the decoded JSON challenge and the NO text).
  EXPECT_NE(s.message().find("lead.owner@example.com"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("access token rejected"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("\"status\":\"401\""), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("Invalid credentials"), std::string::npos) << s.ToString();

  const std::vector<std::string> transcript = server.Transcript();
  const std::vector<std::string> client = ClientAuthLines(transcript);
  ASSERT_EQ(client.size(), 2u) << Joined(transcript);
  const size_t sp = client[0].find(' ');
  EXPECT_EQ(client[0].substr(sp + 1), std::string("AUTHENTICATE XOAUTH2 ") + kExpiredResponse);
  EXPECT_EQ(client[1], "") << "the JSON error challenge must be answered with an empty line";
  // Exactly one AUTHENTICATE: no retry with the same token, no fallback to LOGIN.
  int authenticates = 0;
  for (const std::string& line : transcript) {
    authenticates += line.rfind("C: ", 0) == 0 && line.find("AUTHENTICATE") != std::string::npos;
    EXPECT_EQ(line.find("LOGIN "), std::string::npos) << line;
  }
  EXPECT_EQ(authenticates, 1) << Joined(transcript);
}

TEST(ImapXOAuth2FakeProvider, RejectedTokenWithoutSaslIr) {
  FakeXOAuth2ImapServer server(/*sasl_ir=*/false, kGoodResponse);
  SystemClock clock;
  ImapInbox inbox(XOAuth2Config(server.port(), "ya29.expired"), clock);
  Status s = inbox.Connect();
  EXPECT_EQ(s.code(), Status::Code::kUnauthenticated) << s.ToString();
  const std::vector<std::string> client = ClientAuthLines(server.Transcript());
  ASSERT_EQ(client.size(), 3u) << Joined(server.Transcript());
  EXPECT_EQ(client[0].substr(client[0].find(' ') + 1), "AUTHENTICATE XOAUTH2");
  EXPECT_EQ(client[1], kExpiredResponse);
  EXPECT_EQ(client[2], "");
}

TEST(ImapXOAuth2FakeProvider, ServerWithoutXOAuth2IsRefusedWithoutTryingAPassword) {
  FakeXOAuth2ImapServer server(/*sasl_ir=*/true, kGoodResponse, /*offer_xoauth2=*/false);
  SystemClock clock;
  ImapInbox inbox(XOAuth2Config(server.port(), "ya29.a0-good-token"), clock);
  Status s = inbox.Connect();
  EXPECT_EQ(s.code(), Status::Code::kUnauthenticated) << s.ToString();
  EXPECT_NE(s.message().find("does not offer XOAUTH2"), std::string::npos) << s.ToString();
  for (const std::string& line : server.Transcript()) {
    // The token is never sent to a server that did not ask for XOAUTH2, nor a LOGIN tried.
    EXPECT_EQ(line.find("AUTHENTICATE"), std::string::npos) << line;
    EXPECT_EQ(line.find("LOGIN "), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace kiln::mail
