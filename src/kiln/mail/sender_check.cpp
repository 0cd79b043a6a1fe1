#include "kiln/mail/sender_check.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <memory>
#include <optional>

#include "kiln/mail/smtp_client.h"

// GCC 12 reports a false -Wmismatched-new-delete on some coroutine frames (Asio's awaitable
// frame defines a matching operator new/delete pair); GCC bug 108393-like.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace kiln::mail {
namespace asio = boost::asio;
using asio::ip::tcp;
using Kind = Diagnosis::Kind;

std::string_view DiagnosisKindName(Kind kind) {
  switch (kind) {
    case Kind::kOk:
      return "ok";
    case Kind::kConfig:
      return "config";
    case Kind::kDns:
      return "dns";
    case Kind::kRefused:
      return "refused";
    case Kind::kTimeout:
      return "timeout";
    case Kind::kNetwork:
      return "network";
    case Kind::kTls:
      return "tls";
    case Kind::kAuth:
      return "auth";
    case Kind::kSender:
      return "sender";
    case Kind::kRecipient:
      return "recipient";
    case Kind::kServer:
      return "server";
  }
  return "?";
}

Diagnosis DiagnoseSmtpResult(SendResult r, std::string_view from) {
  Diagnosis d;
  d.message = r.reason;
  switch (r.failure) {
    case SmtpFailure::kNone:
      d.kind = Kind::kOk;
      break;
    case SmtpFailure::kConfig:
      d.kind = Kind::kConfig;
      break;
    case SmtpFailure::kResolve:
      d.kind = Kind::kDns;
      break;
    case SmtpFailure::kRefused:
      d.kind = Kind::kRefused;
      break;
    case SmtpFailure::kTimeout:
      d.kind = Kind::kTimeout;
      break;
    case SmtpFailure::kNetwork:
    case SmtpFailure::kProxy:
      d.kind = Kind::kNetwork;
      break;
    case SmtpFailure::kTls:
      d.kind = Kind::kTls;
      break;
    case SmtpFailure::kAuth:
      d.kind = Kind::kAuth;
      break;
    case SmtpFailure::kSenderRejected:
      d.kind = Kind::kSender;
      d.message = "sender address <" + std::string(from) +
                  "> not allowed: " + std::to_string(r.code) +
                  (r.enhanced.empty() ? "" : " " + r.enhanced) + " " + r.text;
      break;
    case SmtpFailure::kRecipients:
      d.kind = Kind::kRecipient;
      break;
    case SmtpFailure::kProtocol:
    case SmtpFailure::kGreeting:
    case SmtpFailure::kMessageRejected:
      d.kind = Kind::kServer;
      break;
  }
  if (d.kind == Kind::kOk && r.cls != SendResult::Class::kAccepted) d.kind = Kind::kServer;
  d.smtp = std::move(r);
  return d;
}

namespace {

template <typename T>
T Run(asio::io_context& io, asio::awaitable<T> op) {
  std::future<T> f = asio::co_spawn(io, std::move(op), asio::use_future);
  io.run();
  return f.get();
}

// A one-shot IMAP LOGIN probe (RFC 9051 subset: greeting, STARTTLS, LOGIN, LOGOUT).
class ImapProbe {
 public:
  ImapProbe(asio::io_context& io, const ImapCheckConfig& config)
      : config_(config),
        ssl_(asio::ssl::context::tls_client),
        resolver_(io),
        timer_(io),
        stream_(io, ssl_) {}

