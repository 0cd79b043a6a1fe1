// OutgoingMessage and Envelope: the plain values that describe one email Kiln sends.
//
// An OutgoingMessage is what the engine fills in (from templates, the sender and the lead) and
// hands to ComposeMessage (mime_writer.h), which validates it and produces the RFC 5322 bytes.
// The Envelope is the SMTP-level sender and recipients (MAIL FROM / RCPT TO), which may differ
// from the header addresses (e.g. a VERP bounce address). Plain structs: no invariants are held
// here, validation happens when composing. Safe to copy across threads; not for concurrent
// mutation.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kiln/base/clock.h"

namespace kiln::mail {

// A mailbox: optional display name (UTF-8, no control characters) and an ASCII addr-spec
// "local@domain" (dot-atom local part; an IDN domain must be given in A-label "xn--" form).
struct Address {
  std::string name;
  std::string email;
};

struct OutgoingMessage {
  Address from;
  std::vector<Address> to;
  std::vector<Address> cc;
  std::optional<Address> reply_to;
  std::string subject;    // UTF-8; may be empty
  std::string html_body;  // UTF-8; empty when the message is text only
  std::string text_body;  // UTF-8; derived from html_body when empty and html_body is not
  // Without the angle brackets ("abc@example.com"); generated as <random@from-domain> when empty.
  std::string message_id;
  TimePoint date;  // goes into the Date: header
  // Threading for follow-up steps: Message-IDs without angle brackets. When `references` is empty
  // and `in_reply_to` is set, References is written as just `in_reply_to`.
  std::string in_reply_to;
  std::vector<std::string> references;
  // RFC 2369 / RFC 8058. When `list_unsubscribe_url` (https) is set, List-Unsubscribe-Post:
  // List-Unsubscribe=One-Click is added too.
  std::string list_unsubscribe_url;
  std::string list_unsubscribe_mailto;  // "unsub@example.com?subject=..." with or without "mailto:"
  // Additional headers in order, e.g. {"X-Kiln-Message", "m_123"}. Names must be RFC 5322 field
  // names and must not repeat a header the writer produces itself; values are UTF-8, unstructured.
  std::vector<std::pair<std::string, std::string>> extra_headers;
};

// The SMTP envelope of one message.
struct Envelope {
  std::string mail_from;  // reverse-path without <>; empty means the null sender <>
  std::vector<std::string> rcpt_to;
};

}  // namespace kiln::mail
