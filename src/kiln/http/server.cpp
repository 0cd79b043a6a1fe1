#include "kiln/http/server.h"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "kiln/http/blocking_pool.h"
#include "kiln/http/message.h"
#include "kiln/http/metrics.h"
#include "kiln/http/router.h"
#include "kiln/http/websocket_session.h"

namespace kiln::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadChunk = 8192;
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool IsApiPath(std::string_view target) {
  std::string_view path = RawPath(target);
  return path == "/api" || path.starts_with("/api/");
}

// The method as a bounded label: known verbs by name, anything else as "OTHER".
std::string MethodLabel(bhttp::verb method) {
  if (method == bhttp::verb::unknown) return "OTHER";
  return std::string(bhttp::to_string(method));
}

// What goes into the access log for a target: query strings of auth endpoints may carry tokens,
// so they are dropped; control bytes are escaped so a request cannot forge log lines.
std::string LogTarget(std::string_view target) {
  if (RawPath(target).starts_with("/api/v1/auth/")) target = RawPath(target);
  std::string out;
  out.reserve(target.size());
  for (unsigned char c : target) {
    if (c < 0x20 || c >= 0x7f) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void SetIfAbsent(bhttp::fields& fields, std::string_view name, std::string_view value) {
  if (fields.find(name) == fields.end()) fields.set(name, value);
}

void AddStandardHeaders(Response& r, std::string_view request_id, bool api) {
  r.headers.set(bhttp::field::server, "kiln");
  r.headers.set("X-Request-Id", request_id);
  r.headers.set("X-Content-Type-Options", "nosniff");
  SetIfAbsent(r.headers, "Content-Security-Policy", kContentSecurityPolicy);
  SetIfAbsent(r.headers, "Referrer-Policy", "no-referrer");
  SetIfAbsent(r.headers, "X-Frame-Options", "DENY");
  if (api) r.headers.set(bhttp::field::cache_control, "no-store");
}

// An upgrade request the router accepted, waiting for the connection to switch protocols.
struct PendingUpgrade {
  WebSocketAccept accept;
  bhttp::request<bhttp::empty_body> request;
};

// Connection state, touched only on the connection's strand.
struct Session {
  explicit Session(tcp::socket socket)
      : executor(socket.get_executor()), stream(std::move(socket)) {}
  enum class State { kIdle, kReading, kWriting, kWebSocket };
  asio::any_io_executor executor;  // the connection's strand (the stream moves to a WebSocket)
  beast::tcp_stream stream;
  State state = State::kReading;
  uint64_t id = 0;
  std::string remote_ip;
  std::optional<PendingUpgrade> upgrade;
  std::shared_ptr<WebSocketSession> ws;  // set once the connection is a WebSocket
};

// What is known about a request when its response is written, for the log and the metrics.
struct Exchange {
  std::string method = "OTHER";
  std::string log_target = "-";
  std::string request_id;
  std::string route = "(unmatched)";
  bool api = false;
  bool head = false;
  unsigned version = 11;
  TimePoint started;
};

}  // namespace

std::string RequestIdFor(std::string_view client_value) {
  bool sane = !client_value.empty() && client_value.size() <= 64;
  for (char c : client_value) {
    if (!sane) break;
    sane = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  }
  if (sane) return std::string(client_value);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = rng();
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) id[i] = kHex[v & 15];
  return id;
}

class Server::Impl {
 public:
  Impl(ServerOptions options, const Router& router, Metrics& metrics, const Clock& clock)
      : options_(std::move(options)),
        router_(router),
        metrics_(metrics),
        clock_(clock),
        ioc_(std::max(1, options_.threads)),
        control_(asio::make_strand(ioc_)),
        acceptor_(control_),
        grace_timer_(control_),
        open_connections_(
            metrics.GetGauge("kiln_http_open_connections", "HTTP connections currently open")),
        open_websockets_(
            metrics.GetGauge("kiln_websocket_connections", "WebSocket connections currently open")),
        blocking_running_(metrics.GetGauge("kiln_http_blocking_handlers_running",
                                           "handlers of blocking routes running now")),
        blocking_queued_(metrics.GetGauge("kiln_http_blocking_handlers_queued",
                                          "requests to blocking routes waiting for a thread")),
        blocking_rejected_(metrics.GetCounter(
            "kiln_http_blocking_rejected_total",
            "requests to blocking routes answered 503 because every thread was busy and the "
            "queue was full")),
        blocking_(
            std::make_unique<BlockingPool>(options_.blocking_threads, options_.blocking_queue)) {}

