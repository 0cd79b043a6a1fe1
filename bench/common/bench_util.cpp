#include "bench/common/bench_util.h"

#include <errno.h>  // program_invocation_short_name (GNU)
#include <stdlib.h>
#include <time.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace kiln::bench {

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double WallSecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Die(std::string_view what) {
  std::fprintf(stderr, "%s: %.*s\n", program_invocation_short_name, static_cast<int>(what.size()),
               what.data());
  std::exit(1);
}

void Die(std::string_view what, const Status& status) {
  std::fprintf(stderr, "%s: %.*s: %s\n", program_invocation_short_name,
               static_cast<int>(what.size()), what.data(), status.ToString().c_str());
  std::exit(1);
}

TempDir::TempDir(std::string_view prefix) {
  std::error_code ec;
  const std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) {
    Die("temp dir", Status::Internal("no temporary directory ($TMPDIR or /tmp): " + ec.message()));
  }
  const std::string pattern = base / (std::string(prefix) + ".XXXXXX");
  std::string t = pattern;
  if (mkdtemp(t.data()) == nullptr) {
    Die("mkdtemp",
        Status::Internal("cannot create temp dir " + pattern + ": " + std::strerror(errno)));
  }
  path_ = std::move(t);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace kiln::bench
