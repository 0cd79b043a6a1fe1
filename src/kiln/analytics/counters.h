// Counters: what happened to a set of cold emails (a campaign, a step, a variant, a sender, a day),
// the numbers behind every analytics answer, and the rates derived from them.
//
// Counting rules (the same in the roll-up job and the live tail: store/sql/queries/analytics.sql):
// a message counts at most once per counter, by its first event of that kind in event-id order,
// on the UTC day of that event. Opens and clicks are "unique human" by default: the first hit not
// flagged as a machine (image proxies, link scanners); the first hit of any kind and the number
// of machine hits are kept separately. Positive replies come from the lead's current status.
//
// Plain values; thread-compatible.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>

#include "kiln/store/db.h"

namespace kiln::analytics {

struct Counters {
  int64_t sent = 0;                // accepted by the sender's mail server
  int64_t bounced = 0;             // bounced, hard or soft, at SMTP time or by DSN
  int64_t bounced_after_sent = 0;  // ... after being accepted (a DSN): not delivered
  int64_t bounced_hard = 0;
  int64_t bounced_soft = 0;
  int64_t opened = 0;         // first human open
  int64_t opened_any = 0;     // first open, machine hits included
  int64_t machine_opens = 0;  // every open flagged as a machine hit
  int64_t clicked = 0;
  int64_t clicked_any = 0;
  int64_t machine_clicks = 0;
  int64_t replied = 0;
  int64_t positive = 0;  // replied, and the lead is now 'interested' or 'meeting_booked'
  int64_t unsubscribed = 0;
  int64_t complained = 0;

  // Attempted: accepted, or refused at SMTP time with a bounce.
  int64_t attempted() const { return sent + bounced - bounced_after_sent; }
  // Accepted and not bounced back afterwards.
  int64_t delivered() const { return sent > bounced_after_sent ? sent - bounced_after_sent : 0; }

  Counters& operator+=(const Counters& o);
  bool operator==(const Counters&) const = default;
};

// Reads the counter columns of a roll-up or tail row (every column above but `positive`).
Counters CountersFromRow(const store::Row& row);

// JSON: every count, "delivered", and the rates (null when the denominator is 0):
// delivery_rate = delivered / sent; open_rate, click_rate, reply_rate, unsubscribe_rate,
// complaint_rate = x / delivered; positive_reply_rate = positive / replied;
// bounce_rate, hard_bounce_rate = bounced, bounced_hard / attempted. With include_machine,
// "opened" and "clicked" (and their rates) count machine hits too.
boost::json::object CountersJson(const Counters& c, bool include_machine);

// x / d, or nullopt when d is 0.
std::optional<double> RateOf(int64_t x, int64_t d);

}  // namespace kiln::analytics
