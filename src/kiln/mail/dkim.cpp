#include "kiln/mail/dkim.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <chrono>
#include <cstring>
#include <mutex>
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
struct MdFree {
  void operator()(EVP_MD* p) const { EVP_MD_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdPtr = std::unique_ptr<EVP_MD, MdFree>;

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
  // Without a callback OpenSSL asks for the passphrase of an encrypted key on the controlling
  // terminal, which would block the request (and read whatever the operator types there).
  bool encrypted = false;
  pem_password_cb* no_passphrase = [](char*, int, int, void* flag) -> int {
    *static_cast<bool*>(flag) = true;
    return -1;
  };
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, &encrypted));
  if (!pkey && encrypted) {
    ERR_clear_error();
    return Status::InvalidArgument(
        "private_key_pem is encrypted with a passphrase; give the key without one "
        "(openssl pkey -in key.pem -out plain.pem)",
        "private_key_pem");
  }
  if (!pkey) {
    return Status::InvalidArgument(
        "private_key_pem is not a PEM private key (" + OpenSslError() + ")", "private_key_pem");
  }
  // The size first: the pair check below costs a private-key operation, which grows with the cube
  // of the key's size.
  if (EVP_PKEY_is_a(pkey.get(), "RSA")) {
    const int bits = EVP_PKEY_get_bits(pkey.get());
    if (bits < 1024) {
      return Status::InvalidArgument(
          "private_key_pem is a " + std::to_string(bits) +
              "-bit RSA key; DKIM needs at least 1024 (RFC 8301), use 2048",
          "private_key_pem");
    }
    // Verifiers need not check signatures of larger keys (RFC 8301 §3.2), and each signature
    // costs the sender a private-key operation with it.
    if (bits > 4096) {
      return Status::InvalidArgument("private_key_pem is a " + std::to_string(bits) +
                                         "-bit RSA key; DKIM verifiers need not accept keys "
                                         "over 4096 bits (RFC 8301), use 2048",
                                     "private_key_pem");
    }
  }
  // PEM parsing does not check that the parts of a key belong together; a key whose parts do not
  // (a damaged CRT value) would be accepted here and then fail every signature.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check) return Status::Internal("EVP_PKEY_CTX_new_from_pkey: " + OpenSslError());
  if (EVP_PKEY_pairwise_check(check.get()) != 1) {
    return Status::InvalidArgument(
        "private_key_pem is not a consistent key pair (" + OpenSslError() + ")", "private_key_pem");
  }
  if (EVP_PKEY_is_a(pkey.get(), "ED25519"))
    return LoadedKey{std::move(pkey), DkimKeyType::kEd25519};
  if (EVP_PKEY_is_a(pkey.get(), "RSA")) return LoadedKey{std::move(pkey), DkimKeyType::kRsa2048};
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

// Bytes the relaxed canonicalisations treat specially: WSP, and CR and LF (line ends).
enum ByteClass : unsigned char { kPlain = 0, kWsp = 1, kLineEnd = 2 };
constexpr auto kByteClass = [] {
  std::array<ByteClass, 256> t{};
  t[' '] = kWsp;
  t['\t'] = kWsp;
  t['\r'] = kLineEnd;
  t['\n'] = kLineEnd;
  return t;
}();
ByteClass ClassOf(char c) { return kByteClass[static_cast<unsigned char>(c)]; }

// RFC 6376 §3.4.2: lower-case name, unfold, WSP runs to one SP, no WSP around the value.
void AppendCanonicalHeader(std::string& out, std::string_view field) {
  const size_t colon = field.find(':');
  size_t name_end = colon;
  while (name_end > 0 && IsWsp(field[name_end - 1])) --name_end;
  for (size_t i = 0; i < name_end; ++i) out += Lower(field[i]);
  out += ':';
  bool pending_wsp = false;
  bool started = false;
  size_t i = colon + 1;
  while (i < field.size()) {
    const ByteClass c = ClassOf(field[i]);
    if (c != kPlain) {
      if (c == kWsp) pending_wsp = true;  // CR and LF go: unfolding
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < field.size() && ClassOf(field[j]) == kPlain) ++j;
    if (pending_wsp && started) out += ' ';
    pending_wsp = false;
    started = true;
    out.append(field.data() + i, j - i);
    i = j;
  }
}

bool IsCrlfAt(std::string_view s, size_t k) {
  return s[k] == '\r' && k + 1 < s.size() && s[k + 1] == '\n';
}

