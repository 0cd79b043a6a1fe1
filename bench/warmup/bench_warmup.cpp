// bench_warmup: CPU time per warm-up message of pairing and scheduling (issue 5 Checks) — 10k
// senders and 2k bots over up to 30 virtual days, against 1k senders in the same invocation.
//
// The real path (the number that counts): a fresh SQLite database holds one workspace of SENDERS
// active senders in warm-up and BOTS active bots; the real queue manager (engine::Scheduler)
// ticks under a virtual clock that jumps to the next instant a sender may send
// (Scheduler::NextSendAt, at most an hour), and asks the real warm-up source
// (warmup::DbWarmupSource) for every warm-up send: the database reads of plans, bots, the day's
// counts behind every counterpart's room and the sender's history, pairing, content, the claim
// and the record. Transports are counting fakes (no network), so the cost is Kiln's own. Only CPU
// inside Scheduler::RunOnce counts (getrusage around each tick), divided by the warm-up messages
// sent. A run stops after DAYS virtual days or when it has used CPU_BUDGET_S seconds of CPU inside
// the ticks, and says how far it got.
//
// Workload: plans start at 5 a day, grow by 2 a day up to 40, start over the first week and end
// after 45 days; a fifth of the senders warm up on weekdays only. Bots: daily send limit 30,
// receive limit 40; nine in ten finished aging before the run, one in ten ages from 2 a day over
// its first three weeks. Senders on 500 domains, bots on 100 domains over 4 providers, both spread
// over 4 time zones (UTC, New York, Berlin, Tokyo: 30 days from Monday 2 March 2026 cross the US
// and EU DST changes).
// Peer warm-up on at 20%. Pacing: one minute between a sender's sends, 40% jitter. The receiving
// side (IMAP scans of the bots, their replies) is not part of it: bot_runner.h, I/O bound.
//
// Runs, in this order: 10k senders with BOTS bots (the issue's size), then, up to the same virtual
// instant the big run reached, 1k senders with BOTS / 10 bots (the same senders-per-bot shape:
// the bots fill the same share of the mail, the peers the rest) and 1k senders with BOTS bots
// (literal: 1k senders have ten times the bot room per sender, so once the ramps are up far less
// mail goes to peers).
// After each run the rows are checked (outside the measured CPU): no bot over its receive cap on
// any of its days, no peer over its own volume, no sender over its ramp (`limit violations`; the
// run fails otherwise).
//
// Then the in-memory pairing alone (warmup::PairingPool::Choose over the same workload without
// the database), as a second, labelled set of lines.
//
// Last line: ratio <CPU per message at 10k senders / at 1k senders with the same shape>.
// Usage: bench_warmup [DAYS [BOTS [CPU_BUDGET_S]]]   (defaults 30, 2000, 60)
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bench/common/bench_util.h"
#include "bench/common/counting_transport.h"
#include "kiln/base/clock.h"
#include "kiln/domain/quota.h"
#include "kiln/domain/random.h"
#include "kiln/domain/tz.h"
#include "kiln/engine/scheduler.h"
#include "kiln/store/db.h"
#include "kiln/testing/fake_clock.h"
#include "kiln/warmup/pairing.h"
#include "kiln/warmup/source.h"

namespace {

using namespace kiln;
using bench::CpuSeconds;
using bench::Die;
using bench::Must;
using kiln::testing::FakeClock;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kStart = 1'772'409'600'000;  // Monday 2026-03-02 00:00 UTC
// The bots' providers, by (i % 100) % 4 (PoolRun); benchwarm.bots below has the same CASE.
constexpr const char* kProviders[] = {"gmail", "outlook", "yahoo", "self_hosted"};

// Rows are generated inside the database (recursive CTEs); the engine then reads them like any
// others. Senders and bots take their zone by i % 4: UTC, America/New_York, Europe/Berlin,
// Asia/Tokyo.
constexpr std::string_view kBenchSql = R"sql(
-- name: benchwarm.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('bench', $1, $1) RETURNING id;
-- name: benchwarm.senders
-- $1 workspace, $2 count, $3 now, $4 warm-up end.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $2)
INSERT INTO senders (workspace_id, name, email, smtp_host, smtp_port, smtp_security, daily_quota,
                     status, warmup_enabled, warmup_daily_target, warmup_end_at, warmup_start_at,
                     warmup_start_volume, warmup_daily_increase, warmup_weekdays_only, timezone,
                     created_at, updated_at)
