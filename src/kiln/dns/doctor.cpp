#include "kiln/dns/doctor.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "kiln/dns/sender_route.h"
#include "kiln/dns/spf.h"

namespace kiln::dns {

namespace ip = boost::asio::ip;

namespace {

using Level = Finding::Level;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// "k=v; k2=v2" tag lists (DKIM RFC 6376 §3.2, DMARC RFC 7489 §6.4). Tag names lowercase; the
// first occurrence wins. Whitespace inside values is removed for DKIM's p= by the caller.
std::map<std::string, std::string> Tags(std::string_view record) {
  std::map<std::string, std::string> tags;
  size_t start = 0;
  while (start < record.size()) {
    size_t semi = record.find(';', start);
    if (semi == std::string_view::npos) semi = record.size();
    std::string_view part = record.substr(start, semi - start);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos) {
      tags.emplace(Lower(Trim(part.substr(0, eq))), Trim(part.substr(eq + 1)));
    }
    start = semi + 1;
  }
  return tags;
}

std::string NoSpace(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') out += c;
  }
  return out;
}

std::string SpfMechanismFor(const ip::address& a) {
  return a.is_v4() ? "ip4:" + a.to_string() : "ip6:" + a.to_string();
}

struct SpfSummary {
  bool passes = false;
};

SpfSummary CheckSpf(Resolver& resolver, const SenderDnsInput& in, TimePoint now,
                    std::vector<Finding>* out) {
  SpfSummary summary;
  if (!in.ip) {
    out->push_back(
        {Level::kFail, "SPF", "not checked: the sender's address is unknown (see IP above)"});
    return summary;
  }
  SpfQuery q;
  q.ip = *in.ip;
  q.domain = in.domain;
  q.sender = in.email;
  q.now = now;
  SpfEvaluation e = CheckHost(resolver, q);
  const std::string who = in.ip->to_string() + " (" + in.ip_origin + ")";
  const std::string add = "add " + SpfMechanismFor(*in.ip) + " to the SPF record of " + in.domain;
  switch (e.result) {
    case SpfResult::kPass:
      summary.passes = true;
      out->push_back({Level::kOk, "SPF", in.domain + " authorises " + who + ": " + e.reason});
      break;
    case SpfResult::kFail:
    case SpfResult::kSoftFail:
    case SpfResult::kNeutral:
      out->push_back({Level::kFail, "SPF",
                      in.domain + " does not authorise " + who + " (" +
                          std::string(SpfResultName(e.result)) + ", " + e.reason + "); " + add});
      break;
    case SpfResult::kNone:
      out->push_back({Level::kFail, "SPF",
                      e.reason + "; publish a TXT record at " + in.domain + ": \"v=spf1 " +
                          SpfMechanismFor(*in.ip) + " -all\""});
      break;
    case SpfResult::kPermError:
      out->push_back({Level::kFail, "SPF",
                      "the SPF record of " + in.domain + " is broken (permerror): " + e.reason +
                          "; receivers treat it as failing"});
      break;
    case SpfResult::kTempError:
      out->push_back({Level::kFail, "SPF",
                      "could not be evaluated (temperror): " + e.reason +
                          "; check the domain's name servers and the dns_resolver setting"});
      break;
  }
  for (const std::string& w : e.warnings) out->push_back({Level::kWarn, "SPF", w});
  return summary;
}

std::string AlgorithmKeyType(std::string_view algorithm) {
  return algorithm == "ed25519-sha256" ? "ed25519" : "rsa";
}

