// Campaigns: settings, schedule, sender pool, audience lists and the sequence of steps with their
// A/B variants; the state machine draft -> running <-> paused -> completed (and archived); launch,
// which checks everything and answers every problem at once (templates included: each enabled
// variant must parse and must render for every lead of the audience without a missing variable),
// then enrols the audience; preview of any step and variant for any lead.
//
// Steps are replaced as a whole list when `steps` is given, but rows are kept by position so that
// messages already sent stay attached to their step and variant: a step or variant that has sent
// messages cannot be removed (disable the variant instead).
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/json_input.h"
#include "kiln/base/time_format.h"
#include "kiln/template/template.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

constexpr size_t kMaxSteps = 50;
constexpr size_t kMaxVariants = 10;
constexpr size_t kMaxSenders = 1000;
constexpr size_t kMaxLists = 100;
constexpr int64_t kMaxDelayMinutes = 525600;  // one year
constexpr size_t kMaxBody = 200000;
constexpr char kDefaultSchedule[] = R"({"days":[1,2,3,4,5],"start":"09:00","end":"17:00"})";

struct VariantInput {
  std::string label, subject, body_html, body_text;
  int64_t weight = 1;
  bool enabled = true;
};

struct StepInput {
  int64_t delay_minutes = 0;
  std::string condition = "always";
  std::vector<VariantInput> variants;
};

struct CampaignInput {
  std::optional<std::string> name, timezone, schedule;  // schedule: canonical JSON
  std::optional<std::optional<int64_t>> start_at;       // present and null: cleared
  std::optional<int64_t> daily_limit, warmup_mix_percent;
  std::optional<bool> track_opens, track_clicks, stop_on_auto_reply;
  std::optional<std::vector<int64_t>> sender_ids, list_ids;
  std::optional<std::vector<StepInput>> steps;
};

