#include "kiln/webhooks/dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "kiln/base/time_format.h"
#include "kiln/webhooks/backoff.h"
#include "kiln/webhooks/http_post.h"
#include "kiln/webhooks/signature.h"
#include "kiln/webhooks/target.h"

namespace kiln::webhooks {

namespace json = boost::json;

bool IsEventType(std::string_view type) {
  return std::find(std::begin(kEventTypes), std::end(kEventTypes), type) != std::end(kEventTypes);
}

std::string SecretAad(int64_t webhook_id) {
  return "webhooks:" + std::to_string(webhook_id) + ":secret";
}

namespace {

constexpr size_t kMaxErrorBytes = 500;

std::string Bounded(std::string s, size_t n) {
  if (s.size() > n) s.resize(n);
  return s;
}

struct Subscription {
  int64_t id = 0;
  int64_t created_at = 0;
  std::vector<std::string> types;  // empty: all
  bool Takes(std::string_view type) const {
    return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
  }
};

std::vector<std::string> ParseTypes(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& t : v.as_array()) {
    if (t.is_string()) out.emplace_back(t.as_string());
  }
  return out;
}

// The body of an event's webhook.
std::string EventPayload(const store::Row& e) {
  json::object data;
  data["campaign_id"] = e.IsNull("campaign_id") ? json::value(nullptr) : e.Int("campaign_id");
  data["campaign_name"] = e.Text("campaign_name");
  data["lead_id"] = e.Int("contact_id");
  data["lead_email"] = e.Text("email");
  data["message_id"] = e.IsNull("message_id_header") ? json::value(nullptr)
                                                     : json::value(e.Text("message_id_header"));
  data["kiln_message_id"] = e.Int("message_id");
  data["step_id"] = e.Int("step_id");
  data["sender_id"] = e.IsNull("sender_id") ? json::value(nullptr) : e.Int("sender_id");
  data["is_machine"] = e.Bool("is_machine");
  boost::system::error_code ec;
  json::value detail = json::parse(e.Text("detail"), ec);
  if (!ec && detail.is_object()) {
    json::object& d = detail.as_object();
    d.erase("ip");  // the lead's address is not passed on
    if (auto* url = d.if_contains("url")) data["url"] = *url;
    if (auto* kind = d.if_contains("kind")) data["bounce_type"] = *kind;
    if (auto* reason = d.if_contains("reason")) data["reason"] = *reason;
    data["detail"] = std::move(d);
  } else {
    data["detail"] = json::object();
  }
  json::object body{{"id", "evt_" + std::to_string(e.Int("id"))},
                    {"type", e.Text("type")},
                    {"created_at", FormatIso8601(e.Int("created_at"))},
                    {"workspace_id", e.Int("workspace_id")},
                    {"data", std::move(data)}};
  return json::serialize(body);
}

}  // namespace

Dispatcher::Dispatcher(store::Database& db, const Clock& clock, const auth::SecretBox& secrets,
                       DispatcherOptions options)
    : db_(db),
      clock_(clock),
      secrets_(secrets),
      options_(std::move(options)),
      rng_(options_.seed) {}

Result<TickStats> Dispatcher::RunOnce() {
  TickStats stats;
  KILN_RETURN_IF_ERROR(FanOut(&stats));
  KILN_RETURN_IF_ERROR(DeliverDue(&stats));
  return stats;
}

Status Dispatcher::FanOut(TickStats* stats) {
  // An idle tick only reads: the write transaction (and its lock) is taken when there is work.
  bool work = false;
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto cursor, tx.QueryRow("webhooks.cursor_get", {},
                                                   "the webhook watermark row is missing"));
    KILN_ASSIGN_OR_RETURN(auto next,
                          tx.QueryOne("webhooks.first_event_after", {cursor.Int("last_event_id")}));
    work = next && next->Int("created_at") <= clock_.NowMillis() - options_.settle.count();
    return Status::Ok();
  }));
  if (!work) return Status::Ok();
  return db_.Write([&](store::Tx& tx) -> Status {
    stats->events = 0;
    stats->created = 0;
    const int64_t now = clock_.NowMillis();
    KILN_ASSIGN_OR_RETURN(auto cursor, tx.QueryRow("webhooks.cursor_lock", {now},
                                                   "the webhook watermark row is missing"));
    int64_t last = cursor.Int("last_event_id");
    KILN_ASSIGN_OR_RETURN(auto events,
                          tx.Query("webhooks.events_after", {last, options_.fanout_batch}));
    std::map<int64_t, std::vector<Subscription>> subs_by_ws;
    const int64_t settled_before = now - options_.settle.count();
    int64_t moved_to = last;
    for (const store::Row& e : events) {
      if (e.Int("created_at") > settled_before) break;
      const int64_t ws = e.Int("workspace_id");
      auto it = subs_by_ws.find(ws);
      if (it == subs_by_ws.end()) {
        KILN_ASSIGN_OR_RETURN(auto rows, tx.Query("webhooks.active_for_workspace", {ws}));
        std::vector<Subscription> subs;
        for (const auto& r : rows) {
          subs.push_back({r.Int("id"), r.Int("created_at"), ParseTypes(r.Text("event_types"))});
        }
        it = subs_by_ws.emplace(ws, std::move(subs)).first;
      }
      const std::string type = e.Text("type");
      std::string payload;
      for (const Subscription& s : it->second) {
        if (!s.Takes(type) || e.Int("created_at") < s.created_at) continue;
        if (payload.empty()) payload = EventPayload(e);
        KILN_ASSIGN_OR_RETURN(int64_t n, tx.Exec("webhooks.delivery_insert",
                                                 {ws, s.id, e.Int("id"), type, payload, now}));
        stats->created += n;
      }
      moved_to = e.Int("id");
      ++stats->events;
    }
    if (moved_to != last) {
      KILN_RETURN_IF_ERROR(tx.Exec("webhooks.cursor_advance", {moved_to, now}).status());
    }
    return Status::Ok();
  });
}

