// Tracking endpoints, reached from the links inside sent cold email (public: no authentication,
// no CSRF; the signed token in the path is the only credential, see tracking_tokens.h):
//   GET  /u/{token}      unsubscribe page with a confirm button (a POST to the same URL)
//   POST /u/{token}      unsubscribe now: the page's button and RFC 8058 one-click
//                        (body "List-Unsubscribe=One-Click"); 200, never a redirect
//   GET  /o/{token}.gif  open pixel: 43-byte transparent GIF, never cached
//   GET  /c/{token}      click: 302 to the URL signed into the token (so never an open redirect)
// Custom tracking domains (JSON API, workspace members; viewers read):
//   GET/PUT /api/v1/workspaces/{ws}/senders/{id}/tracking-domain
//   GET/PUT /api/v1/workspaces/{ws}/campaigns/{id}/tracking-domain
//   GET     /api/v1/workspaces/{ws}/tracking-domains  every sender's and campaign's, no DNS check
// PUT {"tracking_domain": "track.example.com"} sets it (null or "" clears it; 400 naming
// tracking_domain when it is not a hostname); GET answers it with a DNS check: whether the
// domain's A/AAAA records (through its CNAME, if any) share an address with the host of the
// server's public_url, asked through the dns_resolver setting. The tracking endpoints above
// answer whatever Host header they are reached by, so every configured domain works once its DNS
// points here.
//
// A token that does not verify, or names a message that does not exist, answers 404 and writes
// nothing. Every hit is committed before it is answered: opens and clicks from all connections
// go through one HitCommitter, which writes them in groups (one transaction per group) and lets
// each request answer only once its group committed; a group whose transaction fails answers 503
// to each of its requests. An unsubscribe is its own transaction.
//
// Thread-safety: handlers are called from many threads; they share the database, the immutable
// key and the (thread-safe) HitCommitter.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kiln/api/api.h"
#include "kiln/api/tracking_tokens.h"
#include "kiln/dns/resolver.h"

namespace kiln::api {

// Fetches within this many milliseconds of the send are security scanners, not people.
inline constexpr int64_t kScannerWindowMs = 10'000;

// True for user agents of mail privacy proxies (Apple Mail Privacy Protection, Google and Yahoo
// image proxies), link scanners and scripts, and for an empty user agent.
bool IsMachineUserAgent(std::string_view user_agent);

// Whether a hit is a machine's: its user agent is, or it came within kScannerWindowMs of sent_at.
bool IsMachineHit(std::string_view user_agent, std::optional<int64_t> sent_at_ms, int64_t now_ms);

// One open or click to record.
struct Hit {
  TrackingToken token;     // verified; kind kOpen or kClick
  int64_t at_ms = 0;       // when the request came
  std::string user_agent;  // as sent (decides the machine flag with the message's sent_at)
  std::string detail;      // the event's detail JSON
};

// Group commit of tracking hits. Record() queues a hit and blocks until the transaction holding
// it has committed; one committer thread writes whatever is queued in one transaction (at most
// max_group hits), so under load many hits share a commit and with a single client nothing waits
// for a timer. For each hit, in the order queued: the event row (is_machine from the user agent
// and the message's sent_at), and for a human hit the message's first opened_at / clicked_at
// (set once: later hits leave it).
//
// Thread-safety: Record may be called from any number of threads at once. The destructor
// commits what is queued, then stops the thread; no Record may run concurrently with it.
class HitCommitter {
 public:
  HitCommitter(store::Database& db, size_t max_group = 512);
  ~HitCommitter();
  HitCommitter(const HitCommitter&) = delete;
  HitCommitter& operator=(const HitCommitter&) = delete;

  // OK once the hit is committed. NotFound("unknown message") when the token names no message
  // of its workspace (nothing written for it). Unavailable("tracking hits not recorded: ...")
  // when its group's transaction failed (nothing of the group written).
  Status Record(const Hit& hit);

  // Transactions committed and hits written so far (for tests and metrics).
  uint64_t groups_committed() const;
  uint64_t hits_committed() const;

 private:
  struct Pending {
    const Hit* hit;
    Status result;
    bool done = false;
  };
  void Loop();
  Status WriteGroup(const std::vector<Pending*>& group);

  store::Database& db_;
  const size_t max_group_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // the committer waits for hits or stop
  std::condition_variable done_cv_;  // recorders wait for their group
  std::vector<Pending*> queue_;
  bool stop_ = false;
  uint64_t groups_ = 0, hits_ = 0;
  std::thread thread_;  // last: started once every member above exists
};

// A custom tracking domain as entered for a sender or a campaign ("track.example.com"), checked
// and lowercased: a hostname of at most 253 bytes, two or more dot-separated labels of 1..63
// letters, digits and '-' (not at either end of a label), a top-level label that is not all
// digits (so never an IP address); one trailing dot is dropped. Empty means "not set" and is
// returned as it is. Failure: InvalidArgument naming `field` and what is wrong.
Result<std::string> NormalizeTrackingDomain(std::string_view value, std::string_view field);

// Where a tracking domain points, as the GET routes above answer it.
struct TrackingDomainCheck {
  std::vector<std::string> addresses;         // the domain's A and AAAA records
  std::vector<std::string> server_addresses;  // those of public_url's host (or that IP)
  bool points_here = false;                   // the two lists share an address
  std::string problem;  // "" when points_here; else what is wrong, in one sentence
};

// Resolves `domain` and the host of `public_url` through `resolver`. Never fails: a DNS error or
// a missing record is reported in `problem` (e.g. "track.example.com has no A or AAAA record").
TrackingDomainCheck CheckTrackingDomain(dns::Resolver& resolver, std::string_view domain,
                                        std::string_view public_url);

// Registers the routes above on the API's router.
void RegisterTrackingRoutes(Api& api);

}  // namespace kiln::api
