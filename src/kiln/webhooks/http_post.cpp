#include "kiln/webhooks/http_post.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

namespace kiln::webhooks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::awaitable;
using asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxReadBytes = 1 << 20;

struct Exchange {
  const TargetUrl& url;
  const std::vector<tcp::endpoint>& endpoints;
  const std::vector<std::pair<std::string, std::string>>& headers;
  const std::string& body;
  const PostOptions& options;
  std::optional<Result<PostResult>> result;

  Status Fail(std::string stage, const boost::system::error_code& ec) {
    if (ec == beast::error::timeout) {
      return Status::DeadlineExceeded("no answer from " + url.Origin() + " within " +
                                      std::to_string(options.timeout.count()) + " ms (" + stage +
                                      ")");
    }
    return Status::Unavailable(stage + " " + url.Origin() + ": " + ec.message());
  }

  bhttp::request<bhttp::string_body> Request() const {
    bhttp::request<bhttp::string_body> req{bhttp::verb::post, url.target, 11};
    const bool default_port = url.port == (url.https ? 443 : 80);
    std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
    req.set(bhttp::field::host, default_port ? host : host + ":" + std::to_string(url.port));
    req.set(bhttp::field::user_agent, "Kiln-Webhooks/1");
    req.set(bhttp::field::content_type, "application/json");
    req.set(bhttp::field::connection, "close");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    req.prepare_payload();
    return req;
  }

  template <typename Stream>
  awaitable<Result<PostResult>> WriteAndRead(Stream& stream) {
    auto req = Request();
    auto [wec, written] = co_await bhttp::async_write(stream, req, kTuple);
    (void)written;
    if (wec) co_return Fail("sending the request to", wec);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxReadBytes);
    auto [rec, read] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    (void)read;
    if (rec && !(rec == bhttp::error::body_limit && parser.is_header_done())) {
      co_return Fail("reading the answer of", rec);
    }
    PostResult out;
    out.status = static_cast<int>(parser.get().result_int());
    out.body = parser.get().body().substr(0, options.max_body_bytes);
    co_return out;
  }

  awaitable<void> Run(asio::io_context& io) {
    beast::tcp_stream tcp_stream(io);
    tcp_stream.expires_after(options.timeout);
    auto [cec, ep] = co_await tcp_stream.async_connect(endpoints, kTuple);
    (void)ep;
    if (cec) {
      result = Fail("connect to", cec);
      co_return;
    }
    if (!url.https) {
      result = co_await WriteAndRead(tcp_stream);
      boost::system::error_code ignored;
      tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    ctx.set_default_verify_paths(ec);
    if (!options.ca_file.empty()) {
      ctx.load_verify_file(options.ca_file, ec);
      if (ec) {
        result = Status::FailedPrecondition("cannot load CA file " + options.ca_file + ": " +
                                            ec.message());
        co_return;
      }
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), ctx);
    SSL* ssl = stream.native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    boost::system::error_code lit;
    asio::ip::make_address(url.host, lit);
    if (!lit) {
      X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl, url.host.c_str());
      X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
    }
    stream.set_verify_mode(asio::ssl::verify_peer);
    auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, kTuple);
    if (hec) {
      result = Fail("TLS handshake with", hec);
      co_return;
    }
    result = co_await WriteAndRead(stream);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
    auto [sec] = co_await stream.async_shutdown(kTuple);
    (void)sec;  // many servers close without a TLS close_notify; the answer is already in hand
  }
};

}  // namespace

Result<PostResult> PostJson(const TargetUrl& url, const std::vector<tcp::endpoint>& endpoints,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            const std::string& body, const PostOptions& options) {
  if (endpoints.empty()) return Status::InvalidArgument("no address to send to");
  Exchange ex{url, endpoints, headers, body, options, std::nullopt};
  asio::io_context io;
  asio::co_spawn(io, ex.Run(io), [&](std::exception_ptr e) {
    if (e && !ex.result) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& err) {
        ex.result = Status::Internal(std::string("webhook POST failed: ") + err.what());
      }
    }
  });
  io.run();
  if (!ex.result) return Status::Internal("webhook POST ended without a result");
  return std::move(*ex.result);
}

}  // namespace kiln::webhooks