SELECT $1, 'Sam ' || i, 'sender' || i || '@corp' || (i % 500) || '.bench.test', '127.0.0.1', 25,
       'none', 40, 'active', 1, 40, $4, $3 + (i % 7) * 86400000, 5, 2,
       CASE WHEN i % 5 = 0 THEN 1 ELSE 0 END,
       CASE i % 4 WHEN 0 THEN 'UTC' WHEN 1 THEN 'America/New_York' WHEN 2 THEN 'Europe/Berlin'
                  ELSE 'Asia/Tokyo' END,
       $3, $3
FROM n;
-- name: benchwarm.bots
-- $1 workspace, $2 count, $3 now. One in ten still ages (from today over 21 days).
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $2)
INSERT INTO bots (workspace_id, name, email, provider, smtp_host, smtp_port, smtp_security,
                  imap_host, imap_port, imap_security, aging_start_at, aging_end_at,
                  aging_start_volume, daily_send_limit, daily_receive_limit, status, timezone,
                  created_at, updated_at)
SELECT $1, 'Bot ' || i, 'bot' || i || '@bots' || (i % 100) || '.bench.test',
       CASE (i % 100) % 4 WHEN 0 THEN 'gmail' WHEN 1 THEN 'outlook' WHEN 2 THEN 'yahoo'
                          ELSE 'self_hosted' END,
       '127.0.0.1', 25, 'none', '127.0.0.1', 143, 'none',
       CASE WHEN i % 10 = 0 THEN $3 ELSE $3 - 60 * 86400000 END,
       CASE WHEN i % 10 = 0 THEN $3 + 21 * 86400000 ELSE $3 - 30 * 86400000 END,
       2, 30, 40, 'active',
       CASE i % 4 WHEN 0 THEN 'UTC' WHEN 1 THEN 'America/New_York' WHEN 2 THEN 'Europe/Berlin'
                  ELSE 'Asia/Tokyo' END,
       $3, $3
FROM n;
-- name: benchwarm.sender_rows
SELECT id, timezone, warmup_start_at, warmup_end_at, warmup_start_volume, warmup_daily_increase,
       warmup_daily_target, warmup_weekdays_only
FROM senders ORDER BY id;
-- name: benchwarm.bot_rows
SELECT id, timezone, aging_start_at, aging_end_at, aging_start_volume, daily_send_limit,
       daily_receive_limit
FROM bots ORDER BY id;
-- name: benchwarm.sent
SELECT sender_id, bot_id, peer_sender_id, sent_at FROM warmup_messages
WHERE status = 'sent' AND direction = 'out';
)sql";

// Forwards to the real warm-up source and adds up the CPU spent in it (Next and Record), so the
// report can say how much of a tick is the warm-up network's and how much the queue manager's.
class TimedWarmupSource final : public engine::WarmupSource {
 public:
  explicit TimedWarmupSource(engine::WarmupSource& inner) : inner_(inner) {}
  Result<std::optional<engine::WarmupMessage>> Next(const engine::SenderInfo& sender,
                                                    int64_t now_ms) override {
    const double started = CpuSeconds();
    auto out = inner_.Next(sender, now_ms);
    cpu_seconds_ += CpuSeconds() - started;
    ++next_calls_;
    return out;
  }
  Status Record(int64_t id, const mail::SendResult& result, int64_t now_ms) override {
    const double started = CpuSeconds();
    Status st = inner_.Record(id, result, now_ms);
    cpu_seconds_ += CpuSeconds() - started;
    return st;
  }
  double cpu_seconds() const { return cpu_seconds_; }
  int64_t next_calls() const { return next_calls_; }

