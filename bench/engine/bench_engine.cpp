// bench_engine: what the queue manager (engine/scheduler.h) costs as work grows, and how fast a
// campaign goes out end to end. Two modes:
//
//   bench_engine schedule SENDERS [QUOTA [CPU_BUDGET_S]]
//     A fresh SQLite database with SENDERS active senders of daily quota QUOTA (default 10), one
//     running single-step campaign per 100 senders with 100 * QUOTA leads each (window all day,
//     every day, UTC), ticked by the real Scheduler for one virtual day under a virtual clock that
//     jumps to the next instant a sender may send or a lead is due. Transports are counting fakes
//     (no network): the cost measured is the engine's own (database, rules, rendering, MIME):
//     CPU time inside Scheduler::RunOnce, divided by the emails it sent. Stops early when the run
//     has used CPU_BUDGET_S seconds of CPU in all (default 30). Prints
//       "schedule: N senders, E emails in virtual Hh (T ticks), cpu C s = U us cpu per email
//        [setup S s]"
//
//   bench_engine campaign PORT LEADS SENDERS [CONCURRENT]
//     A campaign of LEADS leads (~5 KB messages, personalised) and SENDERS senders whose SMTP
//     server is 127.0.0.1:PORT (Postfix's smtp-sink in bench/engine/run), pacing and quotas out of
//     the way (virtual time): the whole path claim -> render -> compose -> SMTP -> record, one
//     worker keeping up to CONCURRENT exchanges in flight (default: the product's default,
//     engine_max_concurrent_sends). Prints "campaign: N messages in S s = R msg/s (F not sent),
//     C us cpu per message, K senders, M in flight".
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench/common/bench_util.h"
#include "bench/common/counting_transport.h"
#include "kiln/auth/secret_box.h"
#include "kiln/base/clock.h"
#include "kiln/domain/tz.h"
#include "kiln/engine/scheduler.h"
#include "kiln/engine/worker.h"
#include "kiln/store/db.h"
#include "kiln/testing/fake_clock.h"

namespace {

using namespace kiln;
using bench::CpuSeconds;
using bench::Die;
using bench::Must;
using kiln::testing::FakeClock;

constexpr int64_t kMinute = 60'000;
constexpr int64_t kDay = 1440 * kMinute;
constexpr int64_t kStart = 1'772'409'600'000;  // Monday 2026-03-02 00:00 UTC
constexpr int kSendersPerCampaign = 100;

// Rows are generated inside the database (recursive CTEs) so setting up a million leads takes
// seconds; the engine then reads them like any others.
constexpr std::string_view kBenchSql = R"sql(
-- name: bench.workspace
INSERT INTO workspaces (name, created_at, updated_at) VALUES ('bench', $1, $1) RETURNING id;
-- name: bench.senders
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
INSERT INTO senders (workspace_id, email, from_name, smtp_host, smtp_port, smtp_security,
                     daily_quota, status, created_at, updated_at)
SELECT $1, 'sender' || i || '@mail' || (i % 97) || '.bench.test', 'Sam', $4, $5, 'none', $3,
       'active', $6, $6
FROM n;
-- name: bench.campaign
INSERT INTO campaigns (workspace_id, name, status, schedule, timezone, created_at, updated_at)
VALUES ($1, $2, 'running', '{"days":[1,2,3,4,5,6,7],"start":"00:00","end":"24:00"}', 'UTC', $3,
        $3) RETURNING id;
-- name: bench.step
INSERT INTO campaign_steps (workspace_id, campaign_id, position, delay_minutes, created_at,
                            updated_at)
VALUES ($1, $2, 0, 0, $3, $3) RETURNING id;
-- name: bench.variant
INSERT INTO step_variants (workspace_id, step_id, label, weight, subject, body_html, body_text,
                           created_at, updated_at)
VALUES ($1, $2, 'A', 1, $3, $4, $5, $6, $6);
-- name: bench.pool
INSERT INTO campaign_senders (campaign_id, sender_id, workspace_id, created_at)
SELECT $2, id, $1, $5 FROM senders WHERE workspace_id = $1 AND id BETWEEN $3 AND $4;
-- name: bench.sender_range
SELECT MIN(id) AS lo, MAX(id) AS hi FROM senders WHERE workspace_id = $1;
-- name: bench.contacts
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
INSERT INTO contacts (workspace_id, email, first_name, company, created_at, updated_at)
SELECT $1, 'lead' || i || '@company' || (i % 5003) || '.bench.test', 'Lead' || i,
       'Company ' || (i % 5003), $3, $3
FROM n;
-- name: bench.contact_range
SELECT MIN(id) AS lo, MAX(id) AS hi FROM contacts WHERE workspace_id = $1;
-- name: bench.enrol
INSERT INTO campaign_contacts (workspace_id, campaign_id, contact_id, next_at, status, created_at,
                               updated_at)
SELECT $1, $2, id, $5, 'pending', $5, $5 FROM contacts
WHERE workspace_id = $1 AND id BETWEEN $3 AND $4;
-- name: bench.sent
SELECT COUNT(*) AS n FROM messages WHERE status = 'sent';
)sql";

