#include "kiln/mail/incoming.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <exception>
#include <utility>
#include <vmime/vmime.hpp>

#include "kiln/mail/html_to_text.h"

namespace kiln::mail {
namespace {

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsWs(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWs(s.back())) s.remove_suffix(1);
  return s;
}

// Replaces every invalid UTF-8 sequence, and every NUL (PostgreSQL refuses it in text), with
// U+FFFD; other valid input is returned unchanged.
std::string SanitizeUtf8(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    const auto c = static_cast<unsigned char>(in[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (c == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    }
    bool valid = len != 0 && i + len <= in.size();
    for (size_t k = 1; valid && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(in[i + k]);
      if ((cc & 0xC0) != 0x80) valid = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (valid) {
      const bool overlong =
          (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
      if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) valid = false;
    }
    if (valid) {
      out.append(in.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

// Collects at most `limit` bytes of what vmime writes; counts the rest.
class LimitedOutputStream : public vmime::utility::outputStream {
 public:
  explicit LimitedOutputStream(size_t limit) : limit_(limit) {}
  void flush() override {}
  const std::string& data() const { return data_; }
  size_t total() const { return total_; }

 protected:
  void writeImpl(const vmime::byte_t* const data, const size_t count) override {
    total_ += count;
    if (data_.size() < limit_) {
      const size_t take = std::min(count, limit_ - data_.size());
      data_.append(reinterpret_cast<const char*>(data), take);
    }
  }

 private:
  size_t limit_;
  size_t total_ = 0;
  std::string data_;
};

// Converts `bytes` in `charset` to UTF-8; never throws (bad input becomes U+FFFD).
std::string ToUtf8(const std::string& bytes, const std::string& charset) {
  const std::string cs = AsciiLower(charset);
  if (cs.empty() || cs == "utf-8" || cs == "utf8" || cs == "us-ascii" || cs == "ascii") {
    return SanitizeUtf8(bytes);
  }
  try {
    std::string out;
    vmime::charsetConverterOptions opts;
    opts.silentlyReplaceInvalidSequences = true;
    opts.invalidSequence = "\xEF\xBF\xBD";
    vmime::charset::convert(bytes, out, vmime::charset(cs), vmime::charsets::UTF_8, opts);
    return SanitizeUtf8(out);
  } catch (...) {
    return SanitizeUtf8(bytes);
  }
}

// Decodes RFC 2047 encoded words in an unfolded header value. Values without encoded words are
// only UTF-8-sanitised (RFC 6532 allows raw UTF-8 in headers; vmime would treat it as ASCII).
std::string DecodeHeaderValue(std::string_view value) {
  if (value.find("=?") == std::string_view::npos) return SanitizeUtf8(value);
  try {
    auto text = vmime::text::decodeAndUnfold(std::string(value));
    return SanitizeUtf8(text->getConvertedText(vmime::charsets::UTF_8));
  } catch (...) {
    return SanitizeUtf8(value);
  }
}

struct RawField {
  std::string name;
  std::string value;  // unfolded, not decoded
};

// Splits a header block into unfolded fields. Lines without a colon that are not continuations
// are skipped (garbage before the first field, mbox "From " lines).
std::vector<RawField> SplitHeaderBlock(std::string_view block, size_t max_fields) {
  std::vector<RawField> fields;
  size_t pos = 0;
  while (pos < block.size()) {
    size_t eol = block.find('\n', pos);
    if (eol == std::string_view::npos) eol = block.size();
    std::string_view line = block.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the header block
    if (line.front() == ' ' || line.front() == '\t') {
      if (!fields.empty()) {
        std::string& v = fields.back().value;
        if (v.size() < (1u << 16)) {
          v.push_back(' ');
          v.append(Trim(line));
        }
      }
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view name = Trim(line.substr(0, colon));
    if (name.empty() || name.find(' ') != std::string_view::npos) continue;
    if (fields.size() >= max_fields) {
      // Keep scanning only to find the end of the block; extra fields are dropped.
      continue;
    }
    fields.push_back({std::string(name), std::string(Trim(line.substr(colon + 1)))});
  }
  for (auto& f : fields) {
    std::string_view t = Trim(f.value);
    if (t.size() != f.value.size()) f.value = std::string(t);
  }
  return fields;
}

std::optional<TimePoint> ParseDate(const std::string& value) {
  if (Trim(value).empty()) return std::nullopt;
  try {
    vmime::datetime dt;
    dt.parse(value);
    const int y = dt.getYear(), m = dt.getMonth(), d = dt.getDay();
    // TimePoint counts nanoseconds in an int64: years past ~2262 overflow it. Mail dated past
    // 2200 or with an offset beyond ±24 h is nonsense; treat it as undated.
    if (y < 1971 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
    if (dt.getZone() < -24 * 60 || dt.getZone() > 24 * 60) return std::nullopt;
    if (dt.getHour() < 0 || dt.getHour() > 23 || dt.getMinute() < 0 || dt.getMinute() > 59 ||
        dt.getSecond() < 0 || dt.getSecond() > 60) {
      return std::nullopt;
    }
    // Days from civil (Howard Hinnant's algorithm).
    const int yy = m <= 2 ? y - 1 : y;
    const int era = yy / 400;
    const int yoe = yy - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    const int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
    int64_t secs = days * 86400 + dt.getHour() * 3600 + dt.getMinute() * 60 + dt.getSecond();
    secs -= static_cast<int64_t>(dt.getZone()) * 60;
    return TimePoint(std::chrono::seconds(secs));
  } catch (...) {
    return std::nullopt;
  }
}

void AppendMailboxes(const std::string& raw_value, std::vector<Address>& out) {
  if (Trim(raw_value).empty()) return;
  try {
    vmime::addressList list;
    list.parse(raw_value);
    auto mailboxes = list.toMailboxList();
    for (size_t i = 0; i < mailboxes->getMailboxCount() && out.size() < 1000; ++i) {
      auto mb = mailboxes->getMailboxAt(i);
      Address a;
      a.email = SanitizeUtf8(mb->getEmail().toString());
      a.name = SanitizeUtf8(mb->getName().getConvertedText(vmime::charsets::UTF_8));
      if (!a.email.empty()) out.push_back(std::move(a));
    }
  } catch (...) {
  }
}

struct Walker {
  const ParseLimits& limits;
  IncomingMessage& msg;

  static std::string ParamText(const vmime::shared_ptr<vmime::parameterizedHeaderField>& f,
                               const char* name) {
    if (!f) return {};
    auto p = f->findParameter(name);
    if (!p) return {};
    return SanitizeUtf8(p->getValue().getConvertedText(vmime::charsets::UTF_8));
  }

  static bool IsTextual(const std::string& ct) {
    return ct.rfind("text/", 0) == 0 || ct.rfind("message/", 0) == 0;
  }

  void Walk(const vmime::bodyPart& part, int depth, bool top) {
    auto hdr = part.getHeader();
    std::string ct = "text/plain";
    auto ctf = hdr->findField<vmime::parameterizedHeaderField>(vmime::fields::CONTENT_TYPE);
    if (ctf) {
      auto mt = ctf->getValue<vmime::mediaType>();
      if (mt && !mt->getType().empty()) ct = AsciiLower(mt->getType() + "/" + mt->getSubType());
    }
    auto body = part.getBody();
    if (top) {
      msg.content_type = ct;
      if (ct == "multipart/report") msg.report_type = AsciiLower(ParamText(ctf, "report-type"));
    }
    if (ct.rfind("multipart/", 0) == 0 && body->getPartCount() > 0) {
      if (depth >= limits.max_depth) {
        msg.structure_truncated = true;
        return;
      }
      for (size_t i = 0; i < body->getPartCount(); ++i) {
        Walk(*body->getPartAt(i), depth + 1, false);
      }
      return;
    }
    IncomingPart out;
    out.content_type = ct;
    out.depth = depth;
    out.charset = AsciiLower(ParamText(ctf, "charset"));
    auto cdf = hdr->findField<vmime::parameterizedHeaderField>(vmime::fields::CONTENT_DISPOSITION);
    if (cdf) {
      auto cd = cdf->getValue<vmime::contentDisposition>();
      if (cd) out.disposition = AsciiLower(cd->getName());
      out.filename = ParamText(cdf, "filename");
    }
    if (out.filename.empty()) out.filename = ParamText(ctf, "name");
    if (IsTextual(ct)) {
      LimitedOutputStream os(limits.max_part_text_bytes);
      body->getContents()->extract(os);
      out.decoded_size = os.total();
      out.text_truncated = os.total() > os.data().size();
      out.text =
          ct.rfind("text/", 0) == 0 ? ToUtf8(os.data(), out.charset) : SanitizeUtf8(os.data());
    } else {
      out.decoded_size = body->getContents()->getLength();
    }
    msg.parts.push_back(std::move(out));
  }
};

// Counts lines that start with "--" and case-insensitive "boundary=" occurrences.
void CountStructure(std::string_view raw, size_t& dash_lines, size_t& boundaries) {
  dash_lines = 0;
  boundaries = 0;
  bool line_start = true;
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (line_start && c == '-' && i + 1 < raw.size() && raw[i + 1] == '-') ++dash_lines;
    line_start = c == '\n';
    if ((c == 'b' || c == 'B') && i + 9 <= raw.size() &&
        AsciiLower(raw.substr(i, 9)) == "boundary=") {
      ++boundaries;
    }
  }
}

// Flat reading for structures over the limits: the body is one text part, undecoded.
void ReadFlat(std::string_view body, const ParseLimits& limits, IncomingMessage& msg) {
  IncomingPart p;
  p.content_type = "text/plain";
  p.decoded_size = body.size();
  p.text_truncated = body.size() > limits.max_part_text_bytes;
  p.text = SanitizeUtf8(body.substr(0, limits.max_part_text_bytes));
  msg.parts.push_back(std::move(p));
}

}  // namespace

bool HeaderNameLess::operator()(std::string_view a, std::string_view b) const {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const int ca = std::tolower(static_cast<unsigned char>(a[i]));
    const int cb = std::tolower(static_cast<unsigned char>(b[i]));
    if (ca != cb) return ca < cb;
  }
  return a.size() < b.size();
}

std::optional<std::string> FirstHeader(const HeaderMap& headers, std::string_view name) {
  auto it = headers.find(name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string NormalizeMessageId(std::string_view id) {
  id = Trim(id);
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>')
    id = Trim(id.substr(1, id.size() - 2));
  return std::string(id);
}

std::vector<std::string> ParseMessageIdList(std::string_view value) {
  std::vector<std::string> ids;
  size_t pos = 0;
  if (value.find('<') != std::string_view::npos) {
    while (ids.size() < 500) {
      const size_t open = value.find('<', pos);
      if (open == std::string_view::npos) break;
      const size_t close = value.find('>', open + 1);
      if (close == std::string_view::npos) break;
      std::string id(Trim(value.substr(open + 1, close - open - 1)));
      if (!id.empty() && id.find_first_of(" \t<") == std::string::npos) ids.push_back(id);
      pos = close + 1;
    }
    return ids;
  }
  while (pos < value.size() && ids.size() < 500) {
    while (pos < value.size() && (IsWs(value[pos]) || value[pos] == ',')) ++pos;
    size_t end = pos;
    while (end < value.size() && !IsWs(value[end]) && value[end] != ',') ++end;
    if (end > pos) {
      std::string_view tok = value.substr(pos, end - pos);
      if (tok.find('@') != std::string_view::npos) ids.emplace_back(tok);
    }
    pos = end;
  }
  return ids;
}

HeaderMap ParseHeaderBlock(std::string_view block, bool decode, size_t max_fields) {
  HeaderMap out;
  for (auto& f : SplitHeaderBlock(block, max_fields)) {
    out.emplace(std::move(f.name), decode ? DecodeHeaderValue(f.value) : SanitizeUtf8(f.value));
  }
  return out;
}

Result<IncomingMessage> ParseIncoming(std::string_view raw, const ParseLimits& limits) {
  if (raw.empty()) return Status::InvalidArgument("incoming message is empty", "raw");
  if (raw.size() > limits.max_bytes) {
    return Status::TooLarge("incoming message is " + std::to_string(raw.size()) +
                                " bytes, over the limit of " + std::to_string(limits.max_bytes),
                            "raw");
  }
  IncomingMessage msg;
  msg.raw_size = raw.size();

  // Header block: up to the first empty line (CRLF or LF).
  size_t body_start = raw.size();
  size_t header_end = raw.size();
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\n') continue;
    if (i + 1 < raw.size() && raw[i + 1] == '\n') {
      header_end = i + 1;
      body_start = i + 2;
      break;
    }
    if (i + 2 < raw.size() && raw[i + 1] == '\r' && raw[i + 2] == '\n') {
      header_end = i + 1;
      body_start = i + 3;
      break;
    }
  }
  if (!raw.empty() && (raw[0] == '\n' || (raw.size() > 1 && raw[0] == '\r' && raw[1] == '\n'))) {
    header_end = 0;
    body_start = raw[0] == '\n' ? 1 : 2;
  }
  const std::string_view header_block = raw.substr(0, header_end);
  const std::string_view body = raw.substr(std::min(body_start, raw.size()));

  std::vector<RawField> fields = SplitHeaderBlock(header_block, limits.max_header_fields);
  for (const auto& f : fields) msg.headers.emplace(f.name, DecodeHeaderValue(f.value));

  auto raw_first = [&](std::string_view name) -> const std::string* {
    for (const auto& f : fields) {
      if (!HeaderNameLess()(f.name, name) && !HeaderNameLess()(name, f.name)) return &f.value;
    }
    return nullptr;
  };
  auto raw_all = [&](std::string_view name) {
    std::string joined;
    for (const auto& f : fields) {
      if (!HeaderNameLess()(f.name, name) && !HeaderNameLess()(name, f.name)) {
        if (!joined.empty()) joined.append(", ");
        joined.append(f.value);
      }
    }
    return joined;
  };

  if (const std::string* v = raw_first("From")) {
    std::vector<Address> from;
    AppendMailboxes(*v, from);
    if (!from.empty()) msg.from = std::move(from.front());
  }
  AppendMailboxes(raw_all("To"), msg.to);
  AppendMailboxes(raw_all("Cc"), msg.cc);
  if (const std::string* v = raw_first("Reply-To")) {
    std::vector<Address> rt;
    AppendMailboxes(*v, rt);
    if (!rt.empty()) msg.reply_to = std::move(rt.front());
  }
  if (const std::string* v = raw_first("Return-Path")) {
    std::string rp = NormalizeMessageId(*v);
    msg.has_null_return_path = rp.empty();
    msg.return_path = SanitizeUtf8(rp);
  }
  if (auto v = FirstHeader(msg.headers, "Subject")) msg.subject = *v;
  if (const std::string* v = raw_first("Message-ID")) {
    auto ids = ParseMessageIdList(*v);
    msg.message_id = ids.empty() ? SanitizeUtf8(NormalizeMessageId(*v)) : SanitizeUtf8(ids[0]);
  }
  if (const std::string* v = raw_first("In-Reply-To")) {
    auto ids = ParseMessageIdList(*v);
    if (!ids.empty()) msg.in_reply_to = SanitizeUtf8(ids[0]);
  }
  for (auto& id : ParseMessageIdList(raw_all("References"))) {
    msg.references.push_back(SanitizeUtf8(id));
  }
  if (const std::string* v = raw_first("Date")) msg.date = ParseDate(*v);

  size_t dash_lines = 0, boundaries = 0;
  CountStructure(raw, dash_lines, boundaries);
  bool parsed = false;
  if (dash_lines <= limits.max_parts && boundaries <= limits.max_multiparts) {
    try {
      vmime::message vm;
      vm.parse(std::string(raw));
      Walker walker{limits, msg};
      walker.Walk(vm, 0, true);
      parsed = true;
    } catch (...) {
      msg.parts.clear();
    }
  }
  if (!parsed) {
    msg.structure_truncated = true;
    if (msg.content_type.empty()) msg.content_type = "text/plain";
    ReadFlat(body, limits, msg);
  }

  // Text body: the first text/plain part that is not an attachment, else the first HTML part.
  const IncomingPart* plain = nullptr;
  const IncomingPart* html = nullptr;
  for (const auto& p : msg.parts) {
    if (p.disposition == "attachment") continue;
    if (!plain && p.content_type == "text/plain") plain = &p;
    if (!html && p.content_type == "text/html") html = &p;
  }
  if (plain) {
    msg.text_body = plain->text;
  } else if (html) {
    msg.text_body = HtmlToText(html->text, HtmlToTextOptions{.width = 0});
    msg.text_body_from_html = true;
  }
  return msg;
}

}  // namespace kiln::mail
