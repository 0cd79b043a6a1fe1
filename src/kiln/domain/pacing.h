// Pacing: when a sender's next send may go, human-like rather than in bursts, and the
// per-recipient-domain cap ("at most N to gmail.com per hour from one sender").
//
// Randomness comes from a caller-owned Rng (random.h), so a seed reproduces every gap.
// Instants are Unix milliseconds UTC. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "kiln/base/status.h"
#include "kiln/domain/random.h"

namespace kiln::domain {

struct PacingRule {
  int64_t min_gap_ms = 2 * 60'000;  // never two sends of one sender closer than this
  int jitter_percent = 40;          // how far a gap may randomly stray from the even spacing
};

// OK when min_gap_ms >= 0 and jitter_percent is in [0, 100].
Status ValidatePacingRule(const PacingRule& rule);

struct PacingState {
  int64_t now_ms = 0;
  std::optional<int64_t> last_send_ms;  // the sender's previous send, if any
  int64_t horizon_ms = 0;               // today's remaining sends should be done by then
  int remaining = 0;                    // sends left today
  // Where today's sending began (the day's start); nullopt: unknown. A previous send before it
  // belongs to an earlier day: today is spaced as if nothing had been sent yet, and only the
  // minimum gap after that send still holds (spread from it, a quota of 1 with no jitter would put
  // each day's send at the day's end, then past it, and never send).
  std::optional<int64_t> window_start_ms;
};

// When the sender's next send should go (kNoEndMillis when remaining <= 0).
//
// With a previous send: the even spacing of what is left is even = (horizon - last) /
// (remaining + 1) (the remaining sends and the tail after the last one: the horizon itself belongs
// to the next day); the gap is drawn uniformly from [even * (1 - jitter), even * (1 + jitter)],
// but never below min_gap and never so long that the other remaining - 1 sends would no longer
// fit before the horizon at min_gap apart; the result is max(now, last + gap). So the sends spread
// evenly over the time left (no drift towards either end), no two are ever closer than min_gap,
// and the quota is reached before the horizon whenever remaining * min_gap fits before it (with
// no jitter, a quota of Q over a day is Q sends that day, not Q - 1 and one at the next day's
// first instant). Without a previous send
// (first send of the day, or the previous one came before window_start): now plus a random delay
// in [0, even * jitter], so that many senders do not all start at the window's opening, and at
// least min_gap after an earlier day's last send.
int64_t NextSendTime(const PacingRule& rule, const PacingState& state, Rng& rng);

struct DomainCapRule {
  int max_per_window = 20;        // sends from one sender to one recipient domain ...
  int64_t window_ms = 3'600'000;  // ... in any rolling window this long
};

// OK when max_per_window >= 1 and window_ms >= 1.
Status ValidateDomainCapRule(const DomainCapRule& rule);

struct DomainCapDecision {
  bool allowed = true;
  int64_t retry_at_ms = 0;  // allowed: now; otherwise the first instant a send may go
};

// Whether one more send to a recipient domain may go at now_ms, given the sender's earlier sends
// to that domain (any order; those older than the window are ignored): allowed while fewer than
// max_per_window fall in (now - window, now]. When refused, retry_at_ms is when enough of them
// have aged out.
DomainCapDecision CheckDomainCap(std::span<const int64_t> recent_sends_ms, int64_t now_ms,
                                 const DomainCapRule& rule);

}  // namespace kiln::domain
