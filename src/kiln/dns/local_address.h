// Whether an address is one of this machine's own: a sender's source IP and a campaign's IP pool
// must be, or binding before connect fails at send time with an error far from its cause.
//
// Thread-safety: a pure query of the kernel; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "kiln/base/status.h"

namespace kiln::dns {

// Success: `address` is an IPv4 or IPv6 address this machine can send from (a socket binds to
// it). Failure: InvalidArgument naming `field`: "must be an IPv4 or IPv6 address" or
// "192.0.2.7 is not an address of this machine (add it to an interface first)".
Status CheckLocalAddress(std::string_view address, const std::string& field);

}  // namespace kiln::dns
