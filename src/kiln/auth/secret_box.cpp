#include "kiln/auth/secret_box.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "kiln/auth/crypto.h"
#include "kiln/auth/sodium_init.h"

namespace kiln::auth {
namespace {

constexpr size_t kMaxKeyFileBytes = 4096;

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string ErrnoText(int err) { return std::strerror(err); }

Status KeyFileError(const std::string& path, std::string_view what) {
  return Status::FailedPrecondition("secret key file " + path + ": " + std::string(what));
}

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting the error (close can report a deferred write error).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return KeyFileError(path, "write failed: " + ErrnoText(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Reads and validates an existing key file. `fd` is open for reading.
Result<std::string> ReadKeyFile(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return KeyFileError(path, "stat failed: " + ErrnoText(errno));
  if (!S_ISREG(st.st_mode)) return KeyFileError(path, "not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return KeyFileError(path, std::string("is accessible by group or others (mode ") + mode +
                                  "); run: chmod 600 " + path);
  }
  std::string text;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return KeyFileError(path, "read failed: " + ErrnoText(errno));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxKeyFileBytes) break;
  }
  std::string_view hex = text;
  if (!hex.empty() && hex.back() == '\n') hex.remove_suffix(1);
  if (!hex.empty() && hex.back() == '\r') hex.remove_suffix(1);
  auto key = HexDecode(hex);
  sodium_memzero(text.data(), text.size());
  if (hex.size() != SecretBox::kKeyBytes * 2 || !key.ok()) {
    return KeyFileError(path,
                        "does not hold a 32-byte key (expected 64 hex characters and a "
                        "newline, found " +
                            std::to_string(text.size()) + " bytes)");
  }
  return std::move(key).value();
}

// Writes a new random key to a temporary file next to `path` and links it into place. Returns
// AlreadyExists when `path` appeared meanwhile (another process won the race).
Status CreateKeyFile(const std::string& path) {
  const std::string tmp = path + ".tmp-" + RandomToken(9);
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return KeyFileError(path, "cannot create " + tmp + ": " + ErrnoText(errno));
  auto fail = [&](Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  // open() applied the umask, which can only remove bits; set the exact mode explicitly.
  if (::fchmod(fd.get(), 0600) != 0) {
    return fail(KeyFileError(path, "chmod failed: " + ErrnoText(errno)));
  }
  std::string raw = RandomBytes(SecretBox::kKeyBytes);
  std::string content = HexEncode(raw) + "\n";
  sodium_memzero(raw.data(), raw.size());
  Status written = WriteAll(fd.get(), content, path);
  sodium_memzero(content.data(), content.size());
  if (!written.ok()) return fail(written);
  if (::fsync(fd.get()) != 0) return fail(KeyFileError(path, "fsync failed: " + ErrnoText(errno)));
  if (fd.Close() != 0) return fail(KeyFileError(path, "close failed: " + ErrnoText(errno)));
  // link() never replaces an existing file, unlike rename().
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    if (err == EEXIST) return Status::AlreadyExists("key file appeared concurrently");
    return KeyFileError(path, "cannot link new key into place: " + ErrnoText(err));
  }
  ::unlink(tmp.c_str());
  // Persist the directory entry too, or a crash could lose the key after secrets were sealed.
  Fd dir(::open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0 || ::fsync(dir.get()) != 0) {
    return KeyFileError(path, "fsync of directory failed: " + ErrnoText(errno));
  }
  return Status::Ok();
}

}  // namespace

Result<SecretBox> SecretBox::LoadOrCreateKeyFile(const std::string& path) {
  if (path.empty()) return Status::FailedPrecondition("secret key file: empty path");
  // Two rounds: the second covers losing a creation race to another process.
  for (int attempt = 0; attempt < 2; ++attempt) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() >= 0) {
      KILN_ASSIGN_OR_RETURN(std::string raw, ReadKeyFile(fd.get(), path));
      SecretBox box(raw);
      sodium_memzero(raw.data(), raw.size());
      return box;
    }
    if (errno != ENOENT) return KeyFileError(path, "cannot open: " + ErrnoText(errno));
    Status created = CreateKeyFile(path);
    if (!created.ok() && created.code() != Status::Code::kAlreadyExists) return created;
  }
  return KeyFileError(path, "was created but cannot be read back");
}

Result<SecretBox> SecretBox::FromKey(std::string_view raw_key) {
  if (raw_key.size() != kKeyBytes) {
    return Status::InvalidArgument("secret key must be 32 bytes, got " +
                                   std::to_string(raw_key.size()));
  }
  return SecretBox(raw_key);
}

Result<SecretBox> SecretBox::FromHexKey(std::string_view hex_key) {
  if (hex_key.size() != kKeyBytes * 2) {
    return Status::InvalidArgument("secret key must be 64 hex characters, got " +
                                   std::to_string(hex_key.size()));
  }
  KILN_ASSIGN_OR_RETURN(std::string raw, HexDecode(hex_key));
  SecretBox box(raw);
  sodium_memzero(raw.data(), raw.size());
  return box;
}

