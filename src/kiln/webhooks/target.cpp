#include "kiln/webhooks/target.h"

#include <boost/asio/io_context.hpp>
#include <boost/url/parse.hpp>
#include <cctype>

namespace kiln::webhooks {

namespace ip = boost::asio::ip;

std::string TargetUrl::Origin() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return std::string(https ? "https://" : "http://") + h + ":" + std::to_string(port);
}

Result<TargetUrl> ParseTargetUrl(std::string_view text) {
  if (text.size() > 2000) return Status::InvalidArgument("must be at most 2000 bytes", "url");
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    return Status::InvalidArgument("is not an absolute URL like https://example.com/hooks/kiln",
                                   "url");
  }
  const auto& u = *parsed;
  TargetUrl out;
  std::string scheme(u.scheme());
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "https") {
    out.https = true;
  } else if (scheme != "http") {
    return Status::InvalidArgument("must start with https:// or http://", "url");
  }
  if (!u.has_authority() || u.encoded_host().empty()) {
    return Status::InvalidArgument("has no host", "url");
  }
  if (u.has_userinfo()) {
    return Status::InvalidArgument("must not carry a user or password (user@host)", "url");
  }
  if (u.has_fragment()) return Status::InvalidArgument("must not have a #fragment", "url");
  switch (u.host_type()) {
    case boost::urls::host_type::ipv6:
      out.host = u.host_ipv6_address().to_string();
      break;
    case boost::urls::host_type::ipv4:
      out.host = u.host_ipv4_address().to_string();
      break;
    case boost::urls::host_type::name: {
      // Decoded, "1%2e7.0.0.0" would be a name Boost.URL 1.81 itself reads back as the address
      // 1.7.0.0 plus a path; no real host name needs percent-encoding.
      if (u.encoded_host().find('%') != std::string_view::npos) {
        return Status::InvalidArgument(
            "has a percent-encoded host name; write it with plain letters, digits, '-' and '.'",
            "url");
      }
      out.host = std::string(u.host());
      for (char& c : out.host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (char c : out.host) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') {
          return Status::InvalidArgument(
              "has a host name with a character other than letters, "
              "digits, '-' and '.'",
              "url");
        }
      }
      break;
    }
    default:
      return Status::InvalidArgument("has a host Kiln cannot send to", "url");
  }
  if (u.has_port()) {
    if (u.port_number() == 0) return Status::InvalidArgument("has an invalid port", "url");
    out.port = u.port_number();
  } else {
    out.port = out.https ? 443 : 80;
  }
  out.target = std::string(u.encoded_path());
  // RFC 3986 §3.3: after an authority the path is empty or starts with '/'. Boost.URL 1.81 lets
  // "http://host:80:81/x" through with the path ":81/x", which is no request target.
  if (!out.target.empty() && out.target[0] != '/') {
    return Status::InvalidArgument(
        "has something after the host that is neither a port number "
        "nor a path starting with '/'",
        "url");
  }
  if (out.target.empty()) out.target = "/";
  if (u.has_query()) out.target += "?" + std::string(u.encoded_query());
  return out;
}

namespace {

bool InV4(uint32_t a, uint32_t net, int bits) {
  uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (a & mask) == (net & mask);
}

constexpr uint32_t V4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// The class of a refused IPv4 address, "" when it is public. `always` is set for classes refused
// even with allow_private.
std::string ClassifyV4(uint32_t a, bool* always) {
  *always = false;
  if (InV4(a, V4(169, 254, 0, 0), 16)) {
    *always = true;
    return "a link-local address (cloud metadata services live there)";
  }
  if (InV4(a, V4(127, 0, 0, 0), 8)) return "a loopback address";
  if (InV4(a, V4(10, 0, 0, 0), 8) || InV4(a, V4(172, 16, 0, 0), 12) ||
      InV4(a, V4(192, 168, 0, 0), 16)) {
    return "a private address";
  }
  if (InV4(a, V4(100, 64, 0, 0), 10)) return "a carrier-grade NAT address";
  if (InV4(a, V4(0, 0, 0, 0), 8)) return "a 'this network' address";
  if (InV4(a, V4(224, 0, 0, 0), 4)) return "a multicast address";
  if (InV4(a, V4(240, 0, 0, 0), 4)) return "a reserved or broadcast address";
  return "";
}

}  // namespace

Status CheckAddress(const ip::address& addr_in, bool allow_private) {
  ip::address addr = addr_in;
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = ip::make_address_v4(ip::v4_mapped, addr.to_v6());
  }
  std::string what;
  bool always = false;
  if (addr.is_v4()) {
    what = ClassifyV4(addr.to_v4().to_uint(), &always);
  } else {
    const ip::address_v6 v6 = addr.to_v6();
    const auto b = v6.to_bytes();
    if (v6.is_link_local()) {
      what = "a link-local address (cloud metadata services live there)";
      always = true;
    } else if (v6 == ip::make_address_v6("fd00:ec2::254")) {
      what = "a cloud metadata address";
      always = true;
    } else if (v6.is_loopback()) {
      what = "a loopback address";
    } else if (v6.is_unspecified()) {
      what = "the unspecified address";
    } else if ((b[0] & 0xfe) == 0xfc) {
      what = "a private (unique local) address";
    } else if (v6.is_multicast()) {
      what = "a multicast address";
    } else if (v6.is_site_local()) {
      what = "a site-local address";
    }
  }
  if (what.empty() || (allow_private && !always)) return Status::Ok();
  std::string msg = addr_in.to_string() + " is " + what + "; webhooks are not sent there";
  if (!always) msg += " (the setting webhook_allow_private_targets allows it)";
  return Status::PermissionDenied(msg);
}

Result<std::vector<ip::tcp::endpoint>> ResolveTarget(const TargetUrl& url, bool allow_private) {
  std::vector<ip::tcp::endpoint> out;
  boost::system::error_code ec;
  ip::address literal = ip::make_address(url.host, ec);
  if (!ec) {
    KILN_RETURN_IF_ERROR(CheckAddress(literal, allow_private));
    out.emplace_back(literal, url.port);
    return out;
  }
  boost::asio::io_context io;
  ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(url.host, std::to_string(url.port), ec);
  if (ec || results.empty()) {
    return Status::InvalidArgument(
        "host " + url.host + " does not resolve" + (ec ? ": " + ec.message() : ""), "url");
  }
  for (const auto& r : results) {
    Status st = CheckAddress(r.endpoint().address(), allow_private);
    if (!st.ok()) return Status::PermissionDenied(url.host + " resolves to " + st.message());
    out.push_back(r.endpoint());
  }
  return out;
}

}  // namespace kiln::webhooks