// Returns true when at least one stored key is published correctly.
bool CheckDkim(Resolver& resolver, const SenderDnsInput& in, std::vector<Finding>* out) {
  if (in.dkim_keys.empty()) {
    out->push_back(
        {Level::kFail, "DKIM",
         "Kiln has no DKIM key for " + in.domain +
             ", so its mail goes out unsigned; create one (POST "
             "/api/v1/workspaces/{ws}/dkim-keys) and publish the TXT record it returns"});
    return false;
  }
  bool any_ok = false;
  for (const StoredDkimKey& key : in.dkim_keys) {
    const std::string name = key.selector + "._domainkey." + in.domain;
    const std::string type = AlgorithmKeyType(key.algorithm);
    const std::string publish = "publish a TXT record at " + name + ": \"v=DKIM1; k=" + type +
                                "; p=" + key.public_key + "\"";
    auto txt = resolver.Txt(name);
    if (!txt.ok()) {
      out->push_back(
          {Level::kFail, "DKIM", "could not look up " + name + ": " + txt.status().message()});
      continue;
    }
    std::vector<std::string> records;
    for (const std::string& r : txt->records) {
      auto tags = Tags(r);
      if (tags.count("p") || tags.count("v")) records.push_back(r);
    }
    if (records.empty()) {
      out->push_back({Level::kFail, "DKIM", "no DKIM record at " + name + "; " + publish});
      continue;
    }
    if (records.size() > 1) {
      out->push_back({Level::kFail, "DKIM",
                      name + " has " + std::to_string(records.size()) +
                          " DKIM records; receivers may pick either: keep only Kiln's"});
      continue;
    }
    auto tags = Tags(records[0]);
    if (tags.count("v") && tags["v"] != "DKIM1") {
      out->push_back({Level::kFail, "DKIM",
                      "the record at " + name + " has v=" + tags["v"] + ", not DKIM1; " + publish});
      continue;
    }
    std::string p = NoSpace(tags["p"]);
    if (p.empty()) {
      out->push_back(
          {Level::kFail, "DKIM", "the key at " + name + " is revoked (empty p=); " + publish});
      continue;
    }
    std::string k = tags.count("k") ? Lower(tags["k"]) : "rsa";
    if (k != type || p != key.public_key) {
      out->push_back({Level::kFail, "DKIM",
                      "the " + k + " key published at " + name +
                          " is not the key Kiln signs with; " + publish});
      continue;
    }
    any_ok = true;
    out->push_back({Level::kOk, "DKIM", name + " publishes the " + type + " key Kiln signs with"});
    if (tags.count("t") && tags["t"].find('y') != std::string::npos) {
      out->push_back({Level::kWarn, "DKIM",
                      name + " is in testing mode (t=y): receivers may ignore its signatures; "
                             "remove t=y"});
    }
  }
  return any_ok;
}

// The organisational domain, approximated as the last two labels (no public suffix list here).
std::string OrganizationalDomain(const std::string& domain) {
  size_t last = domain.rfind('.');
  if (last == std::string::npos || last == 0) return domain;
  size_t prev = domain.rfind('.', last - 1);
  return prev == std::string::npos ? domain : domain.substr(prev + 1);
}

void CheckDmarc(Resolver& resolver, const SenderDnsInput& in, bool spf_pass, bool dkim_ok,
                std::vector<Finding>* out) {
  std::string at = "_dmarc." + in.domain;
  auto lookup = [&](const std::string& name) -> Result<std::vector<std::string>> {
    KILN_ASSIGN_OR_RETURN(auto txt, resolver.Txt(name));
    std::vector<std::string> dmarc;
    for (const std::string& r : txt.records) {
      std::string t = Trim(r);
      if (t.size() >= 8 && Lower(t.substr(0, 8)) == "v=dmarc1" &&
          (t.size() == 8 || t[8] == ';' || t[8] == ' ')) {
        dmarc.push_back(t);
      }
    }
    return dmarc;
  };
  auto records = lookup(at);
  if (records.ok() && records->empty() && OrganizationalDomain(in.domain) != in.domain) {
    at = "_dmarc." + OrganizationalDomain(in.domain);
    records = lookup(at);
  }
  if (!records.ok()) {
    out->push_back(
        {Level::kFail, "DMARC", "could not look up " + at + ": " + records.status().message()});
    return;
  }
  if (records->empty()) {
    out->push_back({Level::kFail, "DMARC",
                    "no DMARC record at _dmarc." + in.domain +
                        "; Gmail and Yahoo require one from bulk senders: publish \"v=DMARC1; "
                        "p=none; rua=mailto:dmarc@" +
                        in.domain + "\" and tighten it once the reports are clean"});
    return;
  }
  if (records->size() > 1) {
    out->push_back({Level::kFail, "DMARC",
                    at + " has " + std::to_string(records->size()) +
                        " DMARC records, so receivers apply none; keep exactly one"});
    return;
  }
  auto tags = Tags((*records)[0]);
  std::string p = Lower(tags["p"]);
  if (p != "none" && p != "quarantine" && p != "reject") {
    out->push_back({Level::kFail, "DMARC",
                    "the record at " + at + " has " +
                        (tags.count("p") ? "p=" + tags["p"] : std::string("no p= tag")) +
                        "; it must be p=none, p=quarantine or p=reject"});
    return;
  }
  if (p == "none") {
    out->push_back({Level::kWarn, "DMARC",
                    at + " has p=none: receivers take no action on mail that fails DMARC, and "
                         "some rank such domains lower; move to p=quarantine once the reports "
                         "show only your own senders"});
  } else {
    out->push_back({Level::kOk, "DMARC", at + " has p=" + p});
  }
  if (!tags.count("rua") || Trim(tags["rua"]).empty()) {
    out->push_back({Level::kWarn, "DMARC",
                    at +
                        " has no rua=: nobody receives the aggregate reports; add "
                        "rua=mailto:dmarc@" +
                        in.domain});
  }
  // Kiln signs with d=<the From domain> and sends with the From address as envelope sender, so
  // a pass of either is aligned in both strict and relaxed modes.
  std::string modes = std::string(Lower(tags["adkim"]) == "s" ? "adkim=s" : "adkim=r") + ", " +
                      (Lower(tags["aspf"]) == "s" ? "aspf=s" : "aspf=r");
  if (spf_pass && dkim_ok) {
    out->push_back(
        {Level::kOk, "DMARC",
         "SPF and DKIM both pass for " + in.domain + ", the From domain (" + modes + ")"});
  } else if (spf_pass || dkim_ok) {
    out->push_back({Level::kWarn, "DMARC",
                    std::string("only ") + (spf_pass ? "SPF" : "DKIM") + " passes aligned with " +
                        in.domain + " (" + modes + "); mail relies on it alone: fix " +
                        (spf_pass ? "DKIM" : "SPF") + " above"});
  } else {
    out->push_back(
        {Level::kFail, "DMARC",
         "neither SPF nor DKIM passes for " + in.domain + ", so mail fails DMARC" +
             (p == "none" ? ""
                          : " and is " + std::string(p == "reject" ? "rejected" : "sent to spam")) +
             ": fix SPF or DKIM above"});
  }
}

