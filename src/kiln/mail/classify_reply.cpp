#include "kiln/mail/classify_reply.h"

#include <array>
#include <unordered_set>

namespace kiln::mail {
namespace {

// Lower-cased ASCII forms and the exact non-ASCII forms of reply prefixes.
constexpr std::array<std::string_view, 43> kReplyPrefixes = {
    "re",      "r",    "aw",   "sv",   "antw",  "antwort", "rif",  "odp",  "ynt",
    "cevap",   "vá",   "va",   "ats",  "atb",   "res",     "odg",  "vs",   "svar",
    "vast",    "hv",   "απ",   "σχετ", "отв",   "ответ",   "回复", "答复", "回覆",
    "返信",    "답장", "رد",   "השב",  "תשובה", "odpověď", "ant",  "bls",  "balas",
    "trả lời", "ΑΠ",   "ΣΧΕΤ", "Отв",  "Ответ", "ОТВ",     "ОТВЕТ"};
constexpr std::array<std::string_view, 19> kForwardPrefixes = {
    "fwd", "fw",  "wg", "tr", "rv",  "enc",    "i",    "doorst", "vb",  "pd",
    "ilt", "trs", "fs", "vl", "πρθ", "пересл", "转发", "轉寄",   "転送"};

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && IsWs(s.front())) s.remove_prefix(1);
  return s;
}

template <size_t N>
bool InList(const std::array<std::string_view, N>& list, std::string_view word) {
  for (auto w : list) {
    if (w == word) return true;
  }
  return false;
}

// Removes "[2]", "(2)" or "^2" from the end of a prefix word ("Re[2]" -> "Re").
std::string_view StripCounter(std::string_view w) {
  if (w.empty()) return w;
  const char close = w.back();
  const char open = close == ']' ? '[' : close == ')' ? '(' : 0;
  size_t pos = std::string_view::npos;
  if (open) {
    pos = w.rfind(open);
    if (pos == std::string_view::npos) return w;
    for (size_t i = pos + 1; i + 1 < w.size(); ++i) {
      if (w[i] < '0' || w[i] > '9') return w;
    }
    return w.substr(0, pos);
  }
  pos = w.rfind('^');
  if (pos != std::string_view::npos) return w.substr(0, pos);
  return w;
}

}  // namespace

NormalizedSubject NormalizeSubject(std::string_view subject) {
  NormalizedSubject out;
  std::string_view s = TrimLeft(subject);
  for (int guard = 0; guard < 64; ++guard) {
    s = TrimLeft(s);
    if (!s.empty() && s.front() == '[') {
      const size_t close = s.find(']');
      if (close != std::string_view::npos && close <= 32) {
        s.remove_prefix(close + 1);
        continue;
      }
    }
    // A prefix word ends at ':' or the full-width colon U+FF1A within the first 24 bytes.
    size_t colon = std::string_view::npos;
    size_t colon_len = 0;
    for (size_t i = 0; i < s.size() && i < 24; ++i) {
      if (s[i] == ':') {
        colon = i;
        colon_len = 1;
        break;
      }
      if (s.substr(i, 3) == "\xEF\xBC\x9A") {
        colon = i;
        colon_len = 3;
        break;
      }
    }
    if (colon == std::string_view::npos || colon == 0) break;
    std::string_view word = s.substr(0, colon);
    while (!word.empty() && IsWs(word.back())) word.remove_suffix(1);
    const std::string lower = AsciiLower(StripCounter(word));
    if (InList(kReplyPrefixes, lower)) {
      out.had_reply_prefix = true;
    } else if (InList(kForwardPrefixes, lower)) {
      out.had_forward_prefix = true;
    } else {
      break;
    }
    s.remove_prefix(colon + colon_len);
  }
  std::string collapsed;
  bool space = false;
  for (char c : s) {
    if (IsWs(c)) {
      space = true;
      continue;
    }
    if (space && !collapsed.empty()) collapsed.push_back(' ');
    space = false;
    collapsed.push_back(c);
  }
  out.subject = AsciiLower(collapsed);
  return out;
}

std::string_view ReplyMethodName(ReplyMatch::Method method) {
  switch (method) {
    case ReplyMatch::Method::kInReplyTo:
      return "in_reply_to";
    case ReplyMatch::Method::kReferences:
      return "references";
    case ReplyMatch::Method::kQuotedMessageId:
      return "quoted_message_id";
    case ReplyMatch::Method::kSubjectAndAddress:
      return "subject_and_address";
  }
  return "unknown";
}

std::optional<ReplyMatch> MatchReply(const IncomingMessage& msg, const OurMessageLookup& lookup) {
  std::unordered_set<std::string> tried;
  auto try_id = [&](const std::string& id, ReplyMatch::Method method) -> std::optional<ReplyMatch> {
    if (id.empty() || id == msg.message_id || !tried.insert(id).second) return std::nullopt;
    if (auto ours = lookup.FindByMessageId(id)) return ReplyMatch{std::move(*ours), method};
    return std::nullopt;
  };
  if (auto m = try_id(msg.in_reply_to, ReplyMatch::Method::kInReplyTo)) return m;
  for (auto it = msg.references.rbegin(); it != msg.references.rend(); ++it) {
    if (auto m = try_id(*it, ReplyMatch::Method::kReferences)) return m;
  }

  // Message-IDs quoted in the body: "<local@domain>" tokens without spaces.
  std::string_view text = msg.text_body;
  if (text.size() > (64u << 10)) text = text.substr(0, 64u << 10);
  size_t pos = 0;
  int candidates = 0;
  while (candidates < 50) {
    const size_t open = text.find('<', pos);
    if (open == std::string_view::npos) break;
    const size_t close = text.find('>', open + 1);
    if (close == std::string_view::npos) break;
    std::string_view inner = text.substr(open + 1, close - open - 1);
    pos = open + 1;
    if (inner.size() < 3 || inner.size() > 250 || inner.find('@') == std::string_view::npos ||
        inner.find_first_of(" \t\r\n<") != std::string_view::npos) {
      continue;
    }
    ++candidates;
    if (auto m = try_id(std::string(inner), ReplyMatch::Method::kQuotedMessageId)) return m;
  }

  NormalizedSubject ns = NormalizeSubject(msg.subject);
  if (ns.had_reply_prefix && !ns.subject.empty() && !msg.from.email.empty()) {
    if (auto ours = lookup.FindBySubjectAndCorrespondent(ns.subject, AsciiLower(msg.from.email))) {
      return ReplyMatch{std::move(*ours), ReplyMatch::Method::kSubjectAndAddress};
    }
  }
  return std::nullopt;
}

}  // namespace kiln::mail
