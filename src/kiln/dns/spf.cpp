#include "kiln/dns/spf.h"

#include <algorithm>
#include <cctype>
#include <optional>

namespace kiln::dns {

namespace ip = boost::asio::ip;

std::string_view SpfResultName(SpfResult r) {
  switch (r) {
    case SpfResult::kNone:
      return "none";
    case SpfResult::kNeutral:
      return "neutral";
    case SpfResult::kPass:
      return "pass";
    case SpfResult::kFail:
      return "fail";
    case SpfResult::kSoftFail:
      return "softfail";
    case SpfResult::kTempError:
      return "temperror";
    case SpfResult::kPermError:
      return "permerror";
  }
  return "unknown";
}

namespace {

enum class Mech { kAll, kInclude, kA, kMx, kPtr, kIp4, kIp6, kExists };

struct Term {
  char qualifier = '+';
  Mech mech = Mech::kAll;
  std::string text;  // as written, for reasons
  std::string spec;  // domain-spec, unexpanded; "" = the current domain
  int cidr4 = 32;
  int cidr6 = 128;
  ip::address network;  // ip4 / ip6
};

struct Record {
  std::vector<Term> terms;
  std::optional<std::string> redirect;
  std::optional<std::string> exp;
};

struct Outcome {
  SpfResult result = SpfResult::kNone;
  std::string reason;
  std::string explanation;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && Lower(a) == Lower(b);
}

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

SpfResult QualifierResult(char q) {
  switch (q) {
    case '-':
      return SpfResult::kFail;
    case '~':
      return SpfResult::kSoftFail;
    case '?':
      return SpfResult::kNeutral;
    default:
      return SpfResult::kPass;
  }
}

// A domain the evaluation may start from: labels of 1..63 bytes, at most 253 bytes, two labels or
// more (RFC 7208 §4.3).
bool IsValidDomain(std::string_view d) {
  if (!d.empty() && d.back() == '.') d.remove_suffix(1);
  if (d.empty() || d.size() > 253 || d.find('.') == std::string_view::npos) return false;
  size_t start = 0;
  while (start <= d.size()) {
    size_t dot = d.find('.', start);
    if (dot == std::string_view::npos) dot = d.size();
    size_t len = dot - start;
    if (len == 0 || len > 63) return false;
    start = dot + 1;
  }
  return true;
}

// Checks the macro syntax of `s` (RFC 7208 §7.1); `exp_letters` also allows c, r and t.
Status CheckMacroString(std::string_view s, bool exp_letters) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c < 0x21 || c > 0x7e) {
      if (!(exp_letters && c == ' ')) return Status::InvalidArgument("has a character not allowed");
    }
    if (c != '%') continue;
    if (i + 1 >= s.size()) return Status::InvalidArgument("ends with a lone '%'");
    char n = s[++i];
    if (n == '%' || n == '_' || n == '-') continue;
    if (n != '{') return Status::InvalidArgument("has '%' not followed by {, %, _ or -");
    size_t close = s.find('}', i);
    if (close == std::string_view::npos) return Status::InvalidArgument("has an unclosed %{");
    std::string_view body = s.substr(i + 1, close - i - 1);
    if (body.empty()) return Status::InvalidArgument("has an empty %{}");
    char letter = static_cast<char>(std::tolower(static_cast<unsigned char>(body[0])));
    std::string_view allowed = exp_letters ? "slodipvhcrt" : "slodipvh";
    if (allowed.find(letter) == std::string_view::npos) {
      return Status::InvalidArgument("has an unknown macro letter '" + std::string(1, body[0]) +
                                     "'");
    }
    size_t j = 1;
    while (j < body.size() && std::isdigit(static_cast<unsigned char>(body[j]))) ++j;
    if (j < body.size() && (body[j] == 'r' || body[j] == 'R')) ++j;
    for (; j < body.size(); ++j) {
      if (std::string_view(".-+,/_=").find(body[j]) == std::string_view::npos) {
        return Status::InvalidArgument("has a bad macro transformer in %{" + std::string(body) +
                                       "}");
      }
    }
    i = close;
  }
  return Status::Ok();
}

