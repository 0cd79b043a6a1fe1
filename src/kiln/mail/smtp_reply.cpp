#include "kiln/mail/smtp_reply.h"

#include <string>

namespace kiln::mail {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Length of a run of 1..3 digits at `pos`, 0 when there is none or it is longer.
size_t DigitRun(std::string_view s, size_t pos) {
  size_t n = 0;
  while (pos + n < s.size() && IsDigit(s[pos + n])) ++n;
  return n >= 1 && n <= 3 ? n : 0;
}

}  // namespace

std::string ExtractEnhancedCode(std::string_view text, int code) {
  // class "." subject "." detail, RFC 3463: class is 2, 4 or 5; subject and detail 1..3 digits.
  if (text.size() < 5 || !IsDigit(text[0]) || text[1] != '.') return {};
  if (text[0] - '0' != code / 100) return {};
  size_t pos = 2;
  size_t n = DigitRun(text, pos);
  if (n == 0) return {};
  pos += n;
  if (pos >= text.size() || text[pos] != '.') return {};
  ++pos;
  n = DigitRun(text, pos);
  if (n == 0) return {};
  pos += n;
  if (pos < text.size() && text[pos] != ' ' && text[pos] != '\t') return {};
  return std::string(text.substr(0, pos));
}

std::string SmtpReply::Text() const {
  std::string out;
  for (const std::string& line : lines) {
    if (line.empty()) continue;
    if (!out.empty()) out += ' ';
    out += line;
  }
  return out;
}

std::string SmtpReply::ToString() const {
  std::string out = std::to_string(code);
  if (!enhanced.empty()) out += " " + enhanced;
  std::string text = Text();
  if (!text.empty()) out += " " + text;
  return out;
}

Result<std::optional<ParsedSmtpReply>> ParseSmtpReply(std::string_view input) {
  ParsedSmtpReply parsed;
  size_t pos = 0;
  for (size_t index = 0;; ++index) {
    const std::string where = "SMTP reply line " + std::to_string(index + 1);
    size_t eol = input.find('\n', pos);
    if (eol == std::string_view::npos) {
      if (input.size() - pos > kMaxSmtpReplyLine) {
        return Status::InvalidArgument(where + " is longer than " +
                                       std::to_string(kMaxSmtpReplyLine) + " bytes");
      }
      return std::optional<ParsedSmtpReply>();
    }
    std::string_view line = input.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > kMaxSmtpReplyLine) {
      return Status::InvalidArgument(where + " is longer than " +
                                     std::to_string(kMaxSmtpReplyLine) + " bytes");
    }
    if (line.size() < 3 || !IsDigit(line[0]) || !IsDigit(line[1]) || !IsDigit(line[2])) {
      return Status::InvalidArgument(where + " does not start with a 3-digit code");
    }
    int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (code < 200 || code > 599) {
      return Status::InvalidArgument(where + " has code " + std::to_string(code) +
                                     " outside 200..599");
    }
    if (index == 0) {
      parsed.reply.code = code;
    } else if (code != parsed.reply.code) {
      return Status::InvalidArgument(where + " has code " + std::to_string(code) +
                                     " but the reply started with " +
                                     std::to_string(parsed.reply.code));
    }
    bool last = true;
    if (line.size() > 3) {
      if (line[3] == '-') {
        last = false;
      } else if (line[3] != ' ') {
        return Status::InvalidArgument(where + " has '" + std::string(1, line[3]) +
                                       "' after the code instead of ' ' or '-'");
      }
    }
    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
    std::string enhanced = ExtractEnhancedCode(text, code);
    if (index == 0) parsed.reply.enhanced = enhanced;
    if (!enhanced.empty() && enhanced == parsed.reply.enhanced) {
      text.remove_prefix(enhanced.size());
      while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    }
    parsed.reply.lines.emplace_back(text);
    pos = eol + 1;
    if (last) break;
    if (parsed.reply.lines.size() >= kMaxSmtpReplyLines) {
      return Status::InvalidArgument("SMTP reply has more than " +
                                     std::to_string(kMaxSmtpReplyLines) + " lines");
    }
  }
  parsed.consumed = pos;
  return std::optional<ParsedSmtpReply>(std::move(parsed));
}

}  // namespace kiln::mail
