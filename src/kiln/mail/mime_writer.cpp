#include "kiln/mail/mime_writer.h"

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "kiln/base/time_format.h"
#include "kiln/mail/html_to_text.h"
#include "kiln/mail/mime_util.h"

namespace kiln::mail {
namespace {

constexpr size_t kPreferredLine = 78;   // RFC 5322 §2.1.1 "SHOULD"
constexpr size_t kMaxLine = 998;        // RFC 5322 §2.1.1 "MUST"
constexpr size_t kMaxEncodedWord = 75;  // RFC 2047 §2
constexpr size_t kMaxReadableName = 200;
constexpr std::string_view kBase32 = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::string_view kHex = "0123456789ABCDEF";

constexpr size_t kMessageIdRandomChars = 26;
constexpr size_t kBoundaryRandomChars = 24;

// Random lowercase base32 characters from OpenSSL's CSPRNG (unpredictable ids and boundaries).
// At most 64; one call per message serves both its Message-ID and its boundary.
std::string RandomBase32(size_t chars) {
  std::array<unsigned char, 64> bytes{};
  if (chars > bytes.size()) chars = bytes.size();
  if (chars == 0) return {};
  if (RAND_bytes(bytes.data(), static_cast<int>(chars)) != 1) {
    // The CSPRNG failing means the process cannot make secure ids at all: a broken invariant.
    std::abort();
  }
  std::string out(chars, 'a');
  for (size_t i = 0; i < chars; ++i) out[i] = kBase32[bytes[i] & 31];
  return out;
}

// The left part of a generated Message-ID: the instant (SortableMillis, so that ids stored in an
// index arrive at its end) and 26 random characters (130 bits: unguessable and unique).
std::string MessageIdLeft(std::string_view random) {
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::string left = SortableMillis(now);
  left += random;
  return left;
}

bool IsAtext(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
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
      return true;
    default:
      return false;
  }
}

bool IsDotAtomText(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char prev = 0;
  for (char c : s) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!IsAtext(c)) {
      return false;
    }
    prev = c;
  }
  return true;
}

// Q-encoding literals allowed in any encoded-word context, phrases included (RFC 2047 §5(3)).
bool IsQLiteral(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '!' ||
         c == '*' || c == '+' || c == '-' || c == '/';
}

// Checks a UTF-8 header value: valid UTF-8, no control characters (TAB only when `allow_tab`).
Status CheckHeaderText(std::string_view value, std::string_view field, bool allow_tab) {
  for (size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7F) {
      std::string what = c == '\r'   ? "CR"
                         : c == '\n' ? "LF"
                         : c == 0    ? "NUL"
                                     : "a control character";
      return Status::InvalidArgument(std::string(field) + " contains " + what + " at offset " +
                                         std::to_string(i) + "; header values must be one line",
                                     std::string(field));
    }
  }
  if (!IsValidUtf8(value)) {
    return Status::InvalidArgument(std::string(field) + " is not valid UTF-8", std::string(field));
  }
  return Status::Ok();
}

// Builds one header field, folding before a token when the line would pass 78 columns.
class HeaderBuilder {
 public:
  explicit HeaderBuilder(std::string& out) : out_(out) {}

  void Begin(std::string_view name) {
    line_start_ = out_.size();
    out_ += name;
    out_ += ':';
    has_token_ = false;
  }

  // Appends " token", folding first when it would not fit in 78 columns on the current line.
  Status Token(std::string_view token, std::string_view field) {
    if (has_token_ && Column() + 1 + token.size() > kPreferredLine) Fold();
    out_ += ' ';
    out_ += token;
    has_token_ = true;
    return CheckLength(field);
  }

  // Appends raw unstructured text whose whitespace must survive unfolding: folds only before
  // existing SP/TAB. Precondition: no leading or trailing WSP, printable ASCII + TAB.
  Status RawText(std::string_view text, std::string_view field) {
    out_ += ' ';
    size_t i = 0;
    bool first = true;
    while (i < text.size()) {
      size_t j = i;
      while (j < text.size() && (text[j] == ' ' || text[j] == '\t')) ++j;
      while (j < text.size() && text[j] != ' ' && text[j] != '\t') ++j;
      const std::string_view segment = text.substr(i, j - i);  // [WSP*] word
      if (!first && Column() + segment.size() > kPreferredLine) {
        out_ += "\r\n";
        line_start_ = out_.size();
      }
      out_ += segment;
      first = false;
      i = j;
    }
    has_token_ = true;
    return CheckLength(field);
  }

