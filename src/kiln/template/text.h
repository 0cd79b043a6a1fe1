// Text functions behind the template filters: UTF-8 aware case mapping, truncation by code
// points, HTML escaping, URL encoding, whitespace trimming and word picking.
//
// Pure functions over bytes; thread-safe. Input need not be valid UTF-8: a byte that does not
// start a well-formed sequence counts as one character and is copied through unchanged, so no
// function here ever splits a well-formed sequence or fails.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kiln::tmpl {

// Appends `in` with letters upper- or lower-cased. Covers ASCII, Latin-1, Latin Extended-A,
// Greek and Cyrillic (the scripts of lead names in practice); 'ß' upper-cases to "SS" as in Ruby.
// Characters outside these ranges are copied unchanged.
void AppendUpcase(std::string_view in, std::string* out);
void AppendDowncase(std::string_view in, std::string* out);
// Liquid's capitalize (Ruby String#capitalize): the first character upper-cased, the rest
// lower-cased ("mcDONALD" -> "Mcdonald").
void AppendCapitalize(std::string_view in, std::string* out);

// Number of characters (code points; a stray byte counts as one).
size_t CodePointCount(std::string_view in);
// The longest prefix of `in` holding at most `n` characters; never ends inside a sequence.
std::string_view CodePointPrefix(std::string_view in, size_t n);
// Liquid's truncate: when `in` has more than `length` characters, keeps the first
// max(0, length - chars(ellipsis)) characters and appends `ellipsis`; otherwise `in` unchanged.
void AppendTruncate(std::string_view in, size_t length, std::string_view ellipsis,
                    std::string* out);

// Appends `in` with & < > " ' replaced by &amp; &lt; &gt; &quot; &#39; (Liquid's escape).
void AppendHtmlEscaped(std::string_view in, std::string* out);
// Appends `in` form-encoded like Liquid's url_encode (Ruby CGI.escape): A-Z a-z 0-9 _ . - ~
// kept, space as '+', every other byte as %XX (upper-case hex).
void AppendUrlEncoded(std::string_view in, std::string* out);

// Whitespace as Ruby's strip sees it: space, \t, \n, \v, \f, \r and NUL.
bool IsStripSpace(char c);
std::string_view Strip(std::string_view in);
std::string_view LeftStrip(std::string_view in);
std::string_view RightStrip(std::string_view in);
// The first / last run of non-whitespace characters ("" when there is none).
std::string_view FirstWord(std::string_view in);
std::string_view LastWord(std::string_view in);

// Byte offset of the first malformed UTF-8 sequence in `in` (overlongs, surrogates and code
// points above U+10FFFF are malformed), or std::string_view::npos when `in` is valid UTF-8.
size_t FindInvalidUtf8(std::string_view in);

}  // namespace kiln::tmpl