 private:
  engine::WarmupSource& inner_;
  double cpu_seconds_ = 0;
  int64_t next_calls_ = 0;
};

struct ScheduleResult {
  int senders = 0;
  int bots = 0;
  int64_t messages = 0;    // warm-up messages the (fake) servers accepted
  int64_t to_bots = 0;     // of which to bots
  int64_t to_peers = 0;    // of which to peer senders
  int64_t violations = 0;  // a bot over its receive cap, a peer over its volume, a sender over
                           // its ramp, on one of their days
  int64_t ticks = 0;
  int64_t reached_ms = 0;  // the virtual instant the run got to
  bool budget_hit = false;
  double cpu_seconds = 0;         // inside Scheduler::RunOnce
  double source_cpu_seconds = 0;  // of which inside the warm-up source (Next, Record)
  int64_t next_calls = 0;         // WarmupSource::Next calls (a nullopt answer included)
  double setup_seconds = 0;
  int64_t read_calls = 0;  // read(2)/pread(2) calls of the process during the run's ticks and
  int64_t read_bytes = 0;  // the virtual clock's steps: SQLite's page-cache misses, mostly

  double UsPerMessage() const {
    return messages > 0 ? cpu_seconds * 1e6 / static_cast<double>(messages) : 0.0;
  }
};

// The process's read calls and bytes so far (/proc/self/io: syscr, rchar); zeros where absent.
struct ProcReads {
  int64_t calls = 0;
  int64_t bytes = 0;
};
ProcReads ReadsSoFar() {
  ProcReads r;
  std::FILE* f = std::fopen("/proc/self/io", "r");
  if (f == nullptr) return r;
  char key[32];
  long long value = 0;
  while (std::fscanf(f, "%31[^:]: %lld\n", key, &value) == 2) {
    if (std::string_view(key) == "syscr") r.calls = value;
    if (std::string_view(key) == "rchar") r.bytes = value;
  }
  std::fclose(f);
  return r;
}

// The day of `at_ms` on `zone`'s calendar, as a day number.
int64_t DayNumber(const domain::TimeZone& zone, int64_t at_ms) {
  return domain::DaysFromCivil(domain::DayAt(zone, at_ms));
}

