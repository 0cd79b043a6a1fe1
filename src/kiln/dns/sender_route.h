// Where a sender's SMTP connections leave from: its own source IP, its SOCKS5 proxy, or the
// address it keeps from the IP pool of a campaign it sends for (domain/ip_pool.h). The engine's
// transport factory applies it when it connects (engine/worker.h SmtpDefaults::route); the doctor
// checks SPF for it.
//
// Thread-safety: free functions; the database is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/base/status.h"
#include "kiln/mail/transport.h"
#include "kiln/store/db.h"

namespace kiln::dns {

struct SenderRoute {
  std::string source_ip;         // "" when none
  std::string proxy_url;         // "socks5://host:port", "" when none
  int64_t pool_campaign_id = 0;  // the campaign whose pool gave source_ip; 0 otherwise
  int pools = 0;                 // campaigns of the sender that have an IP pool
};

// Reads sender `sender_id`'s route in `tx`: its source_ip, else its proxy_url, else the address it
// keeps from the pool of its first campaign (lowest id) that has one. Failure: NotFound "no sender
// with id N"; store errors as they come.
Result<SenderRoute> ReadSenderRoute(store::Tx& tx, int64_t sender_id);

// "socks5://host:port" -> the proxy. Failure: InvalidArgument naming "proxy_url".
Result<mail::Socks5Proxy> ParseSocks5Url(std::string_view url);

// Sets `config`'s source_address and socks5_proxy from sender `sender_id`'s route (leaves them
// empty when it has none). Failure: NotFound for an unknown sender, InvalidArgument naming
// "proxy_url" for a stored URL that does not parse, store errors.
Status ApplySenderRoute(store::Database& db, int64_t sender_id, mail::SmtpConfig* config);

}  // namespace kiln::dns
