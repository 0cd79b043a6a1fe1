// Scheduler: the queue manager, the single owner of "what is sent next" (issue 4 §3, issue 5).
//
// One queue per sender. The scheduler holds a set of senders (each through a lease in the
// database, so one worker paces a sender at a time) and keeps each one's state in memory: its day
// on the sender's own wall clock (senders.timezone), the day's budget from domain::SenderAllowance
// (daily quota, warm-up plan, and the largest warmup_mix_percent of the running campaigns it sends
// for), the cold and warm-up sends already made that day, and pacing (next_send_at). That state is
// loaded when a sender is taken and when its day turns; the senders' settings, the leases, which
// running campaigns each sender is in, and the hard-bounce check are refreshed on a slower cadence
// (SchedulerOptions::refresh; a campaign launched meanwhile starts at the next refresh: a sender
// nobody holds is taken then, not at the next fair share). Senders
// are kept in order of their next send, so a tick looks only at the senders that are due and the
// campaigns they send for, and reads the due leads in pages sized to what those senders can take:
// database work for what is due, never a query per sender held.
//
// Each RunOnce() (a tick):
//   0. on the refresh cadence: reaps lapsed claims (Ledger::ReapLapsed), the heartbeat (which
//      renews every sender lease the worker holds: docs/decisions/0011-worker-leases.md), the
//      settings of held senders that may send before the next refresh (so a sender idle for hours
//      costs nothing until then), and the hard-bounce rate of senders with new bounces; at least
//      every third of the lease: the fair share of the senders between live workers (at most
//      ceil(senders / live workers) leases each; a worker alone takes every sender that needs
//      one). No part of it reads or writes every held sender;
//   1. warm-up: every held active sender whose next send is due and whose next kind
//      (domain::NextSendKind) is warm-up asks the WarmupSource for a message, DKIM-signs it like
//      cold mail and sends it through the sender's transport (no unsubscribe link: it is not
//      bulk mail), then records it with WarmupSource::Record. Senders in no running campaign
//      warm up too. Health does not stop warm-up;
//   2. cold: for every running campaign that has a held sender able to send cold mail now, the
//      due leads (campaign_contacts.next_at <= now), each through the domain rules in order:
//      sequence.h (next step or a stop; A/B/n variant seeded by (campaign, lead, step));
//      schedule.h (the window in the lead's zone, the campaign's when unknown); suppression,
//      checked now; rotation.h: follow-ups stick to the sender of the first step, a new lead goes
//      to the pool weighted by health and remaining quota, among senders that are active, healthy
//      (health_score >= rotation.min_health_score), out of warm-up, under their cold budget and
//      the campaign's daily limit, due under pacing, under the per-recipient-domain hourly cap,
//      and whose next kind is cold; then render, tracking (open pixel, click redirects; never the
//      unsubscribe link), unsubscribe link and RFC 8058 headers, compose, DKIM-sign, and deliver
//      exactly once: the message is scheduled and claimed in one committed transaction
//      (Ledger::ScheduleAndClaim) before its SMTP exchange starts; the exchange runs on the
//      scheduler's io_context while the next leads are worked on for other senders, up to
//      `max_concurrent_sends` exchanges at once and never two of one sender (a sender mid-exchange
//      is not chosen; a lead that can only go to a busy sender waits for its exchange to end);
//      each outcome is recorded together with the lead's next step in one transaction
//      (docs/decisions/0010-concurrent-sends.md). Every exchange a tick starts is settled before
//      the tick returns. Follow-ups carry In-Reply-To/References.
//   3. warm-up again for senders whose cold turn found no lead to send to (none due, or all
//      outside their windows) while warm-up is behind its even share of the day so far.
// A stop request (RunOnce's `stop`, set from any thread, e.g. on SIGTERM) is checked before each
// claim, cold and warm-up: once it is set the tick claims nothing more, settles the exchanges
// already in flight (their outcomes recorded as usual: a clean stop never leaves a claim
// `sending`, decision 0004), leaves the remaining leads as they are and returns at once.
// Outcomes: sent -> the lead advances to its next step; transient -> retry with backoff; bounce
// -> message bounced, lead bounced, address suppressed, and the sender's hard-bounce rate over
// its last `bounce_window_sends` is checked: above the threshold the sender and every running
// campaign it sends for are paused with the numbers as the reason; sender problem -> the sender
// is marked failed and its leads move to other senders; more than 10 consecutive failures pause
// the sender.
//
// Time comes only from the Clock, so tests run weeks of sending in virtual time.
// Thread-safety: a Scheduler is not thread-safe; run one per worker thread (its concurrent sends
// are coroutines on its own io_context, run by that thread, so the database sees one writer per
// scheduler). Several schedulers
// (threads or processes) may share one database: the Ledger's claims keep each message single and
// the sender leases keep each sender's pacing and quota in one process.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/domain/pacing.h"
#include "kiln/domain/quota.h"
#include "kiln/domain/random.h"
#include "kiln/domain/rotation.h"
#include "kiln/domain/tz.h"
#include "kiln/engine/ledger.h"
#include "kiln/engine/warmup_source.h"
#include "kiln/mail/dkim.h"
#include "kiln/mail/transport.h"
#include "kiln/store/db.h"

