// DNS lookups for the sending checks (SPF, DKIM, DMARC, MX): a small blocking interface and its
// implementation on c-ares that can ask a given server and port (the `dns_resolver` setting; tests
// point it at scripts/dns on loopback).
//
// Every lookup answers one of three things: records; no records (the name does not exist, or has
// none of that type: `nxdomain` tells which); or an error Status (Unavailable: the server failed,
// refused or did not answer in time). SPF needs that distinction: "no records" is a void lookup,
// an error is a temperror.
//
// Thread-safety: a Resolver is used by one thread at a time (it owns one c-ares channel); make one
// per thread. MakeResolver is thread-safe.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"

namespace kiln::dns {

template <typename T>
struct Answer {
  std::vector<T> records;
  bool nxdomain = false;  // the name does not exist (NXDOMAIN); false with no records: NODATA
  bool empty() const { return records.empty(); }
};

struct MxRecord {
  int preference = 0;
  std::string exchange;  // without the trailing dot; "" for a null MX (RFC 7505 "0 .")
};

class Resolver {
 public:
  virtual ~Resolver() = default;
  // TXT records of `name`, each record's character-strings joined without separator (RFC 7208
  // §3.3, RFC 6376 §3.6.2.2). Order as the server sent them.
  virtual Result<Answer<std::string>> Txt(std::string_view name) = 0;
  // A (IPv4) or AAAA (IPv6) records of `name`.
  virtual Result<Answer<boost::asio::ip::address>> Address(std::string_view name, bool ipv6) = 0;
  // MX records of `name`, sorted by preference (then name).
  virtual Result<Answer<MxRecord>> Mx(std::string_view name) = 0;
  // PTR records of `ip`'s reverse name (in-addr.arpa / ip6.arpa), without trailing dots.
  virtual Result<Answer<std::string>> Ptr(const boost::asio::ip::address& ip) = 0;
};

struct ResolverOptions {
  // Comma-separated servers, each "IP" or "IP:port" ("[IPv6]:port"); empty: the system's
  // (/etc/resolv.conf).
  std::string servers;
  std::chrono::milliseconds timeout{3000};  // per try
  int tries = 2;
};

// Success: a resolver asking `options.servers`. Failure: InvalidArgument naming "dns_resolver"
// when a server is not an IP address with an optional port; Internal when c-ares cannot start
// (e.g. no usable system configuration).
Result<std::unique_ptr<Resolver>> MakeResolver(const ResolverOptions& options);

// The reverse-lookup name of `ip`: "2.0.0.127.in-addr.arpa", "1.0.0...8.b.d.0.1.0.0.2.ip6.arpa".
std::string ReverseName(const boost::asio::ip::address& ip);

}  // namespace kiln::dns
