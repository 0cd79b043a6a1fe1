// PostJson: one HTTP/1.1 POST of a JSON body to a webhook receiver (Boost.Beast on Asio, OpenSSL
// for https with the certificate verified against the system's trust store and the URL's host
// name checked), to endpoints already resolved and checked by ResolveTarget (target.h).
//
// Thread-safety: each call runs its own io_context on the calling thread; calls from many threads
// at once are safe.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "kiln/base/status.h"
#include "kiln/webhooks/target.h"

namespace kiln::webhooks {

struct PostOptions {
  // The whole exchange (connect, TLS, request, response) must finish within this.
  std::chrono::milliseconds timeout{10'000};
  // At most this much of the response body is kept (the rest is read and dropped, up to 1 MiB).
  size_t max_body_bytes = 2048;
  // Extra trusted CA certificates (PEM file) besides the system's; "" for the system's only.
  std::string ca_file;
};

struct PostResult {
  int status = 0;    // the receiver's HTTP status
  std::string body;  // its first max_body_bytes bytes
};

// Sends `body` with Content-Type application/json, User-Agent Kiln-Webhooks/1 and `headers`,
// trying `endpoints` in order until one connects. Success: the receiver answered (any status).
// Failure: Unavailable naming the stage ("connect to https://h:443: Connection refused", "TLS
// handshake with ...: certificate verify failed", "reading the answer of ...") or
// DeadlineExceeded ("no answer from ... within 10000 ms").
Result<PostResult> PostJson(const TargetUrl& url,
                            const std::vector<boost::asio::ip::tcp::endpoint>& endpoints,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            const std::string& body, const PostOptions& options);

}  // namespace kiln::webhooks
