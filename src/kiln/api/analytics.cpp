// Analytics routes: a campaign's numbers (totals, per step with its variants and A/B test, per
// sender, daily), the workspace overview, and a sender's warm-up placement over time. Read-only,
// viewer role. Numbers come from analytics/stats.h (roll-ups plus the live tail: exact whether or
// not the roll-up job has run); placement reuses the reputation history (warmup/reputation.h).
#include <boost/json/serialize.hpp>
#include <cmath>

#include "kiln/analytics/ab_test.h"
#include "kiln/analytics/stats.h"
#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/json_input.h"
#include "kiln/warmup/reputation.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

constexpr int64_t kOverviewDefaultDays = 30;

std::optional<std::string> QueryParam(const Ctx& ctx, const std::string& name) {
  auto it = ctx.req.query.find(name);
  if (it == ctx.req.query.end()) return std::nullopt;
  return it->second;
}

// ?from=&to= as days (YYYY-MM-DD, inclusive); to before from is refused, naming "to".
Result<analytics::DayRange> ReadRange(const Ctx& ctx) {
  analytics::DayRange range;
  if (auto from = QueryParam(ctx, "from")) {
    KILN_ASSIGN_OR_RETURN(int64_t day, analytics::ParseDay(*from, "from"));
    range.first = day;
  }
  if (auto to = QueryParam(ctx, "to")) {
    KILN_ASSIGN_OR_RETURN(int64_t day, analytics::ParseDay(*to, "to"));
    range.last = day;
  }
  if (range.first && range.last && *range.last < *range.first) {
    return Status::InvalidArgument("must not be before from", "to");
  }
  return range;
}

// ?include_machine=true|false|1|0 (default false).
Result<bool> ReadIncludeMachine(const Ctx& ctx) {
  auto v = QueryParam(ctx, "include_machine");
  if (!v) return false;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  return Status::InvalidArgument("must be true or false", "include_machine");
}

// A positive integer query parameter in [1, max], or `fallback` when absent.
Result<int64_t> ReadCount(const Ctx& ctx, const std::string& name, int64_t max, int64_t fallback) {
  auto v = QueryParam(ctx, name);
  if (!v) return fallback;
  auto n = ParseId(*v);
  if (!n.ok() || *n > max) {
    return Status::InvalidArgument("must be a whole number from 1 to " + std::to_string(max), name);
  }
  return *n;
}

Result<json::value> CampaignAnalytics(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such campaign");
  KILN_ASSIGN_OR_RETURN(analytics::DayRange range, ReadRange(ctx));
  KILN_ASSIGN_OR_RETURN(bool include_machine, ReadIncludeMachine(ctx));
  KILN_ASSIGN_OR_RETURN(int64_t min_sample,
                        ReadCount(ctx, "ab_min_sample", 1'000'000, analytics::kDefaultAbMinSample));
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto stats, analytics::LoadCampaignStats(tx, ctx.ws, *id, range));
    if (!stats) return Status::NotFound("no such campaign");
    out = analytics::CampaignStatsJson(*stats, include_machine, min_sample);
    return Status::Ok();
  }));
  return out;
}

Result<json::value> Overview(Api& api, Ctx& ctx) {
  KILN_ASSIGN_OR_RETURN(analytics::DayRange range, ReadRange(ctx));
  KILN_ASSIGN_OR_RETURN(bool include_machine, ReadIncludeMachine(ctx));
  const int64_t today = api.clock().NowMillis() / analytics::kMillisPerDay;
  if (!range.last) range.last = std::max(today, range.first.value_or(today));
  if (!range.first) range.first = *range.last - (kOverviewDefaultDays - 1);
  if (*range.last - *range.first + 1 > analytics::kMaxSeriesDays) {
    return Status::InvalidArgument(
        "the range is at most " + std::to_string(analytics::kMaxSeriesDays) + " days", "from");
  }
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto overview, analytics::LoadWorkspaceOverview(tx, ctx.ws, range));
    out = analytics::OverviewJson(overview, include_machine);
    return Status::Ok();
  }));
  return out;
}

