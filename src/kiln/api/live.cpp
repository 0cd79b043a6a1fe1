// GET /api/v1/workspaces/{ws}/live and GET /api/v1/live?workspace={ws} (the name issue 4 §7 uses;
// without the parameter: the caller's only workspace, or the API key's): the workspace's live
// progress as a WebSocket stream of JSON frames (docs/api.md, "Live progress").
//
// The engine may run in other processes (`kiln worker`), so the database is the source of truth:
// one LiveHub per serve process polls, once a second, what changed for each workspace that has
// listeners (events after its feed position, campaign changes; counters recomputed when something
// changed and at least every few seconds) and fans the frames out to that workspace's sockets.
// The cost is one set of queries per listened-to workspace, whatever the number of connections.
//
// Exposes to the outside world: the WebSocket route, authenticated like the API (session cookie or
// API key), Origin-checked against public_url / Host, members of the workspace only.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "kiln/api/api.h"
#include "kiln/api/json_input.h"
#include "kiln/base/time_format.h"
#include "kiln/domain/quota.h"
#include "kiln/domain/tz.h"
#include "kiln/http/websocket.h"

namespace kiln::api {
namespace {

namespace json = boost::json;
using http::bhttp::status;

constexpr auto kPollInterval = std::chrono::seconds(1);
// Counters are recomputed at least this often while a workspace is listened to, even when no
// event arrived (leads enrolled, a sender paused: changes that write no event).
constexpr auto kRefreshInterval = std::chrono::seconds(5);
// A frame goes out at least this often, so a client can tell a quiet stream from a dead one.
constexpr auto kHeartbeatInterval = std::chrono::seconds(15);
// Listeners' membership is checked again this often (a removed member stops receiving).
constexpr auto kRecheckInterval = std::chrono::seconds(60);
constexpr int64_t kFeedKept = 50;      // activity items in a snapshot
constexpr int64_t kFeedPerPoll = 200;  // at most this many new events read per poll
constexpr int64_t kRateWindowMs = 5 * 60 * 1000;
constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;
// Import jobs that ended (or were last touched) longer ago than this are no longer read: their
// last frame went out when they ended.
constexpr int64_t kImportRecentMs = 10 * 60 * 1000;

bool IsFeedType(std::string_view type) {
  return type == "sent" || type == "replied" || type == "bounced" || type == "opened" ||
         type == "clicked" || type == "unsubscribed";
}

json::object ActivityItem(const store::Row& r) {
  json::object item{{"id", r.Int("id")},
                    {"type", r.Text("type")},
                    {"at", FormatIso8601(r.Int("created_at"))},
                    {"lead_email", r.Text("lead_email")},
                    {"machine", r.Int("is_machine") != 0}};
  auto campaign = r.OptInt("campaign_id");
  item["campaign_id"] = campaign ? json::value(*campaign) : json::value(nullptr);
  item["campaign_name"] = campaign ? json::value(r.Text("campaign_name")) : json::value(nullptr);
  return item;
}

// An `import` frame's job: a lead import's progress (upload_jobs, leads/import_jobs.h).
json::object ImportItem(const store::Row& r) {
  const int64_t total = r.Int("bytes_total");
  const double progress =
      r.Text("status") == "completed"
          ? 1.0
          : (total > 0 ? std::min(1.0, static_cast<double>(r.Int("bytes_read")) /
                                           static_cast<double>(total))
                       : 0.0);
  return json::object{{"id", r.Int("id")},
                      {"file_name", r.Text("file_name")},
                      {"status", r.Text("status")},
                      {"rows_read", r.Int("processed_rows")},
                      {"rows_imported", r.Int("imported_rows")},
                      {"rows_skipped", r.Int("skipped_rows")},
                      {"rows_failed", r.Int("error_rows")},
                      {"bytes_read", r.Int("bytes_read")},
                      {"bytes_total", total},
                      {"progress", std::round(progress * 1000) / 1000}};
}

struct Listener {
  std::shared_ptr<http::WebSocketChannel> channel;
  Caller caller;
  bool needs_snapshot = true;
};

// What the poller knows of one workspace with listeners. Poller thread only.
struct WorkspaceState {
  std::vector<Listener> listeners;
  bool loaded = false;
  int64_t position = 0;          // feed position: events.id already seen
  std::deque<json::value> feed;  // newest first, at most kFeedKept
  json::object counters;         // today, senders, campaigns
  std::string counters_text;     // serialized, to tell whether they changed
  int64_t campaigns_n = -1;      // live.campaigns_signature at the last refresh
  int64_t campaigns_updated = -1;
  // Import jobs running or recently ended: id -> the item last streamed (serialized), and the
  // items that changed since the previous frame (sent as `import` frames, oldest job first).
  std::map<int64_t, std::string> imports;
  std::vector<json::object> import_changes;
  TimePoint last_refresh, last_frame, last_recheck, last_error_log;
};

// Thread-safety: Subscribe may be called from any thread; everything else runs on the poller.
// `db` and `clock` must outlive the hub (in `kiln serve` they are made before the router that
// owns it, so they are destroyed after it).
class LiveHub {
 public:
  LiveHub(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  ~LiveHub() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  LiveHub(const LiveHub&) = delete;
  LiveHub& operator=(const LiveHub&) = delete;

  // Adds a listener of workspace `ws`; it gets a snapshot as soon as the poller has one (at once
  // when the workspace is already listened to), then updates. Starts the poller on first use.
  void Subscribe(int64_t ws, std::shared_ptr<http::WebSocketChannel> channel, Caller caller) {
    {
      std::lock_guard lock(mu_);
      incoming_.push_back({ws, Listener{std::move(channel), std::move(caller), true}});
      if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
    }
    cv_.notify_all();
  }

 private:
  void Loop();
  // Reads what changed for `ws` and sends the frames due. Failures are logged; the listeners stay
  // and the next poll tries again.
  void Poll(int64_t ws, WorkspaceState& state, TimePoint now);
  Status Load(int64_t ws, WorkspaceState& state);
  Status ReadChanges(int64_t ws, WorkspaceState& state, TimePoint now, json::array& fresh);
  Status RefreshCounters(store::Tx& tx, int64_t ws, WorkspaceState& state);
  // The start of the calendar day at `now_ms` in sender time zone `zone_name`; the UTC day's when
  // the zone cannot be loaded.
  int64_t SenderDayStart(const std::string& zone_name, int64_t now_ms);
  // Reads the workspace's running and recently ended imports; those whose progress changed since
  // the last read go to state.import_changes.
  Status ReadImports(store::Tx& tx, int64_t ws, WorkspaceState& state);
  void Recheck(int64_t ws, WorkspaceState& state);
  json::object Frame(std::string_view type, int64_t ws, const WorkspaceState& state) const;

  store::Database& db_;
  const Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                                   // guarded by mu_
  std::vector<std::pair<int64_t, Listener>> incoming_;  // guarded by mu_
  std::thread thread_;                                  // started under mu_
  std::map<int64_t, WorkspaceState> states_;            // poller thread only
  domain::TimeZoneDatabase zones_;                      // senders' zones (thread-safe)
};

int64_t LiveHub::SenderDayStart(const std::string& zone_name, int64_t now_ms) {
  auto zone = zones_.Get(zone_name);
  if (!zone.ok()) {
    // The engine counts such a sender's day in UTC too (warmup/source.cpp) and warns about it.
    spdlog::debug("live: sender time zone '{}' unusable ({}); its day is counted in UTC", zone_name,
                  zone.status().ToString());
    return now_ms - now_ms % kDayMs;
  }
  return domain::DayBoundsOf(**zone, domain::DayAt(**zone, now_ms)).start_ms;
}

void LiveHub::Loop() {
  TimePoint last_poll{};
  for (;;) {
    std::vector<std::pair<int64_t, Listener>> arrived;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kPollInterval, [&] { return stop_ || !incoming_.empty(); });
      if (stop_) break;
      arrived.swap(incoming_);
    }
    for (auto& [ws, listener] : arrived) states_[ws].listeners.push_back(std::move(listener));

