// HtmlToText: the text/plain alternative of an HTML email body.
//
// A tolerant, single-pass converter meant for the HTML that email templates contain, not a full
// HTML5 parser: block elements (p, div, h1-h6, table rows, blockquote, pre, hr...) become line
// breaks and blank lines; <br> a line break; links "text (url)" (just the url when the text is the
// url; in-page "#" and "javascript:" links keep only their text); <img> its alt text; ul/ol items
// "- item" / "1. item", nested lists indented; script, style, head, title and comments dropped;
// character references (named, decimal, hex) decoded; whitespace collapsed outside <pre>; lines
// wrapped at word boundaries to the given width (a longer word, e.g. a URL, stays whole).
//
// Thread-safety: a pure function; safe to call concurrently.
#pragma once

#include <string>
#include <string_view>

namespace kiln::mail {

struct HtmlToTextOptions {
  int width = 76;  // wrap column in code points; <= 0 disables wrapping
};

// Converts `html` (UTF-8) to plain text with "\n" line ends, ending in one "\n" unless empty.
// Never fails: malformed markup is read leniently; invalid UTF-8 passes through unchanged
// (callers validate UTF-8 first). Character references to invalid code points (0, surrogates,
// > 0x10FFFF) become U+FFFD.
std::string HtmlToText(std::string_view html, const HtmlToTextOptions& options = {});

}  // namespace kiln::mail