  Status Listen();
  uint16_t port() const { return port_.load(); }
  void Run();
  void Shutdown(Millis grace);

 private:
  asio::awaitable<void> AcceptLoop();
  void StartSession(tcp::socket socket);
  asio::awaitable<void> Serve(std::shared_ptr<Session> s);
  // Reads and answers one request whose first bytes are in `buffer`. Returns whether the
  // connection may carry another request, and whether closing it should drain unread input.
  asio::awaitable<std::pair<bool, bool>> HandleOne(Session& s, beast::flat_buffer& buffer);
  asio::awaitable<bool> Write(Session& s, Response response, const Exchange& x, bool keep_alive);
  // Reads a `length`-byte body (its first bytes may be in `buffer`) into a new file in
  // upload_dir. Success: the file's path. Failure: Unavailable when the file cannot be written or
  // the server is stopping; DeadlineExceeded when the client stalls or goes away. The
  // path of a partly written file comes back with the failure so the caller removes it.
  asio::awaitable<std::pair<Status, std::string>> StreamBodyToFile(Session& s,
                                                                   beast::flat_buffer& buffer,
                                                                   uint64_t length);
  // Answers a request: finds its route and runs the handler, on this thread or, for a blocking
  // route, on the blocking pool while the coroutine waits.
  asio::awaitable<Response> Dispatch(Request& request);
  // Runs `route`'s handler here; an exception becomes a 500.
  Response RunHandler(const Route& route, Request& request);
  // Runs `route`'s handler on the blocking pool and resumes on the caller's executor once it has
  // returned; 503 when the pool is full or stopping.
  asio::awaitable<Response> RunBlocking(const Route& route, Request& request);
  Response InternalError(const Request& request);
  UpgradeResult DispatchUpgrade(Request& request);
  asio::awaitable<void> Close(Session& s, bool linger);
  // Switches the connection to the WebSocket protocol and serves it until it ends.
  asio::awaitable<void> RunWebSocket(std::shared_ptr<Session> s);
  // The access log line and the metrics of a request answered without Write (an upgrade).
  void Record(const Exchange& x, int status, std::string_view remote_ip);
  // Counts a WebSocket connection against its key's limit; false when the limit is reached.
  bool AcquireWebSocketSlot(const WebSocketAccept& accept);
  void ReleaseWebSocketSlot(const std::string& key);
  void ForEachSession(const std::function<void(const std::shared_ptr<Session>&)>& fn);
  void ForceCloseAll();
  void CheckDone();

  const ServerOptions options_;
  const Router& router_;
  Metrics& metrics_;
  const Clock& clock_;
  asio::io_context ioc_;
  asio::strand<asio::io_context::executor_type> control_;  // acceptor, timer, signals
  tcp::acceptor acceptor_;
  asio::steady_timer grace_timer_;
  std::optional<asio::signal_set> signals_;
  Gauge& open_connections_;
  Gauge& open_websockets_;
  Gauge& blocking_running_;
  Gauge& blocking_queued_;
  Counter& blocking_rejected_;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> running_{false};
  std::atomic<uint16_t> port_{0};
  bool accept_closed_ = false;  // control_ only
  bool finished_ = false;       // control_ only

  std::mutex mu_;
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions_;  // guarded by mu_
  uint64_t next_session_id_ = 0;                                   // guarded by mu_
  std::unordered_map<std::string, int> websockets_per_key_;        // guarded by mu_

  // Last: destroyed (its threads joined) first, while ioc_ can still take their completions.
  std::unique_ptr<BlockingPool> blocking_;
};

