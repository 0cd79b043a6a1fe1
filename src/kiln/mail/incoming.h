// IncomingMessage: one received email, parsed into the plain values the classifiers and the engine
// read (decoded headers, addresses, threading ids, a text body, the MIME leaf parts).
//
// ParseIncoming is the only entry point for untrusted mail bytes. It uses vmime behind this
// interface, catches everything vmime throws, and enforces ParseLimits before vmime sees the input
// so that hostile messages cannot exhaust memory or stack: the raw size is capped, every decoded
// part text is capped, and a message whose MIME structure is too deep or has too many parts is
// read "flat" (headers plus the undecoded body as text, `structure_truncated` set) rather than
// rejected, so that the classifiers still see its headers.
//
// Thread-safety: ParseIncoming and ParseHeaderBlock are pure functions, safe to call concurrently.
// IncomingMessage is a plain value: safe to copy across threads, not for concurrent mutation.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/mail/message.h"

namespace kiln::mail {

// Orders header names case-insensitively (ASCII), as RFC 5322 compares them.
struct HeaderNameLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const;
};

// Header fields by name; values are unfolded, RFC 2047-decoded and UTF-8. Fields with the same
// name keep their order in the message (std::multimap keeps insertion order among equal keys).
using HeaderMap = std::multimap<std::string, std::string, HeaderNameLess>;

// The first value of `name`, if present.
std::optional<std::string> FirstHeader(const HeaderMap& headers, std::string_view name);

// One MIME leaf part (multipart containers are walked, not listed).
struct IncomingPart {
  std::string content_type;  // lower-case "type/subtype"; "text/plain" when absent
  std::string charset;       // lower-case; empty when not given
  std::string disposition;   // lower-case "attachment" / "inline" / "" when absent
  std::string filename;      // from Content-Disposition filename or Content-Type name
  int depth = 0;             // 0 for a single-part message, 1 for a part of the top multipart...
  size_t decoded_size = 0;   // size after transfer decoding (before the text cap)
  // The decoded content as UTF-8 text for text/*, message/* and text/rfc822-headers parts (a
  // message/rfc822 part holds the raw attached message); empty for other (binary) types.
  std::string text;
  bool text_truncated = false;  // `text` was cut at ParseLimits::max_part_text_bytes
};

struct IncomingMessage {
  HeaderMap headers;        // every top-level header field, decoded
  Address from;             // first From mailbox; email empty if none parsed
  std::vector<Address> to;  // To mailboxes (groups flattened)
  std::vector<Address> cc;  // Cc mailboxes
  std::optional<Address> reply_to;
  std::string return_path;            // Return-Path addr-spec without brackets; "" for "<>" or none
  bool has_null_return_path = false;  // Return-Path: <> (a bounce or another auto-generated mail)
  std::string subject;                // RFC 2047-decoded, unfolded, UTF-8
  std::string message_id;             // without angle brackets; "" when absent
  std::string in_reply_to;            // first id of In-Reply-To, without angle brackets
  std::vector<std::string> references;  // References ids in order, without angle brackets
  std::optional<TimePoint> date;        // Date header when it parses
  std::string content_type;             // top-level lower-case "type/subtype"
  std::string report_type;              // lower-case report-type parameter of a multipart/report
  std::string text_body;                // from the first text/plain part, else derived from HTML
  bool text_body_from_html = false;
  size_t raw_size = 0;               // bytes of the raw message as received
  std::vector<IncomingPart> parts;   // leaf parts in document order
  bool structure_truncated = false;  // the MIME structure exceeded the limits and was read flat
};

struct ParseLimits {
  size_t max_bytes = 40u << 20;           // larger messages are refused (TooLarge)
  size_t max_header_fields = 2000;        // extra top-level fields are dropped
  size_t max_part_text_bytes = 1u << 20;  // each part's decoded text is cut here
  size_t max_parts = 512;                 // lines starting with "--": a bound on MIME parts
  size_t max_multiparts = 64;             // "boundary=" declarations: a bound on nesting
  int max_depth = 16;                     // parts deeper than this are not listed
};

// Parses `raw` (an RFC 5322 message as fetched, CRLF or LF line ends).
// Success: the parsed message (never fails on malformed syntax: missing or garbled fields are left
// empty, invalid charsets fall back to replacing bad bytes; every decoded string is valid UTF-8
// without NUL, which becomes U+FFFD like any bad byte). Failure: TooLarge when `raw` exceeds
// limits.max_bytes; InvalidArgument when `raw` is empty. Never throws.
Result<IncomingMessage> ParseIncoming(std::string_view raw, const ParseLimits& limits = {});

// Parses a block of header fields (e.g. the contents of a message/delivery-status group or of a
// text/rfc822-headers part): unfolds continuation lines, stops at the first empty line, and
// RFC 2047-decodes the values when `decode` is set. At most `max_fields` fields are kept.
HeaderMap ParseHeaderBlock(std::string_view block, bool decode = true, size_t max_fields = 2000);

// Strips surrounding whitespace and one pair of angle brackets from a message id.
std::string NormalizeMessageId(std::string_view id);

// All "<...>" message ids of an In-Reply-To or References value, in order, without brackets.
// Ids without brackets separated by whitespace (seen from broken clients) are accepted too.
std::vector<std::string> ParseMessageIdList(std::string_view value);

// Lower-cases ASCII letters.
std::string AsciiLower(std::string_view s);

}  // namespace kiln::mail