void CheckMx(Resolver& resolver, const std::string& domain, const std::string& why,
             std::vector<Finding>* out) {
  auto mx = resolver.Mx(domain);
  if (!mx.ok()) {
    out->push_back(
        {Level::kFail, "MX", "could not look up " + domain + ": " + mx.status().message()});
    return;
  }
  if (mx->empty()) {
    out->push_back({Level::kFail, "MX",
                    domain + (mx->nxdomain ? " does not exist" : " has no MX record") + ": " + why +
                        " cannot be delivered; add an MX record"});
    return;
  }
  if (mx->records.size() == 1 && mx->records[0].exchange.empty()) {
    out->push_back({Level::kFail, "MX",
                    domain + " publishes a null MX (\"0 .\"): it accepts no mail, so " + why +
                        " are refused; publish a real MX"});
    return;
  }
  std::vector<std::string> good, bad;
  for (const MxRecord& m : mx->records) {
    auto a4 = resolver.Address(m.exchange, false);
    auto a6 = resolver.Address(m.exchange, true);
    bool resolves = (a4.ok() && !a4->empty()) || (a6.ok() && !a6->empty());
    (resolves ? good : bad).push_back(m.exchange + " (" + std::to_string(m.preference) + ")");
  }
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  if (good.empty()) {
    out->push_back({Level::kFail, "MX",
                    "no MX host of " + domain + " resolves to an address (" + join(bad) +
                        "): " + why + " cannot be delivered"});
    return;
  }
  out->push_back({Level::kOk, "MX", domain + " receives mail at " + join(good)});
  if (!bad.empty()) {
    out->push_back(
        {Level::kWarn, "MX",
         "MX host(s) of " + domain + " without an address: " + join(bad) + "; remove or fix them"});
  }
}

}  // namespace

std::string FormatFinding(const Finding& f) {
  std::string level = f.level == Level::kOk ? "OK  " : f.level == Level::kWarn ? "WARN" : "FAIL";
  std::string line = level + " " + f.check + ": ";
  // Messages quote DNS records, which anyone running the domain's name servers writes: escape
  // the control characters that could rewrite the operator's terminal or end the line.
  for (char c : f.message) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      line += "\\x";
      line += kHex[u >> 4];
      line += kHex[u & 0xf];
    } else {
      line += c;
    }
  }
  return line;
}

bool HasFailure(const std::vector<Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.level == Level::kFail; });
}

std::vector<Finding> CheckSenderDns(Resolver& resolver, const SenderDnsInput& in, TimePoint now) {
  std::vector<Finding> out;
  if (in.ip) {
    out.push_back({Level::kOk, "IP",
                   in.email + " sends from " + in.ip->to_string() + " (" + in.ip_origin + ")"});
  } else {
    out.push_back({Level::kFail, "IP",
                   "cannot tell which address " + in.email + " sends from: " + in.ip_problem});
  }
  if (!in.ip_warning.empty()) out.push_back({Level::kWarn, "IP", in.ip_warning});
  SpfSummary spf = CheckSpf(resolver, in, now, &out);
  bool dkim_ok = CheckDkim(resolver, in, &out);
  CheckDmarc(resolver, in, spf.passes, dkim_ok, &out);
  CheckMx(resolver, in.domain, "replies and bounces to " + in.email, &out);
  return out;
}