namespace kiln::engine {

// A sender as the scheduler loads it; what a TransportFactory gets to open its connection.
struct SenderInfo {
  int64_t id = 0;
  int64_t workspace_id = 0;
  std::string email;
  std::string name;
  std::string from_name;
  std::string status;  // unverified, active, paused, failed
  int daily_quota = 0;
  int health_score = 100;
  std::optional<int64_t> warmup_end_at;
  std::string timezone = "UTC";  // the sender's day runs from its local midnight
  std::string tracking_domain;   // custom host of its tracking links ("" = public_url's)
  bool warmup_enabled = false;
  std::string smtp_host;
  int smtp_port = 0;
  std::string smtp_security;  // tls, starttls, none
  std::string smtp_username;
  std::string smtp_secret_sealed;  // sealed with SecretBox, AAD "senders:<id>:smtp_secret"
  bool allow_self_signed = false;
};

// Opens the Transport a sender sends through (kept open across its messages), bound to
// `executor` (the scheduler's own io_context). Failure: the sender cannot be used (e.g. its secret
// cannot be unsealed); the scheduler marks it failed with the message.
using TransportFactory = std::function<Result<std::unique_ptr<mail::Transport>>(
    const SenderInfo& sender, boost::asio::any_io_executor executor)>;

// The default of SchedulerOptions::max_concurrent_sends and of the setting
// engine_max_concurrent_sends (bench/engine/README.md has the measurement behind it).
inline constexpr int kDefaultMaxConcurrentSends = 16;

struct SchedulerOptions {
  std::string worker_id = "worker";
  Millis lease{10 * 60'000};         // see docs/decisions/0004-exactly-once.md
  int max_leads_per_campaign = 500;  // due leads looked at per campaign per tick
  domain::PacingRule pacing;         // minimum gap and jitter between one sender's sends
  domain::BackoffPolicy backoff;     // transient failures
  domain::FailurePauseRule failure_pause;
  domain::RotationPolicy rotation;
  // Public origin of the unsubscribe endpoint ("https://kiln.example.com") and the tracking key
  // (api/tracking_tokens.h). With an empty base URL no unsubscribe link or header is added.
  std::string public_url;
  std::string tracking_key;
  // DKIM signers by the sender address's domain (lowercase); a sender without one is not signed.
  std::map<std::string, const mail::DkimSigner*> dkim_by_domain;
  uint64_t seed = 1;  // pacing jitter and backoff jitter
  // The warm-up network (warmup_source.h); nullptr: no warm-up mail is sent (senders in warm-up
  // then send nothing at all, since warm-up days carry no cold mail).
  WarmupSource* warmup = nullptr;
  // How often the held senders' settings (status, health, quota, plan, campaigns' share), the
  // worker heartbeat and the fair share of leases, and new bounces are looked at. Leases are
  // renewed at least every third of `lease` whatever this says.
  Millis refresh{60'000};
  // At most this many cold sends per sender per recipient domain per rolling hour; 0: no cap
  // (the product's setting engine_domain_hourly_cap defaults to 10; main passes it).
  int domain_hourly_cap = 0;
  // Hard-bounce pause: rate over the sender's last `bounce_window_sends` cold sends.
  domain::BounceRule bounce;
  int bounce_window_sends = 500;
  // Cold SMTP exchanges a tick keeps in flight at once, each for a different sender (one sender
  // never has two): while one sender waits for its server, the next due senders' messages are
  // claimed, built and sent (docs/decisions/0010-concurrent-sends.md). 1: one at a time. The
  // product's setting engine_max_concurrent_sends; main passes it.
  int max_concurrent_sends = kDefaultMaxConcurrentSends;
};

struct TickStats {
  int reaped_unknown = 0;  // claims marked unknown this tick
  int sent = 0;
  int retried = 0;  // transient failures and sender problems
  int bounced = 0;
  int failed = 0;
  int stopped = 0;         // leads stopped (completed, replied, suppressed, ...)
  int deferred = 0;        // leads moved to a later time (window, step delay, retry time)
  int waiting = 0;         // due leads left for a later tick (no sender could send now)
  int warmup_sent = 0;     // warm-up messages the server accepted
  int warmup_failed = 0;   // warm-up messages refused or not delivered
  int senders_paused = 0;  // senders paused this tick (failures or hard-bounce rate)
  bool cut_short = false;  // a stop request ended the tick before all its due work was looked at
};

class Scheduler {
 public:
  Scheduler(store::Database& db, const Clock& clock, domain::TimeZoneDatabase& zones,
            TransportFactory transports, SchedulerOptions options);
  ~Scheduler();

  // One tick: the warm-up and cold sends that are due now (see above). Success: what the tick
  // did. Failure: the database failed (the tick stopped there; claims already made are settled
  // or will be reaped). A campaign whose settings cannot be used (bad schedule JSON, unknown time
  // zone, a template that does not parse, no public_url) is skipped, named in campaign_errors().
  // `stop` (may be null; may be set from another thread while the tick runs): when it reads true
  // before a claim, the tick claims no more messages, settles the exchanges in flight and returns
  // with cut_short set; the leads and senders it did not get to are left untouched for a later
  // tick (or another worker).
  Result<TickStats> RunOnce(const std::atomic<bool>* stop = nullptr);

  // Campaigns skipped in the last tick and why ("campaign 7: unknown time zone 'Mars/Base'").
  const std::vector<std::string>& campaign_errors() const { return campaign_errors_; }

  // The earliest instant a sender may send again under pacing (for tests and the live view);
  // nullopt when this scheduler does not hold the sender or has not paced it yet.
  std::optional<int64_t> SenderNextSendAt(int64_t sender_id) const;

  // The earliest next send of any sender this scheduler holds (the instant a tick may next have
  // work, for virtual-time drivers); nullopt when it holds no paced sender.
  std::optional<int64_t> NextSendAt() const;

  // The senders this scheduler holds right now (their leases), in id order.
  std::vector<int64_t> HeldSenders() const;

  // A held sender's day so far: cold and warm-up sends made and the day's budget. nullopt when
  // the sender is not held.
  struct SenderDay {
    domain::CivilDate day;
    domain::DailyAllowance allowance;
    int cold_sent = 0;
    int warmup_sent = 0;
  };
  std::optional<SenderDay> SenderToday(int64_t sender_id) const;

  Ledger& ledger() { return ledger_; }

  // Closes every open transport (QUIT).
  void CloseTransports();

  // Gives up this worker's sender leases so other workers take the senders at once (the
  // destructor does it too). Best effort: a lease not released lapses after `lease`.
  void ReleaseSenders();

 private:
  struct SenderState;
  struct CampaignCache;
  // True when this tick's stop request has been made (RunOnce's `stop`).
  bool StopRequested() const { return stop_ != nullptr && stop_->load(); }
  Status Maintain(int64_t now, TickStats& stats);
  int64_t RefreshEvery() const;
  Status ShareSenders(int64_t now, bool resync);
  Status RefreshSenders(int64_t now);
  void ForgetHeld(std::vector<int64_t> ids);
  Status LoadDay(SenderState& s, int64_t now);
  Status EnsureDay(SenderState& s, int64_t now);
  domain::DailyAllowance AllowanceOf(const SenderState& s) const;
  bool WarmupPossible(const SenderState& s, int64_t now) const;
  domain::SendKind NextKind(const SenderState& s, int64_t now) const;
  bool WarmupBehind(const SenderState& s, int64_t now) const;
  void Repace(SenderState& s, int64_t now, bool sent);
  Status OpenTransport(SenderState& s, TickStats& stats);
  Status SenderFailure(SenderState& s, const std::string& reason, TickStats& stats);
  Status CheckBounceRate(SenderState& s, TickStats& stats);
  Status RunWarmup(TickStats& stats, bool fill);
  Status RunCampaign(const store::Row& campaign, TickStats& stats);
  void DropSender(int64_t id);
  void SetNextSend(SenderState& s, std::optional<int64_t> at);

  store::Database& db_;
  const Clock& clock_;
  domain::TimeZoneDatabase& zones_;
  TransportFactory transports_;
  SchedulerOptions options_;
  Ledger ledger_;
  domain::Rng rng_;
  boost::asio::io_context io_;
  std::map<int64_t, std::unique_ptr<SenderState>> senders_;  // the senders held
  std::map<int64_t, std::unique_ptr<CampaignCache>> campaigns_;
  std::set<std::pair<int64_t, int64_t>> due_;             // (next_send_at, sender id), held only
  std::map<int64_t, std::vector<int64_t>> campaigns_of_;  // held sender -> its running campaigns
  std::vector<int64_t> due_now_;                          // this tick's due senders, by id
  std::vector<std::string> campaign_errors_;
  std::set<int64_t> broken_campaigns_;  // running campaigns whose last look found an error
  std::optional<int64_t> next_maintenance_;
  std::optional<int64_t> shared_at_;  // last fair share
  std::vector<int64_t> held_;         // the senders whose lease this worker holds, in id order
  std::vector<int64_t> unread_;       // held senders whose settings were not read yet
  int64_t bounces_seen_until_ = 0;    // bounces before this were checked
  const std::atomic<bool>* stop_ = nullptr;  // the running tick's stop request (RunOnce)
};

}  // namespace kiln::engine