// "HH:MM" (00:00..23:59) -> minutes after midnight.
std::optional<int> ParseHhMm(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (size_t i : {0, 1, 3, 4}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

Status ReadSchedule(const json::object& obj, std::string* out) {
  JsonFields in(obj, "schedule");
  const json::array* days = nullptr;
  std::string start, end;
  KILN_RETURN_IF_ERROR(in.Arr("days", &days, 7));
  KILN_RETURN_IF_ERROR(in.Str("start", &start, {.min_len = 1, .max_len = 5}));
  KILN_RETURN_IF_ERROR(in.Str("end", &end, {.min_len = 1, .max_len = 5}));
  KILN_RETURN_IF_ERROR(in.Finish());
  if (days->empty())
    return Status::InvalidArgument("must name at least one day (1 = Monday .. 7 = Sunday)",
                                   "schedule.days");
  std::vector<int64_t> d;
  for (size_t i = 0; i < days->size(); ++i) {
    const json::value& v = (*days)[i];
    std::string field = "schedule.days[" + std::to_string(i) + "]";
    if (!v.is_int64() || v.as_int64() < 1 || v.as_int64() > 7) {
      return Status::InvalidArgument("must be an ISO weekday from 1 (Monday) to 7 (Sunday)", field);
    }
    if (std::find(d.begin(), d.end(), v.as_int64()) != d.end())
      return Status::InvalidArgument("repeats a day", field);
    d.push_back(v.as_int64());
  }
  std::sort(d.begin(), d.end());
  auto s = ParseHhMm(start);
  if (!s)
    return Status::InvalidArgument("must be a time HH:MM from 00:00 to 23:59", "schedule.start");
  auto e = ParseHhMm(end);
  if (!e)
    return Status::InvalidArgument("must be a time HH:MM from 00:00 to 23:59", "schedule.end");
  if (*e <= *s)
    return Status::InvalidArgument(
        "must be later than schedule.start (windows end on the day they start)", "schedule.end");
  json::array days_out;
  for (int64_t x : d) days_out.push_back(x);
  *out =
      json::serialize(json::object{{"days", std::move(days_out)}, {"start", start}, {"end", end}});
  return Status::Ok();
}

Status ReadVariant(const json::object& obj, const std::string& prefix, size_t index,
                   VariantInput* v) {
  JsonFields in(obj, prefix);
  std::optional<std::string> label, subject, body_html, body_text;
  std::optional<int64_t> weight;
  std::optional<bool> enabled;
  KILN_RETURN_IF_ERROR(in.OptStr("label", &label, {.max_len = 50}));
  KILN_RETURN_IF_ERROR(in.OptInt("weight", &weight, 0, 100));
  KILN_RETURN_IF_ERROR(in.OptStr("subject", &subject, {.max_len = 998, .nullable = true}));
  KILN_RETURN_IF_ERROR(
      in.OptStr("body_html", &body_html,
                {.max_len = kMaxBody, .trim = false, .multiline = true, .nullable = true}));
  KILN_RETURN_IF_ERROR(
      in.OptStr("body_text", &body_text,
                {.max_len = kMaxBody, .trim = false, .multiline = true, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.OptBool("enabled", &enabled));
  KILN_RETURN_IF_ERROR(in.Finish());
  v->label = label && !label->empty() ? *label : std::string(1, static_cast<char>('A' + index));
  v->weight = weight.value_or(1);
  v->subject = subject.value_or("");
  v->body_html = body_html.value_or("");
  v->body_text = body_text.value_or("");
  v->enabled = enabled.value_or(true);
  return Status::Ok();
}

Status ReadStep(const json::object& obj, size_t index, StepInput* s) {
  std::string prefix = "steps[" + std::to_string(index) + "]";
  JsonFields in(obj, prefix);
  std::optional<int64_t> delay;
  std::optional<std::string> condition;
  const json::array* variants = nullptr;
  KILN_RETURN_IF_ERROR(in.OptInt("delay_minutes", &delay, 0, kMaxDelayMinutes));
  KILN_RETURN_IF_ERROR(in.OptStr("condition", &condition, {.min_len = 1, .max_len = 20}));
  KILN_RETURN_IF_ERROR(in.Arr("variants", &variants, kMaxVariants));
  KILN_RETURN_IF_ERROR(in.Finish());
  s->delay_minutes = delay.value_or(0);
  s->condition = condition.value_or("always");
  if (s->condition != "always" && s->condition != "no_open" && s->condition != "opened" &&
      s->condition != "clicked") {
    return Status::InvalidArgument("must be one of always, no_open, opened, clicked",
                                   in.FieldName("condition"));
  }
  if (index == 0 && s->condition != "always") {
    return Status::InvalidArgument(
        "the first step follows no earlier email; its condition must be always",
        in.FieldName("condition"));
  }
  for (size_t j = 0; j < variants->size(); ++j) {
    std::string vprefix = prefix + ".variants[" + std::to_string(j) + "]";
    if (!(*variants)[j].is_object()) return Status::InvalidArgument("must be an object", vprefix);
    KILN_RETURN_IF_ERROR(
        ReadVariant((*variants)[j].as_object(), vprefix, j, &s->variants.emplace_back()));
  }
  return Status::Ok();
}

Status ReadCampaign(const json::object& body, bool create, CampaignInput* c) {
  JsonFields in(body);
  StrRule name_rule{.min_len = 1, .max_len = 200};
  KILN_RETURN_IF_ERROR(create ? in.Str("name", &c->name.emplace(), name_rule)
                              : in.OptStr("name", &c->name, name_rule));
  const json::object* schedule = nullptr;
  KILN_RETURN_IF_ERROR(in.OptObj("schedule", &schedule));
  KILN_RETURN_IF_ERROR(in.OptStr("timezone", &c->timezone, {.min_len = 1, .max_len = 64}));
  std::optional<std::string> start_at;
  KILN_RETURN_IF_ERROR(in.OptStr("start_at", &start_at, {.max_len = 40, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.OptInt("daily_limit", &c->daily_limit, 0, 1000000));
  KILN_RETURN_IF_ERROR(in.OptInt("warmup_mix_percent", &c->warmup_mix_percent, 0, 100));
  KILN_RETURN_IF_ERROR(in.OptBool("track_opens", &c->track_opens));
  KILN_RETURN_IF_ERROR(in.OptBool("track_clicks", &c->track_clicks));
  KILN_RETURN_IF_ERROR(in.OptBool("stop_on_auto_reply", &c->stop_on_auto_reply));
  const json::array *senders = nullptr, *lists = nullptr, *steps = nullptr;
  KILN_RETURN_IF_ERROR(in.OptArr("sender_ids", &senders, kMaxSenders));
  KILN_RETURN_IF_ERROR(in.OptArr("list_ids", &lists, kMaxLists));
  KILN_RETURN_IF_ERROR(in.OptArr("steps", &steps, kMaxSteps));
  KILN_RETURN_IF_ERROR(in.Finish());
  if (schedule) KILN_RETURN_IF_ERROR(ReadSchedule(*schedule, &c->schedule.emplace()));
  if (c->timezone) KILN_RETURN_IF_ERROR(CheckTimezoneShape(*c->timezone, "timezone"));
  if (start_at) {
    if (start_at->empty()) {
      c->start_at.emplace(std::nullopt);
    } else {
      auto t = ParseIso8601(*start_at);
      if (!t.ok()) return t.status().WithField("start_at");
      c->start_at.emplace(*t);
    }
  }
  if (senders) {
    KILN_ASSIGN_OR_RETURN(c->sender_ids.emplace(), ReadIdArray(*senders, "sender_ids"));
  }
  if (lists) {
    KILN_ASSIGN_OR_RETURN(c->list_ids.emplace(), ReadIdArray(*lists, "list_ids"));
  }
  if (steps) {
    auto& out = c->steps.emplace();
    for (size_t i = 0; i < steps->size(); ++i) {
      std::string field = "steps[" + std::to_string(i) + "]";
      if (!(*steps)[i].is_object()) return Status::InvalidArgument("must be an object", field);
      KILN_RETURN_IF_ERROR(ReadStep((*steps)[i].as_object(), i, &out.emplace_back()));
    }
  }
  return Status::Ok();
}

// Writes the sender pool and audience lists; each id must be an object of this workspace, else
// 400 naming it ("sender_ids[2]").
Status WritePoolAndLists(store::Tx& tx, int64_t ws, int64_t id, const CampaignInput& in,
                         int64_t now) {
  if (in.sender_ids) {
    for (size_t i = 0; i < in.sender_ids->size(); ++i) {
      KILN_ASSIGN_OR_RETURN(auto s,
                            tx.QueryOne("campaigns.find_sender", {ws, (*in.sender_ids)[i]}));
      if (!s)
        return Status::InvalidArgument("no such sender in this workspace",
                                       "sender_ids[" + std::to_string(i) + "]");
    }
    KILN_RETURN_IF_ERROR(tx.Exec("campaign_senders.clear", {ws, id}).status());
    for (int64_t sid : *in.sender_ids)
      KILN_RETURN_IF_ERROR(tx.Exec("campaign_senders.insert", {ws, id, sid, now}).status());
  }
  if (in.list_ids) {
    for (size_t i = 0; i < in.list_ids->size(); ++i) {
      KILN_ASSIGN_OR_RETURN(auto l, tx.QueryOne("campaigns.find_list", {ws, (*in.list_ids)[i]}));
      if (!l)
        return Status::InvalidArgument("no such list in this workspace",
                                       "list_ids[" + std::to_string(i) + "]");
    }
    KILN_RETURN_IF_ERROR(tx.Exec("campaign_lists.clear", {ws, id}).status());
    for (int64_t lid : *in.list_ids)
      KILN_RETURN_IF_ERROR(tx.Exec("campaign_lists.insert", {ws, id, lid, now}).status());
  }
  return Status::Ok();
}

Status WriteVariant(store::Tx& tx, int64_t ws, int64_t variant_id, const VariantInput& v,
                    int64_t now) {
  return tx
      .Exec("step_variants.update", {ws, variant_id, v.label, v.weight, v.subject, v.body_html,
                                     v.body_text, v.enabled, now})
      .status();
}

Status InsertVariant(store::Tx& tx, int64_t ws, int64_t step_id, const VariantInput& v,
                     int64_t now) {
  return tx
      .QueryRow("step_variants.insert", {ws, step_id, v.label, v.weight, v.subject, v.body_html,
                                         v.body_text, v.enabled, now})
      .status();
}

// Replaces the step list, keeping rows by position (and variants by index) so sent messages keep
// their step and variant. Removing a step or variant that has messages fails FailedPrecondition.
Status ReplaceSteps(store::Tx& tx, int64_t ws, int64_t id, const std::vector<StepInput>& steps,
                    int64_t now) {
  KILN_ASSIGN_OR_RETURN(auto old_steps, tx.Query("campaign_steps.list", {ws, id}));
  KILN_ASSIGN_OR_RETURN(auto old_variants, tx.Query("step_variants.list", {ws, id}));
  std::map<int64_t, std::vector<int64_t>> variants_of;
  for (const auto& v : old_variants) variants_of[v.Int("step_id")].push_back(v.Int("id"));
  for (size_t i = 0; i < steps.size(); ++i) {
    const StepInput& s = steps[i];
    auto position = static_cast<int64_t>(i);
    if (i >= old_steps.size()) {
      KILN_ASSIGN_OR_RETURN(auto row,
                            tx.QueryRow("campaign_steps.insert",
                                        {ws, id, position, s.delay_minutes, s.condition, now}));
      for (const auto& v : s.variants)
        KILN_RETURN_IF_ERROR(InsertVariant(tx, ws, row.Int("id"), v, now));
      continue;
    }
    int64_t step_id = old_steps[i].Int("id");
    KILN_RETURN_IF_ERROR(
        tx.Exec("campaign_steps.update", {ws, step_id, position, s.delay_minutes, s.condition, now})
            .status());
    const std::vector<int64_t>& existing = variants_of[step_id];
    for (size_t j = 0; j < s.variants.size(); ++j) {
      if (j < existing.size()) {
        KILN_RETURN_IF_ERROR(WriteVariant(tx, ws, existing[j], s.variants[j], now));
      } else {
        KILN_RETURN_IF_ERROR(InsertVariant(tx, ws, step_id, s.variants[j], now));
      }
    }
    for (size_t j = s.variants.size(); j < existing.size(); ++j) {
      KILN_ASSIGN_OR_RETURN(auto n, tx.QueryRow("step_variants.message_count", {ws, existing[j]}));
      if (n.Int("n") > 0) {
        return Status::FailedPrecondition(
            "variant " + std::to_string(j + 1) + " of step " + std::to_string(i + 1) +
                " has sent messages and cannot be removed; set enabled to false instead",
            "steps[" + std::to_string(i) + "].variants");
      }
      KILN_RETURN_IF_ERROR(tx.Exec("step_variants.delete", {ws, existing[j]}).status());
    }
  }
  for (size_t i = steps.size(); i < old_steps.size(); ++i) {
    int64_t step_id = old_steps[i].Int("id");
    KILN_ASSIGN_OR_RETURN(auto n, tx.QueryRow("campaign_steps.message_count", {ws, step_id}));
    if (n.Int("n") > 0) {
      return Status::FailedPrecondition(
          "step " + std::to_string(i + 1) + " has sent messages and cannot be removed", "steps");
    }
    KILN_RETURN_IF_ERROR(tx.Exec("campaign_steps.delete", {ws, step_id}).status());
  }
  return Status::Ok();
}

json::value OptTimeJson(const std::optional<int64_t>& t) {
  return t ? json::value(FormatIso8601(*t)) : json::value(nullptr);
}

// The whole campaign as answered by GET: settings, pool, lists, steps with variants, counts.
Result<json::object> LoadCampaign(store::Tx& tx, int64_t ws, int64_t id) {
  KILN_ASSIGN_OR_RETURN(auto c, tx.QueryRow("campaigns.get", {ws, id}, "no such campaign"));
  boost::system::error_code ec;
  json::value schedule = json::parse(c.Text("schedule"), ec);
  if (ec || !schedule.is_object() || schedule.as_object().empty())
    schedule = json::parse(kDefaultSchedule);
  json::object out{{"id", c.Int("id")},
                   {"name", c.Text("name")},
                   {"status", c.Text("status")},
                   {"paused_reason", c.Text("paused_reason")},
                   {"schedule", std::move(schedule)},
                   {"timezone", c.Text("timezone")},
                   {"start_at", OptTimeJson(c.OptInt("start_at"))},
                   {"daily_limit", c.Int("daily_limit")},
                   {"warmup_mix_percent", c.Int("warmup_mix_percent")},
                   {"track_opens", c.Int("track_opens") != 0},
                   {"track_clicks", c.Int("track_clicks") != 0},
                   {"stop_on_auto_reply", c.Int("stop_on_auto_reply") != 0}};
  KILN_ASSIGN_OR_RETURN(auto senders, tx.Query("campaign_senders.list", {ws, id}));
  json::array sender_ids;
  for (const auto& s : senders) sender_ids.push_back(s.Int("sender_id"));
  out["sender_ids"] = std::move(sender_ids);
  KILN_ASSIGN_OR_RETURN(auto lists, tx.Query("campaign_lists.list", {ws, id}));
  json::array list_ids;
  for (const auto& l : lists) list_ids.push_back(l.Int("list_id"));
  out["list_ids"] = std::move(list_ids);
  KILN_ASSIGN_OR_RETURN(auto steps, tx.Query("campaign_steps.list", {ws, id}));
  KILN_ASSIGN_OR_RETURN(auto variants, tx.Query("step_variants.list", {ws, id}));
  std::map<int64_t, json::array> variants_of;
  for (const auto& v : variants) {
    variants_of[v.Int("step_id")].push_back(json::object{{"id", v.Int("id")},
                                                         {"label", v.Text("label")},
                                                         {"weight", v.Int("weight")},
                                                         {"subject", v.Text("subject")},
                                                         {"body_html", v.Text("body_html")},
                                                         {"body_text", v.Text("body_text")},
                                                         {"enabled", v.Int("is_enabled") != 0}});
  }
  json::array steps_out;
  for (const auto& s : steps) {
    steps_out.push_back(json::object{{"id", s.Int("id")},
                                     {"position", s.Int("position")},
                                     {"delay_minutes", s.Int("delay_minutes")},
                                     {"condition", s.Text("condition")},
                                     {"variants", std::move(variants_of[s.Int("id")])}});
  }
  out["steps"] = std::move(steps_out);
  KILN_ASSIGN_OR_RETURN(auto aud, tx.QueryRow("campaigns.audience", {ws, id}));
  KILN_ASSIGN_OR_RETURN(auto prog, tx.QueryRow("campaigns.progress", {ws, id}));
  out["counts"] = json::object{{"audience", aud.Int("audience")},
                               {"mailable", aud.Int("mailable")},
                               {"suppressed", aud.Int("suppressed")},
                               {"unsubscribed_or_bounced", aud.Int("excluded_status")},
                               {"enrolled", prog.Int("enrolled")},
                               {"in_progress", prog.Int("in_progress")},
                               {"completed", prog.Int("completed")},
                               {"replied", prog.Int("replied")},
                               {"bounced", prog.Int("bounced")},
                               // Caught mid-send by a crash: never resent automatically
                               // (docs/decisions/0004-exactly-once.md).
                               {"unknown", prog.Int("unknown")},
                               {"unsubscribed", prog.Int("unsubscribed")},
                               {"stopped", prog.Int("stopped")},
                               {"sent", prog.Int("sent")}};
  out["created_at"] = TimeOrNull(c, "created_at");
  out["updated_at"] = TimeOrNull(c, "updated_at");
  out["started_at"] = TimeOrNull(c, "started_at");
  out["completed_at"] = TimeOrNull(c, "completed_at");
  return out;
}

Result<json::value> CreateCampaign(Api& api, Ctx& ctx) {
  CampaignInput in;
  KILN_RETURN_IF_ERROR(ReadCampaign(ctx.body, true, &in));
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    store::Value start_at;  // NULL unless given
    if (in.start_at && in.start_at->has_value()) start_at = store::Value(**in.start_at);
    KILN_ASSIGN_OR_RETURN(
        auto row,
        tx.QueryRow(
            "campaigns.insert",
            {ctx.ws, *in.name, in.schedule.value_or(kDefaultSchedule), in.timezone.value_or("UTC"),
             start_at, in.daily_limit.value_or(0), in.warmup_mix_percent.value_or(0),
             in.track_opens.value_or(true), in.track_clicks.value_or(true),
             in.stop_on_auto_reply.value_or(false), NullIfZero(ctx.caller.user_id), now}));
    int64_t id = row.Int("id");
    KILN_RETURN_IF_ERROR(WritePoolAndLists(tx, ctx.ws, id, in, now));
    if (in.steps) KILN_RETURN_IF_ERROR(ReplaceSteps(tx, ctx.ws, id, *in.steps, now));
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "campaign.created", "campaign",
                                    std::to_string(id), {{"name", *in.name}}, now));
    KILN_ASSIGN_OR_RETURN(out, LoadCampaign(tx, ctx.ws, id));
    return Status::Ok();
  }));
  return out;
}

Result<json::value> ListCampaigns(Api& api, Ctx& ctx) {
  std::string status;
  if (auto it = ctx.req.query.find("status"); it != ctx.req.query.end()) {
    status = it->second;
    if (status != "draft" && status != "running" && status != "paused" && status != "completed" &&
        status != "archived") {
      return Status::InvalidArgument("must be one of draft, running, paused, completed, archived",
                                     "status");
    }
  }
  json::array items;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    items.clear();
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("campaigns.list", {ctx.ws, status}));
    for (const auto& r : rows) {
      items.push_back(json::object{{"id", r.Int("id")},
                                   {"name", r.Text("name")},
                                   {"status", r.Text("status")},
                                   {"paused_reason", r.Text("paused_reason")},
                                   {"counts", json::object{{"audience", r.Int("audience")},
                                                           {"enrolled", r.Int("enrolled")},
                                                           {"in_progress", r.Int("in_progress")},
                                                           {"sent", r.Int("sent")}}},
                                   {"created_at", TimeOrNull(r, "created_at")},
                                   {"updated_at", TimeOrNull(r, "updated_at")},
                                   {"started_at", TimeOrNull(r, "started_at")},
                                   {"completed_at", TimeOrNull(r, "completed_at")}});
    }
    return Status::Ok();
  }));
  return json::object{{"items", std::move(items)}};
}

