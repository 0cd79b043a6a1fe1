#include "kiln/api/tracking_tokens.h"

#include "kiln/auth/crypto.h"

namespace kiln::api {

namespace {

constexpr std::string_view kKeySetting = "tracking_signing_key";
constexpr std::string_view kKeyContext = "settings:tracking_signing_key";
constexpr size_t kTagBytes = 16;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads a minimal LEB128 varint (no redundant trailing zero groups, so each value has exactly
// one encoding) of at most 63 bits.
bool GetVarint(std::string_view data, size_t& pos, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 63; shift += 7) {
    if (pos >= data.size()) return false;
    auto byte = static_cast<uint8_t>(data[pos++]);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      if (byte == 0 && shift > 0) return false;
      return v <= static_cast<uint64_t>(INT64_MAX);
    }
  }
  return false;
}

bool IsHttpUrl(std::string_view url) {
  auto lower_prefix = [&](std::string_view p) {
    if (url.size() <= p.size()) return false;
    for (size_t i = 0; i < p.size(); ++i) {
      char c = url[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != p[i]) return false;
    }
    return true;
  };
  if (!lower_prefix("http://") && !lower_prefix("https://")) return false;
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) return false;  // no spaces, controls or header-splitting bytes
  }
  return true;
}

std::string TrimBase(std::string_view base_url) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  return std::string(base_url);
}

Result<std::string> SignSimple(std::string_view key, TokenKind kind, int64_t ws, int64_t msg) {
  TrackingToken t;
  t.kind = kind;
  t.workspace_id = ws;
  t.message_id = msg;
  return SignToken(key, t);
}

}  // namespace

Result<std::string> LoadOrCreateTrackingKey(store::Database& db, const auth::SecretBox& box,
                                            const Clock& clock) {
  std::string key;
  Status st = db.Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto row,
                          tx.QueryOne("settings.get_instance", {std::string(kKeySetting)}));
    if (!row) {
      // First start. A node starting at the same moment may win the insert; its key then counts.
      KILN_ASSIGN_OR_RETURN(auto sealed, box.Seal(auth::RandomBytes(32), kKeyContext));
      KILN_RETURN_IF_ERROR(
          tx.Exec("settings.put_instance_if_absent",
                  {std::string(kKeySetting), auth::Base64UrlEncode(sealed), clock.NowMillis()})
              .status());
      KILN_ASSIGN_OR_RETURN(row, tx.QueryOne("settings.get_instance", {std::string(kKeySetting)}));
      if (!row) return Status::Internal("tracking key vanished right after it was stored");
    }
    KILN_ASSIGN_OR_RETURN(auto raw, auth::Base64UrlDecode(row->Text("value")));
    KILN_ASSIGN_OR_RETURN(key, box.Open(raw, kKeyContext));
    return Status::Ok();
  });
  if (!st.ok()) return st.WithContext("cannot load the tracking signing key");
  return key;
}

Result<std::string> SignToken(std::string_view key, const TrackingToken& token) {
  if (token.workspace_id <= 0) return Status::InvalidArgument("workspace id must be positive");
  if (token.message_id <= 0) return Status::InvalidArgument("message id must be positive");
  std::string data;
  data.push_back(static_cast<char>(kTokenVersion));
  data.push_back(static_cast<char>(token.kind));
  PutVarint(data, static_cast<uint64_t>(token.workspace_id));
  PutVarint(data, static_cast<uint64_t>(token.message_id));
  if (token.kind == TokenKind::kClick) {
    if (token.link_index < 0) return Status::InvalidArgument("link index must not be negative");
    if (token.url.size() > kMaxTrackedUrlLength) {
      return Status::InvalidArgument("click URL longer than " +
                                     std::to_string(kMaxTrackedUrlLength) + " bytes");
    }
    if (!IsHttpUrl(token.url)) {
      return Status::InvalidArgument("click URL must be an absolute http(s) URL without spaces: " +
                                     token.url.substr(0, 100));
    }
    PutVarint(data, static_cast<uint64_t>(token.link_index));
    PutVarint(data, token.url.size());
    data += token.url;
  }
  data += auth::HmacSha256(key, data).substr(0, kTagBytes);
  return auth::Base64UrlEncode(data);
}

