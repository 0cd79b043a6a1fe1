#include "kiln/dns/sender_route.h"

#include <charconv>
#include <map>
#include <vector>

#include "kiln/domain/ip_pool.h"

namespace kiln::dns {

Result<SenderRoute> ReadSenderRoute(store::Tx& tx, int64_t sender_id) {
  SenderRoute route;
  KILN_ASSIGN_OR_RETURN(auto row, tx.QueryRow("dns.sender_doctor", {sender_id},
                                              "no sender with id " + std::to_string(sender_id)));
  route.source_ip = row.OptText("source_ip").value_or("");
  route.proxy_url = row.OptText("proxy_url").value_or("");
  KILN_ASSIGN_OR_RETURN(auto pools, tx.Query("dns.sender_pools", {sender_id}));
  std::map<int64_t, std::vector<std::string>> by_campaign;
  for (const auto& p : pools) by_campaign[p.Int("campaign_id")].push_back(p.Text("ip"));
  route.pools = static_cast<int>(by_campaign.size());
  if (route.source_ip.empty() && route.proxy_url.empty() && !by_campaign.empty()) {
    const auto& [campaign_id, pool] = *by_campaign.begin();
    route.source_ip = domain::ChooseSourceIp(pool, sender_id);
    route.pool_campaign_id = campaign_id;
  }
  return route;
}

Result<mail::Socks5Proxy> ParseSocks5Url(std::string_view url) {
  constexpr std::string_view kScheme = "socks5://";
  if (!url.starts_with(kScheme)) {
    return Status::InvalidArgument("must look like socks5://host:port", "proxy_url");
  }
  std::string_view hostport = url.substr(kScheme.size());
  while (!hostport.empty() && hostport.back() == '/') hostport.remove_suffix(1);
  size_t colon = hostport.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument("must look like socks5://host:port", "proxy_url");
  }
  std::string_view host = hostport.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string_view port_text = hostport.substr(colon + 1);
  int port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
    return Status::InvalidArgument("has no valid port", "proxy_url");
  }
  mail::Socks5Proxy proxy;
  proxy.host = std::string(host);
  proxy.port = static_cast<uint16_t>(port);
  return proxy;
}

Status ApplySenderRoute(store::Database& db, int64_t sender_id, mail::SmtpConfig* config) {
  SenderRoute route;
  KILN_RETURN_IF_ERROR(db.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(route, ReadSenderRoute(tx, sender_id));
    return Status::Ok();
  }));
  config->source_address = route.source_ip;
  config->socks5_proxy = {};
  if (!route.proxy_url.empty()) {
    KILN_ASSIGN_OR_RETURN(config->socks5_proxy, ParseSocks5Url(route.proxy_url));
  }
  return Status::Ok();
}

}  // namespace kiln::dns
