#include "kiln/engine/scheduler.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <list>
#include <set>
#include <utility>

#include "kiln/api/tracking_tokens.h"
#include "kiln/domain/quota.h"
#include "kiln/domain/schedule.h"
#include "kiln/domain/sequence.h"
#include "kiln/engine/delivery.h"
#include "kiln/engine/scheduler_links.h"
#include "kiln/mail/html_to_text.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/template/template.h"

namespace kiln::engine {
namespace json = boost::json;

// A held sender's queue: its settings, its day and its pacing, kept in memory between ticks.
struct Scheduler::SenderState {
  SenderInfo info;
  std::optional<domain::WarmupPlan> plan;  // absent: no warm-up plan (or no end date)
  bool warming = false;                    // warmup_end_at in the future: no cold mail at all
  int mix_percent = 0;                     // largest share of the running campaigns it is in
  bool in_campaign = false;
  std::shared_ptr<const domain::TimeZone> zone;
  bool day_loaded = false;
  domain::CivilDate day;
  domain::DayBounds bounds;
  int cold_sent = 0;
  int warmup_sent = 0;
  std::optional<int64_t> last_send_at;
  std::optional<int64_t> next_send_at;  // pacing; unset until the day is loaded
  int64_t warmup_idle_until = 0;        // the warm-up source had nothing: ask again after this
  int64_t settings_read_at = 0;         // when `info`, plan and campaigns were last read
  std::map<std::string, std::vector<int64_t>> domain_sends;  // cold sends per domain, last hour
  std::unique_ptr<mail::Transport> transport;
  bool sending = false;  // a cold exchange of this sender is in flight (never two at once)
  // senders.consecutive_failures may be above 0 (as read with the settings, or a failure counted
  // since): a success writes it back to 0 only then, so a sender that does not fail costs no
  // write for it.
  bool failures_may_be_nonzero = true;
};

namespace {

struct VariantInfo {
  int64_t id = 0;
  tmpl::Template subject, html, text;
};

struct StepInfo {
  int64_t id = 0;
  int64_t delay_minutes = 0;
  std::vector<VariantInfo> variants;
};

std::optional<int> ParseHhMm(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (size_t i : {0, 1, 3, 4}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

// The campaign's schedule JSON ({"days":[1..7 ISO],"start":"HH:MM","end":"HH:MM"}).
Result<domain::Schedule> ParseSchedule(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::InvalidArgument("schedule is not a JSON object");
  const json::object& o = v.as_object();
  domain::Schedule s;
  s.weekdays = 0;
  const json::value* days = o.if_contains("days");
  if (days == nullptr || !days->is_array()) return Status::InvalidArgument("schedule.days missing");
  for (const json::value& d : days->as_array()) {
    if (!d.is_int64() || d.as_int64() < 1 || d.as_int64() > 7)
      return Status::InvalidArgument("schedule.days holds something other than 1..7");
    s.weekdays |= static_cast<uint8_t>(1u << (d.as_int64() % 7));  // ISO 7 = Sunday = bit 0
  }
  const json::value* start = o.if_contains("start");
  const json::value* end = o.if_contains("end");
  std::optional<int> a, b;
  if (start && start->is_string()) a = ParseHhMm(start->as_string());
  if (end && end->is_string()) b = ParseHhMm(end->as_string());
  if (!a || !b) return Status::InvalidArgument("schedule.start/end are not HH:MM");
  s.start_minute = *a;
  s.end_minute = *b;
  KILN_RETURN_IF_ERROR(domain::ValidateSchedule(s));
  return s;
}

Result<domain::StepCondition> ParseCondition(std::string_view c) {
  // Replies stop the sequence before any condition is judged, so no_reply is "always".
  if (c == "always" || c == "no_reply") return domain::StepCondition::kAlways;
  if (c == "no_open") return domain::StepCondition::kIfNotOpened;
  if (c == "opened") return domain::StepCondition::kIfOpened;
  if (c == "clicked") return domain::StepCondition::kIfClicked;
  return Status::InvalidArgument("step condition '" + std::string(c) +
                                 "' is not supported by the engine");
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string DomainOf(const std::string& email) {
  const size_t at = email.rfind('@');
  return at == std::string::npos ? std::string() : Lower(email.substr(at + 1));
}

std::string StripBrackets(const std::string& id) {
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') return id.substr(1, id.size() - 2);
  return id;
}

domain::SenderStatus SenderStatusOf(const std::string& s) {
  if (s == "active") return domain::SenderStatus::kActive;
  if (s == "failed") return domain::SenderStatus::kFailed;
  return domain::SenderStatus::kPaused;  // paused, unverified
}

SenderInfo SenderFromRow(const store::Row& r) {
  SenderInfo s;
  s.id = r.Int("id");
  s.workspace_id = r.Int("workspace_id");
  s.email = r.Text("email");
  s.name = r.Text("name");
  s.from_name = r.Text("from_name");
  s.status = r.Text("status");
  s.daily_quota = static_cast<int>(r.Int("daily_quota"));
  s.health_score = static_cast<int>(r.Int("health_score"));
  s.warmup_end_at = r.OptInt("warmup_end_at");
  s.timezone = r.Text("timezone");
  s.tracking_domain = r.Text("tracking_domain");
  s.warmup_enabled = r.Bool("warmup_enabled");
  s.smtp_host = r.Text("smtp_host");
  s.smtp_port = static_cast<int>(r.Int("smtp_port"));
  s.smtp_security = r.Text("smtp_security");
  s.smtp_username = r.Text("smtp_username");
  s.smtp_secret_sealed = r.IsNull("smtp_secret") ? std::string() : r.Bytes("smtp_secret");
  s.allow_self_signed = r.Bool("allow_self_signed");
  return s;
}

// Template variables as api/campaigns.cpp documents them for preview and launch checks.
void SetVariables(const store::Row& lead, const SenderInfo& sender, const std::string& unsub_url,
                  tmpl::RenderContext* vars) {
  for (const char* col :
       {"email", "first_name", "last_name", "company", "title", "phone", "website", "timezone"}) {
    vars->Set(col, lead.Text(col));
  }
  const std::string first = lead.Text("first_name"), last = lead.Text("last_name");
  vars->Set("full_name", first.empty() || last.empty() ? first + last : first + " " + last);
  boost::system::error_code ec;
  json::value custom = json::parse(lead.Text("custom_fields"), ec);
  if (!ec && custom.is_object()) {
    for (const auto& kv : custom.as_object()) {
      if (kv.value().is_string())
        vars->Set("custom." + std::string(kv.key()), std::string(kv.value().as_string()));
    }
  }
  vars->Set("sender.name", sender.name);
  vars->Set("sender.email", sender.email);
  vars->Set("sender.from_name", sender.from_name);
  vars->SetSafe("unsubscribe_url", unsub_url);
}

Result<tmpl::Template> ParsePart(const store::Row& v, const char* part, size_t step) {
  auto t = tmpl::Template::Parse(v.Text(part));
  if (!t.ok()) {
    return t.status().WithContext("step " + std::to_string(step + 1) + ", variant " +
                                  std::to_string(v.Int("id")) + ", " + part);
  }
  return std::move(t).value();
}

}  // namespace
// A running campaign's definition, parsed once per change (campaigns.updated_at) rather than
// every tick, and its sender pool, reloaded on the refresh cadence.
struct Scheduler::CampaignCache {
  int64_t updated_at = -1;
  Status error = Status::Ok();  // the definition cannot be used (reported every tick it runs)
  domain::Schedule schedule;
  std::shared_ptr<const domain::TimeZone> zone;
  std::vector<StepInfo> steps;
  std::vector<domain::SequenceStep> sequence;
  std::map<int64_t, int> step_index_of;
  std::vector<int64_t> pool;
  bool pool_loaded = false;
};

namespace {

// How long a sender waits before asking the warm-up network again after it had nothing to send
// (its slot goes to cold mail meanwhile).
constexpr int64_t kWarmupIdleRetryMs = 10 * 60'000;
constexpr int64_t kHourMs = 3'600'000;
constexpr std::string_view kNoPublicUrl =
    "public_url is not set: cold email needs a working unsubscribe link (set public_url to this "
    "server's external https URL)";

// The warm-up plan of a sender row, in the sender's zone. Absent without an end date.
std::optional<domain::WarmupPlan> PlanFromRow(const store::Row& r, const domain::TimeZone& zone) {
  const std::optional<int64_t> end = r.OptInt("warmup_end_at");
  if (!end) return std::nullopt;
  domain::WarmupPlan plan;
  plan.start_date = domain::DayAt(zone, r.OptInt("warmup_start_at").value_or(r.Int("created_at")));
  plan.end_date = domain::DayAt(zone, *end);
  if (!(plan.start_date < plan.end_date)) {
    plan.end_date = domain::CivilFromDays(domain::DaysFromCivil(plan.start_date) + 1);
  }
  plan.start_volume = std::max<int>(1, static_cast<int>(r.Int("warmup_start_volume")));
  plan.daily_increase = std::max<int>(0, static_cast<int>(r.Int("warmup_daily_increase")));
  plan.max_volume =
      std::max<int>(plan.start_volume, static_cast<int>(r.Int("warmup_daily_target")));
  plan.weekdays_only = r.Bool("warmup_weekdays_only");
  return plan;
}

}  // namespace

Scheduler::Scheduler(store::Database& db, const Clock& clock, domain::TimeZoneDatabase& zones,
                     TransportFactory transports, SchedulerOptions options)
    : db_(db),
      clock_(clock),
      zones_(zones),
      transports_(std::move(transports)),
      options_(std::move(options)),
      ledger_(db, clock, options_.worker_id, options_.lease),
      rng_(options_.seed) {}

Scheduler::~Scheduler() {
  CloseTransports();
  ReleaseSenders();
}

void Scheduler::ReleaseSenders() {
  Status s = db_.Write([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(tx.Exec("engine.sender_lease_release", {options_.worker_id}).status());
    return tx.Exec("engine.worker_forget", {options_.worker_id}).status();
  });
  (void)s;  // best effort: an unreleased lease lapses by itself, a silent heartbeat goes stale
  senders_.clear();
  due_.clear();
  campaigns_of_.clear();
  next_maintenance_.reset();
  shared_at_.reset();
  held_.clear();
  unread_.clear();
}

void Scheduler::CloseTransports() {
  for (auto& [id, s] : senders_) {
    if (!s->transport) continue;
    mail::Transport* t = s->transport.get();
    boost::asio::co_spawn(
        io_, [t]() -> boost::asio::awaitable<void> { co_await t->Close(); }, boost::asio::detached);
    io_.restart();
    io_.run();
    s->transport.reset();
  }
}

void Scheduler::SetNextSend(SenderState& s, std::optional<int64_t> at) {
  if (s.next_send_at) due_.erase({*s.next_send_at, s.info.id});
  s.next_send_at = at;
  if (at) due_.insert({*at, s.info.id});
}

void Scheduler::DropSender(int64_t id) {
  auto it = senders_.find(id);
  if (it == senders_.end()) return;
  if (it->second->next_send_at) due_.erase({*it->second->next_send_at, id});
  campaigns_of_.erase(id);
  if (it->second->transport) {
    mail::Transport* t = it->second->transport.get();
    boost::asio::co_spawn(
        io_, [t]() -> boost::asio::awaitable<void> { co_await t->Close(); }, boost::asio::detached);
    io_.restart();
    io_.run();
  }
  senders_.erase(it);
}

std::optional<int64_t> Scheduler::SenderNextSendAt(int64_t sender_id) const {
  auto it = senders_.find(sender_id);
  if (it == senders_.end()) return std::nullopt;
  return it->second->next_send_at;
}

std::optional<int64_t> Scheduler::NextSendAt() const {
  if (due_.empty()) return std::nullopt;
  return due_.begin()->first;
}

std::vector<int64_t> Scheduler::HeldSenders() const {
  std::vector<int64_t> ids;
  for (const auto& [id, s] : senders_) ids.push_back(id);
  return ids;
}

std::optional<Scheduler::SenderDay> Scheduler::SenderToday(int64_t sender_id) const {
  auto it = senders_.find(sender_id);
  if (it == senders_.end() || !it->second->day_loaded) return std::nullopt;
  const SenderState& s = *it->second;
  return SenderDay{s.day, AllowanceOf(s), s.cold_sent, s.warmup_sent};
}

// --- Each sender's day -------------------------------------------------------------------------

domain::DailyAllowance Scheduler::AllowanceOf(const SenderState& s) const {
  domain::SenderQuota quota{.daily_limit = s.info.daily_quota, .warmup = std::nullopt};
  if (s.warming && s.plan) {
    quota.warmup = *s.plan;
    // warmup_end_at is an instant: the whole day it falls on, up to then, is still warm-up.
    if (!(s.day < quota.warmup->end_date)) {
      quota.warmup->end_date = domain::CivilFromDays(domain::DaysFromCivil(s.day) + 1);
    }
  }
  domain::DailyAllowance a =
      domain::SenderAllowance(quota, s.in_campaign ? s.mix_percent : 0, s.day);
  if (s.warming && !s.plan) a = {.total = 0, .cold = 0, .warmup = 0, .in_warmup = true};
  return a;
}

bool Scheduler::WarmupPossible(const SenderState& s, int64_t now) const {
  return options_.warmup != nullptr && s.info.warmup_enabled && now >= s.warmup_idle_until;
}

domain::SendKind Scheduler::NextKind(const SenderState& s, int64_t now) const {
  domain::DailyAllowance a = AllowanceOf(s);
  // Warm-up mail that cannot be sent now leaves its share unused; cold keeps its own part.
  if (!WarmupPossible(s, now)) a.warmup = 0;
  // A sender that cannot send cold mail at all today (in no running campaign, or below the
  // health gate) spends its day on warm-up rather than waiting for a cold turn that never comes.
  if (!s.in_campaign || s.info.health_score < options_.rotation.min_health_score) a.cold = 0;
  return domain::NextSendKind(a, s.cold_sent, s.warmup_sent);
}

bool Scheduler::WarmupBehind(const SenderState& s, int64_t now) const {
  if (!WarmupPossible(s, now)) return false;
  const domain::DailyAllowance a = AllowanceOf(s);
  if (s.warmup_sent >= a.warmup) return false;
  const int64_t length = std::max<int64_t>(1, s.bounds.end_ms - s.bounds.start_ms);
  const int64_t elapsed = std::clamp<int64_t>(now - s.bounds.start_ms, 0, length);
  return s.warmup_sent < (int64_t{a.warmup} * elapsed + length - 1) / length;
}

void Scheduler::Repace(SenderState& s, int64_t now, bool sent) {
  if (sent) s.last_send_at = now;
  const domain::DailyAllowance a = AllowanceOf(s);
  const int remaining = a.total - s.cold_sent - s.warmup_sent;
  if (remaining <= 0) {
    SetNextSend(s, s.bounds.end_ms);  // the day is done: wake up when it turns
    return;
  }
  // The day's sends are spread over what is left of the day; a send of an earlier day is not
  // where today's spacing starts (pacing.h), only its minimum gap holds.
  const domain::PacingState ps{.now_ms = now,
                               .last_send_ms = s.last_send_at,
                               .horizon_ms = s.bounds.end_ms,
                               .remaining = remaining,
                               .window_start_ms = s.bounds.start_ms};
  const int64_t next = domain::NextSendTime(options_.pacing, ps, rng_);
  SetNextSend(s, next);
}

Status Scheduler::LoadDay(SenderState& s, int64_t now) {
  s.day = domain::DayAt(*s.zone, now);
  s.bounds = domain::DayBoundsOf(*s.zone, s.day);
  std::vector<store::Row> recent;
  std::optional<store::Row> counts;
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(counts, tx.QueryRow("engine.sender_day_counts",
                                              {s.info.id, s.bounds.start_ms, s.bounds.end_ms}));
    if (options_.domain_hourly_cap > 0) {
      KILN_ASSIGN_OR_RETURN(recent,
                            tx.Query("engine.sender_recent_domains", {s.info.id, now - kHourMs}));
    }
    return Status::Ok();
  }));
  s.cold_sent = static_cast<int>(counts->Int("cold"));
  s.warmup_sent = static_cast<int>(counts->Int("warm"));
  s.last_send_at.reset();
  for (const char* col : {"last_cold", "last_warm"}) {
    if (auto t = counts->OptInt(col); t && (!s.last_send_at || *t > *s.last_send_at)) {
      s.last_send_at = t;
    }
  }
  s.domain_sends.clear();
  for (const store::Row& r : recent) {
    s.domain_sends[DomainOf(r.Text("email"))].push_back(r.Int("sent_at"));
  }
  s.day_loaded = true;
  Repace(s, now, false);
  return Status::Ok();
}

Status Scheduler::EnsureDay(SenderState& s, int64_t now) {
  if (!s.day_loaded) return LoadDay(s, now);
  if (now >= s.bounds.start_ms && now < s.bounds.end_ms) return Status::Ok();
  // A new day on the sender's clock: its counts start again (this worker has held it since).
  s.day = domain::DayAt(*s.zone, now);
  s.bounds = domain::DayBoundsOf(*s.zone, s.day);
  s.cold_sent = 0;
  s.warmup_sent = 0;
  s.warmup_idle_until = 0;
  Repace(s, now, false);
  return Status::Ok();
}

// --- Leases, settings, bounces (the refresh cadence) ----------------------------------------

Status Scheduler::Maintain(int64_t now, TickStats& stats) {
  if (next_maintenance_ && now < *next_maintenance_) return Status::Ok();
  const int64_t every = RefreshEvery();
  next_maintenance_ = now + every;
  // A claim lapses a whole lease after it was made, so looking for lapsed claims on this cadence
  // (at most a third of the lease) marks it unknown at most that much later, without a write
  // transaction on every tick.
  KILN_ASSIGN_OR_RETURN(stats.reaped_unknown, ledger_.ReapLapsed());
  // The heartbeat renews every lease this worker holds (decision 0011). If it had lapsed (the
  // process stood still for a lease), other workers may have taken some of its senders: what it
  // holds is read again.
  bool lapsed = false;
  KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto last,
                          tx.QueryOne("engine.worker_heartbeat_of", {options_.worker_id}));
    lapsed = !last || last->Int("heartbeat_at") < now - options_.lease.count();
    return tx.Exec("engine.worker_heartbeat", {options_.worker_id, now}).status();
  }));
  // The fair share counts the live workers and looks for senders to take; it runs when the next
  // refresh would come later than a third of the lease after the last one, or at once when this
  // worker's heartbeat had lapsed.
  bool share = lapsed || !shared_at_ || now + every > *shared_at_ + options_.lease.count() / 3;
  if (!share) {
    // A sender nobody holds that needs a worker (just added, or its campaign just launched) is
    // taken at this refresh rather than up to a third of a lease later.
    const int64_t warm_on = options_.warmup != nullptr ? 1 : 0;
    KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto unheld, tx.QueryOne("engine.unheld_wanted_sender", {warm_on}));
      share = unheld.has_value();
      return Status::Ok();
    }));
  }
  if (share) {
    KILN_RETURN_IF_ERROR(ShareSenders(now, lapsed));
    shared_at_ = now;
  }
  KILN_RETURN_IF_ERROR(RefreshSenders(now));
  for (auto& [id, c] : campaigns_) c->pool_loaded = false;

  // Bounces recorded since the last look, at SMTP time or found later by the inbox watcher.
  std::vector<store::Row> bounced;
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(bounced, tx.Query("engine.senders_bounced_since",
                                            {options_.worker_id, bounces_seen_until_}));
    return Status::Ok();
  }));
  bounces_seen_until_ = now;
  for (const store::Row& r : bounced) {
    auto it = senders_.find(r.Int("sender_id"));
    if (it != senders_.end()) KILN_RETURN_IF_ERROR(CheckBounceRate(*it->second, stats));
  }
  return Status::Ok();
}

