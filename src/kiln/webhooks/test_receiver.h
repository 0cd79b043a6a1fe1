// TestReceiver (tests only): a webhook receiver on 127.0.0.1 (Beast on its own thread) that records
// every request and answers the statuses it is told to, in order (then 200). Held (Hold()), it
// records each request as it comes but answers nothing until Release(), like a receiver that hangs;
// destroyed while held, it closes the connection unanswered. Requests are served one at a time.
// Thread-safety: all public functions may be called from any thread.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kiln::webhooks::testing {

class TestReceiver {
 public:
  struct Hit {
    std::string target, signature, event_id, content_type, body;
    std::chrono::steady_clock::time_point at;
    int answered = 0;
  };

  explicit TestReceiver(std::deque<int> statuses = {}) : statuses_(std::move(statuses)) {
    namespace asio = boost::asio;
    acceptor_.open(asio::ip::tcp::v4());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, Accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestReceiver() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  // From now on requests are recorded but not answered until Release().
  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  // Answers the request being held (if any) and every later one.
  void Release() {
    {
      std::lock_guard lock(mu_);
      held_ = false;
    }
    boost::asio::post(io_, [this] { release_.cancel(); });
  }

  int port() const { return port_; }
  std::string Url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // Waits up to `timeout` until at least n requests have come.
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return hits_.size() >= n; });
  }
  std::vector<Hit> hits() const {
    std::lock_guard lock(mu_);
    return hits_;
  }

 private:
  boost::asio::awaitable<void> Accept() {
    namespace asio = boost::asio;
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      co_await Serve(std::move(socket));
    }
  }
  boost::asio::awaitable<void> Serve(boost::asio::ip::tcp::socket socket) {
    namespace asio = boost::asio;
    namespace http = boost::beast::http;
    boost::beast::tcp_stream stream(std::move(socket));
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> req;
    stream.expires_after(std::chrono::seconds(10));
    auto [ec, n] =
        co_await http::async_read(stream, buffer, req, asio::as_tuple(asio::use_awaitable));
    (void)n;
    if (ec) co_return;
    Hit hit;
    hit.target = std::string(req.target());
    hit.signature = std::string(req["Kiln-Signature"]);
    hit.event_id = std::string(req["Kiln-Event-Id"]);
    hit.content_type = std::string(req[http::field::content_type]);
    hit.body = req.body();
    hit.at = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(mu_);
      hit.answered = 200;
      if (!statuses_.empty()) {
        hit.answered = statuses_.front();
        statuses_.pop_front();
      }
    }
    http::response<http::string_body> res{static_cast<http::status>(hit.answered), 11};
    res.set(http::field::content_type, "text/plain");
    res.body() = hit.answered < 300 ? "ok" : "try later";
    res.prepare_payload();
    res.keep_alive(false);
    {
      std::lock_guard lock(mu_);
      hits_.push_back(hit);
    }
    cv_.notify_all();
    bool held = false;
    {
      std::lock_guard lock(mu_);
      held = held_;
    }
    if (held) {
      // Release() cancels the wait on this thread, so it cannot slip in between.
      release_.expires_at(asio::steady_timer::time_point::max());
      auto [tec] = co_await release_.async_wait(asio::as_tuple(asio::use_awaitable));
      (void)tec;
      stream.expires_after(std::chrono::seconds(10));
    }
    auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    (void)wec;
    (void)wn;
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  boost::asio::steady_timer release_{io_};  // a held request waits on it (io_ thread only)
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> statuses_;
  bool held_ = false;
  std::vector<Hit> hits_;
};

}  // namespace kiln::webhooks::testing