// domain-spec = macro-string domain-end (RFC 7208 §7.1).
Status CheckDomainSpec(std::string_view spec) {
  if (spec.empty()) return Status::InvalidArgument("has an empty domain");
  KILN_RETURN_IF_ERROR(CheckMacroString(spec, false));
  if (spec.back() == '}') return Status::Ok();  // ends in a macro-expand
  std::string_view d = spec;
  if (d.back() == '.') d.remove_suffix(1);
  size_t dot = d.rfind('.');
  if (dot == std::string_view::npos) return Status::InvalidArgument("is not a domain name");
  std::string_view top = d.substr(dot + 1);
  if (top.empty() || top.front() == '-' || top.back() == '-') {
    return Status::InvalidArgument("does not end in a valid top label");
  }
  bool has_alpha = false;
  for (char c : top) {
    if (!IsAlnum(c) && c != '-') return Status::InvalidArgument("does not end in a valid label");
    if (std::isalpha(static_cast<unsigned char>(c))) has_alpha = true;
  }
  if (!has_alpha && top.find('-') == std::string_view::npos) {
    return Status::InvalidArgument("ends in an all-numeric label");
  }
  return Status::Ok();
}

// "/24", "//64", "/24//64" (dual) or "/24" (single, `max` 32 or 128).
Status ParseCidr(std::string_view s, bool dual, bool v6_only, Term* t) {
  auto number = [](std::string_view n, int max, int* out) -> bool {
    if (n.empty() || n.size() > 3 || (n.size() > 1 && n[0] == '0')) return false;
    int v = 0;
    for (char c : n) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      v = v * 10 + (c - '0');
    }
    if (v > max) return false;
    *out = v;
    return true;
  };
  if (s.empty()) return Status::Ok();
  if (s[0] != '/') return Status::InvalidArgument("has a bad CIDR length");
  if (!dual) {
    int max = v6_only ? 128 : 32;
    if (!number(s.substr(1), max, v6_only ? &t->cidr6 : &t->cidr4)) {
      return Status::InvalidArgument("has a bad CIDR length (0-" + std::to_string(max) + ")");
    }
    return Status::Ok();
  }
  size_t dbl = s.find("//");
  std::string_view v4 =
      dbl == 0 ? std::string_view() : s.substr(1, dbl == s.npos ? s.npos : dbl - 1);
  if (dbl != 0 && !number(v4, 32, &t->cidr4)) {
    return Status::InvalidArgument("has a bad IPv4 CIDR length (0-32)");
  }
  if (dbl != s.npos && !number(s.substr(dbl + 2), 128, &t->cidr6)) {
    return Status::InvalidArgument("has a bad IPv6 CIDR length (0-128)");
  }
  return Status::Ok();
}

// The first '/' that is not inside a %{...}.
size_t CidrStart(std::string_view s) {
  bool in_macro = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '{' && i > 0 && s[i - 1] == '%') in_macro = true;
    if (s[i] == '}') in_macro = false;
    if (s[i] == '/' && !in_macro) return i;
  }
  return std::string_view::npos;
}

