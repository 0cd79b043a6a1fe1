// KilnProcess: runs the real `kiln` binary as a child process for API tests (tests only).
// Starts `kiln serve` on 127.0.0.1 with an ephemeral port and waits for its "Kiln is running"
// line; stops it with SIGTERM. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/base/status.h"

namespace kiln::testing {

// Path of the kiln binary under test (from the build).
std::string KilnBinary();

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `kiln args...` to completion with `stdin_text` on its standard input.
RunResult RunKiln(const std::vector<std::string>& args, const std::string& stdin_text = "",
                  int timeout_s = 60);

class KilnProcess {
 public:
  KilnProcess() = default;
  ~KilnProcess();
  KilnProcess(const KilnProcess&) = delete;
  KilnProcess& operator=(const KilnProcess&) = delete;

  // Starts `kiln serve --listen 127.0.0.1:0 <extra_args>`; succeeds once it printed its URL.
  Status Start(const std::vector<std::string>& extra_args);
  // SIGTERM and wait; returns the exit code (or -signal).
  int Stop(int timeout_s = 20);
  // Sends a signal without waiting.
  void Signal(int sig);
  // Waits for exit; returns the exit code, or -1000 on timeout.
  int Wait(int timeout_s);

  // Reads more of the process's stdout until it contains `text`; false after timeout_ms.
  bool WaitForStdout(const std::string& text, int timeout_ms = 10000);

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& stdout_text() const { return out_; }
  // Everything the process wrote to stderr so far (the log).
  std::string ReadLog() const;

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  uint16_t port_ = 0;
  std::string out_;
  std::string log_path_;
};

// A fresh temporary folder (removed by the OS's tmp cleaning; tests remove what they can).
std::string MakeTempDir(const std::string& prefix);

}  // namespace kiln::testing