    TimePoint now = clock_.Now();
    // New listeners are served at once; everybody else at most once per interval.
    const bool tick = now - last_poll >= kPollInterval || now < last_poll;
    if (tick) last_poll = now;
    for (auto it = states_.begin(); it != states_.end();) {
      auto& listeners = it->second.listeners;
      std::erase_if(listeners, [](const Listener& l) { return l.channel->closed(); });
      if (listeners.empty()) {
        it = states_.erase(it);
        continue;
      }
      bool waiting = std::any_of(listeners.begin(), listeners.end(),
                                 [](const Listener& l) { return l.needs_snapshot; });
      if (tick || waiting) Poll(it->first, it->second, now);
      ++it;
    }
  }
  for (auto& [ws, state] : states_) {
    for (auto& l : state.listeners) l.channel->Close();
  }
  states_.clear();
}

json::object LiveHub::Frame(std::string_view type, int64_t ws, const WorkspaceState& state) const {
  json::object frame = state.counters;
  frame["type"] = type;
  frame["workspace_id"] = ws;
  frame["at"] = FormatIso8601(clock_.NowMillis());
  return frame;
}

Status LiveHub::RefreshCounters(store::Tx& tx, int64_t ws, WorkspaceState& state) {
  int64_t now_ms = clock_.NowMillis();
  int64_t day_start = now_ms - now_ms % kDayMs;  // UTC day
  KILN_ASSIGN_OR_RETURN(auto signature, tx.QueryRow("live.campaigns_signature", {ws}));
  KILN_ASSIGN_OR_RETURN(auto campaigns,
                        tx.Query("live.running_campaigns", {ws, now_ms - kRateWindowMs}));
  // Each sender's "today" is its own calendar day, in its time zone (domain/quota.h), as the
  // quota and the warm-up ramp count it: one read per zone the workspace's senders are in.
  struct SenderDay {
    store::Row row;
    int64_t day_start_ms;
  };
  std::vector<SenderDay> senders;
  KILN_ASSIGN_OR_RETURN(auto zones, tx.Query("live.sender_zones", {ws}));
  for (const auto& z : zones) {
    const std::string name = z.Text("timezone");
    const int64_t start = SenderDayStart(name, now_ms);
    KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("live.senders", {ws, start, name}));
    for (auto& r : rows) senders.push_back({std::move(r), start});
  }
  std::sort(senders.begin(), senders.end(), [](const SenderDay& a, const SenderDay& b) {
    return a.row.Int("id") < b.row.Int("id");
  });
  json::array campaign_items;
  for (const auto& r : campaigns) {
    double rate = static_cast<double>(r.Int("sent_recent")) / (kRateWindowMs / 60000.0);
    campaign_items.push_back(json::object{{"id", r.Int("id")},
                                          {"name", r.Text("name")},
                                          {"sent", r.Int("sent")},
                                          {"failed", r.Int("failed")},
                                          {"bounced", r.Int("bounced")},
                                          {"replied", r.Int("replied")},
                                          {"remaining", r.Int("remaining")},
                                          {"enrolled", r.Int("enrolled")},
                                          {"rate_per_minute", std::round(rate * 10) / 10}});
  }
  json::array sender_items;
  int64_t sent_today = 0, quota = 0, warmup_today = 0, warmup_target = 0;
  for (const auto& [r, sender_day_start] : senders) {
    bool active = r.Text("status") == "active";
    bool warming = active && r.Int("warmup_enabled") != 0;
    sent_today += r.Int("sent_today");
    warmup_today += r.Int("warmup_today");
    if (active) quota += r.Int("daily_quota");
    if (warming) warmup_target += r.Int("warmup_daily_target");
    sender_items.push_back(
        json::object{{"id", r.Int("id")},
                     {"email", r.Text("email")},
                     {"status", r.Text("status")},
                     {"health_score", r.Int("health_score")},
                     {"sent_today", r.Int("sent_today")},
                     {"quota", r.Int("daily_quota")},
                     {"warmup_today", r.Int("warmup_today")},
                     {"warmup_target", warming ? r.Int("warmup_daily_target") : int64_t{0}},
                     {"day_start", FormatIso8601(sender_day_start)}});
  }
  json::object counters{{"today", json::object{{"day_start", FormatIso8601(day_start)},
                                               {"sent", sent_today},
                                               {"quota", quota},
                                               {"warmup_sent", warmup_today},
                                               {"warmup_target", warmup_target}}},
                        {"senders", std::move(sender_items)},
                        {"campaigns", std::move(campaign_items)}};
  state.counters_text = json::serialize(counters);
  state.counters = std::move(counters);
  state.campaigns_n = signature.Int("n");
  state.campaigns_updated = signature.Int("updated");
  return Status::Ok();
}