Result<Term> ParseMechanism(std::string_view tok) {
  Term t;
  t.text = std::string(tok);
  if (std::string_view("+-~?").find(tok[0]) != std::string_view::npos) {
    t.qualifier = tok[0];
    tok.remove_prefix(1);
  }
  size_t name_end = tok.find_first_of(":/");
  std::string name = Lower(tok.substr(0, name_end));
  std::string_view rest = name_end == std::string_view::npos ? "" : tok.substr(name_end);
  std::string_view arg;  // after ':'
  bool has_colon = !rest.empty() && rest[0] == ':';
  if (has_colon) arg = rest.substr(1);
  std::string_view cidr = has_colon ? "" : rest;

  auto with_domain = [&](bool required, bool dual_cidr) -> Status {
    if (has_colon) {
      size_t slash = dual_cidr ? CidrStart(arg) : std::string_view::npos;
      std::string_view spec = arg.substr(0, slash);
      KILN_RETURN_IF_ERROR(CheckDomainSpec(spec));
      t.spec = std::string(spec);
      if (slash != std::string_view::npos) {
        KILN_RETURN_IF_ERROR(ParseCidr(arg.substr(slash), true, false, &t));
      }
    } else if (required) {
      return Status::InvalidArgument("needs ':domain'");
    } else if (!cidr.empty()) {
      if (!dual_cidr) return Status::InvalidArgument("takes no CIDR length");
      KILN_RETURN_IF_ERROR(ParseCidr(cidr, true, false, &t));
    }
    return Status::Ok();
  };

  if (name == "all") {
    if (!rest.empty()) return Status::InvalidArgument("'all' takes no argument");
    t.mech = Mech::kAll;
  } else if (name == "include" || name == "exists") {
    t.mech = name == "include" ? Mech::kInclude : Mech::kExists;
    KILN_RETURN_IF_ERROR(with_domain(true, false));
  } else if (name == "a" || name == "mx") {
    t.mech = name == "a" ? Mech::kA : Mech::kMx;
    KILN_RETURN_IF_ERROR(with_domain(false, true));
  } else if (name == "ptr") {
    t.mech = Mech::kPtr;
    KILN_RETURN_IF_ERROR(with_domain(false, false));
  } else if (name == "ip4" || name == "ip6") {
    bool v6 = name == "ip6";
    t.mech = v6 ? Mech::kIp6 : Mech::kIp4;
    if (!has_colon) return Status::InvalidArgument("needs ':address'");
    size_t slash = arg.find('/');
    std::string addr(arg.substr(0, slash));
    boost::system::error_code ec;
    t.network = ip::make_address(addr, ec);
    if (ec || t.network.is_v6() != v6 || (!v6 && std::count(addr.begin(), addr.end(), '.') != 3)) {
      return Status::InvalidArgument("'" + addr + "' is not an IPv" + (v6 ? "6" : "4") +
                                     " address");
    }
    if (slash != std::string_view::npos) {
      KILN_RETURN_IF_ERROR(ParseCidr(arg.substr(slash), false, v6, &t));
    }
  } else {
    return Status::InvalidArgument("unknown mechanism '" + name + "'");
  }
  return t;
}

// Parses a record already known to start with "v=spf1". Failure: InvalidArgument naming the term.
Result<Record> ParseRecord(std::string_view text) {
  Record rec;
  size_t pos = 6;  // after "v=spf1"
  while (pos < text.size()) {
    while (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos >= text.size()) break;
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view tok = text.substr(pos, end - pos);
    pos = end;
    auto fail = [&](const Status& s) {
      return Status::InvalidArgument("term '" + std::string(tok) + "' " + s.message());
    };
    size_t sep = tok.find_first_of(":/=");
    if (sep != std::string_view::npos && tok[sep] == '=') {
      std::string_view name = tok.substr(0, sep);
      bool valid_name = !name.empty() && std::isalpha(static_cast<unsigned char>(name[0]));
      for (char c : name) {
        if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') valid_name = false;
      }
      if (!valid_name) return fail(Status::InvalidArgument("is not a valid modifier"));
      std::string_view value = tok.substr(sep + 1);
      std::string lname = Lower(name);
      if (lname == "redirect" || lname == "exp") {
        auto& slot = lname == "redirect" ? rec.redirect : rec.exp;
        if (slot) return fail(Status::InvalidArgument("repeats " + lname + "= (at most one)"));
        Status st = CheckDomainSpec(value);
        if (!st.ok()) return fail(st);
        slot = std::string(value);
      } else {
        Status st = CheckMacroString(value, false);  // unknown modifiers are ignored, but parsed
        if (!st.ok()) return fail(st);
      }
      continue;
    }
    auto term = ParseMechanism(tok);
    if (!term.ok()) return fail(term.status());
    rec.terms.push_back(std::move(term).value());
  }
  return rec;
}

bool IsSpfRecord(std::string_view txt) {
  return txt.size() >= 6 && IEquals(txt.substr(0, 6), "v=spf1") &&
         (txt.size() == 6 || txt[6] == ' ');
}

