// DKIM keys per sending domain: generate (or bring) a key, list keys with the DNS record each
// needs, delete. Private keys are sealed with the SecretBox before they reach the database and are
// never answered; the engine loads them with dns::LoadDkimSigners and signs a sender's mail with
// the keys of the sender address's domain.
#include "kiln/mail/dkim.h"

#include <boost/asio/ip/address.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cctype>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/json_input.h"
#include "kiln/dns/dkim_keys.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Dot-separated labels of letters, digits and '-' (not at either end), 1..63 bytes each.
bool ValidLabels(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  size_t start = 0;
  while (start <= s.size()) {
    size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) dot = s.size();
    std::string_view label = s.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    start = dot + 1;
  }
  return true;
}

Status CheckDomain(const std::string& domain) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(domain, ec);
  if (!ec || domain.find('.') == std::string::npos || !ValidLabels(domain, 253)) {
    return Status::InvalidArgument("must be a domain name like example.com", "domain");
  }
  return Status::Ok();
}

json::object KeyJson(const store::Row& r) {
  const std::string domain = r.Text("domain");
  const std::string selector = r.Text("selector");
  const std::string algorithm = r.Text("algorithm");
  mail::DkimKeyPair pair;
  pair.type =
      algorithm == "ed25519-sha256" ? mail::DkimKeyType::kEd25519 : mail::DkimKeyType::kRsa2048;
  pair.public_key_base64 = r.Text("public_key");
  return {{"id", r.Int("id")},
          {"domain", domain},
          {"selector", selector},
          {"algorithm", algorithm},
          {"public_key", pair.public_key_base64},
          {"dns_name", mail::DkimDnsName(domain, selector)},
          {"dns_value", mail::DkimDnsRecordValue(pair)},
          {"dns_record", mail::DkimDnsRecord(domain, selector, pair)},
          {"created_at", TimeOrNull(r, "created_at")}};
}

Result<json::value> ListKeys(Api& api, Ctx& ctx) {
  json::array items;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("dns.dkim_list", {ctx.ws}));
    for (const auto& r : rows) items.push_back(KeyJson(r));
    return Status::Ok();
  }));
  return json::object{{"items", std::move(items)}};
}

Result<json::value> CreateKey(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  std::string domain, selector;
  std::optional<std::string> algorithm, private_key_pem;
  KILN_RETURN_IF_ERROR(in.Str("domain", &domain, {.min_len = 1, .max_len = 253}));
  KILN_RETURN_IF_ERROR(in.Str("selector", &selector, {.min_len = 1, .max_len = 63}));
  KILN_RETURN_IF_ERROR(in.OptStr("algorithm", &algorithm, {.min_len = 1, .max_len = 20}));
  KILN_RETURN_IF_ERROR(in.OptStr("private_key_pem", &private_key_pem,
                                 {.min_len = 1, .max_len = 16384, .multiline = true}));
  KILN_RETURN_IF_ERROR(in.Finish());
  domain = Lower(domain);
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  KILN_RETURN_IF_ERROR(CheckDomain(domain));
  selector = Lower(selector);
  if (!ValidLabels(selector, 63)) {
    return Status::InvalidArgument("must be letters, digits, '-' and '.', like kiln2026",
                                   "selector");
  }
  mail::DkimKeyPair pair;
  if (private_key_pem) {
    auto loaded = mail::DkimKeyPairFromPem(*private_key_pem);
    if (!loaded.ok()) return loaded.status().WithField("private_key_pem");
    pair = std::move(loaded).value();
    if (algorithm) {
      KILN_ASSIGN_OR_RETURN(auto type, dns::ParseDkimAlgorithm(*algorithm));
      if (type != pair.type) {
        return Status::InvalidArgument(
            "is " + std::string(dns::DkimAlgorithmName(pair.type)) + ", not " + *algorithm,
            "private_key_pem");
      }
    }
  } else {
    KILN_ASSIGN_OR_RETURN(auto type, dns::ParseDkimAlgorithm(algorithm.value_or("rsa-sha256")));
    KILN_ASSIGN_OR_RETURN(pair, mail::GenerateDkimKey(type));
  }
  // The engine loads it the same way: a key that cannot sign is refused now, not at send time.
  auto signer = mail::DkimSigner::Create(pair.private_key_pem, domain, selector);
  if (!signer.ok()) return signer.status();
  KILN_ASSIGN_OR_RETURN(auto sealed, api.secrets().Seal(pair.private_key_pem,
                                                        dns::DkimKeyAad(ctx.ws, domain, selector)));
  const int64_t now = api.clock().NowMillis();
  json::object out;
  Status st = api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(
        auto row,
        tx.QueryRow("dns.dkim_insert",
                    {ctx.ws, domain, selector, std::string(dns::DkimAlgorithmName(pair.type)),
                     store::Blob{sealed}, pair.public_key_base64, now}));
    const int64_t id = row.Int("id");
    KILN_RETURN_IF_ERROR(WriteAudit(
        tx, ctx, ctx.ws, "dkim_key.created", "dkim_key", std::to_string(id),
        {{"domain", domain}, {"selector", selector}, {"imported", private_key_pem.has_value()}},
        now));
    KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("dns.dkim_get", {ctx.ws, id}));
    out = KeyJson(r);
    return Status::Ok();
  });
  if (st.code() == Status::Code::kAlreadyExists) {
    return Status::AlreadyExists(
        "this workspace already has a key for selector " + selector + " of " + domain, "selector");
  }
  KILN_RETURN_IF_ERROR(st);
  return out;
}