Result<json::value> GetCampaign(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such campaign");
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(out, LoadCampaign(tx, ctx.ws, *id));
    return Status::Ok();
  }));
  return out;
}

Result<json::value> UpdateCampaign(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such campaign");
  CampaignInput in;
  KILN_RETURN_IF_ERROR(ReadCampaign(ctx.body, false, &in));
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto cur,
                          tx.QueryRow("campaigns.get", {ctx.ws, *id}, "no such campaign"));
    std::string status = cur.Text("status");
    if (status == "completed" || status == "archived") {
      return Status::FailedPrecondition(
          "the campaign is " + status + "; it can no longer be changed", "status");
    }
    if (in.steps && status == "running") {
      return Status::FailedPrecondition(
          "the campaign is running; pause the campaign to edit its steps", "steps");
    }
    auto pick = [&](const std::optional<std::string>& v, const char* col) {
      return v ? *v : cur.Text(col);
    };
    auto pick_int = [&](const std::optional<int64_t>& v, const char* col) {
      return v ? *v : cur.Int(col);
    };
    auto pick_bool = [&](const std::optional<bool>& v, const char* col) {
      return v ? int64_t{*v} : cur.Int(col);
    };
    store::Value start_at = cur.At("start_at");
    if (in.start_at)
      start_at = in.start_at->has_value() ? store::Value(**in.start_at) : store::Value();
    KILN_RETURN_IF_ERROR(
        tx.Exec(
              "campaigns.update",
              {ctx.ws, *id, pick(in.name, "name"), pick(in.schedule, "schedule"),
               pick(in.timezone, "timezone"), start_at, pick_int(in.daily_limit, "daily_limit"),
               pick_int(in.warmup_mix_percent, "warmup_mix_percent"),
               pick_bool(in.track_opens, "track_opens"), pick_bool(in.track_clicks, "track_clicks"),
               pick_bool(in.stop_on_auto_reply, "stop_on_auto_reply"), now})
            .status());
    KILN_RETURN_IF_ERROR(WritePoolAndLists(tx, ctx.ws, *id, in, now));
    if (in.steps) KILN_RETURN_IF_ERROR(ReplaceSteps(tx, ctx.ws, *id, *in.steps, now));
    json::object details;
    json::array fields;
    for (const auto& kv : ctx.body) fields.push_back(json::string(kv.key()));
    details["fields"] = std::move(fields);
    if (status == "running" && in.list_ids) {
      // A running campaign's new audience joins at once (enrolment is idempotent).
      std::optional<int64_t> start = cur.OptInt("start_at");
      KILN_ASSIGN_OR_RETURN(
          auto n,
          tx.Exec("campaigns.enroll", {ctx.ws, *id, std::max(now, start.value_or(now)), now}));
      details["enrolled"] = n;
    }
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "campaign.updated", "campaign",
                                    std::to_string(*id), details, now));
    KILN_ASSIGN_OR_RETURN(out, LoadCampaign(tx, ctx.ws, *id));
    return Status::Ok();
  }));
  return out;
}

