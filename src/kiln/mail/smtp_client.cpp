#include "kiln/mail/smtp_client.h"

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <future>

#include "kiln/mail/mime_util.h"
#include "kiln/mail/socks5.h"
#include "kiln/mail/tls_names.h"

namespace kiln::mail {
namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
using std::chrono::milliseconds;
using Class = SendResult::Class;

std::string_view SmtpSecurityName(SmtpSecurity s) {
  switch (s) {
    case SmtpSecurity::kTls:
      return "tls";
    case SmtpSecurity::kStartTls:
      return "starttls";
    case SmtpSecurity::kNone:
      return "none";
  }
  return "?";
}

std::string_view SmtpAuthName(SmtpAuth a) {
  switch (a) {
    case SmtpAuth::kAuto:
      return "auto";
    case SmtpAuth::kPlain:
      return "plain";
    case SmtpAuth::kLogin:
      return "login";
    case SmtpAuth::kXOAuth2:
      return "xoauth2";
  }
  return "?";
}

std::string_view SendClassName(SendResult::Class c) {
  switch (c) {
    case Class::kAccepted:
      return "accepted";
    case Class::kTransient:
      return "transient";
    case Class::kPermanent:
      return "permanent";
    case Class::kSenderProblem:
      return "sender_problem";
  }
  return "?";
}

std::string_view SmtpFailureName(SmtpFailure f) {
  switch (f) {
    case SmtpFailure::kNone:
      return "none";
    case SmtpFailure::kConfig:
      return "config";
    case SmtpFailure::kResolve:
      return "resolve";
    case SmtpFailure::kRefused:
      return "refused";
    case SmtpFailure::kTimeout:
      return "timeout";
    case SmtpFailure::kNetwork:
      return "network";
    case SmtpFailure::kProxy:
      return "proxy";
    case SmtpFailure::kTls:
      return "tls";
    case SmtpFailure::kProtocol:
      return "protocol";
    case SmtpFailure::kGreeting:
      return "greeting";
    case SmtpFailure::kAuth:
      return "auth";
    case SmtpFailure::kSenderRejected:
      return "sender_rejected";
    case SmtpFailure::kRecipients:
      return "recipients";
    case SmtpFailure::kMessageRejected:
      return "message_rejected";
  }
  return "?";
}

std::string_view SmtpStageName(SmtpStage s) {
  switch (s) {
    case SmtpStage::kNone:
      return "none";
    case SmtpStage::kResolve:
      return "resolve";
    case SmtpStage::kConnect:
      return "connect";
    case SmtpStage::kTls:
      return "tls";
    case SmtpStage::kGreeting:
      return "greeting";
    case SmtpStage::kEhlo:
      return "ehlo";
    case SmtpStage::kStartTls:
      return "starttls";
    case SmtpStage::kAuth:
      return "auth";
    case SmtpStage::kRset:
      return "rset";
    case SmtpStage::kMailFrom:
      return "mail_from";
    case SmtpStage::kRcpt:
      return "rcpt";
    case SmtpStage::kData:
      return "data";
    case SmtpStage::kMessage:
      return "message";
  }
  return "?";
}

namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool ContainsNoCase(std::string_view haystack, std::string_view needle) {
  return Upper(haystack).find(Upper(needle)) != std::string::npos;
}

bool HasNonAscii(std::string_view s) { return !IsAscii(s); }

SendResult Fail(Class cls, SmtpFailure failure, SmtpStage stage, std::string reason) {
  SendResult r;
  r.cls = cls;
  r.failure = failure;
  r.stage = stage;
  r.reason = std::move(reason);
  return r;
}

// A step that succeeded: accepted, with `stage` the step completed.
SendResult Reached(SmtpStage stage) {
  SendResult r;
  r.cls = Class::kAccepted;
  r.stage = stage;
  return r;
}

SendResult FromReply(Class cls, SmtpFailure failure, SmtpStage stage, const SmtpReply& reply,
                     std::string prefix) {
  SendResult r = Fail(cls, failure, stage, prefix + ": " + reply.ToString());
  r.code = reply.code;
  r.enhanced = reply.enhanced;
  r.text = reply.Text();
  return r;
}

// A network-level Status from ReadReply/Write during `stage` turned into a transient result.
SendResult FromIoStatus(const Status& s, SmtpStage stage) {
  SmtpFailure f = SmtpFailure::kNetwork;
  if (s.code() == Status::Code::kDeadlineExceeded) f = SmtpFailure::kTimeout;
  if (s.code() == Status::Code::kInvalidArgument) f = SmtpFailure::kProtocol;
  return Fail(Class::kTransient, f, stage, s.message());
}

bool IsTrustError(int err) {
  return err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
         err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
         err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
         err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
         err == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

// Classification of a refused recipient (RCPT TO 4xx/5xx).
Class ClassifyRecipientReply(const SmtpReply& reply) {
  if (reply.Transient()) return Class::kTransient;
  const std::string& e = reply.enhanced;
  if (reply.code == 530 || reply.code == 535 || e == "5.7.0" || e == "5.7.8") {
    return Class::kSenderProblem;
  }
  if (e == "5.7.1" || e.empty()) {
    const std::string text = reply.Text();
    for (std::string_view marker : {"relay", "sender address", "client host", "blocked"}) {
      if (ContainsNoCase(text, marker)) return Class::kSenderProblem;
    }
  }
  return Class::kPermanent;
}

}  // namespace

SmtpCapabilities SmtpCapabilities::FromEhlo(const SmtpReply& reply) {
  SmtpCapabilities caps;
  caps.esmtp = true;
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    std::string line = Upper(reply.lines[i]);
    std::string keyword = line.substr(0, line.find_first_of(" ="));
    std::string args = keyword.size() < line.size() ? line.substr(keyword.size() + 1) : "";
    if (keyword == "PIPELINING") caps.pipelining = true;
    if (keyword == "STARTTLS") caps.starttls = true;
    if (keyword == "8BITMIME") caps.eightbitmime = true;
    if (keyword == "SMTPUTF8") caps.smtputf8 = true;
    if (keyword == "ENHANCEDSTATUSCODES") caps.enhanced_status_codes = true;
    if (keyword == "SIZE") caps.size = true;
    if (keyword == "SIZE" && !args.empty()) {
      size_t limit = 0;
      for (char c : args) {
        if (c < '0' || c > '9') break;
        limit = limit * 10 + static_cast<size_t>(c - '0');
        if (limit > (size_t{1} << 48)) break;
      }
      caps.size_limit = limit;
    }
    if (keyword == "AUTH") {
      size_t pos = 0;
      while (pos < args.size()) {
        size_t end = args.find(' ', pos);
        if (end == std::string::npos) end = args.size();
        std::string mech = args.substr(pos, end - pos);
        if (!mech.empty() && !caps.HasAuth(mech)) caps.auth.push_back(mech);
        pos = end + 1;
      }
    }
  }
  return caps;
}

