#include "kiln/mail/smtp_fake_server.h"

#include <openssl/evp.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "kiln/mail/smtp_client.h"

namespace kiln::mail::testing {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::string Base64Decode(const std::string& in) {
  std::string out(in.size() / 4 * 3 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return {};
  size_t len = static_cast<size_t>(n);
  if (in.size() >= 1 && in[in.size() - 1] == '=') --len;
  if (in.size() >= 2 && in[in.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string UpperPrefix(const std::string& line, size_t n) {
  std::string out = line.substr(0, n);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string AngleAddress(const std::string& arg) {
  size_t open = arg.find('<');
  size_t close = arg.find('>', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return {};
  return arg.substr(open + 1, close - open - 1);
}

}  // namespace

struct FakeSmtpServer::Session {
  enum class State { kCommand, kData, kLoginUser, kLoginPass, kXOAuth2Error };
  FakeSmtpServer* server;
  tcp::socket socket;
  State state = State::kCommand;
  std::string login_user;
  int accepted_rcpts = 0;
  int messages = 0;
  bool quit = false;
  bool tls_requested = false;  // STARTTLS was answered with 220: the client's next bytes are TLS

  // Appends the reply lines for one client line to `out`.
  void Handle(const std::string& line, std::string& out) {
    const FakeSmtpScript& s = server->script_;
    auto reply = [&](const std::string& r) { out += r + "\r\n"; };
    if (state == State::kData) {
      if (line == ".") {
        state = State::kCommand;
        ++messages;
        reply(s.data_reply);
      }
      return;
    }
    if (state == State::kLoginUser) {
      login_user = Base64Decode(line);
      state = State::kLoginPass;
      return reply("334 UGFzc3dvcmQ6");
    }
    if (state == State::kLoginPass) {
      state = State::kCommand;
      bool ok = login_user == s.username && Base64Decode(line) == s.password;
      return reply(ok ? "235 2.7.0 Authentication successful"
                      : "535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6");
    }
    if (state == State::kXOAuth2Error) {
      state = State::kCommand;
      return reply("535 5.7.8 Username and Password not accepted (fake XOAUTH2)");
    }
    std::string verb = UpperPrefix(line, 4);
    if (verb == "EHLO") {
      if (!s.ehlo_reply.empty()) return reply(s.ehlo_reply);
      for (size_t i = 0; i < s.ehlo.size(); ++i) {
        reply("250" + std::string(i + 1 == s.ehlo.size() ? " " : "-") + s.ehlo[i]);
      }
    } else if (verb == "HELO") {
      reply(s.helo_reply);
    } else if (line.size() == 8 && UpperPrefix(line, 8) == "STARTTLS" &&
               !s.starttls_reply.empty()) {
      tls_requested = s.starttls_reply.starts_with("220");
      reply(s.starttls_reply);
    } else if (UpperPrefix(line, 11) == "AUTH PLAIN ") {
      std::string decoded = Base64Decode(line.substr(11));
      bool ok = decoded == std::string("\0", 1) + s.username + std::string("\0", 1) + s.password;
      reply(ok ? "235 2.7.0 Authentication successful" : "535 5.7.8 Error: authentication failed");
    } else if (UpperPrefix(line, 10) == "AUTH LOGIN") {
      state = State::kLoginUser;
      reply("334 VXNlcm5hbWU6");
    } else if (UpperPrefix(line, 13) == "AUTH XOAUTH2 ") {
      if (Base64Decode(line.substr(13)) == XOAuth2Response(s.username, s.password)) {
        reply("235 2.7.0 Accepted");
      } else {
        state = State::kXOAuth2Error;
        reply("334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=");
      }
    } else if (verb == "MAIL") {
      accepted_rcpts = 0;
      reply(s.mail_reply);
    } else if (verb == "RCPT") {
      auto it = s.rcpt_replies.find(AngleAddress(line));
      std::string r = it == s.rcpt_replies.end() ? "250 2.1.5 Ok" : it->second;
      if (r[0] == '2') ++accepted_rcpts;
      reply(r);
    } else if (verb == "DATA") {
      if (!s.data_command_reply.empty()) {
        reply(s.data_command_reply);
      } else if (accepted_rcpts > 0) {
        state = State::kData;
        reply("354 End data with <CR><LF>.<CR><LF>");
      } else {
        reply("554 5.5.1 Error: no valid recipients");
      }
    } else if (verb == "RSET") {
      accepted_rcpts = 0;
      reply("250 2.0.0 Ok");
    } else if (verb == "NOOP") {
      reply("250 2.0.0 Ok");
    } else if (verb == "QUIT") {
      quit = true;
      reply("221 2.0.0 Bye");
    } else {
      reply("502 5.5.2 Error: command not recognized");
    }
  }

  asio::awaitable<void> Run() {
    const FakeSmtpScript& s = server->script_;
    if (s.silent) {
      char byte;
      co_await socket.async_read_some(asio::buffer(&byte, 1), asio::as_tuple(asio::use_awaitable));
      co_return;
    }
    if (!co_await Send(s.greeting + "\r\n")) co_return;
    std::string buffer;
    char chunk[8192];
    while (!quit) {
      auto [ec, n] =
          co_await socket.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      buffer.append(chunk, n);
      std::string out;
      size_t eol;
      while ((eol = buffer.find("\r\n")) != std::string::npos) {
        std::string line = buffer.substr(0, eol);
        buffer.erase(0, eol + 2);
        server->Log("C: " + line);
        Handle(line, out);
      }
      if (!out.empty() && !co_await Send(out)) co_return;
      if (tls_requested) {
        co_await RefuseTls();
        co_return;
      }
      if (s.close_after_messages > 0 && messages >= s.close_after_messages) {
        server->Log("-- server closes the connection");
        boost::system::error_code ignored;
        socket.close(ignored);
        co_return;
      }
    }
  }

  // Reads the client's first TLS record (its ClientHello) whole, answers it with plain text, which
  // no TLS client accepts, and closes the connection. Reading the record whole matters: closing
  // with unread bytes would reset the connection before the client reads the answer.
  asio::awaitable<void> RefuseTls() {
    auto tok = asio::as_tuple(asio::use_awaitable);
    std::array<unsigned char, 5> header;  // content type, version, length (RFC 8446 5.1)
    auto [hec, hn] = co_await asio::async_read(socket, asio::buffer(header), tok);
    if (hec) co_return;
    std::vector<char> record(static_cast<size_t>(header[3] << 8 | header[4]));
    auto [rec, rn] = co_await asio::async_read(socket, asio::buffer(record), tok);
    if (rec) co_return;
    server->Log("C: <TLS handshake>");
    if (!co_await Send("this fake speaks no TLS\r\n")) co_return;
    server->Log("-- server closes the connection");
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  asio::awaitable<bool> Send(const std::string& out) {
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      server->Log("S: " + line);
    }
    auto [ec, n] =
        co_await asio::async_write(socket, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }
};

FakeSmtpServer::FakeSmtpServer(FakeSmtpScript script)
    : script_(std::move(script)),
      acceptor_(io_, tcp::endpoint(asio::ip::make_address(script_.bind_address), 0)) {
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        for (;;) {
          auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
          if (ec) co_return;
          {
            std::lock_guard lock(mu_);
            ++connections_;
            transcript_ += "-- connection " + std::to_string(connections_) + "\n";
            boost::system::error_code pec;
            auto peer = socket.remote_endpoint(pec);
            peers_.push_back(pec ? "?" : peer.address().to_string());
          }
          auto session = std::make_shared<Session>(Session{this, std::move(socket)});
          asio::co_spawn(
              io_, [session]() -> asio::awaitable<void> { co_await session->Run(); },
              asio::detached);
        }
      },
      asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

FakeSmtpServer::~FakeSmtpServer() {
  io_.stop();
  thread_.join();
}

void FakeSmtpServer::Log(std::string line) {
  std::lock_guard lock(mu_);
  transcript_ += line + "\n";
}

std::string FakeSmtpServer::Transcript() const {
  std::lock_guard lock(mu_);
  return transcript_;
}

int FakeSmtpServer::connections() const {
  std::lock_guard lock(mu_);
  return connections_;
}

std::vector<std::string> FakeSmtpServer::peer_addresses() const {
  std::lock_guard lock(mu_);
  return peers_;
}

std::string CompareGolden(const std::string& name, const std::string& actual) {
  const char* root = std::getenv("KILN_SOURCE_DIR");
  std::string path = std::string(root ? root : ".") + "/src/kiln/mail/testdata/" + name;
  const char* update = std::getenv("KILN_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return {};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read golden file " + path + " (KILN_UPDATE_GOLDEN=1 writes it)";
  std::ostringstream expected;
  expected << in.rdbuf();
  if (expected.str() == actual) return {};
  return "transcript differs from " + path + "\n--- expected\n" + expected.str() + "--- actual\n" +
         actual;
}

}  // namespace kiln::mail::testing