// Where the body's content ends: the index after its last byte that is neither WSP nor part of
// a CRLF (a lone CR or LF is content). What follows are empty or WSP-only lines.
size_t BodyContentEnd(std::string_view body) {
  size_t k = body.size();
  while (k > 0) {
    const char c = body[k - 1];
    if (IsWsp(c)) {
      --k;
    } else if (c == '\n' && k >= 2 && body[k - 2] == '\r') {
      k -= 2;
    } else {
      break;
    }
  }
  return k;
}

// The index of the first byte in body[i, end) that relaxed canonicalisation may change: a TAB,
// or an SP followed by WSP or CR (conservatively: the CR may not start a CRLF); `end` if none.
// Precondition: body[end - 1] is content, so an SP before `end` always has a next byte.
size_t FindBodyChange(std::string_view body, size_t i, size_t end) {
  const auto* p = reinterpret_cast<const unsigned char*>(body.data());
  // 16 bytes at a time (SSE2 / NEON through GCC's vector extensions), then byte by byte.
  using V16 = unsigned char __attribute__((vector_size(16)));
  while (i + 17 <= end) {
    V16 x;
    V16 y;
    __builtin_memcpy(&x, p + i, 16);
    __builtin_memcpy(&y, p + i + 1, 16);
    const auto change = (x == '\t') | ((x == ' ') & ((y == ' ') | (y == '\t') | (y == '\r')));
    uint64_t halves[2];
    __builtin_memcpy(halves, &change, 16);
    if ((halves[0] | halves[1]) != 0) break;
    i += 16;
  }
  for (; i < end; ++i) {
    if (p[i] == '\t') return i;
    if (p[i] == ' ' && (IsWsp(static_cast<char>(p[i + 1])) || p[i + 1] == '\r')) return i;
  }
  return end;
}

