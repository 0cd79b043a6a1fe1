#include "kiln/dns/local_address.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>

namespace kiln::dns {

namespace ip = boost::asio::ip;

Status CheckLocalAddress(std::string_view address, const std::string& field) {
  boost::system::error_code ec;
  ip::address a = ip::make_address(std::string(address), ec);
  if (ec) return Status::InvalidArgument("must be an IPv4 or IPv6 address", field);
  if (a.is_unspecified() || a.is_multicast()) {
    return Status::InvalidArgument(a.to_string() + " cannot be a source address", field);
  }
  // Binding a UDP socket to port 0 asks the kernel the question without sending anything.
  boost::asio::io_context io;
  ip::udp::socket socket(io);
  socket.open(a.is_v4() ? ip::udp::v4() : ip::udp::v6(), ec);
  if (ec) {
    return Status::InvalidArgument(
        a.to_string() + " cannot be used: this machine has no " + (a.is_v4() ? "IPv4" : "IPv6"),
        field);
  }
  socket.bind(ip::udp::endpoint(a, 0), ec);
  if (ec) {
    return Status::InvalidArgument(
        a.to_string() +
            " is not an address of this machine (add it to an interface first): " + ec.message(),
        field);
  }
  return Status::Ok();
}

}  // namespace kiln::dns
