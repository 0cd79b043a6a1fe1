// Warm-up content: natural-looking warm-up mail generated from a template corpus with spintax and
// variation (never one fixed text), each carrying the discreet Kiln warm-up tag
// (mail/classify_warmup.h: the X-Kiln-Warmup header, set by whoever builds the OutgoingMessage,
// and the body tag kw-<token>, placed here), and replies that quote the original.
//
// Everything is deterministic in `seed`, so a retry or a re-render produces the same text.
// Thread-safety: pure functions over immutable data; safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kiln/base/clock.h"
#include "kiln/domain/random.h"

namespace kiln::warmup {

struct WarmupContent {
  std::string subject;    // UTF-8, one line
  std::string text_body;  // UTF-8; carries "kw-<token>" as a standalone word
  std::string html_body;  // the same content as simple HTML (also carrying the tag)
};

// Who writes to whom, for greetings and sign-offs (display names; may be empty).
struct ContentPeople {
  std::string from_name;
  std::string to_name;
};

// A fresh 20-character [a-z0-9] warm-up token (mail::IsValidWarmupToken holds for it): 9
// characters of `now_ms` (SortableMillis: tokens stored in warmup_messages' token index land at
// its end) and 11 random ones (55 bits within the millisecond).
std::string NewWarmupToken(domain::Rng& rng, int64_t now_ms);

// How many messages a warm-up thread with this token runs to: 2, 3 or 4, fixed by the token so
// both sides of the thread (sender and bot) agree without talking. Exchange numbers count from 1
// (the first mail); the side holding exchange n answers only while n < ThreadTargetExchanges.
int ThreadTargetExchanges(std::string_view token);

// The first mail of a new thread.
WarmupContent NewThreadContent(uint64_t seed, const ContentPeople& people, std::string_view token);

// The reply to a mail: "Re: <subject>" (no doubled "Re:"), a short answer, then the original
// quoted ("On <date>, <from> wrote:" and "> " lines), carrying the thread's tag.
struct Original {
  std::string subject;
  std::string text_body;
  std::string from;  // display form, e.g. "Ann Lee <ann@example.com>"
  TimePoint date;
};
WarmupContent ReplyContent(uint64_t seed, const ContentPeople& people, std::string_view token,
                           const Original& original);

}  // namespace kiln::warmup
