// Small encoding helpers shared by the MIME writer and the DKIM signer: UTF-8 validation,
// base64 and quoted-printable encoders that append to an output string (no temporaries).
// Pure functions; safe to call concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kiln::mail {

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points > U+10FFFF).
bool IsValidUtf8(std::string_view s);

// True when every byte of `s` is 7-bit (< 0x80).
bool IsAscii(std::string_view s);

// The index of the first CR or LF in `s` at or after `from`, or s.size() when there is none.
size_t FindLineBreak(std::string_view s, size_t from);

// Length of the UTF-8 sequence starting at s[i] (1 for an invalid lead byte), clamped to the end.
size_t Utf8SequenceLength(std::string_view s, size_t i);

// Appends the standard base64 (RFC 4648 §4, with padding, no line breaks) of `data`.
void AppendBase64(std::string& out, std::string_view data);

// Appends `text` quoted-printable encoded (RFC 2045 §6.7): every line break (CRLF, LF or CR)
// becomes a CRLF hard break, encoded lines are at most 76 characters (soft breaks "=" CRLF),
// whitespace before a line end and every byte outside printable ASCII is encoded as =XX.
void AppendQuotedPrintable(std::string& out, std::string_view text);

}  // namespace kiln::mail
