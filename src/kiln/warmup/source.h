// DbWarmupSource: the warm-up network's sending side over the database — what a sender's next
// warm-up mail is, claimed in warmup_messages before any SMTP (engine/warmup_source.h).
//
// Next(sender, now) looks, in this order, for
//   (a) an answer the sender owes as a peer: a 'back' row with peer_sender_id = the sender,
//       'scheduled' and due (the receiving side, bot_runner.h, wrote it with its bodies);
//   (b) the sender's own next mail in a thread its counterpart answered: an 'out' row of the
//       sender, 'scheduled' and due (also written by the receiving side while the thread's
//       exchange < ThreadTargetExchanges(token)), within the counterpart's room today as in (c)
//       (what it may receive; counted under its row lock): without room it is postponed to the
//       counterpart's next day (warmup.postpone) and the sender goes on to the next of (a)-(c);
//   (c) a new thread: the counterpart pairing.h picks among the workspace's active bots and its
//       other active senders with warm-up on, each within its room today on its own calendar
//       (a bot: min(BotDailyVolume, daily_receive_limit) received, and its replies sent or owed
//       below its send volume; a peer: its own warm-up volume), content from content.h.
// The row is claimed ('sending', with its Message-ID) in a committed transaction, then the
// composed message is returned: From the sending mailbox, To the counterpart, a Message-ID on the
// sender's domain, In-Reply-To/References for answers, X-Kiln-Warmup: <token>, never a
// List-Unsubscribe. Record settles it; LapseClaims turns claims caught mid-send by a crash into
// 'unknown' (never resent), as the queue manager does for cold mail. Next runs LapseClaims itself
// at most once per lapse_check_interval of `now`, so a queue manager that only knows the
// WarmupSource interface still gets lapsed claims reported.
//
// Pairing's history of a sender for (c) is its latest options.pairing_history sent warm-up mails
// (one index range, newest first), not every mail it ever sent.
//
// The candidates of (c) — every active bot and warm-up peer of the workspace with its room today —
// are kept per workspace in the pairing pool, so a new thread costs its own pick rather than a
// read of the whole workspace. Every room is counted from the day's rows when a counterpart's day
// turns and when `now` goes back. Past options.candidates_refresh the candidates are read again
// when the workspace's bots or senders changed (their count or latest updated_at, looked at
// after one new thread per 16 candidates), or else once this source has started one new thread
// per 4 candidates since the last read (so both, linear in the workspace, cost each thread a
// bounded share);
// new candidates and those whose limits changed are then counted on their own, the others keep
// their rooms. In between the rooms are kept by this source's own claims. The pool is only a
// hint: the counterpart a pick names is locked, read (status, limits now) and counted again from
// the rows before anything is claimed, so mail claimed by other processes, replies a bot owes, a
// paused counterpart and a lowered limit are never overrun; a new bot or peer or a raised limit
// waits for the next read, room freed by a failed send for the next day.
//
// Thread-safety: one instance is used by one scheduler thread at a time (WarmupSource's contract);
// several processes may run their own over one database (a bot's or peer's last room is taken
// under a row lock, so concurrent senders cannot exceed it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/domain/tz.h"
#include "kiln/engine/warmup_source.h"
#include "kiln/store/db.h"
#include "kiln/warmup/pairing.h"

namespace kiln::warmup {

struct WarmupSourceOptions {
  PairingOptions pairing;               // warmup_peer_share_percent
  Millis claim_lapse{900'000};          // a 'sending' row older than this was caught by a crash
  uint64_t seed = 1;                    // pairing draws and content; mixed with row and sender ids
  Millis lapse_check_interval{60'000};  // how often Next looks for lapsed claims
  Millis candidates_refresh{300'000};   // the least time a workspace's candidates are kept
  // How many of a sender's latest sent warm-up mails pairing's history holds (at least 1): a
  // counterpart met only before them counts as not met lately. Bounds what a new thread reads
  // whatever the sender's days of warm-up behind it; pairing goes round its rings from the
  // latest contact, so every candidate still comes in turn.
  int pairing_history = 128;
};

class DbWarmupSource final : public engine::WarmupSource {
 public:
  // `db` and `zones` must outlive the source. `zones` resolves the counterparts' time zones (an
  // unknown zone counts as UTC, logged).
  DbWarmupSource(store::Database& db, domain::TimeZoneDatabase& zones,
                 WarmupSourceOptions options = {});
  ~DbWarmupSource() override;

  // See the file comment. nullopt: nothing owed is due and no counterpart has room today.
  // Failure: the database failed (nothing was claimed).
  Result<std::optional<engine::WarmupMessage>> Next(const engine::SenderInfo& sender,
                                                    int64_t now_ms) override;

  // Settles a row Next returned: 'sent' (sent_at, the SMTP code and text; its parent's
  // replied_at) when result.ok(), else 'failed' with result.reason. A row reported 'unknown'
  // meanwhile is settled too. Failure: NotFound when the row is not an open claim of a sender's
  // warm-up mail (unknown id, already settled, a bot's reply); the database failed.
  Status Record(int64_t warmup_message_id, const mail::SendResult& result, int64_t now_ms) override;

  // Marks every sender-sent claim older than options.claim_lapse 'unknown'. Success: how many.
  // Failure: the database failed.
  Result<int> LapseClaims(int64_t now_ms);

 private:
  store::Database& db_;
  domain::TimeZoneDatabase& zones_;
  WarmupSourceOptions options_;
  std::optional<int64_t> last_lapse_check_ms_;
  struct Workspace;  // its candidates, their limits and rooms (source.cpp)
  std::unordered_map<int64_t, std::unique_ptr<Workspace>> workspaces_;
};

}  // namespace kiln::warmup