// Every reason the campaign cannot send, as {"field","message"} problems (empty: it can).
Result<json::array> LaunchProblems(store::Tx& tx, int64_t ws, int64_t id) {
  json::array problems;
  auto add = [&](std::string field, std::string message) {
    problems.push_back(json::object{{"field", std::move(field)}, {"message", std::move(message)}});
  };
  KILN_ASSIGN_OR_RETURN(auto steps, tx.Query("campaign_steps.list", {ws, id}));
  KILN_ASSIGN_OR_RETURN(auto variants, tx.Query("step_variants.list", {ws, id}));
  if (steps.empty()) add("steps", "the campaign has no steps");
  for (size_t i = 0; i < steps.size(); ++i) {
    std::string step = "steps[" + std::to_string(i) + "]";
    std::string step_name = "step " + std::to_string(i + 1);
    int enabled = 0;
    int64_t weight = 0;
    size_t j = 0;
    for (const auto& v : variants) {
      if (v.Int("step_id") != steps[i].Int("id")) continue;
      std::string var = step + ".variants[" + std::to_string(j++) + "]";
      if (v.Int("is_enabled") == 0) continue;
      ++enabled;
      weight += v.Int("weight");
      std::string var_name = step_name + ", variant " + v.Text("label");
      std::string subject = v.Text("subject");
      if (subject.find_first_not_of(" \t") == std::string::npos)
        add(var + ".subject", var_name + ": the subject is empty");
      if (v.Text("body_html").find_first_not_of(" \t\r\n") == std::string::npos &&
          v.Text("body_text").find_first_not_of(" \t\r\n") == std::string::npos) {
        add(var + ".body_html", var_name + ": the body is empty");
      }
    }
    if (enabled == 0) {
      add(step + ".variants", step_name + " has no enabled variant");
    } else if (weight == 0) {
      add(step + ".variants",
          step_name + ": every enabled variant has weight 0, so none would be sent");
    }
  }
  KILN_ASSIGN_OR_RETURN(auto senders, tx.Query("campaign_senders.list", {ws, id}));
  if (senders.empty()) add("sender_ids", "the campaign has no senders");
  for (size_t k = 0; k < senders.size(); ++k) {
    std::string st = senders[k].Text("status");
    if (st == "active") continue;
    std::string why = senders[k].Text("status_reason");
    add("sender_ids[" + std::to_string(k) + "]", "sender " + senders[k].Text("email") + " is " +
                                                     st + (why.empty() ? "" : " (" + why + ")") +
                                                     "; only active senders can send");
  }
  KILN_ASSIGN_OR_RETURN(auto lists, tx.Query("campaign_lists.list", {ws, id}));
  KILN_ASSIGN_OR_RETURN(auto aud, tx.QueryRow("campaigns.audience", {ws, id}));
  if (lists.empty()) {
    add("list_ids", "the campaign has no lead lists: the audience is empty");
  } else if (aud.Int("mailable") == 0) {
    add("list_ids", "the audience is empty: " + std::to_string(aud.Int("audience")) +
                        " leads in the lists, " + std::to_string(aud.Int("excluded_status")) +
                        " unsubscribed or bounced, " + std::to_string(aud.Int("suppressed")) +
                        " suppressed");
  }
  return problems;
}

