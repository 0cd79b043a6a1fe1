// SecretBox: authenticated encryption (AES-256-GCM, OpenSSL EVP) of secrets stored in the
// database: SMTP/IMAP passwords, OAuth tokens, API keys of providers.
//
// A sealed value is a versioned binary blob:
//   1 byte version (1) | 4 bytes key id | 12 bytes random nonce | ciphertext | 16 bytes GCM tag
// The key id is the first 4 bytes of SHA-256(key): opening with the wrong key is reported as
// such instead of as corruption. The caller's AAD (by convention "<table>:<row id>:<column>",
// e.g. "senders:42:smtp_secret") and the version + key id bytes are authenticated, so a sealed
// value copied to another row or column, or with a rewritten header, does not open.
//
// The key is never logged or printed (there is no operator<< and no accessor for it) and is
// wiped when the SecretBox is destroyed or moved from. A SecretBox is immutable after creation:
// Seal and Open are const and safe to call from many threads at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/base/status.h"

namespace kiln::auth {

class SecretBox {
 public:
  static constexpr size_t kKeyBytes = 32;
  static constexpr size_t kKeyIdBytes = 4;
  static constexpr size_t kNonceBytes = 12;
  static constexpr size_t kTagBytes = 16;
  static constexpr uint8_t kVersion = 1;
  // Bytes a sealed value adds to its plaintext.
  static constexpr size_t kOverhead = 1 + kKeyIdBytes + kNonceBytes + kTagBytes;
  // Secrets are small; this bounds memory and keeps lengths within OpenSSL's int.
  static constexpr size_t kMaxPlaintextBytes = 1 << 20;

  // Loads the key from `path`, or creates it if the file does not exist. A new file holds 32
  // random bytes as 64 hex characters and a newline, mode 0600 whatever the umask, written and
  // fsynced under a temporary name and then linked into place, so concurrent first starts agree
  // on one key and no reader ever sees a partial file. An existing file (symlinks are followed)
  // is refused with FailedPrecondition when it is not a regular file, when group or others have
  // any permission on it ("chmod 600" is suggested), or when it does not hold exactly 64 hex
  // characters (an optional trailing newline is allowed). I/O errors (missing directory, no
  // permission, disk full) are FailedPrecondition too. Every message names the path.
  static Result<SecretBox> LoadOrCreateKeyFile(const std::string& path);

  // A SecretBox over `raw_key`, which must be exactly 32 bytes (InvalidArgument otherwise).
  static Result<SecretBox> FromKey(std::string_view raw_key);
  // Same from 64 hex characters (e.g. the KILN_SECRET_KEY environment variable).
  static Result<SecretBox> FromHexKey(std::string_view hex_key);

  SecretBox(SecretBox&& other) noexcept;
  SecretBox& operator=(SecretBox&& other) noexcept;
  SecretBox(const SecretBox&) = delete;
  SecretBox& operator=(const SecretBox&) = delete;
  ~SecretBox();

  // Encrypts `plaintext` bound to `aad` with a fresh random nonce. Fails with TooLarge above
  // kMaxPlaintextBytes, Internal if OpenSSL fails.
  Result<std::string> Seal(std::string_view plaintext, std::string_view aad) const;

  // Decrypts a value made by Seal with the same key and `aad`. Fails with FailedPrecondition:
  // "sealed with a different key" (key id mismatch), "secret is corrupt or was moved to another
  // record" (tag mismatch: tampered bytes or wrong AAD), or a message naming an unknown version
  // or a truncated value.
  Result<std::string> Open(std::string_view sealed, std::string_view aad) const;

  // The 4-byte key id as 8 hex characters: safe to log, identifies which key is loaded.
  std::string KeyId() const;

 private:
  explicit SecretBox(std::string_view raw_key);
  void CheckUsable() const;

  std::array<unsigned char, kKeyBytes> key_{};
  std::array<unsigned char, kKeyIdBytes> key_id_{};
  bool has_key_ = false;  // false after a move: using such a box is a bug and aborts
};

}  // namespace kiln::auth
