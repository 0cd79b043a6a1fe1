#include "kiln/leads/mx_check.h"

#include <idn2.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

namespace kiln::leads {

std::optional<std::string> ToALabels(const std::string& domain) {
  char* out = nullptr;
  const int rc = idn2_to_ascii_8z(domain.c_str(), &out, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK || out == nullptr) return std::nullopt;
  std::string ascii(out);
  idn2_free(out);
  return ascii;
}

MxChecker::MxChecker(ResolverFactory factory, int max_in_flight)
    : factory_(std::move(factory)), max_in_flight_(std::max(1, max_in_flight)) {}

int64_t MxChecker::lookups() const {
  std::lock_guard lock(mu_);
  return lookups_;
}

MailServerVerdict MxChecker::Lookup(dns::Resolver& resolver, const std::string& domain) {
  // An IDN domain in UTF-8 is asked in its A-label (xn--...) form, as DNS knows it; one that has
  // no valid A-label (IDNA2008) cannot be asked, and its rows are kept unchecked.
  std::string name = domain;
  if (std::any_of(domain.begin(), domain.end(),
                  [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    auto ascii = ToALabels(domain);
    if (!ascii) return MailServerVerdict::kUnknown;
    name = std::move(*ascii);
  }
  auto mx = resolver.Mx(name);
  if (!mx.ok()) return MailServerVerdict::kUnknown;
  if (!mx->empty()) {
    const bool null_mx = mx->records.size() == 1 && mx->records[0].exchange.empty();
    return null_mx ? MailServerVerdict::kNoMailServer : MailServerVerdict::kHasMailServer;
  }
  if (mx->nxdomain) return MailServerVerdict::kNoMailServer;
  for (bool ipv6 : {false, true}) {
    auto addr = resolver.Address(name, ipv6);
    if (!addr.ok()) return MailServerVerdict::kUnknown;
    if (!addr->empty()) return MailServerVerdict::kHasMailServer;
  }
  return MailServerVerdict::kNoMailServer;
}

std::vector<MailServerVerdict> MxChecker::Check(const std::vector<std::string>& domains) {
  std::unordered_map<std::string, MailServerVerdict> found;
  std::vector<std::string> todo;
  {
    std::lock_guard lock(mu_);
    for (const auto& d : domains) {
      if (found.count(d)) continue;
      auto it = cache_.find(d);
      if (it != cache_.end()) {
        found[d] =
            it->second ? MailServerVerdict::kHasMailServer : MailServerVerdict::kNoMailServer;
      } else {
        found[d] = MailServerVerdict::kUnknown;
        todo.push_back(d);
      }
    }
  }
  if (!todo.empty()) {
    std::vector<MailServerVerdict> verdicts(todo.size(), MailServerVerdict::kUnknown);
    std::atomic<size_t> next{0};
    auto work = [&] {
      auto resolver = factory_();
      if (!resolver.ok()) return;  // every domain it would have taken stays kUnknown
      for (size_t i = next++; i < todo.size(); i = next++)
        verdicts[i] = Lookup(**resolver, todo[i]);
    };
    const size_t n = std::min(todo.size(), static_cast<size_t>(max_in_flight_));
    std::vector<std::thread> threads;
    for (size_t t = 1; t < n; ++t) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < todo.size(); ++i) {
      found[todo[i]] = verdicts[i];
      if (verdicts[i] == MailServerVerdict::kUnknown) continue;
      ++lookups_;
      cache_[todo[i]] = verdicts[i] == MailServerVerdict::kHasMailServer;
    }
  }
  std::vector<MailServerVerdict> out;
  out.reserve(domains.size());
  for (const auto& d : domains) out.push_back(found[d]);
  return out;
}

}  // namespace kiln::leads
