// Nanoseconds per call of the domain rules on one core, with glibc's localtime_r (an offset
// lookup from the same tzdata files) measured in the same process as the reference.
// Usage: bench_domain [CALLS]   (default 2,000,000). Last line: ratio <NextSendableInstant /
// localtime_r>.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "kiln/domain/pacing.h"
#include "kiln/domain/random.h"
#include "kiln/domain/rotation.h"
#include "kiln/domain/schedule.h"
#include "kiln/domain/sequence.h"
#include "kiln/domain/tz.h"

namespace {

using namespace kiln::domain;
using SteadyClock = std::chrono::steady_clock;

// Keeps results alive so the optimiser cannot drop the calls.
volatile int64_t g_sink = 0;

template <typename F>
double NanosPerCall(size_t calls, F&& f) {
  const auto start = SteadyClock::now();
  int64_t acc = 0;
  for (size_t i = 0; i < calls; ++i) acc += f(i);
  const double ns = std::chrono::duration<double, std::nano>(SteadyClock::now() - start).count();
  g_sink = g_sink + acc;
  return ns / static_cast<double>(calls);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t calls = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  const char* zone_names[] = {"America/New_York", "Europe/Paris",     "Asia/Kathmandu",
                              "Australia/Sydney", "America/Santiago", "Asia/Tokyo"};
  TimeZoneDatabase db;
  std::vector<std::shared_ptr<const TimeZone>> zones;
  for (const char* n : zone_names) {
    auto z = db.Get(n);
    if (!z.ok()) {
      std::fprintf(stderr, "bench_domain: %s\n", z.status().ToString().c_str());
      return 1;
    }
    zones.push_back(*z);
  }
  // Instants over 2024-2026 (both DST switches, year ends).
  Rng rng(1);
  const size_t kInputs = 1 << 16;
  std::vector<int64_t> instants(kInputs);
  for (auto& t : instants) t = rng.UniformInRange(1'704'067'200'000, 1'798'761'600'000);
  const Schedule schedule{kWeekdaysMonToFri, 9 * 60, 17 * 60};
  const size_t mask = kInputs - 1;

  const double next_ns = NanosPerCall(calls, [&](size_t i) {
    return NextSendableInstant(schedule, *zones[i % zones.size()], instants[i & mask]);
  });
  const double offset_ns = NanosPerCall(calls, [&](size_t i) {
    return int64_t{zones[i % zones.size()]->OffsetSecondsAt(instants[i & mask])};
  });
  // Reference: glibc localtime_r for one zone (TZ set once; glibc keeps one zone at a time).
  setenv("TZ", ":America/New_York", 1);
  tzset();
  const double glibc_ns = NanosPerCall(calls, [&](size_t i) {
    const time_t secs = static_cast<time_t>(instants[i & mask] / 1000);
    struct tm tm {};
    localtime_r(&secs, &tm);
    return int64_t{tm.tm_gmtoff};
  });

  std::vector<SenderSnapshot> pool(1000);
  for (size_t i = 0; i < pool.size(); ++i) {
    pool[i] = SenderSnapshot{static_cast<int64_t>(i),
                             i % 17 == 0 ? SenderStatus::kPaused : SenderStatus::kActive,
                             static_cast<int>(rng.UniformInRange(20, 100)),
                             static_cast<int>(rng.UniformInRange(0, 50)), i % 5 != 0};
  }
  const size_t rotation_calls = calls / 20 + 1;
  const double rotation_ns = NanosPerCall(rotation_calls, [&](size_t i) {
    return ChooseSender(pool, std::nullopt, SeedOf(7, i), RotationPolicy{30}).sender_id;
  });
  const double sticky_ns = NanosPerCall(rotation_calls, [&](size_t i) {
    return ChooseSender(pool, static_cast<int64_t>(i % 1000), SeedOf(7, i), RotationPolicy{30})
        .sender_id;
  });

  const std::vector<SequenceStep> steps = {{0, StepCondition::kAlways, {1}},
                                           {3 * 1440, StepCondition::kIfNotOpened, {50, 50}},
                                           {4 * 1440, StepCondition::kAlways, {1}},
                                           {7 * 1440, StepCondition::kIfOpened, {1}}};
  LeadHistory history;
  history.sent = {{0, 1'717'000'000'000}, {1, 1'717'300'000'000}};
  const double sequence_ns = NanosPerCall(calls, [&](size_t i) {
    return NextSequenceStep(steps, history, {}, instants[i & mask]).earliest_ms;
  });
  Rng pacing_rng(3);
  const double pacing_ns = NanosPerCall(calls, [&](size_t i) {
    const int64_t t = instants[i & mask];
    return NextSendTime(PacingRule{}, PacingState{t, t - 600'000, t + 8 * 3'600'000, 40},
                        pacing_rng);
  });

  std::printf("NextSendableInstant (6 zones, Mon-Fri 09-17): %.1f ns/call\n", next_ns);
  std::printf("TimeZone::OffsetSecondsAt:                    %.1f ns/call\n", offset_ns);
  std::printf("reference glibc localtime_r:                  %.1f ns/call\n", glibc_ns);
  std::printf("ChooseSender, 1000 senders:                   %.1f ns/call\n", rotation_ns);
  std::printf("ChooseSender, 1000 senders, sticky:           %.1f ns/call\n", sticky_ns);
  std::printf("NextSequenceStep (4 steps):                   %.1f ns/call\n", sequence_ns);
  std::printf("NextSendTime:                                 %.1f ns/call\n", pacing_ns);
  std::printf("ratio %.3f\n", next_ns / glibc_ns);
  return 0;
}