Status Server::Impl::Listen() {
  std::string where = options_.host + ":" + std::to_string(options_.port);
  error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    return Status::InvalidArgument("cannot listen on " + where + ": host is not an IP address",
                                   "host");
  }
  if (address.is_v6()) where = "[" + options_.host + "]:" + std::to_string(options_.port);
  tcp::endpoint endpoint(address, options_.port);
  auto fail = [&](std::string_view step) {
    std::string reason = ec.message();
    for (char& c : reason) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    error_code ignored;
    acceptor_.close(ignored);
    return Status::Unavailable("cannot listen on " + where + ": " + reason +
                               (step == "bind" ? "" : " (" + std::string(step) + ")"));
  };
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("setsockopt");
  acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  port_ = acceptor_.local_endpoint(ec).port();
  spdlog::info("http: listening on {}:{}", options_.host, port_.load());
  return Status::Ok();
}

void Server::Impl::Run() {
  if (!acceptor_.is_open() && !stopping_) {
    spdlog::error("http: Server::Run called without a successful Listen");
    return;
  }
  running_ = true;
  asio::co_spawn(control_, AcceptLoop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("http: accept loop failed: {}", ex.what());
    }
  });
  if (options_.handle_signals) {
    signals_.emplace(control_, SIGINT, SIGTERM);
    signals_->async_wait([this](const error_code& ec, int signal_number) {
      if (ec) return;
      spdlog::info("http: signal {} received, shutting down (grace {} ms)", signal_number,
                   options_.shutdown_grace.count());
      Shutdown(options_.shutdown_grace);
    });
  }
  auto run = [this] {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http: unexpected exception on an io thread: {}", e.what());
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < options_.threads; ++i) threads.emplace_back(run);
  run();
  for (auto& t : threads) t.join();
  running_ = false;
  spdlog::info("http: server stopped");
}

void Server::Impl::Shutdown(Millis grace) {
  if (stopping_.exchange(true)) return;
  blocking_->Stop();  // queued blocking requests are answered 503; running ones finish
  auto closed = std::make_shared<std::promise<void>>();
  std::future<void> closed_future = closed->get_future();
  asio::post(control_, [this, grace, closed] {
    error_code ec;
    acceptor_.close(ec);
    accept_closed_ = true;
    closed->set_value();
    grace_timer_.expires_after(grace);
    grace_timer_.async_wait([this](const error_code& e) {
      if (!e) ForceCloseAll();
    });
    // Idle keep-alive connections go now; the others notice stopping_ after their response.
    ForEachSession([](const std::shared_ptr<Session>& s) {
      asio::post(s->executor, [s] {
        if (s->ws) {
          s->ws->GoingAway();
        } else if (s->state == Session::State::kIdle) {
          s->stream.cancel();
        }
      });
    });
    CheckDone();
  });
  // Waiting from an io thread could deadlock (the strand may need this very thread).
  if (running_ && !ioc_.get_executor().running_in_this_thread()) closed_future.wait();
}

void Server::Impl::ForEachSession(const std::function<void(const std::shared_ptr<Session>&)>& fn) {
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (const auto& s : live) fn(s);
}

void Server::Impl::ForceCloseAll() {
  ForEachSession([](const std::shared_ptr<Session>& s) {
    asio::post(s->executor, [s] {
      // A response being written is never cut off; its write timeout bounds it.
      if (s->ws) {
        s->ws->Abort();
      } else if (s->state != Session::State::kWriting && s->state != Session::State::kWebSocket) {
        s->stream.cancel();
      }
    });
  });
}

void Server::Impl::CheckDone() {
  if (!stopping_ || !accept_closed_ || finished_) return;
  {
    std::lock_guard lock(mu_);
    if (!sessions_.empty()) return;
  }
  finished_ = true;
  grace_timer_.cancel();
  if (signals_) signals_->cancel();
}