  // Appends `text` as RFC 2047 encoded-words (UTF-8, Q or B, whichever is shorter), each <= 75
  // characters, one or more per line, never splitting a UTF-8 sequence.
  Status EncodedWords(std::string_view text, std::string_view field) {
    size_t q_len = 0;
    for (char c : text) {
      const unsigned char u = static_cast<unsigned char>(c);
      q_len += (IsQLiteral(u) || u == ' ') ? 1 : 3;
    }
    const bool use_q = q_len <= 4 * ((text.size() + 2) / 3);
    constexpr size_t kOverhead = 12;  // "=?UTF-8?Q?" + "?="
    constexpr size_t kMinUseful = kOverhead + 12;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t avail = Column() + 1 < kPreferredLine ? kPreferredLine - Column() - 1 : 0;
      if (avail < kMinUseful) {
        if (has_token_) {
          Fold();
          avail = kPreferredLine - 1;
        } else {
          avail = kMinUseful;  // right after a long header name: a longer line, still << 998
        }
      }
      if (avail > kMaxEncodedWord) avail = kMaxEncodedWord;
      const size_t max_payload = avail - kOverhead;
      size_t end = pos;
      size_t payload = 0;
      while (end < text.size()) {
        const size_t len = Utf8SequenceLength(text, end);
        if (use_q) {
          size_t cost = 0;
          for (size_t k = end; k < end + len; ++k) {
            const unsigned char u = static_cast<unsigned char>(text[k]);
            cost += (IsQLiteral(u) || u == ' ') ? 1 : 3;
          }
          if (payload + cost > max_payload && end > pos) break;
          payload += cost;
        } else {
          const size_t bytes = end + len - pos;
          if (4 * ((bytes + 2) / 3) > max_payload && end > pos) break;
        }
        end += len;
      }
      out_ += ' ';
      out_ += use_q ? "=?UTF-8?Q?" : "=?UTF-8?B?";
      const std::string_view chunk = text.substr(pos, end - pos);
      if (use_q) {
        for (char c : chunk) {
          const unsigned char u = static_cast<unsigned char>(c);
          if (IsQLiteral(u)) {
            out_ += c;
          } else if (u == ' ') {
            out_ += '_';
          } else {
            out_ += '=';
            out_ += kHex[u >> 4];
            out_ += kHex[u & 15];
          }
        }
      } else {
        AppendBase64(out_, chunk);
      }
      out_ += "?=";
      has_token_ = true;
      pos = end;
    }
    return CheckLength(field);
  }

  void End() { out_ += "\r\n"; }

 private:
  size_t Column() const { return out_.size() - line_start_; }
  void Fold() {
    out_ += "\r\n";
    line_start_ = out_.size();
  }
  Status CheckLength(std::string_view field) const {
    if (Column() > kMaxLine) {
      return Status::TooLarge(std::string(field) + " has an unbreakable part longer than " +
                                  std::to_string(kMaxLine) + " characters",
                              std::string(field));
    }
    return Status::Ok();
  }

  std::string& out_;
  size_t line_start_ = 0;
  bool has_token_ = false;
};

// Unstructured text (Subject, extra header values): raw when plain printable ASCII that unfolds
// back to itself and folds within 78 columns, else encoded-words.
Status AppendUnstructured(HeaderBuilder& h, std::string_view text, std::string_view field) {
  KILN_RETURN_IF_ERROR(CheckHeaderText(text, field, /*allow_tab=*/true));
  if (text.empty()) return Status::Ok();
  bool raw = text.find("=?") == std::string_view::npos && text.front() != ' ' &&
             text.front() != '\t' && text.back() != ' ' && text.back() != '\t';
  size_t word = 0;
  for (size_t i = 0; raw && i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) raw = false;
    word = (c == ' ' || c == '\t') ? 0 : word + 1;
    if (word > 60) raw = false;  // a long word would make a long line: encoded-words fold anywhere
  }
  return raw ? h.RawText(text, field) : h.EncodedWords(text, field);
}

