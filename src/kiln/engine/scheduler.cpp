#include "kiln/engine/scheduler.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <set>
#include <utility>

#include "kiln/api/tracking_tokens.h"
#include "kiln/domain/quota.h"
#include "kiln/domain/schedule.h"
#include "kiln/domain/sequence.h"
#include "kiln/engine/delivery.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/template/template.h"

namespace kiln::engine {
namespace json = boost::json;

struct Scheduler::SenderState {
  SenderInfo info;
  std::unique_ptr<mail::Transport> transport;
  std::optional<int64_t> next_send_at;  // pacing; unset until first needed
  int remaining = 0;                    // cold sends left today in the campaign being run
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

SenderInfo SenderFromRow(const store::Row& r, int64_t workspace_id) {
  SenderInfo s;
  s.id = r.Int("id");
  s.workspace_id = workspace_id;
  s.email = r.Text("email");
  s.name = r.Text("name");
  s.from_name = r.Text("from_name");
  s.status = r.Text("status");
  s.daily_quota = static_cast<int>(r.Int("daily_quota"));
  s.health_score = static_cast<int>(r.Int("health_score"));
  s.warmup_end_at = r.OptInt("warmup_end_at");
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
  Status s = db_.Write([&](store::Tx& tx) {
    return tx.Exec("engine.sender_lease_release", {options_.worker_id}).status();
  });
  (void)s;  // best effort: an unreleased lease lapses by itself
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

std::optional<int64_t> Scheduler::SenderNextSendAt(int64_t sender_id) const {
  auto it = senders_.find(sender_id);
  if (it == senders_.end()) return std::nullopt;
  return it->second->next_send_at;
}

Result<TickStats> Scheduler::RunOnce() {
  TickStats stats;
  campaign_errors_.clear();
  KILN_ASSIGN_OR_RETURN(stats.reaped_unknown, ledger_.ReapLapsed());
  std::vector<store::Row> campaigns;
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(campaigns, tx.Query("engine.running_campaigns"));
    return Status::Ok();
  }));
  for (const store::Row& c : campaigns) {
    Status s = RunCampaign(c, stats);
    if (s.ok()) continue;
    if (s.code() == Status::Code::kInvalidArgument) {
      campaign_errors_.push_back("campaign " + std::to_string(c.Int("id")) + ": " + s.message());
      continue;
    }
    return s;
  }
  return stats;
}