constexpr size_t kTemplateCheckLeads = 100000;  // leads rendered by the launch check, at most
constexpr size_t kLeadsNamed = 10;              // leads named per missing variable

// The variables a cold email can use. Lead fields are untrusted text (escaped in HTML bodies);
// unsubscribe_url is generated by Kiln per message and is safe.
//   email, first_name, last_name, full_name, company, title, phone, website, timezone,
//   custom.<field> (custom["Field Name"] in templates), sender.name, sender.email,
//   sender.from_name, unsubscribe_url
void SetLeadVariables(const store::Row& lead, tmpl::RenderContext* vars) {
  vars->Clear();
  for (const char* col :
       {"email", "first_name", "last_name", "company", "title", "phone", "website", "timezone"}) {
    vars->Set(col, lead.Text(col));
  }
  std::string first = lead.Text("first_name"), last = lead.Text("last_name");
  vars->Set("full_name", first.empty() || last.empty() ? first + last : first + " " + last);
  boost::system::error_code ec;
  json::value custom = json::parse(lead.Text("custom_fields"), ec);
  if (!ec && custom.is_object()) {
    for (const auto& kv : custom.as_object()) {
      if (kv.value().is_string())
        vars->Set("custom." + std::string(kv.key()), std::string(kv.value().as_string()));
    }
  }
}

// Sender fields and the unsubscribe link: one sender of the pool stands in for all (each has
// every field), and the link is a placeholder until a message exists.
void SetSenderVariables(const std::optional<store::Row>& sender, tmpl::RenderContext* vars) {
  vars->Set("sender.name", sender ? sender->Text("name") : "");
  vars->Set("sender.email", sender ? sender->Text("email") : "");
  vars->Set("sender.from_name", sender ? sender->Text("from_name") : "");
  vars->SetSafe("unsubscribe_url", "https://unsubscribe.example/preview");
}

// "line 3, column 14: …" -> {3, 14}; {0, 0} when the message has no position.
std::pair<int64_t, int64_t> ParsePosition(const std::string& msg) {
  int line = 0, column = 0;
  if (std::sscanf(msg.c_str(), "line %d, column %d:", &line, &column) == 2) return {line, column};
  return {0, 0};
}

struct TemplatePart {
  size_t step = 0, variant = 0;
  std::string label, part;  // part: subject, body_html, body_text
  int64_t step_id = 0, variant_id = 0;
  std::optional<tmpl::Template> compiled;  // set once parsed
  std::string Field() const {
    return "steps[" + std::to_string(step) + "].variants[" + std::to_string(variant) + "]." + part;
  }
  std::string Name() const {
    return "step " + std::to_string(step + 1) + ", variant " + label + ", " +
           (part == "subject"     ? "subject"
            : part == "body_html" ? "HTML body"
                                  : "text body");
  }
  tmpl::RenderOptions Options(uint64_t seed) const {
    tmpl::RenderOptions o;
    o.html_escape_values = part == "body_html";
    o.single_line = part == "subject";
    o.spin_seed = seed;
    return o;
  }
};

// Parses every non-empty part of every enabled variant; a part that does not parse becomes a
// problem naming step, variant, line and column.
Result<std::vector<TemplatePart>> ParseTemplates(store::Tx& tx, int64_t ws, int64_t id,
                                                 json::array* problems) {
  KILN_ASSIGN_OR_RETURN(auto steps, tx.Query("campaign_steps.list", {ws, id}));
  KILN_ASSIGN_OR_RETURN(auto variants, tx.Query("step_variants.list", {ws, id}));
  std::vector<TemplatePart> parts;
  for (size_t i = 0; i < steps.size(); ++i) {
    size_t j = 0;
    for (const auto& v : variants) {
      if (v.Int("step_id") != steps[i].Int("id")) continue;
      size_t index = j++;
      if (v.Int("is_enabled") == 0) continue;
      for (const char* part : {"subject", "body_html", "body_text"}) {
        std::string source = v.Text(part);
        if (source.empty()) continue;
        TemplatePart tp{i, index, v.Text("label"), part, steps[i].Int("id"), v.Int("id"), {}};
        auto t = tmpl::Template::Parse(source);
        if (!t.ok()) {
          auto [line, column] = ParsePosition(t.status().message());
          problems->push_back(json::object{{"field", tp.Field()},
                                           {"message", tp.Name() + ": " + t.status().message()},
                                           {"step", static_cast<int64_t>(i)},
                                           {"variant", static_cast<int64_t>(index)},
                                           {"line", line},
                                           {"column", column}});
          continue;
        }
        tp.compiled = std::move(t).value();
        parts.push_back(std::move(tp));
      }
    }
  }
  return parts;
}

// Renders every parsed part for every mailable lead of the audience (up to kTemplateCheckLeads)
// and reports each variable that renders empty without a default: which part, which variable,
// how many leads, and the first few of them.
Status CheckTemplates(store::Tx& tx, int64_t ws, int64_t id, json::array* problems) {
  KILN_ASSIGN_OR_RETURN(auto parts, ParseTemplates(tx, ws, id, problems));
  if (parts.empty()) return Status::Ok();
  KILN_ASSIGN_OR_RETURN(auto senders, tx.Query("campaign_senders.list", {ws, id}));
  std::optional<store::Row> sender;
  if (!senders.empty()) {
    KILN_ASSIGN_OR_RETURN(
        sender, tx.QueryOne("campaigns.sender_fields", {ws, senders.front().Int("sender_id")}));
  }
  tmpl::RenderContext base;
  SetSenderVariables(sender, &base);
  tmpl::RenderContext vars(&base);
  struct Missing {
    bool empty = false;  // present but empty (else: no such variable)
    int64_t count = 0;
    int64_t last_lead = 0;  // each lead counts once per variable, however often it appears
    json::array leads;
  };
  std::map<std::pair<size_t, std::string>, Missing> missing;  // (part index, variable)
  std::map<size_t, std::string> failed;                       // part index -> render error
  int64_t after = 0;
  size_t checked = 0;
  while (checked < kTemplateCheckLeads) {
    KILN_ASSIGN_OR_RETURN(auto leads,
                          tx.Query("campaigns.audience_sample", {ws, id, int64_t{500}, after}));
    if (leads.empty()) break;
    for (const auto& lead : leads) {
      SetLeadVariables(lead, &vars);
      for (size_t p = 0; p < parts.size(); ++p) {
        auto r = parts[p].compiled->Render(vars, parts[p].Options(0));
        if (!r.ok()) {
          failed.emplace(p, r.status().message());
          continue;
        }
        for (const auto& m : r->missing) {
          Missing& entry = missing[{p, m.name}];
          entry.empty = m.present_but_empty;
          if (entry.last_lead == lead.Int("id")) continue;
          entry.last_lead = lead.Int("id");
          ++entry.count;
          if (entry.leads.size() < kLeadsNamed) {
            entry.leads.push_back(
                json::object{{"id", lead.Int("id")}, {"email", lead.Text("email")}});
          }
        }
      }
      after = lead.Int("id");
      ++checked;
    }
  }
  for (const auto& [p, msg] : failed) {
    problems->push_back(
        json::object{{"field", parts[p].Field()}, {"message", parts[p].Name() + ": " + msg}});
  }
  for (auto& [key, m] : missing) {
    const TemplatePart& tp = parts[key.first];
    std::string emails;
    for (const auto& l : m.leads)
      emails += (emails.empty() ? "" : ", ") + std::string(l.at("email").as_string());
    std::string msg = tp.Name() + ": variable `" + key.second + "` " +
                      (m.empty ? "is empty and has no default" : "does not exist") + " for " +
                      std::to_string(m.count) + (m.count == 1 ? " lead" : " leads") + " (" +
                      emails + (m.count > static_cast<int64_t>(m.leads.size()) ? ", …" : "") +
                      "); add a default, e.g. {{ " + key.second + " | default: \"…\" }}";
    problems->push_back(json::object{{"field", tp.Field()},
                                     {"message", std::move(msg)},
                                     {"step", static_cast<int64_t>(tp.step)},
                                     {"variant", static_cast<int64_t>(tp.variant)},
                                     {"variable", key.second},
                                     {"lead_count", m.count},
                                     {"leads", std::move(m.leads)}});
  }
  return Status::Ok();
}

