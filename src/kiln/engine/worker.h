// Worker: the engine's run loop and the wiring of real SMTP transports for it.
//
// SmtpTransportFactory opens an SmtpClient per sender from the sender's stored settings, unsealing
// its SMTP secret with the SecretBox (AAD "senders:<id>:smtp_secret"). RunWorker ticks a Scheduler
// until asked to stop.
//
// Thread-safety: RunWorker runs on the calling thread and owns the Scheduler while it runs;
// WorkerStop may be signalled from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "kiln/auth/secret_box.h"
#include "kiln/engine/scheduler.h"
#include "kiln/mail/transport.h"

namespace kiln::engine {

// Settings every sender's SMTP connection shares.
struct SmtpDefaults {
  std::string helo_name = "localhost";  // the sending host's name for EHLO
  mail::SmtpTimeouts timeouts;
  // Sets a sender's source address and SOCKS5 proxy (dns::ApplySenderRoute: its source_ip, its
  // proxy_url, or its campaign's IP pool) on its settings before each connection; unset: the
  // system's default route. A failure makes the sender unusable, like an unsealable secret.
  std::function<Status(int64_t sender_id, mail::SmtpConfig* config)> route;
};

// A TransportFactory that opens real SMTP connections. The factory keeps a reference to `box`.
// Failure (from the factory): FailedPrecondition naming the sender when its secret cannot be
// unsealed or its security setting is unknown.
TransportFactory SmtpTransportFactory(const auth::SecretBox& box, SmtpDefaults defaults);

// Asks RunWorker to return: the tick under way claims nothing more, settles the exchanges already
// in flight and ends early (Scheduler::RunOnce's stop request), then RunWorker returns.
class WorkerStop {
 public:
  void Stop();
  bool stopped() const { return stopped_.load(); }
  // The flag Stop() sets, for a tick to look at between its claims (Scheduler::RunOnce).
  const std::atomic<bool>& flag() const { return stopped_; }
  // Waits up to `d` or until Stop(); returns true when stopped.
  bool WaitFor(Millis d);

 private:
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

// Ticks `scheduler` every `tick` (at once again when a tick sent something, since more may be
// due) until `stop`, which also cuts the tick under way short before its next claim. A failing tick
// is logged (spdlog) and retried on the next one: the database may be back by then. Campaign errors
// and tick failures are logged when they appear or change, not on every tick. Returns when stopped,
// after closing the transports and giving the sender leases back.
void RunWorker(Scheduler& scheduler, Millis tick, WorkerStop& stop);

}  // namespace kiln::engine
