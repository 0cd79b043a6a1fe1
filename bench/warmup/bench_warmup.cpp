// CPU time per warm-up message of pairing and scheduling (issue 5 Checks): a workspace of N
// senders and 2k bots runs 30 virtual days of warm-up through the same rules the product uses —
// each sender's ramp (domain::WarmupRampVolume), each bot's aging and limits
// (domain::BotDailyVolume, daily_receive_limit, replies against its send volume), peer warm-up at
// its share, and pairing.h's PairingPool/SenderHistory for every message. Sends of a day are
// interleaved across senders (one round = one send per sender that still has budget), as the
// queue manager spreads them.
//
// Runs 1k senders (the reference, 5 times) and 10k senders (3 times) in the same invocation and
// prints, per run,
// messages, where they went, misses (a send with no counterpart with room), the checks (no bot
// over its receive limit or send volume on any day, no same-domain repeat while another domain
// had room is pairing_test's job) and CPU microseconds per message (CLOCK_PROCESS_CPUTIME_ID).
// Last line: ratio <median cost per message at 10k senders / at 1k senders>.
// Usage: bench_warmup [DAYS] [BOTS]   (defaults 30, 2000)
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "kiln/domain/quota.h"
#include "kiln/domain/random.h"
#include "kiln/warmup/pairing.h"