int64_t Scheduler::RefreshEvery() const {
  return std::max<int64_t>(1,
                           std::min<int64_t>(options_.refresh.count(), options_.lease.count() / 3));
}

void Scheduler::ForgetHeld(std::vector<int64_t> ids) {
  if (ids.empty()) return;
  std::sort(ids.begin(), ids.end());
  auto in = [&](int64_t id) { return std::binary_search(ids.begin(), ids.end(), id); };
  std::erase_if(held_, in);
  std::erase_if(unread_, in);
  for (int64_t id : ids) DropSender(id);
}

Status Scheduler::ShareSenders(int64_t now, bool resync) {
  const int64_t warm_on = options_.warmup != nullptr ? 1 : 0;
  const int64_t lapsed_before = now - options_.lease.count();
  int64_t live = 1, wanted = 0;
  std::vector<int64_t> rows_held;
  KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
    const int64_t long_dead = now - 7 * 24 * kHourMs;
    KILN_RETURN_IF_ERROR(tx.Exec("engine.workers_prune_leases", {long_dead}).status());
    KILN_RETURN_IF_ERROR(tx.Exec("engine.workers_prune", {long_dead}).status());
    KILN_ASSIGN_OR_RETURN(auto l, tx.QueryRow("engine.live_workers", {lapsed_before}));
    live = std::max<int64_t>(1, l.Int("n"));
    // Alone, a worker holds every sender that needs one: no count is needed (it would read every
    // sender).
    if (live > 1) {
      KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("engine.wanted_senders_count", {warm_on}));
      wanted = w.Int("n");
    }
    rows_held.clear();
    if (resync) {
      KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("engine.held_sender_ids", {options_.worker_id}));
      for (const auto& r : rows) rows_held.push_back(r.Int("id"));
    }
    return Status::Ok();
  }));
  if (resync) {
    // What the database says this worker holds; senders it kept in memory that another worker
    // took meanwhile leave, and held senders it has not read yet are read at the next refresh.
    held_ = std::move(rows_held);
    std::vector<int64_t> gone;
    for (const auto& [id, s] : senders_) {
      if (!std::binary_search(held_.begin(), held_.end(), id)) gone.push_back(id);
    }
    for (int64_t id : gone) DropSender(id);
    unread_.clear();
    for (int64_t id : held_) {
      if (!senders_.count(id)) unread_.push_back(id);
    }
  }
  // A fair share: at most ceil(wanted / live) each, so a new worker finds senders to take and a
  // dead worker's senders (its heartbeat older than a lease) are taken by the others.
  const int64_t have = static_cast<int64_t>(held_.size());
  const int64_t share = (wanted + live - 1) / live;
  if (live > 1 && have > share) {
    std::vector<int64_t> give_back(held_.end() - (have - share), held_.end());
    KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
      for (int64_t id : give_back) {
        KILN_RETURN_IF_ERROR(
            tx.Exec("engine.sender_lease_drop", {id, options_.worker_id}).status());
      }
      return Status::Ok();
    }));
    ForgetHeld(std::move(give_back));
    return Status::Ok();
  }
  if (live > 1 && have >= share) return Status::Ok();
  constexpr int64_t kAll = int64_t{1} << 40;
  const int64_t room = live == 1 ? kAll : share - have;
  std::vector<int64_t> taken;
  KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
    taken.clear();
    KILN_ASSIGN_OR_RETURN(
        auto free, tx.Query("engine.sender_lease_candidates", {warm_on, lapsed_before, room}));
    for (const auto& r : free) {
      KILN_ASSIGN_OR_RETURN(
          int64_t changed,
          tx.Exec("engine.sender_lease", {r.Int("id"), options_.worker_id, lapsed_before,
                                          r.IsNull("lease_owner") ? "" : r.Text("lease_owner")}));
      if (changed == 1) taken.push_back(r.Int("id"));
    }
    return Status::Ok();
  }));
  if (taken.empty()) return Status::Ok();
  held_.insert(held_.end(), taken.begin(), taken.end());
  std::sort(held_.begin(), held_.end());
  held_.erase(std::unique(held_.begin(), held_.end()), held_.end());
  unread_.insert(unread_.end(), taken.begin(), taken.end());
  return Status::Ok();
}