Result<TrackingToken> VerifyToken(std::string_view key, std::string_view text) {
  const Status unknown = Status::NotFound("unknown link");
  if (text.size() > 4 * (kMaxTrackedUrlLength + 64) / 3) return unknown;
  auto decoded = auth::Base64UrlDecode(text);
  if (!decoded.ok()) return unknown;
  const std::string& data = *decoded;
  if (data.size() < 2 + 2 + kTagBytes) return unknown;
  std::string_view body(data.data(), data.size() - kTagBytes);
  std::string_view tag(data.data() + body.size(), kTagBytes);
  // Check the signature before looking at anything else: unsigned bytes are never parsed.
  if (!auth::ConstantTimeEqual(auth::HmacSha256(key, body).substr(0, kTagBytes), tag))
    return unknown;
  if (static_cast<uint8_t>(body[0]) != kTokenVersion) return unknown;
  TrackingToken t;
  switch (body[1]) {
    case 'u':
      t.kind = TokenKind::kUnsubscribe;
      break;
    case 'o':
      t.kind = TokenKind::kOpen;
      break;
    case 'c':
      t.kind = TokenKind::kClick;
      break;
    default:
      return unknown;
  }
  size_t pos = 2;
  uint64_t ws = 0, msg = 0;
  if (!GetVarint(body, pos, ws) || !GetVarint(body, pos, msg) || ws == 0 || msg == 0)
    return unknown;
  t.workspace_id = static_cast<int64_t>(ws);
  t.message_id = static_cast<int64_t>(msg);
  if (t.kind == TokenKind::kClick) {
    uint64_t index = 0, len = 0;
    if (!GetVarint(body, pos, index) || !GetVarint(body, pos, len)) return unknown;
    if (len > kMaxTrackedUrlLength || body.size() - pos < len) return unknown;
    t.link_index = static_cast<int64_t>(index);
    t.url = std::string(body.substr(pos, len));
    pos += len;
    if (!IsHttpUrl(t.url)) return unknown;
  }
  if (pos != body.size()) return unknown;
  return t;
}

Result<std::string> UnsubscribeUrl(std::string_view base_url, std::string_view key,
                                   int64_t workspace_id, int64_t message_id) {
  KILN_ASSIGN_OR_RETURN(auto token,
                        SignSimple(key, TokenKind::kUnsubscribe, workspace_id, message_id));
  return TrimBase(base_url) + "/u/" + token;
}

Result<std::string> OneClickUnsubscribeUrl(std::string_view base_url, std::string_view key,
                                           int64_t workspace_id, int64_t message_id) {
  return UnsubscribeUrl(base_url, key, workspace_id, message_id);
}

Result<std::string> OpenPixelUrl(std::string_view base_url, std::string_view key,
                                 int64_t workspace_id, int64_t message_id) {
  KILN_ASSIGN_OR_RETURN(auto token, SignSimple(key, TokenKind::kOpen, workspace_id, message_id));
  return TrimBase(base_url) + "/o/" + token + ".gif";
}

Result<std::string> ClickUrl(std::string_view base_url, std::string_view key, int64_t workspace_id,
                             int64_t message_id, int64_t link_index, std::string_view target_url) {
  TrackingToken t;
  t.kind = TokenKind::kClick;
  t.workspace_id = workspace_id;
  t.message_id = message_id;
  t.link_index = link_index;
  t.url = std::string(target_url);
  KILN_ASSIGN_OR_RETURN(auto token, SignToken(key, t));
  return TrimBase(base_url) + "/c/" + token;
}

Result<ListUnsubscribeHeaders> ListUnsubscribeHeaderValues(std::string_view base_url,
                                                           std::string_view key,
                                                           int64_t workspace_id,
                                                           int64_t message_id) {
  KILN_ASSIGN_OR_RETURN(auto url, OneClickUnsubscribeUrl(base_url, key, workspace_id, message_id));
  return ListUnsubscribeHeaders{"<" + url + ">", "List-Unsubscribe=One-Click"};
}

}  // namespace kiln::api