  asio::awaitable<Diagnosis> Run() {
    const std::string where = config_.host + ":" + std::to_string(config_.port);
    boost::system::error_code ec;
    if (!config_.ca_file.empty()) {
      ssl_.load_verify_file(config_.ca_file, ec);
      if (ec) co_return Fail(Kind::kConfig, "cannot load CA file " + config_.ca_file);
    } else {
      ssl_.set_default_verify_paths(ec);
    }
    Arm();
    const std::string service = std::to_string(config_.port);
    auto [rec, endpoints] = co_await resolver_.async_resolve(config_.host, service,
                                                             asio::as_tuple(asio::use_awaitable));
    if (rec) {
      timer_.cancel();
      if (timed_out_) co_return Fail(Kind::kTimeout, "timed out resolving " + config_.host);
      co_return Fail(Kind::kDns, "cannot resolve " + config_.host + ": " + rec.message());
    }
    boost::system::error_code cec = asio::error::host_not_found;
    for (const auto& entry : endpoints) {
      boost::system::error_code ignored;
      stream_.next_layer().close(ignored);
      std::tie(cec) = co_await stream_.next_layer().async_connect(
          entry.endpoint(), asio::as_tuple(asio::use_awaitable));
      if (!cec || timed_out_) break;
    }
    timer_.cancel();
    if (timed_out_) co_return Fail(Kind::kTimeout, "timed out connecting to " + where);
    if (cec == asio::error::connection_refused) {
      co_return Fail(Kind::kRefused, "connection refused by " + where);
    }
    if (cec) co_return Fail(Kind::kNetwork, "cannot connect to " + where + ": " + cec.message());
    if (config_.security == SmtpSecurity::kTls) {
      if (auto d = co_await Handshake(where)) co_return *d;
    }
    std::string greeting;
    if (auto d = co_await ReadLine(greeting, "waiting for the greeting")) co_return *d;
    if (!greeting.starts_with("* OK")) {
      co_return Fail(Kind::kServer, where + " refused the session: " + greeting);
    }
    if (config_.security == SmtpSecurity::kStartTls) {
      std::string reply;
      if (auto d = co_await Tagged("s1 STARTTLS", "s1", reply)) co_return *d;
      if (!reply.starts_with("s1 OK")) {
        co_return Fail(Kind::kTls, where + " refused STARTTLS: " + reply);
      }
      if (auto d = co_await Handshake(where)) co_return *d;
    }
    std::string reply;
    if (auto d = co_await Tagged(
            "a1 LOGIN " + Quote(config_.username) + " " + Quote(config_.password), "a1", reply)) {
      co_return *d;
    }
    if (!reply.starts_with("a1 OK")) {
      co_return Fail(Kind::kAuth, "username or password rejected: " + reply.substr(3));
    }
    std::string bye;
    co_await Tagged("a2 LOGOUT", "a2", bye);
    Diagnosis ok;
    ok.message = "logged in to " + where + " as " + config_.username;
    co_return ok;
  }

