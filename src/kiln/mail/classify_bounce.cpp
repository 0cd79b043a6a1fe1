#include "kiln/mail/classify_bounce.h"

#include <array>
#include <utility>

namespace kiln::mail {
namespace {

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsWs(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWs(s.back())) s.remove_suffix(1);
  return s;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

template <size_t N>
bool ContainsAny(std::string_view haystack, const std::array<std::string_view, N>& needles) {
  for (auto n : needles) {
    if (Contains(haystack, n)) return true;
  }
  return false;
}

std::string Collapse(std::string_view s, size_t max = 1000) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (IsWs(c)) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
    if (out.size() >= max) break;
  }
  return out;
}

std::vector<std::string_view> SplitLines(std::string_view text, size_t max_lines = 20000) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= text.size() && lines.size() < max_lines) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (eol == text.size()) break;
    pos = eol + 1;
  }
  return lines;
}

bool LooksLikeAddress(std::string_view s) {
  if (s.size() < 3 || s.size() > 320) return false;
  const size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= s.size()) return false;
  if (s.find('@', at + 1) != std::string_view::npos) return false;
  for (char c : s) {
    if (IsWs(c) || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' || c == ';' ||
        c == '"' || c == '\'') {
      return false;
    }
  }
  return true;
}

// "<a@b>" or "a@b" -> "a@b"; anything else -> "".
std::string BareAddress(std::string_view s) {
  s = Trim(s);
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  return LooksLikeAddress(s) ? std::string(s) : std::string();
}

// The first basic SMTP reply code ("550") standing alone in `text`, else "".
std::string FindBasicCode(std::string_view text) {
  for (size_t i = 0; i + 3 <= text.size(); ++i) {
    if ((text[i] != '4' && text[i] != '5') || !IsDigit(text[i + 1]) || !IsDigit(text[i + 2])) {
      continue;
    }
    if (i > 0 && (IsDigit(text[i - 1]) || text[i - 1] == '.' || text[i - 1] == '#')) continue;
    if (i + 3 < text.size() && text[i + 3] != ' ' && text[i + 3] != '-' && text[i + 3] != ':' &&
        text[i + 3] != '\'' && text[i + 3] != ')') {
      continue;
    }
    return std::string(text.substr(i, 3));
  }
  return {};
}

std::string StatusOf(std::string_view text) {
  std::string s = FindEnhancedStatus(text);
  return s.empty() ? FindBasicCode(text) : s;
}

// The value after "type;" in DSN fields such as "rfc822; user@example.com".
std::string_view AfterType(std::string_view v) {
  const size_t semi = v.find(';');
  return Trim(semi == std::string_view::npos ? v : v.substr(semi + 1));
}

struct Finding {
  std::string recipient;
  std::string diagnostic;
};

void AddFinding(std::vector<Finding>& out, std::string recipient, std::string_view diagnostic) {
  for (auto& f : out) {
    if (!recipient.empty() && AsciiLower(f.recipient) == AsciiLower(recipient)) {
      if (f.diagnostic.empty()) f.diagnostic = Collapse(diagnostic);
      return;
    }
  }
  if (out.size() < 200) out.push_back({std::move(recipient), Collapse(diagnostic)});
}

