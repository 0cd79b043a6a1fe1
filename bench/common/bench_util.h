// Helpers the bench programs (bench/*/) share: the process's CPU time and wall time since an
// instant, a fatal-error exit for a bench's set-up and checks (Die, Must), and a temporary
// directory removed when it goes out of scope.
//
// For bench programs only: a failure here ends the process (exit status 1) with one line on
// stderr, "<program>: <what>: <status>", where <program> is the name the binary was started as
// (e.g. "bench_engine"). CpuSeconds and WallSecondsSince are safe to call from any thread; Die and
// Must exit the whole process; a TempDir is a plain value owned by one thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "kiln/base/status.h"

namespace kiln::bench {

// CPU seconds this process has used so far, user + system, all threads
// (CLOCK_PROCESS_CPUTIME_ID, nanosecond resolution). Differences of two calls measure the work
// done between them, whatever else the machine is running.
double CpuSeconds();

// Wall-clock seconds from `start` (a std::chrono::steady_clock instant) to now.
double WallSecondsSince(std::chrono::steady_clock::time_point start);

// Prints "<program>: <what>" to stderr and exits with status 1.
[[noreturn]] void Die(std::string_view what);

// Prints "<program>: <what>: <status.ToString()>" to stderr and exits with status 1.
[[noreturn]] void Die(std::string_view what, const Status& status);

// The value of `result`; when it holds an error, Die(what, its status) instead.
template <typename T>
T Must(Result<T> result, std::string_view what) {
  if (!result.ok()) Die(what, result.status());
  return std::move(result).value();
}

// A fresh directory "<temp dir>/<prefix>.XXXXXX" (mkdtemp; $TMPDIR or /tmp), removed with
// everything in it when the TempDir is destroyed. Dies (naming the directory and the reason) when
// there is no temporary directory or the new one cannot be created.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace kiln::bench