Status LiveHub::ReadImports(store::Tx& tx, int64_t ws, WorkspaceState& state) {
  KILN_ASSIGN_OR_RETURN(auto rows,
                        tx.Query("live.imports", {ws, clock_.NowMillis() - kImportRecentMs}));
  std::map<int64_t, std::string> seen;
  for (const auto& r : rows) {
    json::object item = ImportItem(r);
    std::string text = json::serialize(item);
    auto old = state.imports.find(r.Int("id"));
    if (old == state.imports.end() || old->second != text) {
      state.import_changes.push_back(std::move(item));
    }
    seen[r.Int("id")] = std::move(text);
  }
  state.imports = std::move(seen);
  return Status::Ok();
}

Status LiveHub::Load(int64_t ws, WorkspaceState& state) {
  return db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto top, tx.QueryRow("live.max_event_id", {}));
    KILN_ASSIGN_OR_RETURN(auto recent, tx.Query("live.events_recent", {ws, kFeedKept}));
    state.position = top.Int("id");
    state.feed.clear();
    for (const auto& r : recent) {
      state.position = std::max(state.position, r.Int("id"));
      state.feed.push_back(ActivityItem(r));
    }
    KILN_RETURN_IF_ERROR(ReadImports(tx, ws, state));
    return RefreshCounters(tx, ws, state);
  });
}