// Addresses at the start of a line ("<a@b>:", "<a@b>: text", "<a@b>", "  a@b") followed by an
// indented or non-blank block: qmail, Yahoo, Courier, Postfix, Sendmail, Exim.
void ScanAddressBlocks(const std::vector<std::string_view>& lines, std::vector<Finding>& out) {
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    const size_t indent = line.find_first_not_of(" \t");
    if (indent == std::string_view::npos || indent > 4) continue;
    std::string_view rest = line.substr(indent);
    std::string address;
    std::string diag;
    bool block_style = false;  // "<a@b>:" or a bare address: the diagnostic follows below
    if (rest.front() == '<') {
      const size_t close = rest.find('>');
      if (close == std::string_view::npos) continue;
      address = BareAddress(rest.substr(0, close + 1));
      if (address.empty()) continue;
      std::string_view after = Trim(rest.substr(close + 1));
      if (after.empty() || after == ":") {
        block_style = true;
      } else if (after.front() == ':') {
        diag = std::string(Trim(after.substr(1)));
      } else if (after.rfind("...", 0) == 0) {
        diag = std::string(Trim(after.substr(3)));  // Sendmail "<a@b>... User unknown"
      } else {
        continue;
      }
    } else {
      std::string_view trimmed = Trim(rest);
      // Exchange writes "a@b (a@b)" and "a@b <mailto:a@b>".
      const size_t sp = trimmed.find(' ');
      std::string_view first = sp == std::string_view::npos ? trimmed : trimmed.substr(0, sp);
      if (!trimmed.empty() && trimmed.back() == ':')
        first = Trim(trimmed.substr(0, trimmed.size() - 1));
      address = BareAddress(first);
      if (address.empty()) continue;
      if (sp != std::string_view::npos && first.size() != trimmed.size()) {
        std::string_view tail = Trim(trimmed.substr(sp));
        if (!(tail.front() == '(' || tail.front() == '<')) continue;
      }
      block_style = true;
    }
    if (block_style) {
      // Following lines until a blank line (or the next address line) are the diagnostic.
      for (size_t j = i + 1; j < lines.size() && j <= i + 25; ++j) {
        std::string_view next = Trim(lines[j]);
        if (next.empty()) break;
        if (next.front() == '<' && !BareAddress(next.substr(0, next.find('>') + 1)).empty() &&
            next.rfind("<<<", 0) != 0) {
          break;
        }
        diag.append(next);
        diag.push_back('\n');
      }
    } else {
      for (size_t j = i + 1; j < lines.size() && j <= i + 10; ++j) {
        if (lines[j].empty() || (lines[j].front() != ' ' && lines[j].front() != '\t')) break;
        diag.push_back(' ');
        diag.append(Trim(lines[j]));
      }
    }
    // Prefer the remote server's own words when a transcript is present.
    std::string picked;
    for (std::string_view d : SplitLines(diag)) {
      d = Trim(d);
      if (d.rfind("<<<", 0) == 0 || d.rfind("Remote host said:", 0) == 0 ||
          d.rfind("(reason:", 0) == 0) {
        picked.append(d);
        picked.push_back(' ');
      }
    }
    AddFinding(out, address, picked.empty() ? diag : picked + diag);
  }
}

// Exchange: "Remote Server returned '550 5.1.10 ...'" after the recipient's line.
void ScanExchange(const std::vector<std::string_view>& lines, std::vector<Finding>& out) {
  std::string last_address;
  for (std::string_view line : lines) {
    std::string_view t = Trim(line);
    const std::string lower = AsciiLower(t);
    const size_t rs = lower.find("remote server returned");
    if (rs != std::string::npos) {
      std::string_view diag = t.substr(rs + 22);
      diag = Trim(diag);
      if (!diag.empty() && (diag.front() == '\'' || diag.front() == '"')) {
        const char q = diag.front();
        diag.remove_prefix(1);
        const size_t end = diag.find(q);
        if (end != std::string_view::npos) diag = diag.substr(0, end);
      }
      AddFinding(out, last_address, diag);
      continue;
    }
    const size_t sp = t.find(' ');
    std::string address = BareAddress(sp == std::string_view::npos ? t : t.substr(0, sp));
    if (!address.empty()) last_address = address;
    // O365: "Your message to a@b couldn't be delivered."
    const size_t ym = lower.find("your message to ");
    if (ym != std::string::npos && Contains(lower, "couldn't be delivered")) {
      std::string_view rest = t.substr(ym + 16);
      const size_t end = rest.find(' ');
      std::string a = BareAddress(end == std::string_view::npos ? rest : rest.substr(0, end));
      if (!a.empty()) last_address = a;
    }
  }
}

// Gmail: "Your message wasn't delivered to a@b because ..." + "The response ... was:" block.
void ScanGmail(const std::vector<std::string_view>& lines, std::vector<Finding>& out) {
  std::string address;
  std::string diag;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view t = Trim(lines[i]);
    const std::string lower = AsciiLower(t);
    for (std::string_view marker : {"wasn't delivered to ", "was not delivered to ",
                                    "there was a problem delivering your message to "}) {
      const size_t p = lower.find(marker);
      if (p == std::string::npos || !address.empty()) continue;
      std::string_view rest = t.substr(p + marker.size());
      size_t end = 0;
      while (end < rest.size() && !IsWs(rest[end]) && rest[end] != ',') ++end;
      std::string_view cand = rest.substr(0, end);
      while (!cand.empty() && cand.back() == '.') cand.remove_suffix(1);
      address = BareAddress(cand);
    }
    if (lower.rfind("the response from the remote server was:", 0) == 0 ||
        lower.rfind("the response was:", 0) == 0 || lower.rfind("dns error:", 0) == 0) {
      if (lower.rfind("dns error:", 0) == 0) diag.append(t).push_back(' ');
      size_t j = i + 1;
      while (j < lines.size() && j <= i + 3 && Trim(lines[j]).empty()) ++j;
      for (const size_t stop = j + 10; j < lines.size() && j < stop; ++j) {
        std::string_view n = Trim(lines[j]);
        if (n.empty()) break;
        diag.append(n).push_back(' ');
      }
    }
  }
  if (!address.empty() || !diag.empty()) AddFinding(out, address, diag);
}