Status Scheduler::RefreshSenders(int64_t now) {
  const bool warm_on = options_.warmup != nullptr;
  const int64_t every = RefreshEvery();
  // Settings are read for senders taken since the last refresh and for held senders that may
  // send before the next refresh, when a refresh has passed since they were read: a send always
  // goes out with settings at most one refresh old, and a sender whose next send is hours away
  // costs nothing until then. The due set is ordered by next send, so a refresh costs
  // O(senders due soon), never O(senders held).
  // (unread_ is emptied only once they are read: a failed refresh reads them again next time.)
  std::vector<int64_t> stale = unread_;
  for (auto it = due_.begin(); it != due_.end() && it->first <= now + every; ++it) {
    // due_ holds only senders of senders_ (SetNextSend adds them, DropSender takes them out).
    if (senders_.at(it->second)->settings_read_at + every > now) continue;
    stale.push_back(it->second);
  }
  if (stale.empty()) return Status::Ok();
  std::sort(stale.begin(), stale.end());
  stale.erase(std::unique(stale.begin(), stale.end()), stale.end());
  std::vector<std::optional<store::Row>> rows(stale.size());
  std::vector<std::vector<int64_t>> pools(stale.size());
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    for (size_t i = 0; i < stale.size(); ++i) {
      KILN_ASSIGN_OR_RETURN(rows[i],
                            tx.QueryOne("engine.held_sender", {stale[i], options_.worker_id}));
      KILN_ASSIGN_OR_RETURN(auto campaigns,
                            tx.Query("engine.sender_running_campaigns", {stale[i]}));
      pools[i].clear();
      for (const store::Row& c : campaigns) pools[i].push_back(c.Int("campaign_id"));
    }
    return Status::Ok();
  }));
  std::vector<int64_t> unwanted, lost;
  for (size_t i = 0; i < stale.size(); ++i) {
    const int64_t id = stale[i];
    if (!rows[i]) {  // the lease was lost (another worker took it while this one had lapsed)
      lost.push_back(id);
      continue;
    }
    const store::Row& r = *rows[i];
    const bool in_campaign = !r.IsNull("mix_percent");
    if (r.Text("status") != "active" || !(in_campaign || (warm_on && r.Bool("warmup_enabled")))) {
      unwanted.push_back(id);
      continue;
    }
    auto& slot = senders_[id];
    if (!slot) slot = std::make_unique<SenderState>();
    SenderState& s = *slot;
    const std::string old_zone = s.info.timezone;
    s.info = SenderFromRow(r);
    auto zone = zones_.Get(s.info.timezone);
    if (!zone.ok()) zone = zones_.Get("UTC");  // the API validates zones; UTC rather than stop
    if (!zone.ok()) return zone.status();
    if (!s.zone || old_zone != s.info.timezone) s.day_loaded = false;
    s.zone = *zone;
    s.in_campaign = in_campaign;
    s.mix_percent = in_campaign ? static_cast<int>(r.Int("mix_percent")) : 0;
    s.plan = PlanFromRow(r, *s.zone);
    s.warming = s.info.warmup_end_at && *s.info.warmup_end_at > now;
    s.settings_read_at = now;
    s.failures_may_be_nonzero = r.Int("consecutive_failures") != 0;
    // Which running campaigns it sends for: a tick runs only the campaigns of due senders.
    if (pools[i].empty()) {
      campaigns_of_.erase(id);
    } else {
      campaigns_of_[id] = std::move(pools[i]);
    }
    if (!s.day_loaded) KILN_RETURN_IF_ERROR(EnsureDay(s, now));
  }
  if (!unwanted.empty()) {
    KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
      for (int64_t id : unwanted) {
        KILN_RETURN_IF_ERROR(
            tx.Exec("engine.sender_lease_drop", {id, options_.worker_id}).status());
      }
      return Status::Ok();
    }));
  }
  unread_.clear();
  lost.insert(lost.end(), unwanted.begin(), unwanted.end());
  ForgetHeld(std::move(lost));
  return Status::Ok();
}

