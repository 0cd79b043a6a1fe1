#include "kiln/mail/socks5.h"

#include <array>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace kiln::mail {
namespace asio = boost::asio;

std::string_view Socks5ReplyText(uint8_t rep) {
  switch (rep) {
    case 0: return "succeeded";
    case 1: return "general SOCKS server failure";
    case 2: return "connection not allowed by ruleset";
    case 3: return "network unreachable";
    case 4: return "host unreachable";
    case 5: return "connection refused by destination host";
    case 6: return "TTL expired";
    case 7: return "command not supported";
    case 8: return "address type not supported";
    default: return "unknown SOCKS5 reply code";
  }
}

asio::awaitable<Status> Socks5Connect(asio::ip::tcp::socket& socket, std::string_view proxy_name,
                                      std::string_view host, uint16_t port,
                                      std::string_view username, std::string_view password) {
  const std::string who = "SOCKS5 proxy " + std::string(proxy_name);
  if (host.size() > 255) co_return Status::InvalidArgument(who + ": destination host name too long");
  if (username.size() > 255 || password.size() > 255) {
    co_return Status::InvalidArgument(who + ": username or password longer than 255 bytes");
  }
  auto io_error = [&](const boost::system::error_code& ec, std::string_view step) {
    return Status::Unavailable(who + ": " + std::string(step) + ": " + ec.message());
  };
  const bool with_auth = !username.empty();
  std::vector<uint8_t> greeting = {5, 1, static_cast<uint8_t>(with_auth ? 2 : 0)};
  auto [ec1, n1] = co_await asio::async_write(socket, asio::buffer(greeting),
                                              asio::as_tuple(asio::use_awaitable));
  if (ec1) co_return io_error(ec1, "sending greeting");
  std::array<uint8_t, 2> choice{};
  auto [ec2, n2] = co_await asio::async_read(socket, asio::buffer(choice),
                                             asio::as_tuple(asio::use_awaitable));
  if (ec2) co_return io_error(ec2, "reading method choice");
  if (choice[0] != 5) co_return Status::Unavailable(who + ": not a SOCKS5 server");
  if (choice[1] == 0xFF || choice[1] != greeting[2]) {
    co_return Status::Unauthenticated(who + (with_auth ? ": refuses username/password auth"
                                                       : ": requires authentication"));
  }
  if (with_auth) {
    std::vector<uint8_t> auth = {1, static_cast<uint8_t>(username.size())};
    auth.insert(auth.end(), username.begin(), username.end());
    auth.push_back(static_cast<uint8_t>(password.size()));
    auth.insert(auth.end(), password.begin(), password.end());
    auto [ec3, n3] = co_await asio::async_write(socket, asio::buffer(auth),
                                                asio::as_tuple(asio::use_awaitable));
    if (ec3) co_return io_error(ec3, "sending credentials");
    std::array<uint8_t, 2> verdict{};
    auto [ec4, n4] = co_await asio::async_read(socket, asio::buffer(verdict),
                                               asio::as_tuple(asio::use_awaitable));
    if (ec4) co_return io_error(ec4, "reading auth verdict");
    if (verdict[1] != 0) co_return Status::Unauthenticated(who + ": username or password rejected");
  }
  std::vector<uint8_t> request = {5, 1, 0};
  boost::system::error_code parse_ec;
  asio::ip::address ip = asio::ip::make_address(host, parse_ec);
  if (!parse_ec && ip.is_v4()) {
    request.push_back(1);
    auto bytes = ip.to_v4().to_bytes();
    request.insert(request.end(), bytes.begin(), bytes.end());
  } else if (!parse_ec && ip.is_v6()) {
    request.push_back(4);
    auto bytes = ip.to_v6().to_bytes();
    request.insert(request.end(), bytes.begin(), bytes.end());
  } else {
    request.push_back(3);
    request.push_back(static_cast<uint8_t>(host.size()));
    request.insert(request.end(), host.begin(), host.end());
  }
  request.push_back(static_cast<uint8_t>(port >> 8));
  request.push_back(static_cast<uint8_t>(port & 0xFF));
  auto [ec5, n5] = co_await asio::async_write(socket, asio::buffer(request),
                                              asio::as_tuple(asio::use_awaitable));
  if (ec5) co_return io_error(ec5, "sending CONNECT");
  std::array<uint8_t, 4> head{};
  auto [ec6, n6] = co_await asio::async_read(socket, asio::buffer(head),
                                             asio::as_tuple(asio::use_awaitable));
  if (ec6) co_return io_error(ec6, "reading CONNECT reply");
  if (head[0] != 5) co_return Status::Unavailable(who + ": malformed CONNECT reply");
  if (head[1] != 0) {
    co_return Status::Unavailable(who + ": CONNECT " + std::string(host) + ":" +
                                  std::to_string(port) + " failed: " +
                                  std::string(Socks5ReplyText(head[1])));
  }
  size_t rest = 0;
  if (head[3] == 1) {
    rest = 4 + 2;
  } else if (head[3] == 4) {
    rest = 16 + 2;
  } else if (head[3] == 3) {
    std::array<uint8_t, 1> len{};
    auto [ec7, n7] = co_await asio::async_read(socket, asio::buffer(len),
                                               asio::as_tuple(asio::use_awaitable));
    if (ec7) co_return io_error(ec7, "reading CONNECT reply");
    rest = len[0] + 2;
  } else {
    co_return Status::Unavailable(who + ": malformed CONNECT reply address type");
  }
  std::vector<uint8_t> bound(rest);
  auto [ec8, n8] = co_await asio::async_read(socket, asio::buffer(bound),
                                             asio::as_tuple(asio::use_awaitable));
  if (ec8) co_return io_error(ec8, "reading CONNECT reply");
  co_return Status::Ok();
}

}  // namespace kiln::mail
