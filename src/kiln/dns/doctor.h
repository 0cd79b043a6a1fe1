// `kiln doctor sender ID`: does DNS let this sender's mail through? One finding per line, each
// OK, WARN or FAIL with what to do:
//   IP     which address the sender's mail leaves from (its source IP, its campaign's IP pool, its
//          proxy, or its SMTP host's address) — what SPF must authorise
//   SPF    a full RFC 7208 evaluation for the sender's domain and that address (spf.h), plus the
//          record's warnings (+all/?all, ptr, near the 10-lookup limit)
//   DKIM   for each key Kiln holds for the domain: the record at <selector>._domainkey is there,
//          is a DKIM key, and is Kiln's key
//   DMARC  the policy at _dmarc.<domain> (or its organisational domain), rua=, and whether SPF
//          or DKIM align with the From domain
//   MX     the domain receives mail (replies and bounces), and its MX hosts resolve
//
// CheckSenderDns only asks DNS; LoadSenderDnsInput reads the sender, its pool and its keys from
// the database. Thread-safety: both use the resolver they are given (one thread at a time).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/dns/resolver.h"
#include "kiln/store/db.h"

namespace kiln::dns {

struct Finding {
  enum class Level { kOk, kWarn, kFail };
  Level level = Level::kOk;
  std::string check;    // "IP", "SPF", "DKIM", "DMARC", "MX"
  std::string message;  // what was found and, when not OK, what to do
};

// "OK   SPF: ...", "WARN DMARC: ...", "FAIL MX: ..." (the level padded to four characters).
// Control characters of the message (records quoted from DNS may hold any byte) are written as
// "\xHH", so the line is safe to print to a terminal.
std::string FormatFinding(const Finding& f);

// A DKIM key Kiln signs with for the sender's domain.
struct StoredDkimKey {
  std::string selector;
  std::string algorithm;   // "rsa-sha256" or "ed25519-sha256"
  std::string public_key;  // the p= value
};

struct SenderDnsInput {
  int64_t sender_id = 0;
  std::string email;   // the From and envelope sender address
  std::string domain;  // its domain, lowercase
  // The address receivers see; nullopt when it cannot be told (ip_problem says why).
  std::optional<boost::asio::ip::address> ip;
  std::string ip_origin;   // "its source_ip", "the IP pool of campaign 3", ...
  std::string ip_problem;  // why there is no ip
  std::string ip_warning;  // e.g. a proxy, whose outgoing address Kiln cannot see
  std::vector<StoredDkimKey> dkim_keys;
};

// Runs every check. The findings come in the order IP, SPF, DKIM, DMARC, MX.
std::vector<Finding> CheckSenderDns(Resolver& resolver, const SenderDnsInput& input, TimePoint now);

// True when any finding is a FAIL (the doctor then exits non-zero).
bool HasFailure(const std::vector<Finding>& findings);

// Reads sender `sender_id` (any workspace: the doctor is an operator's command), the address it
// sends from and the DKIM keys of its workspace for its domain. The SMTP or proxy host is
// resolved with `resolver` when it is the sender's address. Failure: NotFound naming the sender
// id; store errors as they come.
Result<SenderDnsInput> LoadSenderDnsInput(store::Database& db, Resolver& resolver,
                                          int64_t sender_id);

// `kiln doctor sender ID`: asks `dns_resolver` (the setting: "IP[:port],..."; empty: the system's
// resolvers), prints a header line and one line per finding to `out`. Returns the exit status: 0
// when nothing FAILs, 1 when something does, 2 when the check could not run (unknown sender, bad
// dns_resolver, database error), with one line saying why on `err`.
int RunSenderDoctor(store::Database& db, const std::string& dns_resolver, int64_t sender_id,
                    TimePoint now, std::FILE* out, std::FILE* err);

}  // namespace kiln::dns
