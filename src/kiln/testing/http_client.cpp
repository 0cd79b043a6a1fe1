#include "kiln/testing/http_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace kiln::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

bool SameName(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

}  // namespace

std::string ClientResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (SameName(k, name)) return v;
  }
  return {};
}

bool ClientResponse::HasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (SameName(k, name)) return true;
  }
  return false;
}

std::vector<std::string> ClientResponse::Headers(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (SameName(k, name)) out.push_back(v);
  }
  return out;
}

struct HttpClient::Conn {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;

  // Runs one asynchronous operation to completion on this thread.
  template <typename Start>
  error_code Run(Start&& start) {
    error_code result;
    start([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }
};

HttpClient::HttpClient(std::string host, uint16_t port) : host_(std::move(host)), port_(port) {}
HttpClient::~HttpClient() = default;

void HttpClient::Close() {
  if (conn_) {
    error_code ec;
    conn_->stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    conn_->stream.close();
  }
  conn_.reset();
}

Result<ClientResponse> HttpClient::Send(std::string_view method, std::string_view target,
                                        std::string_view body, const HeaderList& headers) {
  bool reused = false;
  bool got_bytes = false;
  auto r = SendOnce(method, target, body, headers, &reused, &got_bytes);
  if (!r.ok() && reused && !got_bytes && r.status().code() == Status::Code::kUnavailable) {
    r = SendOnce(method, target, body, headers, &reused, &got_bytes);
  }
  if (r.ok()) RememberCookies(*r);
  return r;
}

Result<ClientResponse> HttpClient::SendOnce(std::string_view method, std::string_view target,
                                            std::string_view body, const HeaderList& headers,
                                            bool* reused, bool* got_bytes) {
  const std::string where =
      host_ + ":" + std::to_string(port_) + " " + std::string(method) + " " + std::string(target);
  *reused = conn_ != nullptr;
  *got_bytes = false;
  if (!conn_) {
    error_code ec;
    auto address = asio::ip::make_address(host_, ec);
    if (ec) return Status::InvalidArgument("HttpClient needs an IP address, got " + host_, "host");
    auto conn = std::make_unique<Conn>();
    conn->stream.expires_after(timeout_);
    ec = conn->Run([&](auto handler) {
      conn->stream.async_connect(tcp::endpoint(address, port_), std::move(handler));
    });
    if (ec) return Status::Unavailable(where + ": cannot connect: " + ec.message());
    conn->stream.socket().set_option(tcp::no_delay(true), ec);
    conn_ = std::move(conn);
    ++connections_opened_;
  }
  Conn& c = *conn_;

  bhttp::request<bhttp::string_body> req;
  bhttp::verb verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, host_ + ":" + std::to_string(port_));
  bool explicit_length = false;
  for (const auto& [k, v] : headers) {
    if (SameName(k, "Content-Length") || SameName(k, "Transfer-Encoding")) explicit_length = true;
  }
  req.body() = std::string(body);
  if (!explicit_length && (!body.empty() || verb == bhttp::verb::post || verb == bhttp::verb::put ||
                           verb == bhttp::verb::patch)) {
    req.prepare_payload();
  }
  if (cookies_enabled_ && !cookies_.empty()) {
    std::string cookie;
    for (const auto& [k, v] : cookies_) {
      if (!cookie.empty()) cookie += "; ";
      cookie += k + "=" + v;
    }
    req.set(bhttp::field::cookie, cookie);
  }
  for (const auto& [k, v] : headers) req.set(k, v);

  c.stream.expires_after(timeout_);
  error_code ec =
      c.Run([&](auto handler) { bhttp::async_write(c.stream, req, std::move(handler)); });
  auto fail = [&](std::string_view step) -> Status {
    std::string msg = where + ": " + std::string(step) + ": " + ec.message();
    Close();
    if (ec == beast::error::timeout) return Status::DeadlineExceeded(msg);
    return Status::Unavailable(msg);
  };
  if (ec) return fail("write");

  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(boost::none);
  parser.header_limit(1 << 20);
  if (verb == bhttp::verb::head) parser.skip(true);
  ec = c.Run(
      [&](auto handler) { bhttp::async_read(c.stream, c.buffer, parser, std::move(handler)); });
  *got_bytes = parser.got_some();
  if (ec) return fail("read");
  c.stream.expires_never();

  auto& msg = parser.get();
  ClientResponse out;
  out.status = static_cast<int>(msg.result_int());
  for (const auto& field : msg) {
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.body = std::move(msg.body());
  out.keep_alive = msg.keep_alive();
  if (!out.keep_alive) Close();
  return out;
}

void HttpClient::RememberCookies(const ClientResponse& r) {
  if (!cookies_enabled_) return;
  for (const std::string& set_cookie : r.Headers("Set-Cookie")) {
    std::string_view sv = set_cookie;
    std::string_view pair = sv.substr(0, sv.find(';'));
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name(pair.substr(0, eq));
    std::string value(pair.substr(eq + 1));
    std::string lower(sv);
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (value.empty() || lower.find("max-age=0") != std::string::npos) {
      cookies_.erase(name);
    } else {
      cookies_[name] = value;
    }
  }
}

}  // namespace kiln::testing