Status Scheduler::RunCampaign(const store::Row& campaign, TickStats& stats) {
  const int64_t campaign_id = campaign.Int("id");
  const int64_t ws = campaign.Int("workspace_id");
  KILN_ASSIGN_OR_RETURN(domain::Schedule schedule, ParseSchedule(campaign.Text("schedule")));
  KILN_ASSIGN_OR_RETURN(auto campaign_zone, zones_.Get(campaign.Text("timezone")));
  const int daily_limit = static_cast<int>(campaign.Int("daily_limit"));
  const int mix = static_cast<int>(campaign.Int("warmup_mix_percent"));
  // Compliance: every cold email carries a working unsubscribe link and RFC 8058 headers, so a
  // campaign does not send at all while this server has no external URL to put in them.
  if (options_.public_url.empty()) {
    return Status::FailedPrecondition(
        "public_url is not set: cold email needs a working unsubscribe link (set public_url to "
        "this server's external https URL)");
  }
  domain::SequenceSettings settings{.stop_on_auto_reply = campaign.Bool("stop_on_auto_reply")};

  std::vector<store::Row> step_rows, variant_rows, sender_rows, leads;
  int64_t now = clock_.NowMillis();
  const domain::CivilDate day = domain::DayAt(*campaign_zone, now);
  const domain::DayBounds bounds = domain::DayBoundsOf(*campaign_zone, day);
  int campaign_sent_today = 0;
  std::map<int64_t, int> sender_sent_today;
  std::map<int64_t, std::optional<int64_t>> sender_last_send;
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(step_rows, tx.Query("engine.campaign_steps", {campaign_id}));
    KILN_ASSIGN_OR_RETURN(variant_rows, tx.Query("engine.campaign_variants", {campaign_id}));
    KILN_ASSIGN_OR_RETURN(sender_rows, tx.Query("engine.campaign_senders", {campaign_id}));
    KILN_ASSIGN_OR_RETURN(
        leads, tx.Query("engine.due_leads", {campaign_id, now, options_.max_leads_per_campaign}));
    KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("engine.campaign_sends_between",
                                              {campaign_id, bounds.start_ms, bounds.end_ms}));
    campaign_sent_today = static_cast<int>(c.Int("n"));
    for (const auto& r : sender_rows) {
      KILN_ASSIGN_OR_RETURN(auto n, tx.QueryRow("engine.sender_sends_between",
                                                {r.Int("id"), bounds.start_ms, bounds.end_ms}));
      sender_sent_today[r.Int("id")] = static_cast<int>(n.Int("n"));
      KILN_ASSIGN_OR_RETURN(auto last, tx.QueryRow("engine.sender_last_send", {r.Int("id")}));
      sender_last_send[r.Int("id")] = last.OptInt("last");
    }
    return Status::Ok();
  }));
  if (leads.empty() || step_rows.empty()) return Status::Ok();

  // Steps, their enabled variants (parsed once per tick) and the domain's view of the sequence.
  std::vector<StepInfo> steps;
  std::vector<domain::SequenceStep> sequence;
  std::map<int64_t, int> step_index_of;
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
      st.variants.push_back({v.Int("id"), std::move(subject), std::move(html), std::move(text)});
      ds.variant_weights.push_back(static_cast<int>(v.Int("weight")));
    }
    step_index_of[st.id] = static_cast<int>(i);
    steps.push_back(std::move(st));
    sequence.push_back(std::move(ds));
  }
  KILN_RETURN_IF_ERROR(domain::ValidateSequence(sequence));

  // This worker's senders: each sender's queue is held by one worker at a time (a lease renewed
  // every tick), so one process keeps its pacing and quota. Senders held elsewhere count as busy.
  std::set<int64_t> held;
  KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
    held.clear();
    for (const auto& r : sender_rows) {
      KILN_ASSIGN_OR_RETURN(
          int64_t n, tx.Exec("engine.sender_lease",
                             {r.Int("id"), options_.worker_id, now + options_.lease.count(), now}));
      if (n == 1) held.insert(r.Int("id"));
    }
    return Status::Ok();
  }));

  // The pool, with each sender's budget for today and its pacing.
  std::vector<SenderState*> pool;
  for (const auto& r : sender_rows) {
    auto& slot = senders_[r.Int("id")];
    if (!slot) slot = std::make_unique<SenderState>();
    slot->info = SenderFromRow(r, ws);
    const SenderInfo& s = slot->info;
    int remaining = 0;
    const bool warming = s.warmup_end_at && *s.warmup_end_at > now;  // warm-up mail only
    if (s.daily_quota > 0 && !warming) {
      domain::DailyAllowance allowance =
          domain::SenderAllowance(domain::SenderQuota{.daily_limit = s.daily_quota}, mix, day);
      remaining = domain::ColdSendsAvailable(allowance, sender_sent_today[s.id], daily_limit,
                                             campaign_sent_today);
    }
    slot->remaining = held.count(s.id) ? remaining : 0;
    if (!held.count(s.id)) slot->next_send_at.reset();  // recomputed from the database when held
    if (!slot->next_send_at && held.count(s.id)) {
      domain::PacingState ps{.now_ms = now,
                             .last_send_ms = sender_last_send[s.id],
                             .horizon_ms = bounds.end_ms,
                             .remaining = std::max(remaining, 1)};
      slot->next_send_at = domain::NextSendTime(options_.pacing, ps, rng_);
    }
    pool.push_back(slot.get());
  }

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
  auto sender_failure = [&](SenderState& s, const std::string& reason) -> Status {
    return write([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto row,
                            tx.QueryRow("engine.sender_failure", {s.info.id, clock_.NowMillis()}));
      const int n = static_cast<int>(row.Int("consecutive_failures"));
      if (domain::ShouldPauseForFailures(n, options_.failure_pause) && s.info.status == "active") {
        s.info.status = "paused";
        return tx
            .Exec(
                "engine.sender_set_status",
                {s.info.id, "paused", std::to_string(n) + " consecutive failures; last: " + reason,
                 clock_.NowMillis()})
            .status();
      }
      return Status::Ok();
    });
  };

  for (const store::Row& lead : leads) {
    now = clock_.NowMillis();
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
      auto it = step_index_of.find(m.Int("step_id"));
      if (it == step_index_of.end()) continue;  // a step deleted since
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
        KILN_RETURN_IF_ERROR(stop_lead(
            cc_id, "paused",
            "message " + std::to_string(existing->Int("id")) +
                " was caught mid-send by a crash (unknown); check the recipient before resuming"));
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
    std::optional<store::Row> suppressed;
    KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(suppressed, tx.QueryOne("engine.suppression_reason",
                                                    {ws, campaign_id, email, DomainOf(email)}));
      return Status::Ok();
    }));
    if (suppressed) {
      const std::string reason = suppressed->Text("reason");
      KILN_RETURN_IF_ERROR(stop_lead(cc_id, reason == "unsubscribed" ? "unsubscribed" : "stopped",
                                     "suppressed: " + reason));
      continue;
    }

    // The sender: sticky per lead, else weighted by health and remaining quota.
    std::vector<domain::SenderSnapshot> snapshots;
    for (SenderState* s : pool) {
      snapshots.push_back({.id = s->info.id,
                           .status = SenderStatusOf(s->info.status),
                           .health_score = s->info.health_score,
                           .remaining_today = s->remaining,
                           .in_window = s->next_send_at.has_value() && *s->next_send_at <= now});
    }
    const std::optional<int64_t> sticky =
        first_sent ? first_sent->OptInt("sender_id") : lead.OptInt("sender_id");
    const domain::RotationResult choice = domain::ChooseSender(
        snapshots, sticky,
        domain::SeedOf(static_cast<uint64_t>(campaign_id), static_cast<uint64_t>(contact_id)),
        options_.rotation);
    if (choice.kind != domain::RotationResult::Kind::kChosen) {
      ++stats.waiting;
      continue;
    }
    SenderState& sender = *pool[choice.index];

    std::vector<int> weights;
    for (const auto& w : sequence[static_cast<size_t>(next.step_index)].variant_weights)
      weights.push_back(w);
    const size_t vi =
        domain::ChooseVariant(weights, domain::SeedOf(static_cast<uint64_t>(campaign_id),
                                                      static_cast<uint64_t>(contact_id),
                                                      static_cast<uint64_t>(next.step_index)));
    const VariantInfo& variant = step.variants[vi];
    const MessageKey key{ws, campaign_id, contact_id, step.id};
    KILN_ASSIGN_OR_RETURN(MessageRecord message,
                          ledger_.Schedule(key, variant.id, sender.info.id, now));
    if (message.status != MessageStatus::kScheduled && message.status != MessageStatus::kRetry) {
      ++stats.waiting;  // settled by someone else since we read the history
      continue;
    }

    // Headers and body.
    ClaimDetails details;
    details.sender_id = sender.info.id;
    details.message_id_header =
        !message.message_id_header.empty()
            ? message.message_id_header
            : "<" + mail::GenerateMessageId(DomainOf(sender.info.email)) + ">";
    KILN_ASSIGN_OR_RETURN(std::string unsub_url,
                          api::UnsubscribeUrl(options_.public_url, options_.tracking_key, ws,
                                              message.id));
    tmpl::RenderContext vars;
    SetVariables(lead, sender.info, unsub_url, &vars);
    const uint64_t spin =
        tmpl::SpinSeed({static_cast<uint64_t>(contact_id), static_cast<uint64_t>(step.id),
                        static_cast<uint64_t>(variant.id)});
    mail::OutgoingMessage out;
    Status render = [&]() -> Status {
      KILN_ASSIGN_OR_RETURN(auto subject,
                            variant.subject.Render(vars, {.spin_seed = spin, .single_line = true}));
      KILN_ASSIGN_OR_RETURN(
          auto html, variant.html.Render(vars, {.html_escape_values = true, .spin_seed = spin}));
      KILN_ASSIGN_OR_RETURN(auto text, variant.text.Render(vars, {.spin_seed = spin}));
      out.subject = subject.text;
      out.html_body = html.text;
      out.text_body = text.text;
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
    out.from = {sender.info.from_name.empty() ? sender.info.name : sender.info.from_name,
                sender.info.email};
    const std::string first = lead.Text("first_name"), last = lead.Text("last_name");
    out.to.push_back(
        {first.empty() || last.empty() ? first + last : first + " " + last, lead.Text("email")});
    out.message_id = StripBrackets(details.message_id_header);
    out.date = clock_.Now();
    out.list_unsubscribe_url = unsub_url;
    Result<std::string> data =
        render.ok() ? mail::ComposeMessage(out) : Result<std::string>(render);
    if (data.ok()) {
      auto dkim = options_.dkim_by_domain.find(DomainOf(sender.info.email));
      if (dkim != options_.dkim_by_domain.end() && dkim->second != nullptr) {
        data = dkim->second->Sign(*data, clock_.Now());
      }
    }
    if (!data.ok()) {
      // The message cannot be built for this lead: fail it (claimed, so it is settled once).
      KILN_ASSIGN_OR_RETURN(bool claimed, ledger_.Claim(message.id, details));
      if (claimed) {
        KILN_RETURN_IF_ERROR(ledger_.RecordFailed(
            message.id, {.error = "cannot compose: " + data.status().ToString()}, false));
      }
      ++stats.failed;
      KILN_RETURN_IF_ERROR(
          stop_lead(cc_id, "failed", "cannot compose: " + data.status().message()));
      continue;
    }

    if (!sender.transport) {
      auto t = transports_(sender.info, io_.get_executor());
      if (!t.ok()) {
        sender.info.status = "failed";
        KILN_RETURN_IF_ERROR(write([&](store::Tx& tx) {
          return tx
              .Exec("engine.sender_set_status",
                    {sender.info.id, "failed", t.status().message(), clock_.NowMillis()})
              .status();
        }));
        ++stats.waiting;
        continue;
      }
      sender.transport = std::move(t).value();
    }
    const mail::Envelope envelope = mail::DefaultEnvelope(out);
    KILN_ASSIGN_OR_RETURN(
        Delivery d, DeliverMessage(ledger_, message.id, details, envelope, *data, *sender.transport,
                                   io_, options_.backoff, rng_, clock_));
    now = clock_.NowMillis();
    switch (d.outcome) {
      case DeliveryOutcome::kNotClaimed:
        ++stats.waiting;
        break;
      case DeliveryOutcome::kSent: {
        ++stats.sent;
        sender.remaining = std::max(0, sender.remaining - 1);
        ++campaign_sent_today;
        for (SenderState* s : pool) {  // the campaign's daily limit is shared by the pool
          if (daily_limit > 0)
            s->remaining = std::min(s->remaining, std::max(0, daily_limit - campaign_sent_today));
        }
        domain::PacingState ps{.now_ms = now,
                               .last_send_ms = now,
                               .horizon_ms = bounds.end_ms,
                               .remaining = std::max(sender.remaining, 1)};
        sender.next_send_at = domain::NextSendTime(options_.pacing, ps, rng_);
        const size_t following = static_cast<size_t>(next.step_index) + 1;
        KILN_RETURN_IF_ERROR(write([&](store::Tx& tx) -> Status {
          KILN_RETURN_IF_ERROR(tx.Exec("engine.sender_success", {sender.info.id}).status());
          if (following >= steps.size()) {
            KILN_RETURN_IF_ERROR(
                tx.Exec("engine.lead_advance", {cc_id, campaign_id, static_cast<int64_t>(following),
                                                std::nullopt, sender.info.id, now})
                    .status());
            return tx.Exec("engine.lead_stop", {cc_id, "completed", "completed", now}).status();
          }
          return tx
              .Exec("engine.lead_advance",
                    {cc_id, campaign_id, static_cast<int64_t>(following),
                     now + steps[following].delay_minutes * 60'000, sender.info.id, now})
              .status();
        }));
        break;
      }
      case DeliveryOutcome::kRetry: {
        ++stats.retried;
        KILN_ASSIGN_OR_RETURN(MessageRecord m, ledger_.Get(message.id));
        KILN_RETURN_IF_ERROR(sender_failure(sender, d.smtp.reason));
        KILN_RETURN_IF_ERROR(defer_lead(cc_id, m.next_attempt_at.value_or(now)));
        break;
      }
      case DeliveryOutcome::kSenderProblem: {
        ++stats.retried;
        sender.info.status = "failed";
        KILN_RETURN_IF_ERROR(write([&](store::Tx& tx) -> Status {
          KILN_RETURN_IF_ERROR(
              tx.Exec("engine.sender_set_status", {sender.info.id, "failed", d.smtp.reason, now})
                  .status());
          return tx.Exec("engine.lead_defer", {cc_id, now, now}).status();
        }));
        break;
      }
      case DeliveryOutcome::kBounced: {
        ++stats.bounced;
        ++stats.stopped;
        KILN_RETURN_IF_ERROR(write([&](store::Tx& tx) -> Status {
          KILN_RETURN_IF_ERROR(tx.Exec("engine.suppress_address",
                                       {ws, email, "message " + std::to_string(message.id), now})
                                   .status());
          KILN_RETURN_IF_ERROR(tx.Exec("engine.contact_mark_bounced", {contact_id, now}).status());
          return tx.Exec("engine.lead_stop", {cc_id, "bounced", d.smtp.reason, now}).status();
        }));
        break;
      }
      case DeliveryOutcome::kFailed:
        ++stats.failed;
        KILN_RETURN_IF_ERROR(sender_failure(sender, d.smtp.reason));
        KILN_RETURN_IF_ERROR(stop_lead(cc_id, "failed", d.smtp.reason));
        break;
    }
  }
  return Status::Ok();
}

}  // namespace kiln::engine
