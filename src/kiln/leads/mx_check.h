// MxChecker: whether an email domain can receive mail, for the lead import's optional MX check
// (issue 6 §1). RFC 5321 §5.1: a domain with MX records has a mail server unless its only MX is the
// null MX of RFC 7505 ("0 ."); a domain without MX records (NODATA) falls back to its A, then AAAA
// records (the "implicit MX"); a domain that does not exist (NXDOMAIN) has none.
//
// Results are cached for the checker's lifetime (one import, or a process), so each distinct
// domain is looked up once however many rows name it. Check() resolves the domains it is given
// that are not cached yet on at most max_in_flight threads at once, each with its own Resolver
// from the factory. A lookup that fails (server failure, timeout) answers kUnknown and is not
// cached: the importer keeps such rows rather than rejecting a lead because DNS hiccupped. A domain
// with UTF-8 (IDN) labels is asked in its A-label form (ToALabels, IDNA2008 through libidn2: asked
// as UTF-8 it would answer a false "does not exist"); one without a valid A-label is kUnknown too.
//
// Thread-safety: Check may be called from several threads at once (the cache is locked).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kiln/base/status.h"
#include "kiln/dns/resolver.h"

namespace kiln::leads {

enum class MailServerVerdict { kHasMailServer, kNoMailServer, kUnknown };

// The ASCII form DNS knows `domain` by: each UTF-8 label as its A-label ("bücher.example" ->
// "xn--bcher-kva.example", NFC first, IDNA2008 non-transitional), ASCII labels lowercased as they
// are. nullopt when a label has no valid A-label (disallowed code points, too long).
std::optional<std::string> ToALabels(const std::string& domain);

class MxChecker {
 public:
  using ResolverFactory = std::function<Result<std::unique_ptr<dns::Resolver>>()>;

  // max_in_flight: lookups running at the same time (>= 1).
  explicit MxChecker(ResolverFactory factory, int max_in_flight = 8);

  // One verdict per domain of `domains` (in the same order; repeats allowed). Domains are
  // compared as given (the importer passes lowercased ones).
  std::vector<MailServerVerdict> Check(const std::vector<std::string>& domains);

  // Domains looked up so far with an answer (cache misses; an MX query and its A/AAAA fallback
  // count as one; failed lookups are not counted and are asked again next time).
  int64_t lookups() const;

 private:
  MailServerVerdict Lookup(dns::Resolver& resolver, const std::string& domain);

  ResolverFactory factory_;
  const int max_in_flight_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, bool> cache_;  // domain -> has a mail server
  int64_t lookups_ = 0;
};

}  // namespace kiln::leads
