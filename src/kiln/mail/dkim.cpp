#include "kiln/mail/dkim.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/mail/mime_util.h"

namespace kiln::mail {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

constexpr size_t kFoldColumn = 78;

// The most recent OpenSSL error as text, and clears the thread's error queue.
std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

bool IsWsp(char c) { return c == ' ' || c == '\t'; }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

// A DNS name made of LDH labels (domain, or a selector which may itself contain dots).
Status ValidateDnsName(std::string_view name, std::string_view field) {
  const auto fail = [&](std::string_view why) {
    return Status::InvalidArgument(std::string(field) + " \"" + std::string(name) +
                                       "\" is not a valid DNS name: " + std::string(why),
                                   std::string(field));
  };
  if (name.empty()) return fail("empty");
  if (name.size() > 253) return fail("longer than 253 characters");
  size_t i = 0;
  while (i <= name.size()) {
    size_t j = name.find('.', i);
    if (j == std::string_view::npos) j = name.size();
    const std::string_view label = name.substr(i, j - i);
    if (label.empty() || label.size() > 63) return fail("empty or over-long label");
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_')) {
        return fail(std::string("contains '") + c + "'");
      }
    }
    if (label.front() == '-' || label.back() == '-') return fail("label starts or ends with '-'");
    i = j + 1;
  }
  return Status::Ok();
}

struct LoadedKey {
  PkeyPtr pkey;
  DkimKeyType type;
};

Result<LoadedKey> LoadPrivateKey(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::Internal("BIO_new_mem_buf: " + OpenSslError());
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) {
    return Status::InvalidArgument(
        "private_key_pem is not a PEM private key (" + OpenSslError() + ")", "private_key_pem");
  }
  if (EVP_PKEY_is_a(pkey.get(), "ED25519"))
    return LoadedKey{std::move(pkey), DkimKeyType::kEd25519};
  if (EVP_PKEY_is_a(pkey.get(), "RSA")) {
    const int bits = EVP_PKEY_get_bits(pkey.get());
    if (bits < 1024) {
      return Status::InvalidArgument(
          "private_key_pem is a " + std::to_string(bits) +
              "-bit RSA key; DKIM needs at least 1024 (RFC 8301), use 2048",
          "private_key_pem");
    }
    return LoadedKey{std::move(pkey), DkimKeyType::kRsa2048};
  }
  return Status::InvalidArgument("private_key_pem is neither an RSA nor an Ed25519 key",
                                 "private_key_pem");
}

Result<std::string> PublicKeyBase64(EVP_PKEY* pkey, DkimKeyType type) {
  std::string raw;
  if (type == DkimKeyType::kEd25519) {
    size_t len = 0;
    if (EVP_PKEY_get_raw_public_key(pkey, nullptr, &len) != 1) {
      return Status::Internal("EVP_PKEY_get_raw_public_key: " + OpenSslError());
    }
    raw.resize(len);
    if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(raw.data()), &len) !=
        1) {
      return Status::Internal("EVP_PKEY_get_raw_public_key: " + OpenSslError());
    }
    raw.resize(len);
  } else {
    const int len = i2d_PUBKEY(pkey, nullptr);
    if (len <= 0) return Status::Internal("i2d_PUBKEY: " + OpenSslError());
    raw.resize(static_cast<size_t>(len));
    auto* p = reinterpret_cast<unsigned char*>(raw.data());
    if (i2d_PUBKEY(pkey, &p) != len) return Status::Internal("i2d_PUBKEY: " + OpenSslError());
  }
  std::string out;
  AppendBase64(out, raw);
  return out;
}

Result<std::string> PrivateKeyPem(EVP_PKEY* pkey) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Status::Internal("PEM_write_bio_PrivateKey: " + OpenSslError());
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// One header field of the message: its name and the whole field with folds, without final CRLF.
struct HeaderField {
  std::string_view name;
  std::string_view field;
  bool used = false;
};