// Counts the sent rows per counterpart and day and checks them against the limits the product
// promises, computed from the rows the same way the warm-up source reads them (source.cpp).
void CheckLimits(store::Database& db, domain::TimeZoneDatabase& zones, ScheduleResult& r) {
  std::vector<store::Row> senders, bots, sent;
  Status st = db.Read([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(senders, tx.Query("benchwarm.sender_rows"));
    KILN_ASSIGN_OR_RETURN(bots, tx.Query("benchwarm.bot_rows"));
    KILN_ASSIGN_OR_RETURN(sent, tx.Query("benchwarm.sent"));
    return Status::Ok();
  });
  if (!st.ok()) Die("read the rows to check", st);
  auto zone_of = [&](const store::Row& row) {
    return Must(zones.Get(row.Text("timezone")), "time zone");
  };
  struct Entity {
    std::shared_ptr<const domain::TimeZone> zone;
    const store::Row* row;
  };
  std::unordered_map<int64_t, Entity> sender_of, bot_of;
  for (const store::Row& row : senders) sender_of[row.Int("id")] = {zone_of(row), &row};
  for (const store::Row& row : bots) bot_of[row.Int("id")] = {zone_of(row), &row};
  auto key = [](int64_t id, int64_t day) { return (id << 24) ^ day; };
  std::unordered_map<int64_t, int> sent_by, bot_received, peer_received;
  for (const store::Row& row : sent) {
    const int64_t at = row.Int("sent_at");
    const Entity& from = sender_of.at(row.Int("sender_id"));
    ++sent_by[key(row.Int("sender_id"), DayNumber(*from.zone, at))];
    if (auto bot = row.OptInt("bot_id")) {
      ++r.to_bots;
      ++bot_received[key(*bot, DayNumber(*bot_of.at(*bot).zone, at))];
    } else {
      const int64_t peer = row.Int("peer_sender_id");
      ++r.to_peers;
      ++peer_received[key(peer, DayNumber(*sender_of.at(peer).zone, at))];
    }
  }
  auto ramp = [](const Entity& e, int64_t day) {
    const store::Row& row = *e.row;
    domain::WarmupPlan plan;
    plan.start_date = domain::DayAt(*e.zone, row.Int("warmup_start_at"));
    plan.end_date = domain::DayAt(*e.zone, row.Int("warmup_end_at"));
    plan.start_volume = static_cast<int>(row.Int("warmup_start_volume"));
    plan.daily_increase = static_cast<int>(row.Int("warmup_daily_increase"));
    plan.max_volume = static_cast<int>(row.Int("warmup_daily_target"));
    plan.weekdays_only = row.Bool("warmup_weekdays_only");
    return domain::WarmupRampVolume(plan, domain::CivilFromDays(day));
  };
  // Every day any zone's calendar touched during the run.
  const int64_t first_day = kStart / kDay - 1;
  const int64_t last_day = r.reached_ms / kDay + 1;
  for (int64_t day = first_day; day <= last_day; ++day) {
    for (const auto& [id, e] : sender_of) {
      const int volume = ramp(e, day);
      auto s = sent_by.find(key(id, day));
      if (s != sent_by.end() && s->second > volume) ++r.violations;
      auto p = peer_received.find(key(id, day));
      if (p != peer_received.end() && p->second > volume) ++r.violations;
    }
    for (const auto& [id, e] : bot_of) {
      auto b = bot_received.find(key(id, day));
      if (b == bot_received.end()) continue;
      const store::Row& row = *e.row;
      domain::BotAging aging;
      aging.start_date = domain::DayAt(*e.zone, row.Int("aging_start_at"));
      aging.aging_end_date = domain::DayAt(*e.zone, row.Int("aging_end_at"));
      aging.start_volume = static_cast<int>(row.Int("aging_start_volume"));
      aging.max_volume = static_cast<int>(row.Int("daily_send_limit"));
      const int cap = std::min(domain::BotDailyVolume(aging, domain::CivilFromDays(day)),
                               static_cast<int>(row.Int("daily_receive_limit")));
      if (b->second > cap) ++r.violations;
    }
  }
}