asio::awaitable<void> Server::Impl::AcceptLoop() {
  while (!stopping_ && acceptor_.is_open()) {
    tcp::socket socket(asio::make_strand(ioc_));
    auto [ec] = co_await acceptor_.async_accept(socket, kTuple);
    if (stopping_ || !acceptor_.is_open()) break;
    if (ec) {
      // E.g. out of file descriptors: back off instead of spinning.
      spdlog::warn("http: accept failed: {}", ec.message());
      asio::steady_timer pause(control_, std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    StartSession(std::move(socket));
  }
}

void Server::Impl::StartSession(tcp::socket socket) {
  error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  auto endpoint = socket.remote_endpoint(ec);
  auto s = std::make_shared<Session>(std::move(socket));
  s->remote_ip = ec ? "-" : endpoint.address().to_string();
  {
    std::lock_guard lock(mu_);
    s->id = next_session_id_++;
    sessions_[s->id] = s;
  }
  open_connections_.Add(1);
  auto executor = s->stream.get_executor();
  asio::co_spawn(executor, Serve(std::move(s)), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("http: connection failed: {}", ex.what());
    }
  });
}

asio::awaitable<void> Server::Impl::Serve(std::shared_ptr<Session> s) {
  beast::flat_buffer buffer;
  bool first = true;
  bool linger = false;
  for (;;) {
    if (buffer.size() == 0) {
      s->state = Session::State::kIdle;
      if (stopping_) break;
      // A fresh connection is expected to send its request promptly; a kept-alive one may idle.
      s->stream.expires_after(first ? options_.read_timeout : options_.idle_timeout);
      auto [ec, n] = co_await s->stream.async_read_some(buffer.prepare(kReadChunk), kTuple);
      if (ec) break;
      buffer.commit(n);
    }
    first = false;
    s->state = Session::State::kReading;
    auto [keep_alive, drain] = co_await HandleOne(*s, buffer);
    linger = drain;
    if (s->upgrade || !keep_alive || stopping_) break;
  }
  if (s->upgrade) {
    co_await RunWebSocket(s);
  } else {
    co_await Close(*s, linger);
  }
  {
    std::lock_guard lock(mu_);
    sessions_.erase(s->id);
  }
  open_connections_.Add(-1);
  if (stopping_) asio::post(control_, [this] { CheckDone(); });
}

asio::awaitable<void> Server::Impl::Close(Session& s, bool linger) {
  s.state = Session::State::kWriting;  // never interrupted by a forced shutdown; bounded below
  error_code ec;
  s.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (linger && !ec) {
    // The client may still be sending a body we refused; closing with unread input would reset
    // the connection and could destroy our response before the client reads it.
    s.stream.expires_after(std::min(options_.read_timeout, Millis(1000)));
    std::array<char, 4096> scratch;
    size_t drained = 0;
    while (drained < (1u << 20)) {
      auto [e, n] = co_await s.stream.async_read_some(asio::buffer(scratch), kTuple);
      if (e) break;
      drained += n;
    }
  }
  s.stream.close();
}