namespace {

using namespace kiln;
using namespace kiln::warmup;

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct BotSpec {
  int64_t id;
  domain::BotAging aging;
  int receive_limit;
  int reply_rate_percent;
};

struct SenderSpec {
  int64_t id;
  domain::WarmupPlan plan;
};

struct RunResult {
  int senders = 0;
  int64_t messages = 0;
  int64_t to_bots = 0;
  int64_t to_peers = 0;
  int64_t misses = 0;
  int64_t bot_replies = 0;
  int64_t violations = 0;
  double cpu_seconds = 0;
};

constexpr const char* kProviders[] = {"gmail", "outlook", "yahoo", "self_hosted"};

RunResult Run(int sender_count, int bot_count, int days) {
  const domain::CivilDate day0{2026, 9, 1};
  const int64_t day0_days = domain::DaysFromCivil(day0);
  domain::Rng setup(7);

  // Bots on 100 domains over 4 providers; most aged, a tenth still aging during the run.
  std::vector<BotSpec> bots;
  std::vector<Candidate> bot_candidates;
  for (int i = 0; i < bot_count; ++i) {
    BotSpec b;
    b.id = i + 1;
    const bool young = i % 10 == 0;
    b.aging.start_date = domain::CivilFromDays(day0_days - (young ? 0 : 60));
    b.aging.aging_end_date = domain::CivilFromDays(day0_days + (young ? 21 : -30));
    b.aging.start_volume = 2;
    b.aging.max_volume = 30;  // daily_send_limit
    b.receive_limit = 40;
    b.reply_rate_percent = 30;
    bots.push_back(b);
    const int domain_index = i % 100;
    bot_candidates.push_back({b.id, "bots" + std::to_string(domain_index) + ".example",
                              kProviders[domain_index % 4], 0});
  }
  // Senders on 500 domains, warm-up plans starting over the first week.
  std::vector<SenderSpec> senders;
  std::vector<Candidate> peer_candidates;
  for (int i = 0; i < sender_count; ++i) {
    SenderSpec s;
    s.id = 1'000'000 + i;
    s.plan.start_date = domain::CivilFromDays(day0_days + static_cast<int64_t>(setup.Uniform(7)));
    s.plan.end_date = domain::CivilFromDays(day0_days + 45);
    s.plan.start_volume = 5;
    s.plan.daily_increase = 2;
    s.plan.max_volume = 40;
    s.plan.weekdays_only = i % 5 == 0;
    senders.push_back(s);
    peer_candidates.push_back({s.id, "corp" + std::to_string(i % 500) + ".example", "", 0});
  }

  RunResult r;
  r.senders = sender_count;
  const double start = CpuSeconds();
  PairingPool pool(bot_candidates, peer_candidates);
  std::vector<SenderHistory> histories;
  histories.reserve(senders.size());
  for (const SenderSpec& s : senders) histories.emplace_back(pool, s.id);
  const PairingOptions options{20};
  domain::Rng rng(42);

  std::vector<int> budget(senders.size());
  std::vector<int> bot_send_volume(bots.size()), bot_received(bots.size()),
      bot_replies(bots.size()), bot_receive_cap(bots.size());
  std::vector<int> active;  // senders with budget left today
  for (int d = 0; d < days; ++d) {
    const domain::CivilDate day = domain::CivilFromDays(day0_days + d);
    // The day's limits: every bot's aging volume and receive cap, every sender's ramp.
    for (size_t b = 0; b < bots.size(); ++b) {
      bot_send_volume[b] = domain::BotDailyVolume(bots[b].aging, day);
      bot_receive_cap[b] = std::min(bot_send_volume[b], bots[b].receive_limit);
      bot_received[b] = 0;
      bot_replies[b] = 0;
      pool.SetRoom(CounterpartKind::kBot, bots[b].id, bot_receive_cap[b]);
    }
    active.clear();
    for (size_t s = 0; s < senders.size(); ++s) {
      const int volume = domain::WarmupRampVolume(senders[s].plan, day);
      budget[s] = volume;
      pool.SetRoom(CounterpartKind::kPeer, senders[s].id, volume);
      if (volume > 0) active.push_back(static_cast<int>(s));
    }
    // Rounds: one send per sender with budget left.
    while (!active.empty()) {
      size_t kept = 0;
      for (int s : active) {
        auto pick = pool.Choose(histories[static_cast<size_t>(s)], rng, options);
        if (!pick) {
          ++r.misses;
          continue;  // nothing has room for it today
        }
        pool.Consume(*pick, &histories[static_cast<size_t>(s)]);
        ++r.messages;
        if (pick->kind == CounterpartKind::kBot) {
          ++r.to_bots;
          const size_t b = static_cast<size_t>(pick->id - 1);
          if (++bot_received[b] > bot_receive_cap[b]) ++r.violations;
          if (static_cast<int>(rng.Uniform(100)) < bots[b].reply_rate_percent) {
            ++r.bot_replies;
            if (++bot_replies[b] > bot_send_volume[b]) ++r.violations;
            // Its replies reached its send volume: it takes no more mail today.
            if (bot_replies[b] >= bot_send_volume[b])
              pool.SetRoom(CounterpartKind::kBot, pick->id, 0);
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

void Print(const RunResult& r, int bot_count, int days) {
  std::printf(
      "senders %d bots %d days %d: messages %lld (bots %lld, peers %lld, bot replies %lld), "
      "misses %lld, limit violations %lld, cpu %.3f s, %.3f us/message\n",
      r.senders, bot_count, days, static_cast<long long>(r.messages),
      static_cast<long long>(r.to_bots), static_cast<long long>(r.to_peers),
      static_cast<long long>(r.bot_replies), static_cast<long long>(r.misses),
      static_cast<long long>(r.violations), r.cpu_seconds,
      r.messages ? r.cpu_seconds * 1e6 / static_cast<double>(r.messages) : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  const int days = argc > 1 ? std::atoi(argv[1]) : 30;
  const int bot_count = argc > 2 ? std::atoi(argv[2]) : 2000;
  if (days < 1 || bot_count < 1) {
    std::fprintf(stderr, "usage: bench_warmup [DAYS>=1] [BOTS>=1]\n");
    return 2;
  }
  // The median of several runs of each size: the 1k run takes a tenth of a CPU-second, where a
  // shared machine's noise shows.
  auto median = [&](int senders, int runs) {
    std::vector<RunResult> results;
    for (int i = 0; i < runs; ++i) {
      results.push_back(Run(senders, bot_count, days));
      Print(results.back(), bot_count, days);
    }
    std::sort(results.begin(), results.end(),
              [](const RunResult& a, const RunResult& b) { return a.cpu_seconds < b.cpu_seconds; });
    return results[results.size() / 2];
  };
  const RunResult ref = median(1'000, 5);
  const RunResult big = median(10'000, 3);
  std::printf("median: 1k senders %.3f us/message, 10k senders %.3f us/message\n",
              ref.cpu_seconds * 1e6 / static_cast<double>(ref.messages),
              big.cpu_seconds * 1e6 / static_cast<double>(big.messages));
  if (ref.violations != 0 || big.violations != 0) {
    std::fprintf(stderr, "bench_warmup: a bot's limit was exceeded\n");
    return 1;
  }
  const double ref_cost = ref.cpu_seconds / static_cast<double>(ref.messages);
  const double big_cost = big.cpu_seconds / static_cast<double>(big.messages);
  std::printf("ratio %.2f\n", big_cost / ref_cost);
  return 0;
}