constexpr std::array<std::string_view, 7> kDaemonLocalParts = {
    "mailer-daemon", "postmaster", "mail-delivery-subsystem", "mailerdaemon", "mailer_daemon",
    "maildelivery",  "bounce"};

constexpr std::array<std::string_view, 31> kBounceSubjects = {"undelivered mail returned to sender",
                                                              "mail delivery failed",
                                                              "delivery status notification",
                                                              "undeliverable",
                                                              "undelivered",
                                                              "failure notice",
                                                              "returned mail",
                                                              "delivery failure",
                                                              "mail system error",
                                                              "message not delivered",
                                                              "delivery has failed",
                                                              "non remis",
                                                              "unzustellbar",
                                                              "onbestelbaar",
                                                              "no se puede entregar",
                                                              "non recapitabile",
                                                              "olevererbart",
                                                              "could not be delivered",
                                                              "couldn't be delivered",
                                                              "delivery notification",
                                                              "warning: message",
                                                              "message delayed",
                                                              "delayed mail",
                                                              "mail delivery failure",
                                                              "delivery incomplete",
                                                              "returned to sender",
                                                              "nondeliverable",
                                                              "delivery failed",
                                                              "address not found",
                                                              "mail delivery problem",
                                                              "mail delivery status"};

constexpr std::array<std::string_view, 8> kDelayWords = {
    "delayed", "will continue trying", "will retry",       "still trying", "not yet been delivered",
    "(delay)", "warning: message",     "temporary failure"};

std::string DetectFormat(std::string_view lower_text, std::string_view lower_from) {
  if (Contains(lower_text, "qmail-send program")) return "qmail";
  if (Contains(lower_text, "created automatically by mail delivery software")) return "exim";
  if (Contains(lower_text, "this is the mail system at host")) return "postfix";
  if (Contains(lower_text, "courier mail server")) return "courier";
  if (Contains(lower_text, "permanent fatal errors") ||
      Contains(lower_text, "transcript of session follows")) {
    return "sendmail";
  }
  if (Contains(lower_text, "delivery has failed to these recipients") ||
      Contains(lower_text, "remote server returned") ||
      Contains(lower_text, "diagnostic information for administrators")) {
    return "exchange";
  }
  if (Contains(lower_from, "googlemail.com") || Contains(lower_from, "google.com") ||
      Contains(lower_text, "wasn't delivered to")) {
    return "gmail";
  }
  if (Contains(lower_text, "unable to deliver your message to the following address")) {
    return "yahoo";
  }
  return "generic";
}

}  // namespace

std::string_view BounceReasonName(BounceReason reason) {
  switch (reason) {
    case BounceReason::kUserUnknown:
      return "user_unknown";
    case BounceReason::kMailboxFull:
      return "mailbox_full";
    case BounceReason::kDomainNotFound:
      return "domain_not_found";
    case BounceReason::kBlockedSpam:
      return "blocked_spam";
    case BounceReason::kPolicyAuth:
      return "policy_auth";
    case BounceReason::kRateLimited:
      return "rate_limited";
    case BounceReason::kMessageTooLarge:
      return "message_too_large";
    case BounceReason::kExpired:
      return "expired";
    case BounceReason::kOther:
      return "other";
  }
  return "other";
}

