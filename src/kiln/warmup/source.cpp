#include "kiln/warmup/source.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kiln/domain/quota.h"
#include "kiln/domain/random.h"
#include "kiln/engine/scheduler.h"
#include "kiln/mail/classify_warmup.h"
#include "kiln/mail/mime_writer.h"
#include "kiln/warmup/content.h"

namespace kiln::warmup {
namespace {

constexpr int kMaxAttempts = 8;  // rows canceled or rooms lost to a race before giving up a turn
// A sender's own next mail postponed to its counterpart's next day is due within this much of
// the day's start (spread by the row's id, so a day's postponed mail does not leave at once).
constexpr int64_t kPostponeSpreadMs = 3 * 3'600'000;
// Past candidates_refresh, the candidates are read again when the workspace's bots or senders
// changed (their count or latest updated_at; looked at once one new thread per
// kCandidatesPerThreadBeforeCheck candidates was started since the last look), and otherwise once
// one new thread per kCandidatesPerThreadBeforeRead candidates was started since the last read (a
// change that left updated_at alone). Both are linear in the workspace, so each costs a new
// thread a bounded share whatever the workspace's size and pace.
constexpr size_t kCandidatesPerThreadBeforeCheck = 16;
constexpr size_t kCandidatesPerThreadBeforeRead = 4;

std::string StripBrackets(std::string_view id) {
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  return std::string(id);
}

std::string DisplayForm(const mail::Address& a) {
  return a.name.empty() ? a.email : a.name + " <" + a.email + ">";
}

mail::Address SenderAddress(const engine::SenderInfo& sender) {
  return {sender.from_name.empty() ? sender.name : sender.from_name, sender.email};
}

// The mailbox at the other end of a row, as seen from the sender that sends it.
struct Party {
  mail::Address address;
  bool active = false;
};

// From a warmup.bot_locked, warmup.sender_locked or warmup.sender_address row.
Party PartyOf(const store::Row& row, bool bot) {
  Party party;
  std::string name = row.Text("name");
  if (!bot && !row.Text("from_name").empty()) name = row.Text("from_name");
  party.address = {std::move(name), row.Text("email")};
  party.active = row.Text("status") == "active";
  return party;
}

// Sender `id` as the recipient of an answer it is owed: no room is taken, so no lock.
Result<std::optional<Party>> LoadSender(store::Tx& tx, int64_t id) {
  KILN_ASSIGN_OR_RETURN(auto row, tx.QueryOne("warmup.sender_address", {id}));
  if (!row) return std::optional<Party>();
  return std::optional<Party>(PartyOf(*row, false));
}

// A zone by name; an unknown one counts as UTC (logged once per call site use).
std::shared_ptr<const domain::TimeZone> ZoneOrUtc(domain::TimeZoneDatabase& zones,
                                                  const std::string& name) {
  auto zone = zones.Get(name);
  if (zone.ok()) return *zone;
  spdlog::warn("warm-up: time zone '{}' unusable ({}); counting its day in UTC", name,
               zone.status().ToString());
  auto utc = zones.Get("UTC");
  return utc.ok() ? *utc : nullptr;
}

struct ZoneDay {
  std::shared_ptr<const domain::TimeZone> zone;
  domain::CivilDate day;
  domain::DayBounds bounds;
};

// Per-zone day bounds at `now`, computed once per zone name.
class ZoneDays {
 public:
  ZoneDays(domain::TimeZoneDatabase& zones, int64_t now_ms) : zones_(zones), now_ms_(now_ms) {}
  const ZoneDay& Of(const std::string& name) {
    auto it = days_.find(name);
    if (it != days_.end()) return it->second;
    ZoneDay zd;
    zd.zone = ZoneOrUtc(zones_, name);
    if (zd.zone) {
      zd.day = domain::DayAt(*zd.zone, now_ms_);
      zd.bounds = domain::DayBoundsOf(*zd.zone, zd.day);
    }
    return days_.emplace(name, std::move(zd)).first->second;
  }
  const std::map<std::string, ZoneDay>& all() const { return days_; }