Status InvalidTransition(const std::string& status, std::string_view what) {
  return Status::FailedPrecondition("the campaign is " + status + "; " + std::string(what),
                                    "status");
}

// Launch (draft) or resume (paused): checks everything, then running + enrolment, in one
// transaction.
Result<json::value> StartCampaign(Api& api, Ctx& ctx, bool resume) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such campaign");
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    ctx.problems.clear();
    KILN_ASSIGN_OR_RETURN(auto cur,
                          tx.QueryRow("campaigns.get", {ctx.ws, *id}, "no such campaign"));
    std::string status = cur.Text("status");
    std::string from = resume ? "paused" : "draft";
    if (status != from) {
      if (resume) return InvalidTransition(status, "only a paused campaign can be resumed");
      return InvalidTransition(status, status == "paused" ? "resume it instead of launching it"
                                                          : "only a draft can be launched");
    }
    KILN_ASSIGN_OR_RETURN(auto problems, LaunchProblems(tx, ctx.ws, *id));
    if (api.config().GetString("public_url").empty()) {
      problems.push_back(json::object{{"field", "public_url"},
                                      {"message",
                                       "this server has no public_url: unsubscribe links would not "
                                       "work; set public_url to its external https URL"}});
    }
    KILN_RETURN_IF_ERROR(CheckTemplates(tx, ctx.ws, *id, &problems));
    if (!problems.empty()) {
      size_t n = problems.size();
      ctx.problems = std::move(problems);
      return Status::FailedPrecondition(std::string("the campaign cannot be ") +
                                        (resume ? "resumed" : "launched") + ": " +
                                        std::to_string(n) + (n == 1 ? " problem" : " problems"));
    }
    KILN_ASSIGN_OR_RETURN(auto moved,
                          tx.Exec("campaigns.transition",
                                  {ctx.ws, *id, from, "running", "", now, std::nullopt, now}));
    if (moved != 1) return Status::Conflict("the campaign changed status meanwhile; reload it");
    std::optional<int64_t> start = cur.OptInt("start_at");
    KILN_ASSIGN_OR_RETURN(
        auto enrolled,
        tx.Exec("campaigns.enroll", {ctx.ws, *id, std::max(now, start.value_or(now)), now}));
    KILN_ASSIGN_OR_RETURN(auto aud, tx.QueryRow("campaigns.audience", {ctx.ws, *id}));
    json::object summary{{"enrolled", enrolled},
                         {"skipped_suppressed", aud.Int("suppressed")},
                         {"skipped_unsubscribed_or_bounced", aud.Int("excluded_status")}};
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws,
                                    resume ? "campaign.resumed" : "campaign.launched", "campaign",
                                    std::to_string(*id), summary, now));
    KILN_ASSIGN_OR_RETURN(out, LoadCampaign(tx, ctx.ws, *id));
    out[resume ? "resume" : "launch"] = std::move(summary);
    return Status::Ok();
  }));
  return out;
}

// Resolves a message caught mid-send by a crash (`unknown`, docs/decisions/0004-exactly-once.md)
// with what the user found out: "sent" (the recipient has it; the lead goes on to its next step)
// or "not_sent" (the engine sends it again, with the same Message-ID). The lead that was paused
// on it continues in both cases.
Result<json::value> ResolveMessage(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such campaign");
  auto mid = ParseId(ctx.req.path_params["mid"]);
  if (!mid.ok()) return Status::NotFound("no such message");
  JsonFields in(ctx.body);
  std::string outcome;
  KILN_RETURN_IF_ERROR(in.Str("outcome", &outcome, {.max_len = 20}));
  KILN_RETURN_IF_ERROR(in.Finish());
  if (outcome != "sent" && outcome != "not_sent") {
    return Status::InvalidArgument("outcome must be \"sent\" or \"not_sent\"", "outcome");
  }
  const int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(tx.QueryRow("campaigns.get", {ctx.ws, *id}, "no such campaign").status());
    KILN_ASSIGN_OR_RETURN(auto m, tx.QueryRow("engine.message_for_resolve", {ctx.ws, *id, *mid},
                                              "no such message in this campaign"));
    if (m.Text("status") != "unknown") {
      return Status::FailedPrecondition(
          "message " + std::to_string(*mid) + " is " + m.Text("status") +
              "; only a message caught mid-send by a crash (unknown) can be resolved",
          "status");
    }
    const std::string note = "resolved by a user: " + outcome;
    KILN_ASSIGN_OR_RETURN(auto moved, tx.Exec(outcome == "sent" ? "engine.message_resolve_sent"
                                                                : "engine.message_resolve_not_sent",
                                              {*mid, now, note}));
    if (moved != 1) return Status::Conflict("the message changed meanwhile; reload it");
    if (outcome == "sent") {
      KILN_RETURN_IF_ERROR(
          tx.Exec("engine.event_insert", {ctx.ws, *mid, *id, "sent", note, now}).status());
    }
    KILN_ASSIGN_OR_RETURN(
        auto resumed, tx.Exec("engine.lead_resume_after_resolve", {*id, m.Int("contact_id"), now}));
    json::object detail{{"message_id", *mid}, {"outcome", outcome}, {"lead_resumed", resumed == 1}};
    KILN_RETURN_IF_ERROR(WriteAudit(tx, ctx, ctx.ws, "campaign.message_resolved", "campaign",
                                    std::to_string(*id), detail, now));
    out = {{"message_id", *mid},
           {"status", outcome == "sent" ? "sent" : "scheduled"},
           {"lead_resumed", resumed == 1}};
    return Status::Ok();
  }));
  return out;
}

Result<json::value> LaunchCampaign(Api& api, Ctx& ctx) { return StartCampaign(api, ctx, false); }
Result<json::value> ResumeCampaign(Api& api, Ctx& ctx) { return StartCampaign(api, ctx, true); }