Result<json::value> DeleteKey(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such DKIM key");
  const int64_t now = api.clock().NowMillis();
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("dns.dkim_get", {ctx.ws, *id}, "no such DKIM key"));
    KILN_RETURN_IF_ERROR(tx.Exec("dns.dkim_delete", {ctx.ws, *id}).status());
    return WriteAudit(tx, ctx, ctx.ws, "dkim_key.deleted", "dkim_key", std::to_string(*id),
                      {{"domain", r.Text("domain")}, {"selector", r.Text("selector")}}, now);
  }));
  return json::value(nullptr);
}

constexpr char kKeySchema[] =
    R"({"type":"object","properties":{"id":{"type":"integer"},"domain":{"type":"string"},"selector":{"type":"string"},"algorithm":{"type":"string","enum":["rsa-sha256","ed25519-sha256"]},"public_key":{"type":"string"},"dns_name":{"type":"string"},"dns_value":{"type":"string"},"dns_record":{"type":"string"},"created_at":{"type":"string"}}})";

}  // namespace

void RegisterDkimRoutes(Api& api) {
  Api* a = &api;
  auto bind = [a](Result<json::value> (*fn)(Api&, Ctx&)) {
    return [a, fn](Ctx& c) { return fn(*a, c); };
  };
  api.Add(verb::get, "/api/v1/workspaces/{ws}/dkim-keys", {Access::kWorkspace, Role::kViewer},
          bind(ListKeys),
          {.summary = "DKIM keys of the workspace's sending domains, with the DNS record of each",
           .tag = "dkim",
           .response_schema =
               std::string(R"({"type":"object","properties":{"items":{"type":"array","items":)") +
               kKeySchema + "}}}"});
  api.Add(
      verb::post, "/api/v1/workspaces/{ws}/dkim-keys", {Access::kWorkspace, Role::kAdmin},
      bind(CreateKey),
      {.summary = "Generate a DKIM key for a domain and selector (or import private_key_pem); "
                  "answers the TXT record to publish",
       .tag = "dkim",
       .request_schema =
           R"({"type":"object","required":["domain","selector"],"additionalProperties":false,"properties":{"domain":{"type":"string"},"selector":{"type":"string"},"algorithm":{"type":"string","enum":["rsa-sha256","ed25519-sha256"]},"private_key_pem":{"type":"string","writeOnly":true}}})",
       .response_schema = kKeySchema,
       .success_status = 201});
  api.Add(verb::delete_, "/api/v1/workspaces/{ws}/dkim-keys/{id}",
          {Access::kWorkspace, Role::kAdmin}, bind(DeleteKey),
          {.summary = "Delete a DKIM key (mail of its domain is no longer signed with it)",
           .tag = "dkim",
           .success_status = 204});
}

}  // namespace kiln::api
