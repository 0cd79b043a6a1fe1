// Bounce classification: delivery failure reports, standard and not.
//
// Read, in order:
//   1. RFC 3464 delivery status notifications: a message/delivery-status (or
//      message/global-delivery-status) part, normally inside multipart/report;
//      report-type=delivery-status. One BouncedRecipient per recipient group with Action
//      "failed" or "delayed" (Final-Recipient, Action, Status, Diagnostic-Code, Remote-MTA).
//   2. The human-readable text of the common non-standard formats, recognised by their wording:
//      qmail ("This is the qmail-send program"), Exim ("This message was created automatically by
//      mail delivery software"), Postfix without DSN ("This is the mail system at host"), Sendmail
//      ("The following addresses had permanent fatal errors"), Courier ("running the Courier mail
//      server"), Microsoft Exchange / Office 365 ("Delivery has failed to these recipients",
//      "Your message to ... couldn't be delivered", "Remote Server returned '...'"), Gmail
//      ("Delivery Status Notification (Failure)", "Your message wasn't delivered to ..."),
//      Yahoo ("Sorry, we were unable to deliver your message"), and generic MAILER-DAEMON /
//      postmaster reports with an "Undelivered" / "Undeliverable" / "failure notice" subject.
// The reason comes from the enhanced status code (RFC 3463) and the diagnostic text together.
// `hard` is Kiln's suppression decision: a permanent failure that says the address itself is bad
// (user_unknown, domain_not_found, other permanent). A full mailbox, spam/policy/authentication
// blocks, rate limits, an oversize message and expiry are never hard: the address may be fine.
//
// Thread-safety: pure functions, safe to call concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/mail/incoming.h"

namespace kiln::mail {

enum class BounceReason {
  kUserUnknown,
  kMailboxFull,
  kDomainNotFound,
  kBlockedSpam,
  kPolicyAuth,  // SPF / DKIM / DMARC / sender authentication
  kRateLimited,
  kMessageTooLarge,
  kExpired,
  kOther,
};

// "user_unknown", "mailbox_full", ... "other".
std::string_view BounceReasonName(BounceReason reason);

struct BouncedRecipient {
  std::string recipient;   // addr-spec, lower-cased domain part kept as given; may be empty
  std::string status;      // enhanced status "5.1.1" when known, else the basic "550", else ""
  std::string action;      // "failed" / "delayed" (DSN) or "failed" (text formats)
  std::string diagnostic;  // the remote server's words, whitespace collapsed, at most 1000 bytes
  std::string remote_mta;  // when reported
  bool permanent = false;  // the server said permanent (5.x.x / 5xx / a permanent-error text)
  bool hard = false;       // Kiln's suppression decision (see the header comment)
  BounceReason reason = BounceReason::kOther;
};

struct BounceInfo {
  std::string format;  // "rfc3464", "qmail", "exim", "postfix", "sendmail", "courier",
                       // "exchange", "gmail", "yahoo", "generic"
  std::vector<BouncedRecipient> recipients;  // at least one
  std::string original_message_id;           // of the bounced message, when the report includes it
  std::string original_subject;
};

// The bounce report `msg` carries; nullopt when it is not a bounce.
std::optional<BounceInfo> DetectBounce(const IncomingMessage& msg);

// The reason for a status code ("5.1.1", "550" or "") and a diagnostic text.
BounceReason ClassifyBounceReason(std::string_view status, std::string_view diagnostic);

// Kiln's suppression decision for a permanent/temporary failure with `reason`.
bool IsHardBounce(bool permanent, BounceReason reason);

// The first enhanced status code ("5.1.1") in `text`, else "".
std::string FindEnhancedStatus(std::string_view text);

}  // namespace kiln::mail