json::value Rate(int64_t x, int64_t d) {
  auto r = analytics::RateOf(x, d);
  if (!r) return nullptr;
  return std::round(*r * 1e6) / 1e6;
}

json::object PlacementJson(int64_t inbox, int64_t spam, int64_t other_folder, int64_t missing) {
  const int64_t placed = inbox + spam + other_folder + missing;
  return json::object{{"placed", placed},
                      {"inbox", inbox},
                      {"spam", spam},
                      {"other_folder", other_folder},
                      {"missing", missing},
                      {"inbox_rate", Rate(inbox, placed)},
                      {"spam_rate", Rate(spam, placed)}};
}

// Where a sender's warm-up mail landed, per day (the reputation history the daily job keeps, on
// the sender's calendar) and over the whole window by the receiving mailbox's provider.
Result<json::value> SenderPlacement(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such sender");
  KILN_ASSIGN_OR_RETURN(int64_t days, ReadCount(ctx, "days", 365, 30));
  const int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto report, warmup::LoadReputation(tx, warmup::SubjectKind::kSender,
                                                              ctx.ws, *id, now, days));
    if (!report) return Status::NotFound("no such sender");
    json::array daily;
    warmup::Activity total;
    for (const warmup::DailyReport& d : report->daily) {
      const warmup::Activity& a = d.activity;
      total += a;
      json::object o = PlacementJson(a.inbox, a.spam, a.other_folder, a.missing);
      o.emplace("day", d.day);
      o["warmup_sent"] = a.warmup_sent;
      daily.push_back(std::move(o));
    }
    json::array providers;
    KILN_ASSIGN_OR_RETURN(auto rows,
                          tx.Query("analytics.placement_by_provider",
                                   {*id, now - days * analytics::kMillisPerDay, now + 1}));
    for (const store::Row& r : rows) {
      json::object o =
          PlacementJson(r.Int("inbox"), r.Int("spam"), r.Int("other_folder"), r.Int("missing"));
      o.emplace("provider", r.Text("provider"));
      providers.push_back(std::move(o));
    }
    out["sender_id"] = *id;
    out["days"] = days;
    out["health_score"] = report->health_score;
    out["totals"] = PlacementJson(total.inbox, total.spam, total.other_folder, total.missing);
    out["daily"] = std::move(daily);
    out["by_provider"] = std::move(providers);
    return Status::Ok();
  }));
  return out;
}

constexpr char kCountersProps[] =
    R"("sent":{"type":"integer"},"delivered":{"type":"integer"},"opened":{"type":"integer"},"clicked":{"type":"integer"},"replied":{"type":"integer"},"positive_replies":{"type":"integer"},"bounced":{"type":"integer"},"bounced_hard":{"type":"integer"},"bounced_soft":{"type":"integer"},"unsubscribed":{"type":"integer"},"complained":{"type":"integer"},"machine_opens":{"type":"integer"},"machine_clicks":{"type":"integer"},"delivery_rate":{"type":["number","null"]},"open_rate":{"type":["number","null"]},"click_rate":{"type":["number","null"]},"reply_rate":{"type":["number","null"]},"positive_reply_rate":{"type":["number","null"]},"bounce_rate":{"type":["number","null"]},"hard_bounce_rate":{"type":["number","null"]},"unsubscribe_rate":{"type":["number","null"]},"complaint_rate":{"type":["number","null"]})";

std::string Counters(std::string extra = "") {
  return std::string(R"({"type":"object","properties":{)") + kCountersProps + extra + "}}";
}

