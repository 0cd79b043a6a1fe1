// Fuzzes what `kiln doctor sender` does with DNS answers: the SPF evaluation of kiln/dns/spf.h
// (record syntax, macros, include/redirect chains, the lookup limits) and the DKIM, DMARC and MX
// checks of kiln/dns/doctor.h. Whoever runs a domain's name servers writes these records.
//
// The input is a zone, one line each (unknown lines are skipped):
//   <name> TXT <text>           a TXT record (character-strings already joined)
//   <name> A|AAAA <address>     an address record
//   <name> MX <preference> <exchange>   ("." for a null MX)
//   <name> PTR <name>           a PTR record; <name> is the reverse name (4.3.2.1.in-addr.arpa)
//   <name> FAIL                 every lookup of the name fails (a server error)
//   ip <address>                the client address (default 192.0.2.1)
//   sender <address>            MAIL FROM (default ada@example.com; the domain is example.com)
// Names are compared case-insensitively without a trailing dot; a name with no record of any kind
// is NXDOMAIN, one with other types only is NODATA.
//
// The resolver is an in-memory fake built from the input (no network). Invariants: an
// evaluation is a pure function of the zone (the same zone twice gives the same result, reason
// and lookups); the lookup counters never pass their limits by more than the one that trips them,
// and a result within the limits makes a bounded number of queries (RFC 7208 §4.6.4: at most 10
// terms that look up, each with at most 10 MX or PTR names, plus the record lookups); pass and
// fail come with the record that decided; the doctor's findings come in the order IP, SPF, DKIM,
// DMARC, MX, each with a message, and the lines it prints hold no control characters a record
// could use to rewrite the operator's terminal.
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "kiln/dns/doctor.h"
#include "kiln/dns/resolver.h"
#include "kiln/dns/spf.h"

namespace {

namespace ip = boost::asio::ip;
using kiln::Result;
using kiln::Status;
using kiln::dns::Answer;
using kiln::dns::MxRecord;

struct ZoneEntry {
  std::vector<std::string> txt;
  std::vector<ip::address> a;
  std::vector<ip::address> aaaa;
  std::vector<MxRecord> mx;
  std::vector<std::string> ptr;
  bool fail = false;
};

std::string Key(std::string_view name) {
  std::string k(name);
  while (!k.empty() && k.back() == '.') k.pop_back();
  for (char& c : k) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return k;
}

// A fake resolver answering from an in-memory zone; counts the queries it is asked.
class FakeZoneResolver : public kiln::dns::Resolver {
 public:
  std::map<std::string, ZoneEntry> zone;
  int queries = 0;

  Result<Answer<std::string>> Txt(std::string_view name) override {
    return Lookup<std::string>(name, &ZoneEntry::txt);
  }
  Result<Answer<ip::address>> Address(std::string_view name, bool ipv6) override {
    return Lookup<ip::address>(name, ipv6 ? &ZoneEntry::aaaa : &ZoneEntry::a);
  }
  Result<Answer<MxRecord>> Mx(std::string_view name) override {
    return Lookup<MxRecord>(name, &ZoneEntry::mx);
  }
  Result<Answer<std::string>> Ptr(const ip::address& addr) override {
    return Lookup<std::string>(kiln::dns::ReverseName(addr), &ZoneEntry::ptr);
  }

 private:
  template <typename T>
  Result<Answer<T>> Lookup(std::string_view name, std::vector<T> ZoneEntry::*field) {
    ++queries;
    Answer<T> answer;
    auto it = zone.find(Key(name));
    if (it == zone.end()) {
      answer.nxdomain = true;
      return answer;
    }
    if (it->second.fail) return Status::Unavailable("fake server failure for " + it->first);
    answer.records = it->second.*field;
    return answer;
  }
};

struct Scenario {
  FakeZoneResolver resolver;
  ip::address client = ip::make_address("192.0.2.1");
  std::string sender = "ada@example.com";
};

void ParseZone(std::string_view in, Scenario& s) {
  size_t start = 0;
  int lines = 0;
  while (start < in.size() && lines++ < 200) {
    size_t end = in.find('\n', start);
    if (end == std::string_view::npos) end = in.size();
    std::string_view line = in.substr(start, end - start);
    start = end + 1;
    const size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, sp1);
    std::string_view rest = line.substr(sp1 + 1);
    const size_t sp2 = rest.find(' ');
    const std::string_view type = rest.substr(0, sp2);
    const std::string_view value =
        sp2 == std::string_view::npos ? std::string_view() : rest.substr(sp2 + 1);
    boost::system::error_code ec;
    if (name == "ip") {
      auto a = ip::make_address(std::string(rest), ec);
      if (!ec) s.client = a;
      continue;
    }
    if (name == "sender") {
      s.sender = std::string(rest);
      continue;
    }
    ZoneEntry& e = s.resolver.zone[Key(name)];
    if (type == "TXT") {
      e.txt.emplace_back(value);
    } else if (type == "A" || type == "AAAA") {
      auto a = ip::make_address(std::string(value), ec);
      if (!ec) (a.is_v4() ? e.a : e.aaaa).push_back(a);
    } else if (type == "MX") {
      const size_t sp = value.find(' ');
      if (sp == std::string_view::npos || sp == 0 || sp > 5) continue;
      int pref = 0;
      for (char c : value.substr(0, sp)) pref = pref * 10 + (c >= '0' && c <= '9' ? c - '0' : 0);
      std::string exchange = Key(value.substr(sp + 1));
      e.mx.push_back({pref, exchange});
    } else if (type == "PTR") {
      e.ptr.push_back(Key(value));
    } else if (type == "FAIL") {
      e.fail = true;
    }
  }
}

