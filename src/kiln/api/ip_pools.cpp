// A campaign's IP pool: the local addresses its senders bind to when they have no source IP or
// proxy of their own. Each sender keeps one address of the pool (domain::ChooseSourceIp, sticky per
// sender) so that SPF and reverse DNS stay consistent. Every address must be one of this machine's
// (dns::CheckLocalAddress): a pool the workers cannot bind to would fail every send.
#include <boost/asio/ip/address.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <set>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/json_input.h"
#include "kiln/dns/local_address.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

constexpr size_t kMaxPoolSize = 256;

Result<int64_t> CampaignId(store::Tx& tx, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such campaign");
  KILN_RETURN_IF_ERROR(
      tx.QueryRow("dns.campaign_exists", {ctx.ws, *id}, "no such campaign").status());
  return *id;
}

Result<json::object> PoolJson(store::Tx& tx, int64_t campaign_id) {
  KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("dns.ip_pool_get", {campaign_id}));
  json::array ips;
  for (const auto& r : rows) ips.push_back(json::string(r.Text("ip")));
  return json::object{{"campaign_id", campaign_id}, {"ips", std::move(ips)}};
}

Result<json::value> GetPool(Api& api, Ctx& ctx) {
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(int64_t id, CampaignId(tx, ctx));
    KILN_ASSIGN_OR_RETURN(out, PoolJson(tx, id));
    return Status::Ok();
  }));
  return out;
}

Result<json::value> PutPool(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  const json::array* arr = nullptr;
  KILN_RETURN_IF_ERROR(in.Arr("ips", &arr, kMaxPoolSize));
  KILN_RETURN_IF_ERROR(in.Finish());
  std::vector<std::string> ips;
  std::set<std::string> seen;
  for (size_t i = 0; i < arr->size(); ++i) {
    const std::string field = "ips[" + std::to_string(i) + "]";
    if (!(*arr)[i].is_string()) return Status::InvalidArgument("must be a string", field);
    std::string text((*arr)[i].as_string());
    boost::system::error_code ec;
    auto addr = boost::asio::ip::make_address(text, ec);
    if (ec) return Status::InvalidArgument("must be an IPv4 or IPv6 address", field);
    std::string canonical = addr.to_string();
    if (!seen.insert(canonical).second) {
      return Status::InvalidArgument(canonical + " is listed twice", field);
    }
    KILN_RETURN_IF_ERROR(dns::CheckLocalAddress(canonical, field));
    ips.push_back(std::move(canonical));
  }
  const int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(int64_t id, CampaignId(tx, ctx));
    KILN_RETURN_IF_ERROR(tx.Exec("dns.ip_pool_clear", {id}).status());
    for (size_t i = 0; i < ips.size(); ++i) {
      KILN_RETURN_IF_ERROR(
          tx.Exec("dns.ip_pool_add", {id, ips[i], static_cast<int64_t>(i)}).status());
    }
    json::array logged;
    for (const auto& ip : ips) logged.push_back(json::string(ip));
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "campaign.ip_pool_set", "campaign",
                                    std::to_string(id), {{"ips", logged}}, now));
    KILN_ASSIGN_OR_RETURN(out, PoolJson(tx, id));
    return Status::Ok();
  }));
  return out;
}

constexpr char kPoolSchema[] =
    R"({"type":"object","properties":{"campaign_id":{"type":"integer"},"ips":{"type":"array","items":{"type":"string"}}}})";

}  // namespace

void RegisterIpPoolRoutes(Api& api) {
  Api* a = &api;
  auto bind = [a](Result<json::value> (*fn)(Api&, Ctx&)) {
    return [a, fn](Ctx& c) { return fn(*a, c); };
  };
  api.Add(verb::get, "/api/v1/workspaces/{ws}/campaigns/{id}/ip-pool",
          {Access::kWorkspace, Role::kViewer}, bind(GetPool),
          {.summary = "The campaign's IP pool: local addresses its senders send from",
           .tag = "campaigns",
           .response_schema = kPoolSchema});
  api.Add(
      verb::put, "/api/v1/workspaces/{ws}/campaigns/{id}/ip-pool",
      {Access::kWorkspace, Role::kAdmin}, bind(PutPool),
      {.summary = "Replace the campaign's IP pool (each address must be one of this "
                  "machine's; an empty list removes the pool)",
       .tag = "campaigns",
       .request_schema =
           R"({"type":"object","required":["ips"],"additionalProperties":false,"properties":{"ips":{"type":"array","maxItems":256,"items":{"type":"string"}}}})",
       .response_schema = kPoolSchema});
}

}  // namespace kiln::api