std::string FindEnhancedStatus(std::string_view text) {
  for (size_t i = 0; i + 5 <= text.size(); ++i) {
    const char c = text[i];
    if ((c != '2' && c != '4' && c != '5') || text[i + 1] != '.') continue;
    if (i > 0 && (IsDigit(text[i - 1]) || text[i - 1] == '.')) continue;
    size_t j = i + 2;
    size_t n1 = 0;
    while (j < text.size() && IsDigit(text[j]) && n1 < 4) ++j, ++n1;
    if (n1 == 0 || n1 > 3 || j >= text.size() || text[j] != '.') continue;
    ++j;
    size_t n2 = 0;
    while (j < text.size() && IsDigit(text[j]) && n2 < 4) ++j, ++n2;
    if (n2 == 0 || n2 > 3) continue;
    if (j < text.size() &&
        (IsDigit(text[j]) || (text[j] == '.' && j + 1 < text.size() && IsDigit(text[j + 1])))) {
      continue;  // an IP address or a version number
    }
    return std::string(text.substr(i, j - i));
  }
  return {};
}

BounceReason ClassifyBounceReason(std::string_view status, std::string_view diagnostic) {
  const std::string enhanced = FindEnhancedStatus(status);
  int subject = -1, detail = -1;
  if (!enhanced.empty()) {
    const size_t d1 = enhanced.find('.');
    const size_t d2 = enhanced.find('.', d1 + 1);
    subject = std::stoi(enhanced.substr(d1 + 1, d2 - d1 - 1));
    detail = std::stoi(enhanced.substr(d2 + 1));
  }
  auto is = [&](int s, int d) { return subject == s && detail == d; };
  if (is(1, 1) || is(1, 10) || is(1, 6) || is(2, 1) || is(1, 3)) return BounceReason::kUserUnknown;
  if (is(1, 2) || is(4, 4)) return BounceReason::kDomainNotFound;
  if (is(2, 2)) return BounceReason::kMailboxFull;
  if (is(3, 4) || is(2, 3)) return BounceReason::kMessageTooLarge;
  if (subject == 7 && ((detail >= 23 && detail <= 27) || detail == 509 || detail == 515 ||
                       detail == 30 || detail == 31)) {
    return BounceReason::kPolicyAuth;
  }
  if (is(4, 7)) return BounceReason::kExpired;
  if (is(7, 28)) return BounceReason::kRateLimited;

  const std::string t = AsciiLower(diagnostic);
  static constexpr std::array<std::string_view, 11> kTooLarge = {
      "message size exceeds",
      "exceeds size limit",
      "message too large",
      "message is too large",
      "too big",
      "size limit",
      "exceeds the maximum",
      "maximum message size",
      "message length exceeds",
      "message file too big",
      "exceeds fixed maximum message size"};
  static constexpr std::array<std::string_view, 11> kFull = {
      "mailbox full",       "mailbox is full",  "quota exceeded",       "over quota",
      "overquota",          "exceeded storage", "insufficient storage", "out of storage",
      "mailbox size limit", "user is over",     "storage allocation"};
  static constexpr std::array<std::string_view, 6> kAuth = {
      "spf", "dkim", "dmarc", "unauthenticated", "sender authentication", "not authenticated"};
  static constexpr std::array<std::string_view, 9> kRate = {"rate limit",
                                                            "ratelimit",
                                                            "rate-limit",
                                                            "too many messages",
                                                            "too many connections",
                                                            "too many recipients",
                                                            "sending rate",
                                                            "unusual rate",
                                                            "throttl"};
  static constexpr std::array<std::string_view, 14> kDomain = {"host or domain name not found",
                                                               "domain not found",
                                                               "no mx",
                                                               "name service error",
                                                               "unrouteable",
                                                               "unroutable",
                                                               "non-existent host",
                                                               "nonexistent host",
                                                               "nxdomain",
                                                               "domain does not exist",
                                                               "dns error",
                                                               "no such domain",
                                                               "domain name not found",
                                                               "host not found"};
  static constexpr std::array<std::string_view, 26> kUser = {"user unknown",
                                                             "unknown user",
                                                             "no such user",
                                                             "user not found",
                                                             "unknown recipient",
                                                             "recipient unknown",
                                                             "recipient not found",
                                                             "no such recipient",
                                                             "does not exist",
                                                             "doesn't exist",
                                                             "invalid recipient",
                                                             "invalid mailbox",
                                                             "mailbox not found",
                                                             "no mailbox",
                                                             "no such mailbox",
                                                             "unknown or illegal alias",
                                                             "account has been disabled",
                                                             "account is disabled",
                                                             "account disabled",
                                                             "disabled",
                                                             "deactivated",
                                                             "inactive",
                                                             "doesn't have a",
                                                             "address not found",
                                                             "couldn't be found",
                                                             "not a valid recipient"};
  static constexpr std::array<std::string_view, 8> kExpiredText = {"expired",
                                                                   "retry timeout exceeded",
                                                                   "giving up",
                                                                   "could not be delivered within",
                                                                   "too long in queue",
                                                                   "was not delivered within",
                                                                   "in the queue too long",
                                                                   "delivery time"};
  static constexpr std::array<std::string_view, 17> kSpam = {"spam",
                                                             "blocked",
                                                             "blacklist",
                                                             "blocklist",
                                                             "block list",
                                                             "black list",
                                                             "listed",
                                                             "reputation",
                                                             "rbl",
                                                             "spamhaus",
                                                             "barracuda",
                                                             "junk",
                                                             "content rejected",
                                                             "message rejected",
                                                             "policy",
                                                             "banned",
                                                             "denied"};
  if (ContainsAny(t, kTooLarge)) return BounceReason::kMessageTooLarge;
  if (ContainsAny(t, kFull)) return BounceReason::kMailboxFull;
  if (ContainsAny(t, kAuth)) return BounceReason::kPolicyAuth;
  if (ContainsAny(t, kRate)) return BounceReason::kRateLimited;
  if (ContainsAny(t, kDomain)) return BounceReason::kDomainNotFound;
  if (ContainsAny(t, kUser)) return BounceReason::kUserUnknown;
  if (ContainsAny(t, kExpiredText)) return BounceReason::kExpired;
  if (ContainsAny(t, kSpam)) return BounceReason::kBlockedSpam;
  if (subject == 7) return BounceReason::kBlockedSpam;
  if (subject == 1 && detail == 0) return BounceReason::kUserUnknown;
  return BounceReason::kOther;
}

