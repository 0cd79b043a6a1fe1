// Transport: how Kiln hands one composed message to a sender's mail server, and what came back.
//
// A Transport belongs to one sender (one SMTP account) and keeps its connection open across that
// sender's messages. Send() never throws and never returns a bare error: every outcome, from "250
// queued" to "connection refused", is a SendResult whose `cls` tells the engine what to do next:
//   accepted        the server took the message for at least one recipient (see `recipients`)
//   transient       try again later (4xx replies, network trouble, timeouts)
//   permanent       this message cannot be delivered as is (5xx for the recipients or the content,
//                   e.g. 5.1.1 unknown user, 5.3.4 too big): bounce it with `reason`
//   sender_problem  the sender's account or settings are at fault (authentication rejected,
//                   TLS certificate refused, relay denied, sender address not allowed): pause the
//                   sender and tell its owner; other senders are unaffected
// and whose `stage` says which step of the exchange it was decided at (connect, tls, auth,
// mail_from, rcpt, data, message, ...), so callers never read that from the wording of `reason`.
// Thread-safety: a Transport is used from one coroutine at a time on its executor (no concurrent
// Send calls); different Transports are independent.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/mail/message.h"

namespace kiln::mail {

enum class SmtpSecurity {
  kTls,       // implicit TLS from the first byte (port 465)
  kStartTls,  // plain connection upgraded with STARTTLS, required (port 587)
  kNone,      // no TLS at all (tests, trusted local relays)
};

enum class SmtpAuth {
  kAuto,     // PLAIN when the server offers it, else LOGIN; none when username is empty
  kPlain,    // RFC 4616
  kLogin,    // the de-facto "LOGIN" mechanism
  kXOAuth2,  // Google/Microsoft XOAUTH2 with `secret` as the OAuth access token
};

struct SmtpTimeouts {
  std::chrono::milliseconds connect{15'000};   // DNS + TCP connect (+ SOCKS5 handshake) + TLS
  std::chrono::milliseconds greeting{30'000};  // the 220 banner (RFC 5321 suggests 5 minutes)
  std::chrono::milliseconds command{30'000};   // each reply to EHLO, AUTH, MAIL, RCPT, RSET, ...
  std::chrono::milliseconds data{120'000};     // writing the message and the reply to "."
};

struct Socks5Proxy {
  std::string host;  // empty: no proxy
  uint16_t port = 1080;
  std::string username;  // RFC 1929 username/password when non-empty
  std::string password;
};

// One sender's SMTP settings.
struct SmtpConfig {
  std::string host;
  uint16_t port = 587;
  SmtpSecurity security = SmtpSecurity::kStartTls;
  std::string username;  // empty: no AUTH
  std::string secret;    // the password, or the OAuth access token for kXOAuth2
  SmtpAuth auth = SmtpAuth::kAuto;
  // Encrypt without authenticating the server: accept a certificate that does not chain to a
  // trusted root (self-signed, private CA) or whose names do not match `host` (self-signed
  // certificates seldom name the host they are reached by). Expired certificates are still
  // refused. Off by default: then the chain must be trusted and the names must match `host`.
  bool allow_self_signed = false;
  // Trust these PEM certificates instead of the system store (a private CA). Empty: system store.
  std::string ca_file;
  std::string source_address;  // local IP to bind before connecting; empty: any
  Socks5Proxy socks5_proxy;
  std::string helo_name = "localhost";  // the EHLO argument: the sending host's name
  SmtpTimeouts timeouts;
};

std::string_view SmtpSecurityName(SmtpSecurity s);
std::string_view SmtpAuthName(SmtpAuth a);

struct RecipientResult {
  enum class Class { kAccepted, kTransient, kPermanent, kSenderProblem };
  std::string address;
  Class cls = Class::kAccepted;
  int code = 0;
  std::string enhanced;
  std::string text;
};

// Which step failed, for diagnoses ("test SMTP connection") and logs.
enum class SmtpFailure {
  kNone,
  kConfig,           // the settings themselves are unusable (bad ca_file, bad source_address)
  kResolve,          // the host name does not resolve
  kRefused,          // connection refused / unreachable
  kTimeout,          // a step took longer than its timeout
  kNetwork,          // the connection broke
  kProxy,            // the SOCKS5 proxy failed or refused
  kTls,              // TLS handshake or certificate verification failed, or STARTTLS missing
  kProtocol,         // the server spoke something that is not SMTP
  kGreeting,         // the server refused the session (4xx/5xx banner or EHLO)
  kAuth,             // authentication rejected or impossible
  kSenderRejected,   // MAIL FROM refused, or a policy reject of the sender at RCPT
  kRecipients,       // every recipient was refused
  kMessageRejected,  // the message itself was refused (size, 8-bit, content after DATA)
};
std::string_view SmtpFailureName(SmtpFailure f);

// The step of the SMTP exchange a result was decided at, so that callers place a failure without
// reading `reason`: on failure the step that failed, on success the last step completed (kMessage
// after a Send; after Connect kAuth when the client logs in, else kEhlo). `failure` says what went
// wrong, `stage` where: a timeout has failure kTimeout and the stage it happened in.
enum class SmtpStage {
  kNone,      // no SMTP step was involved (a result not made by an SMTP session)
  kResolve,   // looking up the server's (or the SOCKS5 proxy's) host name
  kConnect,   // the settings (ca_file, source_address), the TCP connection, the SOCKS5 handshake
  kTls,       // the TLS handshake: implicit TLS from the first byte, or after STARTTLS
  kGreeting,  // waiting for the server's 220 banner
  kEhlo,      // EHLO, and HELO when the server refuses EHLO with a 5xx (before and after STARTTLS)
  kStartTls,  // STARTTLS: not offered, refused, or bytes injected after its reply
  kAuth,      // AUTH: no usable mechanism offered, or the credentials rejected
  kRset,      // RSET before reusing an open connection for the next message
  kMailFrom,  // MAIL FROM, including the client's checks of what it would carry (the sender
              // address, SIZE against the server's limit, BODY=8BITMIME, SMTPUTF8)
  kRcpt,      // RCPT TO: an unusable recipient address, every recipient refused
  kData,      // the DATA command (354 expected)
  kMessage,   // writing the message and the server's reply after the final "."
};
// Stable lower-case names for logs and APIs: "none", "resolve", "connect", "tls", "greeting",
// "ehlo", "starttls", "auth", "rset", "mail_from", "rcpt", "data", "message".
std::string_view SmtpStageName(SmtpStage s);

struct SendResult {
  using Class = RecipientResult::Class;
  Class cls = Class::kTransient;
  SmtpFailure failure = SmtpFailure::kNone;
  SmtpStage stage = SmtpStage::kNone;  // where the exchange stopped (see SmtpStage)
  int code = 0;          // the SMTP reply code that decided `cls`; 0 for network/TLS failures
  std::string enhanced;  // "5.1.1" when the server sent one
  std::string text;      // that reply's text
  std::vector<RecipientResult> recipients;  // one per envelope recipient, in order
  // Human-readable summary: "recipient <x@y> rejected: 550 5.1.1 ...", "cannot resolve smtp.x.com".
  std::string reason;

  bool ok() const { return cls == Class::kAccepted; }
};

std::string_view SendClassName(SendResult::Class c);  // "accepted", "transient", ...

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends `data` (a complete RFC 5322 message, CRLF or LF line endings, not dot-stuffed) to the
  // envelope's recipients. Connects, or reuses the open connection, as needed.
  virtual boost::asio::awaitable<SendResult> Send(const Envelope& envelope,
                                                  std::string_view data) = 0;
  // Sends QUIT and closes the connection (if one is open). Never fails.
  virtual boost::asio::awaitable<void> Close() = 0;
};

}  // namespace kiln::mail
