// BotRunner: the receiving side of warm-up (issue 5 §5) — what happens to warm-up mail once it
// has been sent: the counterpart's mailbox finds it, pulls it out of spam, opens it, flags some of
// it important and answers some of it after a human-like delay; the warmed sender's own mailbox
// finds the answers and (by default) tucks them away so that its owner never sees them.
//
// Mailboxes and their roles. Each mailbox is scanned over IMAP (INBOX and the Junk folder: RFC 6154
// \Junk, else the usual names), from where the previous scan left off (mailbox_scan_state, purpose
// 'warmup'). A warm-up message is recognised by its tag (mail::ExtractWarmupToken) and matched to
// its warmup_messages row by Message-ID; the token must agree and the row must be addressed to
// this mailbox, or the message is left alone. Then, by the row's direction:
//   'out' (a sender's mail) in a bot's mailbox, or in a peer sender's mailbox (peer warm-up):
//        the counterpart's actions — record delivered_at and placement (inbox / spam /
//        other_folder); set \Seen (opened_at); for bots, set \Flagged on the bot's
//        important_rate_percent share (flagged_at); move it out of Junk to INBOX (rescued_at);
//        and while the thread's exchange < ThreadTargetExchanges(token), answer it on the warmed
//        sender's warmup_reply_rate_percent share: a 'back' row in status 'scheduled' with
//        scheduled_at = now + a delay drawn from the bot's reply-delay range (peers: the
//        options' peer range), its Message-ID, subject and bodies (ReplyContent quoting the
//        original) stored with it (migration 0007). In a peer's mailbox the mail is then hidden
//        like an answer in the owner's (below): a peer sender's mailbox has an owner too.
//   'back' (an answer) in the warmed sender's own mailbox: record delivered_at and placement, set
//        \Seen, rescue it from Junk; continue the thread while exchange < target (always: the
//        thread's length is the token's), as an 'out' row in status 'scheduled'; then, when
//        hide_from_owner is on, move it to the folder "Kiln Warmup" (created on demand). A move
//        rather than a delete: nothing is lost if the owner looks, and a provider sees a message
//        filed away rather than thrown away.
// Every draw (flag, reply, delay, content) is seeded by the row id: a rescan decides the same.
//
// Who sends the scheduled rows: a bot's answers are sent by this runner's BotReplySender, from the
// bot's SMTP account (Message-ID on the bot's domain, In-Reply-To and References to the thread,
// the X-Kiln-Warmup header), within the bot's daily limit (BotDailyVolume of its aging ramp, which
// tops out at daily_send_limit, counted on the bot's own calendar day in its time zone); an answer
// over the limit waits for the start of the bot's next day. Every other scheduled row (a peer's
// answer, a sender continuing a thread with a bot) is sent by the queue manager through the
// sender's transport: engine::WarmupSource returns owed rows first.
//
// Work sharing and crash safety. Each mailbox has one queue_tasks row (kind 'warmup_scan',
// dedupe_key "warmup_scan:bot:<id>" / "warmup_scan:sender:<id>") whose run_at is the mailbox's
// next scan (every scan_interval) and whose lease says which worker holds it: one worker per
// mailbox at a time, a dead worker's mailbox passes on when its lease lapses. A bot's replies are
// sent under the same lease, so its daily count is kept by one process. Per message, the record
// of delivery is committed before any IMAP change, and each IMAP change before its record; every
// record is guarded by the state it expects and the scan position is saved with the last record.
// A crash therefore repeats at most the IMAP actions of one message (idempotent flags; a message
// moved out of Junk is found again in INBOX and its rescue recorded then), and a second scan of
// the same mail records nothing. A changed UIDVALIDITY rescans the folder from UID 1, and those
// guards make the rescan a no-op for mail already handled. A bot's reply caught mid-send by a
// crash becomes 'unknown' and is never resent. A bot whose login is refused is marked 'failed'
// with the server's reason; other mailboxes go on.
//
// Mail sent but not found in any scanned mailbox within missing_after of its sent_at is recorded
// placement 'missing' (a later find corrects it).
//
// Thread-safety: a BotRunner is used by one thread at a time (RunBotRunner's); several processes
// may run their own BotRunners over one database.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "kiln/auth/secret_box.h"
#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/domain/tz.h"
#include "kiln/mail/transport.h"
#include "kiln/store/db.h"

