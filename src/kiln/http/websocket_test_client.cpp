#include "kiln/http/websocket_test_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace kiln::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

struct TestWebSocket::Impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
  std::thread thread;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> frames;  // guarded by mu
  bool ended = false;              // guarded by mu
  std::string end_reason;          // guarded by mu
  int close_code = 0;              // guarded by mu

  void ReadNext() {
    ws.async_read(buffer, [this](error_code ec, size_t) {
      std::lock_guard lock(mu);
      if (ec) {
        ended = true;
        close_code = ws.reason().code;
        end_reason = ec.message() + " (close code " + std::to_string(close_code) + ")";
        cv.notify_all();
        return;
      }
      frames.push_back(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      cv.notify_all();
      ReadNext();
    });
  }
};

Result<std::unique_ptr<TestWebSocket>> TestWebSocket::Connect(uint16_t port,
                                                              const std::string& target,
                                                              const Options& options, int* status,
                                                              std::string* body) {
  auto impl = std::make_unique<Impl>();
  auto& socket = beast::get_lowest_layer(impl->ws).socket();
  error_code ec;
  socket.open(asio::ip::tcp::v4(), ec);
  if (!ec && options.receive_buffer > 0) {
    socket.set_option(asio::socket_base::receive_buffer_size(options.receive_buffer), ec);
  }
  if (!ec) {
    socket.connect({asio::ip::make_address_v4("127.0.0.1"), port}, ec);
  }
  if (ec)
    return Status::Unavailable("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " +
                               ec.message());
  Headers headers = options.headers;
  impl->ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [name, value] : headers) req.set(name, value);
  }));
  beast::get_lowest_layer(impl->ws).expires_after(std::chrono::seconds(10));
  websocket::response_type res;
  impl->ws.handshake(res, "127.0.0.1:" + std::to_string(port), target, ec);
  beast::get_lowest_layer(impl->ws).expires_never();
  if (status) *status = static_cast<int>(res.result_int());
  if (body) *body = res.body();
  if (ec) {
    if (res.result_int() != 0 && res.result_int() != 101) {
      return Status::PermissionDenied("handshake refused: " + std::to_string(res.result_int()));
    }
    return Status::Unavailable("handshake failed: " + ec.message());
  }
  Impl* raw = impl.get();
  if (options.read) raw->ReadNext();  // pings are answered inside reads
  raw->thread = std::thread([raw] {
    auto guard = asio::make_work_guard(raw->ioc);
    raw->ioc.run();
  });
  return std::unique_ptr<TestWebSocket>(new TestWebSocket(std::move(impl)));
}

TestWebSocket::TestWebSocket(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TestWebSocket::~TestWebSocket() {
  asio::post(impl_->ioc, [impl = impl_.get()] {
    error_code ignored;
    beast::get_lowest_layer(impl->ws).socket().close(ignored);
    impl->ioc.stop();
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<std::string> TestWebSocket::Read(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, timeout, [&] { return !impl_->frames.empty() || impl_->ended; });
  if (!impl_->frames.empty()) {
    std::string frame = std::move(impl_->frames.front());
    impl_->frames.pop_front();
    return frame;
  }
  if (impl_->ended) return Status::Unavailable("connection ended: " + impl_->end_reason);
  return Status::DeadlineExceeded("no frame within " + std::to_string(timeout.count()) + " ms");
}

bool TestWebSocket::WaitClosed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->ended; });
}

int TestWebSocket::close_code() const {
  std::lock_guard lock(impl_->mu);
  return impl_->close_code;
}

void TestWebSocket::Close() {
  asio::post(impl_->ioc, [impl = impl_.get()] {
    impl->ws.async_close(websocket::close_code::normal, [](error_code) {});
  });
  WaitClosed(std::chrono::seconds(2));
}

}  // namespace kiln::http
