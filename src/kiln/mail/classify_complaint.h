// Complaint (feedback loop) reports: RFC 5965 Abuse Reporting Format.
//
// An ARF report is a multipart/report with report-type=feedback-report holding a human-readable
// part, a message/feedback-report part (Feedback-Type, User-Agent, Version, Original-Mail-From,
// Original-Rcpt-To, Arrival-Date, Reported-Domain, Source-IP…) and the original message
// (message/rfc822) or its headers (text/rfc822-headers). Providers often redact the recipient:
// then the original message's To, or the engine's Message-ID lookup, identifies it.
//
// Thread-safety: pure functions, safe to call concurrently.
#pragma once

#include <optional>
#include <string>

#include "kiln/mail/incoming.h"

namespace kiln::mail {

struct ComplaintInfo {
  std::string feedback_type;        // lower-case: "abuse", "fraud", "virus", "not-spam", "other"…
  std::string user_agent;           // the reporter's software, e.g. "Yahoo!-Mail-Feedback/2.0"
  std::string original_recipient;   // Original-Rcpt-To, else the original To; may be redacted/empty
  std::string original_mail_from;   // Original-Mail-From
  std::string original_message_id;  // Message-ID of the reported message, without brackets
  std::string reported_domain;
  std::string source_ip;
};

// The complaint `msg` carries; nullopt when it is not an ARF report.
std::optional<ComplaintInfo> DetectComplaint(const IncomingMessage& msg);

}  // namespace kiln::mail