bool InNetwork(const ip::address& client, const ip::address& net, int cidr4, int cidr6) {
  ip::address c = client;
  if (c.is_v6() && c.to_v6().is_v4_mapped()) {
    c = ip::make_address_v4(ip::v4_mapped, c.to_v6());
  }
  if (c.is_v4() != net.is_v4()) return false;
  if (c.is_v4()) {
    uint32_t mask = cidr4 == 0 ? 0 : ~uint32_t{0} << (32 - cidr4);
    return (c.to_v4().to_uint() & mask) == (net.to_v4().to_uint() & mask);
  }
  auto a = c.to_v6().to_bytes();
  auto b = net.to_v6().to_bytes();
  int bits = cidr6;
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

std::string UrlEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    if (IsAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 0xf];
    }
  }
  return out;
}

class Evaluator {
 public:
  Evaluator(Resolver& resolver, const SpfQuery& query, SpfEvaluation* out)
      : resolver_(resolver), query_(query), out_(out) {
    ip_ = query.ip;
    if (ip_.is_v6() && ip_.to_v6().is_v4_mapped()) {
      ip_ = ip::make_address_v4(ip::v4_mapped, ip_.to_v6());
    }
    sender_ = query.sender.empty() ? query.domain : query.sender;
    if (sender_.find('@') == std::string::npos) sender_ = "postmaster@" + sender_;
    if (sender_.front() == '@') sender_ = "postmaster" + sender_;
  }

  Outcome Run(const std::string& domain, bool top) {
    std::string d = Lower(domain);
    while (!d.empty() && d.back() == '.') d.pop_back();
    if (!IsValidDomain(d)) return {SpfResult::kNone, "'" + d + "' is not a valid domain name"};
    auto txt = resolver_.Txt(d);
    if (!txt.ok()) return {SpfResult::kTempError, txt.status().message()};
    std::vector<std::string> spf;
    for (const std::string& r : txt->records) {
      if (IsSpfRecord(r)) spf.push_back(r);
    }
    if (spf.empty()) {
      return {SpfResult::kNone, std::string(txt->nxdomain ? "the domain " + d + " does not exist"
                                                          : "no SPF record at " + d)};
    }
    if (top) out_->record = spf.size() == 1 ? spf[0] : "";
    if (spf.size() > 1) {
      return {SpfResult::kPermError, d + " publishes " + std::to_string(spf.size()) +
                                         " SPF records (exactly one is allowed)"};
    }
    out_->trace.push_back(d + ": " + spf[0]);
    auto rec = ParseRecord(spf[0]);
    if (!rec.ok()) {
      return {SpfResult::kPermError,
              "syntax error in the SPF record of " + d + ": " + rec.status().message()};
    }
    Warn(d, *rec);
    for (const Term& t : rec->terms) {
      auto m = Matches(t, d);
      if (!m.ok()) return m.status();
      if (!*m) continue;
      Outcome o{QualifierResult(t.qualifier), "matched " + t.text + " in the record of " + d};
      if (o.result == SpfResult::kFail && rec->exp) o.explanation = Explain(*rec->exp, d);
      return o;
    }
    if (rec->redirect) {
      if (!Count("redirect=" + *rec->redirect, d)) return limit_outcome_;
      auto target = ExpandDomain(*rec->redirect, d);
      if (!target.ok()) return {SpfResult::kPermError, target.status().message()};
      Outcome o = Run(*target, false);
      if (o.result == SpfResult::kNone) {
        return {SpfResult::kPermError,
                "redirect=" + *target + " in the record of " + d + " leads to " + o.reason};
      }
      return o;
    }
    return {SpfResult::kNeutral, "nothing matched in the record of " + d + " and it has no 'all'"};
  }

 private:
  // A match result, or the Outcome that ends the evaluation (an error or a limit).
  template <typename T>
  struct Maybe {
    std::optional<T> value;
    Outcome stop;
    bool ok() const { return value.has_value(); }
    const T& operator*() const { return *value; }
    Outcome status() const { return stop; }
  };

  void Warn(const std::string& d, const Record& rec) {
    for (const Term& t : rec.terms) {
      if (t.mech == Mech::kAll && t.qualifier == '+') {
        out_->warnings.push_back(
            "the record of " + d + " ends in '" + t.text +
            "': it authorises every host on the Internet to send as this domain; use -all or ~all");
      } else if (t.mech == Mech::kAll && t.qualifier == '?') {
        out_->warnings.push_back("the record of " + d +
                                 " ends in '?all': mail from other hosts is neutral, not "
                                 "refused; use -all or ~all");
      } else if (t.mech == Mech::kPtr) {
        out_->warnings.push_back("the record of " + d + " uses '" + t.text +
                                 "': ptr is slow, unreliable and deprecated (RFC 7208 §5.5)");
      }
    }
  }