Status Dispatcher::DeliverDue(TickStats* stats) {
  std::vector<std::pair<int64_t, int64_t>> claimed;  // delivery id, subscription id
  const int64_t now = clock_.NowMillis();
  const int64_t lease_until = now + options_.timeout.count() + 60'000;
  bool due = false;
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto row, tx.QueryOne("webhooks.any_due", {now}));
    due = row.has_value();
    return Status::Ok();
  }));
  if (!due) return Status::Ok();
  KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
    claimed.clear();
    KILN_ASSIGN_OR_RETURN(auto rows,
                          tx.Query("webhooks.claim_due",
                                   {options_.worker_id, lease_until, now, options_.send_batch}));
    for (const auto& r : rows) claimed.emplace_back(r.Int("id"), r.Int("webhook_id"));
    return Status::Ok();
  }));
  // One lane per subscription, its deliveries in id order; lanes in the order of their first
  // delivery.
  std::map<int64_t, std::vector<int64_t>> by_webhook;
  for (const auto& [id, webhook_id] : claimed) by_webhook[webhook_id].push_back(id);
  std::vector<std::vector<int64_t>> lanes;
  lanes.reserve(by_webhook.size());
  for (auto& [webhook_id, lane] : by_webhook) {
    std::sort(lane.begin(), lane.end());
    lanes.push_back(std::move(lane));
  }
  std::sort(lanes.begin(), lanes.end(),
            [](const auto& a, const auto& b) { return a.front() < b.front(); });

  std::mutex mu;  // guards next_lane, first_error and *stats
  size_t next_lane = 0;
  Status first_error;
  auto run_lanes = [&] {
    for (;;) {
      size_t lane = 0;
      {
        std::lock_guard lock(mu);
        if (next_lane == lanes.size() || !first_error.ok()) return;
        lane = next_lane++;
      }
      for (int64_t id : lanes[lane]) {
        auto outcome = Attempt(id, false);
        std::lock_guard lock(mu);
        if (!outcome.ok()) {
          // The database failed: the rest of this lane keeps its lease and goes again once it
          // lapses, after this one (never out of order).
          if (first_error.ok()) first_error = outcome.status();
          return;
        }
        ++stats->attempted;
        if (outcome->delivered) {
          ++stats->delivered;
        } else {
          ++stats->failed;
        }
      }
    }
  };
  const size_t workers =
      std::min(lanes.size(), static_cast<size_t>(std::max(1, options_.max_concurrent)));
  // The calling thread is one of the workers; the others join before the tick ends, so a tick
  // never leaves a send running behind it.
  std::vector<std::thread> helpers;
  helpers.reserve(workers > 0 ? workers - 1 : 0);
  for (size_t i = 1; i < workers; ++i) {
    try {
      helpers.emplace_back(run_lanes);
    } catch (const std::system_error& e) {
      // No thread to be had: the lanes are shared by the workers there are.
      spdlog::warn("webhooks: cannot start a delivery thread ({}); sending with {}", e.what(), i);
      break;
    }
  }
  run_lanes();
  for (auto& t : helpers) t.join();
  return first_error;
}

