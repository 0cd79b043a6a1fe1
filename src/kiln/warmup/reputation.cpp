#include "kiln/warmup/reputation.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <cmath>
#include <cstdio>

#include "kiln/domain/quota.h"

namespace kiln::warmup {

namespace json = boost::json;

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr int kWindows[] = {7, 14, 30};

std::string DayString(const domain::CivilDate& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

std::optional<double> Share(int64_t part, int64_t whole) {
  if (whole <= 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

json::value RateJson(const std::optional<double>& r) {
  if (!r) return nullptr;
  return std::round(*r * 10000.0) / 10000.0;  // four decimals: a rate, not a measurement
}

void CountsJson(const Activity& a, json::object& o) {
  o["warmup_sent"] = a.warmup_sent;
  o["inbox"] = a.inbox;
  o["spam"] = a.spam;
  o["other_folder"] = a.other_folder;
  o["missing"] = a.missing;
  o["placed"] = a.placed();
  o["cold_sent"] = a.cold_sent;
  o["bounced"] = a.bounced;
  o["complaints"] = a.complaints;
  o["replies"] = a.warmup_replies + a.cold_replies;
  Rates r = RatesOf(a);
  o["inbox_rate"] = RateJson(r.inbox);
  o["spam_rate"] = RateJson(r.spam);
  o["bounce_rate"] = RateJson(r.bounce);
  o["complaint_rate"] = RateJson(r.complaint);
  o["reply_rate"] = RateJson(r.reply);
}

}  // namespace

std::string_view SubjectKindName(SubjectKind kind) {
  return kind == SubjectKind::kSender ? "sender" : "bot";
}

Activity& Activity::operator+=(const Activity& o) {
  warmup_sent += o.warmup_sent;
  inbox += o.inbox;
  spam += o.spam;
  other_folder += o.other_folder;
  missing += o.missing;
  warmup_replies += o.warmup_replies;
  cold_sent += o.cold_sent;
  bounced += o.bounced;
  cold_replies += o.cold_replies;
  complaints += o.complaints;
  return *this;
}

Rates RatesOf(const Activity& a) {
  Rates r;
  r.inbox = Share(a.inbox, a.placed());
  r.spam = Share(a.spam, a.placed());
  r.bounce = Share(a.bounced, a.cold_sent);
  r.complaint = Share(a.complaints, a.cold_sent);
  r.reply = Share(a.warmup_replies + a.cold_replies, a.warmup_sent + a.cold_sent);
  return r;
}

Health HealthOf(const Activity& a) {
  Health h;
  double penalty = 0;
  if (a.placed() >= kMinPlacedSample) {
    h.has_sample = true;
    double bad = static_cast<double>(a.spam + a.missing) + static_cast<double>(a.other_folder) / 2;
    penalty += kPlacementWeight * bad / static_cast<double>(a.placed());
  }
  if (a.cold_sent >= kMinColdSample) {
    h.has_sample = true;
    double sent = static_cast<double>(a.cold_sent);
    penalty += std::min(kBounceCap, kBounceFactor * static_cast<double>(a.bounced) / sent);
    penalty += std::min(kComplaintCap, kComplaintFactor * static_cast<double>(a.complaints) / sent);
  }
  h.score = static_cast<int>(std::clamp<long>(std::lround(100.0 - penalty), 0, 100));
  return h;
}

Result<Activity> CountActivity(store::Tx& tx, SubjectKind kind, int64_t id, int64_t start_ms,
                               int64_t end_ms) {
  Activity a;
  const char* warmup =
      kind == SubjectKind::kSender ? "reputation.sender_warmup" : "reputation.bot_warmup";
  KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow(warmup, {id, start_ms, end_ms}));
  a.warmup_sent = w.Int("sent");
  a.inbox = w.Int("inbox");
  a.spam = w.Int("spam");
  a.other_folder = w.Int("other_folder");
  a.missing = w.Int("missing");
  a.warmup_replies = w.Int("replies");
  if (kind == SubjectKind::kSender) {
    KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("reputation.sender_cold", {id, start_ms, end_ms}));
    a.cold_sent = c.Int("cold_sent");
    a.bounced = c.Int("bounced");
    a.cold_replies = c.Int("replies");
    a.complaints = c.Int("complaints");
  }
  return a;
}

Result<std::optional<ReputationReport>> LoadReputation(store::Tx& tx, SubjectKind kind, int64_t ws,
                                                       int64_t id, int64_t now_ms, int64_t days) {
  const char* get = kind == SubjectKind::kSender ? "reputation.sender" : "reputation.bot";
  KILN_ASSIGN_OR_RETURN(auto subject, tx.QueryOne(get, {ws, id}));
  if (!subject) return std::optional<ReputationReport>();
  ReputationReport report;
  report.kind = kind;
  report.id = id;
  report.health_score = static_cast<int>(subject->Int("health_score"));
  for (int d : kWindows) {
    KILN_ASSIGN_OR_RETURN(Activity a, CountActivity(tx, kind, id, now_ms - d * kDayMs, now_ms));
    report.windows.push_back({.days = d, .activity = a, .health = HealthOf(a)});
  }
  KILN_ASSIGN_OR_RETURN(
      auto rows, tx.Query("reputation.daily", {std::string(SubjectKindName(kind)), ws, id, days}));
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    const store::Row& r = *it;
    DailyReport d;
    d.day = r.Text("day");
    d.activity.warmup_sent = r.Int("warmup_sent");
    d.activity.inbox = r.Int("inbox");
    d.activity.spam = r.Int("spam");
    d.activity.other_folder = r.Int("other_folder");
    d.activity.missing = r.Int("missing");
    d.activity.warmup_replies = r.Int("replies");
    d.activity.cold_sent = r.Int("cold_sent");
    d.activity.bounced = r.Int("bounced");
    d.activity.complaints = r.Int("complaints");
    if (auto s = r.OptInt("score")) d.score = static_cast<int>(*s);
    d.computed_at = r.Int("computed_at");
    report.daily.push_back(std::move(d));
  }
  return std::optional<ReputationReport>(std::move(report));
}

