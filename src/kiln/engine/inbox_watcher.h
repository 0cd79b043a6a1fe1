// InboxWatcher: reads every sender's mailbox over IMAP and turns what arrives into what it means
// for the leads: replies, auto-replies, bounces and complaints stop sequences (issue 4 §3), hard
// bounces and complaints suppress the address (issue 6), replies become unified-inbox
// conversations (issue 7).
//
// Each RunOnce() (a tick) takes the senders whose poll is due (every `poll_interval`, per sender)
// and, for each one this worker can lease (inbox_watch.lease_owner: one worker reads a mailbox at a
// time; a dead worker's lease lapses), reads INBOX and the Junk folder from where the last poll
// left off (mailbox_scan_state, purpose 'replies'). Every new message is parsed and classified
// (mail::Classify) and matched to what Kiln sent:
//   reply       In-Reply-To / References / quoted id / subject (mail::MatchReply) against
//               messages.message_id_header, then thread_root_header; failing those, From = a lead
//               this sender has mailed. -> conversation + conversation message (direction in),
//               messages.replied_at, event 'replied', lead status 'replied' (unless a person
//               already set a later one), the campaign's sequence stopped when it stops on reply.
//   auto-reply  event 'auto_replied' and a conversation message; the sequence stops only when the
//               campaign has stop_on_auto_reply.
//   bounce      the original found by the Message-ID in the returned headers, else the failed
//               recipient among this sender's messages. Hard: message bounced, event 'bounced'
//               (kind, reason, diagnostic), address suppressed (bounced), lead bounced and every
//               running sequence of the lead stopped. Soft: the event only (kind soft).
//   complaint   (ARF) address suppressed (complained), event 'complained', lead unsubscribed and
//               every running sequence of the lead stopped.
//   warm-up     mail carrying a warm-up tag is left to the warm-up engine, untouched.
//   other       mail from anyone who is not a lead of this sender is left alone.
// Exactly once: each recorded message is entered in inbound_messages under its Message-ID (or a
// hash of its bytes) in the same transaction as its effects and its scan position, so a crash, two
// workers racing on one mailbox or a rescan never record a message twice. When a folder's
// UIDVALIDITY changes the folder is read again from the start; mail dated before the sender was
// added (less `date_skew`) is skipped as history, and the ledger skips what was already recorded.
// Failures: a login refused by the server is written to the sender's status_reason ("IMAP: ...",
// cleared once a login succeeds); the sender's status does not change and network trouble is only
// logged and kept in inbox_watch.last_error. A message that cannot be parsed or recorded is entered
// with outcome 'failed' and its error, and the scan moves on: one bad message never blocks a
// mailbox.
//
// Time comes only from the Clock. Thread-safety: an InboxWatcher is not thread-safe; run one per
// thread. Several watchers (threads or processes) may share one database.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/auth/secret_box.h"
#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/engine/worker.h"
#include "kiln/mail/inbox.h"
#include "kiln/store/db.h"

namespace kiln::engine {

// A sender's mailbox as the watcher loads it; what an InboxFactory gets to open the connection.
struct WatchedSender {
  int64_t id = 0;
  int64_t workspace_id = 0;
  std::string email;
  std::string imap_host;
  int imap_port = 993;
  std::string imap_security;  // tls, starttls, none
  std::string imap_username;
  std::string imap_secret_sealed;  // SecretBox, AAD "senders:<id>:imap_secret"
  std::string oauth_provider;      // "" for password login
  bool allow_self_signed = false;
  int64_t created_at = 0;  // Unix ms: mail dated well before this is history, not a reply
};

// Opens (without connecting) the Inbox of a sender. Failure: the mailbox cannot be used as
// configured (its secret cannot be unsealed, an unknown security setting); the message names the
// sender and the watcher shows it as the sender's status_reason.
using InboxFactory =
    std::function<Result<std::unique_ptr<mail::Inbox>>(const WatchedSender& sender)>;

// An InboxFactory of real IMAP connections (mail::ImapInbox), unsealing the IMAP password (or, for
// OAuth senders, the access token in oauth_secret, used with XOAUTH2) with `box`. The factory keeps
// references to `box` and `clock`.
InboxFactory ImapInboxFactory(const auth::SecretBox& box, const Clock& clock);

struct InboxWatcherOptions {
  std::string worker_id = "worker";
  Millis poll_interval{120'000};  // setting inbox_poll_seconds
  Millis lease{10 * 60'000};      // renewed between fetch batches of a long poll
  int max_senders_per_tick = 50;
  size_t fetch_batch = 200;  // messages fetched per IMAP round trip
  // Bodies of inbound mail are stored up to these sizes (cut at a UTF-8 boundary).
  size_t max_text_bytes = 256 * 1024;
  size_t max_html_bytes = 512 * 1024;
  // Mail dated more than this before the sender was added to Kiln is history: never a reply.
  Millis date_skew{60 * 60'000};
};

struct WatchStats {
  int senders_polled = 0;
  int mailbox_errors = 0;  // polls that could not log in or read a folder
  int messages_seen = 0;   // new messages read from the folders
  int replies = 0;
  int auto_replies = 0;
  int bounces = 0;  // hard and soft
  int complaints = 0;
  int ignored = 0;     // warm-up mail, history, mail that is not about one of our messages
  int duplicates = 0;  // already recorded (another worker, or a rescan)
  int failed = 0;      // could not be parsed or recorded: entered as 'failed', skipped
};

class InboxWatcher {
 public:
  InboxWatcher(store::Database& db, const Clock& clock, InboxFactory inboxes,
               InboxWatcherOptions options);
  ~InboxWatcher();
  InboxWatcher(const InboxWatcher&) = delete;
  InboxWatcher& operator=(const InboxWatcher&) = delete;

  // Polls every sender that is due and not leased elsewhere. Success: what the tick did (mailbox
  // problems are counted and listed in mailbox_errors(), not failures of the tick). Failure: the
  // database failed; the tick stopped there and the next one continues where the scan positions
  // were saved.
  Result<WatchStats> RunOnce();

  // Mailboxes that could not be read in the last tick and why ("sender3@kiln-a.test: IMAP: ...").
  const std::vector<std::string>& mailbox_errors() const { return mailbox_errors_; }

  // Gives up this worker's mailbox leases (the destructor does it too). Best effort.
  void ReleaseSenders();

 private:
  struct Poll;
  Status PollSender(const WatchedSender& sender, WatchStats& stats);
  Status PollFolder(Poll& poll, std::string_view folder, WatchStats& stats);

  store::Database& db_;
  const Clock& clock_;
  InboxFactory inboxes_;
  InboxWatcherOptions options_;
  std::vector<std::string> mailbox_errors_;
};

// Prefix of the sender status_reason the watcher sets (and clears once the mailbox works again).
inline constexpr std::string_view kImapReasonPrefix = "IMAP: ";

// Ticks `watcher` every `tick` until `stop`, logging failures (spdlog) and mailbox problems.
void RunInboxWatcher(InboxWatcher& watcher, Millis tick, WorkerStop& stop);

}  // namespace kiln::engine