Status LiveHub::ReadChanges(int64_t ws, WorkspaceState& state, TimePoint now, json::array& fresh) {
  return db_.Read([&](store::Tx& tx) -> Status {
    // The instance's newest id is read first: events of other workspaces up to it need never be
    // looked at again, so the range read next stays short however busy the other workspaces are.
    KILN_ASSIGN_OR_RETURN(auto top, tx.QueryRow("live.max_event_id", {}));
    KILN_ASSIGN_OR_RETURN(auto rows,
                          tx.Query("live.events_after", {ws, state.position, kFeedPerPoll}));
    int64_t position = std::max(state.position, top.Int("id"));
    for (const auto& r : rows) position = std::max(position, r.Int("id"));
    state.position = position;
    // rows are newest first; fresh is too.
    for (const auto& r : rows) {
      if (IsFeedType(r.Text("type"))) fresh.push_back(ActivityItem(r));
    }
    KILN_RETURN_IF_ERROR(ReadImports(tx, ws, state));
    bool due =
        !rows.empty() || now - state.last_refresh >= kRefreshInterval || now < state.last_refresh;
    if (!due) {
      KILN_ASSIGN_OR_RETURN(auto signature, tx.QueryRow("live.campaigns_signature", {ws}));
      due = signature.Int("n") != state.campaigns_n ||
            signature.Int("updated") != state.campaigns_updated;
    }
    if (due) {
      KILN_RETURN_IF_ERROR(RefreshCounters(tx, ws, state));
      state.last_refresh = now;
    }
    return Status::Ok();
  });
}

void LiveHub::Recheck(int64_t ws, WorkspaceState& state) {
  for (auto& l : state.listeners) {
    // An API key is bound to its workspace; a signed-in user must still be a member, with a live
    // session (signed out, disabled or removed: the stream ends).
    if (!l.caller.is_session()) continue;
    bool allowed = true;
    Status st = db_.Read([&](store::Tx& tx) -> Status {
      KILN_ASSIGN_OR_RETURN(auto member, tx.QueryOne("members.role_of", {ws, l.caller.user_id}));
      KILN_ASSIGN_OR_RETURN(
          auto session, tx.QueryOne("sessions.check", {l.caller.user_id, l.caller.session_family}));
      allowed = member.has_value() && session.has_value() && session->Int("is_disabled") == 0 &&
                session->Int("active") != 0;
      return Status::Ok();
    });
    if (st.ok() && !allowed) {
      spdlog::info("live: user {} may no longer watch workspace {}; closing their stream",
                   l.caller.user_id, ws);
      l.channel->Close();
    }
  }
  std::erase_if(state.listeners, [](const Listener& l) { return l.channel->closed(); });
}

