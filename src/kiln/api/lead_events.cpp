// A lead's activity timeline: GET /workspaces/{ws}/contacts/{id}/events answers every event of
// the messages sent to one lead, across campaigns, newest first, keyset paged like the other lists
// (?limit=1..200, ?before=<event id>, next_before). Each item names the campaign, the step (1 for
// the first) and variant the message came from, whether a machine (a scanner or a mail proxy) made
// it, and the event's detail as recorded (a click's URL, a bounce's kind and reason) without the
// lead's IP address.
//
// Read-only; the handler keeps no state between requests, so it is safe on any thread.
#include <boost/json/parse.hpp>

#include "kiln/api/api.h"
#include "kiln/api/common.h"
#include "kiln/api/json_input.h"

namespace kiln::api {

namespace json = boost::json;
using http::bhttp::verb;

namespace {

constexpr int64_t kMaxEventsPage = 200;

json::object EventJson(const store::Row& r) {
  boost::system::error_code ec;
  json::value detail = json::parse(r.Text("detail"), ec);
  if (ec || !detail.is_object()) detail = json::object{};
  detail.as_object().erase("ip");  // the lead's address stays in the database, as for webhooks
  auto position = r.OptInt("step_position");
  auto label = r.OptText("variant_label");
  return {{"id", r.Int("id")},
          {"type", r.Text("type")},
          {"at", TimeOrNull(r, "created_at")},
          {"campaign_id", r.Int("campaign_id")},
          {"campaign_name", r.Text("campaign_name")},
          {"step", position ? json::value(*position + 1) : json::value(nullptr)},
          {"variant", label ? json::value(*label) : json::value(nullptr)},
          {"message_id", r.Int("message_id")},
          {"is_machine", r.Bool("is_machine")},
          {"detail", std::move(detail)}};
}

// The page of the lead's events; NotFound "no such lead" for an id that is not a lead of the
// workspace (another workspace's lead included), InvalidArgument naming `limit` or `before`.
Result<json::value> ListLeadEvents(Api& api, Ctx& ctx) {
  auto id = ParseId(ctx.req.path_params["id"]);
  if (!id.ok()) return Status::NotFound("no such lead");
  KILN_ASSIGN_OR_RETURN(const Page page, ReadPage(ctx.req, "an event id", kMaxEventsPage));
  json::object out;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(tx.QueryRow("contacts.exists", {ctx.ws, *id}, "no such lead").status());
    KILN_ASSIGN_OR_RETURN(auto rows,
                          tx.Query("lead_events.list", {ctx.ws, *id, page.before, page.limit + 1}));
    out = PagedItems(rows, page, [](const store::Row& r) { return json::value(EventJson(r)); });
    return Status::Ok();
  }));
  return out;
}

constexpr char kEventSchema[] =
    R"({"type":"object","properties":{"id":{"type":"integer"},"type":{"type":"string","description":"one of the webhook event types"},"at":{"type":"string"},"campaign_id":{"type":"integer"},"campaign_name":{"type":"string"},"step":{"type":["integer","null"],"description":"the step's number in the sequence, 1 for the first"},"variant":{"type":["string","null"],"description":"the variant's label; null when the variant was deleted"},"message_id":{"type":"integer"},"is_machine":{"type":"boolean"},"detail":{"type":"object","description":"as recorded: url and link_index of a click, kind and reason of a bounce, user_agent of a tracking hit, never the IP address"}}})";

}  // namespace

void RegisterLeadEventRoutes(Api& api) {
  Api* a = &api;
  api.Add(verb::get, "/api/v1/workspaces/{ws}/contacts/{id}/events",
          {Access::kWorkspace, Role::kViewer}, [a](Ctx& c) { return ListLeadEvents(*a, c); },
          {.summary = "A lead's activity: every event of its messages across campaigns, newest "
                      "first; limit=1..200, before=<event id>",
           .tag = "contacts",
           .response_schema = PagedSchema(kEventSchema)});
}

}  // namespace kiln::api