struct Setup {
  std::unique_ptr<store::Database> db;
  std::vector<int64_t> sender_ids;
};

// Senders, one campaign per `per_campaign` senders with `leads_per_campaign` leads each.
Setup Build(const std::string& dir, const Clock& clock, int senders, int quota, int per_campaign,
            int64_t leads_per_campaign, const std::string& smtp_host, int smtp_port,
            const std::string& body_text) {
  store::OpenOptions o;
  o.pool_size = 2;
  o.clock = &clock;
  o.extra_sql_files.push_back({"queries/bench_engine.sql", std::string(kBenchSql)});
  Setup s;
  s.db = Must(store::OpenDatabase(dir + "/bench.db", o), "open database");
  Status st = s.db->Write([&](store::Tx& tx) -> Status {
    KILN_ASSIGN_OR_RETURN(auto w, tx.QueryRow("bench.workspace", {kStart}));
    const int64_t ws = w.Int("id");
    KILN_RETURN_IF_ERROR(
        tx.Exec("bench.senders", {ws, senders, quota, smtp_host, smtp_port, kStart}).status());
    KILN_ASSIGN_OR_RETURN(auto sr, tx.QueryRow("bench.sender_range", {ws}));
    const int campaigns = (senders + per_campaign - 1) / per_campaign;
    KILN_RETURN_IF_ERROR(
        tx.Exec("bench.contacts", {ws, campaigns * leads_per_campaign, kStart}).status());
    KILN_ASSIGN_OR_RETURN(auto cr, tx.QueryRow("bench.contact_range", {ws}));
    for (int c = 0; c < campaigns; ++c) {
      KILN_ASSIGN_OR_RETURN(auto row,
                            tx.QueryRow("bench.campaign", {ws, "c" + std::to_string(c), kStart}));
      const int64_t id = row.Int("id");
      KILN_ASSIGN_OR_RETURN(auto step, tx.QueryRow("bench.step", {ws, id, kStart}));
      KILN_RETURN_IF_ERROR(
          tx.Exec("bench.variant",
                  {ws, step.Int("id"), "{Hi|Hello} {{ first_name }}, a question for {{ company }}",
                   "<p>Hi {{ first_name }},</p><p>{{ company }}: " + body_text +
                       "</p><p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>",
                   "", kStart})
              .status());
      const int64_t lo = sr.Int("lo") + int64_t{c} * per_campaign;
      KILN_RETURN_IF_ERROR(
          tx.Exec("bench.pool", {ws, id, lo, std::min(lo + per_campaign - 1, sr.Int("hi")), kStart})
              .status());
      const int64_t first = cr.Int("lo") + c * leads_per_campaign;
      KILN_RETURN_IF_ERROR(
          tx.Exec("bench.enrol", {ws, id, first, first + leads_per_campaign - 1, kStart}).status());
    }
    for (int64_t i = sr.Int("lo"); i <= sr.Int("hi"); ++i) s.sender_ids.push_back(i);
    return Status::Ok();
  });
  if (!st.ok()) Die("set up", st);
  return s;
}

engine::SchedulerOptions Options(domain::PacingRule pacing) {
  engine::SchedulerOptions o;
  o.worker_id = "bench";
  o.pacing = pacing;
  o.public_url = "https://kiln.bench.test";
  o.tracking_key = std::string(32, 'b');
  o.seed = 7;
  return o;
}

