// KilnWorkers: `kiln worker` processes of this build (the product binary, the same build flavour
// as the test: the ASan test starts the ASan binary), started by the engine's process-level tests
// (engine_crash_test, engine_nodes_test) against a test database. Each worker's standard output
// and log go to files in the fixture's folder; a worker counts as started once it printed its
// ready line, which names its worker id ("HOST:PID:START_MS", the id on its leases and claims).
//
// Tests only. Not thread-safe: use from the test's thread. Workers still running when the object
// is destroyed are SIGKILLed and reaped, however the test ended.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "kiln/base/clock.h"
#include "kiln/base/status.h"

namespace kiln::engine {

// Path of the `kiln` binary of this build.
std::string KilnBinaryPath();

class KilnWorkers {
 public:
  struct Worker {
    pid_t pid = -1;
    std::string id;  // its worker id, as printed on its ready line
  };

  // `args` follow `kiln worker` on every worker's command line (settings: --db, --data-dir,
  // --secret-key-file, --engine-lease-ms, ...). `dir` holds the workers' output files.
  KilnWorkers(std::string dir, std::vector<std::string> args);
  ~KilnWorkers();
  KilnWorkers(const KilnWorkers&) = delete;
  KilnWorkers& operator=(const KilnWorkers&) = delete;

  // Starts one worker and waits up to `ready_within` for its ready line. Success: its pid and
  // worker id. Failure: Internal when it cannot be started, FailedPrecondition when it exited
  // before it was ready (with the end of its log), DeadlineExceeded when it printed nothing in
  // time (it is killed then).
  Result<Worker> Start(Millis ready_within);

  // SIGKILLs a running worker and reaps it. Success (true): it was running and died of the
  // signal; false when `pid` is not a running worker of this object or it had exited by itself.
  bool Kill(pid_t pid);

  // Sends `sig` (SIGTERM, SIGINT) and waits up to `within` for the worker to exit. Success: its
  // exit code. Failure: DeadlineExceeded when it was still running (it is SIGKILLed then),
  // Internal when it died of a signal, NotFound when `pid` is not a running worker of this object.
  Result<int> Stop(pid_t pid, int sig, Millis within);

  // Everything the worker wrote to stderr (its log) so far; "" when unknown.
  std::string Log(pid_t pid) const;

 private:
  struct Process {
    pid_t pid;
    std::string out_path, log_path;
  };
  std::string dir_;
  std::vector<std::string> args_;
  int started_ = 0;
  std::vector<Process> running_;
  std::vector<Process> ended_;  // kept for Log()
};

// The pid part of a worker id "HOST:PID:START_MS"; -1 when `id` does not have that form.
pid_t PidOfWorkerId(const std::string& id);

}  // namespace kiln::engine
