// Sender checks: the "test SMTP connection", "test IMAP connection" and "send a test email"
// buttons of a sender's settings page. Each answers one human-readable diagnosis naming what is
// wrong and where: "cannot resolve smtp.example.com", "connection refused by 127.0.0.1:2525",
// "timed out after 5000 ms waiting for the greeting", "TLS certificate of ... not accepted:
// self-signed certificate", "username or password rejected: 535 5.7.8 ...", "sender address
// <x@y> not allowed: 553 5.7.1 ...".
// The functions block the calling thread (each runs a private io_context) and are thread-safe:
// call them from a worker, never from the web role's I/O threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/mail/transport.h"

namespace kiln::mail {

struct Diagnosis {
  enum class Kind {
    kOk,
    kConfig,     // the settings cannot work as given (bad CA file, bad source address)
    kDns,        // the host name does not resolve
    kRefused,    // nothing listens there (or a firewall rejects)
    kTimeout,    // no answer in time
    kNetwork,    // the connection broke, or a proxy failed
    kTls,        // TLS handshake/certificate problem, or STARTTLS missing
    kAuth,       // credentials rejected or no usable mechanism
    kSender,     // the sender address is not allowed (MAIL FROM refused)
    kRecipient,  // the test recipient was refused
    kServer,     // the server refused for another reason, or is not speaking the protocol
  };
  Kind kind = Kind::kOk;
  std::string message;  // one line for the user
  SendResult smtp;      // the underlying SMTP result, when SMTP was involved

  bool ok() const { return kind == Kind::kOk; }
};

std::string_view DiagnosisKindName(Diagnosis::Kind kind);

// The diagnosis of one SMTP client result (SmtpClient::Connect or Send): its failure as a Kind
// and a message; `from` is the envelope sender a refused MAIL FROM is reported with.
Diagnosis DiagnoseSmtpResult(SendResult r, std::string_view from);

// Connects, negotiates TLS and authenticates as `config` says, then QUITs.
Diagnosis TestSmtpConnection(const SmtpConfig& config);

// Sends `message` (a complete RFC 5322 message) from `from` to `to` through `config`.
Diagnosis SendTestEmail(const SmtpConfig& config, std::string_view from, std::string_view to,
                        std::string_view message);

struct ImapCheckConfig {
  std::string host;
  uint16_t port = 993;
  SmtpSecurity security = SmtpSecurity::kTls;  // kTls: IMAPS, kStartTls: STARTTLS, kNone: plain
  std::string username;
  std::string password;
  bool allow_self_signed = false;
  std::string ca_file;                        // empty: the system store
  std::chrono::milliseconds timeout{15'000};  // per step
};

// Connects to the IMAP server, negotiates TLS, LOGINs and LOGOUTs.
Diagnosis TestImapConnection(const ImapCheckConfig& config);

}  // namespace kiln::mail