bool IsHardBounce(bool permanent, BounceReason reason) {
  return permanent && (reason == BounceReason::kUserUnknown ||
                       reason == BounceReason::kDomainNotFound || reason == BounceReason::kOther);
}

namespace {

void Finish(BouncedRecipient& r, bool gave_up) {
  r.reason = ClassifyBounceReason(r.status, r.diagnostic);
  if (gave_up && !r.status.empty() && r.status[0] == '4') r.reason = BounceReason::kExpired;
  r.hard = IsHardBounce(r.permanent, r.reason);
}

void ReadOriginal(const IncomingMessage& msg, BounceInfo& info) {
  for (const auto& p : msg.parts) {
    if (p.content_type == "text/rfc822-headers" || p.content_type == "message/rfc822" ||
        p.content_type == "message/global-headers" || p.content_type == "message/global") {
      HeaderMap h = ParseHeaderBlock(p.text, true, 500);
      if (auto id = FirstHeader(h, "Message-ID"))
        info.original_message_id = NormalizeMessageId(*id);
      if (auto s = FirstHeader(h, "Subject")) info.original_subject = *s;
      if (!info.original_message_id.empty()) return;
    }
  }
}

std::optional<BounceInfo> FromDsn(const IncomingMessage& msg) {
  const IncomingPart* dsn = nullptr;
  for (const auto& p : msg.parts) {
    if (p.content_type == "message/delivery-status" ||
        p.content_type == "message/global-delivery-status") {
      dsn = &p;
      break;
    }
  }
  if (!dsn) return std::nullopt;
  BounceInfo info;
  info.format = "rfc3464";
  // Groups of fields separated by blank lines: the per-message group, then one per recipient.
  std::vector<std::string> groups(1);
  for (std::string_view line : SplitLines(dsn->text)) {
    if (Trim(line).empty()) {
      if (!groups.back().empty()) groups.emplace_back();
      continue;
    }
    if (groups.size() > 500) break;
    groups.back().append(line);
    groups.back().push_back('\n');
  }
  for (const auto& g : groups) {
    HeaderMap f = ParseHeaderBlock(g, false, 100);
    auto final_rcpt = FirstHeader(f, "Final-Recipient");
    auto original_rcpt = FirstHeader(f, "Original-Recipient");
    if (!final_rcpt && !original_rcpt) continue;
    BouncedRecipient r;
    r.recipient = BareAddress(AfterType(final_rcpt ? *final_rcpt : *original_rcpt));
    if (r.recipient.empty())
      r.recipient = std::string(AfterType(final_rcpt ? *final_rcpt : *original_rcpt));
    r.action = AsciiLower(Trim(FirstHeader(f, "Action").value_or("")));
    const std::string status_field = FirstHeader(f, "Status").value_or("");
    r.diagnostic = Collapse(AfterType(FirstHeader(f, "Diagnostic-Code").value_or("")));
    r.remote_mta = std::string(AfterType(FirstHeader(f, "Remote-MTA").value_or("")));
    r.status = FindEnhancedStatus(status_field);
    if (r.status.empty()) r.status = StatusOf(r.diagnostic);
    if (r.action.empty()) {
      if (r.status.empty() || r.status[0] == '2') continue;
      r.action = "failed";
    }
    if (r.action != "failed" && r.action != "delayed") continue;  // delivered, relayed, expanded
    r.permanent = r.action == "failed" && !r.status.empty() && r.status[0] == '5';
    if (r.action == "failed" && r.status.empty()) r.permanent = true;
    Finish(r, r.action == "failed");
    if (r.action == "delayed") r.hard = false;
    info.recipients.push_back(std::move(r));
  }
  if (info.recipients.empty()) return std::nullopt;
  return info;
}

}  // namespace