Status AppendDisplayName(HeaderBuilder& h, std::string_view name, std::string_view field) {
  KILN_RETURN_IF_ERROR(CheckHeaderText(name, field, /*allow_tab=*/false));
  // Printable ASCII stays readable (atoms or a quoted-string) up to a length that still fits a
  // line; longer or non-ASCII names become encoded-words.
  bool atoms = name.size() <= kMaxReadableName && name.front() != ' ' && name.back() != ' ' &&
               name.find("  ") == std::string_view::npos &&
               name.find("=?") == std::string_view::npos;
  bool printable = name.size() <= kMaxReadableName && name.find("=?") == std::string_view::npos;
  for (char c : name) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80) printable = false;
    if (!(IsAtext(c) || c == ' ')) atoms = false;
  }
  if (atoms) {
    size_t i = 0;
    while (i < name.size()) {
      size_t j = name.find(' ', i);
      if (j == std::string_view::npos) j = name.size();
      KILN_RETURN_IF_ERROR(h.Token(name.substr(i, j - i), field));
      i = j + 1;
    }
    return Status::Ok();
  }
  if (printable && name.front() != ' ' && name.back() != ' ') {
    std::string quoted;
    quoted.reserve(name.size() + 4);
    quoted += '"';
    for (char c : name) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    quoted += '"';
    return h.Token(quoted, field);
  }
  return h.EncodedWords(name, field);
}

std::string IndexedField(std::string_view base, size_t i, std::string_view leaf) {
  std::string f(base);
  f += '[';
  f += std::to_string(i);
  f += "].";
  f += leaf;
  return f;
}

Status AppendMailbox(HeaderBuilder& h, const Address& a, const std::string& name_field,
                     const std::string& email_field, bool trailing_comma) {
  KILN_RETURN_IF_ERROR(ValidateEmailAddress(a.email, email_field));
  std::string token;
  token.reserve(a.email.size() + 3);
  if (a.name.empty()) {
    token = a.email;
  } else {
    KILN_RETURN_IF_ERROR(AppendDisplayName(h, a.name, name_field));
    token += '<';
    token += a.email;
    token += '>';
  }
  if (trailing_comma) token += ',';
  return h.Token(token, email_field);
}

Status AppendAddressList(HeaderBuilder& h, std::string_view header,
                         const std::vector<Address>& list, std::string_view field) {
  h.Begin(header);
  for (size_t i = 0; i < list.size(); ++i) {
    KILN_RETURN_IF_ERROR(AppendMailbox(h, list[i], IndexedField(field, i, "name"),
                                       IndexedField(field, i, "email"), i + 1 < list.size()));
  }
  h.End();
  return Status::Ok();
}

// A URL for List-Unsubscribe: printable ASCII without space, '<', '>', '"' or ','.
Status ValidateHeaderUrl(std::string_view url, std::string_view field) {
  KILN_RETURN_IF_ERROR(CheckHeaderText(url, field, /*allow_tab=*/false));
  for (char c : url) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '<' || c == '>' || c == '"' || c == ',') {
      return Status::InvalidArgument(
          std::string(field) + " contains '" +
              (u <= 0x20 || u >= 0x7F ? std::string("non-printable") : std::string(1, c)) +
              "'; percent-encode it",
          std::string(field));
    }
  }
  return Status::Ok();
}

Status AppendListUnsubscribe(std::string& out, const OutgoingMessage& m) {
  if (m.list_unsubscribe_url.empty() && m.list_unsubscribe_mailto.empty()) return Status::Ok();
  HeaderBuilder h(out);
  h.Begin("List-Unsubscribe");
  if (!m.list_unsubscribe_url.empty()) {
    const std::string_view url = m.list_unsubscribe_url;
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
      return Status::InvalidArgument("list_unsubscribe_url must be an https:// URL",
                                     "list_unsubscribe_url");
    }
    KILN_RETURN_IF_ERROR(ValidateHeaderUrl(url, "list_unsubscribe_url"));
    std::string token = "<" + m.list_unsubscribe_url + ">";
    if (!m.list_unsubscribe_mailto.empty()) token += ',';
    KILN_RETURN_IF_ERROR(h.Token(token, "list_unsubscribe_url"));
  }
  if (!m.list_unsubscribe_mailto.empty()) {
    std::string_view mailto = m.list_unsubscribe_mailto;
    if (mailto.rfind("mailto:", 0) == 0) mailto.remove_prefix(7);
    KILN_RETURN_IF_ERROR(ValidateHeaderUrl(mailto, "list_unsubscribe_mailto"));
    const size_t q = mailto.find('?');
    KILN_RETURN_IF_ERROR(ValidateEmailAddress(mailto.substr(0, q), "list_unsubscribe_mailto"));
    std::string token = "<mailto:";
    token += mailto;
    token += '>';
    KILN_RETURN_IF_ERROR(h.Token(token, "list_unsubscribe_mailto"));
  }
  h.End();
  if (!m.list_unsubscribe_url.empty()) {
    out += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";  // RFC 8058 §3.1
  }
  return Status::Ok();
}

