#include "kiln/analytics/counters.h"

#include <cmath>

namespace kiln::analytics {

namespace json = boost::json;

Counters& Counters::operator+=(const Counters& o) {
  sent += o.sent;
  bounced += o.bounced;
  bounced_after_sent += o.bounced_after_sent;
  bounced_hard += o.bounced_hard;
  bounced_soft += o.bounced_soft;
  opened += o.opened;
  opened_any += o.opened_any;
  machine_opens += o.machine_opens;
  clicked += o.clicked;
  clicked_any += o.clicked_any;
  machine_clicks += o.machine_clicks;
  replied += o.replied;
  positive += o.positive;
  unsubscribed += o.unsubscribed;
  complained += o.complained;
  return *this;
}

Counters CountersFromRow(const store::Row& row) {
  Counters c;
  c.sent = row.Int("sent");
  c.bounced = row.Int("bounced");
  c.bounced_after_sent = row.Int("bounced_after_sent");
  c.bounced_hard = row.Int("bounced_hard");
  c.bounced_soft = row.Int("bounced_soft");
  c.opened = row.Int("opened");
  c.opened_any = row.Int("opened_any");
  c.machine_opens = row.Int("machine_opens");
  c.clicked = row.Int("clicked");
  c.clicked_any = row.Int("clicked_any");
  c.machine_clicks = row.Int("machine_clicks");
  c.replied = row.Int("replied");
  c.unsubscribed = row.Int("unsubscribed");
  c.complained = row.Int("complained");
  return c;
}

std::optional<double> RateOf(int64_t x, int64_t d) {
  if (d <= 0) return std::nullopt;
  return static_cast<double>(x) / static_cast<double>(d);
}

namespace {

json::value RateJson(int64_t x, int64_t d) {
  auto r = RateOf(x, d);
  if (!r) return nullptr;
  return std::round(*r * 1e6) / 1e6;  // six decimals: stable output, no float noise
}

}  // namespace

json::object CountersJson(const Counters& c, bool include_machine) {
  const int64_t opened = include_machine ? c.opened_any : c.opened;
  const int64_t clicked = include_machine ? c.clicked_any : c.clicked;
  const int64_t delivered = c.delivered();
  json::object o;
  o["sent"] = c.sent;
  o["delivered"] = delivered;
  o["opened"] = opened;
  o["clicked"] = clicked;
  o["replied"] = c.replied;
  o["positive_replies"] = c.positive;
  o["bounced"] = c.bounced;
  o["bounced_hard"] = c.bounced_hard;
  o["bounced_soft"] = c.bounced_soft;
  o["unsubscribed"] = c.unsubscribed;
  o["complained"] = c.complained;
  o["machine_opens"] = c.machine_opens;
  o["machine_clicks"] = c.machine_clicks;
  o["delivery_rate"] = RateJson(delivered, c.sent);
  o["open_rate"] = RateJson(opened, delivered);
  o["click_rate"] = RateJson(clicked, delivered);
  o["reply_rate"] = RateJson(c.replied, delivered);
  o["positive_reply_rate"] = RateJson(c.positive, c.replied);
  o["bounce_rate"] = RateJson(c.bounced, c.attempted());
  o["hard_bounce_rate"] = RateJson(c.bounced_hard, c.attempted());
  o["unsubscribe_rate"] = RateJson(c.unsubscribed, delivered);
  o["complaint_rate"] = RateJson(c.complained, delivered);
  return o;
}

}  // namespace kiln::analytics
