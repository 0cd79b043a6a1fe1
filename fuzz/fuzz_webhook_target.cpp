// Fuzzes the webhook URL parser and the SSRF guard of kiln/webhooks/target.h: the URL comes from
// any workspace admin, and what it lets through decides where the server sends HTTP requests.
//
// The first input byte picks a mode, the rest is the payload:
//   0: ParseTargetUrl(payload).
//   1: the payload's first 4 or 16 bytes are an IPv4 or IPv6 address for CheckAddress.
// Invariants of an accepted URL: http(s) with a non-empty host that is a valid IP literal or a
// lower-case name of [a-z0-9.-] (no '@', ':', '/', '%' that could smuggle another destination), a
// non-zero port, and a request target starting with '/' that holds no byte a request line could be
// split with (controls, spaces, DEL, non-ASCII); rebuilding the URL from its parts
// (Origin() + target) parses to the same parts. For an IP-literal host, ResolveTarget (which then
// does no lookup) returns exactly that address and port, or refuses what CheckAddress refuses.
// CheckAddress: refuses every address in the documented classes (checked against an
// independent table below), judges an IPv4-mapped IPv6 address as its IPv4 address, and anything
// refused with allow_private is refused without it.
#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "kiln/webhooks/target.h"

namespace {

namespace ip = boost::asio::ip;
using kiln::Status;

bool InV4(uint32_t a, uint32_t net, int bits) {
  const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (a & mask) == (net & mask);
}

// The documented classes, written independently of target.cpp. 0: public; 1: refused unless
// allow_private; 2: refused always.
int ExpectedV4(uint32_t a) {
  if (InV4(a, 0xA9FE0000, 16)) return 2;  // 169.254/16 link-local
  const std::array<std::pair<uint32_t, int>, 8> refused = {{
      {0x7F000000, 8},   // 127/8 loopback
      {0x0A000000, 8},   // 10/8
      {0xAC100000, 12},  // 172.16/12
      {0xC0A80000, 16},  // 192.168/16
      {0x64400000, 10},  // 100.64/10 carrier-grade NAT
      {0x00000000, 8},   // 0/8 "this network"
      {0xE0000000, 4},   // 224/4 multicast
      {0xF0000000, 4},   // 240/4 reserved, 255.255.255.255 broadcast
  }};
  for (const auto& [net, bits] : refused) {
    if (InV4(a, net, bits)) return 1;
  }
  return 0;
}

int ExpectedV6(const ip::address_v6::bytes_type& b) {
  bool all_zero_but_last = true;
  for (size_t i = 0; i < 15; ++i) all_zero_but_last = all_zero_but_last && b[i] == 0;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return 2;  // fe80::/10 link-local
  if (ip::address_v6(b) == ip::make_address_v6("fd00:ec2::254")) return 2;
  if (all_zero_but_last && (b[15] == 0 || b[15] == 1)) return 1;  // :: and ::1
  if ((b[0] & 0xfe) == 0xfc) return 1;                            // fc00::/7 unique local
  if (b[0] == 0xff) return 1;                                     // ff00::/8 multicast
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return 1;            // fec0::/10 site-local
  return 0;
}

int Expected(const ip::address& a) {
  if (a.is_v4()) return ExpectedV4(a.to_v4().to_uint());
  const ip::address_v6 v6 = a.to_v6();
  if (v6.is_v4_mapped()) return ExpectedV4(ip::make_address_v4(ip::v4_mapped, v6).to_uint());
  return ExpectedV6(v6.to_bytes());
}

void CheckAddressVerdicts(const ip::address& a) {
  const Status strict = kiln::webhooks::CheckAddress(a, false);
  const Status relaxed = kiln::webhooks::CheckAddress(a, true);
  const int expected = Expected(a);
  FUZZ_CHECK(strict.ok() == (expected == 0));
  FUZZ_CHECK(relaxed.ok() == (expected != 2));
  if (!strict.ok()) {
    FUZZ_CHECK(strict.code() == Status::Code::kPermissionDenied);
    FUZZ_CHECK(strict.message().find(a.to_string()) != std::string::npos);
  }
  if (!relaxed.ok()) FUZZ_CHECK(!strict.ok());
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

void FuzzUrl(std::string_view text) {
  auto url = kiln::webhooks::ParseTargetUrl(text);
  if (!url.ok()) {
    FUZZ_CHECK(url.status().code() == Status::Code::kInvalidArgument);
    FUZZ_CHECK(url.status().field() == "url");
    return;
  }
  FUZZ_CHECK(text.size() <= 2000);
  FUZZ_CHECK(!url->host.empty());
  FUZZ_CHECK(url->port != 0);
  boost::system::error_code ec;
  const ip::address literal = ip::make_address(url->host, ec);
  if (ec) {
    for (char c : url->host) FUZZ_CHECK(IsNameChar(c));
  }
  FUZZ_CHECK(!url->target.empty() && url->target[0] == '/');
  for (unsigned char c : url->target) FUZZ_CHECK(c > 0x20 && c < 0x7f && c != '#');

  auto again = kiln::webhooks::ParseTargetUrl(url->Origin() + url->target);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->https == url->https && again->host == url->host && again->port == url->port &&
             again->target == url->target);

  if (!ec) {
    CheckAddressVerdicts(literal);
    for (bool allow_private : {false, true}) {
      auto endpoints = kiln::webhooks::ResolveTarget(*url, allow_private);
      const Status verdict = kiln::webhooks::CheckAddress(literal, allow_private);
      FUZZ_CHECK(endpoints.ok() == verdict.ok());
      if (endpoints.ok()) {
        FUZZ_CHECK(endpoints->size() == 1);
        FUZZ_CHECK((*endpoints)[0].address() == literal && (*endpoints)[0].port() == url->port);
      }
    }
  }
}

void FuzzAddress(std::string_view in) {
  if (in.empty()) return;
  if ((in[0] & 1) == 0 && in.size() >= 5) {
    ip::address_v4::bytes_type b{};
    for (size_t i = 0; i < 4; ++i) b[i] = static_cast<unsigned char>(in[1 + i]);
    const ip::address_v4 v4(b);
    CheckAddressVerdicts(ip::address(v4));
    // The same address mapped into IPv6 gets the same verdicts.
    const ip::address_v6 mapped = ip::make_address_v6(ip::v4_mapped, v4);
    for (bool allow_private : {false, true}) {
      FUZZ_CHECK(kiln::webhooks::CheckAddress(ip::address(v4), allow_private).ok() ==
                 kiln::webhooks::CheckAddress(ip::address(mapped), allow_private).ok());
    }
    CheckAddressVerdicts(ip::address(mapped));
  } else if (in.size() >= 17) {
    ip::address_v6::bytes_type b{};
    for (size_t i = 0; i < 16; ++i) b[i] = static_cast<unsigned char>(in[1 + i]);
    CheckAddressVerdicts(ip::address(ip::address_v6(b)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    FuzzUrl(in);
  } else {
    FuzzAddress(in);
  }
  return 0;
}