bool IsReservedHeader(std::string_view name) {
  static constexpr std::string_view kReserved[] = {"date",
                                                   "from",
                                                   "sender",
                                                   "to",
                                                   "cc",
                                                   "bcc",
                                                   "reply-to",
                                                   "subject",
                                                   "message-id",
                                                   "in-reply-to",
                                                   "references",
                                                   "list-unsubscribe",
                                                   "list-unsubscribe-post",
                                                   "mime-version",
                                                   "dkim-signature",
                                                   "return-path",
                                                   "received"};
  std::string lower(name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  if (lower.rfind("content-", 0) == 0) return true;
  for (std::string_view r : kReserved) {
    if (lower == r) return true;
  }
  return false;
}

Status AppendExtraHeaders(std::string& out, const OutgoingMessage& m) {
  HeaderBuilder h(out);
  for (size_t i = 0; i < m.extra_headers.size(); ++i) {
    const auto& [name, value] = m.extra_headers[i];
    const std::string name_field = "extra_headers[" + std::to_string(i) + "].name";
    if (name.empty() || name.size() > 76) {
      return Status::InvalidArgument(name_field + " must be 1..76 characters", name_field);
    }
    for (char c : name) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (u < 33 || u > 126 || c == ':') {
        return Status::InvalidArgument(
            name_field + " contains a character not allowed in a header name (RFC 5322 ftext)",
            name_field);
      }
    }
    if (IsReservedHeader(name)) {
      return Status::InvalidArgument(
          name_field + " \"" + name + "\" is written by the composer itself", name_field);
    }
    h.Begin(name);
    KILN_RETURN_IF_ERROR(
        AppendUnstructured(h, value, "extra_headers[" + std::to_string(i) + "].value"));
    h.End();
  }
  return Status::Ok();
}

Status CheckBody(std::string_view body, std::string_view field) {
  if (!IsValidUtf8(body)) {
    return Status::InvalidArgument(std::string(field) + " is not valid UTF-8", std::string(field));
  }
  return Status::Ok();
}

Status ValidateBoundary(std::string_view b) {
  if (b.empty() || b.size() > 70 || b.back() == ' ') {
    return Status::InvalidArgument("boundary must be 1..70 characters, not ending in a space",
                                   "boundary");
  }
  for (char c : b) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
    if (!ok) {
      return Status::InvalidArgument("boundary contains a character outside RFC 2046 bchars",
                                     "boundary");
    }
  }
  return Status::Ok();
}

void AppendTextPart(std::string& out, std::string_view content_type, std::string_view body) {
  out += "Content-Type: ";
  out += content_type;
  out += "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
  AppendQuotedPrintable(out, body);
}

}  // namespace

Status ValidateEmailAddress(std::string_view email, std::string_view field) {
  const auto fail = [&](std::string_view why) {
    return Status::InvalidArgument(
        std::string(field) + " is not a valid email address: " + std::string(why),
        std::string(field));
  };
  if (email.empty()) return fail("empty");
  if (email.size() > 254) return fail("longer than 254 characters");
  const size_t at = email.rfind('@');
  if (at == std::string_view::npos) return fail("no '@'");
  const std::string_view local = email.substr(0, at);
  const std::string_view domain = email.substr(at + 1);
  if (local.empty()) return fail("empty local part");
  if (local.size() > 64) return fail("local part longer than 64 characters");
  for (char c : email) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) return fail("contains a space, control or non-ASCII character");
    if (c == '"' || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' || c == ';' ||
        c == '\\' || c == '[' || c == ']') {
      return fail(std::string("contains '") + c + "'");
    }
  }
  if (!IsDotAtomText(local)) return fail("local part is not a dot-atom");
  if (domain.empty()) return fail("empty domain");
  size_t i = 0;
  while (i <= domain.size()) {
    size_t j = domain.find('.', i);
    if (j == std::string_view::npos) j = domain.size();
    const std::string_view label = domain.substr(i, j - i);
    if (label.empty() || label.size() > 63) return fail("domain has an empty or over-long label");
    if (label.front() == '-' || label.back() == '-')
      return fail("domain label starts or ends with '-'");
    for (char c : label) {
      const bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return fail(std::string("domain contains '") + c + "'");
    }
    i = j + 1;
  }
  return Status::Ok();
}

