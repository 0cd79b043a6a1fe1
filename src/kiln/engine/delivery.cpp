#include "kiln/engine/delivery.h"

#include <boost/asio/co_spawn.hpp>
#include <exception>
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

mail::SendResult SendBlocking(boost::asio::io_context& io, mail::Transport& transport,
                              const mail::Envelope& envelope, std::string_view data) {
  std::optional<mail::SendResult> result;
  std::exception_ptr error;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> { result = co_await transport.Send(envelope, data); },
      [&](std::exception_ptr e) { error = e; });
  io.restart();
  io.run();
  if (error || !result) {
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
    return r;
  }
  return std::move(*result);
}

Result<Delivery> DeliverMessage(Ledger& ledger, int64_t id, const ClaimDetails& details,
                                const mail::Envelope& envelope, std::string_view data,
                                mail::Transport& transport, boost::asio::io_context& io,
                                const domain::BackoffPolicy& backoff, domain::Rng& rng,
                                const Clock& clock) {
  Delivery d;
  KILN_ASSIGN_OR_RETURN(bool claimed, ledger.Claim(id, details));
  if (!claimed) return d;
  KILN_ASSIGN_OR_RETURN(MessageRecord claimed_record, ledger.Get(id));

  d.smtp = SendBlocking(io, transport, envelope, data);
  const SmtpOutcome outcome = OutcomeOf(d.smtp);
  using Class = mail::SendResult::Class;
  switch (d.smtp.cls) {
    case Class::kAccepted:
      KILN_RETURN_IF_ERROR(ledger.RecordSent(id, outcome));
      d.outcome = DeliveryOutcome::kSent;
      return d;
    case Class::kPermanent: {
      // A refused recipient is a bounce; a refused message (size, content) is a failure.
      const bool bounced =
          d.smtp.failure == mail::SmtpFailure::kRecipients ||
          (!d.smtp.recipients.empty() && d.smtp.recipients.front().cls == Class::kPermanent);
      KILN_RETURN_IF_ERROR(ledger.RecordFailed(id, outcome, bounced));
      d.outcome = bounced ? DeliveryOutcome::kBounced : DeliveryOutcome::kFailed;
      return d;
    }
    case Class::kTransient:
    case Class::kSenderProblem: {
      const bool sender_problem = d.smtp.cls == Class::kSenderProblem;
      if (!sender_problem && domain::RetriesExhausted(backoff, claimed_record.attempts)) {
        SmtpOutcome final_outcome = outcome;
        final_outcome.error = "gave up after " + std::to_string(claimed_record.attempts) +
                              " attempts: " + outcome.error;
        KILN_RETURN_IF_ERROR(ledger.RecordFailed(id, final_outcome, /*bounced=*/false));
        d.outcome = DeliveryOutcome::kFailed;
        return d;
      }
      const int64_t next =
          clock.NowMillis() + domain::BackoffDelay(backoff, claimed_record.attempts, rng);
      KILN_RETURN_IF_ERROR(ledger.RecordRetry(id, outcome, next));
      d.outcome = sender_problem ? DeliveryOutcome::kSenderProblem : DeliveryOutcome::kRetry;
      return d;
    }
  }
  std::abort();
}

}  // namespace kiln::engine
