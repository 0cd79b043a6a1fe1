// DKIM keys per sending domain: how they are sealed in the dkim_keys table, and the keyring of
// signers the queue manager signs with (one DkimSigner per workspace and domain, holding every key
// of that domain: an RSA and an Ed25519 key give the dual signature of RFC 8463).
//
// Thread-safety: a loaded DkimKeyring is immutable; its signers may sign from many threads at once
// (mail/dkim.h). The pointers it hands out stay valid while the keyring lives, also when it is
// moved.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/auth/secret_box.h"
#include "kiln/base/status.h"
#include "kiln/mail/dkim.h"
#include "kiln/store/db.h"

namespace kiln::dns {

// The algorithm column: "rsa-sha256" or "ed25519-sha256".
std::string_view DkimAlgorithmName(mail::DkimKeyType type);
// Success: the key type of an algorithm name. Failure: InvalidArgument naming "algorithm".
Result<mail::DkimKeyType> ParseDkimAlgorithm(std::string_view name);

// The AAD a private key is sealed with: "dkim_keys:<workspace_id>:<domain>:<selector>", binding it
// to its workspace, domain and selector (a sealed key copied to another row does not open).
std::string DkimKeyAad(int64_t workspace_id, std::string_view domain, std::string_view selector);

class DkimKeyring {
 public:
  DkimKeyring() = default;
  DkimKeyring(DkimKeyring&&) noexcept = default;
  DkimKeyring& operator=(DkimKeyring&&) noexcept = default;

  // The signer of `domain` (lowercase) for `workspace_id`; nullptr when it has no key.
  const mail::DkimSigner* Find(int64_t workspace_id, std::string_view domain) const;

  // Domain -> signer, the shape of engine::SchedulerOptions::dkim_by_domain. A domain that
  // several workspaces hold keys for maps to the signer of the lowest workspace id and is listed
  // in problems().
  std::map<std::string, const mail::DkimSigner*> ByDomain() const;

  // Keys that were skipped (cannot be unsealed or loaded) and shared domains, one line each, for
  // the log: "DKIM key 7 (kiln._domainkey.example.com, workspace 2) skipped: ...".
  const std::vector<std::string>& problems() const { return problems_; }
  size_t size() const { return signers_.size(); }  // (workspace, domain) pairs

 private:
  friend Result<DkimKeyring> LoadDkimSigners(store::Database& db, const auth::SecretBox& box);
  std::map<std::pair<int64_t, std::string>, std::unique_ptr<mail::DkimSigner>> signers_;
  std::vector<std::string> problems_;
};

// Loads every key of every workspace and unseals it with `box`. Success: the keyring (a key that
// cannot be unsealed or parsed is left out and named in problems(): one broken row must not stop
// all signing). Failure: the database's error.
Result<DkimKeyring> LoadDkimSigners(store::Database& db, const auth::SecretBox& box);

}  // namespace kiln::dns