// Moves the campaign from one of `from` to `to`; `refusal` explains when it is elsewhere.
Result<json::value> Transition(Api& api, Ctx& ctx, std::vector<std::string> from,
                               const std::string& to, const std::string& reason,
                               std::string_view action,
                               const std::function<std::string(const std::string&)>& refusal) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such campaign");
  int64_t now = api.clock().NowMillis();
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto cur,
                          tx.QueryRow("campaigns.get", {ctx.ws, *id}, "no such campaign"));
    std::string status = cur.Text("status");
    if (std::find(from.begin(), from.end(), status) == from.end())
      return InvalidTransition(status, refusal(status));
    std::optional<int64_t> completed_at;
    if (to == "completed") completed_at = now;
    KILN_ASSIGN_OR_RETURN(
        auto moved, tx.Exec("campaigns.transition",
                            {ctx.ws, *id, status, to, reason, std::nullopt, completed_at, now}));
    if (moved != 1) return Status::Conflict("the campaign changed status meanwhile; reload it");
    json::object details{{"from", status}};
    if (!reason.empty()) details["reason"] = reason;
    KILN_RETURN_IF_ERROR(
        WriteAudit(tx, ctx, ctx.ws, action, "campaign", std::to_string(*id), details, now));
    KILN_ASSIGN_OR_RETURN(out, LoadCampaign(tx, ctx.ws, *id));
    return Status::Ok();
  }));
  return out;
}

Result<json::value> PauseCampaign(Api& api, Ctx& ctx) {
  JsonFields in(ctx.body);
  std::optional<std::string> reason;
  KILN_RETURN_IF_ERROR(in.OptStr("reason", &reason, {.max_len = 500, .nullable = true}));
  KILN_RETURN_IF_ERROR(in.Finish());
  std::string why = reason && !reason->empty() ? *reason : "paused by a user";
  return Transition(api, ctx, {"running"}, "paused", why, "campaign.paused",
                    [](const std::string&) { return "only a running campaign can be paused"; });
}

Result<json::value> CompleteCampaign(Api& api, Ctx& ctx) {
  return Transition(
      api, ctx, {"running", "paused"}, "completed", "", "campaign.completed",
      [](const std::string&) { return "only a running or paused campaign can be completed"; });
}

Result<json::value> ArchiveCampaign(Api& api, Ctx& ctx) {
  return Transition(api, ctx, {"draft", "paused", "completed"}, "archived", "", "campaign.archived",
                    [](const std::string& s) {
                      return s == "running" ? "pause the campaign before archiving it"
                                            : "it is archived already";
                    });
}

// Renders one step's variant for one lead, as the engine would send it (the spintax seed is
// derived from lead, step and variant, so a preview shows exactly the text that lead gets).
Result<json::value> PreviewCampaign(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such campaign");
  JsonFields in(ctx.body);
  int64_t step_index = 0, contact_id = 0;
  std::optional<int64_t> variant_index;
  KILN_RETURN_IF_ERROR(in.Int("step_index", &step_index, 0, static_cast<int64_t>(kMaxSteps) - 1));
  KILN_RETURN_IF_ERROR(
      in.OptInt("variant_index", &variant_index, 0, static_cast<int64_t>(kMaxVariants) - 1));
  KILN_RETURN_IF_ERROR(in.Int("contact_id", &contact_id, 1, INT64_MAX));
  KILN_RETURN_IF_ERROR(in.Finish());
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(tx.QueryRow("campaigns.get", {ctx.ws, *id}, "no such campaign").status());
    KILN_ASSIGN_OR_RETURN(auto lead,
                          tx.QueryRow("campaigns.contact", {ctx.ws, contact_id}, "no such lead"));
    KILN_ASSIGN_OR_RETURN(auto steps, tx.Query("campaign_steps.list", {ctx.ws, *id}));
    if (step_index >= static_cast<int64_t>(steps.size())) {
      return Status::InvalidArgument("the campaign has " + std::to_string(steps.size()) + " steps",
                                     "step_index");
    }
    const store::Row& step = steps[static_cast<size_t>(step_index)];
    KILN_ASSIGN_OR_RETURN(auto all, tx.Query("step_variants.list", {ctx.ws, *id}));
    std::vector<const store::Row*> variants;
    for (const auto& v : all) {
      if (v.Int("step_id") == step.Int("id")) variants.push_back(&v);
    }
    if (!variant_index) {
      for (size_t j = 0; j < variants.size() && !variant_index; ++j) {
        if (variants[j]->Int("is_enabled") != 0) variant_index = static_cast<int64_t>(j);
      }
      if (!variant_index && !variants.empty()) variant_index = 0;
    }
    if (!variant_index || *variant_index >= static_cast<int64_t>(variants.size())) {
      return Status::InvalidArgument("step " + std::to_string(step_index + 1) + " has " +
                                         std::to_string(variants.size()) + " variants",
                                     "variant_index");
    }
    const store::Row& variant = *variants[static_cast<size_t>(*variant_index)];
    KILN_ASSIGN_OR_RETURN(auto senders, tx.Query("campaign_senders.list", {ctx.ws, *id}));
    std::optional<store::Row> sender;
    if (!senders.empty()) {
      KILN_ASSIGN_OR_RETURN(sender, tx.QueryOne("campaigns.sender_fields",
                                                {ctx.ws, senders.front().Int("sender_id")}));
    }
    tmpl::RenderContext base;
    SetSenderVariables(sender, &base);
    tmpl::RenderContext vars(&base);
    SetLeadVariables(lead, &vars);
    uint64_t seed =
        tmpl::SpinSeed({static_cast<uint64_t>(contact_id), static_cast<uint64_t>(step.Int("id")),
                        static_cast<uint64_t>(variant.Int("id"))});
    json::array missing;
    out["step_index"] = step_index;
    out["variant_index"] = *variant_index;
    out["variant_label"] = variant.Text("label");
    out["contact_id"] = contact_id;
    for (const char* part : {"subject", "body_html", "body_text"}) {
      TemplatePart tp{static_cast<size_t>(step_index),
                      static_cast<size_t>(*variant_index),
                      variant.Text("label"),
                      part,
                      step.Int("id"),
                      variant.Int("id"),
                      {}};
      auto t = tmpl::Template::Parse(variant.Text(part));
      if (!t.ok())
        return Status::FailedPrecondition(tp.Name() + ": " + t.status().message(), tp.Field());
      auto r = t->Render(vars, tp.Options(seed));
      if (!r.ok())
        return Status::FailedPrecondition(tp.Name() + ": " + r.status().message(), tp.Field());
      out[part] = r->text;
      for (const auto& m : r->missing) {
        missing.push_back(json::object{{"part", part},
                                       {"variable", m.name},
                                       {"line", m.line},
                                       {"column", m.column},
                                       {"empty", m.present_but_empty}});
      }
    }
    out["missing"] = std::move(missing);
    return Status::Ok();
  }));
  return out;
}

constexpr char kVariantSchema[] =
    R"({"type":"object","additionalProperties":false,"properties":{"label":{"type":"string","maxLength":50},"weight":{"type":"integer","minimum":0,"maximum":100},"subject":{"type":["string","null"],"maxLength":998},"body_html":{"type":["string","null"]},"body_text":{"type":["string","null"]},"enabled":{"type":"boolean"}}})";