asio::awaitable<std::pair<bool, bool>> Server::Impl::HandleOne(Session& s,
                                                               beast::flat_buffer& buffer) {
  Exchange x;
  x.started = clock_.Now();
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(options_.header_limit, std::numeric_limits<std::uint32_t>::max())));
  // With per-target limits the Content-Length check waits until the target is known.
  if (options_.body_limit_for) {
    parser.body_limit(boost::none);
  } else {
    parser.body_limit(options_.body_limit);
  }

  // One deadline for headers and body together: trickling bytes does not extend it.
  s.stream.expires_after(options_.read_timeout);
  auto [ec, n] = co_await bhttp::async_read_header(s.stream, buffer, parser, kTuple);
  size_t body_limit = options_.body_limit;
  if (!ec && options_.body_limit_for) {
    body_limit = options_.body_limit_for(parser.get().target());
    auto length = parser.content_length();
    if (length && *length > body_limit) {
      ec = bhttp::error::body_limit;
    } else {
      parser.body_limit(body_limit);
    }
  }
  // A large upload goes to a file as it arrives instead of into memory.
  std::string body_file;
  bool body_file_done = false;
  if (!ec && !parser.is_done() && options_.stream_body_for && !options_.upload_dir.empty() &&
      options_.stream_body_for(parser.get().target())) {
    auto length = parser.content_length();
    if (!length) {
      s.stream.expires_never();
      co_await Write(
          s,
          Response::Error(bhttp::status::length_required, "length_required",
                          "an upload needs a Content-Length (no chunked encoding)", "body"),
          x, false);
      co_return std::pair{false, true};
    }
    if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
      auto [wec, wn] = co_await asio::async_write(s.stream, asio::buffer(kContinue), kTuple);
      ec = wec;
    }
    if (!ec) {
      auto [status, path] = co_await StreamBodyToFile(s, buffer, *length);
      if (status.ok()) {
        body_file = std::move(path);
        body_file_done = true;
      } else {
        s.stream.expires_never();
        if (!path.empty()) std::remove(path.c_str());
        if (status.code() == Status::Code::kUnavailable) {
          co_await Write(
              s,
              Response::Error(bhttp::status::service_unavailable, "unavailable", status.message()),
              x, false);
          co_return std::pair{false, true};
        }
        co_return std::pair{false, false};  // the client went away or stalled
      }
    }
  }
  if (!ec && !parser.is_done() && !body_file_done) {
    if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
      auto [wec, wn] = co_await asio::async_write(s.stream, asio::buffer(kContinue), kTuple);
      ec = wec;
    }
    if (!ec) std::tie(ec, n) = co_await bhttp::async_read(s.stream, buffer, parser, kTuple);
  }
  s.stream.expires_never();

  if (parser.is_header_done()) {
    const auto& msg = parser.get();
    x.method = MethodLabel(msg.method());
    x.log_target = LogTarget(msg.target());
    x.request_id = RequestIdFor(msg["X-Request-Id"]);
    x.api = IsApiPath(msg.target());
    x.head = msg.method() == bhttp::verb::head;
    x.version = msg.version() == 10 ? 10 : 11;
  } else {
    x.request_id = RequestIdFor("");
  }

  if (ec) {
    if (ec == bhttp::error::header_limit) {
      co_await Write(s,
                     Response::Error(bhttp::status::request_header_fields_too_large, "too_large",
                                     "request header fields are larger than " +
                                         std::to_string(options_.header_limit) + " bytes",
                                     "headers"),
                     x, false);
      co_return std::pair{false, true};
    }
    if (ec == bhttp::error::body_limit) {
      co_await Write(
          s,
          Response::Error(bhttp::status::payload_too_large, "too_large",
                          "request body is larger than " + std::to_string(body_limit) + " bytes",
                          "body"),
          x, false);
      co_return std::pair{false, true};
    }
    if (ec == beast::error::timeout) {
      spdlog::debug("http: {} read timeout ({} ms), closing", s.remote_ip,
                    options_.read_timeout.count());
      co_return std::pair{false, false};
    }
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec == asio::error::eof || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
        ec.category() == asio::error::get_system_category()) {
      co_return std::pair{false, false};
    }
    co_await Write(s,
                   Response::Error(bhttp::status::bad_request, "bad_request",
                                   "malformed HTTP request: " + ec.message()),
                   x, false);
    co_return std::pair{false, true};
  }

  auto& msg = parser.get();
  bool keep_alive = msg.keep_alive();
  std::optional<bhttp::request<bhttp::empty_body>> upgrade_request;
  if (beast::websocket::is_upgrade(msg)) {
    upgrade_request.emplace();
    upgrade_request->base() = msg.base();
  }
  Request request;
  request.method = msg.method();
  request.remote_ip = s.remote_ip;
  request.request_id = x.request_id;
  request.body = std::move(msg.body());
  request.body_file = body_file;
  // The upload is removed after the response unless the handler moved it away.
  struct RemoveFile {
    std::string path;
    ~RemoveFile() {
      if (!path.empty()) std::remove(path.c_str());
    }
  } remove_upload{body_file};
  Status target_status = ParseTarget(msg.target(), request);
  request.headers = std::move(static_cast<bhttp::fields&>(msg));

  Response response;
  if (!target_status.ok()) {
    response = x.api ? Response::Error(bhttp::status::bad_request, "bad_request",
                                       target_status.message(), target_status.field())
                     : Response::Text(bhttp::status::bad_request,
                                      "400 bad request: " + target_status.message() + "\n");
  } else if (upgrade_request) {
    UpgradeResult result = DispatchUpgrade(request);
    x.route = request.route.empty() ? "(unmatched)" : request.route;
    if (auto* accept = std::get_if<WebSocketAccept>(&result)) {
      if (stopping_) {
        response = Response::Error(bhttp::status::service_unavailable, "unavailable",
                                   "the server is shutting down");
      } else if (!AcquireWebSocketSlot(*accept)) {
        response = Response::Error(bhttp::status::too_many_requests, "rate_limited",
                                   "too many live connections open (at most " +
                                       std::to_string(accept->max_per_key) +
                                       " per user); close one first");
        response.SetHeader(bhttp::field::retry_after, "5");
      } else {
        s.upgrade.emplace(PendingUpgrade{std::move(*accept), std::move(*upgrade_request)});
        Record(x, 101, s.remote_ip);
        co_return std::pair{false, false};
      }
    } else {
      response = std::move(std::get<Response>(result));
    }
  } else {
    response = co_await Dispatch(request);
    x.route = request.route.empty() ? "(unmatched)" : request.route;
  }
  bool written = co_await Write(s, std::move(response), x, keep_alive && !stopping_);
  co_return std::pair{written && keep_alive, false};
}