Result<AttemptOutcome> Dispatcher::Attempt(int64_t id, bool final_attempt) {
  AttemptOutcome out;
  out.delivery_id = id;
  std::optional<store::Row> row;
  KILN_RETURN_IF_ERROR(db_.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(
        auto r, tx.QueryRow("webhooks.delivery_for_send", {id}, "no such webhook delivery"));
    row = std::move(r);
    return Status::Ok();
  }));
  const int64_t webhook_id = row->Int("webhook_id");
  const std::string payload = row->Text("payload");
  // The payload's own id ("evt_<event id>", "ping_<delivery id>") is the Kiln-Event-Id.
  std::string event_id = "delivery_" + std::to_string(id);
  {
    boost::system::error_code ec;
    json::value v = json::parse(payload, ec);
    if (!ec && v.is_object()) {
      if (auto* pid = v.as_object().if_contains("id"); pid && pid->is_string()) {
        event_id = std::string(pid->as_string());
      }
    }
  }
  // Everything that can go wrong before the receiver answers is the attempt's error.
  Status problem;
  auto secret = secrets_.Open(row->Bytes("secret"), SecretAad(webhook_id));
  auto url = ParseTargetUrl(row->Text("url"));
  if (!secret.ok()) {
    problem = secret.status().WithContext("cannot open the signing secret");
  } else if (!url.ok()) {
    problem = url.status().WithContext("url");
  }
  if (problem.ok()) {
    auto endpoints = ResolveTarget(*url, options_.allow_private_targets);
    if (!endpoints.ok()) {
      problem = endpoints.status();
    } else {
      const int64_t t = clock_.NowMillis() / 1000;
      PostOptions po;
      po.timeout = options_.timeout;
      po.ca_file = options_.ca_file;
      auto res = PostJson(*url, *endpoints,
                          {{std::string(kSignatureHeader), SignatureHeader(*secret, t, payload)},
                           {std::string(kEventIdHeader), event_id}},
                          payload, po);
      if (!res.ok()) {
        problem = res.status();
      } else {
        out.status_code = res->status;
        if (res->status >= 200 && res->status < 300) {
          out.delivered = true;
        } else {
          std::string snippet = res->body;
          for (char& c : snippet) {
            if (static_cast<unsigned char>(c) < 0x20) c = ' ';
          }
          problem =
              Status::Unavailable("the receiver answered HTTP " + std::to_string(res->status) +
                                  (snippet.empty() ? "" : ": " + Bounded(snippet, 200)));
        }
      }
    }
  }
  const int64_t now = clock_.NowMillis();
  const int64_t attempts = row->Int("attempts") + 1;
  std::optional<int64_t> next;
  if (!out.delivered && !final_attempt) {
    double jitter = 0;
    {
      std::lock_guard lock(rng_mu_);
      jitter = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    }
    auto delay = RetryDelayMs(attempts, options_.backoff_permille, jitter);
    if (delay) next = now + *delay;
  }
  out.error = out.delivered ? "" : Bounded(problem.message(), kMaxErrorBytes);
  out.status = out.delivered ? "delivered" : (next ? "pending" : "failed");
  std::optional<int64_t> code;
  if (out.status_code != 0) code = out.status_code;
  KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
    if (out.delivered) {
      KILN_RETURN_IF_ERROR(
          tx.Exec("webhooks.delivery_succeeded", {id, options_.worker_id, now, code}).status());
      return tx.Exec("webhooks.mark_success", {webhook_id, now}).status();
    }
    KILN_RETURN_IF_ERROR(
        tx.Exec("webhooks.delivery_failed", {id, options_.worker_id, now, code, next, out.error})
            .status());
    KILN_ASSIGN_OR_RETURN(auto sub, tx.QueryOne("webhooks.mark_failure", {webhook_id, now}));
    if (sub && !sub->IsNull("failing_since")) {
      const int64_t since = sub->Int("failing_since");
      const int64_t limit =
          std::chrono::duration_cast<std::chrono::milliseconds>(options_.disable_after).count();
      if (now - since >= limit) {
        std::string reason = "disabled automatically: every delivery failed since " +
                             FormatIso8601(since) + "; last error: " + out.error;
        KILN_ASSIGN_OR_RETURN(
            int64_t n, tx.Exec("webhooks.disable", {webhook_id, Bounded(reason, 1000), now}));
        if (n > 0) spdlog::warn("webhooks: subscription {}: {}", webhook_id, reason);
      }
    }
    return Status::Ok();
  }));
  return out;
}

Result<AttemptOutcome> Dispatcher::SendPing(int64_t ws, int64_t webhook_id) {
  const int64_t now = clock_.NowMillis();
  int64_t id = 0;
  KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
    KILN_RETURN_IF_ERROR(tx.QueryRow("webhooks.get", {ws, webhook_id}, "no such webhook").status());
    json::object body{{"id", ""},
                      {"type", "ping"},
                      {"created_at", FormatIso8601(now)},
                      {"workspace_id", ws},
                      {"data", json::object{{"webhook_id", webhook_id}}}};
    KILN_ASSIGN_OR_RETURN(auto row,
                          tx.QueryRow("webhooks.ping_insert",
                                      {ws, webhook_id, json::serialize(body), options_.worker_id,
                                       now + options_.timeout.count() + 60'000, now}));
    id = row.Int("id");
    body["id"] = "ping_" + std::to_string(id);
    return tx.Exec("webhooks.ping_payload", {id, json::serialize(body)}).status();
  }));
  return Attempt(id, true);
}

void RunDispatcher(Dispatcher& dispatcher, std::chrono::milliseconds tick,
                   const std::function<bool(std::chrono::milliseconds)>& wait) {
  std::string last_error;
  do {
    auto stats = dispatcher.RunOnce();
    if (!stats.ok()) {
      if (stats.status().message() != last_error) {
        spdlog::error("webhooks: tick failed: {}", stats.status().ToString());
        last_error = stats.status().message();
      }
      continue;
    }
    last_error.clear();
    if (stats->attempted > 0) {
      spdlog::debug("webhooks: {} events, {} deliveries created, {} sent, {} failed", stats->events,
                    stats->created, stats->delivered, stats->failed);
    }
  } while (!wait(tick));
}

}  // namespace kiln::webhooks
