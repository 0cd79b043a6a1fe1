// Where a webhook may be sent: parsing its URL and the SSRF guard.
//
// A webhook URL is http:// or https:// with a host (name or IP literal), an optional port, path
// and query; no user:password@, no fragment, at most 2,000 bytes. Kiln refuses to send to
// addresses inside the operator's network unless told otherwise: loopback (127/8, ::1), private
// (10/8, 172.16/12, 192.168/16, fc00::/7), carrier-grade NAT (100.64/10), "this network" (0/8),
// unspecified, multicast and broadcast are refused unless `allow_private` (the setting
// webhook_allow_private_targets); link-local (169.254/16, fe80::/10), which holds cloud metadata
// services (169.254.169.254, fd00:ec2::254 is also refused), is refused always. IPv4-mapped IPv6
// addresses are judged as their IPv4 address. The check runs when a subscription is saved and again
// on every delivery, and a delivery connects only to the addresses it checked (no second lookup a
// DNS rebinding could change).
//
// Thread-safety: pure functions, except ResolveTarget which does a blocking DNS lookup; all are
// safe to call from many threads.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"

namespace kiln::webhooks {

struct TargetUrl {
  bool https = false;
  std::string host;            // without brackets for IPv6 literals
  uint16_t port = 0;           // explicit or the scheme's default
  std::string target;          // path + query, at least "/"
  std::string Origin() const;  // "https://host:port" for messages
};

// Parses a webhook URL. Fails InvalidArgument (message says what is wrong; field "url").
Result<TargetUrl> ParseTargetUrl(std::string_view url);

// OK when `addr` may be sent to; PermissionDenied naming the address and its class ("127.0.0.1 is
// a loopback address") otherwise.
Status CheckAddress(const boost::asio::ip::address& addr, bool allow_private);

// Resolves the URL's host (an IP literal needs no lookup) and checks every address it resolves to:
// one refused address refuses the URL (a name must not mix public and private answers). Fails
// InvalidArgument when the host does not resolve, PermissionDenied from CheckAddress.
Result<std::vector<boost::asio::ip::tcp::endpoint>> ResolveTarget(const TargetUrl& url,
                                                                  bool allow_private);

}  // namespace kiln::webhooks
