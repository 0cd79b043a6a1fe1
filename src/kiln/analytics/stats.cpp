#include "kiln/analytics/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

#include "kiln/analytics/rollup.h"
#include "kiln/domain/civil_time.h"

namespace kiln::analytics {

namespace json = boost::json;

std::string DayName(int64_t day) {
  domain::CivilDate d = domain::CivilFromDays(day);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02d", static_cast<long long>(d.year), d.month,
                d.day);
  return buf;
}

Result<int64_t> ParseDay(std::string_view text, const std::string& field) {
  auto bad = [&] { return Status::InvalidArgument("must be a date YYYY-MM-DD", field); };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
  int64_t parts[3] = {0, 0, 0};
  const size_t starts[3] = {0, 5, 8};
  const size_t lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    for (size_t k = 0; k < lengths[i]; ++k) {
      char c = text[starts[i] + k];
      if (c < '0' || c > '9') return bad();
      parts[i] = parts[i] * 10 + (c - '0');
    }
  }
  if (parts[0] < 1970 ||
      !domain::IsValidCivilDate(parts[0], static_cast<int>(parts[1]), static_cast<int>(parts[2]))) {
    return bad();
  }
  return domain::DaysFromCivil(parts[0], static_cast<int>(parts[1]), static_cast<int>(parts[2]));
}

namespace {

// (step, variant, sender, day)
using Key = std::tuple<int64_t, int64_t, int64_t, int64_t>;

// Days to list: the range, or the span of the data where the range is open; only the data's days
// when that would be more than kMaxSeriesDays.
std::vector<int64_t> SeriesDays(const DayRange& range, const std::map<int64_t, Counters>& by_day) {
  std::vector<int64_t> days;
  std::optional<int64_t> first = range.first, last = range.last;
  if (!by_day.empty()) {
    if (!first) first = by_day.begin()->first;
    if (!last) last = by_day.rbegin()->first;
  }
  if (!first || !last || *last < *first) return days;
  if (*last - *first + 1 > kMaxSeriesDays) {
    for (const auto& [day, c] : by_day) days.push_back(day);
    return days;
  }
  for (int64_t d = *first; d <= *last; ++d) days.push_back(d);
  return days;
}

std::vector<DayStats> Series(const DayRange& range, const std::map<int64_t, Counters>& by_day) {
  std::vector<DayStats> out;
  for (int64_t day : SeriesDays(range, by_day)) {
    DayStats d;
    d.day = day;
    if (auto it = by_day.find(day); it != by_day.end()) d.counters = it->second;
    out.push_back(d);
  }
  return out;
}

}  // namespace