namespace kiln::warmup {

// The folder warm-up mail is moved to in a warmed sender's own mailbox (hide_from_owner).
inline constexpr std::string_view kHiddenWarmupFolder = "Kiln Warmup";

struct BotRunnerOptions {
  std::string worker_id;                 // names this process's leases; unique per process
  Millis scan_interval{300'000};         // warmup_scan_seconds: each mailbox's cadence
  Millis lease{900'000};                 // a held mailbox lapses after this without release
  Millis missing_after{6 * 3'600'000};   // warmup_missing_hours
  bool hide_from_owner = true;           // warmup_hide_from_owner
  int peer_reply_delay_min_minutes = 5;  // a peer sender's reply delay range
  int peer_reply_delay_max_minutes = 240;
  size_t fetch_batch = 200;  // messages fetched per IMAP round trip
  // Larger messages are not warm-up mail: listed but not downloaded (a sender's own mailbox
  // holds everything its owner receives).
  size_t max_message_bytes = 1u << 20;
  size_t replies_per_turn = 50;         // a bot's replies sent per turn at most
  std::string helo_name = "localhost";  // EHLO name of the bots' SMTP connections
  mail::SmtpTimeouts smtp_timeouts;
  Millis imap_connect_timeout{15'000};
  Millis imap_io_timeout{60'000};
};

// What one RunOnce did, for logs and tests.
struct BotRunStats {
  int mailboxes_scanned = 0;  // mailboxes whose lease this run took and scanned
  int mailboxes_failed = 0;   // scans that failed (login refused, server down)
  int found = 0;              // sightings of warm-up mail matched to its row (any state)
  int delivered = 0;          // delivered_at recorded
  int rescued = 0;            // moved out of Junk
  int opened = 0;
  int flagged = 0;
  int replies_scheduled = 0;
  int replies_sent = 0;
  int replies_failed = 0;
  int replies_deferred = 0;  // over the bot's daily limit: moved to its next day
  int hidden = 0;            // moved to kHiddenWarmupFolder
  int missing = 0;           // rows newly recorded 'missing'
};

class BotRunner {
 public:
  // `clock` is the time of every decision and record (a FakeClock in tests); `io_clock` measures
  // the IMAP connections' I/O timeouts (real time). `secrets` opens the mailboxes' sealed
  // passwords (AAD "bots:<id>:imap_secret", "bots:<id>:smtp_secret", "senders:<id>:imap_secret").
  // All references must outlive the runner.
  BotRunner(store::Database& db, const Clock& clock, const Clock& io_clock,
            const auth::SecretBox& secrets, domain::TimeZoneDatabase& zones,
            BotRunnerOptions options);
  ~BotRunner();
  BotRunner(const BotRunner&) = delete;
  BotRunner& operator=(const BotRunner&) = delete;

  // One pass: records 'missing' mail, then, for every active bot and every sender whose mailbox
  // receives warm-up mail, takes the mailbox's lease when its scan is due, scans it, sends the
  // bot's due replies and releases the lease with the next run time. A mailbox that fails is
  // logged (and a bot refusing its login marked failed); the others go on.
  // Failure: only when the database fails outside any one mailbox's work.
  Result<BotRunStats> RunOnce();

  // Gives back every lease this runner holds (due at once for other workers). For shutdown.
  Status ReleaseLeases();

  const BotRunnerOptions& options() const { return options_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  BotRunnerOptions options_;
};

// Runs `runner`, then `wait_or_stop(tick)`, until that returns true (stop asked; e.g. a
// engine::WorkerStop's WaitFor), logging each pass's failures and work (spdlog); releases the
// leases before returning.
void RunBotRunner(BotRunner& runner, Millis tick, const std::function<bool(Millis)>& wait_or_stop);

}  // namespace kiln::warmup