asio::awaitable<std::pair<Status, std::string>> Server::Impl::StreamBodyToFile(
    Session& s, beast::flat_buffer& buffer, uint64_t length) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char name[48];
  std::snprintf(name, sizeof name, "upload-%016llx.part", static_cast<unsigned long long>(rng()));
  std::string path = options_.upload_dir + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wbx");  // x: never an existing file
  if (f == nullptr) {
    spdlog::error("http: cannot create {}: {}", path, std::strerror(errno));
    co_return std::pair{Status::Unavailable("the upload cannot be stored on this server"),
                        std::string()};
  }
  struct Closer {
    std::FILE* f;
    ~Closer() {
      if (f) std::fclose(f);
    }
  } closer{f};
  uint64_t left = length;
  auto put = [&](const void* data, size_t n) { return std::fwrite(data, 1, n, f) == n; };
  // Bytes that came with the headers.
  {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), left));
    if (n > 0 && !put(buffer.data().data(), n)) {
      co_return std::pair{Status::Unavailable("the upload cannot be stored on this server"), path};
    }
    buffer.consume(n);
    left -= n;
  }
  // The rest, with a deadline that moves only when enough arrives (no slow drip).
  constexpr uint64_t kMinProgress = 16 << 10;
  std::vector<char> scratch(64 << 10);
  uint64_t since_deadline = 0;
  s.stream.expires_after(options_.read_timeout);
  while (left > 0) {
    if (stopping_) {
      co_return std::pair{Status::Unavailable("the server is shutting down"), path};
    }
    const size_t want = static_cast<size_t>(std::min<uint64_t>(scratch.size(), left));
    auto [ec, n] = co_await s.stream.async_read_some(asio::buffer(scratch.data(), want), kTuple);
    if (ec)
      co_return std::pair{Status::DeadlineExceeded("upload interrupted: " + ec.message()), path};
    if (!put(scratch.data(), n)) {
      co_return std::pair{Status::Unavailable("the upload cannot be stored on this server"), path};
    }
    left -= n;
    since_deadline += n;
    if (since_deadline >= kMinProgress) {
      s.stream.expires_after(options_.read_timeout);
      since_deadline = 0;
    }
  }
  s.stream.expires_never();
  if (std::fflush(f) != 0) {
    co_return std::pair{Status::Unavailable("the upload cannot be stored on this server"), path};
  }
  co_return std::pair{Status::Ok(), path};
}

