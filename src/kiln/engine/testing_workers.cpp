#include "kiln/engine/testing_workers.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

namespace kiln::engine {
namespace {

constexpr std::string_view kReadyPrefix = "Kiln worker ";
constexpr std::string_view kReadySuffix = " is running";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Tail(const std::string& text, size_t n = 2000) {
  return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

// The worker id on a ready line in `out`, or "" when there is none yet.
std::string ReadyId(const std::string& out) {
  size_t start = out.find(kReadyPrefix);
  if (start == std::string::npos) return {};
  size_t end = out.find(kReadySuffix, start);
  size_t line_end = out.find('\n', start);
  if (end == std::string::npos || line_end == std::string::npos || end > line_end) return {};
  return out.substr(start + kReadyPrefix.size(), end - start - kReadyPrefix.size());
}

}  // namespace

std::string KilnBinaryPath() { return KILN_BIN_PATH; }

pid_t PidOfWorkerId(const std::string& id) {
  size_t last = id.rfind(':');
  if (last == std::string::npos || last == 0) return -1;
  size_t before = id.rfind(':', last - 1);
  if (before == std::string::npos) return -1;
  const std::string digits = id.substr(before + 1, last - before - 1);
  if (digits.empty() || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return static_cast<pid_t>(std::stol(digits));
}

KilnWorkers::KilnWorkers(std::string dir, std::vector<std::string> args)
    : dir_(std::move(dir)), args_(std::move(args)) {}

KilnWorkers::~KilnWorkers() {
  while (!running_.empty()) Kill(running_.front().pid);
}

Result<KilnWorkers::Worker> KilnWorkers::Start(Millis ready_within) {
  const int n = ++started_;
  Process p;
  p.out_path = dir_ + "/worker-" + std::to_string(n) + ".out";
  p.log_path = dir_ + "/worker-" + std::to_string(n) + ".log";
  // Everything the child needs is prepared before fork: between fork and exec only
  // async-signal-safe calls (the test process has threads).
  std::string bin = KilnBinaryPath();
  std::vector<std::string> words = {bin, "worker"};
  words.insert(words.end(), args_.begin(), args_.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const int out_fd = ::open(p.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int log_fd = ::open(p.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || log_fd < 0 || null_fd < 0) {
    for (int fd : {out_fd, log_fd, null_fd}) {
      if (fd >= 0) ::close(fd);
    }
    return Status::Internal("cannot create the worker's output files in " + dir_);
  }
  p.pid = fork();
  if (p.pid == 0) {
    dup2(null_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  for (int fd : {out_fd, log_fd, null_fd}) ::close(fd);
  if (p.pid < 0) return Status::Internal("cannot fork a worker process");
  running_.push_back(p);

  const auto deadline = std::chrono::steady_clock::now() + ready_within;
  for (;;) {
    std::string id = ReadyId(ReadFile(p.out_path));
    if (!id.empty()) return Worker{p.pid, std::move(id)};
    int status = 0;
    if (waitpid(p.pid, &status, WNOHANG) == p.pid) {
      running_.erase(std::find_if(running_.begin(), running_.end(),
                                  [&](const Process& r) { return r.pid == p.pid; }));
      ended_.push_back(p);
      const std::string how = WIFSIGNALED(status)
                                  ? "died of signal " + std::to_string(WTERMSIG(status))
                                  : "exited with status " + std::to_string(WEXITSTATUS(status));
      return Status::FailedPrecondition("kiln worker (" + bin + ") " + how +
                                        " before it was ready; its log:\n" +
                                        Tail(ReadFile(p.log_path)));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      const std::string log = Tail(ReadFile(p.log_path));
      Kill(p.pid);
      return Status::DeadlineExceeded("kiln worker printed no ready line within " +
                                      std::to_string(ready_within.count()) + " ms; its log:\n" +
                                      log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool KilnWorkers::Kill(pid_t pid) {
  auto it = std::find_if(running_.begin(), running_.end(),
                         [&](const Process& r) { return r.pid == pid; });
  if (it == running_.end()) return false;
  ended_.push_back(*it);
  running_.erase(it);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

Result<int> KilnWorkers::Stop(pid_t pid, int sig, Millis within) {
  auto it = std::find_if(running_.begin(), running_.end(),
                         [&](const Process& r) { return r.pid == pid; });
  if (it == running_.end()) {
    return Status::NotFound("process " + std::to_string(pid) + " is not a running worker");
  }
  const Process p = *it;
  kill(pid, sig);
  const auto deadline = std::chrono::steady_clock::now() + within;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) != pid) {
    if (std::chrono::steady_clock::now() >= deadline) {
      Kill(pid);
      return Status::DeadlineExceeded(
          "worker " + std::to_string(pid) + " still ran " + std::to_string(within.count()) +
          " ms after signal " + std::to_string(sig) + "; its log:\n" + Tail(ReadFile(p.log_path)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  running_.erase(std::find_if(running_.begin(), running_.end(),
                              [&](const Process& r) { return r.pid == pid; }));
  ended_.push_back(p);
  if (WIFSIGNALED(status)) {
    return Status::Internal("worker " + std::to_string(pid) + " died of signal " +
                            std::to_string(WTERMSIG(status)) + " after signal " +
                            std::to_string(sig) + "; its log:\n" + Tail(ReadFile(p.log_path)));
  }
  return WEXITSTATUS(status);
}

std::string KilnWorkers::Log(pid_t pid) const {
  for (const auto* list : {&running_, &ended_}) {
    for (const Process& p : *list) {
      if (p.pid == pid) return ReadFile(p.log_path);
    }
  }
  return {};
}

}  // namespace kiln::engine