std::optional<BounceInfo> DetectBounce(const IncomingMessage& msg) {
  if (auto info = FromDsn(msg)) {
    ReadOriginal(msg, *info);
    return info;
  }
  const std::string from = AsciiLower(msg.from.email);
  const std::string local = from.substr(0, from.find('@'));
  const std::string subject = AsciiLower(msg.subject);
  bool daemon = false;
  for (auto d : kDaemonLocalParts) daemon = daemon || local == d;
  daemon = daemon || Contains(AsciiLower(msg.from.name), "mail delivery");
  const bool bounce_subject = ContainsAny(subject, kBounceSubjects);
  if (!daemon && !bounce_subject && !msg.has_null_return_path) return std::nullopt;

  // The human-readable report: the text body, else every text/plain part.
  std::string text = msg.text_body;
  if (text.empty()) {
    for (const auto& p : msg.parts) {
      if (p.content_type == "text/plain") text.append(p.text).push_back('\n');
    }
  }
  const std::string lower_text = AsciiLower(text);
  const std::string format = DetectFormat(lower_text, from);
  // Without a known format's wording, a daemon sender or bounce subject alone is not enough:
  // postmasters also send ordinary mail.
  if (format == "generic" && !(daemon && bounce_subject)) return std::nullopt;

  const auto lines = SplitLines(text);
  std::vector<Finding> findings;
  if (format == "exchange") ScanExchange(lines, findings);
  if (format == "gmail") ScanGmail(lines, findings);
  if (findings.empty()) ScanAddressBlocks(lines, findings);
  if (findings.empty()) ScanGmail(lines, findings);
  if (findings.empty()) ScanExchange(lines, findings);

  BounceInfo info;
  info.format = format;
  ReadOriginal(msg, info);
  if (findings.empty()) {
    // Report with no parsable recipient: keep the status and words for the engine, which can
    // still match the original Message-ID.
    std::string original_to;
    for (const auto& p : msg.parts) {
      if (p.content_type != "text/rfc822-headers" && p.content_type != "message/rfc822") continue;
      HeaderMap h = ParseHeaderBlock(p.text, true, 500);
      if (auto to = FirstHeader(h, "To")) {
        const size_t lt = to->find('<');
        original_to = BareAddress(lt == std::string::npos ? *to : to->substr(lt));
      }
      break;
    }
    findings.push_back({original_to, Collapse(text, 1000)});
  }
  const bool delayed = ContainsAny(subject, kDelayWords) ||
                       (ContainsAny(lower_text, kDelayWords) &&
                        !Contains(lower_text, "permanent") && !Contains(lower_text, "giving up"));
  for (auto& f : findings) {
    BouncedRecipient r;
    r.recipient = std::move(f.recipient);
    r.diagnostic = std::move(f.diagnostic);
    r.status = StatusOf(r.diagnostic);
    r.action = delayed ? "delayed" : "failed";
    if (delayed) {
      r.permanent = false;
    } else if (!r.status.empty()) {
      r.permanent = r.status[0] == '5';
    } else {
      r.permanent = true;  // a failure report without a code: the MTA has given up
    }
    Finish(r, !delayed);
    if (delayed) r.hard = false;
    info.recipients.push_back(std::move(r));
  }
  return info;
}

}  // namespace kiln::mail