// RFC 6376 §3.4.4: WSP at line ends removed, other WSP runs to one SP, empty lines at the end
// removed, a non-empty body ends with CRLF. A CR or LF that is not part of a CRLF is an ordinary
// byte. Runs that canonicalisation leaves alone are copied whole.
void AppendCanonicalBody(std::string& out, std::string_view body) {
  const size_t end = BodyContentEnd(body);
  if (end == 0) return;
  out.reserve(out.size() + end + 2);
  size_t i = 0;
  while (i < end) {
    const size_t change = FindBodyChange(body, i, end);
    out.append(body.data() + i, change - i);
    if (change == end) break;
    size_t after = change;  // a WSP run; content follows it before `end`
    while (IsWsp(body[after])) ++after;
    if (!IsCrlfAt(body, after)) out += ' ';
    i = after;
  }
  out += "\r\n";
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

// What one Sign() call needs from OpenSSL, kept for the next call: setting up an RSA signing
// context (fetching the RSA and SHA-256 implementations from the provider, padding, digest) costs
// about 1% of the signature itself, and allocating a message-sized buffer per call adds up too.
struct DkimSigner::Scratch {
  MdCtxPtr md_ctx;
  // Per key (same index as keys_): a context initialised for RSA PKCS#1 v1.5 signing with
  // SHA-256, reused across signatures; null until first needed, and for Ed25519 keys.
  std::vector<PkeyCtxPtr> rsa_ctx;
  std::string canonical;  // canonical body, then canonical signed headers
};

// Idle Scratch objects. A call takes one (or makes one when all are in use by other threads) and
// puts it back when done, so concurrent Sign() calls never share OpenSSL contexts.
struct DkimSigner::ScratchPool {
  MdPtr sha256;  // fetched once; implicit fetches take a lock and a lookup per use
  std::mutex mu;
  std::vector<std::unique_ptr<Scratch>> idle;  // guarded by mu

  std::unique_ptr<Scratch> Take() {
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        std::unique_ptr<Scratch> s = std::move(idle.back());
        idle.pop_back();
        return s;
      }
    }
    return std::make_unique<Scratch>();
  }
  void Return(std::unique_ptr<Scratch> s) {
    // One unusually large message should not pin its buffer for the life of the signer.
    constexpr size_t kMaxKeptBuffer = size_t{1} << 20;
    if (s->canonical.capacity() > kMaxKeptBuffer) std::string().swap(s->canonical);
    std::lock_guard lock(mu);
    idle.push_back(std::move(s));
  }
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
  signer.pool_ = std::make_unique<ScratchPool>();
  signer.pool_->sha256.reset(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (!signer.pool_->sha256) return Status::Internal("fetching SHA-256: " + OpenSslError());
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
  signed_names.reserve(fields.size() + 1);
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

  std::unique_ptr<Scratch> scratch = pool_->Take();
  if (!scratch->md_ctx) {
    scratch->md_ctx.reset(EVP_MD_CTX_new());
    if (!scratch->md_ctx) return Status::Internal("EVP_MD_CTX_new: " + OpenSslError());
  }
  EVP_MD_CTX* md_ctx = scratch->md_ctx.get();
  const EVP_MD* sha256 = pool_->sha256.get();
  std::string& hash_input = scratch->canonical;

  hash_input.clear();
  AppendCanonicalBody(hash_input, body);
  unsigned char body_hash[EVP_MAX_MD_SIZE];
  unsigned int body_hash_len = 0;
  if (EVP_DigestInit_ex(md_ctx, sha256, nullptr) != 1 ||
      EVP_DigestUpdate(md_ctx, hash_input.data(), hash_input.size()) != 1 ||
      EVP_DigestFinal_ex(md_ctx, body_hash, &body_hash_len) != 1) {
    return Status::Internal("SHA-256 of the body: " + OpenSslError());
  }

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

  // The tags before b=, identical for every key but a= and s=.
  std::string bh = "bh=";
  AppendBase64(bh, std::string_view(reinterpret_cast<char*>(body_hash), body_hash_len));
  bh += ';';
  std::string d = "d=";
  d += domain_;
  d += ';';
  std::string t = "t=";
  t += std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(signing_time.time_since_epoch()).count());
  t += ';';

  std::string out;
  out.reserve(message.size() + keys_.size() * 700);
  std::string header;
  std::string token;
  std::string b;
  if (scratch->rsa_ctx.size() < keys_.size()) scratch->rsa_ctx.resize(keys_.size());
  for (size_t k = 0; k < keys_.size(); ++k) {
    const Key& key = *keys_[k];
    header.assign("DKIM-Signature:");
    TagWriter w(header);
    w.Add("v=1;", true);
    w.Add(key.type == DkimKeyType::kEd25519 ? "a=ed25519-sha256;" : "a=rsa-sha256;", true);
    w.Add("c=relaxed/relaxed;", true);
    w.Add(d, true);
    token.assign("s=");
    token += key.selector;
    token += ';';
    w.Add(token, true);
    w.Add(t, true);
    for (size_t i = 0; i < signed_names.size(); ++i) {
      token.assign(i == 0 ? "h=" : "");
      token += signed_names[i];
      token += i + 1 < signed_names.size() ? ':' : ';';
      w.Add(token, i == 0);
    }
    w.Add(bh, true);
    w.Add("b=", true);

    hash_input.resize(signed_headers_size);
    AppendCanonicalHeader(hash_input, header);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (EVP_DigestInit_ex(md_ctx, sha256, nullptr) != 1 ||
        EVP_DigestUpdate(md_ctx, hash_input.data(), hash_input.size()) != 1 ||
        EVP_DigestFinal_ex(md_ctx, digest, &digest_len) != 1) {
      return Status::Internal("SHA-256 of the headers: " + OpenSslError());
    }
    unsigned char signature[512];
    size_t sig_len = sizeof signature;
    if (key.type == DkimKeyType::kEd25519) {
      // RFC 8463 §3: PureEdDSA over the SHA-256 hash of the canonicalised header data.
      MdCtxPtr ctx(EVP_MD_CTX_new());
      if (!ctx ||
          EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr, key.pkey.get(),
                                nullptr) != 1 ||
          EVP_DigestSign(ctx.get(), signature, &sig_len, digest, digest_len) != 1) {
        return Status::Internal("Ed25519 signing: " + OpenSslError());
      }
    } else {
      PkeyCtxPtr& ctx = scratch->rsa_ctx[k];
      if (!ctx) {
        ctx.reset(EVP_PKEY_CTX_new_from_pkey(nullptr, key.pkey.get(), nullptr));
        if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
            EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1 ||
            EVP_PKEY_CTX_set_signature_md(ctx.get(), sha256) != 1) {
          // A failed context is dropped with `scratch`, never reused.
          return Status::Internal("RSA signing: " + OpenSslError());
        }
      }
      if (EVP_PKEY_sign(ctx.get(), signature, &sig_len, digest, digest_len) != 1) {
        return Status::Internal("RSA signing: " + OpenSslError());
      }
    }
    b.clear();
    AppendBase64(b, std::string_view(reinterpret_cast<char*>(signature), sig_len));
    w.AddBreakable(b);
    out += header;
    out += "\r\n";
  }
  out += message;
  pool_->Return(std::move(scratch));
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