Result<SenderDnsInput> LoadSenderDnsInput(store::Database& db, Resolver& resolver,
                                          int64_t sender_id) {
  SenderDnsInput in;
  in.sender_id = sender_id;
  std::string smtp_host, source_ip, proxy_url;
  KILN_RETURN_IF_ERROR(db.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("dns.sender_doctor", {sender_id},
                                                "no sender with id " + std::to_string(sender_id)));
    in.email = row.Text("email");
    size_t at = in.email.rfind('@');
    in.domain = Lower(at == std::string::npos ? in.email : in.email.substr(at + 1));
    smtp_host = row.Text("smtp_host");
    in.dkim_keys.clear();  // Read may run this again after a conflict
    KILN_ASSIGN_OR_RETURN(auto keys,
                          tx.Query("dns.dkim_for_domain", {row.Int("workspace_id"), in.domain}));
    for (const auto& k : keys) {
      in.dkim_keys.push_back({k.Text("selector"), k.Text("algorithm"), k.Text("public_key")});
    }
    KILN_ASSIGN_OR_RETURN(SenderRoute route, ReadSenderRoute(tx, sender_id));
    source_ip = route.source_ip;
    proxy_url = route.proxy_url;
    if (route.pool_campaign_id != 0) {
      in.ip_origin = "the IP pool of campaign " + std::to_string(route.pool_campaign_id);
      if (route.pools > 1) {
        in.ip_warning = "the sender is in " + std::to_string(route.pools) +
                        " campaigns with IP pools; checked the pool of campaign " +
                        std::to_string(route.pool_campaign_id) +
                        ", and SPF must name the address of every pool it may use";
      }
    }
    return Status::Ok();
  }));
  auto resolve = [&](const std::string& host) -> Result<ip::address> {
    boost::system::error_code ec;
    ip::address literal = ip::make_address(host, ec);
    if (!ec) return literal;
    for (bool v6 : {false, true}) {
      KILN_ASSIGN_OR_RETURN(auto a, resolver.Address(host, v6));
      if (!a.empty()) return a.records.front();
    }
    return Status::NotFound(host + " has no A or AAAA record");
  };
  if (!source_ip.empty()) {
    boost::system::error_code ec;
    in.ip = ip::make_address(source_ip, ec);
    if (ec) {
      in.ip.reset();
      in.ip_problem = "its source IP '" + source_ip + "' is not an IP address";
    } else if (in.ip_origin.empty()) {
      in.ip_origin = "its source_ip";
    }
    return in;
  }
  if (!proxy_url.empty()) {
    std::string hostport = proxy_url.substr(
        proxy_url.find("://") == std::string::npos ? 0 : proxy_url.find("://") + 3);
    std::string host = hostport.substr(0, hostport.rfind(':'));
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    auto a = resolve(host);
    if (!a.ok()) {
      in.ip_problem = "its proxy " + proxy_url + " does not resolve: " + a.status().message();
      return in;
    }
    in.ip = *a;
    in.ip_origin = "its proxy " + proxy_url;
    in.ip_warning = "mail leaves through the SOCKS5 proxy " + proxy_url +
                    "; SPF is checked for "
                    "the proxy host's address, which is right only when the proxy sends from it";
    return in;
  }
  auto a = resolve(smtp_host);
  if (!a.ok()) {
    in.ip_problem = "its SMTP host " + smtp_host + " does not resolve: " + a.status().message();
    return in;
  }
  in.ip = *a;
  in.ip_origin = "the address of its SMTP host " + smtp_host;
  return in;
}

int RunSenderDoctor(store::Database& db, const std::string& dns_resolver, int64_t sender_id,
                    TimePoint now, std::FILE* out, std::FILE* err) {
  auto resolver = MakeResolver({.servers = dns_resolver});
  if (!resolver.ok()) {
    std::fprintf(err, "kiln doctor: %s\n", resolver.status().ToString().c_str());
    return 2;
  }
  auto in = LoadSenderDnsInput(db, **resolver, sender_id);
  if (!in.ok()) {
    std::fprintf(err, "kiln doctor: %s\n", in.status().message().c_str());
    return 2;
  }
  std::fprintf(out, "sender %lld <%s>, domain %s, DNS %s\n", static_cast<long long>(sender_id),
               in->email.c_str(), in->domain.c_str(),
               dns_resolver.empty() ? "the system's resolvers" : dns_resolver.c_str());
  auto findings = CheckSenderDns(**resolver, *in, now);
  for (const Finding& f : findings) std::fprintf(out, "%s\n", FormatFinding(f).c_str());
  return HasFailure(findings) ? 1 : 0;
}

}  // namespace kiln::dns
