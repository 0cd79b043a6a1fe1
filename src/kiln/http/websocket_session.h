// WebSocketSession: one accepted WebSocket connection, run by the Server (internal to kiln_http).
// It owns the TCP stream after the upgrade, writes queued frames in order, reads and discards
// what the client sends (answering pings, noticing pongs), and ends on a close handshake, an
// error, the idle timeout, a send buffer overflow or the server's shutdown.
//
// Thread-safety: as marked on each member.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kiln/http/websocket.h"

namespace kiln::http {

class WebSocketSession;

// The WebSocketChannel handed to the route: the queue of outgoing frames, shared between the
// producers (any thread) and the session's writer. It never owns Asio objects, so a channel may be
// kept (and destroyed) after the connection and even the server are gone: once the session has
// ended it is detached and Send answers false.
class WebSocketChannelState final : public WebSocketChannel {
 public:
  WebSocketChannelState(size_t send_buffer_limit, std::string remote_ip)
      : limit_(send_buffer_limit), remote_ip_(std::move(remote_ip)) {}

  bool Send(std::string text) override;
  void Close() override;
  bool closed() const override { return closed_.load(); }

  // Session side. Attach: frames may flow; `executor` is the session's strand. Detach: the
  // session has ended (called on the strand before it can be destroyed).
  void Attach(boost::asio::any_io_executor executor, std::weak_ptr<WebSocketSession> session);
  void Detach();
  // The next frame to write, or nullopt with *close_code set (0: nothing to do yet).
  std::optional<std::string> Next(uint16_t* close_code);
  void Written(size_t bytes);
  // Close after the queued frames with `code`; idempotent.
  void StartClose(uint16_t code);
  // Drop the connection now (slow client, shutdown deadline).
  void Abort();

 private:
  // Runs fn(session) on the session's strand if the session is still there. Requires mu_.
  void PostLocked(void (*fn)(WebSocketSession&));

  const size_t limit_;
  const std::string remote_ip_;
  std::atomic<bool> closed_{false};
  mutable std::mutex mu_;
  bool attached_ = false;                    // guarded by mu_
  boost::asio::any_io_executor executor_;    // guarded by mu_
  std::weak_ptr<WebSocketSession> session_;  // guarded by mu_
  std::deque<std::string> queue_;            // guarded by mu_
  size_t queued_bytes_ = 0;                  // guarded by mu_
  uint16_t close_code_ = 0;                  // guarded by mu_
};

class WebSocketSession : public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(boost::beast::tcp_stream stream, WebSocketAccept accept, std::string remote_ip);

  // Completes the handshake for `upgrade` (the request as read), calls accept.on_open, and serves
  // the connection until it ends. Returns whether the handshake succeeded. The socket is closed
  // and the channel detached when it returns. On the stream's strand.
  boost::asio::awaitable<bool> Run(bhttp::request<bhttp::empty_body> upgrade);

  // Close with 1001 "going away" (server shutdown) after the queued frames. Any thread.
  void GoingAway();
  // Closes the socket now, without a close handshake. Any thread.
  void Abort();

 private:
  friend class WebSocketChannelState;
  boost::asio::awaitable<void> WriteLoop();
  void Wake() { wake_.cancel(); }  // strand only
  void CloseSocket();              // strand only

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  const WebSocketAccept accept_;
  const std::string remote_ip_;
  std::shared_ptr<WebSocketChannelState> channel_;
  boost::asio::steady_timer wake_;        // the writer waits on it; strand only
  boost::asio::steady_timer write_done_;  // Run waits on it for the writer; strand only
  bool writer_running_ = false;           // strand only
  bool reader_done_ = false;              // strand only
};

}  // namespace kiln::http
