// WarmupSource: what the queue manager (engine/scheduler.h) asks the warm-up network for.
//
// The queue manager owns each sender's day: its daily budget (domain/quota.h SenderAllowance: in
// warm-up the plan's ramp volume, all of it warm-up mail; afterwards the daily quota with the
// campaigns' share mixed to warm-up inboxes), the order of cold and warm-up sends
// (domain::NextSendKind), pacing, the sender's lease and its SMTP transport. The warm-up network
// (src/kiln/warmup/) owns who receives warm-up mail (pairing with bots and peer senders from the
// interaction history, within every bot's limits), what it says (content, threads of a few
// exchanges, the warm-up tag) and the warmup_messages rows.
//
// Flow for one warm-up send, driven by the queue manager when the sender's next send is warm-up:
//   1. Next(sender, now) picks the counterpart, writes a warmup_messages row in status `sending`
//      (claimed before any SMTP: a crash leaves it `sending`, later reported `unknown`, never
//      resent) and returns the composed message;
//   2. the queue manager DKIM-signs and sends it through the sender's transport;
//   3. Record(id, result, now) settles the row (sent / failed) and the interaction history.
// Next returns nullopt when nothing can be sent now (no counterpart has room today); the queue
// manager then spends the slot on cold mail if any is due.
//
// Thread-safety: an implementation is used by one scheduler (one thread) at a time; several
// processes may run their own instances over one database.
#pragma once

#include <cstdint>
#include <optional>

#include "kiln/base/status.h"
#include "kiln/mail/message.h"
#include "kiln/mail/transport.h"

namespace kiln::engine {

struct SenderInfo;

struct WarmupMessage {
  int64_t warmup_message_id = 0;  // warmup_messages.id, already in status `sending`
  mail::OutgoingMessage message;  // complete: from = the sender, to = the counterpart, Message-ID,
                                  // threading, X-Kiln-Warmup tag; never a List-Unsubscribe
};

class WarmupSource {
 public:
  virtual ~WarmupSource() = default;

  // The next warm-up message `sender` should send now, claimed (see above). nullopt: no
  // counterpart can take one now. Failure: the database failed.
  virtual Result<std::optional<WarmupMessage>> Next(const SenderInfo& sender, int64_t now_ms) = 0;

  // Settles a message Next returned: `sent` when result.ok(), else `failed` with the reason.
  // Failure: the database failed (the row stays `sending`, to be reported `unknown`).
  virtual Status Record(int64_t warmup_message_id, const mail::SendResult& result,
                        int64_t now_ms) = 0;
};

}  // namespace kiln::engine
