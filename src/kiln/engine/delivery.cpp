#include "kiln/engine/delivery.h"

#include <boost/asio/co_spawn.hpp>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

namespace kiln::engine {
namespace {

SmtpOutcome OutcomeOf(const mail::SendResult& r) {
  SmtpOutcome o;
  o.code = r.code;
  o.enhanced = r.enhanced;
  o.response = r.text;
  if (!r.ok()) o.error = r.reason.empty() ? std::string(mail::SendClassName(r.cls)) : r.reason;
  return o;
}

}  // namespace

std::string_view DeliveryOutcomeName(DeliveryOutcome o) {
  switch (o) {
    case DeliveryOutcome::kNotClaimed:
      return "not_claimed";
    case DeliveryOutcome::kSent:
      return "sent";
    case DeliveryOutcome::kRetry:
      return "retry";
    case DeliveryOutcome::kFailed:
      return "failed";
    case DeliveryOutcome::kBounced:
      return "bounced";
    case DeliveryOutcome::kSenderProblem:
      return "sender_problem";
  }
  std::abort();
}

void StartSend(boost::asio::any_io_executor executor, mail::Transport& transport,
               const mail::Envelope& envelope, std::string_view data,
               std::function<void(mail::SendResult)> done) {
  // The result lives in the coroutine's frame owner below until the completion handler runs.
  auto result = std::make_shared<std::optional<mail::SendResult>>();
  boost::asio::co_spawn(
      std::move(executor),
      [&transport, &envelope, data, result]() -> boost::asio::awaitable<void> {
        *result = co_await transport.Send(envelope, data);
      },
      [result, done = std::move(done)](std::exception_ptr error) {
        if (!error && *result) {
          done(std::move(**result));
          return;
        }
        // Transports promise not to throw; a throw is a transport bug, but the message may have
        // reached the server, so report it as a transient failure with the reason.
        mail::SendResult r;
        r.cls = mail::SendResult::Class::kTransient;
        r.failure = mail::SmtpFailure::kNetwork;
        try {
          if (error) std::rethrow_exception(error);
          r.reason = "transport finished without a result";
        } catch (const std::exception& e) {
          r.reason = std::string("transport threw: ") + e.what();
        }
        done(std::move(r));
      });
}

mail::SendResult SendBlocking(boost::asio::io_context& io, mail::Transport& transport,
                              const mail::Envelope& envelope, std::string_view data) {
  std::optional<mail::SendResult> result;
  StartSend(io.get_executor(), transport, envelope, data,
            [&result](mail::SendResult r) { result = std::move(r); });
  io.restart();
  io.run();
  if (!result) std::abort();  // io.run() returns only once the send's handler has run
  return std::move(*result);
}

Result<Delivery> RecordDelivery(Ledger& ledger, int64_t id, int attempts, mail::SendResult smtp,
                                const domain::BackoffPolicy& backoff, domain::Rng& rng,
                                const Clock& clock, const OutcomeWrites& also) {
  Delivery d;
  d.smtp = std::move(smtp);
  const SmtpOutcome outcome = OutcomeOf(d.smtp);
  auto with = [&](DeliveryOutcome o) -> RecordAlso {
    d.outcome = o;
    if (!also) return nullptr;
    return [&also, &d](store::Tx& tx) { return also(tx, d); };
  };
  using Class = mail::SendResult::Class;
  switch (d.smtp.cls) {
    case Class::kAccepted:
      KILN_RETURN_IF_ERROR(ledger.RecordSent(id, outcome, with(DeliveryOutcome::kSent)));
      return d;
    case Class::kPermanent: {
      // A refused recipient is a bounce; a refused message (size, content) is a failure.
      const bool bounced =
          d.smtp.failure == mail::SmtpFailure::kRecipients ||
          (!d.smtp.recipients.empty() && d.smtp.recipients.front().cls == Class::kPermanent);
      KILN_RETURN_IF_ERROR(ledger.RecordFailed(
          id, outcome, bounced,
          with(bounced ? DeliveryOutcome::kBounced : DeliveryOutcome::kFailed)));
      return d;
    }
    case Class::kTransient:
    case Class::kSenderProblem: {
      const bool sender_problem = d.smtp.cls == Class::kSenderProblem;
      if (!sender_problem && domain::RetriesExhausted(backoff, attempts)) {
        SmtpOutcome final_outcome = outcome;
        final_outcome.error =
            "gave up after " + std::to_string(attempts) + " attempts: " + outcome.error;
        KILN_RETURN_IF_ERROR(ledger.RecordFailed(id, final_outcome, /*bounced=*/false,
                                                 with(DeliveryOutcome::kFailed)));
        return d;
      }
      d.next_attempt_at = clock.NowMillis() + domain::BackoffDelay(backoff, attempts, rng);
      KILN_RETURN_IF_ERROR(ledger.RecordRetry(
          id, outcome, *d.next_attempt_at,
          with(sender_problem ? DeliveryOutcome::kSenderProblem : DeliveryOutcome::kRetry)));
      return d;
    }
  }
  std::abort();
}

Result<Delivery> DeliverMessage(Ledger& ledger, int64_t id, const ClaimDetails& details,
                                const mail::Envelope& envelope, std::string_view data,
                                mail::Transport& transport, boost::asio::io_context& io,
                                const domain::BackoffPolicy& backoff, domain::Rng& rng,
                                const Clock& clock) {
  KILN_ASSIGN_OR_RETURN(bool claimed, ledger.Claim(id, details));
  if (!claimed) return Delivery();
  KILN_ASSIGN_OR_RETURN(MessageRecord claimed_record, ledger.Get(id));
  return RecordDelivery(ledger, id, claimed_record.attempts,
                        SendBlocking(io, transport, envelope, data), backoff, rng, clock);
}

}  // namespace kiln::engine