// Splits `message` into header fields and body. Fails on bare CR / LF or a line that is neither a
// field nor a continuation.
Status SplitMessage(std::string_view message, std::vector<HeaderField>& fields,
                    std::string_view& body) {
  // Bare CR or LF would make the signed bytes differ from the transmitted ones.
  const auto bare = [&](size_t offset) {
    return Status::InvalidArgument("message has a bare CR or LF at offset " +
                                       std::to_string(offset) + "; lines must end with CRLF",
                                   "message");
  };
  for (size_t i = message.find('\n'); i != std::string_view::npos; i = message.find('\n', i + 1)) {
    if (i == 0 || message[i - 1] != '\r') return bare(i);
  }
  for (size_t i = message.find('\r'); i != std::string_view::npos; i = message.find('\r', i + 1)) {
    if (i + 1 >= message.size() || message[i + 1] != '\n') return bare(i);
  }
  size_t pos = 0;
  while (pos < message.size()) {
    size_t eol = message.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = message.size();
    if (eol == pos) {  // the empty line that ends the header
      body = message.substr(std::min(pos + 2, message.size()));
      return Status::Ok();
    }
    if (IsWsp(message[pos])) {
      if (fields.empty()) {
        return Status::InvalidArgument("message starts with a continuation line", "message");
      }
      HeaderField& last = fields.back();
      last.field = std::string_view(last.field.data(),
                                    static_cast<size_t>(message.data() + eol - last.field.data()));
    } else {
      const size_t colon = message.find(':', pos);
      if (colon == std::string_view::npos || colon > eol) {
        return Status::InvalidArgument(
            "message header line at offset " + std::to_string(pos) + " has no ':'", "message");
      }
      size_t name_end = colon;
      while (name_end > pos && IsWsp(message[name_end - 1])) --name_end;
      fields.push_back({message.substr(pos, name_end - pos), message.substr(pos, eol - pos)});
    }
    pos = eol + 2;
  }
  body = {};
  return Status::Ok();
}

void AppendCanonicalHeader(std::string& out, std::string_view field) {
  const size_t colon = field.find(':');
  size_t name_end = colon;
  while (name_end > 0 && IsWsp(field[name_end - 1])) --name_end;
  for (size_t i = 0; i < name_end; ++i) out += Lower(field[i]);
  out += ':';
  bool pending_wsp = false;
  bool started = false;
  for (size_t i = colon + 1; i < field.size(); ++i) {
    const char c = field[i];
    if (c == '\r' || c == '\n') continue;  // unfold
    if (IsWsp(c)) {
      pending_wsp = true;
      continue;
    }
    if (pending_wsp && started) out += ' ';
    pending_wsp = false;
    started = true;
    out += c;
  }
}

void AppendCanonicalBody(std::string& out, std::string_view body) {
  const size_t base = out.size();
  size_t keep = base;  // end of the last non-empty line
  size_t line_len = 0;
  bool pending_wsp = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\r' && i + 1 < body.size() && body[i + 1] == '\n') {
      out += "\r\n";
      if (line_len > 0) keep = out.size();
      line_len = 0;
      pending_wsp = false;
      ++i;
      continue;
    }
    if (IsWsp(c)) {
      pending_wsp = true;
      continue;
    }
    if (pending_wsp) {
      out += ' ';
      ++line_len;
      pending_wsp = false;
    }
    out += c;
    ++line_len;
  }
  if (line_len > 0) {
    out += "\r\n";
    keep = out.size();
  }
  out.resize(keep);
}

// Appends tokens to a header, folding with CRLF TAB before a token that would pass 78 columns.
class TagWriter {
 public:
  // `out` holds the start of the header line ("DKIM-Signature:").
  explicit TagWriter(std::string& out) : out_(out), line_start_(0) {}
  // `space` puts one SP before the token when it is not folded.
  void Add(std::string_view token, bool space) {
    if (Column() + (space ? 1 : 0) + token.size() > kFoldColumn) {
      out_ += "\r\n\t";
      line_start_ = out_.size() - 1;
    } else if (space) {
      out_ += ' ';
    }
    out_ += token;
  }
  // Appends `data` in pieces that fill the current line, folding between them.
  void AddBreakable(std::string_view data) {
    size_t i = 0;
    while (i < data.size()) {
      size_t room = Column() < kFoldColumn ? kFoldColumn - Column() : 0;
      if (room == 0) {
        out_ += "\r\n\t";
        line_start_ = out_.size() - 1;
        room = kFoldColumn - 1;
      }
      const size_t n = std::min(room, data.size() - i);
      out_.append(data.substr(i, n));
      i += n;
    }
  }

 private:
  size_t Column() const { return out_.size() - line_start_; }
  std::string& out_;
  size_t line_start_;
};

}  // namespace

struct DkimSigner::Key {
  DkimKeyType type;
  std::string selector;
  PkeyPtr pkey;
};

DkimSigner::DkimSigner(DkimSigner&&) noexcept = default;
DkimSigner& DkimSigner::operator=(DkimSigner&&) noexcept = default;
DkimSigner::~DkimSigner() = default;

const std::vector<std::string>& DkimSigner::DefaultSignedHeaders() {
  static const std::vector<std::string> kHeaders = {"from",
                                                    "to",
                                                    "cc",
                                                    "reply-to",
                                                    "subject",
                                                    "date",
                                                    "message-id",
                                                    "in-reply-to",
                                                    "references",
                                                    "list-unsubscribe",
                                                    "list-unsubscribe-post",
                                                    "mime-version",
                                                    "content-type",
                                                    "content-transfer-encoding"};
  return kHeaders;
}