SecretBox::SecretBox(std::string_view raw_key) : has_key_(true) {
  internal::EnsureSodium();
  std::memcpy(key_.data(), raw_key.data(), kKeyBytes);
  std::string digest = Sha256(raw_key);
  std::memcpy(key_id_.data(), digest.data(), kKeyIdBytes);
}

SecretBox::SecretBox(SecretBox&& other) noexcept
    : key_(other.key_), key_id_(other.key_id_), has_key_(other.has_key_) {
  sodium_memzero(other.key_.data(), other.key_.size());
  other.has_key_ = false;
}

SecretBox& SecretBox::operator=(SecretBox&& other) noexcept {
  if (this != &other) {
    key_ = other.key_;
    key_id_ = other.key_id_;
    has_key_ = other.has_key_;
    sodium_memzero(other.key_.data(), other.key_.size());
    other.has_key_ = false;
  }
  return *this;
}

SecretBox::~SecretBox() { sodium_memzero(key_.data(), key_.size()); }

void SecretBox::CheckUsable() const {
  if (!has_key_) std::abort();  // use after move: would encrypt under an all-zero key
}

std::string SecretBox::KeyId() const {
  CheckUsable();
  return HexEncode(std::string_view(reinterpret_cast<const char*>(key_id_.data()), kKeyIdBytes));
}

Result<std::string> SecretBox::Seal(std::string_view plaintext, std::string_view aad) const {
  CheckUsable();
  if (plaintext.size() > kMaxPlaintextBytes) {
    return Status::TooLarge("secret is larger than " + std::to_string(kMaxPlaintextBytes) +
                            " bytes");
  }
  if (aad.size() > kMaxPlaintextBytes) return Status::TooLarge("secret AAD is too large");
  std::string out(kOverhead + plaintext.size(), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = kVersion;
  std::memcpy(p + 1, key_id_.data(), kKeyIdBytes);
  unsigned char* nonce = p + 1 + kKeyIdBytes;
  unsigned char* ciphertext = nonce + kNonceBytes;
  unsigned char* tag = ciphertext + plaintext.size();
  randombytes_buf(nonce, kNonceBytes);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx != nullptr &&
            EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce) == 1 &&
            // The header (version + key id) is authenticated along with the caller's AAD.
            EVP_EncryptUpdate(ctx.get(), nullptr, &len, p, 1 + kKeyIdBytes) == 1 &&
            (aad.empty() || EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                                              static_cast<int>(aad.size())) == 1) &&
            (plaintext.empty() || EVP_EncryptUpdate(ctx.get(), ciphertext, &len, Bytes(plaintext),
                                                    static_cast<int>(plaintext.size())) == 1) &&
            EVP_EncryptFinal_ex(ctx.get(), ciphertext + plaintext.size(), &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) == 1;
  if (!ok) return Status::Internal("AES-256-GCM encryption failed in OpenSSL");
  return out;
}

Result<std::string> SecretBox::Open(std::string_view sealed, std::string_view aad) const {
  CheckUsable();
  if (sealed.size() < kOverhead) {
    return Status::FailedPrecondition("secret is corrupt: " + std::to_string(sealed.size()) +
                                      " bytes is shorter than any sealed value");
  }
  const unsigned char* p = Bytes(sealed);
  if (p[0] != kVersion) {
    return Status::FailedPrecondition("secret has unknown format version " + std::to_string(p[0]));
  }
  if (std::memcmp(p + 1, key_id_.data(), kKeyIdBytes) != 0) {
    return Status::FailedPrecondition("secret was sealed with a different key (key id " +
                                      HexEncode(sealed.substr(1, kKeyIdBytes)) + ", loaded key " +
                                      KeyId() + ")");
  }
  if (aad.size() > kMaxPlaintextBytes || sealed.size() - kOverhead > kMaxPlaintextBytes) {
    return Status::TooLarge("sealed secret is too large");
  }
  const unsigned char* nonce = p + 1 + kKeyIdBytes;
  const unsigned char* ciphertext = nonce + kNonceBytes;
  const size_t ciphertext_len = sealed.size() - kOverhead;
  // OpenSSL's GCM_SET_TAG takes a non-const pointer; copy rather than cast constness away.
  std::array<unsigned char, kTagBytes> tag;
  std::memcpy(tag.data(), ciphertext + ciphertext_len, kTagBytes);

  std::string out(ciphertext_len, '\0');
  auto* plain = reinterpret_cast<unsigned char*>(out.data());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx != nullptr &&
            EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, p, 1 + kKeyIdBytes) == 1 &&
            (aad.empty() || EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                                              static_cast<int>(aad.size())) == 1) &&
            (ciphertext_len == 0 || EVP_DecryptUpdate(ctx.get(), plain, &len, ciphertext,
                                                      static_cast<int>(ciphertext_len)) == 1) &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1;
  if (!ok) {
    sodium_memzero(out.data(), out.size());
    return Status::Internal("AES-256-GCM decryption failed in OpenSSL");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), plain + ciphertext_len, &len) != 1) {
    sodium_memzero(out.data(), out.size());
    return Status::FailedPrecondition("secret is corrupt or was moved to another record");
  }
  return out;
}

}  // namespace kiln::auth