void LiveHub::Poll(int64_t ws, WorkspaceState& state, TimePoint now) {
  std::string old_counters = state.counters_text;
  json::array fresh;
  Status st;
  if (!state.loaded) {
    st = Load(ws, state);
    if (st.ok()) {
      state.loaded = true;
      state.last_refresh = now;
      state.last_recheck = now;
      old_counters = state.counters_text;
    }
  } else {
    st = ReadChanges(ws, state, now, fresh);
  }
  if (!st.ok()) {
    if (now - state.last_error_log >= std::chrono::seconds(30)) {
      spdlog::warn("live: cannot read the progress of workspace {}: {}", ws, st.ToString());
      state.last_error_log = now;
    }
    return;
  }
  if (now - state.last_recheck >= kRecheckInterval) {
    state.last_recheck = now;
    Recheck(ws, state);
  }

  for (auto it = fresh.rbegin(); it != fresh.rend(); ++it) state.feed.push_front(*it);
  while (static_cast<int64_t>(state.feed.size()) > kFeedKept) state.feed.pop_back();

  // Import progress: one `import` frame per job that changed, to the listeners that have had
  // their snapshot; a new listener gets one per running or recently ended job after its snapshot.
  std::vector<std::string> import_texts;
  for (json::object& item : state.import_changes) {
    import_texts.push_back(json::serialize(json::object{{"type", "import"},
                                                        {"workspace_id", ws},
                                                        {"at", FormatIso8601(clock_.NowMillis())},
                                                        {"import", std::move(item)}}));
  }
  state.import_changes.clear();
  std::vector<std::string> import_snapshot;
  if (std::any_of(state.listeners.begin(), state.listeners.end(),
                  [](const Listener& l) { return l.needs_snapshot; })) {
    for (const auto& [id, text] : state.imports) {
      import_snapshot.push_back(R"({"type":"import","workspace_id":)" + std::to_string(ws) +
                                R"(,"at":")" + FormatIso8601(clock_.NowMillis()) +
                                R"(","import":)" + text + "}");
    }
  }

  std::string update_text;
  bool changed = !fresh.empty() || state.counters_text != old_counters;
  if (changed || now - state.last_frame >= kHeartbeatInterval) {
    json::object frame;
    if (changed) {
      frame = Frame("update", ws, state);
      frame["activity"] = std::move(fresh);
    } else {
      frame = {
          {"type", "heartbeat"}, {"workspace_id", ws}, {"at", FormatIso8601(clock_.NowMillis())}};
    }
    update_text = json::serialize(frame);
  }
  std::string snapshot_text;
  for (auto& l : state.listeners) {
    if (l.needs_snapshot) {
      if (snapshot_text.empty()) {
        json::object frame = Frame("snapshot", ws, state);
        frame["activity"] = json::array(state.feed.begin(), state.feed.end());
        snapshot_text = json::serialize(frame);
      }
      l.needs_snapshot = false;
      l.channel->Send(snapshot_text);
      for (const std::string& text : import_snapshot) l.channel->Send(text);
    } else {
      for (const std::string& text : import_texts) l.channel->Send(text);
      if (!update_text.empty()) l.channel->Send(update_text);
    }
  }
  if (!update_text.empty() || !snapshot_text.empty() || !import_texts.empty()) {
    state.last_frame = now;
  }
}

constexpr char kLiveSummary[] =
    "Live progress of the workspace as a WebSocket stream of JSON frames (snapshot, then updates "
    "at most once a second, heartbeats); see docs/api.md";

constexpr char kLiveQuerySummary[] =
    "The same stream for ?workspace={ws} (default: the caller's only workspace, or the API key's); "
    "see docs/api.md";

