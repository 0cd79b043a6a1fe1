// HttpClient: a small blocking HTTP/1.1 client for tests (Beast underneath, kept out of this
// header). It keeps one connection alive between requests and reconnects when the server closed
// it; an optional cookie jar stores Set-Cookie values and sends them back.
//
// Only for talking to servers on 127.0.0.0/8 in tests. Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/base/status.h"

namespace kiln::testing {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ClientResponse {
  int status = 0;
  HeaderList headers;  // in the order received
  std::string body;
  bool keep_alive = false;  // the server left the connection open

  // The first header named `name` (case-insensitive), or "" when absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // Every header named `name` (e.g. several Set-Cookie).
  std::vector<std::string> Headers(std::string_view name) const;
};

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads the whole response. Adds Host, and Content-Length when there is
  // a body; `headers` may override both. Reuses the open connection; if a reused connection turns
  // out to be closed by the server before any response byte, retries once on a new connection.
  // Fails with Unavailable (cannot connect, connection lost) or DeadlineExceeded (no complete
  // response within timeout()); the message names host:port, method and target.
  Result<ClientResponse> Send(std::string_view method, std::string_view target,
                              std::string_view body = {}, const HeaderList& headers = {});
  Result<ClientResponse> Get(std::string_view target, const HeaderList& headers = {}) {
    return Send("GET", target, {}, headers);
  }
  Result<ClientResponse> Post(std::string_view target, std::string_view body,
                              const HeaderList& headers = {{"Content-Type", "application/json"}}) {
    return Send("POST", target, body, headers);
  }

  // Cookie jar: off by default. When on, Set-Cookie name=value pairs are kept (Max-Age=0 or an
  // empty value deletes) and sent as a Cookie header on every request.
  void EnableCookies(bool on) { cookies_enabled_ = on; }
  const std::map<std::string, std::string>& cookies() const { return cookies_; }
  void SetCookie(std::string name, std::string value) {
    cookies_[std::move(name)] = std::move(value);
  }

  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  // Closes the kept-alive connection, if any.
  void Close();
  // How many TCP connections this client has opened (to check keep-alive reuse).
  int connections_opened() const { return connections_opened_; }

 private:
  struct Conn;
  Result<ClientResponse> SendOnce(std::string_view method, std::string_view target,
                                  std::string_view body, const HeaderList& headers, bool* reused,
                                  bool* got_bytes);
  void RememberCookies(const ClientResponse& r);

  std::string host_;
  uint16_t port_;
  std::chrono::milliseconds timeout_{10'000};
  std::unique_ptr<Conn> conn_;
  int connections_opened_ = 0;
  bool cookies_enabled_ = false;
  std::map<std::string, std::string> cookies_;
};

}  // namespace kiln::testing