Status ValidateMessageId(std::string_view id, std::string_view field) {
  const auto fail = [&](std::string_view why) {
    return Status::InvalidArgument(std::string(field) + " is not a valid Message-ID: " +
                                       std::string(why) + " (give it without <>)",
                                   std::string(field));
  };
  if (id.empty()) return fail("empty");
  if (id.size() > 250) return fail("longer than 250 characters");
  const size_t at = id.find('@');
  if (at == std::string_view::npos) return fail("no '@'");
  if (!IsDotAtomText(id.substr(0, at)) || !IsDotAtomText(id.substr(at + 1))) {
    return fail("left or right of '@' is not a dot-atom (no spaces, <>, quotes or controls)");
  }
  return Status::Ok();
}

std::string FormatRfc5322Date(TimePoint t) {
  using std::chrono::floor;
  const auto secs = floor<std::chrono::seconds>(t).time_since_epoch().count();
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  const int64_t sod = secs - days * 86400;
  // civil_from_days (H. Hinnant)
  const int64_t weekday = ((days % 7) + 7 + 4) % 7;  // 1970-01-01 was a Thursday
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2);
  static constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string out;
  out.reserve(32);
  const auto two = [&out](int64_t v) {
    out += static_cast<char>('0' + v / 10);
    out += static_cast<char>('0' + v % 10);
  };
  out += kDays[weekday];
  out += ", ";
  two(day);
  out += ' ';
  out += kMonths[month - 1];
  out += ' ';
  out += std::to_string(year);
  out += ' ';
  two(sod / 3600);
  out += ':';
  two(sod / 60 % 60);
  out += ':';
  two(sod % 60);
  out += " +0000";
  return out;
}

std::string GenerateMessageId(std::string_view domain) {
  std::string id = MessageIdLeft(RandomBase32(kMessageIdRandomChars));
  id += '@';
  id += domain;
  return id;
}

Envelope DefaultEnvelope(const OutgoingMessage& message) {
  Envelope e;
  e.mail_from = message.from.email;
  e.rcpt_to.reserve(message.to.size() + message.cc.size());
  for (const Address& a : message.to) e.rcpt_to.push_back(a.email);
  for (const Address& a : message.cc) e.rcpt_to.push_back(a.email);
  return e;
}

