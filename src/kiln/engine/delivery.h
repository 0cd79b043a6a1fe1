// Delivery: claim -> send -> record for one message, the exactly-once core of the engine
// (docs/decisions/0004-exactly-once.md).
//
// DeliverMessage claims the message in a committed transaction, hands the composed bytes to the
// sender's Transport, and records the outcome in a second transaction. If the process dies after
// the claim, the message stays `sending` until its lease lapses and Ledger::ReapLapsed marks it
// `unknown`; it is never sent again automatically.
//
// Thread-safety: DeliverMessage may run concurrently for different messages; the Transport and
// io_context passed in must not be used by anyone else during the call.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <string_view>

#include "kiln/base/status.h"
#include "kiln/domain/random.h"
#include "kiln/domain/rotation.h"
#include "kiln/engine/ledger.h"
#include "kiln/mail/message.h"
#include "kiln/mail/transport.h"

namespace kiln::engine {

enum class DeliveryOutcome {
  kNotClaimed,     // someone else holds or settled the message: nothing was sent
  kSent,           // the server accepted it; recorded `sent`
  kRetry,          // transient failure; recorded `retry` with the next attempt time
  kFailed,         // transient failures exhausted the retries, or the message itself was refused
  kBounced,        // the recipient was refused permanently; recorded `bounced`
  kSenderProblem,  // the sender's account or settings failed; the message waits as `retry`
};
std::string_view DeliveryOutcomeName(DeliveryOutcome o);

struct Delivery {
  DeliveryOutcome outcome = DeliveryOutcome::kNotClaimed;
  mail::SendResult smtp;  // what the Transport answered (empty for kNotClaimed)
};

// Runs transport.Send on `io` until it completes and returns its result.
mail::SendResult SendBlocking(boost::asio::io_context& io, mail::Transport& transport,
                              const mail::Envelope& envelope, std::string_view data);

// Claims message `id` with `details`, sends `data` through `transport` when the claim is won, and
// records the outcome. Transient failures (and sender problems) are retried after
// domain::BackoffDelay(backoff, attempt) until backoff.max_attempts, then recorded `failed`.
// Returns the outcome; fails only when the database fails. A failure after the send (recording)
// leaves the claim in place, to be reaped as `unknown`: the message is never sent twice.
Result<Delivery> DeliverMessage(Ledger& ledger, int64_t id, const ClaimDetails& details,
                                const mail::Envelope& envelope, std::string_view data,
                                mail::Transport& transport, boost::asio::io_context& io,
                                const domain::BackoffPolicy& backoff, domain::Rng& rng,
                                const Clock& clock);

}  // namespace kiln::engine