json::object ReputationJson(const ReputationReport& report) {
  json::array windows;
  for (const WindowReport& w : report.windows) {
    json::object o{{"days", w.days}};
    CountsJson(w.activity, o);
    o["score"] = w.health.score;
    o["has_sample"] = w.health.has_sample;
    windows.push_back(std::move(o));
  }
  json::array daily;
  for (const DailyReport& d : report.daily) {
    json::object o{{"day", d.day}};
    CountsJson(d.activity, o);
    o["score"] = d.score ? json::value(*d.score) : json::value(nullptr);
    daily.push_back(std::move(o));
  }
  return {{"subject", std::string(SubjectKindName(report.kind))},
          {"id", report.id},
          {"health_score", report.health_score},
          {"windows", std::move(windows)},
          {"daily", std::move(daily)}};
}

Status ReputationJob::UpdateSubject(SubjectKind kind, int64_t id, int64_t ws,
                                    const std::string& zone_name, int64_t now) {
  std::shared_ptr<const domain::TimeZone> zone;
  if (auto z = zones_.Get(zone_name); z.ok()) {
    zone = *z;
  } else {
    zone = std::make_shared<const domain::TimeZone>(domain::TimeZone::Fixed("UTC", 0, "UTC"));
  }
  const domain::CivilDate today = domain::DayAt(*zone, now);
  const domain::CivilDate yesterday = domain::CivilFromDays(domain::DaysFromCivil(today) - 1);
  const std::string kind_name(SubjectKindName(kind));
  return db_.Write([&](store::Tx& tx) -> Status {
    for (const domain::CivilDate& day : {yesterday, today}) {
      domain::DayBounds b = domain::DayBoundsOf(*zone, day);
      const int64_t end = std::min(b.end_ms, now);
      KILN_ASSIGN_OR_RETURN(Activity a, CountActivity(tx, kind, id, b.start_ms, end));
      KILN_ASSIGN_OR_RETURN(Activity w,
                            CountActivity(tx, kind, id, end - kScoreWindowDays * kDayMs, end));
      Health h = HealthOf(w);
      KILN_RETURN_IF_ERROR(
          tx.Exec(
                "reputation.upsert_daily",
                {kind_name, id, ws, DayString(day), a.warmup_sent, a.inbox, a.spam, a.other_folder,
                 a.missing, a.warmup_replies + a.cold_replies, a.cold_sent, a.bounced, a.complaints,
                 h.has_sample ? std::optional<int64_t>(h.score) : std::nullopt, now})
              .status());
    }
    KILN_ASSIGN_OR_RETURN(Activity current,
                          CountActivity(tx, kind, id, now - kScoreWindowDays * kDayMs, now));
    const char* set =
        kind == SubjectKind::kSender ? "reputation.set_sender_score" : "reputation.set_bot_score";
    return tx.Exec(set, {id, HealthOf(current).score}).status();
  });
}

Result<int> ReputationJob::RunOnce() {
  const int64_t now = clock_.NowMillis();
  std::vector<store::Row> subjects;
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(subjects, tx.Query("reputation.subjects"));
    return Status::Ok();
  }));
  int updated = 0;
  for (const store::Row& s : subjects) {
    SubjectKind kind = s.Text("kind") == "sender" ? SubjectKind::kSender : SubjectKind::kBot;
    KILN_RETURN_IF_ERROR(
        UpdateSubject(kind, s.Int("id"), s.Int("workspace_id"), s.Text("timezone"), now));
    ++updated;
  }
  last_run_ms_ = now;
  return updated;
}

Result<int> ReputationJob::RunIfDue(Millis interval) {
  const int64_t now = clock_.NowMillis();
  if (last_run_ms_ && now - *last_run_ms_ < interval.count()) return 0;
  return RunOnce();
}

void RunReputationJob(ReputationJob& job, Millis interval, Millis tick,
                      const std::function<bool(Millis)>& wait) {
  do {
    auto n = job.RunIfDue(interval);
    if (!n.ok()) {
      spdlog::warn("reputation: {} (retrying in {} s)", n.status().ToString(), tick.count() / 1000);
    } else if (*n > 0) {
      spdlog::debug("reputation: updated {} senders and bots", *n);
    }
  } while (!wait(tick));
}

}  // namespace kiln::warmup