Result<std::optional<CampaignStats>> LoadCampaignStats(store::Tx& tx, int64_t ws,
                                                       int64_t campaign_id, DayRange range) {
  KILN_ASSIGN_OR_RETURN(auto campaign, tx.QueryOne("analytics.campaign", {ws, campaign_id}));
  if (!campaign) return std::optional<CampaignStats>();
  CampaignStats s;
  s.campaign_id = campaign_id;
  s.name = campaign->Text("name");
  s.status = campaign->Text("status");
  s.range = range;
  KILN_ASSIGN_OR_RETURN(s.watermark, RollupWatermark(tx));

  std::map<Key, Counters> cells;
  const int64_t first = range.first.value_or(0);
  const int64_t last = range.last.value_or(INT64_MAX / kMillisPerDay);
  KILN_ASSIGN_OR_RETURN(auto rolled,
                        tx.Query("analytics.campaign_rollups", {campaign_id, first, last}));
  auto key_of = [](const store::Row& r) {
    return Key{r.Int("step_id"), r.Int("variant_id"), r.Int("sender_id"), r.Int("day")};
  };
  for (const store::Row& r : rolled) cells[key_of(r)] += CountersFromRow(r);
  KILN_ASSIGN_OR_RETURN(auto tail, tx.Query("analytics.campaign_tail", {s.watermark, campaign_id}));
  for (const store::Row& r : tail) {
    if (range.Contains(r.Int("day"))) cells[key_of(r)] += CountersFromRow(r);
  }
  KILN_ASSIGN_OR_RETURN(auto positive, tx.Query("analytics.campaign_positive", {ws, campaign_id}));
  for (const store::Row& r : positive) {
    if (!range.Contains(r.Int("day"))) continue;
    Counters c;
    c.positive = r.Int("positive");
    cells[key_of(r)] += c;
  }

  // The campaign's shape first (so variants and senders without data are listed), then whatever
  // the data names that the shape no longer has (deleted variants and senders).
  std::map<int64_t, size_t> step_index;
  KILN_ASSIGN_OR_RETURN(auto shape, tx.Query("analytics.campaign_variants", {campaign_id}));
  for (const store::Row& r : shape) {
    int64_t step = r.Int("step_id");
    auto [it, added] = step_index.emplace(step, s.steps.size());
    if (added) s.steps.push_back(StepStats{.step_id = step, .position = r.Int("position")});
    if (!r.IsNull("variant_id")) {
      s.steps[it->second].variants.push_back(VariantStats{.variant_id = r.Int("variant_id"),
                                                          .label = r.Text("label"),
                                                          .subject = r.Text("subject")});
    }
  }
  std::map<int64_t, size_t> sender_index;
  KILN_ASSIGN_OR_RETURN(auto senders, tx.Query("analytics.campaign_senders", {ws, campaign_id}));
  for (const store::Row& r : senders) {
    sender_index.emplace(r.Int("id"), s.senders.size());
    s.senders.push_back(SenderStats{.sender_id = r.Int("id"), .email = r.Text("email")});
  }
  std::map<int64_t, Counters> by_day;
  for (const auto& [key, c] : cells) {
    const auto& [step, variant, sender, day] = key;
    s.totals += c;
    by_day[day] += c;
    auto st = step_index.find(step);
    if (st == step_index.end()) {
      st = step_index.emplace(step, s.steps.size()).first;
      s.steps.push_back(StepStats{.step_id = step, .position = -1});
    }
    StepStats& step_stats = s.steps[st->second];
    step_stats.counters += c;
    auto v = std::find_if(step_stats.variants.begin(), step_stats.variants.end(),
                          [&](const VariantStats& x) { return x.variant_id == variant; });
    if (v == step_stats.variants.end()) {
      step_stats.variants.push_back(VariantStats{.variant_id = variant});
      v = step_stats.variants.end() - 1;
    }
    v->counters += c;
    auto se = sender_index.find(sender);
    if (se == sender_index.end()) {
      // Named only by events past the watermark (a sender out of the pool whose sends are not
      // rolled up yet), or deleted: its address when it still exists.
      SenderStats added{.sender_id = sender};
      if (sender != 0) {
        KILN_ASSIGN_OR_RETURN(auto row, tx.QueryOne("analytics.sender", {ws, sender}));
        if (row) added.email = row->Text("email");
      }
      se = sender_index.emplace(sender, s.senders.size()).first;
      s.senders.push_back(std::move(added));
    }
    s.senders[se->second].counters += c;
  }
  std::sort(s.senders.begin(), s.senders.end(),
            [](const SenderStats& a, const SenderStats& b) { return a.sender_id < b.sender_id; });
  s.daily = Series(range, by_day);
  return std::optional<CampaignStats>(std::move(s));
}

Result<WorkspaceOverview> LoadWorkspaceOverview(store::Tx& tx, int64_t ws, DayRange range) {
  if (!range.first || !range.last) {
    return Status::InvalidArgument("the overview needs both ends of its range", "from");
  }
  WorkspaceOverview o;
  o.range = range;
  KILN_ASSIGN_OR_RETURN(o.watermark, RollupWatermark(tx));
  std::map<int64_t, Counters> by_day;
  KILN_ASSIGN_OR_RETURN(auto rolled,
                        tx.Query("analytics.workspace_rollups", {ws, *range.first, *range.last}));
  for (const store::Row& r : rolled) by_day[r.Int("day")] += CountersFromRow(r);
  KILN_ASSIGN_OR_RETURN(auto tail, tx.Query("analytics.workspace_tail", {o.watermark, ws}));
  for (const store::Row& r : tail) {
    if (range.Contains(r.Int("day"))) by_day[r.Int("day")] += CountersFromRow(r);
  }
  KILN_ASSIGN_OR_RETURN(auto positive,
                        tx.Query("analytics.workspace_positive", {ws, *range.first, *range.last}));
  for (const store::Row& r : positive) {
    Counters c;
    c.positive = r.Int("positive");
    by_day[r.Int("day")] += c;
  }
  for (const auto& [day, c] : by_day) o.totals += c;
  o.daily = Series(range, by_day);
  return o;
}

