// engine_crash_worker: a test helper process for engine_crash_test and engine_nodes_test. Runs one
// Scheduler against the database at argv[1] with real SMTP (the test's sealed sender secrets, key
// of 32 's' bytes), a claim and sender lease of argv[2] ms and a pacing gap of argv[3] ms (default
// 0, no jitter), until it is killed. Tests only.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "kiln/auth/secret_box.h"
#include "kiln/base/clock.h"
#include "kiln/domain/tz.h"
#include "kiln/engine/scheduler.h"
#include "kiln/engine/worker.h"
#include "kiln/store/db.h"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: engine_crash_worker DATABASE_URL LEASE_MS [MIN_GAP_MS]\n");
    return 2;
  }
  auto db = kiln::store::OpenDatabase(argv[1], 2, /*migrate=*/false);
  if (!db.ok()) {
    std::fprintf(stderr, "engine_crash_worker: %s\n", db.status().ToString().c_str());
    return 1;
  }
  auto box = kiln::auth::SecretBox::FromKey(std::string(32, 's'));
  if (!box.ok()) return 1;
  kiln::SystemClock clock;
  kiln::domain::TimeZoneDatabase zones;
  kiln::engine::SchedulerOptions o;
  o.worker_id = "crash-worker-" + std::to_string(getpid());
  o.lease = kiln::Millis(std::atol(argv[2]));
  o.pacing = {.min_gap_ms = argc == 4 ? std::atol(argv[3]) : 0, .jitter_percent = 0};
  o.seed = static_cast<uint64_t>(getpid());
  o.public_url = "https://kiln.example.com";  // cold mail needs an unsubscribe link to send
  o.tracking_key = std::string(32, 'k');
  kiln::engine::SmtpDefaults smtp;
  smtp.helo_name = "client.kiln.test";
  kiln::engine::Scheduler scheduler(**db, clock, zones,
                                    kiln::engine::SmtpTransportFactory(*box, smtp), o);
  kiln::engine::WorkerStop stop;
  kiln::engine::RunWorker(scheduler, kiln::Millis(20), stop);
  return 0;
}
