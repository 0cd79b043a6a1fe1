// Reputation: what a mailbox's mail did, and the 0-100 health score derived from it
// (docs/decisions/0005-health-score.md), for senders and for warm-up inboxes ("bots").
//
// Sources: warmup_messages (where warm-up mail the mailbox sent was found: inbox, spam, another
// folder, or missing; and whether it was answered), and for senders also their cold mail through
// messages + events (attempted, hard-bounced, replied, complained). Windows of 7, 14 and 30 days
// end at "now"; the health score uses the 14-day window. History is one reputation_daily row per
// subject and day on the subject's own calendar (its time zone), written by ReputationJob.
//
// The pure functions (RatesOf, HealthScore) are thread-safe. The database functions run inside the
// caller's transaction. ReputationJob is not thread-safe (one per worker loop); several processes
// may run it at once: every write is an idempotent upsert of values computed from the same data.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"
#include "kiln/domain/tz.h"
#include "kiln/store/db.h"

namespace kiln::warmup {

enum class SubjectKind { kSender, kBot };
std::string_view SubjectKindName(SubjectKind kind);  // "sender", "bot"

// What a mailbox's mail did over a span of time.
struct Activity {
  int64_t warmup_sent = 0;     // warm-up mail it sent
  int64_t inbox = 0;           // ... found in the recipient's inbox
  int64_t spam = 0;            // ... found in spam / junk
  int64_t other_folder = 0;    // ... found in another folder (e.g. a tab or a filter's folder)
  int64_t missing = 0;         // ... looked for and not found
  int64_t warmup_replies = 0;  // ... answered
  int64_t cold_sent = 0;       // cold mail attempted (senders only)
  int64_t bounced = 0;         // ... hard-bounced
  int64_t cold_replies = 0;    // ... replied to (auto-replies excluded)
  int64_t complaints = 0;      // ... reported as spam by the recipient

  int64_t placed() const { return inbox + spam + other_folder + missing; }
  Activity& operator+=(const Activity& o);
};

// Shares of an Activity; nullopt when the denominator is zero.
struct Rates {
  std::optional<double> inbox;      // inbox / placed
  std::optional<double> spam;       // spam / placed
  std::optional<double> bounce;     // bounced / cold_sent
  std::optional<double> complaint;  // complaints / cold_sent
  std::optional<double> reply;      // (warmup_replies + cold_replies) / (warmup_sent + cold_sent)
};
Rates RatesOf(const Activity& a);

// The formula's constants (docs/decisions/0005-health-score.md).
inline constexpr int64_t kMinPlacedSample = 10;  // placements before placement counts
inline constexpr int64_t kMinColdSample = 20;    // cold sends before bounces/complaints count
inline constexpr double kPlacementWeight = 70;   // points lost when every placement is bad
inline constexpr double kBounceFactor = 800;     // points per unit of bounce rate ...
inline constexpr double kBounceCap = 40;         // ... at most
inline constexpr double kComplaintFactor = 10000;
inline constexpr double kComplaintCap = 40;
inline constexpr int kScoreWindowDays = 14;

struct Health {
  int score = 100;          // 0..100
  bool has_sample = false;  // false: no part of the formula had its minimum sample (score 100)
};

// 100 - placement penalty - bounce penalty - complaint penalty, rounded, clamped to 0..100:
//   placement = 70 * (spam + missing + other_folder / 2) / placed     when placed >= 10
//   bounce    = min(40, 800 * bounced / cold_sent)                     when cold_sent >= 20
//   complaint = min(40, 10000 * complaints / cold_sent)                when cold_sent >= 20
Health HealthOf(const Activity& a);

// Counts one subject's activity in [start_ms, end_ms).
Result<Activity> CountActivity(store::Tx& tx, SubjectKind kind, int64_t id, int64_t start_ms,
                               int64_t end_ms);

struct WindowReport {
  int days = 0;
  Activity activity;
  Health health;
};

struct DailyReport {
  std::string day;           // YYYY-MM-DD on the subject's calendar
  Activity activity;         // replies are in warmup_replies (history keeps one reply count)
  std::optional<int> score;  // nullopt: no sample that day
  int64_t computed_at = 0;
};

struct ReputationReport {
  SubjectKind kind = SubjectKind::kSender;
  int64_t id = 0;
  int health_score = 100;             // as stored (the last job run)
  std::vector<WindowReport> windows;  // 7, 14, 30 days ending at now
  std::vector<DailyReport> daily;     // oldest first, at most `days` rows
};

// Success: the report, or nullopt when `id` is not a sender/bot of workspace `ws`. Failure: a
// database error.
Result<std::optional<ReputationReport>> LoadReputation(store::Tx& tx, SubjectKind kind, int64_t ws,
                                                       int64_t id, int64_t now_ms, int64_t days);

// {subject, id, health_score, windows:[{days, warmup_sent, inbox, spam, other_folder, missing,
// placed, cold_sent, bounced, complaints, replies, inbox_rate, spam_rate, bounce_rate,
// complaint_rate, reply_rate, score, has_sample}], daily:[{day, ..., score, computed_at}]}.
boost::json::object ReputationJson(const ReputationReport& report);

// The daily job: for every sender and bot, writes the reputation_daily rows of yesterday and today
// (on its calendar; an unknown time zone counts as UTC) and stores its current health score
// (senders.health_score / bots.health_score, which the queue manager compares with
// engine_min_health_score). A day's score is HealthOf the 14 days ending at the day's end (or now).
class ReputationJob {
 public:
  // `db`, `clock` and `zones` must outlive the job.
  ReputationJob(store::Database& db, const Clock& clock, domain::TimeZoneDatabase& zones)
      : db_(db), clock_(clock), zones_(zones) {}

  // One pass over every subject, each in its own transaction. Success: the number of subjects
  // updated. Failure: the first database error (subjects before it keep their update).
  Result<int> RunOnce();

  // RunOnce when `interval` has passed since the last successful pass (or there was none);
  // 0 otherwise.
  Result<int> RunIfDue(Millis interval);

 private:
  Status UpdateSubject(SubjectKind kind, int64_t id, int64_t ws, const std::string& zone_name,
                       int64_t now);

  store::Database& db_;
  const Clock& clock_;
  domain::TimeZoneDatabase& zones_;
  std::optional<int64_t> last_run_ms_;
};

// The job's loop for a worker thread: RunIfDue(interval) every `tick` until wait(tick) returns true
// (asked to stop). A failing pass is logged and retried on the next tick.
void RunReputationJob(ReputationJob& job, Millis interval, Millis tick,
                      const std::function<bool(Millis)>& wait);

}  // namespace kiln::warmup
