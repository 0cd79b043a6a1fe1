// Campaign and workspace analytics answers: counters per campaign, step, variant, sender and UTC
// day, with rates, a daily series and each step's A/B test, read from the roll-ups (rollup.h) up
// to the watermark plus the events past it counted live by the same rules, so an answer is exact
// whether or not the job has run. Positive replies follow the lead's current status: they are read
// from analytics_positive, which triggers keep exact in the transaction of every status or reply
// change (migration 0014), so they never wait for the job either.
//
// The functions run inside the caller's (read) transaction; the JSON functions are pure.
// Thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kiln/analytics/ab_test.h"
#include "kiln/analytics/counters.h"
#include "kiln/base/status.h"
#include "kiln/store/db.h"

namespace kiln::analytics {

// Days since 1970-01-01 UTC, inclusive at both ends.
struct DayRange {
  std::optional<int64_t> first;  // nullopt: from the first day with data
  std::optional<int64_t> last;   // nullopt: to the last day with data
  bool Contains(int64_t day) const { return (!first || day >= *first) && (!last || day <= *last); }
};

inline constexpr int64_t kMillisPerDay = 86'400'000;
inline constexpr int64_t kMaxSeriesDays = 3660;  // a daily series longer than this lists data days

// "YYYY-MM-DD" of a day number, and back (InvalidArgument naming `field` when not a real date).
std::string DayName(int64_t day);
Result<int64_t> ParseDay(std::string_view text, const std::string& field);

struct VariantStats {
  int64_t variant_id = 0;  // 0: messages whose variant was deleted
  std::string label;
  std::string subject;
  Counters counters;
};

struct StepStats {
  int64_t step_id = 0;
  int64_t position = 0;
  Counters counters;
  std::vector<VariantStats> variants;  // in the step's order
};

struct SenderStats {
  int64_t sender_id = 0;  // 0: messages whose sender was deleted
  std::string email;
  Counters counters;
};

struct DayStats {
  int64_t day = 0;
  Counters counters;
};

struct CampaignStats {
  int64_t campaign_id = 0;
  std::string name;
  std::string status;
  DayRange range;
  int64_t watermark = 0;  // events up to this id came from the roll-ups
  Counters totals;
  std::vector<StepStats> steps;      // by position
  std::vector<SenderStats> senders;  // by id
  std::vector<DayStats> daily;       // every day of the range (or of the data), oldest first
};

// Success: the campaign's stats over `range`, or nullopt when `campaign_id` is not a campaign of
// workspace `ws`. Failure: a database error.
Result<std::optional<CampaignStats>> LoadCampaignStats(store::Tx& tx, int64_t ws,
                                                       int64_t campaign_id, DayRange range);

struct WorkspaceOverview {
  DayRange range;  // both ends set
  int64_t watermark = 0;
  Counters totals;
  std::vector<DayStats> daily;  // every day of the range, oldest first
};

// Success: workspace `ws`'s totals and daily series over `range` (both ends required).
// Failure: InvalidArgument for an open range; a database error.
Result<WorkspaceOverview> LoadWorkspaceOverview(store::Tx& tx, int64_t ws, DayRange range);

// {campaign:{id,name,status}, from, to, include_machine, totals:{counters}, by_step:[{step_id,
// position, ...counters, variants:[{variant_id,label,subject,...counters}], ab_test:{reply:{...},
// open:{...}}}], by_sender:[{sender_id,email,...counters}], daily:[{day,...counters}]} where each
// ab_test entry is {metric, winner_variant_id, leader_variant_id, runner_up_variant_id, z,
// p_value, significant, min_sample, reason}; counters as CountersJson.
boost::json::object CampaignStatsJson(const CampaignStats& stats, bool include_machine,
                                      int64_t ab_min_sample);

// {from, to, include_machine, totals:{counters}, daily:[{day, ...counters}]}.
boost::json::object OverviewJson(const WorkspaceOverview& overview, bool include_machine);

}  // namespace kiln::analytics