UpgradeResult Server::Impl::DispatchUpgrade(Request& request) {
  try {
    return router_.DispatchUpgrade(request);
  } catch (const std::exception& e) {
    spdlog::error("http: upgrade handler for {} threw: {} (request {})", request.route, e.what(),
                  request.request_id);
  } catch (...) {
    spdlog::error("http: upgrade handler for {} threw a non-exception (request {})", request.route,
                  request.request_id);
  }
  return Response::Error(bhttp::status::internal_server_error, "internal",
                         "internal error; request id " + request.request_id);
}

bool Server::Impl::AcquireWebSocketSlot(const WebSocketAccept& accept) {
  if (accept.limit_key.empty()) return true;
  std::lock_guard lock(mu_);
  int& open = websockets_per_key_[accept.limit_key];
  if (open >= accept.max_per_key) {
    if (open == 0) websockets_per_key_.erase(accept.limit_key);
    return false;
  }
  ++open;
  return true;
}

void Server::Impl::ReleaseWebSocketSlot(const std::string& key) {
  if (key.empty()) return;
  std::lock_guard lock(mu_);
  auto it = websockets_per_key_.find(key);
  if (it != websockets_per_key_.end() && --it->second <= 0) websockets_per_key_.erase(it);
}

asio::awaitable<void> Server::Impl::RunWebSocket(std::shared_ptr<Session> s) {
  PendingUpgrade pending = std::move(*s->upgrade);
  s->upgrade.reset();
  std::string key = pending.accept.limit_key;
  s->state = Session::State::kWebSocket;
  s->ws = std::make_shared<WebSocketSession>(std::move(s->stream), std::move(pending.accept),
                                             s->remote_ip);
  if (stopping_) s->ws->GoingAway();
  open_websockets_.Add(1);
  co_await s->ws->Run(std::move(pending.request));
  open_websockets_.Add(-1);
  ReleaseWebSocketSlot(key);
}

void Server::Impl::Record(const Exchange& x, int status, std::string_view remote_ip) {
  double seconds = std::chrono::duration<double>(clock_.Now() - x.started).count();
  if (seconds < 0) seconds = 0;
  metrics_.ObserveHttpRequest(x.method, x.route, status, seconds);
  if (options_.access_log) {
    spdlog::info("http: {} {} {} 0B {:.1f}ms id={} ip={}", x.method, x.log_target, status,
                 seconds * 1000, x.request_id, remote_ip);
  }
}

Response Server::Impl::InternalError(const Request& request) {
  return Response::Error(bhttp::status::internal_server_error, "internal",
                         "internal error; request id " + request.request_id);
}

asio::awaitable<Response> Server::Impl::Dispatch(Request& request) {
  std::variant<const Route*, Response> found;
  try {
    found = router_.Resolve(request);  // runs the fallback (static files) when no route matches
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} {} threw: {} (request {})",
                  bhttp::to_string(request.method), request.route, e.what(), request.request_id);
    co_return InternalError(request);
  } catch (...) {
    spdlog::error("http: handler for {} {} threw a non-exception (request {})",
                  bhttp::to_string(request.method), request.route, request.request_id);
    co_return InternalError(request);
  }
  if (auto* response = std::get_if<Response>(&found)) co_return std::move(*response);
  const Route& route = *std::get<const Route*>(found);
  if (!route.doc.blocking) co_return RunHandler(route, request);
  co_return co_await RunBlocking(route, request);
}

Response Server::Impl::RunHandler(const Route& route, Request& request) {
  try {
    return route.handler(request);
  } catch (const std::exception& e) {
    spdlog::error("http: handler for {} {} threw: {} (request {})",
                  bhttp::to_string(request.method), request.route, e.what(), request.request_id);
  } catch (...) {
    spdlog::error("http: handler for {} {} threw a non-exception (request {})",
                  bhttp::to_string(request.method), request.route, request.request_id);
  }
  return InternalError(request);
}

