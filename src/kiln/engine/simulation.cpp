#include "kiln/engine/simulation.h"

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>
#include <utility>

#include "kiln/base/clock.h"
#include "kiln/base/time_format.h"
#include "kiln/domain/civil_time.h"
#include "kiln/domain/quota.h"
#include "kiln/domain/random.h"
#include "kiln/engine/scheduler.h"
#include "kiln/mail/transport.h"
#include "kiln/store/db.h"
#include "kiln/warmup/source.h"

namespace kiln::engine {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kDay = 1440 * kMinute;
// The clock never jumps further than this, whatever the next known event: a tick at least every
// hour keeps the run correct if the engine grows a kind of work the harness cannot foresee.
constexpr int64_t kMaxJumpMs = 60 * kMinute;

// The simulation's time: moved only by the harness.
class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(int64_t ms) : ms_(ms) {}
  TimePoint Now() const override { return FromUnixMillis(ms_.load()); }
  void Set(int64_t ms) { ms_ = ms; }

 private:
  std::atomic<int64_t> ms_;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The value of header field `name` in the header block of `data` ("" when absent).
std::string HeaderValue(std::string_view data, std::string_view name) {
  size_t header_end = data.find("\r\n\r\n");
  if (header_end == std::string_view::npos) header_end = data.find("\n\n");
  const std::string_view head = data.substr(0, header_end);
  size_t pos = 0;
  while (pos < head.size()) {
    size_t eol = head.find('\n', pos);
    if (eol == std::string_view::npos) eol = head.size();
    std::string_view line = head.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        Lower(std::string(line.substr(0, name.size()))) == Lower(std::string(name))) {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return std::string(v);
    }
    pos = eol + 1;
  }
  return "";
}

struct Attempt {
  int64_t at_ms = 0;
  int64_t sender_id = 0;
  std::string rcpt;        // lowercase
  std::string message_id;  // the Message-ID header, with its angle brackets
  mail::SendResult::Class cls = mail::SendResult::Class::kAccepted;
  bool warmup = false;
};

// What every sender's fake transport shares: the log and the refusal rules.
struct TransportWorld {
  const Clock* clock = nullptr;
  std::vector<Attempt> attempts;
  std::set<std::string> refuse_permanently;       // lowercase addresses
  std::map<std::string, int> refuse_transiently;  // address -> refusals left
};

// A fake Transport (named as such): no network; records each message and answers by the rules.
class RecordingFakeTransport final : public mail::Transport {
 public:
  RecordingFakeTransport(int64_t sender_id, TransportWorld* world)
      : sender_id_(sender_id), world_(world) {}

  boost::asio::awaitable<mail::SendResult> Send(const mail::Envelope& envelope,
                                                std::string_view data) override {
    Attempt a;
    a.at_ms = world_->clock->NowMillis();
    a.sender_id = sender_id_;
    a.rcpt = envelope.rcpt_to.empty() ? "" : Lower(envelope.rcpt_to.front());
    a.message_id = HeaderValue(data, "Message-ID");
    a.warmup = !HeaderValue(data, "X-Kiln-Warmup").empty();
    mail::SendResult r;
    mail::RecipientResult rr;
    rr.address = a.rcpt;
    if (world_->refuse_permanently.count(a.rcpt)) {
      r.cls = rr.cls = mail::SendResult::Class::kPermanent;
      r.code = rr.code = 550;
      r.enhanced = rr.enhanced = "5.1.1";
      r.text = rr.text = "5.1.1 <" + a.rcpt + ">: Recipient address rejected (simulated)";
      r.failure = mail::SmtpFailure::kRecipients;
      r.reason = "recipient <" + a.rcpt + "> rejected: 550 " + r.text;
    } else if (auto it = world_->refuse_transiently.find(a.rcpt);
               it != world_->refuse_transiently.end() && it->second > 0) {
      --it->second;
      r.cls = rr.cls = mail::SendResult::Class::kTransient;
      r.code = rr.code = 451;
      r.enhanced = rr.enhanced = "4.3.0";
      r.text = rr.text = "4.3.0 try again later (simulated)";
      r.failure = mail::SmtpFailure::kRecipients;
      r.reason = "recipient <" + a.rcpt + "> deferred: 451 " + r.text;
    } else {
      r.cls = rr.cls = mail::SendResult::Class::kAccepted;
      r.code = rr.code = 250;
      r.text = rr.text = "2.0.0 Ok: queued (simulated)";
    }
    r.recipients.push_back(std::move(rr));
    a.cls = r.cls;
    world_->attempts.push_back(std::move(a));
    co_return r;
  }
  boost::asio::awaitable<void> Close() override { co_return; }

 private:
  int64_t sender_id_;
  TransportWorld* world_;
};

std::string HhMm(int minute) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

std::string DateText(domain::CivilDate d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d", static_cast<long long>(d.year), d.month,
                d.day);
  return buf;
}

// "2026-03-09 08:59 America/New_York" for an instant read in `zone`.
std::string LocalText(const domain::TimeZone& zone, int64_t unix_ms) {
  const domain::CivilTime t = zone.ToCivil(unix_ms);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d %02d:%02d:%02d ", static_cast<long long>(t.year),
                t.month, t.day, t.hour, t.minute, t.second);
  return buf + zone.name();
}

domain::Schedule ScheduleOf(const SimulationSpec& spec) {
  domain::Schedule s;
  s.weekdays = 0;
  for (int d : spec.days_of_week) s.weekdays |= static_cast<uint8_t>(1u << (d % 7));
  s.start_minute = spec.window_start_minute;
  s.end_minute = spec.window_end_minute;
  return s;
}

std::string ScheduleJson(const SimulationSpec& spec) {
  json::array days;
  for (int d : spec.days_of_week) days.push_back(d);
  return json::serialize(json::object{{"days", std::move(days)},
                                      {"start", HhMm(spec.window_start_minute)},
                                      {"end", HhMm(spec.window_end_minute)}});
}

// Independent of domain/schedule.cpp on purpose: the check restates the rule rather than reusing
// the code under test. Weekday bit d is weekday d, 0 = Sunday.
bool InWindow(const domain::Schedule& s, const domain::TimeZone& zone, int64_t unix_ms) {
  const int64_t local = zone.ToLocalMillis(unix_ms);
  const int64_t day = domain::FloorDiv(local, kDay);
  const int minute = static_cast<int>((local - day * kDay) / kMinute);
  const int weekday = domain::WeekdayFromDays(day);
  const int previous = (weekday + 6) % 7;
  auto allowed = [&](int d) { return (s.weekdays >> d) & 1u; };
  if (s.start_minute < s.end_minute) {
    return allowed(weekday) && minute >= s.start_minute && minute < s.end_minute;
  }
  return (allowed(weekday) && minute >= s.start_minute) ||
         (allowed(previous) && minute < s.end_minute);
}

// A warm-up plan's volume on `day`, restated from the plan's definition (domain/quota.h) rather
// than reusing the code under test: start_volume on start_date, daily_increase more each day
// after (each weekday when weekdays_only, and nothing on Saturdays and Sundays), up to max_volume.
int RampVolume(const domain::WarmupPlan& plan, domain::CivilDate day) {
  const int64_t first = domain::DaysFromCivil(plan.start_date);
  const int64_t today = domain::DaysFromCivil(day);
  if (today < first) return 0;
  auto weekend = [](int64_t d) {
    const int w = domain::WeekdayFromDays(d);
    return w == 0 || w == 6;
  };
  if (plan.weekdays_only && weekend(today)) return 0;
  int64_t n = 0;
  for (int64_t d = first; d < today; ++d) {
    if (!plan.weekdays_only || !weekend(d)) ++n;
  }
  return static_cast<int>(
      std::min<int64_t>(plan.max_volume, plan.start_volume + n * plan.daily_increase));
}