Status Scheduler::OpenTransport(SenderState& s, TickStats& stats) {
  if (s.transport) return Status::Ok();
  auto t = transports_(s.info, io_.get_executor());
  if (t.ok()) {
    s.transport = std::move(t).value();
    return Status::Ok();
  }
  s.info.status = "failed";
  ++stats.senders_paused;
  return db_.Write([&](store::Tx& tx) {
    return tx
        .Exec("engine.sender_set_status",
              {s.info.id, "failed", t.status().message(), clock_.NowMillis()})
        .status();
  });
}

Status Scheduler::SenderFailure(SenderState& s, const std::string& reason, TickStats& stats) {
  s.failures_may_be_nonzero = true;  // also when the write below fails: it may have committed
  return db_.Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto row,
                          tx.QueryRow("engine.sender_failure", {s.info.id, clock_.NowMillis()}));
    const int n = static_cast<int>(row.Int("consecutive_failures"));
    if (domain::ShouldPauseForFailures(n, options_.failure_pause) && s.info.status == "active") {
      s.info.status = "paused";
      ++stats.senders_paused;
      return tx
          .Exec("engine.sender_set_status",
                {s.info.id, "paused", std::to_string(n) + " consecutive failures; last: " + reason,
                 clock_.NowMillis()})
          .status();
    }
    return Status::Ok();
  });
}

Status Scheduler::CheckBounceRate(SenderState& s, TickStats& stats) {
  if (s.info.status != "active") return Status::Ok();
  int sends = 0, bounced = 0;
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto r, tx.QueryRow("engine.sender_bounce_window",
                                              {s.info.id, int64_t{options_.bounce_window_sends}}));
    sends = static_cast<int>(r.Int("sends"));
    bounced = static_cast<int>(r.Int("bounced"));
    return Status::Ok();
  }));
  if (!domain::ShouldPauseForBounces(sends, bounced, options_.bounce)) return Status::Ok();
  const std::string reason = domain::BouncePauseReason(sends, bounced, options_.bounce);
  const int64_t now = clock_.NowMillis();
  KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(tx.Exec("engine.sender_pause", {s.info.id, reason, now}).status());
    return tx
        .Exec("engine.campaigns_pause_for_sender",
              {s.info.id, "sender " + s.info.email + " was paused: " + reason, now})
        .status();
  }));
  s.info.status = "paused";
  ++stats.senders_paused;
  return Status::Ok();
}

// --- The tick ---------------------------------------------------------------------------------

Result<TickStats> Scheduler::RunOnce(const std::atomic<bool>* stop) {
  TickStats stats;
  campaign_errors_.clear();
  // The stop request is this tick's only: it is forgotten when the tick returns, however it does.
  stop_ = stop;
  struct ForgetStop {
    const std::atomic<bool>*& stop;
    ~ForgetStop() { stop = nullptr; }
  } forget_stop{stop_};
  const int64_t now = clock_.NowMillis();
  const bool maintained = !next_maintenance_ || now >= *next_maintenance_;
  KILN_RETURN_IF_ERROR(Maintain(now, stats));
  // The senders whose next send is due: the only ones this tick looks at.
  due_now_.clear();
  for (auto it = due_.begin(); it != due_.end() && it->first <= now; ++it) {
    due_now_.push_back(it->second);
  }
  std::sort(due_now_.begin(), due_now_.end());
  std::set<int64_t> wanted_campaigns;
  for (int64_t id : due_now_) {
    auto it = campaigns_of_.find(id);
    if (it != campaigns_of_.end()) wanted_campaigns.insert(it->second.begin(), it->second.end());
  }
  KILN_RETURN_IF_ERROR(RunWarmup(stats, /*fill=*/false));
  if (StopRequested()) {
    stats.cut_short = true;
    return stats;
  }
  // Every running campaign on the refresh cadence (errors of campaigns no due sender sends for,
  // the cache of campaigns that stopped running); in between, only the campaigns of the due
  // senders, each read by id, so a tick costs what is due rather than what exists.
  std::vector<store::Row> campaigns;
  // Nothing to read (no refresh, no due sender in a campaign, as in a tick of warm-up only): no
  // transaction either.
  if (maintained || !wanted_campaigns.empty()) {
    KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
      if (maintained) {
        KILN_ASSIGN_OR_RETURN(campaigns, tx.Query("engine.running_campaigns"));
        return Status::Ok();
      }
      for (int64_t id : wanted_campaigns) {
        KILN_ASSIGN_OR_RETURN(std::optional<store::Row> c,
                              tx.QueryOne("engine.running_campaign", {id}));
        if (c) campaigns.push_back(std::move(*c));
      }
      return Status::Ok();
    }));
  }
  if (!maintained) {
    // Campaigns no due sender sends for are not read this tick: still broken ones stay reported.
    for (int64_t id : broken_campaigns_) {
      if (wanted_campaigns.count(id)) continue;
      auto cached = campaigns_.find(id);
      if (cached != campaigns_.end() && !cached->second->error.ok()) {
        campaign_errors_.push_back("campaign " + std::to_string(id) + ": " +
                                   cached->second->error.message());
      } else if (options_.public_url.empty()) {
        campaign_errors_.push_back("campaign " + std::to_string(id) + ": " +
                                   std::string(kNoPublicUrl));
      }
    }
  }
  std::set<int64_t> running;
  if (maintained) broken_campaigns_.clear();
  for (const store::Row& c : campaigns) {
    running.insert(c.Int("id"));
    Status s = Status::Ok();
    if (wanted_campaigns.count(c.Int("id"))) {
      s = RunCampaign(c, stats);
      // Stopped: the campaigns not run yet keep their leads and errors for a later tick.
      if (s.ok() && StopRequested()) {
        stats.cut_short = true;
        return stats;
      }
    } else if (options_.public_url.empty()) {
      s = Status::FailedPrecondition(std::string(kNoPublicUrl));
    } else if (auto cached = campaigns_.find(c.Int("id")); cached != campaigns_.end()) {
      s = cached->second->error;  // still broken: still reported
    }
    if (s.ok()) {
      broken_campaigns_.erase(c.Int("id"));
      continue;
    }
    if (s.code() == Status::Code::kInvalidArgument ||
        s.code() == Status::Code::kFailedPrecondition) {
      campaign_errors_.push_back("campaign " + std::to_string(c.Int("id")) + ": " + s.message());
      broken_campaigns_.insert(c.Int("id"));
      continue;
    }
    return s;
  }
  if (maintained) {
    std::erase_if(campaigns_, [&](const auto& kv) { return !running.count(kv.first); });
  } else {
    // A due sender's campaign that stopped running since the last refresh.
    for (int64_t id : wanted_campaigns) {
      if (!running.count(id)) campaigns_.erase(id);
    }
  }
  KILN_RETURN_IF_ERROR(RunWarmup(stats, /*fill=*/true));
  return stats;
}

