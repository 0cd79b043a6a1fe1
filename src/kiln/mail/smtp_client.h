// SmtpClient: Kiln's SMTP submission client (RFC 5321) on Boost.Asio C++20 coroutines + OpenSSL.
//
// One SmtpClient serves one sender: it keeps ONE connection open across that sender's messages,
// pipelines MAIL/RCPT/DATA in one flight when the server offers PIPELINING (RFC 2920), checks SIZE
// (RFC 1870) before sending, uses BODY=8BITMIME / SMTPUTF8 when the message needs them,
// dot-stuffs the data, verifies the server certificate (system store or `ca_file`, hostname
// checked), authenticates with PLAIN, LOGIN or XOAUTH2, can go through a SOCKS5 proxy and bind a
// source address, sets TCP_NODELAY, and bounds every step with a timeout. When the server closed
// an idle connection, the next Send reconnects transparently (a message is never sent twice: a
// retry happens only when the failure came before the message body was written).
//
// Thread-safety: not thread-safe. Use one SmtpClient from one coroutine at a time on its executor
// (a strand or a single-threaded io_context). BlockingSmtpClient runs its own io_context.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"
#include "kiln/mail/smtp_reply.h"
#include "kiln/mail/transport.h"

namespace kiln::mail {

// What the server announced in its EHLO reply.
struct SmtpCapabilities {
  bool esmtp = false;  // false when the server only understood HELO
  bool pipelining = false;
  bool starttls = false;
  bool eightbitmime = false;
  bool smtputf8 = false;
  bool enhanced_status_codes = false;
  bool size = false;              // SIZE announced: MAIL FROM carries SIZE=n
  size_t size_limit = 0;          // SIZE n; 0 when not announced or unlimited
  std::vector<std::string> auth;  // upper-case mechanism names, e.g. {"PLAIN", "LOGIN"}

  static SmtpCapabilities FromEhlo(const SmtpReply& reply);
  bool HasAuth(std::string_view mechanism) const;
};

// The DATA payload for `message`: line endings normalised to CRLF, lines starting with '.'
// doubled, a final CRLF ensured, and the terminating ".\r\n" appended.
std::string DotStuffForData(std::string_view message);

// The XOAUTH2 initial client response before base64: "user=U\x01auth=Bearer T\x01\x01".
std::string XOAuth2Response(std::string_view user, std::string_view access_token);

std::string Base64Encode(std::string_view bytes);

class SmtpClient final : public Transport {
 public:
  SmtpClient(boost::asio::any_io_executor executor, SmtpConfig config);
  ~SmtpClient() override;
  SmtpClient(const SmtpClient&) = delete;
  SmtpClient& operator=(const SmtpClient&) = delete;

  // See Transport::Send. `envelope` and `data` must stay alive until the returned awaitable
  // completes.
  boost::asio::awaitable<SendResult> Send(const Envelope& envelope, std::string_view data) override;
  boost::asio::awaitable<void> Close() override;

  // Opens the connection (resolve, connect, TLS, greeting, EHLO, STARTTLS, AUTH) without sending
  // mail, unless one is already open. Success: cls == kAccepted, `stage` kAuth when the client
  // logs in, else kEhlo. Failure: as for Send, with `stage` the step that failed and `failure`
  // what went wrong there.
  boost::asio::awaitable<SendResult> Connect();

  bool connected() const { return connected_; }
  const SmtpCapabilities& capabilities() const { return caps_; }
  // How many TCP connections this client opened so far (tests assert connection reuse).
  int connections_opened() const { return connections_opened_; }
  const SmtpConfig& config() const { return config_; }

 private:
  using Socket = boost::asio::ip::tcp::socket;
  using Stream = boost::asio::ssl::stream<Socket>;
  struct Outcome;

  boost::asio::awaitable<SendResult> Open();
  boost::asio::awaitable<SendResult> ConnectTcp();
  boost::asio::awaitable<SendResult> TlsHandshake();
  boost::asio::awaitable<SendResult> Ehlo();
  boost::asio::awaitable<SendResult> Authenticate();
  boost::asio::awaitable<SendResult> Transaction(const Envelope& envelope,
                                                 const std::string& payload, size_t size,
                                                 bool eight_bit, bool utf8, bool reused,
                                                 bool* retry_on_fresh_connection);
  boost::asio::awaitable<Result<SmtpReply>> Command(std::string line, std::string_view what);
  boost::asio::awaitable<Result<SmtpReply>> ReadReply(std::chrono::milliseconds timeout,
                                                      std::string_view what);
  boost::asio::awaitable<Status> Write(std::string_view bytes, std::chrono::milliseconds timeout,
                                       std::string_view what);
  void Arm(std::chrono::milliseconds timeout, std::string what);
  void Disarm();
  void Drop();
  bool PeerClosed();
  std::string ServerName() const;
  SmtpStage OpenedStage() const;  // the last step of opening a session with these settings

  boost::asio::any_io_executor executor_;
  SmtpConfig config_;
  boost::asio::ssl::context ssl_context_;
  Status context_status_;  // a bad ca_file, reported on every Send
  std::optional<Stream> stream_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // guards timer handlers
  uint64_t timer_generation_ = 0;
  std::string timed_out_;  // what was running when the timer fired; empty otherwise
  std::string tls_verify_error_;
  std::string read_buffer_;
  SmtpCapabilities caps_;
  bool tls_active_ = false;
  bool connected_ = false;
  bool dirty_ = false;  // a transaction was left half-way: RSET before the next one
  int connections_opened_ = 0;
};

// A blocking facade over SmtpClient for simple callers (CLI, sender checks): each call runs a
// private io_context until the operation completes. Not thread-safe.
class BlockingSmtpClient {
 public:
  explicit BlockingSmtpClient(SmtpConfig config);
  ~BlockingSmtpClient();
  SendResult Send(const Envelope& envelope, std::string_view data);
  SendResult Connect();
  void Close();
  SmtpClient& client() { return client_; }

 private:
  boost::asio::io_context io_;
  SmtpClient client_;
};

}  // namespace kiln::mail
