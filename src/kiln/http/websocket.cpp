#include "kiln/http/websocket.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <optional>

#include "kiln/http/websocket_session.h"

namespace kiln::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using boost::system::error_code;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// Clients have nothing to say on Kiln's streams; a big incoming message is a misbehaving client.
constexpr size_t kMaxIncomingMessage = 4096;
// The opening and the closing handshakes must each complete within this.
constexpr std::chrono::seconds kHandshakeTimeout{5};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "scheme://host[:port]" of an absolute http(s)/ws(s) URL, lowercased, the scheme's default port
// omitted (as browsers send Origin); nullopt when `url` is not one.
std::optional<std::string> OriginOf(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || !parsed->has_authority() || parsed->host().empty()) return std::nullopt;
  std::string scheme = Lower(parsed->scheme());
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string origin = scheme + "://" + Lower(parsed->encoded_host());
  if (parsed->has_port()) {
    std::string_view port = parsed->port();
    bool is_default = (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
    if (!is_default && !port.empty()) origin += ":" + std::string(port);
  }
  return origin;
}

}  // namespace

bool IsWebSocketUpgrade(const Request& request) {
  if (request.method != bhttp::verb::get) return false;
  std::string upgrade = Lower(request.Header(bhttp::field::upgrade));
  std::string connection = Lower(request.Header(bhttp::field::connection));
  return upgrade.find("websocket") != std::string::npos &&
         connection.find("upgrade") != std::string::npos;
}

Status CheckWebSocketOrigin(const Request& request, std::string_view public_url) {
  std::string_view origin_header = request.Header(bhttp::field::origin);
  if (origin_header.empty()) return Status::Ok();
  auto refuse = [&] {
    std::string shown(origin_header.substr(0, 200));
    return Status::PermissionDenied("WebSocket connections from origin '" + shown +
                                    "' are not allowed; open the dashboard from this server");
  };
  auto origin = OriginOf(origin_header);
  if (!origin) return refuse();
  if (!public_url.empty()) {
    auto allowed = OriginOf(public_url);
    if (allowed && *allowed == *origin) return Status::Ok();
  }
  std::string host = Lower(request.Header(bhttp::field::host));
  size_t authority = origin->find("://") + 3;
  std::string origin_authority = origin->substr(authority);
  // Host may carry the default port explicitly while Origin never does.
  if (!host.empty() && (host == origin_authority || host == origin_authority + ":80" ||
                        host == origin_authority + ":443")) {
    bool default_port_matches_scheme = host == origin_authority ||
                                       (host.ends_with(":80") && origin->starts_with("http:")) ||
                                       (host.ends_with(":443") && origin->starts_with("https:"));
    if (default_port_matches_scheme) return Status::Ok();
  }
  return refuse();
}

bool WebSocketChannelState::Send(std::string text) {
  if (closed_) return false;
  size_t queued = 0;
  {
    std::lock_guard lock(mu_);
    if (!attached_ || close_code_ != 0) return false;
    queued = queued_bytes_;
    if (queued_bytes_ + text.size() <= limit_) {
      queued_bytes_ += text.size();
      queue_.push_back(std::move(text));
      PostLocked([](WebSocketSession& s) { s.Wake(); });
      return true;
    }
  }
  spdlog::warn(
      "websocket: {} is not keeping up ({} bytes queued, limit {}): dropping the connection",
      remote_ip_, queued, limit_);
  Abort();
  return false;
}

void WebSocketChannelState::Close() {
  StartClose(static_cast<uint16_t>(websocket::close_code::normal));
}

void WebSocketChannelState::StartClose(uint16_t code) {
  std::lock_guard lock(mu_);
  if (closed_ || close_code_ != 0) return;
  close_code_ = code;
  closed_ = true;
  PostLocked([](WebSocketSession& s) { s.Wake(); });
}

void WebSocketChannelState::Abort() {
  std::lock_guard lock(mu_);
  closed_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  PostLocked([](WebSocketSession& s) { s.CloseSocket(); });
}

void WebSocketChannelState::Attach(asio::any_io_executor executor,
                                   std::weak_ptr<WebSocketSession> session) {
  std::lock_guard lock(mu_);
  attached_ = true;
  executor_ = std::move(executor);
  session_ = std::move(session);
}

void WebSocketChannelState::Detach() {
  std::lock_guard lock(mu_);
  attached_ = false;
  closed_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  executor_ = {};
}