Result<DkimSigner> DkimSigner::Create(std::string_view private_key_pem, std::string_view domain,
                                      std::string_view selector) {
  KILN_RETURN_IF_ERROR(ValidateDnsName(domain, "domain"));
  DkimSigner signer;
  signer.domain_ = std::string(domain);
  KILN_RETURN_IF_ERROR(signer.AddKey(private_key_pem, selector));
  return signer;
}

Status DkimSigner::AddKey(std::string_view private_key_pem, std::string_view selector) {
  KILN_RETURN_IF_ERROR(ValidateDnsName(selector, "selector"));
  KILN_ASSIGN_OR_RETURN(LoadedKey loaded, LoadPrivateKey(private_key_pem));
  auto key = std::make_unique<Key>();
  key->type = loaded.type;
  key->selector = std::string(selector);
  key->pkey = std::move(loaded.pkey);
  keys_.push_back(std::move(key));
  return Status::Ok();
}

Result<std::string> DkimSigner::Sign(std::string_view message, TimePoint signing_time) const {
  std::vector<HeaderField> fields;
  fields.reserve(24);
  std::string_view body;
  KILN_RETURN_IF_ERROR(SplitMessage(message, fields, body));

  // h=: every occurrence of each listed header present, plus From once more ("oversigning",
  // RFC 6376 §8.15) so that a From added in transit breaks the signature.
  std::vector<std::string_view> signed_names;
  bool has_from = false;
  for (const std::string& name : DefaultSignedHeaders()) {
    for (const HeaderField& f : fields) {
      if (EqualsIgnoreCase(f.name, name)) {
        signed_names.push_back(name);
        if (name == "from") has_from = true;
      }
    }
  }
  if (!has_from) return Status::InvalidArgument("message has no From header", "message");
  signed_names.insert(signed_names.begin(), "from");

  std::string hash_input;
  hash_input.reserve(body.size() + 2);
  AppendCanonicalBody(hash_input, body);
  unsigned char body_hash[EVP_MAX_MD_SIZE];
  unsigned int body_hash_len = 0;
  if (EVP_Digest(hash_input.data(), hash_input.size(), body_hash, &body_hash_len, EVP_sha256(),
                 nullptr) != 1) {
    return Status::Internal("SHA-256 of the body: " + OpenSslError());
  }
  std::string bh;
  AppendBase64(bh, std::string_view(reinterpret_cast<char*>(body_hash), body_hash_len));

  // Canonical signed headers, selected bottom-up per RFC 6376 §5.4.2; the same for every key.
  hash_input.clear();
  for (std::string_view name : signed_names) {
    for (size_t i = fields.size(); i-- > 0;) {
      HeaderField& f = fields[i];
      if (!f.used && EqualsIgnoreCase(f.name, name)) {
        f.used = true;
        AppendCanonicalHeader(hash_input, f.field);
        hash_input += "\r\n";
        break;
      }
    }
  }
  const size_t signed_headers_size = hash_input.size();
  const int64_t t =
      std::chrono::duration_cast<std::chrono::seconds>(signing_time.time_since_epoch()).count();

  std::string out;
  out.reserve(message.size() + keys_.size() * 700);
  for (const auto& key : keys_) {
    std::string header = "DKIM-Signature:";
    TagWriter w(header);
    w.Add("v=1;", true);
    w.Add(key->type == DkimKeyType::kEd25519 ? "a=ed25519-sha256;" : "a=rsa-sha256;", true);
    w.Add("c=relaxed/relaxed;", true);
    w.Add("d=" + domain_ + ";", true);
    w.Add("s=" + key->selector + ";", true);
    w.Add("t=" + std::to_string(t) + ";", true);
    for (size_t i = 0; i < signed_names.size(); ++i) {
      std::string token = i == 0 ? "h=" : "";
      token += signed_names[i];
      token += i + 1 < signed_names.size() ? ':' : ';';
      w.Add(token, i == 0);
    }
    w.Add("bh=" + bh + ";", true);
    w.Add("b=", true);

    hash_input.resize(signed_headers_size);
    AppendCanonicalHeader(hash_input, header);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_Digest(hash_input.data(), hash_input.size(), digest, &digest_len, EVP_sha256(),
                   nullptr) != 1) {
      return Status::Internal("SHA-256 of the headers: " + OpenSslError());
    }
    std::string signature(512, '\0');
    size_t sig_len = signature.size();
    auto* sig = reinterpret_cast<unsigned char*>(signature.data());
    if (key->type == DkimKeyType::kEd25519) {
      // RFC 8463 §3: PureEdDSA over the SHA-256 hash of the canonicalised header data.
      MdCtxPtr ctx(EVP_MD_CTX_new());
      if (!ctx ||
          EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key->pkey.get(),
                                nullptr) != 1 ||
          EVP_DigestSign(ctx.get(), sig, &sig_len, digest, digest_len) != 1) {
        return Status::Internal("Ed25519 signing: " + OpenSslError());
      }
    } else {
      PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key->pkey.get(), nullptr));
      if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
          EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
          EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1 ||
          EVP_PKEY_sign(ctx.get(), sig, &sig_len, digest, digest_len) != 1) {
        return Status::Internal("RSA signing: " + OpenSslError());
      }
    }
    std::string b;
    AppendBase64(b, std::string_view(signature.data(), sig_len));
    w.AddBreakable(b);
    out += header;
    out += "\r\n";
  }
  out += message;
  return out;
}

