// MIME writer: turns an OutgoingMessage into the RFC 5322 + MIME bytes handed to SMTP DATA.
//
// Output: CRLF line ends, every line <= 998 octets (folded to <= 78 where the syntax allows),
// 7-bit clean (RFC 2047 encoded-words in headers, quoted-printable UTF-8 bodies), no dot-stuffing
// (that is the SMTP client's job). With both an HTML and a text body (the text is derived from
// the HTML when not given) the body is multipart/alternative; a text-only message is a single
// text/plain part.
//
// Header injection: every value that goes into a header is validated; CR, LF, NUL and other
// control characters (except TAB in free text) are rejected with InvalidArgument naming the field
// ("subject", "to[1].name", "extra_headers[0].value"), never folded or stripped silently.
//
// Thread-safety: all functions are pure apart from drawing random bytes (OpenSSL RAND_bytes,
// thread-safe); safe to call concurrently.
#pragma once

#include <string>
#include <string_view>

#include "kiln/base/status.h"
#include "kiln/mail/message.h"

namespace kiln::mail {

struct ComposeOptions {
  // MIME boundary for multipart messages. Empty (the default) draws a random one that cannot occur
  // in quoted-printable content. A fixed boundary (golden tests) must be 1..70 RFC 2046 bchars and
  // must not occur in the encoded body, else InvalidArgument("boundary").
  std::string boundary;
  // Domain of a generated Message-ID; empty means the domain of from.email.
  std::string message_id_domain;
  // Wrap width (columns) of a text part derived from HTML.
  int derived_text_width = 76;
};

// Composes the complete message. Success: the bytes, CRLF line ends, ready for DATA.
// Failure: InvalidArgument naming the field for an invalid address ("to[0].email": no '@',
// spaces, quotes, > 254 octets...), a control character in a header value, invalid UTF-8 in a
// header value or a body ("html_body"), a malformed Message-ID or URL, an extra header that
// duplicates one the writer produces; TooLarge for a header value that cannot be written within
// 998-octet lines.
Result<std::string> ComposeMessage(const OutgoingMessage& message,
                                   const ComposeOptions& options = {});

// A fresh Message-ID without angle brackets: 9 characters of the current instant
// (SortableMillis: ids stored in an index land at its end), 26 random base32 characters (130
// bits), "@" `domain`. Set it in
// OutgoingMessage::message_id before composing when the caller needs to store the id (threading,
// reply matching). `domain` is used as given.
std::string GenerateMessageId(std::string_view domain);

// The default SMTP envelope: MAIL FROM from.email, RCPT TO every to and cc address in order.
Envelope DefaultEnvelope(const OutgoingMessage& message);

// Validation helpers, also used by the SMTP client for envelope addresses.
// OK when `email` is an ASCII addr-spec local@domain with a dot-atom local part (<= 64 octets),
// a domain of LDH labels (each 1..63 octets), total <= 254 octets; else InvalidArgument with
// `field` set and a message saying what is wrong.
Status ValidateEmailAddress(std::string_view email, std::string_view field);
// OK when `id` (without <>) is id-left "@" id-right, both dot-atom-text, <= 250 octets.
Status ValidateMessageId(std::string_view id, std::string_view field);

// RFC 5322 date-time of `t` in UTC: "Thu, 01 Jan 2026 00:00:00 +0000".
std::string FormatRfc5322Date(TimePoint t);

}  // namespace kiln::mail