int Schedule(int senders, int quota, double budget) {
  bench::TempDir dir("kiln-bench-engine");
  FakeClock clock(kStart);
  auto setup_started = std::chrono::steady_clock::now();
  Setup s =
      Build(dir.path(), clock, senders, quota, kSendersPerCampaign,
            int64_t{kSendersPerCampaign} * quota, "127.0.0.1", 25, "a short note about meetings.");
  const double setup = bench::WallSecondsSince(setup_started);
  domain::TimeZoneDatabase zones;
  int64_t accepted = 0;
  engine::Scheduler scheduler(*s.db, clock, zones, bench::CountingFakeTransportFactory(&accepted),
                              Options({.min_gap_ms = 60'000, .jitter_percent = 40}));
  const int64_t end = kStart + kDay;
  const double cpu0 = CpuSeconds();
  double cpu = 0;  // inside Scheduler::RunOnce only: the harness's own stepping is not counted
  int64_t ticks = 0;
  bool budget_hit = false;
  // Every lead is due from the start (one step, window all day): only the senders' pacing decides
  // when the next send may go, so the clock jumps to the earliest sender slot (at most an hour).
  for (int64_t now = kStart; now < end; now = clock.NowMillis()) {
    const double tick_cpu = CpuSeconds();
    auto t = scheduler.RunOnce();
    cpu += CpuSeconds() - tick_cpu;
    if (!t.ok()) Die("tick", t.status());
    ++ticks;
    if (CpuSeconds() - cpu0 > budget) {
      budget_hit = true;
      break;
    }
    int64_t next = std::min(end, now + 60 * kMinute);
    if (auto at = scheduler.NextSendAt(); at && *at > now) next = std::min(next, *at);
    clock.Set(std::max(next, now + 1));
  }
  const double hours = static_cast<double>(clock.NowMillis() - kStart) / 3.6e6;
  std::printf(
      "schedule: %d senders, %lld emails in virtual %.1fh (%lld ticks), cpu %.2f s = %.1f us cpu "
      "per email%s [setup %.1f s, quota %d: %lld emails a day]\n",
      senders, static_cast<long long>(accepted), hours, static_cast<long long>(ticks), cpu,
      accepted > 0 ? cpu * 1e6 / static_cast<double>(accepted) : 0.0,
      budget_hit ? " (cpu budget reached)" : "", setup, quota,
      static_cast<long long>(senders) * quota);
  return accepted > 0 ? 0 : 1;
}

int Campaign(int port, int leads, int senders, int concurrent) {
  bench::TempDir dir("kiln-bench-engine");
  FakeClock clock(kStart);
  std::string padding;  // ~5 KB messages, like smtp-source -l 5000 in bench/engine/run
  while (padding.size() < 4200) {
    padding +=
        "We help teams like yours cut onboarding time in half; customers report fewer support "
        "tickets and happier users within the first month. ";
  }
  Setup s =
      Build(dir.path(), clock, senders, 1'000'000'000, senders, leads, "127.0.0.1", port, padding);
  domain::TimeZoneDatabase zones;
  auto box = Must(auth::SecretBox::FromKey(std::string(32, 'k')), "secret box");
  engine::SmtpDefaults smtp;
  smtp.helo_name = "bench.kiln.test";
  engine::SchedulerOptions options = Options({.min_gap_ms = 0, .jitter_percent = 0});
  options.max_concurrent_sends = concurrent;
  engine::Scheduler scheduler(*s.db, clock, zones, engine::SmtpTransportFactory(box, smtp),
                              std::move(options));
  const auto started = std::chrono::steady_clock::now();
  const double cpu0 = CpuSeconds();
  int64_t sent = 0;
  int idle = 0;
  while (sent < leads && idle < 3) {
    auto t = scheduler.RunOnce();
    if (!t.ok()) Die("tick", t.status());
    for (const auto& e : scheduler.campaign_errors())
      std::fprintf(stderr, "campaign: %s\n", e.c_str());
    sent += t->sent;
    idle = t->sent == 0 ? idle + 1 : 0;
    clock.Set(clock.NowMillis() + 1);  // pacing is not what is measured here
  }
  scheduler.CloseTransports();
  const double wall = bench::WallSecondsSince(started);
  const double cpu = CpuSeconds() - cpu0;
  std::printf(
      "campaign: %lld messages in %.2f s = %.0f msg/s (%lld not sent), %.1f us cpu per "
      "message, %d senders, %d in flight\n",
      static_cast<long long>(sent), wall, static_cast<double>(sent) / wall,
      static_cast<long long>(leads - sent), sent > 0 ? cpu * 1e6 / static_cast<double>(sent) : 0.0,
      senders, concurrent);
  return sent == leads ? 0 : 1;
}

int Usage() {
  std::fprintf(stderr,
               "usage: bench_engine schedule SENDERS [QUOTA [CPU_BUDGET_S]]\n"
               "       bench_engine campaign PORT LEADS SENDERS [CONCURRENT]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return Usage();
  const std::string mode = argv[1];
  if (mode == "schedule") {
    const int senders = std::atoi(argv[2]);
    const int quota = argc > 3 ? std::atoi(argv[3]) : 10;
    const double budget = argc > 4 ? std::atof(argv[4]) : 30.0;
    if (senders < 1 || quota < 1 || budget <= 0) return Usage();
    return Schedule(senders, quota, budget);
  }
  if (mode == "campaign" && (argc == 5 || argc == 6)) {
    const int port = std::atoi(argv[2]), leads = std::atoi(argv[3]), senders = std::atoi(argv[4]);
    const int concurrent = argc == 6 ? std::atoi(argv[5]) : engine::kDefaultMaxConcurrentSends;
    if (port < 1 || port > 65535 || leads < 1 || senders < 1 || concurrent < 1) return Usage();
    return Campaign(port, leads, senders, concurrent);
  }
  return Usage();
}