bool IsPrintable(std::string_view line) {
  for (unsigned char c : line) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

int CheckOrder(std::string_view check) {
  static const char* const kOrder[] = {"IP", "SPF", "DKIM", "DMARC", "MX"};
  for (int i = 0; i < 5; ++i) {
    if (check == kOrder[i]) return i;
  }
  return -1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;  // a zone of a few dozen records is plenty
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Scenario s;
  ParseZone(in, s);

  kiln::dns::SpfQuery q;
  q.ip = s.client;
  q.domain = "example.com";
  q.sender = s.sender;
  q.helo = "mail.example.com";
  q.now = kiln::TimePoint(std::chrono::seconds(1'767'225'600));

  s.resolver.queries = 0;
  const kiln::dns::SpfEvaluation e = kiln::dns::CheckHost(s.resolver, q);
  const int spf_queries = s.resolver.queries;
  FUZZ_CHECK(!e.reason.empty());
  FUZZ_CHECK(e.dns_lookups >= 0 && e.dns_lookups <= kiln::dns::kSpfMaxDnsLookups + 1);
  FUZZ_CHECK(e.void_lookups >= 0 && e.void_lookups <= kiln::dns::kSpfMaxVoidLookups + 1);
  // The top-level record, every counted term with up to 10 names (MX or PTR) behind it and one
  // address lookup each, the exp= text; %{p} macros are the only other source of queries and are
  // bounded the same way per term.
  FUZZ_CHECK(spf_queries <= 1 + (kiln::dns::kSpfMaxDnsLookups + 1) * (1 + 10) * 3 + 2);
  if (e.result == kiln::dns::SpfResult::kPass || e.result == kiln::dns::SpfResult::kFail ||
      e.result == kiln::dns::SpfResult::kSoftFail) {
    FUZZ_CHECK(!e.record.empty());
  }
  if (e.result != kiln::dns::SpfResult::kFail) FUZZ_CHECK(e.explanation.empty());

  // Same zone, same answer.
  const kiln::dns::SpfEvaluation e2 = kiln::dns::CheckHost(s.resolver, q);
  FUZZ_CHECK(e2.result == e.result && e2.reason == e.reason && e2.record == e.record &&
             e2.explanation == e.explanation && e2.dns_lookups == e.dns_lookups &&
             e2.void_lookups == e.void_lookups && e2.trace == e.trace && e2.warnings == e.warnings);

  kiln::dns::SenderDnsInput input;
  input.sender_id = 1;
  input.email = s.sender;
  input.domain = "example.com";
  input.ip = s.client;
  input.ip_origin = "its source_ip";
  input.dkim_keys = {{"kiln", "rsa-sha256", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAfuzzkey"},
                     {"ed", "ed25519-sha256", "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}};
  const std::vector<kiln::dns::Finding> findings =
      kiln::dns::CheckSenderDns(s.resolver, input, q.now);
  FUZZ_CHECK(!findings.empty());
  int last = 0;
  bool any_fail = false;
  for (const kiln::dns::Finding& f : findings) {
    const int order = CheckOrder(f.check);
    FUZZ_CHECK(order >= last);
    last = order;
    FUZZ_CHECK(!f.message.empty());
    any_fail = any_fail || f.level == kiln::dns::Finding::Level::kFail;
    FUZZ_CHECK(IsPrintable(kiln::dns::FormatFinding(f)));
  }
  FUZZ_CHECK(kiln::dns::HasFailure(findings) == any_fail);
  FUZZ_CHECK(CheckOrder(findings.back().check) == 4);  // MX always reports
  return 0;
}
