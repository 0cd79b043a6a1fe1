// Server: the HTTP/1.1 front door. Accepts connections on one address, reads requests with limits
// and timeouts, dispatches them through a Router, and writes the responses with Kiln's standard
// headers (request id, security headers). One C++20 coroutine per connection on an io_context
// run by `threads` threads; handlers are synchronous and run on those threads, except the handlers
// of routes marked blocking (RouteDoc::blocking): those run on a separate pool of
// `blocking_threads` threads while the connection's coroutine waits without holding an I/O thread,
// so slow mail servers cannot stall the rest of the API. When every blocking thread is busy and
// `blocking_queue` requests already wait for one, such a request is answered 503 with Retry-After
// in the API's error shape.
//
// What a connection gets:
//   - keep-alive; an idle timeout between requests and a read timeout covering a request's headers
//     and body together (a client trickling bytes cannot hold a connection: slowloris-safe);
//   - header block over header_limit -> 431; body over body_limit -> 413 (before the body is read
//     when Content-Length says so); a malformed request -> 400; each of these closes the
//     connection;
//   - a handler that throws -> 500 in the API's error shape, logged with the request id;
//   - HEAD answered by GET routes, without the body.
//
// Thread-safety: Listen and Run are called once each, from one thread. Shutdown and port() may be
// called from any thread, any number of times.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"

namespace kiln::http {

class Router;
class Metrics;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: an ephemeral port (tests); see Server::port()
  int threads = 2;
  Millis read_timeout{10'000};   // a whole request (headers + body) must arrive within this
  Millis idle_timeout{60'000};   // a keep-alive connection may wait this long for its next request
  Millis write_timeout{30'000};  // a response must be taken by the client within this
  size_t body_limit = 1 << 20;   // bytes
  // Optional: the body limit of one request from its request-target (e.g. a larger one for a CSV
  // upload route), asked once the headers are read; unset -> body_limit for every request.
  std::function<size_t(std::string_view target)> body_limit_for;
  // Optional: request-targets whose body is streamed into a file in `upload_dir` instead of held
  // in memory (CSV uploads of up to gigabytes). Such a request needs a Content-Length (411
  // otherwise) and its limit from body_limit_for; its body must keep arriving at 16 KiB or more per
  // read_timeout rather than all within read_timeout. The handler finds the file in
  // Request::body_file; the server removes it after the response unless the handler moved it.
  std::function<bool(std::string_view target)> stream_body_for;
  std::string upload_dir;
  size_t header_limit = 16 << 10;  // bytes of request line + header fields
  bool access_log = true;          // one spdlog line per request
  // Run() installs SIGTERM/SIGINT handlers that call Shutdown(shutdown_grace).
  bool handle_signals = false;
  Millis shutdown_grace{10'000};
  // Threads running the handlers of blocking routes, and how many such requests may wait for one.
  int blocking_threads = 8;
  size_t blocking_queue = 64;
};

class Server {
 public:
  // `router`, `metrics` and `clock` must outlive the Server.
  Server(ServerOptions options, const Router& router, Metrics& metrics, const Clock& clock);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens (SO_REUSEADDR). Fails with Unavailable naming the address and the reason,
  // e.g. "cannot listen on 127.0.0.1:8080: address already in use", or InvalidArgument when host
  // is not an IP address.
  Status Listen();
  // The bound port (the real one when options.port was 0); 0 before Listen succeeded.
  uint16_t port() const;

  // Serves on options.threads threads (the caller's thread is one of them) until Shutdown has
  // finished; then returns. Requires a successful Listen().
  void Run();

  // Graceful stop: stops accepting (new connections are refused once this returns, when called
  // from outside the server's threads), closes idle keep-alive connections, lets requests in
  // flight finish and be answered with "Connection: close", and after `grace` closes connections
  // still waiting for or reading a request. A response whose writing has begun is never cut off
  // (the write timeout bounds it), and a handler still running is not interrupted: its response is
  // written when it returns (Run waits for blocking handlers too; their own timeouts bound them).
  // Blocking requests still waiting for a thread are answered 503. Idempotent; later calls do
  // nothing.
  void Shutdown(Millis grace);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// A request id: the client's X-Request-Id when it is 1..64 characters of [A-Za-z0-9._-], else a
// fresh random one (16 hex digits).
std::string RequestIdFor(std::string_view client_value);

}  // namespace kiln::http