// One workspace of `sender_count` senders and `bot_count` bots through the real scheduler and
// warm-up source until `end_ms` (virtual) or `budget` CPU seconds inside the ticks.
ScheduleResult Schedule(int sender_count, int bot_count, int64_t end_ms, double budget) {
  bench::TempDir dir("kiln-bench-warmup");
  FakeClock clock(kStart);
  ScheduleResult r;
  r.senders = sender_count;
  r.bots = bot_count;
  const double setup_started = CpuSeconds();
  store::OpenOptions o;
  o.pool_size = 2;
  o.clock = &clock;
  o.extra_sql_files.push_back({"queries/bench_warmup.sql", std::string(kBenchSql)});
  auto db = Must(store::OpenDatabase(dir.path() + "/bench.db", o), "open database");
  Status st = db->Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("benchwarm.workspace", {kStart}));
    const int64_t ws = w.Int("id");
    KILN_RETURN_IF_ERROR(
        tx.Exec("benchwarm.senders", {ws, sender_count, kStart, kStart + 45 * kDay}).status());
    return tx.Exec("benchwarm.bots", {ws, bot_count, kStart}).status();
  });
  if (!st.ok()) Die("set up", st);
  r.setup_seconds = CpuSeconds() - setup_started;

  domain::TimeZoneDatabase zones;
  warmup::WarmupSourceOptions source_options;
  source_options.pairing.peer_share_percent = 20;
  source_options.seed = 11;
  warmup::DbWarmupSource db_source(*db, zones, source_options);
  TimedWarmupSource source(db_source);
  int64_t accepted = 0;
  engine::SchedulerOptions options;
  options.worker_id = "bench";
  options.pacing = {.min_gap_ms = kMinute, .jitter_percent = 40};
  options.public_url = "https://kiln.bench.test";
  options.tracking_key = std::string(32, 'b');
  options.seed = 7;
  options.warmup = &source;
  engine::Scheduler scheduler(*db, clock, zones, bench::CountingFakeTransportFactory(&accepted),
                              options);

  const ProcReads reads_before = ReadsSoFar();
  for (int64_t now = kStart; now < end_ms; now = clock.NowMillis()) {
    const double tick_started = CpuSeconds();
    auto tick = scheduler.RunOnce();
    r.cpu_seconds += CpuSeconds() - tick_started;
    if (!tick.ok()) Die("tick", tick.status());
    for (const auto& e : scheduler.campaign_errors()) std::fprintf(stderr, "%s\n", e.c_str());
    ++r.ticks;
    if (r.cpu_seconds > budget) {
      r.budget_hit = true;
      clock.Set(now + 1);
      break;
    }
    int64_t next = std::min(end_ms, now + kHour);
    if (auto at = scheduler.NextSendAt(); at && *at > now) next = std::min(next, *at);
    clock.Set(std::max(next, now + 1));
  }
  r.reached_ms = clock.NowMillis();
  const ProcReads reads_after = ReadsSoFar();
  r.read_calls = reads_after.calls - reads_before.calls;
  r.read_bytes = reads_after.bytes - reads_before.bytes;
  r.messages = accepted;
  r.source_cpu_seconds = source.cpu_seconds();
  r.next_calls = source.next_calls();
  CheckLimits(*db, zones, r);
  return r;
}

void Print(const char* label, const ScheduleResult& r) {
  const double days = static_cast<double>(r.reached_ms - kStart) / static_cast<double>(kDay);
  const double per = r.messages > 0 ? 1e6 / static_cast<double>(r.messages) : 0.0;
  std::printf(
      "%s: %d senders, %d bots: %.2f virtual days%s, %lld warm-up messages (bots %lld, peers "
      "%lld), %lld ticks, limit violations %lld, cpu %.2f s = %.1f us cpu per message, of which "
      "%.1f us in the warm-up source (%lld asks), %.1f reads per message (%.1f KB) [setup %.1f "
      "s]\n",
      label, r.senders, r.bots, days, r.budget_hit ? " (cpu budget reached)" : "",
      static_cast<long long>(r.messages), static_cast<long long>(r.to_bots),
      static_cast<long long>(r.to_peers), static_cast<long long>(r.ticks),
      static_cast<long long>(r.violations), r.cpu_seconds, r.cpu_seconds * per,
      r.source_cpu_seconds * per, static_cast<long long>(r.next_calls),
      static_cast<double>(r.read_calls) * per / 1e6,
      static_cast<double>(r.read_bytes) * per / 1e6 / 1024.0, r.setup_seconds);
  std::fflush(stdout);
}

// --- The in-memory pairing alone ---------------------------------------------------------------

struct PoolResult {
  int64_t messages = 0, to_bots = 0, to_peers = 0, misses = 0, violations = 0;
  double cpu_seconds = 0;
};

