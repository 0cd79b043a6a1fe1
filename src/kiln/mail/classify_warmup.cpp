#include "kiln/mail/classify_warmup.h"

namespace kiln::mail {
namespace {

bool IsTokenChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) {
  return IsTokenChar(c) || (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
}

std::optional<std::string> FindBodyTag(std::string_view text) {
  size_t pos = 0;
  while ((pos = text.find(kWarmupBodyPrefix, pos)) != std::string_view::npos) {
    const size_t start = pos + kWarmupBodyPrefix.size();
    const bool boundary_before = pos == 0 || !IsAlnum(text[pos - 1]);
    size_t end = start;
    while (end < text.size() && IsTokenChar(text[end])) ++end;
    const bool boundary_after = end == text.size() || !IsAlnum(text[end]);
    if (boundary_before && boundary_after) {
      std::string_view token = text.substr(start, end - start);
      if (IsValidWarmupToken(token)) return std::string(token);
    }
    pos = start;
  }
  return std::nullopt;
}

}  // namespace

bool IsValidWarmupToken(std::string_view token) {
  if (token.size() < kWarmupTokenMinLength || token.size() > kWarmupTokenMaxLength) return false;
  for (char c : token) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

std::string WarmupBodyTag(std::string_view token) {
  return std::string(kWarmupBodyPrefix) + std::string(token);
}

std::optional<std::string> ExtractWarmupToken(const IncomingMessage& msg) {
  auto range = msg.headers.equal_range(kWarmupHeader);
  for (auto it = range.first; it != range.second; ++it) {
    std::string_view v = it->second;
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    if (IsValidWarmupToken(v)) return std::string(v);
  }
  if (auto t = FindBodyTag(msg.text_body)) return t;
  for (const auto& part : msg.parts) {
    if (part.content_type.rfind("text/", 0) != 0) continue;
    if (auto t = FindBodyTag(part.text)) return t;
  }
  return std::nullopt;
}

bool IsKilnWarmup(const IncomingMessage& msg) { return ExtractWarmupToken(msg).has_value(); }

}  // namespace kiln::mail
