// SOCKS5 (RFC 1928) client handshake with optional username/password authentication (RFC 1929).
//
// Socks5Connect runs the handshake on an already connected TCP socket to the proxy and asks it to
// CONNECT to host:port; the proxy resolves `host` itself when it is a name. After success the
// socket is a byte pipe to the destination. Stateless; safe to call from any coroutine that owns
// the socket.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "kiln/base/status.h"

namespace kiln::mail {

// Success: the proxy answered "succeeded" to CONNECT. Failure: Unavailable with the proxy's reason
// ("SOCKS5 proxy 127.0.0.1:1080: connection refused by destination host") for refusals and I/O
// errors, Unauthenticated when the proxy rejects the credentials or wants a method we do not
// offer, InvalidArgument for a host longer than 255 bytes. The caller enforces the timeout (by
// closing the socket).
boost::asio::awaitable<Status> Socks5Connect(boost::asio::ip::tcp::socket& socket,
                                             std::string_view proxy_name, std::string_view host,
                                             uint16_t port, std::string_view username,
                                             std::string_view password);

// RFC 1928 REP field meaning: "general SOCKS server failure", "connection refused", ...
std::string_view Socks5ReplyText(uint8_t rep);

}  // namespace kiln::mail
