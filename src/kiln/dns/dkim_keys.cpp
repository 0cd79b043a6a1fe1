#include "kiln/dns/dkim_keys.h"

#include <set>

namespace kiln::dns {

std::string_view DkimAlgorithmName(mail::DkimKeyType type) {
  return type == mail::DkimKeyType::kEd25519 ? "ed25519-sha256" : "rsa-sha256";
}

Result<mail::DkimKeyType> ParseDkimAlgorithm(std::string_view name) {
  if (name == "rsa-sha256") return mail::DkimKeyType::kRsa2048;
  if (name == "ed25519-sha256") return mail::DkimKeyType::kEd25519;
  return Status::InvalidArgument("must be rsa-sha256 or ed25519-sha256", "algorithm");
}

std::string DkimKeyAad(int64_t workspace_id, std::string_view domain, std::string_view selector) {
  return "dkim_keys:" + std::to_string(workspace_id) + ":" + std::string(domain) + ":" +
         std::string(selector);
}

const mail::DkimSigner* DkimKeyring::Find(int64_t workspace_id, std::string_view domain) const {
  auto it = signers_.find({workspace_id, std::string(domain)});
  return it == signers_.end() ? nullptr : it->second.get();
}

std::map<std::string, const mail::DkimSigner*> DkimKeyring::ByDomain() const {
  std::map<std::string, const mail::DkimSigner*> out;
  for (const auto& [key, signer] : signers_) out.emplace(key.second, signer.get());  // lowest ws
  return out;
}

Result<DkimKeyring> LoadDkimSigners(store::Database& db, const auth::SecretBox& box) {
  std::vector<store::Row> rows;
  KILN_RETURN_IF_ERROR(db.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(rows, tx.Query("dns.dkim_all"));
    return Status::Ok();
  }));
  DkimKeyring ring;
  std::map<std::string, std::set<int64_t>> workspaces_of;
  for (const store::Row& r : rows) {
    const int64_t ws = r.Int("workspace_id");
    const std::string domain = r.Text("domain");
    const std::string selector = r.Text("selector");
    const std::string where = "DKIM key " + std::to_string(r.Int("id")) + " (" + selector +
                              "._domainkey." + domain + ", workspace " + std::to_string(ws) + ")";
    auto pem = box.Open(r.Bytes("private_key"), DkimKeyAad(ws, domain, selector));
    if (!pem.ok()) {
      ring.problems_.push_back(where + " skipped: cannot unseal it: " + pem.status().message());
      continue;
    }
    auto& slot = ring.signers_[{ws, domain}];
    if (slot == nullptr) {
      auto signer = mail::DkimSigner::Create(*pem, domain, selector);
      if (!signer.ok()) {
        ring.signers_.erase({ws, domain});
        ring.problems_.push_back(where + " skipped: " + signer.status().ToString());
        continue;
      }
      slot = std::make_unique<mail::DkimSigner>(std::move(signer).value());
    } else {
      Status st = slot->AddKey(*pem, selector);
      if (!st.ok()) {
        ring.problems_.push_back(where + " skipped: " + st.ToString());
        continue;
      }
    }
    workspaces_of[domain].insert(ws);
  }
  for (const auto& [domain, workspaces] : workspaces_of) {
    if (workspaces.size() < 2) continue;
    ring.problems_.push_back("DKIM keys for " + domain + " exist in " +
                             std::to_string(workspaces.size()) + " workspaces; mail from " +
                             domain + " is signed with the keys of workspace " +
                             std::to_string(*workspaces.begin()));
  }
  return ring;
}

}  // namespace kiln::dns
