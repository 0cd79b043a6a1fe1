// Simulation: a whole campaign run by the real Scheduler in virtual time, then checked rule by rule
// (issue 4 §6; `kiln simulate`).
//
// RunSimulation builds a fresh database (a SQLite file in a temporary folder unless a URL is
// given; the schema through the normal migrations), a workspace, senders (daily quotas, some still
// in warm-up, time zones), leads (time zones drawn from a realistic set with DST zones and
// half-hour offsets) in a list, and one running campaign with its steps, pool and schedule, using
// the API's own named queries (campaigns.*, contacts.*, senders.*), so the engine sees exactly
// what the API would create, and the warm-up network: warm-up inboxes ("bots", aged, each with a
// daily receive limit and its own zone) and every sender's warm-up plan (the senders still in
// warm-up ramp up from a start volume, weekdays only by default; the others are warmed and mix the
// campaign's warmup_mix_percent of their day to warm-up inboxes). The scheduler's WarmupSource is
// the real warmup::DbWarmupSource over the same database. It then ticks a Scheduler under a
// FakeClock that jumps to the next instant anything can happen (a lead due, a sender's pacing slot,
// a reply, a day boundary), never millisecond by millisecond. Every sender's transport is a
// recording fake (it accepts everything, or refuses chosen addresses permanently or transiently). A
// share of leads reply some time after one of their messages: the reply is recorded as the inbox
// watcher records it (messages.replied_at, a `replied` event, the enrolment and the lead's status).
// Some senders have a health score below the scheduler's minimum (they may warm up but never send
// cold mail).
//
// At the end CheckSimulationRules checks every rule of the issue from the recorded sends alone:
// per-sender quotas on the sender's own day, the sending window and days in each lead's own time
// zone, the minimum gap between one sender's sends, the follow-up delays, one message per
// (lead, step) and in step order, follow-ups from the first step's sender, nothing after a reply or
// a bounce, no cold mail from a sender in warm-up, the campaign's daily limit, the
// per-recipient-domain cap per sender per rolling hour, no cold mail from a sender below the
// minimum health score; the warm-up side: a sender's warm-up mail on each day wholly in warm-up
// within its ramp (start volume + daily increase up to the maximum, nothing on weekends when
// weekdays only, never above the quota), a warmed sender's day split at the campaign's mix (warm-up
// at most floor(quota * mix / 100), cold at most the rest), no bot receiving more than its daily
// receive limit on its own calendar day; and that the database agrees with what the transports
// saw (messages and warmup_messages).
//
// Thread-safety: RunSimulation uses only its own objects (one database, one scheduler, one
// clock); concurrent calls with separate TimeZoneDatabases are independent. CheckSimulationRules
// is a pure function.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kiln/base/status.h"
#include "kiln/domain/quota.h"
#include "kiln/domain/schedule.h"
#include "kiln/domain/tz.h"

namespace kiln::engine {

struct SimulationSpec {
  int senders = 50;
  int leads = 5000;
  int days = 14;
  uint64_t seed = 1;
  // First instant of the run: Monday 2026-03-02 00:00 UTC, so two weeks cross the US switch to
  // summer time (March 8).
  int64_t start_ms = 1'772'409'600'000;

  // The campaign: its zone (leads without one use it), days (ISO 1 = Monday ... 7 = Sunday) and
  // window in each lead's local time, daily limit (0: only sender quotas), steps as delays in
  // minutes after the previous step (the first is 0).
  std::string campaign_zone = "America/New_York";
  std::vector<int> days_of_week = {1, 2, 3, 4, 5};
  int window_start_minute = 9 * 60;
  int window_end_minute = 17 * 60;
  int campaign_daily_limit = 0;
  std::vector<int64_t> step_delays_minutes = {0, 2 * 1440, 3 * 1440};

  // Leads' zones, drawn uniformly; "" is a lead whose zone is unknown (the campaign's applies).
  // Empty: the built-in realistic set (DefaultLeadZones).
  std::vector<std::string> lead_zones;
  int lead_domains = 200;  // leads are spread over this many recipient domains