namespace {

json::value OptId(const std::optional<int64_t>& id) {
  if (!id) return nullptr;
  return *id;
}

json::value Rounded(double v) { return std::round(v * 1e6) / 1e6; }

json::object AbJson(const StepStats& step, bool replies, bool include_machine, int64_t min_sample) {
  std::vector<Arm> arms;
  for (const VariantStats& v : step.variants) {
    if (v.variant_id == 0) continue;  // deleted variants are not an arm of the test
    const Counters& c = v.counters;
    int64_t successes = replies ? c.replied : (include_machine ? c.opened_any : c.opened);
    arms.push_back(Arm{.variant_id = v.variant_id,
                       .label = v.label,
                       .successes = std::min(successes, c.delivered()),
                       .trials = c.delivered()});
  }
  AbResult r = CompareArms(arms, min_sample);
  json::object o;
  o["metric"] = replies ? "reply_rate" : "open_rate";
  o["winner_variant_id"] = OptId(r.winner_variant_id);
  o["leader_variant_id"] = OptId(r.leader_variant_id);
  o["runner_up_variant_id"] = OptId(r.runner_up_variant_id);
  o["z"] = r.test ? Rounded(r.test->z) : json::value(nullptr);
  o["p_value"] = r.test ? Rounded(r.test->p_value) : json::value(nullptr);
  o["significant"] = r.significant;
  o["min_sample"] = min_sample;
  o["reason"] = r.reason;
  return o;
}

json::value RangeEnd(const std::optional<int64_t>& day) {
  if (!day) return nullptr;
  return json::value(DayName(*day));
}

json::array DailyJson(const std::vector<DayStats>& daily, bool include_machine) {
  json::array out;
  for (const DayStats& d : daily) {
    json::object o = CountersJson(d.counters, include_machine);
    o.emplace("day", DayName(d.day));
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace

json::object CampaignStatsJson(const CampaignStats& s, bool include_machine,
                               int64_t ab_min_sample) {
  json::object out;
  out["campaign"] = json::object{{"id", s.campaign_id}, {"name", s.name}, {"status", s.status}};
  out["from"] = RangeEnd(s.range.first);
  out["to"] = RangeEnd(s.range.last);
  out["include_machine"] = include_machine;
  out["totals"] = CountersJson(s.totals, include_machine);
  json::array steps;
  for (const StepStats& step : s.steps) {
    json::object o = CountersJson(step.counters, include_machine);
    o["step_id"] = step.step_id;
    o["position"] = step.position;
    json::array variants;
    for (const VariantStats& v : step.variants) {
      json::object vo = CountersJson(v.counters, include_machine);
      vo["variant_id"] = v.variant_id;
      vo["label"] = v.label;
      vo["subject"] = v.subject;
      variants.push_back(std::move(vo));
    }
    o["variants"] = std::move(variants);
    o["ab_test"] = json::object{{"reply", AbJson(step, true, include_machine, ab_min_sample)},
                                {"open", AbJson(step, false, include_machine, ab_min_sample)}};
    steps.push_back(std::move(o));
  }
  out["by_step"] = std::move(steps);
  json::array senders;
  for (const SenderStats& se : s.senders) {
    json::object o = CountersJson(se.counters, include_machine);
    o["sender_id"] = se.sender_id;
    o["email"] = se.email;
    senders.push_back(std::move(o));
  }
  out["by_sender"] = std::move(senders);
  out["daily"] = DailyJson(s.daily, include_machine);
  return out;
}

json::object OverviewJson(const WorkspaceOverview& o, bool include_machine) {
  json::object out;
  out["from"] = RangeEnd(o.range.first);
  out["to"] = RangeEnd(o.range.last);
  out["include_machine"] = include_machine;
  out["totals"] = CountersJson(o.totals, include_machine);
  out["daily"] = DailyJson(o.daily, include_machine);
  return out;
}

}  // namespace kiln::analytics