Result<std::string> ComposeMessage(const OutgoingMessage& m, const ComposeOptions& options) {
  KILN_RETURN_IF_ERROR(CheckBody(m.html_body, "html_body"));
  KILN_RETURN_IF_ERROR(CheckBody(m.text_body, "text_body"));
  if (m.to.empty()) return Status::InvalidArgument("a message needs at least one To address", "to");

  std::string derived_text;
  std::string_view text = m.text_body;
  if (text.empty() && !m.html_body.empty()) {
    derived_text = HtmlToText(m.html_body, {.width = options.derived_text_width});
    text = derived_text;
  }
  const bool multipart = !m.html_body.empty();
  const bool random_id = m.message_id.empty();
  const bool random_boundary = multipart && options.boundary.empty();
  const std::string random = RandomBase32((random_id ? kMessageIdRandomChars : 0) +
                                          (random_boundary ? kBoundaryRandomChars : 0));

  std::string out;
  out.reserve(1024 + text.size() + text.size() / 8 + m.html_body.size() + m.html_body.size() / 8);
  HeaderBuilder h(out);

  out += "Date: ";
  out += FormatRfc5322Date(m.date);
  out += "\r\n";

  h.Begin("From");
  KILN_RETURN_IF_ERROR(AppendMailbox(h, m.from, "from.name", "from.email", false));
  h.End();
  if (m.reply_to) {
    h.Begin("Reply-To");
    KILN_RETURN_IF_ERROR(AppendMailbox(h, *m.reply_to, "reply_to.name", "reply_to.email", false));
    h.End();
  }
  KILN_RETURN_IF_ERROR(AppendAddressList(h, "To", m.to, "to"));
  if (!m.cc.empty()) KILN_RETURN_IF_ERROR(AppendAddressList(h, "Cc", m.cc, "cc"));

  h.Begin("Subject");
  KILN_RETURN_IF_ERROR(AppendUnstructured(h, m.subject, "subject"));
  h.End();

  std::string message_id = m.message_id;
  if (random_id) {
    std::string_view domain = options.message_id_domain;
    if (domain.empty()) domain = std::string_view(m.from.email).substr(m.from.email.rfind('@') + 1);
    message_id = MessageIdLeft(std::string_view(random).substr(0, kMessageIdRandomChars));
    message_id += '@';
    message_id += domain;
  }
  KILN_RETURN_IF_ERROR(ValidateMessageId(message_id, "message_id"));
  out += "Message-ID: <";
  out += message_id;
  out += ">\r\n";

  if (!m.in_reply_to.empty()) {
    KILN_RETURN_IF_ERROR(ValidateMessageId(m.in_reply_to, "in_reply_to"));
    out += "In-Reply-To: <";
    out += m.in_reply_to;
    out += ">\r\n";
  }
  if (!m.references.empty() || !m.in_reply_to.empty()) {
    h.Begin("References");
    if (m.references.empty()) {
      KILN_RETURN_IF_ERROR(h.Token("<" + m.in_reply_to + ">", "in_reply_to"));
    }
    for (size_t i = 0; i < m.references.size(); ++i) {
      const std::string field = "references[" + std::to_string(i) + "]";
      KILN_RETURN_IF_ERROR(ValidateMessageId(m.references[i], field));
      KILN_RETURN_IF_ERROR(h.Token("<" + m.references[i] + ">", field));
    }
    h.End();
  }
  KILN_RETURN_IF_ERROR(AppendListUnsubscribe(out, m));
  KILN_RETURN_IF_ERROR(AppendExtraHeaders(out, m));
  out += "MIME-Version: 1.0\r\n";

  if (!multipart) {
    AppendTextPart(out, "text/plain", text);
    // DATA must end with CRLF; a body that ends with a line break already does.
    if (!text.empty() && text.back() != '\n' && text.back() != '\r') out += "\r\n";
    return out;
  }

  std::string boundary = options.boundary;
  if (random_boundary) {
    // "=_" never occurs in quoted-printable output ('=' is followed by hex digits or CRLF), so a
    // boundary that starts with it cannot collide with the encoded parts.
    boundary = "=_kiln_";
    boundary.append(random, random_id ? kMessageIdRandomChars : 0, kBoundaryRandomChars);
  } else {
    KILN_RETURN_IF_ERROR(ValidateBoundary(boundary));
  }
  h.Begin("Content-Type");
  KILN_RETURN_IF_ERROR(h.Token("multipart/alternative;", "boundary"));
  KILN_RETURN_IF_ERROR(h.Token("boundary=\"" + boundary + "\"", "boundary"));
  h.End();
  out += "\r\n";
  const auto delimiter = [&] {
    out += "--";
    out += boundary;
    out += "\r\n";
  };
  delimiter();
  const size_t text_start = out.size();
  AppendTextPart(out, "text/plain", text);
  const size_t text_end = out.size();
  out += "\r\n";
  delimiter();
  const size_t html_start = out.size();
  AppendTextPart(out, "text/html", m.html_body);
  const size_t html_end = out.size();
  if (!options.boundary.empty()) {
    const std::string dashed = "--" + boundary;
    const std::string_view all(out);
    if (all.substr(text_start, text_end - text_start).find(dashed) != std::string_view::npos ||
        all.substr(html_start, html_end - html_start).find(dashed) != std::string_view::npos) {
      return Status::InvalidArgument("boundary occurs in the message content", "boundary");
    }
  }
  out += "\r\n--";
  out += boundary;
  out += "--\r\n";
  return out;
}

}  // namespace kiln::mail