constexpr char kLiveFrameSchema[] =
    R"({"type":"object","description":"WebSocket text frames","properties":{"type":{"type":"string","enum":["snapshot","update","heartbeat","import"]},"workspace_id":{"type":"integer"},"at":{"type":"string"},"today":{"type":"object"},"senders":{"type":"array"},"campaigns":{"type":"array"},"activity":{"type":"array"},"import":{"type":"object"}}})";

// The workspace GET /api/v1/live streams: ?workspace=<id>, else the API key's workspace or the
// signed-in user's only one. InvalidArgument naming `workspace` when the value is not an id or the
// user belongs to no or several workspaces; the database failed.
Result<int64_t> LiveWorkspace(Api& api, const http::Request& req, const Caller& caller) {
  if (auto it = req.query.find("workspace"); it != req.query.end()) {
    auto ws = ParseId(it->second);
    if (!ws.ok()) {
      return Status::InvalidArgument("workspace: '" + it->second + "' is not a workspace id",
                                     "workspace");
    }
    return *ws;
  }
  if (!caller.is_session()) return caller.key_workspace_id;
  std::vector<store::Row> rows;
  KILN_RETURN_IF_ERROR(api.db().Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(rows, tx.Query("workspaces.list_for_user", {caller.user_id}));
    return Status::Ok();
  }));
  if (rows.size() == 1) return rows.front().Int("id");
  return Status::InvalidArgument(
      "workspace: you belong to " + std::to_string(rows.size()) +
          " workspaces; name one with ?workspace=<id> (or use /api/v1/workspaces/{ws}/live)",
      "workspace");
}

}  // namespace

void RegisterLiveRoutes(Api& api) {
  auto hub = std::make_shared<LiveHub>(api.db(), api.clock());
  Api* a = &api;
  // Both routes: Origin, then the caller, then the workspace (`from_query`: GET /api/v1/live).
  auto upgrade = [a, hub](http::Request& req, bool from_query) -> http::UpgradeResult {
    auto refuse = [&](const Status& s) { return Api::ErrorResponse(s, req.request_id); };
    const Config& config = a->config();
    if (Status origin = http::CheckWebSocketOrigin(req, config.GetString("public_url"));
        !origin.ok()) {
      spdlog::warn("live: refused a WebSocket from origin '{}' (request {})",
                   req.Header(http::bhttp::field::origin), req.request_id);
      return refuse(origin);
    }
    auto caller = a->AuthenticateCaller(req);
    if (!caller.ok()) return refuse(caller.status());
    Result<int64_t> ws = Status::NotFound("no such workspace");
    if (from_query) {
      ws = LiveWorkspace(*a, req, *caller);
      if (!ws.ok()) return refuse(ws.status());
    } else {
      ws = ParseId(req.path_params["ws"]);
      if (!ws.ok()) return refuse(Status::NotFound("no such workspace"));
    }
    auto role = a->RoleIn(*caller, *ws);
    if (!role.ok()) return refuse(role.status());

    http::WebSocketAccept accept;
    accept.limit_key = caller->is_session() ? "user:" + std::to_string(caller->user_id)
                                            : "key:" + std::to_string(caller->api_key_id);
    accept.max_per_key = static_cast<int>(config.GetInt("live_connections_per_user"));
    accept.send_buffer_limit = static_cast<size_t>(config.GetInt("live_send_buffer_bytes"));
    accept.idle_timeout = Millis(config.GetInt("live_idle_timeout_ms"));
    accept.on_open = [hub, ws = *ws,
                      caller = *caller](std::shared_ptr<http::WebSocketChannel> channel) {
      hub->Subscribe(ws, std::move(channel), caller);
    };
    return accept;
  };
  api.router().AddWebSocket(
      "/api/v1/workspaces/{ws}/live",
      [upgrade](http::Request& req) -> http::UpgradeResult { return upgrade(req, false); },
      {.summary = kLiveSummary,
       .tag = "live",
       .response_schema = kLiveFrameSchema,
       .success_status = 101});
  api.router().AddWebSocket(
      "/api/v1/live",
      [upgrade](http::Request& req) -> http::UpgradeResult { return upgrade(req, true); },
      {.summary = kLiveQuerySummary,
       .tag = "live",
       .response_schema = kLiveFrameSchema,
       .success_status = 101});
}

}  // namespace kiln::api
