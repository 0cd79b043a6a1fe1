// DKIM signing (RFC 6376) with RSA-SHA256 and Ed25519-SHA256 (RFC 8463), plus key generation and
// the DNS record to publish.
//
// A DkimSigner holds one or two loaded private keys (typically RSA 2048 and, for a dual signature,
// Ed25519) for one domain. Sign() canonicalises with c=relaxed/relaxed, hashes the body once and
// prepends one DKIM-Signature per key. Keys are parsed once at construction: signing costs one
// SHA-256 pass over the message plus one private-key operation per signature.
//
// Thread-safety: a constructed DkimSigner is immutable; Sign() may be called concurrently from any
// number of threads (each call takes its own OpenSSL contexts from an internal pool, guarded by a
// mutex, and puts them back for the next call). AddKey() must not run concurrently with Sign().
// The free functions are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"

namespace kiln::mail {

enum class DkimKeyType { kRsa2048, kEd25519 };

struct DkimKeyPair {
  DkimKeyType type = DkimKeyType::kRsa2048;
  std::string private_key_pem;  // PKCS#8 PEM; keep it secret
  std::string
      public_key_base64;  // the p= value: DER SubjectPublicKeyInfo (RSA) or raw key (Ed25519)
};

class DkimSigner {
 public:
  // Headers signed when present, in this order (RFC 6376 §5.4.1 and RFC 8058 §4: From, and
  // List-Unsubscribe + List-Unsubscribe-Post must be covered for one-click unsubscribe).
  static const std::vector<std::string>& DefaultSignedHeaders();

  // Loads `private_key_pem` (PKCS#8 or traditional PEM; RSA of 1024-4096 bits or Ed25519) to sign
  // as d=`domain`, s=`selector`. Failure: InvalidArgument naming "private_key_pem", "domain" or
  // "selector" (unparsable, encrypted or inconsistent key, unsupported key type, RSA under 1024
  // or over 4096 bits, bad domain/selector). An encrypted key is refused, never prompted for.
  static Result<DkimSigner> Create(std::string_view private_key_pem, std::string_view domain,
                                   std::string_view selector);

  // Adds a second key (e.g. Ed25519 next to RSA) published under `selector`; Sign() then emits one
  // signature per key. Failure as for Create(); the signer is unchanged then.
  Status AddKey(std::string_view private_key_pem, std::string_view selector);

  // Returns `message` (CRLF line ends, as composed by ComposeMessage) with the DKIM-Signature
  // header(s) prepended, t= set to `signing_time`. Failure: InvalidArgument("message") when the
  // message has a bare CR or LF, or has no From header; Internal when OpenSSL fails.
  Result<std::string> Sign(std::string_view message, TimePoint signing_time) const;

  const std::string& domain() const { return domain_; }

  DkimSigner(DkimSigner&&) noexcept;
  DkimSigner& operator=(DkimSigner&&) noexcept;
  ~DkimSigner();

 private:
  struct Key;
  struct Scratch;
  struct ScratchPool;
  DkimSigner() = default;

  std::string domain_;
  std::vector<std::unique_ptr<Key>> keys_;
  std::unique_ptr<ScratchPool> pool_;  // never null in a signer that was not moved from
};

// Relaxed canonicalisation (RFC 6376 §3.4.2 and §3.4.4), exposed for tests and diagnostics.
// `field` is one header field as it appears in the message, with folds but without the final CRLF;
// the result is "name:value" without CRLF.
std::string DkimCanonicalizeHeaderRelaxed(std::string_view field);
std::string DkimCanonicalizeBodyRelaxed(std::string_view body);

// Generates a new key. Success: the pair; failure: Internal when OpenSSL fails.
Result<DkimKeyPair> GenerateDkimKey(DkimKeyType type);

// Loads a private key PEM and derives its public half. Failure: InvalidArgument("private_key_pem")
// for a key Create() refuses.
Result<DkimKeyPair> DkimKeyPairFromPem(std::string_view private_key_pem);

// "selector._domainkey.domain"
std::string DkimDnsName(std::string_view domain, std::string_view selector);
// The TXT record value, unsplit: "v=DKIM1; k=rsa; p=MIIB..." (k=ed25519 for Ed25519 keys).
std::string DkimDnsRecordValue(const DkimKeyPair& key_pair);
// A zone-file line to publish: `selector._domainkey.domain. 3600 IN TXT ( "..." "..." )`, the value
// split into quoted strings of at most 255 bytes each (RFC 1035 character-strings).
std::string DkimDnsRecord(std::string_view domain, std::string_view selector,
                          const DkimKeyPair& key_pair);

// The text `kiln dkim keygen --domain D --selector S` prints: what to publish in DNS and where,
// the key type, and the private key PEM with a note on where Kiln expects it (the sender's DKIM
// key setting) and that it must stay secret.
std::string DkimKeygenReport(std::string_view domain, std::string_view selector, DkimKeyType type,
                             const DkimKeyPair& key_pair);

}  // namespace kiln::mail