  // Senders: daily quota drawn in [min, max]; the first `warmup_percent` of them are still in
  // warm-up for `warmup_days` days (no cold mail until then); zones assigned round-robin (empty:
  // the campaign's zone, which is also where the quota day is counted).
  int quota_min = 30;
  int quota_max = 60;
  int warmup_percent = 10;
  int warmup_days = 8;
  std::vector<std::string> sender_zones;
  int64_t min_gap_ms = 2 * 60'000;
  int jitter_percent = 40;
  int max_leads_per_tick = 500;  // SchedulerOptions::max_leads_per_campaign
  // SchedulerOptions::domain_hourly_cap (engine_domain_hourly_cap; 0: no cap) and
  // rotation.min_health_score (engine_min_health_score); the first `low_health_percent` of the
  // senders after the warming ones have health score `low_health_score`.
  int domain_hourly_cap = 10;
  int min_health_score = 50;
  int low_health_percent = 4;
  int low_health_score = 30;

  // Warm-up. The campaign mixes this share of a warmed sender's day to warm-up inboxes. The
  // senders still in warm-up follow this plan from the run's first day (weekdays only: nothing on
  // Saturdays and Sundays). Their warm-up ends at noon on their own calendar `warmup_days` days
  // after the start. `bots` aged warm-up inboxes each receive at most `bot_receive_limit` a day on
  // their own calendar (zones round-robin from DefaultBotZones); of new threads,
  // `warmup_peer_share_percent` go to the other senders (peer warm-up). warmup = false: no warm-up
  // network (senders in warm-up then send nothing at all).
  bool warmup = true;
  int warmup_mix_percent = 10;
  int warmup_start_volume = 4;
  int warmup_daily_increase = 3;
  int warmup_max_volume = 20;
  bool warmup_weekdays_only = true;
  int bots = 12;
  int bot_receive_limit = 30;
  int warmup_peer_share_percent = 20;

  // Replies: this share of leads answers one of their messages (which one drawn uniformly among
  // the steps), after a delay drawn in [min, max] minutes.
  int reply_percent = 8;
  int64_t reply_delay_min_minutes = 20;
  int64_t reply_delay_max_minutes = 2 * 1440;

  // Refusals by the fake transport: this share of leads is refused permanently (550 5.1.1: a hard
  // bounce), this share transiently (451 4.3.0) for their first `transient_attempts` attempts.
  // Off by default: a sender whose hard-bounce rate passes 3% after 50 sends is paused together
  // with its campaign (issue 4 §3), which a 1% share already causes for some of 50 senders.
  int permanent_refusal_percent = 0;
  int transient_refusal_percent = 0;
  int transient_attempts = 2;