std::string CampaignSchema() {
  const std::string ab =
      R"({"type":"object","properties":{"metric":{"type":"string"},"winner_variant_id":{"type":["integer","null"]},"leader_variant_id":{"type":["integer","null"]},"runner_up_variant_id":{"type":["integer","null"]},"z":{"type":["number","null"]},"p_value":{"type":["number","null"]},"significant":{"type":"boolean"},"min_sample":{"type":"integer"},"reason":{"type":"string"}}})";
  return R"({"type":"object","properties":{"campaign":{"type":"object"},"from":{"type":["string","null"]},"to":{"type":["string","null"]},"include_machine":{"type":"boolean"},"totals":)" +
         Counters() + R"(,"by_step":{"type":"array","items":)" +
         Counters(
             R"(,"step_id":{"type":"integer"},"position":{"type":"integer"},"variants":{"type":"array","items":)" +
             Counters(
                 R"(,"variant_id":{"type":"integer"},"label":{"type":"string"},"subject":{"type":"string"})") +
             R"(},"ab_test":{"type":"object","properties":{"reply":)" + ab + R"(,"open":)" + ab +
             "}}") +
         R"(},"by_sender":{"type":"array","items":)" +
         Counters(R"(,"sender_id":{"type":"integer"},"email":{"type":"string"})") +
         R"(},"daily":{"type":"array","items":)" + Counters(R"(,"day":{"type":"string"})") + "}}}";
}

std::string OverviewSchema() {
  return R"({"type":"object","properties":{"from":{"type":"string"},"to":{"type":"string"},"include_machine":{"type":"boolean"},"totals":)" +
         Counters() + R"(,"daily":{"type":"array","items":)" +
         Counters(R"(,"day":{"type":"string"})") + "}}}";
}

constexpr char kPlacementSchema[] =
    R"({"type":"object","properties":{"sender_id":{"type":"integer"},"days":{"type":"integer"},"health_score":{"type":"integer"},"totals":{"type":"object"},"daily":{"type":"array","items":{"type":"object","properties":{"day":{"type":"string"},"warmup_sent":{"type":"integer"},"placed":{"type":"integer"},"inbox":{"type":"integer"},"spam":{"type":"integer"},"other_folder":{"type":"integer"},"missing":{"type":"integer"},"inbox_rate":{"type":["number","null"]},"spam_rate":{"type":["number","null"]}}}},"by_provider":{"type":"array","items":{"type":"object"}}}})";

}  // namespace

void RegisterAnalyticsRoutes(Api& api) {
  Api* a = &api;
  auto bind = [a](Result<json::value> (*fn)(Api&, Ctx&)) {
    return [a, fn](Ctx& c) { return fn(*a, c); };
  };
  api.Add(verb::get, "/api/v1/workspaces/{ws}/campaigns/{id}/analytics",
          {Access::kWorkspace, Role::kViewer}, bind(CampaignAnalytics),
          {.summary = "A campaign's sent, delivered, opened, clicked, replied, positive, bounced, "
                      "unsubscribed and complained with rates: totals, per step with variants "
                      "and A/B test, per sender, daily (?from=&to= YYYY-MM-DD, "
                      "include_machine=true|false, ab_min_sample=1..1000000)",
           .tag = "analytics",
           .response_schema = CampaignSchema()});
  api.Add(verb::get, "/api/v1/workspaces/{ws}/analytics/overview",
          {Access::kWorkspace, Role::kViewer}, bind(Overview),
          {.summary = "The workspace's campaign totals and daily series (?from=&to= YYYY-MM-DD, "
                      "default the last 30 days; include_machine=true|false)",
           .tag = "analytics",
           .response_schema = OverviewSchema()});
  api.Add(verb::get, "/api/v1/workspaces/{ws}/senders/{id}/placement",
          {Access::kWorkspace, Role::kViewer}, bind(SenderPlacement),
          {.summary = "Warm-up placement of a sender: inbox vs spam per day (the reputation "
                      "history) and by the receiving provider (?days=1..365, default 30)",
           .tag = "analytics",
           .response_schema = kPlacementSchema});
}

}  // namespace kiln::api
