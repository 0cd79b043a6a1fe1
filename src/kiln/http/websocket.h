// WebSocket routes: what a handler sees of an accepted WebSocket connection (a WebSocketChannel it
// sends text frames into) and what it answers to an upgrade request (a refusal as an ordinary
// HTTP response, or a WebSocketAccept with the connection's limits).
//
// The Server does the protocol (Boost.Beast): handshake, ping/pong keep-alive, idle timeout, the
// per-key connection limit, the bounded outgoing buffer and a clean close (1001 "going away") on
// shutdown. Clients may send frames; the server reads and discards them (the streams are one-way).
//
// Thread-safety: a WebSocketChannel may be used from any thread; WebSocketAccept is a plain value.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/http/message.h"

namespace kiln::http {

// The sending end of one accepted WebSocket connection.
class WebSocketChannel {
 public:
  virtual ~WebSocketChannel() = default;

  // Queues one text frame. True when it was queued. False when the connection is closed or
  // closing, or when the frame would take the bytes queued and not yet written over the
  // connection's send_buffer_limit: the client is not keeping up, and the connection is dropped
  // at once (memory never grows with a slow client).
  virtual bool Send(std::string text) = 0;

  // Starts a close handshake with code 1000 (normal); frames already queued are written first.
  // Idempotent; does nothing once the connection is closed.
  virtual void Close() = 0;

  // True once the connection has ended or is ending (Send would return false).
  virtual bool closed() const = 0;
};

// An accepted upgrade: how the connection is to be run.
struct WebSocketAccept {
  // Called once the handshake has succeeded, on one of the server's threads; it must not block
  // (hand the channel over to whatever produces the frames). Required.
  std::function<void(std::shared_ptr<WebSocketChannel>)> on_open;
  // Connections with the same key are counted together (e.g. "user:5"); an upgrade beyond
  // max_per_key open connections of its key is refused with 429. Empty key: not limited.
  std::string limit_key;
  int max_per_key = 8;
  // Bytes of frames queued and not yet taken by the client; beyond this the client is dropped.
  size_t send_buffer_limit = 1 << 20;
  // A connection from which nothing (not even a pong) arrives for this long is closed; a ping is
  // sent after half of it.
  Millis idle_timeout{60'000};
};

// What an upgrade handler answers: an HTTP response (a refusal: 401, 403, 404, ...) or an accept.
using UpgradeResult = std::variant<Response, WebSocketAccept>;
using UpgradeHandler = std::function<UpgradeResult(Request&)>;

// Cross-site WebSocket hijacking guard. Browsers always send Origin with a WebSocket handshake and
// attach the site's cookies whatever page opened it, so a cookie-authenticated handshake is only
// trusted from our own pages. OK when the request has no Origin (a program, not a browser), or
// when Origin is the origin (scheme://host[:port], default ports omitted) of `public_url`, or
// names the host:port of the request's Host header. PermissionDenied naming the origin otherwise.
Status CheckWebSocketOrigin(const Request& request, std::string_view public_url);

// Whether the request asks for a WebSocket upgrade (GET with Connection: upgrade and
// Upgrade: websocket).
bool IsWebSocketUpgrade(const Request& request);

}  // namespace kiln::http