 private:
  domain::TimeZoneDatabase& zones_;
  int64_t now_ms_;
  std::map<std::string, ZoneDay> days_;
};

// Counts per counterpart id from one of the *_between queries, for every zone in `days`.
Result<std::map<int64_t, int>> CountsByZone(store::Tx& tx, std::string_view query,
                                            int64_t workspace_id, const ZoneDays& days) {
  std::map<int64_t, int> counts;
  for (const auto& [name, zd] : days.all()) {
    KILN_ASSIGN_OR_RETURN(
        auto rows, tx.Query(query, {workspace_id, name, zd.bounds.start_ms, zd.bounds.end_ms}));
    for (const store::Row& row : rows) counts[row.Int("id")] = static_cast<int>(row.Int("n"));
  }
  return counts;
}

int CountOf(const std::map<int64_t, int>& counts, int64_t id) {
  auto it = counts.find(id);
  return it == counts.end() ? 0 : it->second;
}

// A counterpart's limits today, on its own calendar (see source.h (c)).
struct Limits {
  domain::DayBounds today;  // the counterpart's day
  int receive_cap = 0;      // mails it may receive today
  int send_volume = 0;      // bots: replies it may send today
};

// From a bot's row (warmup.workspace_bots or warmup.bot_locked) and its day.
Limits BotLimits(const store::Row& row, const ZoneDay& zd) {
  const int send_limit = static_cast<int>(row.Int("daily_send_limit"));
  domain::BotAging aging;
  aging.start_date = domain::DayAt(*zd.zone, row.Int("aging_start_at"));
  aging.aging_end_date =
      domain::DayAt(*zd.zone, row.OptInt("aging_end_at").value_or(row.Int("aging_start_at")));
  if (aging.aging_end_date < aging.start_date) aging.aging_end_date = aging.start_date;
  aging.max_volume = send_limit;
  aging.start_volume =
      std::clamp(static_cast<int>(row.Int("aging_start_volume")), 1, std::max(send_limit, 1));
  const int send_volume = send_limit <= 0 ? 0 : domain::BotDailyVolume(aging, zd.day);
  return {zd.bounds, std::min(send_volume, static_cast<int>(row.Int("daily_receive_limit"))),
          send_volume};
}

// From a peer's row (warmup.workspace_peers or warmup.sender_locked) and its day: its own
// warm-up volume today is what it may receive.
Limits PeerLimits(const store::Row& row, const ZoneDay& zd, int64_t now_ms) {
  const int target = static_cast<int>(row.Int("warmup_daily_target"));
  int volume = target;
  const std::optional<int64_t> end_at = row.OptInt("warmup_end_at");
  if (end_at && *end_at > now_ms) {
    domain::WarmupPlan plan;
    plan.start_date =
        domain::DayAt(*zd.zone, row.OptInt("warmup_start_at").value_or(row.Int("created_at")));
    plan.end_date = domain::DayAt(*zd.zone, *end_at);
    plan.start_volume = static_cast<int>(row.Int("warmup_start_volume"));
    plan.daily_increase = static_cast<int>(row.Int("warmup_daily_increase"));
    plan.max_volume = target;
    plan.weekdays_only = row.Bool("warmup_weekdays_only");
    volume = domain::WarmupRampVolume(plan, zd.day);
  }
  return {zd.bounds, volume, 0};
}

// How many more mails a counterpart may receive today, counted from the rows (its mail sent,
// claimed and scheduled for its day).
Result<int> ReceiveRoomNow(store::Tx& tx, bool bot, int64_t id, const Limits& limits) {
  const store::Params params{id, limits.today.start_ms, limits.today.end_ms};
  KILN_ASSIGN_OR_RETURN(
      store::Row received,
      tx.QueryRow(bot ? "warmup.bot_received_one" : "warmup.peer_received_one", params));
  return limits.receive_cap - static_cast<int>(received.Int("n"));
}

// A counterpart's room for a new thread, counted from the rows: what it may still receive today,
// and for a bot none once its replies reach its send volume (a new thread asks for a reply).
Result<int> RoomNow(store::Tx& tx, bool bot, int64_t id, const Limits& limits) {
  const store::Params params{id, limits.today.start_ms, limits.today.end_ms};
  KILN_ASSIGN_OR_RETURN(int room, ReceiveRoomNow(tx, bot, id, limits));
  if (bot) {
    KILN_ASSIGN_OR_RETURN(store::Row replies, tx.QueryRow("warmup.bot_replies_one", params));
    if (replies.Int("n") >= limits.send_volume) room = 0;
  }
  return room;
}

bool SameLimits(const Limits& a, const Limits& b) {
  return a.today.start_ms == b.today.start_ms && a.today.end_ms == b.today.end_ms &&
         a.receive_cap == b.receive_cap && a.send_volume == b.send_volume;
}

// Every candidate of the workspace with its room today, and the limits it was counted under.
struct Candidates {
  std::vector<Candidate> bots;
  std::vector<Candidate> peers;  // every sender of the workspace with warm-up on (a sender's own
                                 // history keeps it from picking itself)
  std::unordered_map<int64_t, Limits> bot_limits, peer_limits;
  int64_t days_end_ms = std::numeric_limits<int64_t>::max();  // the first counterpart day's end
};

// The earliest end of the days in `days`, into `end_ms`.
void EarliestDayEnd(const ZoneDays& days, int64_t* end_ms) {
  for (const auto& [name, zd] : days.all()) {
    if (zd.zone) *end_ms = std::min(*end_ms, zd.bounds.end_ms);
  }
}

// Whether the workspace's bots or senders changed: compared with the value at the last read.
Result<std::vector<int64_t>> Fingerprint(store::Tx& tx, int64_t workspace_id) {
  KILN_ASSIGN_OR_RETURN(store::Row row,
                        tx.QueryRow("warmup.workspace_fingerprint", {workspace_id}));
  return std::vector<int64_t>{row.Int("bots"), row.Int("bots_changed"), row.Int("senders"),
                              row.Int("senders_changed")};
}

// What a read of the candidates may keep from the previous one of the same days: the rooms in
// its pool, for the candidates whose limits did not change.
struct Kept {
  const PairingPool& pool;
  const std::unordered_map<int64_t, Limits>& bot_limits;
  const std::unordered_map<int64_t, Limits>& peer_limits;
};

// The room of one candidate: kept, or counted on its own (new, or its limits changed).
Result<int> RoomOf(store::Tx& tx, bool bot, int64_t id, const Limits& limits, const Kept& kept) {
  const auto& old = bot ? kept.bot_limits : kept.peer_limits;
  auto it = old.find(id);
  if (it != old.end() && SameLimits(it->second, limits)) {
    return kept.pool.RoomOf(bot ? CounterpartKind::kBot : CounterpartKind::kPeer, id);
  }
  return RoomNow(tx, bot, id, limits);
}

// Reads the workspace's candidates. Without `kept`, every room is counted from the day's rows
// (two workspace-wide counts per kind and time zone); with it, only the rooms of new candidates
// and of candidates whose limits changed are.
Result<Candidates> LoadCandidates(store::Tx& tx, domain::TimeZoneDatabase& zones,
                                  int64_t workspace_id, int64_t now_ms, const Kept* kept) {
  Candidates out;
  KILN_ASSIGN_OR_RETURN(auto bot_rows, tx.Query("warmup.workspace_bots", {workspace_id}));
  // No sender has id 0: every peer of the workspace.
  KILN_ASSIGN_OR_RETURN(auto peer_rows, tx.Query("warmup.workspace_peers", {workspace_id, 0}));

  ZoneDays bot_days(zones, now_ms);
  for (const store::Row& row : bot_rows) bot_days.Of(row.Text("timezone"));
  EarliestDayEnd(bot_days, &out.days_end_ms);
  std::map<int64_t, int> received, replies;
  if (!kept) {
    KILN_ASSIGN_OR_RETURN(received,
                          CountsByZone(tx, "warmup.bot_received_between", workspace_id, bot_days));
    KILN_ASSIGN_OR_RETURN(replies,
                          CountsByZone(tx, "warmup.bot_replies_between", workspace_id, bot_days));
  }
  out.bots.reserve(bot_rows.size());
  for (const store::Row& row : bot_rows) {
    const ZoneDay& zd = bot_days.Of(row.Text("timezone"));
    if (!zd.zone) continue;
    const Limits limits = BotLimits(row, zd);
    const int64_t id = row.Int("id");
    int room = 0;
    if (kept) {
      KILN_ASSIGN_OR_RETURN(room, RoomOf(tx, true, id, limits, *kept));
    } else {
      room = CountOf(replies, id) >= limits.send_volume
                 ? 0
                 : limits.receive_cap - CountOf(received, id);
    }
    out.bots.push_back({id, AddressDomain(row.Text("email")), row.Text("provider"), room});
    out.bot_limits[id] = limits;
  }

  ZoneDays peer_days(zones, now_ms);
  for (const store::Row& row : peer_rows) peer_days.Of(row.Text("timezone"));
  EarliestDayEnd(peer_days, &out.days_end_ms);
  std::map<int64_t, int> peer_received;
  if (!kept) {
    KILN_ASSIGN_OR_RETURN(
        peer_received, CountsByZone(tx, "warmup.peer_received_between", workspace_id, peer_days));
  }
  out.peers.reserve(peer_rows.size());
  for (const store::Row& row : peer_rows) {
    const ZoneDay& zd = peer_days.Of(row.Text("timezone"));
    if (!zd.zone) continue;
    const Limits limits = PeerLimits(row, zd, now_ms);
    const int64_t id = row.Int("id");
    int room = 0;
    if (kept) {
      KILN_ASSIGN_OR_RETURN(room, RoomOf(tx, false, id, limits, *kept));
    } else {
      room = limits.receive_cap - CountOf(peer_received, id);
    }
    out.peers.push_back({id, AddressDomain(row.Text("email")), "", room});
    out.peer_limits[id] = limits;
  }
  return out;
}

}  // namespace

// A workspace's candidates as last read, in the pool pairing picks from (see source.h): the
// rooms are kept by this source's claims and by the recounts under lock until the next read.
struct DbWarmupSource::Workspace {
  Workspace(Candidates c, int64_t now_ms, int64_t counted_at_ms)
      : pool(std::move(c.bots), std::move(c.peers)),
        bot_limits(std::move(c.bot_limits)),
        peer_limits(std::move(c.peer_limits)),
        loaded_at_ms(now_ms),
        counted_at_ms(counted_at_ms),
        days_end_ms(c.days_end_ms),
        checked_at_ms(now_ms) {}
  PairingPool pool;
  std::unordered_map<int64_t, Limits> bot_limits, peer_limits;  // what the rooms were counted for
  int64_t loaded_at_ms;
  int64_t counted_at_ms;             // when every room was last counted from the rows
  int64_t days_end_ms;               // a counterpart's day turns here: every room is new
  int64_t picks = 0;                 // new threads started since the read
  int64_t checked_at_ms;             // when the rows were last looked at for a change
  int64_t picks_at_check = 0;        // `picks` then
  std::vector<int64_t> fingerprint;  // warmup.workspace_fingerprint at the read
};

DbWarmupSource::DbWarmupSource(store::Database& db, domain::TimeZoneDatabase& zones,
                               WarmupSourceOptions options)
    : db_(db), zones_(zones), options_(std::move(options)) {}

DbWarmupSource::~DbWarmupSource() = default;

namespace {

// Fills message headers common to every warm-up mail.
engine::WarmupMessage Compose(int64_t id, const mail::Address& from, const mail::Address& to,
                              std::string message_id_header, std::string token, std::string subject,
                              std::string text_body, std::string html_body, int64_t now_ms) {
  engine::WarmupMessage out;
  out.warmup_message_id = id;
  mail::OutgoingMessage& m = out.message;
  m.from = from;
  m.to = {to};
  m.subject = std::move(subject);
  m.text_body = std::move(text_body);
  m.html_body = std::move(html_body);
  m.message_id = StripBrackets(message_id_header);
  m.date = FromUnixMillis(now_ms);
  m.extra_headers.emplace_back(std::string(mail::kWarmupHeader), std::move(token));
  return out;
}

}  // namespace

Result<std::optional<engine::WarmupMessage>> DbWarmupSource::Next(const engine::SenderInfo& sender,
                                                                  int64_t now_ms) {
  std::optional<engine::WarmupMessage> result;
  const mail::Address me = SenderAddress(sender);
  const std::string my_domain = AddressDomain(sender.email);
  if (my_domain.empty()) {
    return Status::InvalidArgument("sender " + std::to_string(sender.id) + " address '" +
                                   sender.email + "' has no domain");
  }

  if (!last_lapse_check_ms_ || now_ms < *last_lapse_check_ms_ ||
      now_ms - *last_lapse_check_ms_ >= options_.lapse_check_interval.count()) {
    KILN_ASSIGN_OR_RETURN(int lapsed, LapseClaims(now_ms));
    if (lapsed > 0) {
      spdlog::warn("warm-up: {} claim(s) caught mid-send marked unknown (never resent)", lapsed);
    }
    last_lapse_check_ms_ = now_ms;
  }

  // (a) and (b): rows the receiving side scheduled, with their bodies.
  auto claim_scheduled = [&](store::Tx& tx, const store::Row& row) -> Result<bool> {
    const int64_t id = row.Int("id");
    const bool peer_answer = row.Text("direction") == "back";
    std::optional<Party> to;
    if (peer_answer) {
      KILN_ASSIGN_OR_RETURN(to, LoadSender(tx, row.Int("sender_id")));
    } else {
      // The sender's own next mail goes within its counterpart's room today, as a new thread
      // does: the receiving side scheduled it without counting, and the room may have gone to
      // new threads since. Locked and counted from the rows as a pick is; without room it waits
      // for the counterpart's next day.
      const bool bot = row.OptInt("bot_id").has_value();
      const int64_t counterpart = bot ? row.Int("bot_id") : row.Int("peer_sender_id");
      KILN_ASSIGN_OR_RETURN(
          auto party_row,
          tx.QueryOne(bot ? "warmup.bot_locked" : "warmup.sender_locked", {counterpart}));
      if (party_row) {
        to = PartyOf(*party_row, bot);
        ZoneDays days(zones_, now_ms);
        const ZoneDay& zd = days.Of(party_row->Text("timezone"));
        if (to->active && zd.zone) {
          const Limits limits =
              bot ? BotLimits(*party_row, zd) : PeerLimits(*party_row, zd, now_ms);
          KILN_ASSIGN_OR_RETURN(int room, ReceiveRoomNow(tx, bot, counterpart, limits));
          // The count holds this row itself when it is scheduled within the counterpart's day.
          const int64_t scheduled_at = row.Int("scheduled_at");
          if (scheduled_at >= limits.today.start_ms && scheduled_at < limits.today.end_ms) ++room;
          if (room <= 0) {
            const int64_t due = limits.today.end_ms +
                                static_cast<int64_t>(domain::Mix64(static_cast<uint64_t>(id)) %
                                                     static_cast<uint64_t>(kPostponeSpreadMs));
            KILN_RETURN_IF_ERROR(tx.Exec("warmup.postpone", {id, now_ms, due}).status());
            return false;
          }
        }
      }
    }
    std::string message_id = row.Text("message_id_header");
    if (message_id.empty()) message_id = "<" + mail::GenerateMessageId(my_domain) + ">";
    const std::string token = row.Text("token");
    std::string subject = row.Text("subject");
    std::string text_body = row.Text("text_body");
    std::string html_body = row.Text("html_body");

    std::string parent_header;
    bool composed = false;  // bodies written here, not by the receiving side: stored on claim
    if (auto parent_id = row.OptInt("parent_id")) {
      KILN_ASSIGN_OR_RETURN(auto parent, tx.QueryOne("warmup.parent", {*parent_id}));
      if (parent) {
        parent_header = parent->Text("message_id_header");
        if (text_body.empty() && html_body.empty() && to) {
          // Written without bodies: answer what the stored parent says.
          Original original{
              parent->Text("subject"), parent->Text("text_body"), DisplayForm(to->address),
              FromUnixMillis(parent->OptInt("sent_at").value_or(parent->Int("created_at")))};
          WarmupContent content =
              ReplyContent(domain::SeedOf(options_.seed, static_cast<uint64_t>(id)),
                           {me.name, to->address.name}, token, original);
          subject = std::move(content.subject);
          text_body = std::move(content.text_body);
          html_body = std::move(content.html_body);
          composed = true;
        }
      }
    }
    if (!to || !to->active || (text_body.empty() && html_body.empty())) {
      const std::string why = !to ? "the counterpart no longer exists"
                              : !to->active
                                  ? "the counterpart " + to->address.email + " is not active"
                                  : "nothing to send: no bodies and no parent";
      KILN_RETURN_IF_ERROR(tx.Exec("warmup.cancel", {id, now_ms, why}).status());
      return false;
    }
    KILN_ASSIGN_OR_RETURN(int64_t claimed,
                          tx.Exec("warmup.claim", {id, now_ms, message_id, subject}));
    if (claimed != 1) return false;
    if (composed) {
      KILN_RETURN_IF_ERROR(tx.Exec("warmup.set_bodies", {id, text_body, html_body}).status());
    }

    engine::WarmupMessage msg = Compose(id, me, to->address, message_id, token, subject,
                                        std::move(text_body), std::move(html_body), now_ms);
    if (!parent_header.empty()) {
      msg.message.in_reply_to = StripBrackets(parent_header);
      KILN_ASSIGN_OR_RETURN(auto headers,
                            tx.Query("warmup.thread_headers", {token, row.Int("exchange")}));
      for (const store::Row& h : headers) {
        msg.message.references.push_back(StripBrackets(h.Text("message_id_header")));
      }
      if (msg.message.references.empty()) msg.message.references.push_back(msg.message.in_reply_to);
    }
    result = std::move(msg);
    return true;
  };

  // (c): a new thread with the counterpart pairing picks.
  auto start_thread = [&](store::Tx& tx) -> Status {
    std::unique_ptr<Workspace>& cached = workspaces_[sender.workspace_id];
    // A new day or time gone back: every room is counted again. Past the refresh: the
    // candidates are read again, keeping the rooms of those whose limits did not change.
    const bool recount = !cached || now_ms < cached->counted_at_ms ||
                         now_ms < cached->loaded_at_ms || now_ms >= cached->days_end_ms;
    bool reread = recount;
    std::vector<int64_t> fingerprint;
    const int64_t refresh = options_.candidates_refresh.count();
    const size_t candidates = cached ? cached->pool.bot_count() + cached->pool.peer_count() : 0;
    if (recount || (now_ms - cached->checked_at_ms >= refresh &&
                    static_cast<size_t>(cached->picks - cached->picks_at_check) *
                            kCandidatesPerThreadBeforeCheck >=
                        candidates)) {
      KILN_ASSIGN_OR_RETURN(fingerprint, Fingerprint(tx, sender.workspace_id));
      if (cached) {
        cached->checked_at_ms = now_ms;
        cached->picks_at_check = cached->picks;
      }
    }
    if (!reread && now_ms - cached->loaded_at_ms >= refresh) {
      reread = (!fingerprint.empty() && fingerprint != cached->fingerprint) ||
               static_cast<size_t>(cached->picks) * kCandidatesPerThreadBeforeRead >= candidates;
    }
    if (reread) {
      if (fingerprint.empty()) {
        KILN_ASSIGN_OR_RETURN(fingerprint, Fingerprint(tx, sender.workspace_id));
      }
      std::optional<Kept> kept;
      if (!recount) kept.emplace(Kept{cached->pool, cached->bot_limits, cached->peer_limits});
      KILN_ASSIGN_OR_RETURN(Candidates candidates, LoadCandidates(tx, zones_, sender.workspace_id,
                                                                  now_ms, kept ? &*kept : nullptr));
      const int64_t counted_at = recount ? now_ms : cached->counted_at_ms;
      cached = std::make_unique<Workspace>(std::move(candidates), now_ms, counted_at);
      cached->fingerprint = std::move(fingerprint);
    }
    PairingPool& pool = cached->pool;
    if (pool.bot_count() == 0 && pool.peer_count() == 0) return Status::Ok();

    SenderHistory history(pool, sender.id);
    KILN_ASSIGN_OR_RETURN(
        auto contacts,
        tx.Query("warmup.contacts",
                 {sender.id, static_cast<int64_t>(std::max(options_.pairing_history, 1))}));
    for (auto c = contacts.rbegin(); c != contacts.rend(); ++c) {  // oldest first
      if (auto bot_id = c->OptInt("bot_id")) {
        history.AddContact(pool, CounterpartKind::kBot, *bot_id);
      } else if (auto peer_id = c->OptInt("peer_sender_id")) {
        history.AddContact(pool, CounterpartKind::kPeer, *peer_id);
      }
    }

    domain::Rng rng(domain::SeedOf(options_.seed, static_cast<uint64_t>(sender.id),
                                   static_cast<uint64_t>(now_ms)));
    ZoneDays days(zones_, now_ms);
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      std::optional<Pick> pick = pool.Choose(history, rng, options_.pairing);
      if (!pick) return Status::Ok();
      const bool bot = pick->kind == CounterpartKind::kBot;

      // Read the counterpart under its row lock (PostgreSQL; SQLite's writers are serial) and
      // count again: the rows are the truth (its status and limits now, what other processes
      // claimed, what a bot owes), the pool only a hint of where room is.
      KILN_ASSIGN_OR_RETURN(
          auto row, tx.QueryOne(bot ? "warmup.bot_locked" : "warmup.sender_locked", {pick->id}));
      int room = 0;
      std::optional<Party> to;
      if (row) {
        to = PartyOf(*row, bot);
        const ZoneDay& zd = days.Of(row->Text("timezone"));
        if (to->active && zd.zone && (bot || row->Bool("warmup_enabled"))) {
          const Limits limits = bot ? BotLimits(*row, zd) : PeerLimits(*row, zd, now_ms);
          KILN_ASSIGN_OR_RETURN(room, RoomNow(tx, bot, pick->id, limits));
        }
      }
      pool.SetRoom(pick->kind, pick->id, std::max(room, 0));
      if (room <= 0) continue;

      const std::string token = NewWarmupToken(rng, now_ms);
      WarmupContent content = NewThreadContent(
          domain::SeedOf(options_.seed, static_cast<uint64_t>(sender.id), rng.Next()),
          {me.name, to->address.name}, token);
      const std::string message_id = "<" + mail::GenerateMessageId(my_domain) + ">";
      KILN_ASSIGN_OR_RETURN(store::Row inserted,
                            tx.QueryRow("warmup.new_thread",
                                        {sender.workspace_id, sender.id,
                                         bot ? store::Value(pick->id) : store::Value(),
                                         bot ? store::Value() : store::Value(pick->id), token,
                                         message_id, content.subject, now_ms},
                                        "warm-up thread insert returned no id"));
      const int64_t id = inserted.Int("id");
      KILN_RETURN_IF_ERROR(tx.Exec("warmup.set_thread", {id}).status());
      KILN_RETURN_IF_ERROR(
          tx.Exec("warmup.set_bodies", {id, content.text_body, content.html_body}).status());
      pool.Consume(*pick, &history);
      ++cached->picks;
      result = Compose(id, me, to->address, message_id, token, std::move(content.subject),
                       std::move(content.text_body), std::move(content.html_body), now_ms);
      return Status::Ok();
    }
    return Status::Ok();
  };