// The same workload's pairing decisions through warmup::PairingPool without the database: each
// day every bot's aging volume capped by its receive limit is its room, every sender's ramp its
// budget and, as a peer, its room; sends are interleaved across senders (one per sender per
// round); a bot answers 30% of what it gets and takes no more once its answers reach its send
// volume.
PoolResult PoolRun(int sender_count, int bot_count, int days) {
  using namespace kiln::warmup;
  const int64_t day0 = kStart / kDay;
  struct BotSpec {
    int64_t id;
    domain::BotAging aging;
  };
  std::vector<BotSpec> bots;
  std::vector<Candidate> bot_candidates;
  for (int i = 0; i < bot_count; ++i) {
    const bool young = i % 10 == 0;
    BotSpec b{i + 1, {}};
    b.aging.start_date = domain::CivilFromDays(day0 - (young ? 0 : 60));
    b.aging.aging_end_date = domain::CivilFromDays(day0 + (young ? 21 : -30));
    b.aging.start_volume = 2;
    b.aging.max_volume = 30;
    bots.push_back(b);
    bot_candidates.push_back(
        {b.id, "bots" + std::to_string(i % 100) + ".bench.test", kProviders[(i % 100) % 4], 0});
  }
  std::vector<domain::WarmupPlan> plans;
  std::vector<Candidate> peer_candidates;
  for (int i = 0; i < sender_count; ++i) {
    domain::WarmupPlan plan;
    plan.start_date = domain::CivilFromDays(day0 + i % 7);
    plan.end_date = domain::CivilFromDays(day0 + 45);
    plan.start_volume = 5;
    plan.daily_increase = 2;
    plan.max_volume = 40;
    plan.weekdays_only = i % 5 == 0;
    plans.push_back(plan);
    peer_candidates.push_back(
        {1'000'000 + i, "corp" + std::to_string(i % 500) + ".bench.test", "", 0});
  }
  PoolResult r;
  const double start = CpuSeconds();
  PairingPool pool(bot_candidates, peer_candidates);
  std::vector<SenderHistory> histories;
  histories.reserve(plans.size());
  for (int i = 0; i < sender_count; ++i) histories.emplace_back(pool, 1'000'000 + i);
  const PairingOptions options{20};
  domain::Rng rng(42);
  std::vector<int> budget(plans.size()), send_volume(bots.size()), received(bots.size()),
      replies(bots.size()), cap(bots.size());
  std::vector<int> active;
  for (int d = 0; d < days; ++d) {
    const domain::CivilDate day = domain::CivilFromDays(day0 + d);
    for (size_t b = 0; b < bots.size(); ++b) {
      send_volume[b] = domain::BotDailyVolume(bots[b].aging, day);
      cap[b] = std::min(send_volume[b], 40);
      received[b] = replies[b] = 0;
      pool.SetRoom(CounterpartKind::kBot, bots[b].id, cap[b]);
    }
    active.clear();
    for (size_t s = 0; s < plans.size(); ++s) {
      budget[s] = domain::WarmupRampVolume(plans[s], day);
      pool.SetRoom(CounterpartKind::kPeer, 1'000'000 + static_cast<int64_t>(s), budget[s]);
      if (budget[s] > 0) active.push_back(static_cast<int>(s));
    }
    while (!active.empty()) {
      size_t kept = 0;
      for (int s : active) {
        SenderHistory& history = histories[static_cast<size_t>(s)];
        auto pick = pool.Choose(history, rng, options);
        if (!pick) {
          ++r.misses;
          continue;
        }
        pool.Consume(*pick, &history);
        ++r.messages;
        if (pick->kind == CounterpartKind::kBot) {
          ++r.to_bots;
          const size_t b = static_cast<size_t>(pick->id - 1);
          if (++received[b] > cap[b]) ++r.violations;
          if (rng.Uniform(100) < 30) {
            if (++replies[b] > send_volume[b]) ++r.violations;
            if (replies[b] >= send_volume[b]) pool.SetRoom(CounterpartKind::kBot, pick->id, 0);
          }
        } else {
          ++r.to_peers;
        }
        if (--budget[static_cast<size_t>(s)] > 0) active[kept++] = s;
      }
      active.resize(kept);
    }
  }
  r.cpu_seconds = CpuSeconds() - start;
  return r;
}

