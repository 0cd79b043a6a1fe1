#include "kiln/domain/email_address.h"

#include <cctype>

#include "kiln/base/utf8.h"

namespace kiln::domain {
namespace {

bool IsAtext(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
    case '-':
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<std::string> NormalizeEmailAddress(std::string_view in) {
  while (!in.empty() && (in.front() == ' ' || in.front() == '\t')) in.remove_prefix(1);
  while (!in.empty() && (in.back() == ' ' || in.back() == '\t')) in.remove_suffix(1);
  if (in.empty()) return Status::InvalidArgument("email address is empty");
  if (in.size() > 254)
    return Status::InvalidArgument("email address is longer than 254 characters");
  if (!IsValidUtf8(in)) return Status::InvalidArgument("email address is not valid UTF-8");
  for (unsigned char c : in) {
    if (c < 0x20 || c == 0x7F)
      return Status::InvalidArgument("email address contains a control character");
    if (c == ' ') return Status::InvalidArgument("email address contains a space");
  }
  size_t at = in.rfind('@');
  if (at == std::string_view::npos) return Status::InvalidArgument("email address has no '@'");
  std::string_view local = in.substr(0, at);
  std::string_view domain = in.substr(at + 1);
  if (local.empty()) return Status::InvalidArgument("email address has nothing before '@'");
  if (local.size() > 64)
    return Status::InvalidArgument("the part before '@' is longer than 64 characters");
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return Status::InvalidArgument("the part before '@' has a misplaced dot");
  }
  for (unsigned char c : local) {
    if (c != '.' && c < 0x80 && !IsAtext(c)) {
      return Status::InvalidArgument(std::string("the part before '@' contains '") +
                                     static_cast<char>(c) + "'");
    }
  }
  if (domain.empty()) return Status::InvalidArgument("email address has no domain after '@'");
  if (domain.size() > 253) return Status::InvalidArgument("domain is longer than 253 characters");
  if (domain.front() == '[') return Status::InvalidArgument("IP-address domains are not accepted");
  if (domain.find('.') == std::string_view::npos) {
    return Status::InvalidArgument("domain '" + std::string(domain) + "' has no dot");
  }
  std::string out(local);
  out += '@';
  size_t start = 0;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty())
      return Status::InvalidArgument("domain '" + std::string(domain) + "' has an empty label");
    if (label.size() > 63)
      return Status::InvalidArgument("a domain label is longer than 63 characters");
    if (label.front() == '-' || label.back() == '-') {
      return Status::InvalidArgument("a domain label starts or ends with '-'");
    }
    for (unsigned char c : label) {
      if (c < 0x80 && !std::isalnum(c) && c != '-') {
        return Status::InvalidArgument(std::string("domain contains '") + static_cast<char>(c) +
                                       "'");
      }
      out += static_cast<char>(c < 0x80 ? std::tolower(c) : c);
    }
    if (dot == std::string_view::npos) break;
    out += '.';
    start = dot + 1;
  }
  std::string_view tld = domain.substr(domain.rfind('.') + 1);
  bool all_digits = true;
  for (unsigned char c : tld) all_digits = all_digits && std::isdigit(c);
  if (all_digits)
    return Status::InvalidArgument("domain '" + std::string(domain) +
                                   "' has a numeric top-level label");
  return out;
}

std::string EmailKey(std::string_view a) {
  std::string out(a);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string EmailDomain(std::string_view a) {
  size_t at = a.rfind('@');
  return at == std::string_view::npos ? std::string() : EmailKey(a.substr(at + 1));
}

}  // namespace kiln::domain