bool SmtpCapabilities::HasAuth(std::string_view mechanism) const {
  return std::find(auth.begin(), auth.end(), mechanism) != auth.end();
}

std::string DotStuffForData(std::string_view message) {
  std::string out;
  out.reserve(message.size() + message.size() / 64 + 8);
  bool line_start = true;
  size_t i = 0;
  while (i < message.size()) {
    if (line_start && message[i] == '.') out += '.';
    const size_t eol = FindLineBreak(message, i);  // copy the line whole
    out.append(message.data() + i, eol - i);
    if (eol == message.size()) {
      line_start = eol == i;
      break;
    }
    out += "\r\n";
    const bool crlf = message[eol] == '\r' && eol + 1 < message.size() && message[eol + 1] == '\n';
    i = eol + (crlf ? 2 : 1);
    line_start = true;
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string XOAuth2Response(std::string_view user, std::string_view access_token) {
  std::string out = "user=";
  out += user;
  out +=
      "\x01"
      "auth=Bearer ";
  out += access_token;
  out += "\x01\x01";
  return out;
}

SmtpClient::SmtpClient(asio::any_io_executor executor, SmtpConfig config)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      ssl_context_(asio::ssl::context::tls_client),
      resolver_(executor_),
      timer_(executor_) {
  boost::system::error_code ec;
  ssl_context_.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                               asio::ssl::context::no_sslv3,
                           ec);
  SSL_CTX_set_min_proto_version(ssl_context_.native_handle(), TLS1_2_VERSION);
  if (!config_.ca_file.empty()) {
    ssl_context_.load_verify_file(config_.ca_file, ec);
    if (ec) {
      context_status_ = Status::InvalidArgument(
          "cannot load CA file " + config_.ca_file + ": " + ec.message(), "ca_file");
    }
  } else if (config_.security != SmtpSecurity::kNone) {
    // Parsing the system store costs ~20 ms of CPU per client; a plaintext client never uses it.
    ssl_context_.set_default_verify_paths(ec);
    if (ec) {
      context_status_ =
          Status::Internal("cannot load the system certificate store: " + ec.message());
    }
  }
}

SmtpClient::~SmtpClient() { Drop(); }

std::string SmtpClient::ServerName() const {
  return config_.host + ":" + std::to_string(config_.port);
}

void SmtpClient::Arm(milliseconds timeout, std::string what) {
  timed_out_.clear();
  uint64_t generation = ++timer_generation_;
  timer_.expires_after(timeout);
  std::weak_ptr<int> alive = alive_;
  timer_.async_wait(
      [this, alive, generation, what = std::move(what)](const boost::system::error_code& ec) {
        if (ec || alive.expired() || generation != timer_generation_) return;
        timed_out_ = what;
        boost::system::error_code ignored;
        resolver_.cancel();
        if (stream_) stream_->lowest_layer().close(ignored);
      });
}

void SmtpClient::Disarm() {
  ++timer_generation_;
  timer_.cancel();
}

void SmtpClient::Drop() {
  connected_ = false;
  tls_active_ = false;
  dirty_ = false;
  read_buffer_.clear();
  if (stream_) {
    boost::system::error_code ignored;
    stream_->lowest_layer().close(ignored);
  }
}

bool SmtpClient::PeerClosed() {
  if (!stream_ || !stream_->lowest_layer().is_open()) return true;
  if (!read_buffer_.empty()) return true;  // unsolicited bytes: the server is saying goodbye
  char byte;
  ssize_t n = ::recv(stream_->lowest_layer().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;  // EOF
  if (n > 0) return true;   // an unsolicited reply, e.g. "421 4.4.2 timeout exceeded"
  return errno != EAGAIN && errno != EWOULDBLOCK;
}

awaitable<Status> SmtpClient::Write(std::string_view bytes, milliseconds timeout,
                                    std::string_view what) {
  Arm(timeout, std::string(what));
  boost::system::error_code ec;
  if (tls_active_) {
    std::tie(ec, std::ignore) = co_await asio::async_write(
        *stream_, asio::buffer(bytes.data(), bytes.size()), asio::as_tuple(asio::use_awaitable));
  } else {
    std::tie(ec, std::ignore) =
        co_await asio::async_write(stream_->next_layer(), asio::buffer(bytes.data(), bytes.size()),
                                   asio::as_tuple(asio::use_awaitable));
  }
  Disarm();
  if (!ec) co_return Status::Ok();
  std::string timed_out = std::move(timed_out_);
  Drop();
  if (!timed_out.empty()) {
    co_return Status::DeadlineExceeded("timed out after " + std::to_string(timeout.count()) +
                                       " ms " + timed_out + " (" + ServerName() + ")");
  }
  co_return Status::Unavailable("connection to " + ServerName() + " lost while " +
                                std::string(what) + ": " + ec.message());
}

awaitable<Result<SmtpReply>> SmtpClient::ReadReply(milliseconds timeout, std::string_view what) {
  constexpr size_t kMaxBuffered = 1 << 20;
  for (;;) {
    auto parsed = ParseSmtpReply(read_buffer_);
    if (!parsed.ok()) {
      Drop();
      co_return Status::InvalidArgument(ServerName() + " sent a malformed reply while " +
                                        std::string(what) + ": " + parsed.status().message());
    }
    if (parsed->has_value()) {
      SmtpReply reply = std::move((*parsed)->reply);
      read_buffer_.erase(0, (*parsed)->consumed);
      co_return reply;
    }
    if (read_buffer_.size() > kMaxBuffered) {
      Drop();
      co_return Status::InvalidArgument(ServerName() + " sent an over-long reply while " +
                                        std::string(what));
    }
    std::array<char, 8192> chunk;
    Arm(timeout, std::string(what));
    boost::system::error_code ec;
    size_t n = 0;
    if (tls_active_) {
      std::tie(ec, n) = co_await stream_->async_read_some(asio::buffer(chunk),
                                                          asio::as_tuple(asio::use_awaitable));
    } else {
      std::tie(ec, n) = co_await stream_->next_layer().async_read_some(
          asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    }
    Disarm();
    if (ec) {
      std::string timed_out = std::move(timed_out_);
      Drop();
      if (!timed_out.empty()) {
        co_return Status::DeadlineExceeded("timed out after " + std::to_string(timeout.count()) +
                                           " ms " + timed_out + " (" + ServerName() + ")");
      }
      co_return Status::Unavailable("connection to " + ServerName() + " lost while " +
                                    std::string(what) + ": " + ec.message());
    }
    read_buffer_.append(chunk.data(), n);
  }
}

awaitable<Result<SmtpReply>> SmtpClient::Command(std::string line, std::string_view what) {
  line += "\r\n";
  Status s = co_await Write(line, config_.timeouts.command, what);
  if (!s.ok()) co_return s;
  co_return co_await ReadReply(config_.timeouts.command, what);
}

awaitable<SendResult> SmtpClient::ConnectTcp() {
  const bool via_proxy = !config_.socks5_proxy.host.empty();
  const std::string& host = via_proxy ? config_.socks5_proxy.host : config_.host;
  const uint16_t port = via_proxy ? config_.socks5_proxy.port : config_.port;
  const std::string target = host + ":" + std::to_string(port);
  const std::string proxy_name = via_proxy ? "SOCKS5 proxy " + target : target;

  std::optional<asio::ip::address> source;
  if (!config_.source_address.empty()) {
    boost::system::error_code ec;
    source = asio::ip::make_address(config_.source_address, ec);
    if (ec) {
      co_return Fail(Class::kSenderProblem, SmtpFailure::kConfig, SmtpStage::kConnect,
                     "source address \"" + config_.source_address + "\" is not an IP address");
    }
  }

  Arm(config_.timeouts.connect, "resolving " + host);
  const std::string service = std::to_string(port);
  auto [rec, endpoints] =
      co_await resolver_.async_resolve(host, service, asio::as_tuple(asio::use_awaitable));
  Disarm();
  if (rec) {
    if (!timed_out_.empty()) {
      co_return Fail(Class::kTransient, SmtpFailure::kTimeout, SmtpStage::kResolve,
                     "timed out resolving " + host);
    }
    co_return Fail(Class::kTransient, SmtpFailure::kResolve, SmtpStage::kResolve,
                   "cannot resolve " + host + ": " + rec.message());
  }

  boost::system::error_code last_ec = asio::error::host_not_found;
  bool connected = false;
  Arm(config_.timeouts.connect, "connecting to " + proxy_name);
  for (const auto& entry : endpoints) {
    tcp::endpoint ep = entry.endpoint();
    if (source && source->is_v4() != ep.address().is_v4()) continue;
    Socket& sock = stream_->next_layer();
    boost::system::error_code ec;
    if (sock.is_open()) sock.close(ec);
    sock.open(ep.protocol(), ec);
    if (!ec && source) sock.bind(tcp::endpoint(*source, 0), ec);
    if (ec) {
      Disarm();
      co_return Fail(Class::kSenderProblem, SmtpFailure::kConfig, SmtpStage::kConnect,
                     "cannot bind source address " + config_.source_address + ": " + ec.message());
    }
    std::tie(ec) = co_await sock.async_connect(ep, asio::as_tuple(asio::use_awaitable));
    if (!timed_out_.empty()) break;
    if (!ec) {
      connected = true;
      break;
    }
    last_ec = ec;
  }
  if (!connected) {
    Disarm();
    if (!timed_out_.empty()) {
      co_return Fail(Class::kTransient, SmtpFailure::kTimeout, SmtpStage::kConnect,
                     "timed out after " + std::to_string(config_.timeouts.connect.count()) +
                         " ms connecting to " + proxy_name);
    }
    SmtpFailure f =
        last_ec == asio::error::connection_refused ? SmtpFailure::kRefused : SmtpFailure::kNetwork;
    std::string what = f == SmtpFailure::kRefused
                           ? "connection refused by " + proxy_name
                           : "cannot connect to " + proxy_name + ": " + last_ec.message();
    co_return Fail(Class::kTransient, f, SmtpStage::kConnect, what);
  }
  boost::system::error_code ignored;
  stream_->next_layer().set_option(tcp::no_delay(true), ignored);
  if (via_proxy) {
    Status s = co_await Socks5Connect(stream_->next_layer(), target, config_.host, config_.port,
                                      config_.socks5_proxy.username, config_.socks5_proxy.password);
    Disarm();
    if (!s.ok()) {
      if (!timed_out_.empty()) {
        co_return Fail(Class::kTransient, SmtpFailure::kTimeout, SmtpStage::kConnect,
                       "timed out in the handshake with " + proxy_name);
      }
      Class cls =
          s.code() == Status::Code::kUnauthenticated ? Class::kSenderProblem : Class::kTransient;
      co_return Fail(cls, SmtpFailure::kProxy, SmtpStage::kConnect, s.message());
    }
  } else {
    Disarm();
  }
  co_return Reached(SmtpStage::kConnect);
}

awaitable<SendResult> SmtpClient::TlsHandshake() {
  SSL* ssl = stream_->native_handle();
  boost::system::error_code ec;
  asio::ip::make_address(config_.host, ec);
  const bool is_ip = !ec;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, config_.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, config_.host.c_str());
    X509_VERIFY_PARAM_set1_host(param, config_.host.c_str(), 0);
  }
  tls_verify_error_.clear();
  stream_->set_verify_mode(asio::ssl::verify_peer);
  stream_->set_verify_callback([this](bool preverified, asio::ssl::verify_context& ctx) {
    if (preverified) return true;
    X509_STORE_CTX* store = ctx.native_handle();
    const int err = X509_STORE_CTX_get_error(store);
    const bool mismatch =
        err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH;
    // allow_self_signed: the sender chose to encrypt without authenticating this server, and a
    // self-signed certificate seldom names the host it is reached by.
    if (config_.allow_self_signed && (IsTrustError(err) || mismatch)) return true;
    if (tls_verify_error_.empty()) {
      tls_verify_error_ =
          mismatch ? NameMismatchText(CertificateNames(X509_STORE_CTX_get_current_cert(store)),
                                      config_.host)
                   : X509_verify_cert_error_string(err);
    }
    return false;
  });
  Arm(config_.timeouts.connect, "in the TLS handshake");
  std::tie(ec) = co_await stream_->async_handshake(asio::ssl::stream_base::client,
                                                   asio::as_tuple(asio::use_awaitable));
  Disarm();
  if (ec) {
    std::string timed_out = std::move(timed_out_);
    Drop();
    if (!timed_out.empty()) {
      co_return Fail(Class::kTransient, SmtpFailure::kTimeout, SmtpStage::kTls,
                     "timed out in the TLS handshake with " + ServerName());
    }
    if (!tls_verify_error_.empty()) {
      co_return Fail(Class::kSenderProblem, SmtpFailure::kTls, SmtpStage::kTls,
                     "TLS certificate of " + ServerName() + " not accepted: " + tls_verify_error_);
    }
    if (ec.category() == asio::error::get_ssl_category()) {
      co_return Fail(Class::kSenderProblem, SmtpFailure::kTls, SmtpStage::kTls,
                     "TLS handshake with " + ServerName() + " failed: " + ec.message());
    }
    co_return Fail(Class::kTransient, SmtpFailure::kNetwork, SmtpStage::kTls,
                   "connection to " + ServerName() + " lost in the TLS handshake: " + ec.message());
  }
  tls_active_ = true;
  co_return Reached(SmtpStage::kTls);
}

awaitable<SendResult> SmtpClient::Ehlo() {
  auto reply = co_await Command("EHLO " + config_.helo_name, "waiting for the reply to EHLO");
  if (!reply.ok()) co_return FromIoStatus(reply.status(), SmtpStage::kEhlo);
  if (reply->code == 250) {
    caps_ = SmtpCapabilities::FromEhlo(*reply);
    co_return Reached(SmtpStage::kEhlo);
  }
  if (reply->Transient()) {
    co_return FromReply(Class::kTransient, SmtpFailure::kGreeting, SmtpStage::kEhlo, *reply,
                        "EHLO refused");
  }
  auto helo = co_await Command("HELO " + config_.helo_name, "waiting for the reply to HELO");
  if (!helo.ok()) co_return FromIoStatus(helo.status(), SmtpStage::kEhlo);
  if (helo->code != 250) {
    co_return FromReply(helo->Transient() ? Class::kTransient : Class::kSenderProblem,
                        SmtpFailure::kGreeting, SmtpStage::kEhlo, *helo, "HELO refused");
  }
  caps_ = SmtpCapabilities();
  co_return Reached(SmtpStage::kEhlo);
}

awaitable<SendResult> SmtpClient::Authenticate() {
  std::string mech;
  switch (config_.auth) {
    case SmtpAuth::kAuto:
      mech = caps_.HasAuth("PLAIN") ? "PLAIN" : caps_.HasAuth("LOGIN") ? "LOGIN" : "";
      break;
    case SmtpAuth::kPlain:
      mech = "PLAIN";
      break;
    case SmtpAuth::kLogin:
      mech = "LOGIN";
      break;
    case SmtpAuth::kXOAuth2:
      mech = "XOAUTH2";
      break;
  }
  std::string offered;
  for (const std::string& m : caps_.auth) offered += (offered.empty() ? "" : " ") + m;
  if (caps_.auth.empty()) {
    co_return Fail(Class::kSenderProblem, SmtpFailure::kAuth, SmtpStage::kAuth,
                   ServerName() + " does not offer AUTH" +
                       (tls_active_ ? "" : " on an unencrypted connection (try STARTTLS or TLS)"));
  }
  if (mech.empty() || !caps_.HasAuth(mech)) {
    co_return Fail(Class::kSenderProblem, SmtpFailure::kAuth, SmtpStage::kAuth,
                   ServerName() + " does not offer AUTH " +
                       (mech.empty() ? "PLAIN or LOGIN" : mech) + " (it offers " + offered + ")");
  }
  Result<SmtpReply> reply = Status::Internal("unreachable");
  if (mech == "PLAIN") {
    std::string token;
    token += '\0';
    token += config_.username;
    token += '\0';
    token += config_.secret;
    reply = co_await Command("AUTH PLAIN " + Base64Encode(token), "authenticating (AUTH PLAIN)");
  } else if (mech == "LOGIN") {
    reply = co_await Command("AUTH LOGIN", "authenticating (AUTH LOGIN)");
    if (reply.ok() && reply->code == 334) {
      reply = co_await Command(Base64Encode(config_.username), "authenticating (AUTH LOGIN)");
    }
    if (reply.ok() && reply->code == 334) {
      reply = co_await Command(Base64Encode(config_.secret), "authenticating (AUTH LOGIN)");
    }
  } else {
    reply = co_await Command(
        "AUTH XOAUTH2 " + Base64Encode(XOAuth2Response(config_.username, config_.secret)),
        "authenticating (AUTH XOAUTH2)");
    // On failure the server sends a 334 with a base64 JSON error; an empty line ends the exchange.
    if (reply.ok() && reply->code == 334) {
      reply = co_await Command("", "authenticating (AUTH XOAUTH2)");
    }
  }
  if (!reply.ok()) co_return FromIoStatus(reply.status(), SmtpStage::kAuth);
  if (reply->code == 235) co_return Reached(SmtpStage::kAuth);
  if (reply->Transient()) {
    co_return FromReply(Class::kTransient, SmtpFailure::kAuth, SmtpStage::kAuth, *reply,
                        "authentication temporarily failed at " + ServerName());
  }
  co_return FromReply(
      Class::kSenderProblem, SmtpFailure::kAuth, SmtpStage::kAuth, *reply,
      mech == "XOAUTH2" ? "OAuth access token rejected" : "username or password rejected");
}

awaitable<SendResult> SmtpClient::Open() {
  Drop();
  if (!context_status_.ok()) {
    co_return Fail(Class::kSenderProblem, SmtpFailure::kConfig, SmtpStage::kConnect,
                   context_status_.message());
  }
  ++connections_opened_;
  caps_ = SmtpCapabilities();
  stream_.emplace(executor_, ssl_context_);
  SendResult step = co_await ConnectTcp();
  if (!step.ok()) {
    Drop();
    co_return step;
  }
  if (config_.security == SmtpSecurity::kTls) {
    step = co_await TlsHandshake();
    if (!step.ok()) co_return step;
  }
  auto greeting = co_await ReadReply(config_.timeouts.greeting, "waiting for the greeting");
  if (!greeting.ok()) co_return FromIoStatus(greeting.status(), SmtpStage::kGreeting);
  if (greeting->code != 220) {
    Drop();
    co_return FromReply(greeting->Transient() ? Class::kTransient : Class::kSenderProblem,
                        SmtpFailure::kGreeting, SmtpStage::kGreeting, *greeting,
                        ServerName() + " refused the session");
  }
  step = co_await Ehlo();
  if (!step.ok()) {
    Drop();
    co_return step;
  }
  if (config_.security == SmtpSecurity::kStartTls) {
    if (!caps_.starttls) {
      Drop();
      co_return Fail(Class::kSenderProblem, SmtpFailure::kTls, SmtpStage::kStartTls,
                     ServerName() + " does not offer STARTTLS");
    }
    auto reply = co_await Command("STARTTLS", "waiting for the reply to STARTTLS");
    if (!reply.ok()) co_return FromIoStatus(reply.status(), SmtpStage::kStartTls);
    if (reply->code != 220) {
      Drop();
      co_return FromReply(reply->Transient() ? Class::kTransient : Class::kSenderProblem,
                          SmtpFailure::kTls, SmtpStage::kStartTls, *reply, "STARTTLS refused");
    }
    if (!read_buffer_.empty()) {  // bytes injected before the handshake (CVE-2011-0411 style)
      Drop();
      co_return Fail(Class::kSenderProblem, SmtpFailure::kProtocol, SmtpStage::kStartTls,
                     ServerName() + " sent data after its STARTTLS reply");
    }
    step = co_await TlsHandshake();
    if (!step.ok()) co_return step;
    step = co_await Ehlo();
    if (!step.ok()) {
      Drop();
      co_return step;
    }
  }
  if (!config_.username.empty()) {
    step = co_await Authenticate();
    if (!step.ok()) {
      Drop();
      co_return step;
    }
  }
  connected_ = true;
  dirty_ = false;
  co_return Reached(OpenedStage());
}

SmtpStage SmtpClient::OpenedStage() const {
  return config_.username.empty() ? SmtpStage::kEhlo : SmtpStage::kAuth;
}

awaitable<SendResult> SmtpClient::Connect() {
  if (connected_ && !PeerClosed()) co_return Reached(OpenedStage());
  co_return co_await Open();
}

awaitable<SendResult> SmtpClient::Transaction(const Envelope& envelope, const std::string& payload,
                                              size_t size, bool eight_bit, bool utf8, bool reused,
                                              bool* retry_on_fresh_connection) {
  *retry_on_fresh_connection = false;
  if (caps_.size_limit > 0 && size > caps_.size_limit) {
    SendResult r = Fail(Class::kPermanent, SmtpFailure::kMessageRejected, SmtpStage::kMailFrom,
                        "message of " + std::to_string(size) + " bytes exceeds the limit of " +
                            std::to_string(caps_.size_limit) + " bytes of " + ServerName());
    r.code = 552;
    r.enhanced = "5.3.4";
    co_return r;
  }
  if (eight_bit && caps_.esmtp && !caps_.eightbitmime) {
    co_return Fail(Class::kPermanent, SmtpFailure::kMessageRejected, SmtpStage::kMailFrom,
                   "message has 8-bit data but " + ServerName() + " does not offer 8BITMIME");
  }
  if (utf8 && !caps_.smtputf8) {
    co_return Fail(
        Class::kPermanent, SmtpFailure::kMessageRejected, SmtpStage::kMailFrom,
        "an envelope address is not ASCII and " + ServerName() + " does not offer SMTPUTF8");
  }
  std::string mail = "MAIL FROM:<" + envelope.mail_from + ">";
  if (caps_.size) mail += " SIZE=" + std::to_string(size);
  if (eight_bit && caps_.eightbitmime) mail += " BODY=8BITMIME";
  if (utf8) mail += " SMTPUTF8";
  mail += "\r\n";

  SendResult result;
  result.recipients.reserve(envelope.rcpt_to.size());
  for (const std::string& rcpt : envelope.rcpt_to) {
    result.recipients.push_back(RecipientResult{.address = rcpt});
  }

  auto io_failure = [&](const Status& s, SmtpStage stage) {
    SendResult r = FromIoStatus(s, stage);
    r.recipients = result.recipients;
    for (auto& rr : r.recipients) rr.cls = Class::kTransient;
    return r;
  };
  // A 421 means the server is closing the connection: never reuse it.
  auto check_421 = [&](const SmtpReply& reply) {
    if (reply.code == 421) Drop();
  };

  const bool pipelining = caps_.pipelining;
  Result<SmtpReply> mail_reply = Status::Internal("unset");
  size_t accepted = 0;
  bool data_ready = false;
  dirty_ = true;
  if (pipelining) {
    std::string flight;
    const bool rset = reused;
    if (rset) flight += "RSET\r\n";
    flight += mail;
    for (const std::string& rcpt : envelope.rcpt_to) flight += "RCPT TO:<" + rcpt + ">\r\n";
    flight += "DATA\r\n";
    Status ws = co_await Write(flight, config_.timeouts.command, "sending the envelope");
    if (!ws.ok()) {
      *retry_on_fresh_connection = reused;
      co_return io_failure(ws, rset ? SmtpStage::kRset : SmtpStage::kMailFrom);
    }
    if (rset) {
      auto r = co_await ReadReply(config_.timeouts.command, "waiting for the reply to RSET");
      if (!r.ok() || r->code != 250) {
        *retry_on_fresh_connection = true;
        Drop();
        co_return r.ok() ? FromReply(Class::kTransient, SmtpFailure::kNetwork, SmtpStage::kRset, *r,
                                     "RSET refused")
                         : io_failure(r.status(), SmtpStage::kRset);
      }
    }
    mail_reply = co_await ReadReply(config_.timeouts.command, "waiting for the reply to MAIL FROM");
    if (!mail_reply.ok()) {
      *retry_on_fresh_connection = reused && !rset;
      co_return io_failure(mail_reply.status(), SmtpStage::kMailFrom);
    }
    if (reused && !rset && mail_reply->code == 421) *retry_on_fresh_connection = true;
    for (size_t i = 0; i < envelope.rcpt_to.size(); ++i) {
      auto r = co_await ReadReply(config_.timeouts.command, "waiting for the reply to RCPT TO");
      if (!r.ok()) co_return io_failure(r.status(), SmtpStage::kRcpt);
      RecipientResult& rr = result.recipients[i];
      rr.code = r->code;
      rr.enhanced = r->enhanced;
      rr.text = r->Text();
      rr.cls = r->Positive() ? Class::kAccepted : ClassifyRecipientReply(*r);
      if (rr.cls == Class::kAccepted) ++accepted;
    }
    auto data_reply = co_await ReadReply(config_.timeouts.command, "waiting for the reply to DATA");
    if (!data_reply.ok()) co_return io_failure(data_reply.status(), SmtpStage::kData);
    check_421(*data_reply);
    if (data_reply->code == 354) {
      if (mail_reply->code != 250 || accepted == 0) {
        // RFC 2920: the server accepted DATA although nothing can be delivered; end it empty.
        Status s = co_await Write(".\r\n", config_.timeouts.command, "ending an empty DATA");
        if (!s.ok()) co_return io_failure(s, SmtpStage::kData);
        auto end = co_await ReadReply(config_.timeouts.command, "waiting for the reply to DATA");
        if (!end.ok()) co_return io_failure(end.status(), SmtpStage::kData);
      } else {
        data_ready = true;
      }
    } else if (mail_reply->code == 250 && accepted > 0) {
      co_return FromReply(data_reply->Transient() ? Class::kTransient : Class::kPermanent,
                          SmtpFailure::kMessageRejected, SmtpStage::kData, *data_reply,
                          "DATA refused");
    }
  } else {
    if (dirty_ && reused) {
      auto r = co_await Command("RSET", "waiting for the reply to RSET");
      if (!r.ok() || r->code != 250) {
        *retry_on_fresh_connection = true;
        Drop();
        co_return r.ok() ? FromReply(Class::kTransient, SmtpFailure::kNetwork, SmtpStage::kRset, *r,
                                     "RSET refused")
                         : io_failure(r.status(), SmtpStage::kRset);
      }
    }
    mail.resize(mail.size() - 2);
    mail_reply = co_await Command(mail, "waiting for the reply to MAIL FROM");
    if (!mail_reply.ok()) {
      *retry_on_fresh_connection = reused;
      co_return io_failure(mail_reply.status(), SmtpStage::kMailFrom);
    }
    if (mail_reply->code == 250) {
      for (size_t i = 0; i < envelope.rcpt_to.size(); ++i) {
        auto r = co_await Command("RCPT TO:<" + envelope.rcpt_to[i] + ">",
                                  "waiting for the reply to RCPT TO");
        if (!r.ok()) co_return io_failure(r.status(), SmtpStage::kRcpt);
        RecipientResult& rr = result.recipients[i];
        rr.code = r->code;
        rr.enhanced = r->enhanced;
        rr.text = r->Text();
        rr.cls = r->Positive() ? Class::kAccepted : ClassifyRecipientReply(*r);
        if (rr.cls == Class::kAccepted) ++accepted;
        if (r->code == 421) break;
      }
      if (accepted > 0) {
        auto data_reply = co_await Command("DATA", "waiting for the reply to DATA");
        if (!data_reply.ok()) co_return io_failure(data_reply.status(), SmtpStage::kData);
        check_421(*data_reply);
        if (data_reply->code != 354) {
          co_return FromReply(data_reply->Transient() ? Class::kTransient : Class::kPermanent,
                              SmtpFailure::kMessageRejected, SmtpStage::kData, *data_reply,
                              "DATA refused");
        }
        data_ready = true;
      }
    } else if (reused && mail_reply->code == 421) {
      *retry_on_fresh_connection = true;
    }
  }

  if (mail_reply->code != 250) {
    check_421(*mail_reply);
    Class cls = mail_reply->Transient() ? Class::kTransient
                : mail_reply->enhanced.starts_with("5.3.") || mail_reply->code == 552
                    ? Class::kPermanent
                    : Class::kSenderProblem;
    SendResult r = FromReply(
        cls,
        cls == Class::kPermanent ? SmtpFailure::kMessageRejected : SmtpFailure::kSenderRejected,
        SmtpStage::kMailFrom, *mail_reply, "sender <" + envelope.mail_from + "> refused");
    r.recipients = result.recipients;
    for (auto& rr : r.recipients) rr.cls = cls;
    co_return r;
  }
  if (accepted == 0) {
    // Every recipient was refused: the worst class decides (sender problem > transient >
    // permanent).
    const RecipientResult* decisive = nullptr;
    for (Class c : {Class::kSenderProblem, Class::kTransient, Class::kPermanent}) {
      for (const RecipientResult& rr : result.recipients) {
        if (rr.cls == c && decisive == nullptr) decisive = &rr;
      }
    }
    SendResult r = std::move(result);
    if (decisive == nullptr) {  // a 421 cut the RCPT loop short
      r.cls = Class::kTransient;
      r.failure = SmtpFailure::kNetwork;
      r.stage = SmtpStage::kRcpt;
      r.reason = ServerName() + " closed the connection during RCPT TO";
      co_return r;
    }
    r.cls = decisive->cls;
    r.code = decisive->code;
    r.enhanced = decisive->enhanced;
    r.text = decisive->text;
    r.failure = decisive->cls == Class::kSenderProblem ? SmtpFailure::kSenderRejected
                                                       : SmtpFailure::kRecipients;
    r.stage = SmtpStage::kRcpt;
    r.reason = "recipient <" + decisive->address + "> refused: " + std::to_string(decisive->code) +
               (decisive->enhanced.empty() ? "" : " " + decisive->enhanced) + " " + decisive->text;
    co_return r;
  }
  if (!data_ready) {
    co_return Fail(Class::kTransient, SmtpFailure::kProtocol, SmtpStage::kData, "DATA not started");
  }

  Status ws = co_await Write(payload, config_.timeouts.data, "sending the message");
  if (!ws.ok()) co_return io_failure(ws, SmtpStage::kMessage);
  auto final_reply =
      co_await ReadReply(config_.timeouts.data, "waiting for the reply to the message");
  if (!final_reply.ok()) {
    SendResult r = io_failure(final_reply.status(), SmtpStage::kMessage);
    r.reason += " (the message may or may not have been accepted)";
    co_return r;
  }
  check_421(*final_reply);
  dirty_ = false;
  result.stage = SmtpStage::kMessage;
  result.code = final_reply->code;
  result.enhanced = final_reply->enhanced;
  result.text = final_reply->Text();
  if (final_reply->code == 250) {
    result.cls = Class::kAccepted;
    result.failure = SmtpFailure::kNone;
    result.reason = "accepted: " + final_reply->ToString();
    co_return result;
  }
  result.cls = final_reply->Transient() ? Class::kTransient : Class::kPermanent;
  result.failure = SmtpFailure::kMessageRejected;
  result.reason = "message refused: " + final_reply->ToString();
  for (auto& rr : result.recipients) {
    if (rr.cls == Class::kAccepted) {
      rr.cls = result.cls;
      rr.code = result.code;
      rr.enhanced = result.enhanced;
      rr.text = result.text;
    }
  }
  co_return result;
}

awaitable<SendResult> SmtpClient::Send(const Envelope& envelope, std::string_view data) {
  if (envelope.rcpt_to.empty()) {
    co_return Fail(Class::kPermanent, SmtpFailure::kRecipients, SmtpStage::kRcpt,
                   "the envelope has no recipients");
  }
  for (const std::string& address : envelope.rcpt_to) {
    if (address.find_first_of("<>\r\n") != std::string::npos) {
      co_return Fail(Class::kPermanent, SmtpFailure::kRecipients, SmtpStage::kRcpt,
                     "recipient address contains <, >, CR or LF: " + address);
    }
  }
  if (envelope.mail_from.find_first_of("<>\r\n") != std::string::npos) {
    co_return Fail(Class::kSenderProblem, SmtpFailure::kSenderRejected, SmtpStage::kMailFrom,
                   "sender address contains <, >, CR or LF: " + envelope.mail_from);
  }
  const std::string payload = DotStuffForData(data);
  const bool eight_bit = HasNonAscii(data);
  bool utf8 = HasNonAscii(envelope.mail_from);
  for (const std::string& address : envelope.rcpt_to) utf8 = utf8 || HasNonAscii(address);

  // At most two attempts: the second only when the first found the reused connection dead.
  for (int attempt = 0;; ++attempt) {
    bool reused = connected_;
    if (reused && PeerClosed()) {
      Drop();
      reused = false;
    }
    if (!connected_) {
      SendResult opened = co_await Open();
      if (!opened.ok()) co_return opened;
    }
    bool retry = false;
    SendResult result =
        co_await Transaction(envelope, payload, data.size(), eight_bit, utf8, reused, &retry);
    if (!retry || attempt == 1) co_return result;
    Drop();
  }
}

awaitable<void> SmtpClient::Close() {
  if (connected_ && stream_ && stream_->lowest_layer().is_open()) {
    auto reply = co_await Command("QUIT", "waiting for the reply to QUIT");
    (void)reply;
  }
  Drop();
}

BlockingSmtpClient::BlockingSmtpClient(SmtpConfig config)
    : client_(io_.get_executor(), std::move(config)) {}

BlockingSmtpClient::~BlockingSmtpClient() { Close(); }

namespace {
template <typename T>
T RunToCompletion(asio::io_context& io, asio::awaitable<T> op) {
  std::future<T> future = asio::co_spawn(io, std::move(op), asio::use_future);
  io.restart();
  io.run();
  return future.get();
}
}  // namespace

SendResult BlockingSmtpClient::Send(const Envelope& envelope, std::string_view data) {
  return RunToCompletion(io_, client_.Send(envelope, data));
}

SendResult BlockingSmtpClient::Connect() { return RunToCompletion(io_, client_.Connect()); }

void BlockingSmtpClient::Close() { RunToCompletion(io_, client_.Close()); }

}  // namespace kiln::mail