  // Counts one term that looks DNS up. False (with limit_outcome_ set) past the limit.
  bool Count(const std::string& term, const std::string& d) {
    ++out_->dns_lookups;
    if (out_->dns_lookups > kSpfMaxDnsLookups) {
      limit_outcome_ = {SpfResult::kPermError, "more than " + std::to_string(kSpfMaxDnsLookups) +
                                                   " DNS lookups: " + term + " in the record of " +
                                                   d + " is lookup number " +
                                                   std::to_string(out_->dns_lookups) +
                                                   "; flatten includes into ip4:/ip6: ranges"};
      return false;
    }
    return true;
  }

  // Counts a lookup that answered nothing. False (with limit_outcome_ set) past the limit.
  bool Void(const std::string& name, const std::string& d) {
    ++out_->void_lookups;
    if (out_->void_lookups > kSpfMaxVoidLookups) {
      limit_outcome_ = {SpfResult::kPermError, "more than " + std::to_string(kSpfMaxVoidLookups) +
                                                   " lookups answered nothing (the last: " + name +
                                                   ", in the record of " + d +
                                                   "); remove the names that do not exist"};
      return false;
    }
    return true;
  }

  Maybe<bool> Stopped(Outcome o) { return {std::nullopt, std::move(o)}; }

  Maybe<bool> Matches(const Term& t, const std::string& d) {
    auto target_of = [&](const Term& term) -> Result<std::string> {
      if (term.spec.empty()) return d;
      return ExpandDomain(term.spec, d);
    };
    switch (t.mech) {
      case Mech::kAll:
        return {true, {}};
      case Mech::kIp4:
      case Mech::kIp6:
        return {InNetwork(ip_, t.network, t.cidr4, t.cidr6), {}};
      case Mech::kInclude: {
        if (!Count(t.text, d)) return Stopped(limit_outcome_);
        auto target = target_of(t);
        if (!target.ok()) return Stopped({SpfResult::kPermError, target.status().message()});
        Outcome o = Run(*target, false);
        switch (o.result) {
          case SpfResult::kPass:
            return {true, {}};
          case SpfResult::kFail:
          case SpfResult::kSoftFail:
          case SpfResult::kNeutral:
            return {false, {}};
          case SpfResult::kTempError:
            return Stopped(o);
          case SpfResult::kPermError:
            return Stopped(o);
          case SpfResult::kNone:
            return Stopped({SpfResult::kPermError,
                            t.text + " in the record of " + d + " leads to " + o.reason});
        }
        return {false, {}};
      }
      case Mech::kA: {
        if (!Count(t.text, d)) return Stopped(limit_outcome_);
        auto target = target_of(t);
        if (!target.ok()) return Stopped({SpfResult::kPermError, target.status().message()});
        auto addrs = resolver_.Address(*target, ip_.is_v6());
        if (!addrs.ok()) return Stopped({SpfResult::kTempError, addrs.status().message()});
        if (addrs->empty() && !Void(*target, d)) return Stopped(limit_outcome_);
        for (const auto& a : addrs->records) {
          if (InNetwork(ip_, a, t.cidr4, t.cidr6)) return {true, {}};
        }
        return {false, {}};
      }
      case Mech::kMx: {
        if (!Count(t.text, d)) return Stopped(limit_outcome_);
        auto target = target_of(t);
        if (!target.ok()) return Stopped({SpfResult::kPermError, target.status().message()});
        auto mx = resolver_.Mx(*target);
        if (!mx.ok()) return Stopped({SpfResult::kTempError, mx.status().message()});
        if (mx->empty() && !Void(*target, d)) return Stopped(limit_outcome_);
        if (mx->records.size() > 10) {
          return Stopped({SpfResult::kPermError, *target + " has more than 10 MX records (" +
                                                     t.text + " in the record of " + d + ")"});
        }
        for (const MxRecord& m : mx->records) {
          if (m.exchange.empty()) continue;
          auto addrs = resolver_.Address(m.exchange, ip_.is_v6());
          if (!addrs.ok()) return Stopped({SpfResult::kTempError, addrs.status().message()});
          for (const auto& a : addrs->records) {
            if (InNetwork(ip_, a, t.cidr4, t.cidr6)) return {true, {}};
          }
        }
        return {false, {}};
      }
      case Mech::kPtr: {
        if (!Count(t.text, d)) return Stopped(limit_outcome_);
        auto target = target_of(t);
        if (!target.ok()) return Stopped({SpfResult::kPermError, target.status().message()});
        std::string want = Lower(*target);
        const std::vector<std::string>& names = ValidatedNames(d);
        if (VoidLimitPassed()) return Stopped(limit_outcome_);
        for (const std::string& name : names) {
          std::string n = Lower(name);
          if (n == want || (n.size() > want.size() && n.ends_with("." + want))) {
            return {true, {}};
          }
        }
        return {false, {}};
      }
      case Mech::kExists: {
        if (!Count(t.text, d)) return Stopped(limit_outcome_);
        auto target = target_of(t);
        if (!target.ok()) return Stopped({SpfResult::kPermError, target.status().message()});
        auto addrs = resolver_.Address(*target, false);
        if (!addrs.ok()) return Stopped({SpfResult::kTempError, addrs.status().message()});
        if (addrs->empty() && !Void(*target, d)) return Stopped(limit_outcome_);
        return {!addrs->empty(), {}};
      }
    }
    return {false, {}};
  }

