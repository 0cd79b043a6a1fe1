// Scheduler: the queue manager's cold-send loop, the single owner of "what is sent next".
//
// Each RunOnce() (a tick) reaps lapsed claims (Ledger::ReapLapsed), then, for every running
// campaign, takes the leads that are due (campaign_contacts.next_at <= now, pending/active) and for
// each one applies the domain rules in order:
//   1. sequence.h: the next step (or a stop: replied, bounced, unsubscribed, completed) and the
//      A/B/n variant, seeded by (campaign, lead, step) so a retry picks the same one;
//   2. schedule.h: the sending window in the lead's time zone (the campaign's when unknown);
//      outside it the lead waits for the next window;
//   3. suppression (address or domain, workspace-wide or this campaign), checked now;
//   4. rotation.h: the sender, sticky per lead (follow-ups come from the first step's sender),
//      among senders that are active, out of warm-up, under their daily quota (quota.h, on the
//      campaign's calendar day, including the campaign's daily limit), past their pacing gap
//      (pacing.h: minimum gap plus jitter) and held by this worker: each sender's queue is
//      leased to one worker at a time (renewed every tick, lapsing when the worker dies), so
//      several workers share the senders of one database without two pacing one mailbox;
//   5. render (template engine; lead values escaped in HTML), unsubscribe link and RFC 8058
//      headers, compose (mime_writer), DKIM-sign when a signer is configured for the sender's
//      domain, and deliver exactly once (delivery.h); follow-ups carry In-Reply-To/References.
// Outcomes: sent -> the lead advances to its next step (due after that step's delay); transient
// -> retry with backoff; bounce -> message bounced, lead bounced, address suppressed; sender
// problem -> the sender is marked failed with the reason and its leads move to other senders;
// more than 10 consecutive failures pause the sender.
//
// Time comes only from the Clock, so tests run days of sending in virtual time.
// Thread-safety: a Scheduler is not thread-safe; run one per worker thread. Several schedulers
// (threads or processes) may share one database: the Ledger's claims keep each message single.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/domain/pacing.h"
#include "kiln/domain/random.h"
#include "kiln/domain/rotation.h"
#include "kiln/domain/tz.h"
#include "kiln/engine/ledger.h"
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
};

struct TickStats {
  int reaped_unknown = 0;  // claims marked unknown this tick
  int sent = 0;
  int retried = 0;  // transient failures and sender problems
  int bounced = 0;
  int failed = 0;
  int stopped = 0;   // leads stopped (completed, replied, suppressed, ...)
  int deferred = 0;  // leads moved to a later time (window, step delay, retry time)
  int waiting = 0;   // due leads left for a later tick (no sender could send now)
};

class Scheduler {
 public:
  Scheduler(store::Database& db, const Clock& clock, domain::TimeZoneDatabase& zones,
            TransportFactory transports, SchedulerOptions options);
  ~Scheduler();

  // One pass over all running campaigns, sending what is due now. Success: what the tick did.
  // Failure: the database failed (the tick stopped there; claims already made are settled or
  // will be reaped). A campaign whose settings cannot be used (bad schedule JSON, unknown time
  // zone, a template that does not parse) is skipped, named in campaign_errors().
  Result<TickStats> RunOnce();

  // Campaigns skipped in the last tick and why ("campaign 7: unknown time zone 'Mars/Base'").
  const std::vector<std::string>& campaign_errors() const { return campaign_errors_; }

  // The earliest instant a sender may send again under pacing (for tests and the live view).
  std::optional<int64_t> SenderNextSendAt(int64_t sender_id) const;

  Ledger& ledger() { return ledger_; }

  // Closes every open transport (QUIT).
  void CloseTransports();

  // Gives up this worker's sender leases so other workers take the senders at once (the
  // destructor does it too). Best effort: a lease not released lapses after `lease`.
  void ReleaseSenders();

 private:
  struct SenderState;
  Status RunCampaign(const store::Row& campaign, TickStats& stats);

  store::Database& db_;
  const Clock& clock_;
  domain::TimeZoneDatabase& zones_;
  TransportFactory transports_;
  SchedulerOptions options_;
  Ledger ledger_;
  domain::Rng rng_;
  boost::asio::io_context io_;
  std::map<int64_t, std::unique_ptr<SenderState>> senders_;
  std::vector<std::string> campaign_errors_;
};

}  // namespace kiln::engine