std::optional<std::string> WebSocketChannelState::Next(uint16_t* close_code) {
  std::lock_guard lock(mu_);
  *close_code = 0;
  if (!queue_.empty()) {
    std::string frame = std::move(queue_.front());
    queue_.pop_front();
    return frame;
  }
  *close_code = close_code_;
  return std::nullopt;
}

void WebSocketChannelState::Written(size_t bytes) {
  std::lock_guard lock(mu_);
  queued_bytes_ -= std::min(bytes, queued_bytes_);
}

void WebSocketChannelState::PostLocked(void (*fn)(WebSocketSession&)) {
  // While attached, the session's Run has not returned, so its io_context is still running.
  if (!attached_) return;
  asio::post(executor_, [weak = session_, fn] {
    if (auto session = weak.lock()) fn(*session);
  });
}

WebSocketSession::WebSocketSession(beast::tcp_stream stream, WebSocketAccept accept,
                                   std::string remote_ip)
    : ws_(std::move(stream)),
      accept_(std::move(accept)),
      remote_ip_(std::move(remote_ip)),
      channel_(std::make_shared<WebSocketChannelState>(accept_.send_buffer_limit, remote_ip_)),
      wake_(ws_.get_executor()),
      write_done_(ws_.get_executor()) {}

asio::awaitable<bool> WebSocketSession::Run(bhttp::request<bhttp::empty_body> upgrade) {
  auto self = shared_from_this();
  channel_->Attach(ws_.get_executor(), weak_from_this());
  beast::get_lowest_layer(ws_).expires_never();  // the websocket stream keeps its own timeouts
  websocket::stream_base::timeout timeouts;
  timeouts.handshake_timeout = kHandshakeTimeout;
  timeouts.idle_timeout = accept_.idle_timeout;
  timeouts.keep_alive_pings = true;
  ws_.set_option(timeouts);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(bhttp::field::server, "kiln"); }));
  ws_.read_message_max(kMaxIncomingMessage);
  ws_.auto_fragment(false);
  ws_.text(true);

  auto [ec] = co_await ws_.async_accept(upgrade, kTuple);
  if (ec) {
    spdlog::debug("websocket: {} handshake failed: {}", remote_ip_, ec.message());
    channel_->Detach();
    CloseSocket();
    co_return false;
  }
  accept_.on_open(channel_);

  writer_running_ = true;
  asio::co_spawn(ws_.get_executor(), WriteLoop(), [self](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("websocket: writer failed: {}", ex.what());
      }
    }
    self->writer_running_ = false;
    self->write_done_.cancel();
  });

  beast::flat_buffer buffer;
  for (;;) {
    auto [read_ec, n] = co_await ws_.async_read(buffer, kTuple);
    if (read_ec) {
      if (read_ec == beast::error::timeout) {
        spdlog::info("websocket: {} answered nothing for {} ms: closed", remote_ip_,
                     accept_.idle_timeout.count());
      }
      break;
    }
    buffer.consume(n);
  }
  reader_done_ = true;
  channel_->Detach();
  wake_.cancel();
  while (writer_running_) {
    write_done_.expires_at(asio::steady_timer::time_point::max());
    co_await write_done_.async_wait(kTuple);
  }
  CloseSocket();
  co_return true;
}

asio::awaitable<void> WebSocketSession::WriteLoop() {
  for (;;) {
    if (reader_done_) co_return;  // nothing more can be written
    uint16_t close_code = 0;
    std::optional<std::string> frame = channel_->Next(&close_code);
    if (!frame) {
      if (close_code != 0) {
        auto [ec] = co_await ws_.async_close(websocket::close_reason(close_code), kTuple);
        if (ec) CloseSocket();
        co_return;
      }
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(kTuple);
      continue;
    }
    auto [ec, n] = co_await ws_.async_write(asio::buffer(*frame), kTuple);
    if (ec) {
      CloseSocket();
      co_return;
    }
    channel_->Written(frame->size());
  }
}

void WebSocketSession::GoingAway() {
  channel_->StartClose(static_cast<uint16_t>(websocket::close_code::going_away));
}

void WebSocketSession::Abort() { channel_->Abort(); }

void WebSocketSession::CloseSocket() {
  error_code ignored;
  auto& socket = beast::get_lowest_layer(ws_).socket();
  if (!socket.is_open()) return;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
  wake_.cancel();
}

}  // namespace kiln::http