std::string DomainOf(const std::string& email) {
  const size_t at = email.rfind('@');
  return at == std::string::npos ? "" : Lower(email.substr(at + 1));
}

struct PlannedLead {
  int64_t contact_id = 0;
  std::string email;
  std::string zone_name;  // "" = the campaign's
  int reply_after = -1;   // replies to its n-th accepted message (0-based); -1 never
  int64_t reply_delay_ms = 0;
  int accepted = 0;
};

struct PlannedSender {
  int64_t id = 0;
  std::string email;
  int quota = 0;
  std::string zone_name;
  std::optional<int64_t> warmup_end_at;
  int64_t warmup_start_at = 0;
  int health_score = 100;
};

struct PlannedBot {
  int64_t id = 0;
  std::string email;
  std::string zone_name;
};

struct PendingReply {
  std::string message_id;
  int64_t contact_id = 0;
};

class ScopedTempDir {
 public:
  ScopedTempDir() = default;
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  ~ScopedTempDir() {
    if (path_.empty()) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  Status Create() {
    std::string tmpl = (fs::temp_directory_path() / "kiln-sim.XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      return Status::Internal("cannot create a temporary folder for the simulation database in " +
                              fs::temp_directory_path().string());
    }
    path_ = tmpl;
    return Status::Ok();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double CpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

Status Check(bool ok, std::string field, std::string message) {
  return ok ? Status::Ok() : Status::InvalidArgument(field + ": " + message, field);
}

// The warm-up figures of the report, over the sender and bot days that lie wholly in [start, end).
void SummarizeWarmup(const SimulationFacts& f, int64_t start, int64_t end,
                     SimulationReport& report) {
  struct Day {
    int cold = 0;
    int warmup = 0;
  };
  std::map<std::pair<int64_t, domain::CivilDate>, Day> sender_days;
  std::map<std::pair<int64_t, domain::CivilDate>, int> bot_days;
  for (const SimulatedSend& send : f.sends) {
    auto sender = f.senders.find(send.sender_id);
    if (sender == f.senders.end() || !sender->second.zone) continue;
    Day& d = sender_days[{send.sender_id, domain::DayAt(*sender->second.zone, send.at_ms)}];
    ++(send.warmup ? d.warmup : d.cold);
    if (auto bot = f.bots.find(send.bot_id); bot != f.bots.end() && bot->second.zone) {
      ++bot_days[{send.bot_id, domain::DayAt(*bot->second.zone, send.at_ms)}];
    }
  }
  for (const auto& [id, bot] : f.bots) {
    for (const auto& [key, n] : bot_days) {
      if (key.first == id && n >= bot.daily_receive_limit) ++report.bots_at_limit;
    }
  }
  int64_t full_warmup = 0, full_total = 0;
  for (const auto& [id, sn] : f.senders) {
    if (!sn.zone) continue;
    for (domain::CivilDate day = domain::DayAt(*sn.zone, start);;
         day = domain::CivilFromDays(domain::DaysFromCivil(day) + 1)) {
      const domain::DayBounds b = domain::DayBoundsOf(*sn.zone, day);
      if (b.start_ms >= end) break;
      if (b.start_ms < start || b.end_ms > end) continue;
      auto it = sender_days.find({id, day});
      const Day d = it == sender_days.end() ? Day{} : it->second;
      if (sn.warmup_end_at && b.end_ms <= *sn.warmup_end_at && sn.plan) {
        ++report.ramp_days;
        if (d.warmup == std::min(RampVolume(*sn.plan, day), sn.daily_quota)) ++report.ramp_days_met;
      } else if ((!sn.warmup_end_at || b.start_ms >= *sn.warmup_end_at) &&
                 d.cold + d.warmup == sn.daily_quota) {
        ++report.full_days;
        full_warmup += d.warmup;
        full_total += d.cold + d.warmup;
      }
    }
  }
  report.full_days_warmup_percent =
      full_total > 0 ? 100.0 * static_cast<double>(full_warmup) / static_cast<double>(full_total)
                     : 0;
}

}  // namespace

std::vector<std::string> DefaultLeadZones() {
  return {"America/New_York",    "America/Chicago",
          "America/Los_Angeles", "America/St_Johns",
          "America/Sao_Paulo",   "Europe/London",
          "Europe/Berlin",       "Asia/Kolkata",
          "Asia/Kathmandu",      "Asia/Tokyo",
          "Australia/Adelaide",  "Australia/Sydney",
          "Pacific/Auckland",    ""};
}

Status ValidateSimulationSpec(const SimulationSpec& s) {
  KILN_RETURN_IF_ERROR(
      Check(s.senders >= 1 && s.senders <= 1'000'000, "senders", "must be between 1 and 1000000"));
  KILN_RETURN_IF_ERROR(
      Check(s.leads >= 1 && s.leads <= 10'000'000, "leads", "must be between 1 and 10000000"));
  KILN_RETURN_IF_ERROR(Check(s.days >= 1 && s.days <= 366, "days", "must be between 1 and 366"));
  KILN_RETURN_IF_ERROR(Check(!s.days_of_week.empty(), "days_of_week", "needs at least one day"));
  for (int d : s.days_of_week) {
    KILN_RETURN_IF_ERROR(Check(d >= 1 && d <= 7, "days_of_week", "days are 1 (Monday) to 7"));
  }
  KILN_RETURN_IF_ERROR(domain::ValidateSchedule(ScheduleOf(s)));
  KILN_RETURN_IF_ERROR(Check(s.campaign_daily_limit >= 0, "campaign_daily_limit", "must be >= 0"));
  KILN_RETURN_IF_ERROR(Check(!s.step_delays_minutes.empty(), "steps", "needs at least one step"));
  KILN_RETURN_IF_ERROR(
      Check(s.step_delays_minutes.front() == 0, "steps", "the first step's delay must be 0"));
  for (int64_t d : s.step_delays_minutes) {
    KILN_RETURN_IF_ERROR(Check(d >= 0, "steps", "delays must be >= 0 minutes"));
  }
  KILN_RETURN_IF_ERROR(Check(s.lead_domains >= 1, "lead_domains", "must be >= 1"));
  KILN_RETURN_IF_ERROR(
      Check(s.quota_min >= 1 && s.quota_min <= s.quota_max, "quota", "needs 1 <= min <= max"));
  for (auto [v, name] :
       {std::pair{s.warmup_percent, "warmup_percent"},
        std::pair{s.jitter_percent, "jitter_percent"}, std::pair{s.reply_percent, "reply_percent"},
        std::pair{s.permanent_refusal_percent, "permanent_refusal_percent"},
        std::pair{s.transient_refusal_percent, "transient_refusal_percent"}}) {
    KILN_RETURN_IF_ERROR(Check(v >= 0 && v <= 100, name, "must be a percentage (0..100)"));
  }
  KILN_RETURN_IF_ERROR(Check(s.permanent_refusal_percent + s.transient_refusal_percent <= 100,
                             "refusals", "permanent + transient must not exceed 100%"));
  KILN_RETURN_IF_ERROR(Check(s.warmup_days >= 0, "warmup_days", "must be >= 0"));
  for (auto [v, name] : {std::pair{s.warmup_mix_percent, "warmup_mix_percent"},
                         std::pair{s.low_health_percent, "low_health_percent"},
                         std::pair{s.low_health_score, "low_health_score"},
                         std::pair{s.min_health_score, "min_health_score"},
                         std::pair{s.warmup_peer_share_percent, "warmup_peer_share_percent"}}) {
    KILN_RETURN_IF_ERROR(Check(v >= 0 && v <= 100, name, "must be between 0 and 100"));
  }
  KILN_RETURN_IF_ERROR(Check(s.warmup_percent + s.low_health_percent <= 100, "low_health_percent",
                             "warmup_percent + low_health_percent must not exceed 100"));
  KILN_RETURN_IF_ERROR(
      Check(s.warmup_start_volume >= 1 && s.warmup_start_volume <= s.warmup_max_volume,
            "warmup_start_volume", "needs 1 <= start volume <= max volume"));
  KILN_RETURN_IF_ERROR(
      Check(s.warmup_daily_increase >= 0, "warmup_daily_increase", "must be >= 0"));
  KILN_RETURN_IF_ERROR(
      Check(s.bots >= 0 && s.bots <= 100'000, "bots", "must be between 0 and 100000"));
  KILN_RETURN_IF_ERROR(Check(s.bot_receive_limit >= 1, "bot_receive_limit", "must be >= 1"));
  KILN_RETURN_IF_ERROR(Check(s.domain_hourly_cap >= 0, "domain_hourly_cap", "must be >= 0"));
  KILN_RETURN_IF_ERROR(Check(s.transient_attempts >= 0, "transient_attempts", "must be >= 0"));
  KILN_RETURN_IF_ERROR(Check(s.min_gap_ms >= 0, "min_gap_ms", "must be >= 0"));
  KILN_RETURN_IF_ERROR(Check(s.max_leads_per_tick >= 1, "max_leads_per_tick", "must be >= 1"));
  KILN_RETURN_IF_ERROR(Check(
      s.reply_delay_min_minutes >= 0 && s.reply_delay_min_minutes <= s.reply_delay_max_minutes,
      "reply_delay", "needs 0 <= min <= max"));
  return Status::Ok();
}

std::vector<std::string> DefaultBotZones() {
  return {"UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata"};
}

std::vector<SimulationViolation> CheckSimulationRules(const SimulationFacts& f) {
  std::vector<SimulationViolation> out;
  auto add = [&](std::string rule, std::string message) {
    out.push_back({std::move(rule), std::move(message)});
  };
  auto at = [](int64_t ms) { return FormatIso8601(ms); };
  auto sender_name = [](int64_t id) { return "sender " + std::to_string(id); };

  std::map<std::pair<int64_t, domain::CivilDate>, int> per_sender_day;
  struct DaySplit {
    int cold = 0;
    int warmup = 0;
  };
  std::map<std::pair<int64_t, domain::CivilDate>, DaySplit> split;   // (sender, its day)
  std::map<std::pair<int64_t, domain::CivilDate>, int> per_bot_day;  // (bot, its day)
  // (sender, recipient domain) -> the instants of its campaign mail there, in time order
  std::map<std::pair<int64_t, std::string>, std::vector<int64_t>> domain_sends;
  std::map<domain::CivilDate, int> per_campaign_day;
  std::map<int64_t, int64_t> last_send;
  std::map<int64_t, std::vector<const SimulatedSend*>> by_lead;
  std::vector<const SimulatedSend*> in_order;
  for (const SimulatedSend& s : f.sends) in_order.push_back(&s);
  std::stable_sort(
      in_order.begin(), in_order.end(),
      [](const SimulatedSend* a, const SimulatedSend* b) { return a->at_ms < b->at_ms; });
  for (const SimulatedSend* sp : in_order) {
    const SimulatedSend& s = *sp;
    auto sender = f.senders.find(s.sender_id);
    if (sender == f.senders.end() || !sender->second.zone) {
      add("ledger", "a message went out through unknown " + sender_name(s.sender_id));
      continue;
    }
    const SimulatedSender& sn = sender->second;
    const domain::CivilDate sender_day = domain::DayAt(*sn.zone, s.at_ms);
    ++per_sender_day[{s.sender_id, sender_day}];
    DaySplit& day_split = split[{s.sender_id, sender_day}];
    ++(s.warmup ? day_split.warmup : day_split.cold);
    if (auto it = last_send.find(s.sender_id);
        it != last_send.end() && s.at_ms - it->second < f.min_gap_ms) {
      add("gap", sender_name(s.sender_id) + " sent at " + at(it->second) + " and again at " +
                     at(s.at_ms) + ", " + std::to_string((s.at_ms - it->second) / 1000) +
                     " s apart (minimum " + std::to_string(f.min_gap_ms / 1000) + " s)");
    }
    last_send[s.sender_id] = s.at_ms;
    if (s.warmup) {
      if (s.bot_id == 0) continue;
      auto bot = f.bots.find(s.bot_id);
      if (bot == f.bots.end() || !bot->second.zone) {
        add("ledger", "warm-up mail went to unknown bot " + std::to_string(s.bot_id));
        continue;
      }
      ++per_bot_day[{s.bot_id, domain::DayAt(*bot->second.zone, s.at_ms)}];
      continue;
    }
    if (sn.health_score < f.min_health_score) {
      add("health", sender_name(s.sender_id) + " sent campaign mail at " + at(s.at_ms) +
                        " with health score " + std::to_string(sn.health_score) + " (minimum " +
                        std::to_string(f.min_health_score) + ")");
    }

    if (sn.warmup_end_at && s.at_ms < *sn.warmup_end_at) {
      add("warmup", sender_name(s.sender_id) + " sent campaign mail at " + at(s.at_ms) +
                        " while in warm-up until " + at(*sn.warmup_end_at));
    }
    if (f.campaign_zone) ++per_campaign_day[domain::DayAt(*f.campaign_zone, s.at_ms)];
    auto lead = f.leads.find(s.contact_id);
    if (lead == f.leads.end() || !lead->second.zone) {
      add("ledger", "a message went to unknown lead " + std::to_string(s.contact_id));
      continue;
    }
    const SimulatedLead& ld = lead->second;
    if (f.domain_hourly_cap > 0) {
      const std::string rcpt_domain = DomainOf(ld.email);
      std::vector<int64_t>& times = domain_sends[{s.sender_id, rcpt_domain}];
      times.push_back(s.at_ms);
      // Sends in the rolling hour (at - 1 h, at], this one included.
      const auto first_in_hour =
          std::upper_bound(times.begin(), times.end(), s.at_ms - 60 * kMinute);
      const int64_t in_hour = times.end() - first_in_hour;
      if (in_hour > f.domain_hourly_cap) {
        add("domain_cap", sender_name(s.sender_id) + " sent its " + std::to_string(in_hour) +
                              "th message within an hour to " + rcpt_domain + " at " + at(s.at_ms) +
                              " (" + ld.email + "; cap " + std::to_string(f.domain_hourly_cap) +
                              " per hour)");
      }
    }
    if (!InWindow(f.schedule, *ld.zone, s.at_ms)) {
      add("window", "step " + std::to_string(s.step + 1) + " to " + ld.email + " at " +
                        LocalText(*ld.zone, s.at_ms) + " (" + at(s.at_ms) +
                        "), outside the sending days and window in the lead's zone");
    }
    if (ld.replied_at && s.at_ms >= *ld.replied_at) {
      add("after_reply", "step " + std::to_string(s.step + 1) + " to " + ld.email + " at " +
                             at(s.at_ms) + ", after the lead replied at " + at(*ld.replied_at));
    }
    if (ld.bounced_at && s.at_ms >= *ld.bounced_at) {
      add("after_bounce", "step " + std::to_string(s.step + 1) + " to " + ld.email + " at " +
                              at(s.at_ms) + ", after the address bounced at " + at(*ld.bounced_at));
    }
    by_lead[s.contact_id].push_back(&s);
  }

  for (const auto& [key, n] : per_sender_day) {
    const SimulatedSender& sn = f.senders.at(key.first);
    if (n > sn.daily_quota) {
      add("quota", sender_name(key.first) + " sent " + std::to_string(n) + " messages on " +
                       DateText(key.second) + " (" + sn.zone->name() + "), quota " +
                       std::to_string(sn.daily_quota));
    }
  }
  // The warm-up side, per sender day: a day that ends by warmup_end_at is wholly in warm-up and
  // follows the ramp; a day that starts at or after it is warmed and split at the campaign's mix;
  // the day warm-up ends on mixes both and is held only to the quota.
  for (const auto& [key, n] : split) {
    const SimulatedSender& sn = f.senders.at(key.first);
    const domain::DayBounds bounds = domain::DayBoundsOf(*sn.zone, key.second);
    const std::string day = DateText(key.second) + " (" + sn.zone->name() + ")";
    if (sn.warmup_end_at && bounds.end_ms <= *sn.warmup_end_at) {
      if (!sn.plan) continue;
      const int ramp = std::min(RampVolume(*sn.plan, key.second), sn.daily_quota);
      if (n.warmup > ramp) {
        add("warmup_ramp", sender_name(key.first) + " sent " + std::to_string(n.warmup) +
                               " warm-up messages on " + day + ", its ramp allows " +
                               std::to_string(ramp) + " that day");
      }
    } else if (!sn.warmup_end_at || bounds.start_ms >= *sn.warmup_end_at) {
      const int warmup_share = sn.daily_quota * std::clamp(f.warmup_mix_percent, 0, 100) / 100;
      if (n.warmup > warmup_share || n.cold > sn.daily_quota - warmup_share) {
        add("warmup_mix",
            sender_name(key.first) + " sent " + std::to_string(n.cold) + " campaign and " +
                std::to_string(n.warmup) + " warm-up messages on " + day + "; with quota " +
                std::to_string(sn.daily_quota) + " and a " + std::to_string(f.warmup_mix_percent) +
                "% mix at most " + std::to_string(sn.daily_quota - warmup_share) + " and " +
                std::to_string(warmup_share));
      }
    }
  }
  for (const auto& [key, n] : per_bot_day) {
    const SimulatedBot& bot = f.bots.at(key.first);
    if (n > bot.daily_receive_limit) {
      add("bot_limit", "bot " + std::to_string(key.first) + " (" + bot.email + ") received " +
                           std::to_string(n) + " warm-up messages on " + DateText(key.second) +
                           " (" + bot.zone->name() + "), daily receive limit " +
                           std::to_string(bot.daily_receive_limit));
    }
  }
  if (f.campaign_daily_limit > 0) {
    for (const auto& [day, n] : per_campaign_day) {
      if (n > f.campaign_daily_limit) {
        add("daily_limit", "the campaign sent " + std::to_string(n) + " messages on " +
                               DateText(day) + " (" + f.campaign_zone->name() + "), limit " +
                               std::to_string(f.campaign_daily_limit));
      }
    }
  }

  for (const auto& [contact_id, sends] : by_lead) {
    const SimulatedLead& ld = f.leads.at(contact_id);
    std::map<int, const SimulatedSend*> first_of_step;
    for (const SimulatedSend* s : sends) {  // in time order
      const std::string what = "step " + std::to_string(s->step + 1) + " to " + ld.email;
      if (s->step < 0 || static_cast<size_t>(s->step) >= f.step_delays_minutes.size()) {
        add("ledger", what + " at " + at(s->at_ms) + ": the campaign has no such step");
        continue;
      }
      if (auto it = first_of_step.find(s->step); it != first_of_step.end()) {
        add("once",
            what + " went out twice: at " + at(it->second->at_ms) + " and at " + at(s->at_ms));
        continue;
      }
      if (s->step > 0) {
        auto prev = first_of_step.find(s->step - 1);
        if (prev == first_of_step.end()) {
          add("order", what + " at " + at(s->at_ms) + " before step " + std::to_string(s->step) +
                           " was sent");
        } else {
          const int64_t need = f.step_delays_minutes[static_cast<size_t>(s->step)] * kMinute;
          if (s->at_ms - prev->second->at_ms < need) {
            add("delay", what + " at " + at(s->at_ms) + ", " +
                             std::to_string((s->at_ms - prev->second->at_ms) / kMinute) +
                             " min after step " + std::to_string(s->step) + " (delay " +
                             std::to_string(need / kMinute) + " min)");
          }
        }
        auto first = first_of_step.find(0);
        if (first != first_of_step.end() && first->second->sender_id != s->sender_id) {
          add("sticky", what + " came from " + sender_name(s->sender_id) + ", step 1 from " +
                            sender_name(first->second->sender_id));
        }
      }
      first_of_step[s->step] = s;
    }
  }
  return out;
}

std::string SimulationReport::ToText() const {
  std::string t;
  char buf[256];
  auto line = [&](const char* fmt, auto... args) {
    std::snprintf(buf, sizeof buf, fmt, args...);
    t += buf;
    t += '\n';
  };
  line("simulation: %d senders, %d leads, %d days, seed %llu, %zu steps, campaign zone %s",
       spec.senders, spec.leads, spec.days, static_cast<unsigned long long>(spec.seed),
       spec.step_delays_minutes.size(), spec.campaign_zone.c_str());
  line("virtual time: %s .. %s in %lld ticks", FormatIso8601(spec.start_ms).c_str(),
       FormatIso8601(end_ms).c_str(), static_cast<long long>(ticks));
  line(
      "sent: %lld campaign messages, %lld warm-up; %lld attempts (%lld refused transiently, "
      "%lld permanently); %lld replies recorded",
      static_cast<long long>(cold_sent), static_cast<long long>(warmup_sent),
      static_cast<long long>(attempts), static_cast<long long>(transient_refusals),
      static_cast<long long>(permanent_refusals), static_cast<long long>(replies));
  line(
      "warm-up: %lld to bots, %lld to peer senders; %lld bot days at their receive limit; ramp "
      "reached on %lld of %lld sender days in warm-up; %lld full warmed sender days with %.1f%% "
      "warm-up (campaign mix %d%%)",
      static_cast<long long>(warmup_to_bots), static_cast<long long>(warmup_sent - warmup_to_bots),
      static_cast<long long>(bots_at_limit), static_cast<long long>(ramp_days_met),
      static_cast<long long>(ramp_days), static_cast<long long>(full_days),
      full_days_warmup_percent, spec.warmup_mix_percent);
  std::string steps;
  for (size_t i = 0; i < sent_by_step.size(); ++i) {
    steps += (i ? ", " : "") + std::string("step ") + std::to_string(i + 1) + ": " +
             std::to_string(sent_by_step[i]);
  }
  t += "leads reached: " + steps + "\n";
  std::string statuses;
  for (const auto& [s, n] : lead_status) {
    statuses += (statuses.empty() ? "" : ", ") + s + " " + std::to_string(n);
  }
  t += "lead status: " + statuses + "; " + std::to_string(leads_overdue) +
       " in progress with a step overdue by more than a day\n";
  t += "campaign: " + campaign_status +
       (campaign_paused_reason.empty() ? "" : " (" + campaign_paused_reason + ")") + "\n";
  std::string senders_text;
  for (const auto& [s, n] : sender_status) {
    senders_text += (senders_text.empty() ? "" : "; ") + std::to_string(n) + " " + s;
  }
  t += "senders: " + senders_text + "\n";
  std::string days;
  for (const auto& [d, n] : sent_by_day) {
    days += (days.empty() ? "" : ", ") + d.substr(5) + " " + std::to_string(n);
  }
  t += "sent by day (" + spec.campaign_zone + "): " + days + "\n";
  line("quota capacity over the run: %lld campaign messages",
       static_cast<long long>(capacity_cold));
  line("engine: %lld lead visits (%lld left waiting for a sender), %.1f per message sent",
       static_cast<long long>(lead_visits), static_cast<long long>(lead_waits),
       cold_sent > 0 ? static_cast<double>(lead_visits) / static_cast<double>(cold_sent) : 0.0);
  line(
      "wall: setup %.2f s, run %.2f s (cpu %.2f s; %.2f s inside Scheduler::RunOnce), checks "
      "%.2f s; %.0f sends per wall second",
      setup_seconds, run_seconds, run_cpu_seconds, tick_seconds, check_seconds,
      SendsPerWallSecond());
  for (const std::string& e : campaign_errors) t += "campaign error: " + e + "\n";
  if (violations.empty()) {
    t += "rules: all kept\n";
  } else {
    t += "rules: " + std::to_string(violations.size()) + " violations\n";
    for (size_t i = 0; i < violations.size() && i < 50; ++i) {
      t += "  [" + violations[i].rule + "] " + violations[i].message + "\n";
    }
    if (violations.size() > 50) t += "  ...\n";
  }
  return t;
}

std::string SimulationReport::ToJson() const {
  json::array by_step, violations_json, errors;
  for (int64_t n : sent_by_step) by_step.push_back(n);
  for (const auto& v : violations) {
    violations_json.push_back(json::object{{"rule", v.rule}, {"message", v.message}});
  }
  for (const auto& e : campaign_errors) errors.push_back(json::string(e));
  json::object statuses, days;
  for (const auto& [s, n] : lead_status) statuses[s] = n;
  for (const auto& [d, n] : sent_by_day) days[d] = n;
  json::object senders_json;
  for (const auto& [st, n] : sender_status) senders_json[st] = n;
  json::object o{{"ok", ok()},
                 {"spec", json::object{{"senders", spec.senders},
                                       {"leads", spec.leads},
                                       {"days", spec.days},
                                       {"seed", spec.seed},
                                       {"steps", spec.step_delays_minutes.size()},
                                       {"campaign_zone", spec.campaign_zone}}},
                 {"start", FormatIso8601(spec.start_ms)},
                 {"end", FormatIso8601(end_ms)},
                 {"ticks", ticks},
                 {"attempts", attempts},
                 {"cold_sent", cold_sent},
                 {"warmup_sent", warmup_sent},
                 {"warmup_to_bots", warmup_to_bots},
                 {"bots_at_limit", bots_at_limit},
                 {"ramp_days", ramp_days},
                 {"ramp_days_met", ramp_days_met},
                 {"full_days", full_days},
                 {"full_days_warmup_percent", full_days_warmup_percent},
                 {"transient_refusals", transient_refusals},
                 {"permanent_refusals", permanent_refusals},
                 {"replies", replies},
                 {"sent_by_step", std::move(by_step)},
                 {"lead_status", std::move(statuses)},
                 {"leads_overdue", leads_overdue},
                 {"sent_by_day", std::move(days)},
                 {"campaign_status", campaign_status},
                 {"campaign_paused_reason", campaign_paused_reason},
                 {"sender_status", std::move(senders_json)},
                 {"capacity_cold", capacity_cold},
                 {"setup_seconds", setup_seconds},
                 {"run_seconds", run_seconds},
                 {"run_cpu_seconds", run_cpu_seconds},
                 {"tick_seconds", tick_seconds},
                 {"lead_visits", lead_visits},
                 {"lead_waits", lead_waits},
                 {"check_seconds", check_seconds},
                 {"sends_per_wall_second", SendsPerWallSecond()},
                 {"campaign_errors", std::move(errors)},
                 {"violations", std::move(violations_json)}};
  return json::serialize(o);
}

Result<SimulationReport> RunSimulation(const SimulationSpec& spec,
                                       domain::TimeZoneDatabase& zones) {
  KILN_RETURN_IF_ERROR(ValidateSimulationSpec(spec));
  const auto setup_started = std::chrono::steady_clock::now();
  SimulationReport report;
  report.spec = spec;
  if (report.spec.lead_zones.empty()) report.spec.lead_zones = DefaultLeadZones();
  if (report.spec.sender_zones.empty()) report.spec.sender_zones = {spec.campaign_zone};
  const SimulationSpec& s = report.spec;

  // Every zone loads before anything else is built.
  KILN_ASSIGN_OR_RETURN(auto campaign_zone, zones.Get(s.campaign_zone));
  std::map<std::string, std::shared_ptr<const domain::TimeZone>> zone_of{{"", campaign_zone}};
  const std::vector<std::string> bot_zones = DefaultBotZones();
  for (const auto* list : {&s.lead_zones, &s.sender_zones, &bot_zones}) {
    for (const std::string& name : *list) {
      if (name.empty() || zone_of.count(name)) continue;
      KILN_ASSIGN_OR_RETURN(zone_of[name], zones.Get(name));
    }
  }

  VirtualClock clock(s.start_ms);
  ScopedTempDir temp;
  std::string url = s.database_url;
  if (url.empty()) {
    KILN_RETURN_IF_ERROR(temp.Create());
    url = (fs::path(temp.path()) / "simulation.db").string();
  }
  store::OpenOptions open;
  open.pool_size = 2;
  open.clock = &clock;
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<store::Database> db, store::OpenDatabase(url, open));

  // The cast, drawn from the seed.
  domain::Rng rng(domain::SeedOf(s.seed, 0x51u));
  const int64_t now0 = s.start_ms;
  std::vector<PlannedSender> senders(static_cast<size_t>(s.senders));
  const int warming = s.senders * s.warmup_percent / 100;
  const int low_health = s.senders * s.low_health_percent / 100;
  for (int i = 0; i < s.senders; ++i) {
    PlannedSender& p = senders[static_cast<size_t>(i)];
    p.email =
        "sender" + std::to_string(i + 1) + "@mail" + std::to_string(i % 10 + 1) + ".kiln-sim.test";
    p.quota = s.quota_min +
              static_cast<int>(rng.Uniform(static_cast<uint64_t>(s.quota_max - s.quota_min + 1)));
    p.zone_name = s.sender_zones[static_cast<size_t>(i) % s.sender_zones.size()];
    const domain::TimeZone& zone = *zone_of.at(p.zone_name);
    if (i < warming) {
      // Its ramp starts on the run's first day and its warm-up ends at noon of its own day
      // `warmup_days` later (that day mixes both kinds; the checks hold it to the quota only).
      p.warmup_start_at = now0;
      const domain::CivilDate end_day =
          domain::CivilFromDays(domain::DaysFromCivil(domain::DayAt(zone, now0)) + s.warmup_days);
      p.warmup_end_at = domain::DayBoundsOf(zone, end_day).start_ms + 12 * 60 * kMinute;
    } else {
      p.warmup_start_at = now0 - 60 * kDay;  // warmed long ago
      p.warmup_end_at = now0 - 30 * kDay;
      if (i < warming + low_health) p.health_score = s.low_health_score;
    }
  }
  std::vector<PlannedBot> bots(static_cast<size_t>(s.warmup ? s.bots : 0));
  for (size_t i = 0; i < bots.size(); ++i) {
    bots[i].email =
        "bot" + std::to_string(i + 1) + "@inbox" + std::to_string(i % 4 + 1) + ".warm-sim.test";
    bots[i].zone_name = bot_zones[i % bot_zones.size()];
  }
  TransportWorld world;
  world.clock = &clock;
  std::vector<PlannedLead> leads(static_cast<size_t>(s.leads));
  for (int i = 0; i < s.leads; ++i) {
    PlannedLead& p = leads[static_cast<size_t>(i)];
    p.email = "lead" + std::to_string(i + 1) + "@company" + std::to_string(i % s.lead_domains + 1) +
              ".sim.test";
    p.zone_name = s.lead_zones[rng.Uniform(s.lead_zones.size())];
    if (static_cast<int>(rng.Uniform(100)) < s.reply_percent) {
      p.reply_after = static_cast<int>(rng.Uniform(s.step_delays_minutes.size()));
      p.reply_delay_ms = (s.reply_delay_min_minutes +
                          static_cast<int64_t>(rng.Uniform(static_cast<uint64_t>(
                              s.reply_delay_max_minutes - s.reply_delay_min_minutes + 1)))) *
                         kMinute;
    }
    const int refusal = static_cast<int>(rng.Uniform(100));
    if (refusal < s.permanent_refusal_percent) {
      world.refuse_permanently.insert(p.email);
    } else if (refusal < s.permanent_refusal_percent + s.transient_refusal_percent) {
      world.refuse_transiently[p.email] = s.transient_attempts;
    }
  }

  // The database, through the API's statements: workspace, senders, leads in a list, a campaign
  // with steps, variants, pool and audience, launched (running + enrolment).
  int64_t ws = 0, campaign = 0;
  KILN_RETURN_IF_ERROR(db->Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("workspaces.insert", {"Simulation", now0}));
    ws = w.Int("id");
    for (PlannedSender& p : senders) {
      KILN_ASSIGN_OR_RETURN(
          auto r, tx.QueryRow("senders.insert",
                              {ws, p.email.substr(0, p.email.find('@')), p.email, "Sam Sender",
                               "127.0.0.1", 25, "none", "", "", 993, "tls", "", false, std::nullopt,
                               std::nullopt, p.quota, p.warmup_end_at, now0}));
      p.id = r.Int("id");
      const std::string zone_name = p.zone_name.empty() ? s.campaign_zone : p.zone_name;
      KILN_RETURN_IF_ERROR(
          tx.Exec("senders.set_plan",
                  {ws, p.id, zone_name, s.warmup, p.warmup_start_at, s.warmup_start_volume,
                   s.warmup_daily_increase, s.warmup_max_volume, s.warmup_weekdays_only, 30,
                   p.warmup_end_at, now0})
              .status());
      KILN_RETURN_IF_ERROR(
          tx.Exec("sim.sender_ready", {p.id, zone_name, now0, p.health_score}).status());
    }
    // Bots aged long ago: each may receive bot_receive_limit a day (its send volume is above).
    const std::vector<std::string> providers = {"gmail", "outlook", "yahoo", "self_hosted"};
    for (size_t i = 0; i < bots.size(); ++i) {
      PlannedBot& b = bots[i];
      KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("bots.insert", {ws,
                                                                "Bot " + std::to_string(i + 1),
                                                                b.email,
                                                                providers[i % providers.size()],
                                                                "127.0.0.1",
                                                                25,
                                                                "none",
                                                                "",
                                                                "127.0.0.1",
                                                                993,
                                                                "tls",
                                                                "",
                                                                false,
                                                                now0 - 90 * kDay,
                                                                2,
                                                                now0 - 30 * kDay,
                                                                s.bot_receive_limit + 10,
                                                                s.bot_receive_limit,
                                                                30,
                                                                5,
                                                                240,
                                                                30,
                                                                b.zone_name,
                                                                std::nullopt,
                                                                now0}));
      b.id = r.Int("id");
      KILN_RETURN_IF_ERROR(tx.Exec("bots.set_status", {ws, b.id, "active", "", now0, 1}).status());
    }
    KILN_ASSIGN_OR_RETURN(
        auto list, tx.QueryRow("lists.insert", {ws, "Simulated leads", "kiln simulate", now0}));
    for (size_t i = 0; i < leads.size(); ++i) {
      PlannedLead& p = leads[i];
      KILN_ASSIGN_OR_RETURN(
          auto r,
          tx.QueryRow("contacts.insert",
                      {ws, p.email, "Lead" + std::to_string(i + 1), "Tester",
                       i % 3 == 0 ? "" : "Company " + std::to_string(i % s.lead_domains + 1),
                       "Head of Sales", p.zone_name, "", "", "{}", "new", now0}));
      p.contact_id = r.Int("id");
      KILN_RETURN_IF_ERROR(
          tx.Exec("lists.add_contact", {ws, list.Int("id"), p.contact_id, now0}).status());
    }
    KILN_ASSIGN_OR_RETURN(
        auto c,
        tx.QueryRow("campaigns.insert", {ws, "Simulated campaign", ScheduleJson(s), s.campaign_zone,
                                         std::nullopt, s.campaign_daily_limit, s.warmup_mix_percent,
                                         true, true, false, std::nullopt, now0}));
    campaign = c.Int("id");
    for (size_t i = 0; i < s.step_delays_minutes.size(); ++i) {
      KILN_ASSIGN_OR_RETURN(auto st, tx.QueryRow("campaign_steps.insert",
                                                 {ws, campaign, static_cast<int64_t>(i),
                                                  s.step_delays_minutes[i], "always", now0}));
      const std::string n = std::to_string(i + 1);
      const std::string unsubscribe = "<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>";
      if (i == 0) {
        KILN_RETURN_IF_ERROR(
            tx.Exec("step_variants.insert",
                    {ws, st.Int("id"), "A", 1, "{Hi|Hello} {{ first_name }}, a quick question",
                     "<p>{Hi|Hello|Hey} {{ first_name }},</p><p>how does {{ company | default: "
                     "\"your team\" }} book meetings today?</p>" +
                         unsubscribe,
                     "", true, now0})
                .status());
        KILN_RETURN_IF_ERROR(
            tx.Exec("step_variants.insert",
                    {ws, st.Int("id"), "B", 1, "{{ first_name }}, meetings at {{ company }}?",
                     "<p>Hi {{ first_name | capitalize }},</p><p>one idea for {{ company | "
                     "default: \"you\" }}.</p>" +
                         unsubscribe,
                     "", true, now0})
                .status());
      } else {
        KILN_RETURN_IF_ERROR(
            tx.Exec("step_variants.insert",
                    {ws, st.Int("id"), "A", 1, "",
                     "<p>{{ first_name }}, following up (" + n + ").</p>" + unsubscribe, "", true,
                     now0})
                .status());
      }
    }
    for (const PlannedSender& p : senders) {
      KILN_RETURN_IF_ERROR(tx.Exec("campaign_senders.insert", {ws, campaign, p.id, now0}).status());
    }
    KILN_RETURN_IF_ERROR(
        tx.Exec("campaign_lists.insert", {ws, campaign, list.Int("id"), now0}).status());
    KILN_ASSIGN_OR_RETURN(
        int64_t moved, tx.Exec("campaigns.transition",
                               {ws, campaign, "draft", "running", "", now0, std::nullopt, now0}));
    if (moved != 1) return Status::Internal("the simulated campaign did not move to running");
    KILN_ASSIGN_OR_RETURN(int64_t enrolled,
                          tx.Exec("campaigns.enroll", {ws, campaign, now0, now0}));
    if (enrolled != s.leads) {
      return Status::Internal("enrolled " + std::to_string(enrolled) + " of " +
                              std::to_string(s.leads) + " simulated leads");
    }
    return Status::Ok();
  }));
  std::map<std::string, PlannedLead*> lead_by_email;
  for (PlannedLead& p : leads) lead_by_email[p.email] = &p;
  report.setup_seconds = Seconds(std::chrono::steady_clock::now() - setup_started);

  // The run.
  SchedulerOptions options;
  options.worker_id = "simulation";
  options.max_leads_per_campaign = s.max_leads_per_tick;
  options.pacing = {.min_gap_ms = s.min_gap_ms, .jitter_percent = s.jitter_percent};
  options.public_url = "https://kiln.sim.test";
  options.tracking_key = "simulation-tracking-key-" + std::to_string(s.seed) + "-0123456789";
  options.seed = s.seed;
  options.domain_hourly_cap = s.domain_hourly_cap;
  options.rotation.min_health_score = s.min_health_score;
  warmup::DbWarmupSource warmup_source(
      *db, zones,
      warmup::WarmupSourceOptions{.pairing = {.peer_share_percent = s.warmup_peer_share_percent},
                                  .seed = s.seed});
  if (s.warmup) options.warmup = &warmup_source;
  Scheduler scheduler(
      *db, clock, zones,
      [&world](const SenderInfo& info,
               boost::asio::any_io_executor) -> Result<std::unique_ptr<mail::Transport>> {
        return std::unique_ptr<mail::Transport>(
            std::make_unique<RecordingFakeTransport>(info.id, &world));
      },
      options);

  std::vector<std::shared_ptr<const domain::TimeZone>> day_zones{campaign_zone};
  for (const std::string& z : s.sender_zones) {
    auto zone = zone_of.at(z);
    if (std::find(day_zones.begin(), day_zones.end(), zone) == day_zones.end())
      day_zones.push_back(zone);
  }
  const int64_t end = s.start_ms + s.days * kDay;
  const int max_passes = 2 + s.leads / s.max_leads_per_tick;
  std::multimap<int64_t, PendingReply> due_replies;
  std::map<int64_t, int64_t> replied_at, bounced_at;  // contact -> instant
  size_t seen = 0;
  const auto run_started = std::chrono::steady_clock::now();
  const double cpu_started = CpuSeconds();
  for (int64_t now = clock.NowMillis(); now < end; now = clock.NowMillis()) {
    // Replies that arrived by now, recorded as the inbox watcher does.
    while (!due_replies.empty() && due_replies.begin()->first <= now) {
      const PendingReply r = due_replies.begin()->second;
      due_replies.erase(due_replies.begin());
      KILN_RETURN_IF_ERROR(db->Write([&](store::Tx& tx) -> Status {
        KILN_ASSIGN_OR_RETURN(auto m, tx.QueryOne("sim.reply_message", {r.message_id, now}));
        if (!m) return Status::Ok();  // answered twice: the first reply counts
        KILN_RETURN_IF_ERROR(tx.Exec("sim.reply_event", {m->Int("workspace_id"), m->Int("id"),
                                                         m->Int("campaign_id"), now})
                                 .status());
        KILN_RETURN_IF_ERROR(
            tx.Exec("sim.reply_lead", {m->Int("campaign_id"), m->Int("contact_id"), now}).status());
        return tx.Exec("sim.reply_contact", {m->Int("contact_id"), now}).status();
      }));
      if (!replied_at.count(r.contact_id)) {
        replied_at[r.contact_id] = now;
        ++report.replies;
      }
    }
    // Ticks at this instant until the due leads stop moving (a tick looks at a bounded number).
    for (int pass = 0; pass < max_passes; ++pass) {
      const auto tick_started = std::chrono::steady_clock::now();
      KILN_ASSIGN_OR_RETURN(TickStats t, scheduler.RunOnce());
      report.tick_seconds += Seconds(std::chrono::steady_clock::now() - tick_started);
      ++report.ticks;
      report.lead_visits +=
          t.sent + t.retried + t.bounced + t.failed + t.stopped + t.deferred + t.waiting;
      report.lead_waits += t.waiting;
      if (!scheduler.campaign_errors().empty()) {
        report.campaign_errors = scheduler.campaign_errors();
        break;
      }
      if (t.deferred + t.stopped == 0) break;
    }
    if (!report.campaign_errors.empty()) break;
    // What the transports saw: schedule replies, note bounces.
    for (; seen < world.attempts.size(); ++seen) {
      const Attempt& a = world.attempts[seen];
      if (a.warmup) continue;
      auto it = lead_by_email.find(a.rcpt);
      if (it == lead_by_email.end()) continue;  // reported by the checks
      PlannedLead& lead = *it->second;
      if (a.cls == mail::SendResult::Class::kPermanent && !bounced_at.count(lead.contact_id)) {
        bounced_at[lead.contact_id] = a.at_ms;
      }
      if (a.cls != mail::SendResult::Class::kAccepted) continue;
      if (lead.accepted++ == lead.reply_after) {
        due_replies.emplace(a.at_ms + lead.reply_delay_ms,
                            PendingReply{a.message_id, lead.contact_id});
      }
    }
    // Jump to the next instant anything can happen.
    int64_t next = std::min(end, now + kMaxJumpMs);
    if (!due_replies.empty()) next = std::min(next, due_replies.begin()->first);
    std::optional<int64_t> due;
    KILN_RETURN_IF_ERROR(db->Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("sim.next_due", {campaign, now}));
      due = r.OptInt("next_at");
      return Status::Ok();
    }));
    if (due) next = std::min(next, *due);
    for (const PlannedSender& p : senders) {
      if (auto t = scheduler.SenderNextSendAt(p.id); t && *t > now) next = std::min(next, *t);
    }
    for (const auto& zone : day_zones) {
      next = std::min(next, domain::DayBoundsOf(*zone, domain::DayAt(*zone, now)).end_ms);
    }
    clock.Set(std::max(next, now + 1));
  }
  scheduler.CloseTransports();
  report.run_seconds = Seconds(std::chrono::steady_clock::now() - run_started);
  report.run_cpu_seconds = CpuSeconds() - cpu_started;
  report.end_ms = clock.NowMillis();

  // The facts, and the checks.
  const auto check_started = std::chrono::steady_clock::now();
  std::vector<store::Row> messages, statuses, sender_states, warmup_rows;
  KILN_RETURN_IF_ERROR(db->Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(messages, tx.Query("sim.messages", {campaign}));
    KILN_ASSIGN_OR_RETURN(warmup_rows, tx.Query("sim.warmup_sent", {ws}));
    KILN_ASSIGN_OR_RETURN(auto overdue,
                          tx.QueryRow("sim.leads_due_before", {campaign, end - kDay}));
    report.leads_overdue = overdue.Int("n");
    KILN_ASSIGN_OR_RETURN(statuses, tx.Query("sim.lead_statuses", {campaign}));
    KILN_ASSIGN_OR_RETURN(sender_states, tx.Query("sim.sender_states", {ws}));
    KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("sim.campaign_state", {campaign}));
    report.campaign_status = c.Text("status");
    report.campaign_paused_reason = c.Text("paused_reason");
    return Status::Ok();
  }));
  for (const auto& r : statuses) report.lead_status[r.Text("status")] = r.Int("n");
  for (const auto& r : sender_states) {
    const std::string reason = r.Text("status_reason");
    report.sender_status[r.Text("status") + (reason.empty() ? "" : ": " + reason)] += r.Int("n");
  }
  std::map<std::string, const store::Row*> message_by_header;
  for (const auto& m : messages) message_by_header[m.Text("message_id_header")] = &m;

  SimulationFacts facts;
  facts.schedule = ScheduleOf(s);
  facts.campaign_zone = campaign_zone;
  facts.campaign_daily_limit = s.campaign_daily_limit;
  facts.min_gap_ms = s.min_gap_ms;
  facts.step_delays_minutes = s.step_delays_minutes;
  facts.warmup_mix_percent = s.warmup_mix_percent;
  facts.domain_hourly_cap = s.domain_hourly_cap;
  facts.min_health_score = s.min_health_score;
  std::map<std::string, int64_t> bot_by_email, sender_by_email;
  for (const PlannedBot& b : bots) {
    facts.bots[b.id] = {b.email, zone_of.at(b.zone_name), s.bot_receive_limit};
    bot_by_email[b.email] = b.id;
  }
  for (const PlannedSender& p : senders) {
    const domain::TimeZone& zone = *zone_of.at(p.zone_name);
    domain::WarmupPlan plan{.start_date = domain::DayAt(zone, p.warmup_start_at),
                            .end_date = domain::DayAt(zone, *p.warmup_end_at),
                            .start_volume = s.warmup_start_volume,
                            .daily_increase = s.warmup_daily_increase,
                            .max_volume = s.warmup_max_volume,
                            .weekdays_only = s.warmup_weekdays_only};
    facts.senders[p.id] = {.daily_quota = p.quota,
                           .zone = zone_of.at(p.zone_name),
                           .warmup_end_at = p.warmup_end_at,
                           .plan = plan,
                           .health_score = p.health_score};
    sender_by_email[p.email] = p.id;
    for (int d = 0; d < s.days; ++d) {
      if (s.start_ms + d * kDay >= *p.warmup_end_at && p.health_score >= s.min_health_score)
        report.capacity_cold += p.quota - p.quota * s.warmup_mix_percent / 100;
    }
  }
  for (const PlannedLead& p : leads) {
    SimulatedLead& l = facts.leads[p.contact_id];
    l.email = p.email;
    l.zone = zone_of.at(p.zone_name);
    if (auto it = replied_at.find(p.contact_id); it != replied_at.end()) l.replied_at = it->second;
    if (auto it = bounced_at.find(p.contact_id); it != bounced_at.end()) l.bounced_at = it->second;
  }
  std::set<std::string> accepted_headers;
  std::map<std::tuple<int64_t, int64_t, int64_t>, int64_t> warmup_seen;  // (sender, bot, peer)
  report.sent_by_step.assign(s.step_delays_minutes.size(), 0);
  for (const Attempt& a : world.attempts) {
    ++report.attempts;
    if (a.cls == mail::SendResult::Class::kTransient) ++report.transient_refusals;
    if (a.cls == mail::SendResult::Class::kPermanent) ++report.permanent_refusals;
    if (a.cls != mail::SendResult::Class::kAccepted) continue;
    SimulatedSend send{.at_ms = a.at_ms, .sender_id = a.sender_id, .warmup = a.warmup};
    if (a.warmup) {
      ++report.warmup_sent;
      if (auto bot = bot_by_email.find(a.rcpt); bot != bot_by_email.end()) {
        send.bot_id = bot->second;
        ++report.warmup_to_bots;
        ++warmup_seen[{a.sender_id, bot->second, 0}];
      } else if (auto peer = sender_by_email.find(a.rcpt); peer != sender_by_email.end()) {
        ++warmup_seen[{a.sender_id, 0, peer->second}];
      } else {
        report.violations.push_back({"ledger", "warm-up mail from sender " +
                                                   std::to_string(a.sender_id) + " at " +
                                                   FormatIso8601(a.at_ms) + " went to " + a.rcpt +
                                                   ", neither a bot nor a sender"});
      }
      facts.sends.push_back(send);
      continue;
    }
    ++report.cold_sent;
    auto m = message_by_header.find(a.message_id);
    if (m == message_by_header.end()) {
      report.violations.push_back(
          {"ledger", "an accepted message to " + a.rcpt + " at " + FormatIso8601(a.at_ms) +
                         " has no messages row (Message-ID " + a.message_id + ")"});
      continue;
    }
    const store::Row& row = *m->second;
    accepted_headers.insert(a.message_id);
    send.contact_id = row.Int("contact_id");
    send.step = static_cast<int>(row.Int("position"));
    if (send.step >= 0 && static_cast<size_t>(send.step) < report.sent_by_step.size())
      ++report.sent_by_step[static_cast<size_t>(send.step)];
    if (row.Text("status") != "sent" || row.OptInt("sent_at") != a.at_ms ||
        row.OptInt("sender_id") != a.sender_id) {
      report.violations.push_back(
          {"ledger", "message " + std::to_string(row.Int("id")) + " to " + a.rcpt +
                         " was accepted at " + FormatIso8601(a.at_ms) + " from sender " +
                         std::to_string(a.sender_id) + " but is recorded " + row.Text("status") +
                         " from sender " + std::to_string(row.Int("sender_id"))});
    }
    const std::string day = DateText(domain::DayAt(*campaign_zone, a.at_ms));
    ++report.sent_by_day[day];
    facts.sends.push_back(send);
  }
  for (const auto& m : messages) {
    if (m.Text("status") == "sent" && !accepted_headers.count(m.Text("message_id_header"))) {
      report.violations.push_back({"ledger", "message " + std::to_string(m.Int("id")) +
                                                 " is recorded sent but no transport accepted it"});
    }
  }
  std::map<std::tuple<int64_t, int64_t, int64_t>, int64_t> warmup_recorded;
  for (const auto& r : warmup_rows) {
    warmup_recorded[{r.Int("sender_id"), r.OptInt("bot_id").value_or(0),
                     r.OptInt("peer_sender_id").value_or(0)}] = r.Int("n");
  }
  if (warmup_recorded != warmup_seen) {
    int64_t recorded = 0;
    for (const auto& [k, n] : warmup_recorded) recorded += n;
    report.violations.push_back(
        {"ledger", "warmup_messages records " + std::to_string(recorded) +
                       " warm-up messages sent, by sender and counterpart not the " +
                       std::to_string(report.warmup_sent) + " the transports accepted"});
  }
  std::stable_sort(
      facts.sends.begin(), facts.sends.end(),
      [](const SimulatedSend& a, const SimulatedSend& b) { return a.at_ms < b.at_ms; });
  for (auto& v : CheckSimulationRules(facts)) report.violations.push_back(std::move(v));
  SummarizeWarmup(facts, s.start_ms, end, report);
  report.check_seconds = Seconds(std::chrono::steady_clock::now() - check_started);
  return report;
}

}  // namespace kiln::engine