Status Scheduler::RunWarmup(TickStats& stats, bool fill) {
  if (options_.warmup == nullptr) return Status::Ok();
  for (int64_t id : due_now_) {
    auto found = senders_.find(id);
    if (found == senders_.end()) continue;
    SenderState& s = *found->second;
    if (s.info.status != "active" || !s.info.warmup_enabled) continue;
    int64_t now = clock_.NowMillis();
    KILN_RETURN_IF_ERROR(EnsureDay(s, now));
    if (!s.next_send_at || *s.next_send_at > now) continue;
    const domain::SendKind kind = NextKind(s, now);
    // fill: the slot was cold's but no lead took it (none due, all outside their windows): warm-up
    // may have it when it is behind its even share of the day so far.
    if (kind != domain::SendKind::kWarmup &&
        !(fill && kind == domain::SendKind::kCold && WarmupBehind(s, now))) {
      continue;
    }
    // The warm-up source claims its message in Next: nothing more is claimed once stopped.
    if (StopRequested()) {
      stats.cut_short = true;
      return Status::Ok();
    }
    KILN_ASSIGN_OR_RETURN(std::optional<WarmupMessage> next, options_.warmup->Next(s.info, now));
    if (!next) {
      s.warmup_idle_until = now + kWarmupIdleRetryMs;  // cold mail may take the slot meanwhile
      continue;
    }
    Result<std::string> data = mail::ComposeMessage(next->message);
    if (data.ok()) {
      auto dkim = options_.dkim_by_domain.find(DomainOf(s.info.email));
      if (dkim != options_.dkim_by_domain.end() && dkim->second != nullptr) {
        data = dkim->second->Sign(*data, clock_.Now());
      }
    }
    mail::SendResult result;
    if (!data.ok()) {
      result.cls = mail::SendResult::Class::kPermanent;
      result.reason = "cannot compose the warm-up message: " + data.status().ToString();
    } else {
      KILN_RETURN_IF_ERROR(OpenTransport(s, stats));
      if (!s.transport) {
        result.cls = mail::SendResult::Class::kSenderProblem;
        result.reason = "sender " + s.info.email + " failed: " + s.info.status;
      } else {
        result = SendBlocking(io_, *s.transport, mail::DefaultEnvelope(next->message), *data);
      }
    }
    now = clock_.NowMillis();
    KILN_RETURN_IF_ERROR(options_.warmup->Record(next->warmup_message_id, result, now));
    if (result.ok()) {
      ++stats.warmup_sent;
      ++s.warmup_sent;
      // The failure counter goes back to 0, in a write of its own only when it may not be 0.
      if (s.failures_may_be_nonzero) {
        KILN_RETURN_IF_ERROR(db_.Write(
            [&](store::Tx& tx) { return tx.Exec("engine.sender_success", {s.info.id}).status(); }));
        s.failures_may_be_nonzero = false;
      }
      Repace(s, now, true);
      continue;
    }
    ++stats.warmup_failed;
    if (result.cls == mail::SendResult::Class::kSenderProblem && s.info.status == "active") {
      s.info.status = "failed";
      ++stats.senders_paused;
      KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) {
        return tx.Exec("engine.sender_set_status", {s.info.id, "failed", result.reason, now})
            .status();
      }));
    } else if (data.ok()) {
      KILN_RETURN_IF_ERROR(SenderFailure(s, result.reason, stats));
    }
    // Not straight back at it: the next attempt waits at least one pacing gap.
    SetNextSend(s, now + std::max<int64_t>(options_.pacing.min_gap_ms, 60'000));
  }
  return Status::Ok();
}

