// FakeSmtpServer: a scripted SMTP server on 127.0.0.1 for exact protocol assertions (tests only).
//
// It speaks just enough ESMTP for the client's tests (EHLO/HELO, AUTH PLAIN/LOGIN/XOAUTH2, MAIL,
// RCPT, DATA, RSET, NOOP, QUIT, pipelined flights) and records a transcript in the style of
// Postfix's *.ref files: "C: " for each line the client sent, "S: " for each line it answered,
// "-- connection N" when a client connects. Replies to a pipelined flight are written together,
// so a flight shows as several C: lines followed by their S: lines.
// XOAUTH2 here is a fake of Google's/Microsoft's behaviour: no OAuth provider exists on this
// machine. Runs its own thread; all methods are thread-safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kiln::mail::testing {

struct FakeSmtpScript {
  std::string greeting = "220 fake.test ESMTP Fake";
  std::vector<std::string> ehlo = {"fake.test", "PIPELINING",          "SIZE 100000",
                                   "8BITMIME",  "ENHANCEDSTATUSCODES", "AUTH PLAIN LOGIN XOAUTH2"};
  std::string username = "user@kiln.test";
  std::string password = "pw";  // also the accepted XOAUTH2 access token
  // Non-empty: the whole reply to EHLO (one line, e.g. "550 5.5.1 go away") instead of `ehlo`.
  std::string ehlo_reply;
  std::string helo_reply = "250 fake.test";
  // The reply to STARTTLS; empty: "502 5.5.2 Error: command not recognized". The fake speaks no
  // TLS: after a 220 it answers the client's first handshake bytes in plain text and closes the
  // connection, so the client's handshake fails.
  std::string starttls_reply;
  std::string mail_reply = "250 2.1.0 Ok";
  std::map<std::string, std::string> rcpt_replies;  // address -> reply line; default 250 2.1.5
  // Non-empty: the reply to the DATA command instead of 354 (or the 554 for no valid recipients).
  std::string data_command_reply;
  std::string data_reply = "250 2.0.0 Ok: queued as FAKE";  // the reply after the final "."
  int close_after_messages = 0;  // > 0: close the connection (silently) after that many messages
  bool silent = false;           // accept connections but never say anything (timeout tests)
  std::string bind_address = "127.0.0.1";
};

class FakeSmtpServer {
 public:
  explicit FakeSmtpServer(FakeSmtpScript script);
  ~FakeSmtpServer();
  uint16_t port() const { return port_; }
  std::string Transcript() const;
  int connections() const;
  std::vector<std::string> peer_addresses() const;  // the client address of each connection

 private:
  struct Session;
  void Log(std::string line);

  FakeSmtpScript script_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::string transcript_;
  int connections_ = 0;
  std::vector<std::string> peers_;
  std::thread thread_;
};

// Reads `name` under src/kiln/mail/testdata/ and compares it with `actual`; with
// KILN_UPDATE_GOLDEN=1 in the environment rewrites the file instead. Returns "" when equal, else
// a message with both texts.
std::string CompareGolden(const std::string& name, const std::string& actual);

}  // namespace kiln::mail::testing