  // Names of the client IP whose forward lookup gives the IP back (RFC 7208 §5.5), at most 10
  // PTR names tried. DNS errors just leave names out. Looked up once per evaluation (the IP does
  // not change), so that a record repeating %{p} or ptr cannot multiply the queries.
  const std::vector<std::string>& ValidatedNames(const std::string& d) {
    if (!validated_names_) validated_names_ = LookUpValidatedNames(d);
    return *validated_names_;
  }

  // True once a void lookup went past the limit (limit_outcome_ says where). For the callers of
  // ValidatedNames, which cannot stop the evaluation themselves.
  bool VoidLimitPassed() const { return out_->void_lookups > kSpfMaxVoidLookups; }

  std::vector<std::string> LookUpValidatedNames(const std::string& d) {
    std::vector<std::string> out;
    auto names = resolver_.Ptr(ip_);
    if (!names.ok()) return out;
    if (names->empty()) {
      if (!Void(ReverseName(ip_), d)) return out;
    }
    for (size_t i = 0; i < names->records.size() && i < 10; ++i) {
      auto addrs = resolver_.Address(names->records[i], ip_.is_v6());
      if (!addrs.ok()) continue;
      for (const auto& a : addrs->records) {
        if (a == ip_) {
          out.push_back(names->records[i]);
          break;
        }
      }
    }
    return out;
  }