std::string DkimCanonicalizeHeaderRelaxed(std::string_view field) {
  std::string out;
  if (field.find(':') == std::string_view::npos) return out;
  AppendCanonicalHeader(out, field);
  return out;
}

std::string DkimCanonicalizeBodyRelaxed(std::string_view body) {
  std::string out;
  out.reserve(body.size() + 2);
  AppendCanonicalBody(out, body);
  return out;
}

Result<DkimKeyPair> GenerateDkimKey(DkimKeyType type) {
  PkeyPtr pkey(type == DkimKeyType::kEd25519
                   ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                   : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  if (!pkey) return Status::Internal("key generation: " + OpenSslError());
  DkimKeyPair pair;
  pair.type = type;
  KILN_ASSIGN_OR_RETURN(pair.private_key_pem, PrivateKeyPem(pkey.get()));
  KILN_ASSIGN_OR_RETURN(pair.public_key_base64, PublicKeyBase64(pkey.get(), type));
  return pair;
}

Result<DkimKeyPair> DkimKeyPairFromPem(std::string_view private_key_pem) {
  KILN_ASSIGN_OR_RETURN(LoadedKey loaded, LoadPrivateKey(private_key_pem));
  DkimKeyPair pair;
  pair.type = loaded.type;
  pair.private_key_pem = std::string(private_key_pem);
  KILN_ASSIGN_OR_RETURN(pair.public_key_base64, PublicKeyBase64(loaded.pkey.get(), loaded.type));
  return pair;
}

std::string DkimDnsName(std::string_view domain, std::string_view selector) {
  std::string name(selector);
  name += "._domainkey.";
  name += domain;
  return name;
}

std::string DkimDnsRecordValue(const DkimKeyPair& key_pair) {
  std::string v =
      key_pair.type == DkimKeyType::kEd25519 ? "v=DKIM1; k=ed25519; p=" : "v=DKIM1; k=rsa; p=";
  v += key_pair.public_key_base64;
  return v;
}

std::string DkimDnsRecord(std::string_view domain, std::string_view selector,
                          const DkimKeyPair& key_pair) {
  const std::string value = DkimDnsRecordValue(key_pair);
  std::string out = DkimDnsName(domain, selector);
  out += ". 3600 IN TXT (";
  for (size_t i = 0; i < value.size(); i += 255) {
    out += " \"";
    out += value.substr(i, 255);  // base64 and "v=DKIM1; k=...; p=" need no escaping
    out += '"';
  }
  out += " )";
  return out;
}

std::string DkimKeygenReport(std::string_view domain, std::string_view selector, DkimKeyType type,
                             const DkimKeyPair& key_pair) {
  const std::string name = DkimDnsName(domain, selector);
  std::string out;
  out += "DKIM key for ";
  out += domain;
  out += " (selector ";
  out += selector;
  out += type == DkimKeyType::kEd25519 ? ", Ed25519)\n\n" : ", RSA 2048)\n\n";
  out += "1. Publish this TXT record in the DNS zone of ";
  out += domain;
  out += ":\n\n   Name:  ";
  out += name;
  out += "\n   Type:  TXT\n   Value: ";
  out += DkimDnsRecordValue(key_pair);
  out += "\n\n   As a zone-file line (the value split into strings of at most 255 bytes):\n\n   ";
  out += DkimDnsRecord(domain, selector, key_pair);
  out += "\n\n   Check it once published:  dig +short TXT ";
  out += name;
  out += "\n\n2. Give Kiln the private key below as the sender's DKIM private key (domain ";
  out += domain;
  out += ", selector ";
  out += selector;
  out += ").\n   It signs every message from this domain; keep it secret and do not mail it.\n";
  if (type == DkimKeyType::kEd25519) {
    out +=
        "   Ed25519 (RFC 8463) is not checked by every receiver: use it next to an RSA key\n"
        "   (dual signature), never alone.\n";
  }
  out += "\n";
  out += key_pair.private_key_pem;
  if (!key_pair.private_key_pem.empty() && key_pair.private_key_pem.back() != '\n') out += '\n';
  return out;
}

}  // namespace kiln::mail
