// SPF (RFC 7208): check_host() for a client IP, a domain and a sender address, against a Resolver.
//
// The whole of §4 and §5: record selection (none, one, or permerror for several), the syntax of
// every term (a syntax error anywhere is a permerror before anything is evaluated), the mechanisms
// all, include, a, mx, ptr, ip4, ip6 and exists with their dual CIDR lengths, the redirect= and
// exp= modifiers, the macros of §7 (s l o d i p v h, and c r t in explanations; transformers and
// delimiters), the limit of 10 terms that look DNS up across the whole evaluation (includes and
// redirects count), at most 10 MX/PTR names per lookup, and at most 2 void lookups (§4.6.4).
// Besides the result it keeps what a person needs to fix the record: which term decided, a trace
// of every record looked at, and warnings (+all or ?all, ptr, a record close to the lookup limit).
//
// Thread-safety: CheckHost uses the resolver it is given (one thread at a time, see resolver.h);
// it keeps no state of its own.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/dns/resolver.h"

namespace kiln::dns {

enum class SpfResult { kNone, kNeutral, kPass, kFail, kSoftFail, kTempError, kPermError };
std::string_view SpfResultName(SpfResult r);  // "pass", "softfail", "permerror", ...

struct SpfQuery {
  boost::asio::ip::address ip;   // the client address the receiver sees
  std::string domain;            // the domain whose policy applies (the sender's domain)
  std::string sender;            // MAIL FROM: "local@domain" (a bare domain means postmaster@)
  std::string helo = "unknown";  // the EHLO name, for %{h}
  TimePoint now{};               // for %{t} in explanations
};

struct SpfEvaluation {
  SpfResult result = SpfResult::kNone;
  // Why, in one line: "matched ip4:127.0.0.0/29 in the record of relay.example.com", "no SPF
  // record at example.com", "more than 10 DNS lookups (include:x.example.com is the 11th)".
  std::string reason;
  std::string record;       // the top-level record ("" when none)
  std::string explanation;  // the expanded exp= text on a fail, when the domain gives one
  int dns_lookups = 0;      // terms that counted toward the limit of 10
  int void_lookups = 0;
  std::vector<std::string> warnings;  // things that work but should change
  std::vector<std::string> trace;     // "example.com: v=spf1 ... -> pass" per record evaluated
};

inline constexpr int kSpfMaxDnsLookups = 10;
inline constexpr int kSpfMaxVoidLookups = 2;

// Evaluates the SPF policy of `query.domain` for `query.ip`. Never fails: DNS trouble is a
// temperror, a broken policy a permerror, each with its reason.
SpfEvaluation CheckHost(Resolver& resolver, const SpfQuery& query);

}  // namespace kiln::dns