 private:
  static Diagnosis Fail(Kind kind, std::string message) {
    Diagnosis d;
    d.kind = kind;
    d.message = std::move(message);
    return d;
  }
  static std::string Quote(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  }
  void Arm() {
    timed_out_ = false;
    timer_.expires_after(config_.timeout);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      timed_out_ = true;
      boost::system::error_code ignored;
      resolver_.cancel();
      stream_.next_layer().close(ignored);
    });
  }

  asio::awaitable<std::optional<Diagnosis>> Handshake(const std::string& where) {
    SSL* ssl = stream_.native_handle();
    boost::system::error_code ec;
    asio::ip::make_address(config_.host, ec);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (!ec) {
      X509_VERIFY_PARAM_set1_ip_asc(param, config_.host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, config_.host.c_str());
      X509_VERIFY_PARAM_set1_host(param, config_.host.c_str(), 0);
    }
    stream_.set_verify_mode(asio::ssl::verify_peer);
    stream_.set_verify_callback([this](bool pre, asio::ssl::verify_context& ctx) {
      if (pre) return true;
      int err = X509_STORE_CTX_get_error(ctx.native_handle());
      bool trust = err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
                   err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                   err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                   err == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
      if (config_.allow_self_signed && trust) return true;
      if (verify_error_.empty()) verify_error_ = X509_verify_cert_error_string(err);
      return false;
    });
    Arm();
    std::tie(ec) = co_await stream_.async_handshake(asio::ssl::stream_base::client,
                                                    asio::as_tuple(asio::use_awaitable));
    timer_.cancel();
    if (!ec) {
      tls_ = true;
      co_return std::nullopt;
    }
    if (timed_out_) co_return Fail(Kind::kTimeout, "timed out in the TLS handshake with " + where);
    if (!verify_error_.empty()) {
      co_return Fail(Kind::kTls, "TLS certificate of " + where + " not accepted: " + verify_error_);
    }
    co_return Fail(Kind::kTls, "TLS handshake with " + where + " failed: " + ec.message());
  }

  asio::awaitable<std::optional<Diagnosis>> ReadLine(std::string& line, std::string_view what) {
    for (;;) {
      size_t eol = buffer_.find("\r\n");
      if (eol != std::string::npos) {
        line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 2);
        co_return std::nullopt;
      }
      if (buffer_.size() > 65536) co_return Fail(Kind::kServer, "over-long IMAP line");
      std::array<char, 4096> chunk;
      Arm();
      boost::system::error_code ec;
      size_t n = 0;
      if (tls_) {
        std::tie(ec, n) = co_await stream_.async_read_some(asio::buffer(chunk),
                                                           asio::as_tuple(asio::use_awaitable));
      } else {
        std::tie(ec, n) = co_await stream_.next_layer().async_read_some(
            asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
      }
      timer_.cancel();
      if (timed_out_) {
        co_return Fail(Kind::kTimeout, "timed out after " +
                                           std::to_string(config_.timeout.count()) + " ms " +
                                           std::string(what));
      }
      if (ec) co_return Fail(Kind::kNetwork, "connection lost " + std::string(what));
      buffer_.append(chunk.data(), n);
    }
  }

  // Sends `command` and reads lines until the one tagged `tag`, left in `reply`.
  asio::awaitable<std::optional<Diagnosis>> Tagged(std::string command, std::string tag,
                                                   std::string& reply) {
    command += "\r\n";
    Arm();
    boost::system::error_code ec;
    if (tls_) {
      std::tie(ec, std::ignore) = co_await asio::async_write(stream_, asio::buffer(command),
                                                             asio::as_tuple(asio::use_awaitable));
    } else {
      std::tie(ec, std::ignore) = co_await asio::async_write(
          stream_.next_layer(), asio::buffer(command), asio::as_tuple(asio::use_awaitable));
    }
    timer_.cancel();
    if (ec) co_return Fail(Kind::kNetwork, "connection lost sending " + tag);
    for (;;) {
      if (auto d = co_await ReadLine(reply, "waiting for the reply to " + tag)) co_return d;
      if (reply.starts_with(tag + " ")) co_return std::nullopt;
    }
  }

  const ImapCheckConfig& config_;
  asio::ssl::context ssl_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  asio::ssl::stream<tcp::socket> stream_;
  std::string buffer_;
  std::string verify_error_;
  bool timed_out_ = false;
  bool tls_ = false;
};

}  // namespace

Diagnosis TestSmtpConnection(const SmtpConfig& config) {
  BlockingSmtpClient client(config);
  SendResult r = client.Connect();
  Diagnosis d = DiagnoseSmtpResult(std::move(r), "");
  if (d.ok()) {
    d.message = "connected to " + config.host + ":" + std::to_string(config.port) +
                (config.username.empty() ? "" : " and authenticated as " + config.username);
  }
  return d;
}

Diagnosis SendTestEmail(const SmtpConfig& config, std::string_view from, std::string_view to,
                        std::string_view message) {
  BlockingSmtpClient client(config);
  Envelope envelope{std::string(from), {std::string(to)}};
  SendResult r = client.Send(envelope, message);
  Diagnosis d = DiagnoseSmtpResult(std::move(r), from);
  if (d.ok()) d.message = "test email to " + std::string(to) + " " + d.smtp.reason;
  return d;
}

Diagnosis TestImapConnection(const ImapCheckConfig& config) {
  asio::io_context io;
  ImapProbe probe(io, config);
  return Run(io, probe.Run());
}

}  // namespace kiln::mail
