// Delivery: claim -> send -> record for one message, the exactly-once core of the engine
// (docs/decisions/0004-exactly-once.md).
//
// DeliverMessage claims the message in a committed transaction, hands the composed bytes to the
// sender's Transport, and records the outcome in a second transaction. If the process dies after
// the claim, the message stays `sending` until its lease lapses and Ledger::ReapLapsed marks it
// `unknown`; it is never sent again automatically. RecordDelivery is its last part on its own,
// for callers that claim and send themselves (the Scheduler claims with Ledger::ScheduleAndClaim
// and keeps several senders' exchanges in flight, docs/decisions/0010-concurrent-sends.md).
//
// Thread-safety: DeliverMessage and RecordDelivery may run concurrently for different messages;
// the Transport and io_context passed in must not be used by anyone else during the call.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <optional>
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
  mail::SendResult smtp;                   // what the Transport answered (empty for kNotClaimed)
  std::optional<int64_t> next_attempt_at;  // kRetry and kSenderProblem: when it may go again
};

// Writes that follow from a delivery's outcome (the lead's next step, a suppression), committed in
// the same transaction as the outcome itself.
// `also` sees the Delivery as it will be returned (outcome, answer, next attempt time).
using OutcomeWrites = std::function<Status(store::Tx&, const Delivery&)>;

// Records what the server answered (`smtp`) to this worker's claim on message `id`, made for
// attempt number `attempts` (1 for the first), with `also` in the same transaction: accepted ->
// `sent`; a refused recipient -> `bounced`; a refused message -> `failed`; transient failures and
// sender problems -> `retry` after domain::BackoffDelay(backoff, attempts), or `failed` once
// transient failures exhausted backoff.max_attempts. Returns the outcome; fails when the database
// (or `also`) fails, and then nothing was written: the claim stays, to be reaped as `unknown`.
Result<Delivery> RecordDelivery(Ledger& ledger, int64_t id, int attempts, mail::SendResult smtp,
                                const domain::BackoffPolicy& backoff, domain::Rng& rng,
                                const Clock& clock, const OutcomeWrites& also = nullptr);

// Starts transport.Send on `executor` and returns at once; `done` runs on the executor with the
// result (a transport that throws, breaking its promise, gives a transient failure naming the
// exception: the message may have reached the server). `transport`, `envelope` and `data` must
// stay alive and untouched until `done` has run.
void StartSend(boost::asio::any_io_executor executor, mail::Transport& transport,
               const mail::Envelope& envelope, std::string_view data,
               std::function<void(mail::SendResult)> done);

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
