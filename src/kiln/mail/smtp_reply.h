// SmtpReply and ParseSmtpReply: the reply grammar of RFC 5321 section 4.2 with RFC 3463 enhanced
// status codes ("250-PIPELINING\r\n250 SIZE 1000\r\n", "550 5.1.1 <x@y>: User unknown\r\n").
//
// ParseSmtpReply is a pure function over bytes (fuzzed by fuzz/fuzz_smtp_reply.cpp): it never reads
// past its input, never throws and bounds what it accepts. Thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/status.h"

namespace kiln::mail {

inline constexpr size_t kMaxSmtpReplyLine = 4096;   // RFC 5321 says 512; servers exceed it
inline constexpr size_t kMaxSmtpReplyLines = 1000;  // an EHLO reply has a few dozen at most

struct SmtpReply {
  int code = 0;          // 200..599
  std::string enhanced;  // "5.1.1" when the server sent one (on the first line), else empty
  // The text of each line, without the code, separator and (when present) the enhanced code.
  std::vector<std::string> lines;

  // The lines joined by single spaces: "<x@y>: Recipient address rejected: User unknown".
  std::string Text() const;
  // "550 5.1.1 <x@y>: Recipient address rejected: User unknown" (one line, for logs and reasons).
  std::string ToString() const;
  bool Positive() const { return code >= 200 && code < 400; }
  bool Transient() const { return code >= 400 && code < 500; }
  bool Permanent() const { return code >= 500; }
};

struct ParsedSmtpReply {
  SmtpReply reply;
  size_t consumed = 0;  // bytes of the input that made up this reply (including the final CRLF)
};

// Parses the one reply at the start of `input`.
// Returns the reply and its length when `input` holds a complete reply; std::nullopt when it is a
// valid prefix that needs more bytes; InvalidArgument naming the offending line for malformed input
// (not "NNN" + ' '/'-', a code outside 200..599, codes that differ between lines, a line longer
// than kMaxSmtpReplyLine or more than kMaxSmtpReplyLines lines). Lines end in CRLF; a bare LF is
// accepted too.
Result<std::optional<ParsedSmtpReply>> ParseSmtpReply(std::string_view input);

// Returns the enhanced status code ("5.7.8") at the start of `text` when the first digit matches
// `code`'s class, else empty.
std::string ExtractEnhancedCode(std::string_view text, int code);

}  // namespace kiln::mail