void PrintPool(int senders, int bots, int days, const PoolResult& r) {
  std::printf(
      "pairing in memory only (PairingPool, no database): %d senders, %d bots, %d days: %lld "
      "messages (bots %lld, peers %lld), misses %lld, limit violations %lld, %.3f us cpu per "
      "message\n",
      senders, bots, days, static_cast<long long>(r.messages), static_cast<long long>(r.to_bots),
      static_cast<long long>(r.to_peers), static_cast<long long>(r.misses),
      static_cast<long long>(r.violations),
      r.messages ? r.cpu_seconds * 1e6 / static_cast<double>(r.messages) : 0.0);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const int days = argc > 1 ? std::atoi(argv[1]) : 30;
  const int bot_count = argc > 2 ? std::atoi(argv[2]) : 2000;
  const double budget = argc > 3 ? std::atof(argv[3]) : 60.0;
  if (argc > 4 || days < 1 || bot_count < 10 || budget <= 0) {
    std::fprintf(stderr, "usage: bench_warmup [DAYS>=1 [BOTS>=10 [CPU_BUDGET_S>0]]]\n");
    return 2;
  }
  const int big_senders = 10'000, ref_senders = 1'000;
  const int ref_bots = bot_count / 10;

  std::printf(
      "== pairing + scheduling through the real queue manager and warm-up source "
      "(SQLite, cpu inside Scheduler::RunOnce, budget %.0f s per run)\n",
      budget);
  const ScheduleResult big = Schedule(big_senders, bot_count, kStart + days * kDay, budget);
  Print("10k", big);
  // The references cover the same virtual span, so every run's senders have the same history
  // depth and the same ramp days behind them.
  const ScheduleResult shape = Schedule(ref_senders, ref_bots, big.reached_ms, budget);
  Print("1k, same senders per bot", shape);
  const ScheduleResult literal = Schedule(ref_senders, bot_count, big.reached_ms, budget);
  Print("1k, same bots (literal)", literal);

  std::printf("== pairing alone, in memory (no database, no scheduling), %d days\n", days);
  const PoolResult pool_shape = PoolRun(ref_senders, ref_bots, days);
  PrintPool(ref_senders, ref_bots, days, pool_shape);
  const PoolResult pool_literal = PoolRun(ref_senders, bot_count, days);
  PrintPool(ref_senders, bot_count, days, pool_literal);
  const PoolResult pool_big = PoolRun(big_senders, bot_count, days);
  PrintPool(big_senders, bot_count, days, pool_big);

  const int64_t violations = big.violations + shape.violations + literal.violations +
                             pool_shape.violations + pool_literal.violations + pool_big.violations;
  if (violations != 0) {
    std::fprintf(stderr, "bench_warmup: %lld limit violation(s)\n",
                 static_cast<long long>(violations));
    return 1;
  }
  if (big.messages == 0 || shape.messages == 0 || literal.messages == 0) {
    std::fprintf(stderr, "bench_warmup: a run sent no warm-up mail\n");
    return 1;
  }
  if (shape.reached_ms < big.reached_ms || literal.reached_ms < big.reached_ms) {
    std::fprintf(stderr,
                 "bench_warmup: a 1k run stopped before the virtual instant the 10k run reached "
                 "(cpu budget): the runs do not cover the same days, so no ratio\n");
    return 1;
  }
  auto source_us = [](const ScheduleResult& r) {
    return r.source_cpu_seconds * 1e6 / static_cast<double>(r.messages);
  };
  std::printf("warm-up source alone (Next + Record), 10k / 1k with the same shape: %.2f\n",
              source_us(big) / source_us(shape));
  std::printf("10k / 1k with the same bots (literal, different workload shape): %.2f\n",
              big.UsPerMessage() / literal.UsPerMessage());
  std::printf("ratio %.2f\n", big.UsPerMessage() / shape.UsPerMessage());
  return 0;
}