Status Scheduler::RunCampaign(const store::Row& campaign, TickStats& stats) {
  const int64_t campaign_id = campaign.Int("id");
  const int64_t ws = campaign.Int("workspace_id");
  // Compliance: every cold email carries a working unsubscribe link and RFC 8058 headers, so a
  // campaign does not send at all while this server has no external URL to put in them.
  if (options_.public_url.empty()) return Status::FailedPrecondition(std::string(kNoPublicUrl));
  auto& cache_slot = campaigns_[campaign_id];
  if (!cache_slot) cache_slot = std::make_unique<CampaignCache>();
  CampaignCache& cc = *cache_slot;
  if (cc.updated_at != campaign.Int("updated_at")) {
    cc.updated_at = campaign.Int("updated_at");
    cc.pool_loaded = false;
    cc.error = [&]() -> Status {
      KILN_ASSIGN_OR_RETURN(cc.schedule, ParseSchedule(campaign.Text("schedule")));
      KILN_ASSIGN_OR_RETURN(cc.zone, zones_.Get(campaign.Text("timezone")));
      std::vector<store::Row> step_rows, variant_rows;
      KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
        KILN_ASSIGN_OR_RETURN(step_rows, tx.Query("engine.campaign_steps", {campaign_id}));
        KILN_ASSIGN_OR_RETURN(variant_rows, tx.Query("engine.campaign_variants", {campaign_id}));
        return Status::Ok();
      }));
      cc.steps.clear();
      cc.sequence.clear();
      cc.step_index_of.clear();
      for (size_t i = 0; i < step_rows.size(); ++i) {
        StepInfo st{step_rows[i].Int("id"), step_rows[i].Int("delay_minutes"), {}};
        domain::SequenceStep ds;
        ds.delay_minutes = st.delay_minutes;
        KILN_ASSIGN_OR_RETURN(ds.condition, ParseCondition(step_rows[i].Text("condition")));
        ds.variant_weights.clear();
        for (const auto& v : variant_rows) {
          if (v.Int("step_id") != st.id) continue;
          KILN_ASSIGN_OR_RETURN(auto subject, ParsePart(v, "subject", i));
          KILN_ASSIGN_OR_RETURN(auto html, ParsePart(v, "body_html", i));
          KILN_ASSIGN_OR_RETURN(auto text, ParsePart(v, "body_text", i));
          st.variants.push_back(
              {v.Int("id"), std::move(subject), std::move(html), std::move(text)});
          ds.variant_weights.push_back(static_cast<int>(v.Int("weight")));
        }
        cc.step_index_of[st.id] = static_cast<int>(i);
        cc.steps.push_back(std::move(st));
        cc.sequence.push_back(std::move(ds));
      }
      if (cc.steps.empty()) return Status::Ok();
      return domain::ValidateSequence(cc.sequence);
    }();
    if (!cc.error.ok() && cc.error.code() != Status::Code::kInvalidArgument &&
        cc.error.code() != Status::Code::kNotFound) {
      Status s = cc.error;
      cc.updated_at = -1;  // a database failure: parse again next time
      return s;
    }
    if (!cc.error.ok()) cc.error = Status::InvalidArgument(cc.error.message());
  }
  KILN_RETURN_IF_ERROR(cc.error);
  if (cc.steps.empty()) return Status::Ok();
  if (!cc.pool_loaded) {
    std::vector<store::Row> rows;
    KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(rows, tx.Query("engine.campaign_pool", {campaign_id}));
      return Status::Ok();
    }));
    cc.pool.clear();
    for (const auto& r : rows) cc.pool.push_back(r.Int("sender_id"));
    std::sort(cc.pool.begin(), cc.pool.end());
    cc.pool_loaded = true;
  }
  const std::vector<StepInfo>& steps = cc.steps;
  const std::vector<domain::SequenceStep>& sequence = cc.sequence;
  const domain::Schedule& schedule = cc.schedule;
  const auto& campaign_zone = cc.zone;
  const int daily_limit = static_cast<int>(campaign.Int("daily_limit"));
  domain::SequenceSettings settings{.stop_on_auto_reply = campaign.Bool("stop_on_auto_reply")};
  const bool track_opens = campaign.Bool("track_opens");
  const bool track_clicks = campaign.Bool("track_clicks");
  const bool text_only = campaign.Bool("plain_text_only");
  const std::string tracking_domain = campaign.Text("tracking_domain");

  int64_t now = clock_.NowMillis();
  // The held senders of the pool that could send cold mail now, before any lead is read.
  auto cold_ready = [&](const SenderState& s) {
    return s.info.status == "active" && !s.warming &&
           s.info.health_score >= options_.rotation.min_health_score && s.next_send_at &&
           *s.next_send_at <= now && NextKind(s, now) == domain::SendKind::kCold;
  };
  // Only these take part in rotation this tick (so a lead costs O(ready senders), not O(pool)).
  std::vector<SenderState*> ready;
  for (int64_t id : due_now_) {
    if (!std::binary_search(cc.pool.begin(), cc.pool.end(), id)) continue;
    auto it = senders_.find(id);
    if (it == senders_.end()) continue;
    KILN_RETURN_IF_ERROR(EnsureDay(*it->second, now));
    if (cold_ready(*it->second)) ready.push_back(it->second.get());
  }
  if (ready.empty()) return Status::Ok();

  int campaign_sent_today = 0;
  bool limit_loaded = false;

  auto write = [&](const std::function<Status(store::Tx&)>& fn) { return db_.Write(fn); };
  auto stop_lead = [&](int64_t cc_id, std::string status, std::string reason) -> Status {
    ++stats.stopped;
    return write([&](store::Tx& tx) {
      return tx.Exec("engine.lead_stop", {cc_id, status, reason, clock_.NowMillis()}).status();
    });
  };
  auto defer_lead = [&](int64_t cc_id, int64_t at) -> Status {
    ++stats.deferred;
    return write([&](store::Tx& tx) {
      return tx.Exec("engine.lead_defer", {cc_id, at, clock_.NowMillis()}).status();
    });
  };
  auto remaining_of = [&](const SenderState& s) {
    if (s.warming) return 0;
    return domain::ColdSendsAvailable(AllowanceOf(s), s.cold_sent, daily_limit,
                                      campaign_sent_today);
  };
  auto domain_cap = [&](SenderState& s, const std::string& rcpt_domain) {
    if (options_.domain_hourly_cap <= 0) return domain::DomainCapDecision{true, now};
    auto it = s.domain_sends.find(rcpt_domain);
    if (it == s.domain_sends.end()) return domain::DomainCapDecision{true, now};
    std::erase_if(it->second, [&](int64_t t) { return t <= now - kHourMs; });
    return domain::CheckDomainCap(
        it->second, now, {.max_per_window = options_.domain_hourly_cap, .window_ms = kHourMs});
  };

  // Cold sends whose claim is committed and whose SMTP exchange is under way on io_: at most one
  // per sender, at most max_in_flight, settled on this thread as they finish (decision 0010).
  struct ColdSend {
    SenderState* sender = nullptr;
    int64_t message_id = 0, cc_id = 0, contact_id = 0;
    size_t step_index = 0;
    int attempts = 0;  // of the claim
    std::string email, rcpt_domain;
    mail::Envelope envelope;
    std::string data;
    std::optional<mail::SendResult> result;
  };
  std::list<ColdSend> in_flight;
  std::vector<ColdSend*> finished;  // in the order they finished, not yet settled
  const int max_in_flight = std::max(1, options_.max_concurrent_sends);
  // The outcome, the lead's next state and the sender's counters, in one transaction.
  auto settle = [&](ColdSend& c) -> Status {
    SenderState& sender = *c.sender;
    sender.sending = false;
    now = clock_.NowMillis();
    const size_t following = c.step_index + 1;
    auto lead_writes = [&](store::Tx& tx, const Delivery& d) -> Status {
      switch (d.outcome) {
        case DeliveryOutcome::kNotClaimed:
          return Status::Ok();
        case DeliveryOutcome::kSent:
          if (sender.failures_may_be_nonzero) {
            KILN_RETURN_IF_ERROR(tx.Exec("engine.sender_success", {sender.info.id}).status());
          }
          if (following >= steps.size()) {
            KILN_RETURN_IF_ERROR(tx.Exec("engine.lead_advance",
                                         {c.cc_id, campaign_id, static_cast<int64_t>(following),
                                          std::nullopt, sender.info.id, now})
                                     .status());
            return tx.Exec("engine.lead_stop", {c.cc_id, "completed", "completed", now}).status();
          }
          return tx
              .Exec("engine.lead_advance",
                    {c.cc_id, campaign_id, static_cast<int64_t>(following),
                     now + steps[following].delay_minutes * 60'000, sender.info.id, now})
              .status();
        case DeliveryOutcome::kRetry:
          return tx.Exec("engine.lead_defer", {c.cc_id, d.next_attempt_at.value_or(now), now})
              .status();
        case DeliveryOutcome::kSenderProblem:
          KILN_RETURN_IF_ERROR(
              tx.Exec("engine.sender_set_status", {sender.info.id, "failed", d.smtp.reason, now})
                  .status());
          return tx.Exec("engine.lead_defer", {c.cc_id, now, now}).status();
        case DeliveryOutcome::kBounced:
          KILN_RETURN_IF_ERROR(
              tx.Exec("engine.suppress_address",
                      {ws, c.email, "message " + std::to_string(c.message_id), now})
                  .status());
          KILN_RETURN_IF_ERROR(
              tx.Exec("engine.contact_mark_bounced", {c.contact_id, now}).status());
          return tx.Exec("engine.lead_stop", {c.cc_id, "bounced", d.smtp.reason, now}).status();
        case DeliveryOutcome::kFailed:
          return tx.Exec("engine.lead_stop", {c.cc_id, "failed", d.smtp.reason, now}).status();
      }
      std::abort();
    };
    KILN_ASSIGN_OR_RETURN(Delivery d,
                          RecordDelivery(ledger_, c.message_id, c.attempts, std::move(*c.result),
                                         options_.backoff, rng_, clock_, lead_writes));
    if (d.outcome != DeliveryOutcome::kSent) --campaign_sent_today;
    switch (d.outcome) {
      case DeliveryOutcome::kNotClaimed:
        break;
      case DeliveryOutcome::kSent:
        ++stats.sent;
        ++sender.cold_sent;
        sender.failures_may_be_nonzero = false;  // reset in the transaction just committed
        if (options_.domain_hourly_cap > 0) sender.domain_sends[c.rcpt_domain].push_back(now);
        Repace(sender, now, true);
        break;
      case DeliveryOutcome::kRetry:
        ++stats.retried;
        ++stats.deferred;
        // A refused attempt is still a transaction with the server: the sender waits its gap
        // before the next one. Without that, a server that defers for a minute (421, a network
        // blip) saw one tick run lead after lead into it, eleven failures within a second, and
        // the sender paused for a failure that backoff was meant to ride out.
        Repace(sender, now, true);
        KILN_RETURN_IF_ERROR(SenderFailure(sender, d.smtp.reason, stats));
        break;
      case DeliveryOutcome::kSenderProblem:
        ++stats.retried;
        if (sender.info.status != "failed") ++stats.senders_paused;
        sender.info.status = "failed";
        break;
      case DeliveryOutcome::kBounced:
        ++stats.bounced;
        ++stats.stopped;
        Repace(sender, now, true);
        KILN_RETURN_IF_ERROR(CheckBounceRate(sender, stats));
        break;
      case DeliveryOutcome::kFailed:
        ++stats.failed;
        ++stats.stopped;
        Repace(sender, now, true);
        KILN_RETURN_IF_ERROR(SenderFailure(sender, d.smtp.reason, stats));
        break;
    }
    return Status::Ok();
  };
  // Waits (running io_) for the next exchange to finish and settles it.
  auto settle_next = [&]() -> Status {
    while (finished.empty()) {
      if (io_.stopped()) io_.restart();
      // An exchange in flight is pending work on io_, so run_one() runs something.
      if (io_.run_one() == 0 && finished.empty() && !in_flight.empty()) std::abort();
      if (in_flight.empty()) return Status::Ok();
    }
    ColdSend* c = finished.front();
    finished.erase(finished.begin());
    Status s = settle(*c);
    in_flight.remove_if([c](const ColdSend& x) { return &x == c; });
    return s;
  };
  // Moves the exchanges in flight on (replies read, next commands written) without waiting, and
  // settles those that finished. Called between the steps of working on a lead, so an exchange
  // waits for at most one step of this thread's work rather than a whole lead's at each reply.
  auto pump = [&](bool settle_finished) -> Status {
    if (in_flight.empty()) return Status::Ok();
    if (io_.stopped()) io_.restart();
    io_.poll();
    while (settle_finished && !finished.empty()) KILN_RETURN_IF_ERROR(settle_next());
    return Status::Ok();
  };
  // Every exchange started here ends here. When the tick fails part-way the ones still in flight
  // are waited for (their buffers live here) and settled if the database lets them; a claim left
  // unsettled is reaped as `unknown` after its lease, never resent.
  struct DrainOnExit {
    std::function<void()> drain;
    ~DrainOnExit() { drain(); }
  } drain_on_exit{[&] {
    while (!in_flight.empty()) (void)settle_next();
  }};

  // The due leads in pages sized to what the ready senders can take, so a tick that sends one
  // email reads a few leads rather than max_leads_per_campaign.
  int64_t budget = options_.max_leads_per_campaign;
  std::optional<std::pair<int64_t, int64_t>> after;  // (next_at, id) of the last lead read
  // A stop request ends the loops below before the next claim; the leads not reached are left
  // as they are, and the exchanges in flight are settled after the loops.
  bool stopping = false;
  while (budget > 0 && !ready.empty() && !stopping) {
    const int64_t page =
        std::min<int64_t>(budget, std::max<int64_t>(16, 4 * static_cast<int64_t>(ready.size())));
    std::vector<store::Row> leads;
    KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
      if (after) {
        KILN_ASSIGN_OR_RETURN(leads,
                              tx.Query("engine.due_leads_after",
                                       {campaign_id, now, page, after->first, after->second}));
      } else {
        KILN_ASSIGN_OR_RETURN(leads, tx.Query("engine.due_leads", {campaign_id, now, page}));
      }
      if (daily_limit > 0 && !limit_loaded && !leads.empty()) {
        const domain::DayBounds cb =
            domain::DayBoundsOf(*campaign_zone, domain::DayAt(*campaign_zone, now));
        KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("engine.campaign_sends_between",
                                                  {campaign_id, cb.start_ms, cb.end_ms}));
        campaign_sent_today = static_cast<int>(c.Int("n"));
        limit_loaded = true;
      }
      return Status::Ok();
    }));
    if (leads.empty()) break;
    budget -= static_cast<int64_t>(leads.size());
    after = {leads.back().Int("next_at"), leads.back().Int("id")};
    for (const store::Row& lead : leads) {
      KILN_RETURN_IF_ERROR(pump(/*settle_finished=*/true));
      if (StopRequested()) {
        stopping = true;
        stats.cut_short = true;
        break;
      }
      now = clock_.NowMillis();
      // A sender mid-exchange stays: it is paced again when its outcome is settled.
      std::erase_if(ready, [&](SenderState* s) {
        return !s->sending && (!cold_ready(*s) || remaining_of(*s) <= 0);
      });
      if (ready.empty()) {
        ++stats.waiting;  // the pool is busy for now; the rest wait for a later tick
        continue;
      }
      const int64_t cc_id = lead.Int("id");
      const int64_t contact_id = lead.Int("contact_id");
      std::vector<store::Row> history_rows;
      KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
        KILN_ASSIGN_OR_RETURN(history_rows,
                              tx.Query("engine.lead_messages", {campaign_id, contact_id}));
        return Status::Ok();
      }));
      domain::LeadHistory history;
      history.enrolled_at_ms = lead.Int("created_at");
      const store::Row* last_sent = nullptr;
      const store::Row* first_sent = nullptr;
      for (const auto& m : history_rows) {
        if (!m.IsNull("opened_at")) history.opened = true;
        if (!m.IsNull("clicked_at")) history.clicked = true;
        if (!m.IsNull("replied_at")) history.replied = true;
        if (m.Text("status") != "sent") continue;
        auto it = cc.step_index_of.find(m.Int("step_id"));
        if (it == cc.step_index_of.end()) continue;  // a step deleted since
        history.sent.push_back({it->second, m.Int("sent_at")});
        if (!last_sent || m.Int("sent_at") >= last_sent->Int("sent_at")) last_sent = &m;
        if (!first_sent || m.Int("sent_at") < first_sent->Int("sent_at")) first_sent = &m;
      }
      const domain::NextStep next = domain::NextSequenceStep(sequence, history, settings, now);
      if (next.stop) {
        std::string reason(domain::StopReasonName(next.reason));
        std::string status = next.reason == domain::StopReason::kAutoReplied ? "stopped" : reason;
        KILN_RETURN_IF_ERROR(stop_lead(cc_id, status, reason));
        continue;
      }
      if (next.earliest_ms > now) {
        KILN_RETURN_IF_ERROR(defer_lead(cc_id, next.earliest_ms));
        continue;
      }
      const StepInfo& step = steps[static_cast<size_t>(next.step_index)];
      const store::Row* existing = nullptr;
      for (const auto& m : history_rows) {
        if (m.Int("step_id") == step.id) existing = &m;
      }
      if (existing) {
        const std::string st = existing->Text("status");
        if (st == "unknown") {
          KILN_RETURN_IF_ERROR(stop_lead(cc_id, "paused",
                                         "message " + std::to_string(existing->Int("id")) +
                                             " was caught mid-send by a crash (unknown); check the "
                                             "recipient before resuming"));
          continue;
        }
        if (st == "sending") {
          ++stats.waiting;  // another worker holds it, or its lease is about to be reaped
          continue;
        }
        if (st == "retry" && existing->Int("next_attempt_at") > now) {
          KILN_RETURN_IF_ERROR(defer_lead(cc_id, existing->Int("next_attempt_at")));
          continue;
        }
        if (st == "failed" || st == "bounced" || st == "canceled") {
          KILN_RETURN_IF_ERROR(stop_lead(cc_id, st == "bounced" ? "bounced" : "failed",
                                         "step " + std::to_string(next.step_index + 1) + " " + st));
          continue;
        }
      }

      // The lead's window, in its own zone when known.
      std::shared_ptr<const domain::TimeZone> lead_zone = campaign_zone;
      if (!lead.Text("timezone").empty()) {
        auto z = zones_.Get(lead.Text("timezone"));
        if (z.ok()) lead_zone = *z;
      }
      if (!domain::IsInWindow(schedule, *lead_zone, now)) {
        KILN_RETURN_IF_ERROR(
            defer_lead(cc_id, domain::NextSendableInstant(schedule, *lead_zone, now)));
        continue;
      }

      // Suppression, at the moment of sending.
      const std::string email = Lower(lead.Text("email"));
      const std::string rcpt_domain = DomainOf(email);
      std::optional<store::Row> suppressed;
      KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
        KILN_ASSIGN_OR_RETURN(suppressed, tx.QueryOne("engine.suppression_reason",
                                                      {ws, campaign_id, email, rcpt_domain}));
        return Status::Ok();
      }));
      if (suppressed) {
        const std::string reason = suppressed->Text("reason");
        KILN_RETURN_IF_ERROR(stop_lead(cc_id, reason == "unsubscribed" ? "unsubscribed" : "stopped",
                                       "suppressed: " + reason));
        continue;
      }

      // The sender: sticky per lead, else weighted by health and remaining quota, among the pool's
      // senders this worker holds that can send cold mail to this domain now. Senders held by other
      // workers are in the pool but busy here (a lead that sticks to one waits for it).
      const std::optional<int64_t> sticky =
          first_sent ? first_sent->OptInt("sender_id") : lead.OptInt("sender_id");
      std::vector<domain::SenderSnapshot> snapshots;
      std::vector<SenderState*> states;
      std::optional<int64_t> sticky_retry_at;
      bool busy_seen = false;  // a candidate is in the middle of an exchange
      auto add_held = [&](SenderState& s) {
        const domain::DomainCapDecision cap = domain_cap(s, rcpt_domain);
        if (s.sending) busy_seen = true;
        if (sticky == s.info.id && !s.sending) {
          if (!cap.allowed) {
            sticky_retry_at = cap.retry_at_ms;
          } else if (s.next_send_at && *s.next_send_at > now) {
            sticky_retry_at = s.next_send_at;
          }
        }
        snapshots.push_back({.id = s.info.id,
                             .status = SenderStatusOf(s.info.status),
                             .health_score = s.info.health_score,
                             .remaining_today = remaining_of(s),
                             .in_window = cold_ready(s) && cap.allowed && !s.sending});
        states.push_back(&s);
      };
      domain::RotationResult choice;
      for (;;) {
        snapshots.clear();
        states.clear();
        sticky_retry_at.reset();
        busy_seen = false;
        bool sticky_seen = false;
        for (SenderState* s : ready) {
          add_held(*s);
          if (sticky == s->info.id) sticky_seen = true;
        }
        // The lead's own sender when it is not ready: still in the pool, so the lead waits for it
        // (reassigned only when it failed or left the pool).
        if (sticky && !sticky_seen && std::binary_search(cc.pool.begin(), cc.pool.end(), *sticky)) {
          auto it = senders_.find(*sticky);
          if (it != senders_.end()) {
            add_held(*it->second);
          } else {
            domain::SenderStatus status = domain::SenderStatus::kActive;  // held by another worker
            if (lead.OptInt("sender_id") == sticky && !lead.IsNull("sender_status")) {
              status = SenderStatusOf(lead.Text("sender_status"));
            }
            snapshots.push_back({.id = *sticky,
                                 .status = status,
                                 .health_score = 100,
                                 .remaining_today = 0,
                                 .in_window = false});
            states.push_back(nullptr);
          }
        }
        choice = domain::ChooseSender(
            snapshots, sticky,
            domain::SeedOf(static_cast<uint64_t>(campaign_id), static_cast<uint64_t>(contact_id)),
            options_.rotation);
        if (choice.kind == domain::RotationResult::Kind::kChosen &&
            states[choice.index] != nullptr) {
          break;
        }
        // Nobody can take the lead now, but a sender it could go to is mid-exchange: wait for an
        // exchange to finish (its outcome settled, the sender paced again), then choose again, so
        // the lead is decided as if sends were one at a time.
        if (!busy_seen || in_flight.empty()) break;
        KILN_RETURN_IF_ERROR(settle_next());
        now = clock_.NowMillis();
        std::erase_if(ready, [&](SenderState* s) {
          return !s->sending && (!cold_ready(*s) || remaining_of(*s) <= 0);
        });
      }
      if (choice.kind == domain::RotationResult::Kind::kWaitForSticky && sticky_retry_at &&
          *sticky_retry_at > now) {
        // Its own sender is paced or capped for this domain until then: the lead leaves the due
        // set until that moment instead of being read again every tick.
        KILN_RETURN_IF_ERROR(defer_lead(cc_id, *sticky_retry_at));
        continue;
      }
      if (choice.kind != domain::RotationResult::Kind::kChosen || states[choice.index] == nullptr) {
        ++stats.waiting;
        continue;
      }
      SenderState& sender = *states[choice.index];
      // Waiting for a busy sender above ran exchanges, one of which may have seen the stop.
      if (StopRequested()) {
        stopping = true;
        stats.cut_short = true;
        break;
      }

      std::vector<int> weights;
      for (const auto& w : sequence[static_cast<size_t>(next.step_index)].variant_weights)
        weights.push_back(w);
      const size_t vi =
          domain::ChooseVariant(weights, domain::SeedOf(static_cast<uint64_t>(campaign_id),
                                                        static_cast<uint64_t>(contact_id),
                                                        static_cast<uint64_t>(next.step_index)));
      const VariantInfo& variant = step.variants[vi];
      const MessageKey key{ws, campaign_id, contact_id, step.id};
      KILN_RETURN_IF_ERROR(OpenTransport(sender, stats));
      if (!sender.transport) {
        ++stats.waiting;
        continue;
      }

      // Headers and body, built inside the transaction that schedules and claims the message (the
      // unsubscribe link and tracking need its id), so both are one commit before any SMTP.
      ClaimDetails details;
      mail::OutgoingMessage out;
      Status render = Status::Ok();
      auto build = [&](const MessageRecord& message) -> Result<ClaimDetails> {
        details = ClaimDetails();
        out = mail::OutgoingMessage();
        details.sender_id = sender.info.id;
        details.message_id_header =
            !message.message_id_header.empty()
                ? message.message_id_header
                : "<" + mail::GenerateMessageId(DomainOf(sender.info.email)) + ">";
        // Tracking links on the campaign's custom domain, else the sender's, else public_url's.
        const std::string link_base =
            TrackingBaseUrl(options_.public_url, tracking_domain, sender.info.tracking_domain);
        KILN_ASSIGN_OR_RETURN(
            std::string unsub_url,
            api::UnsubscribeUrl(link_base, options_.tracking_key, ws, message.id));
        tmpl::RenderContext vars;
        SetVariables(lead, sender.info, unsub_url, &vars);
        const uint64_t spin =
            tmpl::SpinSeed({static_cast<uint64_t>(contact_id), static_cast<uint64_t>(step.id),
                            static_cast<uint64_t>(variant.id)});
        render = [&]() -> Status {
          KILN_ASSIGN_OR_RETURN(
              auto subject, variant.subject.Render(vars, {.spin_seed = spin, .single_line = true}));
          KILN_ASSIGN_OR_RETURN(auto html, variant.html.Render(vars, {.html_escape_values = true,
                                                                      .spin_seed = spin}));
          KILN_ASSIGN_OR_RETURN(auto text, variant.text.Render(vars, {.spin_seed = spin}));
          out.subject = subject.text;
          out.html_body = html.text;
          out.text_body = text.text;
          if (text_only) {
            // Text only: the text part as written, or the one the HTML would have given.
            if (out.text_body.empty() && !out.html_body.empty())
              out.text_body = mail::HtmlToText(out.html_body);
            out.html_body.clear();
          } else if ((track_opens || track_clicks) && !out.html_body.empty()) {
            KILN_ASSIGN_OR_RETURN(out.html_body,
                                  AddTracking(out.html_body, {.opens = track_opens,
                                                              .clicks = track_clicks,
                                                              .base_url = link_base,
                                                              .key = options_.tracking_key,
                                                              .workspace_id = ws,
                                                              .message_id = message.id,
                                                              .unsubscribe_url = unsub_url}));
          }
          return Status::Ok();
        }();
        if (last_sent) {
          details.in_reply_to_header = last_sent->Text("message_id_header");
          details.thread_root_header = first_sent->Text("message_id_header");
          if (out.subject.empty()) out.subject = "Re: " + last_sent->Text("subject");
          out.in_reply_to = StripBrackets(details.in_reply_to_header);
          out.references.push_back(StripBrackets(details.thread_root_header));
          if (details.thread_root_header != details.in_reply_to_header)
            out.references.push_back(out.in_reply_to);
        }
        details.subject = out.subject;
        out.list_unsubscribe_url = unsub_url;
        return details;
      };
      KILN_ASSIGN_OR_RETURN(ScheduledClaim claim,
                            ledger_.ScheduleAndClaim(key, variant.id, sender.info.id, now, build));
      if (!claim.claimed) {
        ++stats.waiting;  // settled or claimed by someone else since we read the history
        continue;
      }
      const int64_t message_id = claim.message.id;
      KILN_RETURN_IF_ERROR(pump(/*settle_finished=*/false));
      out.from = {sender.info.from_name.empty() ? sender.info.name : sender.info.from_name,
                  sender.info.email};
      const std::string first = lead.Text("first_name"), last = lead.Text("last_name");
      out.to.push_back(
          {first.empty() || last.empty() ? first + last : first + " " + last, lead.Text("email")});
      out.message_id = StripBrackets(details.message_id_header);
      out.date = clock_.Now();
      Result<std::string> data =
          render.ok() ? mail::ComposeMessage(out) : Result<std::string>(render);
      if (data.ok()) {
        auto dkim = options_.dkim_by_domain.find(DomainOf(sender.info.email));
        if (dkim != options_.dkim_by_domain.end() && dkim->second != nullptr) {
          data = dkim->second->Sign(*data, clock_.Now());
        }
      }
      if (!data.ok()) {
        // The message cannot be built for this lead: it is claimed, so it is settled once, failed,
        // and the lead stops in the same transaction.
        ++stats.failed;
        ++stats.stopped;
        KILN_RETURN_IF_ERROR(ledger_.RecordFailed(
            message_id, {.error = "cannot compose: " + data.status().ToString()}, false,
            [&](store::Tx& tx) {
              return tx
                  .Exec("engine.lead_stop",
                        {cc_id, "failed", "cannot compose: " + data.status().message(), now})
                  .status();
            }));
        continue;
      }

      // The exchange runs on io_ while this loop goes on with the next leads (other senders);
      // its outcome is settled by settle_next() on this thread.
      ColdSend& cs = in_flight.emplace_back();
      cs.sender = &sender;
      cs.message_id = message_id;
      cs.cc_id = cc_id;
      cs.contact_id = contact_id;
      cs.step_index = static_cast<size_t>(next.step_index);
      cs.attempts = claim.message.attempts;
      cs.email = email;
      cs.rcpt_domain = rcpt_domain;
      cs.envelope = mail::DefaultEnvelope(out);
      cs.data = std::move(data).value();
      sender.sending = true;
      ++campaign_sent_today;  // counted now so the daily limit holds; given back unless sent
      StartSend(io_.get_executor(), *sender.transport, cs.envelope, cs.data,
                [&cs, &finished](mail::SendResult r) {
                  cs.result = std::move(r);
                  finished.push_back(&cs);
                });
      if (static_cast<int>(in_flight.size()) >= max_in_flight) {
        KILN_RETURN_IF_ERROR(settle_next());
      } else {
        // Lets the exchange start (connect, write) before the next lead is worked on, and
        // settles whatever finished meanwhile.
        KILN_RETURN_IF_ERROR(pump(/*settle_finished=*/true));
      }
      now = clock_.NowMillis();
    }
    if (stopping || static_cast<int64_t>(leads.size()) < page) break;
  }
  while (!in_flight.empty()) KILN_RETURN_IF_ERROR(settle_next());
  return Status::Ok();
}

}  // namespace kiln::engine