  // Where: "" creates a SQLite file in a new temporary folder, removed at the end; otherwise an
  // empty database (SQLite path or postgres:// URL) to migrate and fill.
  std::string database_url;
};

// The built-in lead zones: North and South America, Europe, India (+05:30), Nepal (+05:45),
// Japan, Australia (Adelaide +09:30/+10:30), Newfoundland (-03:30/-02:30), New Zealand, and ""
// (unknown).
std::vector<std::string> DefaultLeadZones();

// The bots' zones, assigned round-robin: UTC, Europe/Berlin, America/Los_Angeles, Asia/Kolkata.
std::vector<std::string> DefaultBotZones();

// Success: the spec can run (counts >= 1, quotas 1 <= min <= max, percentages in [0, 100], a valid
// window and days, steps with the first delay 0 and none negative). InvalidArgument names the
// field otherwise.
Status ValidateSimulationSpec(const SimulationSpec& spec);

struct SimulationViolation {
  std::string rule;     // "quota", "window", "gap", "delay", "once", "order", "sticky",
                        // "after_reply", "after_bounce", "warmup", "daily_limit", "ledger",
                        // "domain_cap", "health", "warmup_ramp", "warmup_mix", "bot_limit"
  std::string message;  // what happened, naming the sender, lead, step and instant
};

// One message the transports accepted, as the checks see it.
struct SimulatedSend {
  int64_t at_ms = 0;
  int64_t sender_id = 0;
  int64_t contact_id = 0;  // 0 for warm-up mail
  int step = -1;           // step position; -1 for warm-up mail
  bool warmup = false;
  int64_t bot_id = 0;  // warm-up mail to a bot (0: to a peer sender, or campaign mail)
};

struct SimulatedSender {
  int daily_quota = 0;
  std::shared_ptr<const domain::TimeZone> zone;  // its quota day
  std::optional<int64_t> warmup_end_at;          // no cold mail before
  // The warm-up plan's ramp (start_date on the sender's calendar; end_date unused: the days in
  // warm-up are those that end by warmup_end_at). Absent: the ramp is not checked.
  std::optional<domain::WarmupPlan> plan;
  int health_score = 100;
};

struct SimulatedBot {
  std::string email;
  std::shared_ptr<const domain::TimeZone> zone;  // its receiving day
  int daily_receive_limit = 0;
};

struct SimulatedLead {
  std::string email;
  std::shared_ptr<const domain::TimeZone> zone;  // its window (the campaign's when unknown)
  std::optional<int64_t> replied_at;
  std::optional<int64_t> bounced_at;
};

// Everything the rules need, independent of the database.
struct SimulationFacts {
  domain::Schedule schedule;
  std::shared_ptr<const domain::TimeZone> campaign_zone;
  int campaign_daily_limit = 0;
  int64_t min_gap_ms = 0;
  std::vector<int64_t> step_delays_minutes;
  std::map<int64_t, SimulatedSender> senders;
  std::map<int64_t, SimulatedLead> leads;
  std::map<int64_t, SimulatedBot> bots;
  int warmup_mix_percent = 0;        // the campaign's share of a warmed sender's day
  int domain_hourly_cap = 0;         // 0: not checked
  int min_health_score = 0;          // senders below it send no campaign mail
  std::vector<SimulatedSend> sends;  // any order (checked in time order)
};

// Every broken rule, in the order found (empty: all kept). Pure; `facts` must name every sender
// and lead that `sends` mentions (an unknown one is itself reported).
std::vector<SimulationViolation> CheckSimulationRules(const SimulationFacts& facts);

struct SimulationReport {
  SimulationSpec spec;
  int64_t end_ms = 0;          // virtual end of the run
  int64_t ticks = 0;           // Scheduler::RunOnce calls
  int64_t attempts = 0;        // every Send the transports saw
  int64_t cold_sent = 0;       // accepted campaign mail
  int64_t warmup_sent = 0;     // accepted warm-up mail
  int64_t warmup_to_bots = 0;  // of which to bots (the rest to peer senders)
  int64_t bots_at_limit = 0;   // bot days that received their whole daily receive limit
  // Sender days wholly in warm-up and inside the run, and of those the days whose warm-up mail
  // reached the ramp's volume exactly.
  int64_t ramp_days = 0;
  int64_t ramp_days_met = 0;
  // Warmed sender days inside the run on which the sender used its whole quota, and their warm-up
  // share (percent of their sends).
  int64_t full_days = 0;
  double full_days_warmup_percent = 0;
  int64_t transient_refusals = 0;
  int64_t permanent_refusals = 0;
  int64_t replies = 0;  // replies recorded
  // The engine's work: leads it looked at (every outcome of TickStats summed) and, of those, how
  // often a due lead was left waiting because no sender could send at that instant.
  int64_t lead_visits = 0;
  int64_t lead_waits = 0;
  std::vector<int64_t> sent_by_step;           // leads that got step k
  std::map<std::string, int64_t> lead_status;  // campaign_contacts.status -> leads
  // Leads still in their sequence at the end whose next step was due more than a day before the
  // end: left behind rather than waiting for a step that falls at the end of the run or after.
  int64_t leads_overdue = 0;
  std::string campaign_status;                   // at the end: "running", or "paused" ...
  std::string campaign_paused_reason;            // ... with the engine's reason
  std::map<std::string, int64_t> sender_status;  // "active", "paused: <reason>" -> senders
  std::map<std::string, int64_t> sent_by_day;    // "2026-03-02" (campaign zone) -> cold sends
  int64_t capacity_cold = 0;  // cold sends the quotas allowed over the run (upper bound)
  std::vector<SimulationViolation> violations;
  std::vector<std::string> campaign_errors;  // what the scheduler refused to run, if anything
  double setup_seconds = 0;                  // building the database
  double run_seconds = 0;                    // ticking (wall clock)
  double run_cpu_seconds = 0;                // ticking (this process's CPU)
  double tick_seconds = 0;                   // of run_seconds, inside Scheduler::RunOnce
  double check_seconds = 0;

  bool ok() const { return violations.empty() && campaign_errors.empty(); }
  double SendsPerWallSecond() const {
    return run_seconds > 0 ? static_cast<double>(cold_sent + warmup_sent) / run_seconds : 0;
  }
  std::string ToText() const;  // a human-readable summary, violations listed (first 50)
  std::string ToJson() const;  // the same as one JSON object (every violation)
};

// Runs the spec. Success: the report (check report.ok(): violations are results, not failures).
// Failure: the spec is invalid (InvalidArgument), a zone does not load, the database cannot be
// created or fails during the run.
Result<SimulationReport> RunSimulation(const SimulationSpec& spec, domain::TimeZoneDatabase& zones);

}  // namespace kiln::engine