  Status st = db_.Write([&](store::Tx& tx) -> Status {
    result.reset();
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
      KILN_ASSIGN_OR_RETURN(auto owed, tx.QueryOne("warmup.owed_peer_reply", {sender.id, now_ms}));
      if (!owed) {
        KILN_ASSIGN_OR_RETURN(owed, tx.QueryOne("warmup.own_continuation", {sender.id, now_ms}));
      }
      if (!owed) return start_thread(tx);
      KILN_ASSIGN_OR_RETURN(bool claimed, claim_scheduled(tx, *owed));
      if (claimed) return Status::Ok();
    }
    return Status::Ok();
  });
  if (!st.ok()) {
    // Rooms taken by picks that were rolled back: read the workspace again next time.
    workspaces_.erase(sender.workspace_id);
    return st;
  }
  return result;
}

Status DbWarmupSource::Record(int64_t warmup_message_id, const mail::SendResult& result,
                              int64_t now_ms) {
  return db_.Write([&](store::Tx& tx) -> Status {
    int64_t changed = 0;
    if (result.ok()) {
      KILN_ASSIGN_OR_RETURN(changed, tx.Exec("warmup.mark_sent", {warmup_message_id, now_ms,
                                                                  result.code, result.text}));
    } else {
      std::string reason =
          result.reason.empty() ? std::string(mail::SendClassName(result.cls)) : result.reason;
      KILN_ASSIGN_OR_RETURN(changed,
                            tx.Exec("warmup.mark_failed",
                                    {warmup_message_id, now_ms, result.code, result.text, reason}));
    }
    if (changed != 1) {
      return Status::NotFound("warm-up message " + std::to_string(warmup_message_id) +
                              " is not an open claim of a sender's warm-up mail");
    }
    if (result.ok()) {
      KILN_ASSIGN_OR_RETURN(store::Row row,
                            tx.QueryRow("warmup.parent_of", {warmup_message_id}, "vanished"));
      if (auto parent = row.OptInt("parent_id")) {
        KILN_RETURN_IF_ERROR(tx.Exec("warmup.mark_parent_replied", {*parent, now_ms}).status());
      }
    }
    return Status::Ok();
  });
}

Result<int> DbWarmupSource::LapseClaims(int64_t now_ms) {
  int64_t changed = 0;
  KILN_RETURN_IF_ERROR(db_.Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(changed,
                          tx.Exec("warmup.lapsed_to_unknown",
                                  {now_ms, now_ms - options_.claim_lapse.count(),
                                   "caught mid-send (claim older than " +
                                       std::to_string(options_.claim_lapse.count() / 1000) +
                                       " s): may have been sent, never resent"}));
    return Status::Ok();
  }));
  return static_cast<int>(changed);
}

}  // namespace kiln::warmup