std::string CampaignInputSchema(bool create) {
  std::string s = R"({"type":"object","additionalProperties":false,)";
  if (create) s += R"("required":["name"],)";
  s +=
      R"("properties":{"name":{"type":"string","minLength":1,"maxLength":200},)"
      R"("schedule":{"type":"object","required":["days","start","end"],"additionalProperties":false,"properties":{"days":{"type":"array","minItems":1,"maxItems":7,"items":{"type":"integer","minimum":1,"maximum":7}},"start":{"type":"string","pattern":"^[0-2][0-9]:[0-5][0-9]$"},"end":{"type":"string","pattern":"^[0-2][0-9]:[0-5][0-9]$"}}},)"
      R"("timezone":{"type":"string","description":"IANA name"},"start_at":{"type":["string","null"],"format":"date-time"},)"
      R"("daily_limit":{"type":"integer","minimum":0,"maximum":1000000},"warmup_mix_percent":{"type":"integer","minimum":0,"maximum":100},)"
      R"("track_opens":{"type":"boolean"},"track_clicks":{"type":"boolean"},"stop_on_auto_reply":{"type":"boolean"},)"
      R"("sender_ids":{"type":"array","maxItems":1000,"items":{"type":"integer"}},"list_ids":{"type":"array","maxItems":100,"items":{"type":"integer"}},)"
      R"("steps":{"type":"array","maxItems":50,"items":{"type":"object","required":["variants"],"additionalProperties":false,"properties":{"delay_minutes":{"type":"integer","minimum":0,"maximum":525600},"condition":{"type":"string","enum":["always","no_open","opened","clicked"]},"variants":{"type":"array","maxItems":10,"items":)";
  s += kVariantSchema;
  s += "}}}}}}";
  return s;
}

constexpr char kCampaignSchema[] =
    R"({"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},"status":{"type":"string","enum":["draft","running","paused","completed","archived"]},"paused_reason":{"type":"string"},"schedule":{"type":"object"},"timezone":{"type":"string"},"start_at":{"type":["string","null"]},"daily_limit":{"type":"integer"},"warmup_mix_percent":{"type":"integer"},"track_opens":{"type":"boolean"},"track_clicks":{"type":"boolean"},"stop_on_auto_reply":{"type":"boolean"},"sender_ids":{"type":"array","items":{"type":"integer"}},"list_ids":{"type":"array","items":{"type":"integer"}},"steps":{"type":"array"},"counts":{"type":"object"},"created_at":{"type":"string"},"updated_at":{"type":"string"},"started_at":{"type":["string","null"]},"completed_at":{"type":["string","null"]}}})";

}  // namespace

void RegisterCampaignRoutes(Api& api) {
  Api* a = &api;
  auto bind = [a](Result<json::value> (*fn)(Api&, Ctx&)) {
    return [a, fn](Ctx& c) { return fn(*a, c); };
  };
  const std::string base = "/api/v1/workspaces/{ws}/campaigns";
  api.Add(verb::get, base, {Access::kWorkspace, Role::kViewer}, bind(ListCampaigns),
          {.summary = "Campaigns, newest first, with status and progress counts; ?status=",
           .tag = "campaigns",
           .response_schema = R"({"type":"object","properties":{"items":{"type":"array"}}})"});
  api.Add(verb::post, base, {Access::kWorkspace, Role::kMember}, bind(CreateCampaign),
          {.summary = "Create a campaign (a draft)",
           .tag = "campaigns",
           .request_schema = CampaignInputSchema(true),
           .response_schema = kCampaignSchema,
           .success_status = 201});
  api.Add(verb::get, base + "/{id}", {Access::kWorkspace, Role::kViewer}, bind(GetCampaign),
          {.summary = "One campaign with steps, variants, senders, lists and counts",
           .tag = "campaigns",
           .response_schema = kCampaignSchema});
  api.Add(
      verb::patch, base + "/{id}", {Access::kWorkspace, Role::kMember}, bind(UpdateCampaign),
      {.summary = "Change a campaign; `steps` replaces the whole sequence (draft or paused only)",
       .tag = "campaigns",
       .request_schema = CampaignInputSchema(false),
       .response_schema = kCampaignSchema});
  api.Add(
      verb::post, base + "/{id}/launch", {Access::kWorkspace, Role::kMember}, bind(LaunchCampaign),
      {.summary =
           "Launch a draft: checks everything (409 with every problem), then enrols the audience",
       .tag = "campaigns",
       .response_schema = kCampaignSchema});
  api.Add(
      verb::post, base + "/{id}/pause", {Access::kWorkspace, Role::kMember}, bind(PauseCampaign),
      {.summary = "Pause a running campaign, with an optional reason",
       .tag = "campaigns",
       .request_schema =
           R"({"type":"object","additionalProperties":false,"properties":{"reason":{"type":["string","null"],"maxLength":500}}})",
       .response_schema = kCampaignSchema});
  api.Add(
      verb::post, base + "/{id}/resume", {Access::kWorkspace, Role::kMember}, bind(ResumeCampaign),
      {.summary = "Resume a paused campaign (checked like a launch; new leads of its lists join)",
       .tag = "campaigns",
       .response_schema = kCampaignSchema});
  api.Add(verb::post, base + "/{id}/complete", {Access::kWorkspace, Role::kMember},
          bind(CompleteCampaign),
          {.summary = "End a running or paused campaign for good",
           .tag = "campaigns",
           .response_schema = kCampaignSchema});
  api.Add(
      verb::post, base + "/{id}/preview", {Access::kWorkspace, Role::kViewer},
      bind(PreviewCampaign),
      {.summary = "Render a step's variant for one lead (subject, HTML and text bodies, missing "
                  "variables)",
       .tag = "campaigns",
       .request_schema =
           R"({"type":"object","required":["step_index","contact_id"],"additionalProperties":false,"properties":{"step_index":{"type":"integer","minimum":0},"variant_index":{"type":"integer","minimum":0},"contact_id":{"type":"integer","minimum":1}}})",
       .response_schema =
           R"({"type":"object","properties":{"step_index":{"type":"integer"},"variant_index":{"type":"integer"},"variant_label":{"type":"string"},"contact_id":{"type":"integer"},"subject":{"type":"string"},"body_html":{"type":"string"},"body_text":{"type":"string"},"missing":{"type":"array","items":{"type":"object","properties":{"part":{"type":"string"},"variable":{"type":"string"},"line":{"type":"integer"},"column":{"type":"integer"},"empty":{"type":"boolean"}}}}}})"});
  api.Add(
      verb::post, base + "/{id}/messages/{mid}/resolve", {Access::kWorkspace, Role::kMember},
      bind(ResolveMessage),
      {.summary = "Resolve a message caught mid-send by a crash (unknown): sent (the lead goes "
                  "on) or not_sent (it is sent again); the lead paused on it continues",
       .tag = "campaigns",
       .request_schema =
           R"({"type":"object","required":["outcome"],"additionalProperties":false,"properties":{"outcome":{"type":"string","enum":["sent","not_sent"]}}})",
       .response_schema =
           R"({"type":"object","properties":{"message_id":{"type":"integer"},"status":{"type":"string"},"lead_resumed":{"type":"boolean"}}})"});
  api.Add(verb::post, base + "/{id}/archive", {Access::kWorkspace, Role::kMember},
          bind(ArchiveCampaign),
          {.summary = "Archive a campaign that is not running",
           .tag = "campaigns",
           .response_schema = kCampaignSchema});
}

}  // namespace kiln::api