asio::awaitable<Response> Server::Impl::RunBlocking(const Route& route, Request& request) {
  auto unavailable = [](std::string message) {
    Response r = Response::Error(bhttp::status::service_unavailable, "unavailable", message);
    r.SetHeader(bhttp::field::retry_after, "5");
    return r;
  };
  if (stopping_) co_return unavailable("the server is shutting down");
  asio::any_io_executor executor = co_await asio::this_coro::executor;
  Response response;
  // `request` and `response` live in this coroutine's frame, which stays suspended (and alive)
  // until the completion below is posted: the pool thread is the only one touching them until
  // then, and posting through the executor orders its writes before the coroutine reads them.
  co_await asio::async_initiate<const asio::use_awaitable_t<>, void()>(
      [&](auto completion) {
        using Completion = decltype(completion);
        struct Waiter {
          std::optional<Completion> completion;
          asio::any_io_executor executor;
          // Keeps ioc_.run() from returning while a handler is out on the pool.
          asio::executor_work_guard<asio::any_io_executor> work;
          void Resume() {
            asio::post(executor, std::move(*completion));
            completion.reset();
            work.reset();
          }
        };
        auto waiter = std::make_shared<Waiter>(
            Waiter{std::move(completion), executor, asio::make_work_guard(executor)});
        BlockingPool::Job job;
        job.run = [this, waiter, &route, &request, &response] {
          blocking_queued_.Add(-1);
          blocking_running_.Add(1);
          response = RunHandler(route, request);
          blocking_running_.Add(-1);
          waiter->Resume();
        };
        job.cancel = [this, waiter, &response, unavailable] {
          blocking_queued_.Add(-1);
          response = unavailable("the server is shutting down");
          waiter->Resume();
        };
        blocking_queued_.Add(1);
        if (blocking_->Submit(std::move(job))) return;
        blocking_queued_.Add(-1);
        blocking_rejected_.Inc();
        spdlog::warn(
            "http: {} {} refused: all {} blocking threads busy and {} requests waiting "
            "(request {})",
            bhttp::to_string(request.method), request.route, blocking_->threads(),
            blocking_->queue_limit(), request.request_id);
        response = unavailable(
            "too many slow requests (mail server checks, test sends) are in progress on this "
            "server; try again in a few seconds");
        waiter->Resume();
      },
      asio::use_awaitable);
  co_return response;
}

asio::awaitable<bool> Server::Impl::Write(Session& s, Response response, const Exchange& x,
                                          bool keep_alive) {
  AddStandardHeaders(response, x.request_id, x.api);
  bhttp::response<bhttp::string_body> res;
  static_cast<bhttp::fields&>(res) = std::move(response.headers);
  res.result(response.status);
  res.version(x.version);
  res.keep_alive(keep_alive);
  const bool bodiless =
      bhttp::to_status_class(response.status) == bhttp::status_class::informational ||
      response.status == bhttp::status::no_content ||
      response.status == bhttp::status::not_modified;
  if (!bodiless) res.body() = std::move(response.body);
  res.prepare_payload();
  size_t bytes = res.body().size();
  if (x.head) res.body().clear();  // Content-Length still announces the GET body's size

  s.state = Session::State::kWriting;
  s.stream.expires_after(options_.write_timeout);
  auto [ec, n] = co_await bhttp::async_write(s.stream, res, kTuple);
  s.stream.expires_never();

  int status = static_cast<int>(response.status);
  double seconds = std::chrono::duration<double>(clock_.Now() - x.started).count();
  if (seconds < 0) seconds = 0;
  metrics_.ObserveHttpRequest(x.method, x.route, status, seconds);
  if (options_.access_log) {
    spdlog::info("http: {} {} {} {}B {:.1f}ms id={} ip={}{}", x.method, x.log_target, status, bytes,
                 seconds * 1000, x.request_id, s.remote_ip, ec ? " (write failed)" : "");
  }
  co_return !ec;
}

Server::Server(ServerOptions options, const Router& router, Metrics& metrics, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics, clock)) {}
Server::~Server() = default;
Status Server::Listen() { return impl_->Listen(); }
uint16_t Server::port() const { return impl_->port(); }
void Server::Run() { impl_->Run(); }
void Server::Shutdown(Millis grace) { impl_->Shutdown(grace); }

}  // namespace kiln::http