  std::string MacroValue(char letter, const std::string& d) {
    std::string local = sender_.substr(0, sender_.rfind('@'));
    std::string sender_domain = sender_.substr(sender_.rfind('@') + 1);
    switch (letter) {
      case 's':
        return sender_;
      case 'l':
        return local;
      case 'o':
        return sender_domain;
      case 'd':
        return d;
      case 'i': {
        if (ip_.is_v4()) return ip_.to_string();
        std::string rev = ReverseName(ip_);  // nibbles reversed: undo by reversing the parts
        std::vector<std::string> parts;
        for (size_t p = 0; p < 32; ++p) parts.push_back(std::string(1, rev[p * 2]));
        std::reverse(parts.begin(), parts.end());
        std::string out;
        for (const auto& p : parts) out += (out.empty() ? "" : ".") + p;
        return out;
      }
      case 'p': {
        auto names = ValidatedNames(d);
        if (names.empty()) return "unknown";
        for (const auto& n : names) {
          if (IEquals(n, d) || Lower(n).ends_with("." + Lower(d))) return n;
        }
        return names.front();
      }
      case 'v':
        return ip_.is_v4() ? "in-addr" : "ip6";
      case 'h':
        return query_.helo;
      case 'c':
        return ip_.to_string();
      case 'r':
        return "unknown";
      case 't':
        return std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(query_.now.time_since_epoch())
                .count());
    }
    return "";
  }

  // Expands the macros of `s` (RFC 7208 §7.3). The syntax was checked when parsing.
  Result<std::string> Expand(std::string_view s, const std::string& d) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '%') {
        out += s[i];
        continue;
      }
      char n = s[++i];
      if (n == '%') {
        out += '%';
        continue;
      }
      if (n == '_') {
        out += ' ';
        continue;
      }
      if (n == '-') {
        out += "%20";
        continue;
      }
      size_t close = s.find('}', i);
      std::string_view body = s.substr(i + 1, close - i - 1);
      i = close;
      char letter = body[0];
      bool upper = std::isupper(static_cast<unsigned char>(letter)) != 0;
      std::string value =
          MacroValue(static_cast<char>(std::tolower(static_cast<unsigned char>(letter))), d);
      if (VoidLimitPassed()) return Status::InvalidArgument(limit_outcome_.reason);
      size_t j = 1;
      int keep = 0;
      bool has_digits = false;
      while (j < body.size() && std::isdigit(static_cast<unsigned char>(body[j]))) {
        has_digits = true;
        keep = std::min(keep * 10 + (body[j] - '0'), 1000);
        ++j;
      }
      if (has_digits && keep == 0) {
        return Status::InvalidArgument("macro %{" + std::string(body) + "} keeps zero parts");
      }
      bool reverse = j < body.size() && (body[j] == 'r' || body[j] == 'R');
      if (reverse) ++j;
      std::string delims(body.substr(j));
      if (delims.empty()) delims = ".";
      std::vector<std::string> parts;
      std::string cur;
      for (char c : value) {
        if (delims.find(c) != std::string::npos) {
          parts.push_back(cur);
          cur.clear();
        } else {
          cur += c;
        }
      }
      parts.push_back(cur);
      if (reverse) std::reverse(parts.begin(), parts.end());
      if (has_digits && static_cast<size_t>(keep) < parts.size()) {
        parts.erase(parts.begin(), parts.end() - keep);
      }
      std::string joined;
      for (size_t p = 0; p < parts.size(); ++p) joined += (p ? "." : "") + parts[p];
      out += upper ? UrlEscape(joined) : joined;
    }
    return out;
  }

  // Expands a domain-spec and shortens it to 253 bytes by dropping labels on the left.
  Result<std::string> ExpandDomain(std::string_view spec, const std::string& d) {
    KILN_ASSIGN_OR_RETURN(std::string out, Expand(spec, d));
    while (!out.empty() && out.back() == '.') out.pop_back();
    while (out.size() > 253) {
      size_t dot = out.find('.');
      if (dot == std::string::npos) break;
      out.erase(0, dot + 1);
    }
    return out;
  }

  // The exp= text (RFC 7208 §6.2); "" when it cannot be had. Does not count toward the limits.
  std::string Explain(const std::string& spec, const std::string& d) {
    auto target = ExpandDomain(spec, d);
    if (!target.ok() || !IsValidDomain(*target)) return "";
    auto txt = resolver_.Txt(*target);
    if (!txt.ok() || txt->records.size() != 1) return "";
    if (!CheckMacroString(txt->records[0], true).ok()) return "";
    auto text = Expand(txt->records[0], d);
    return text.ok() ? *text : "";
  }

  Resolver& resolver_;
  const SpfQuery& query_;
  SpfEvaluation* out_;
  ip::address ip_;
  std::string sender_;
  Outcome limit_outcome_;
  std::optional<std::vector<std::string>> validated_names_;
};

}  // namespace

SpfEvaluation CheckHost(Resolver& resolver, const SpfQuery& query) {
  SpfEvaluation out;
  Evaluator ev(resolver, query, &out);
  Outcome o = ev.Run(query.domain, true);
  out.result = o.result;
  out.reason = std::move(o.reason);
  out.explanation = std::move(o.explanation);
  if (out.dns_lookups >= 8 && out.dns_lookups <= kSpfMaxDnsLookups) {
    out.warnings.push_back("the evaluation took " + std::to_string(out.dns_lookups) +
                           " of the 10 DNS lookups SPF allows; one more include breaks it");
  }
  return out;
}

}  // namespace kiln::dns
