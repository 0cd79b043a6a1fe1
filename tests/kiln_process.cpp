#include "kiln_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace kiln::testing {

std::string KilnBinary() {
  if (const char* p = std::getenv("KILN_BIN")) return p;
  return KILN_BIN_PATH;
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  char* d = mkdtemp(tmpl.data());
  if (!d) std::abort();
  return d;
}

namespace {

pid_t Spawn(const std::vector<std::string>& args, int stdin_fd, int stdout_fd, int stderr_fd) {
  std::vector<char*> argv;
  std::string bin = KilnBinary();
  argv.push_back(bin.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(stdin_fd, 0);
    dup2(stdout_fd, 1);
    dup2(stderr_fd, 2);
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

std::string ReadAll(int fd, int timeout_ms) {
  std::string out;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, 100);
    if (r <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

RunResult RunKiln(const std::vector<std::string>& args, const std::string& stdin_text,
                  int timeout_s) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe(in_pipe) || pipe(out_pipe) || pipe(err_pipe)) std::abort();
  pid_t pid = Spawn(args, in_pipe[0], out_pipe[1], err_pipe[1]);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!stdin_text.empty()) {
    ssize_t w = write(in_pipe[1], stdin_text.data(), stdin_text.size());
    (void)w;
  }
  close(in_pipe[1]);
  RunResult r;
  // Drain stdout and stderr concurrently so neither pipe fills.
  std::thread err_reader([&] { r.err = ReadAll(err_pipe[0], timeout_s * 1000); });
  r.out = ReadAll(out_pipe[0], timeout_s * 1000);
  err_reader.join();
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return r;
}

KilnProcess::~KilnProcess() {
  if (pid_ > 0) Stop(5);
  if (out_fd_ >= 0) close(out_fd_);
}

Status KilnProcess::Start(const std::vector<std::string>& extra_args) {
  if (pid_ > 0) return Status::FailedPrecondition("kiln is already running");
  if (out_fd_ >= 0) close(out_fd_);
  out_fd_ = -1;
  out_.clear();
  port_ = 0;
  std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  int out_pipe[2];
  if (pipe(out_pipe)) return Status::Internal("pipe failed");
  char tmpl[] = "/tmp/kiln-log-XXXXXX";
  int log_fd = mkstemp(tmpl);
  log_path_ = tmpl;
  int devnull = open("/dev/null", O_RDONLY);
  pid_ = Spawn(args, devnull, out_pipe[1], log_fd);
  close(devnull);
  close(log_fd);
  close(out_pipe[1]);
  out_fd_ = out_pipe[0];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      out_.append(buf, static_cast<size_t>(n));
      size_t at = out_.find("Kiln is running: http://127.0.0.1:");
      if (at != std::string::npos) {
        size_t start = at + std::strlen("Kiln is running: http://127.0.0.1:");
        size_t end = out_.find('/', start);
        if (end != std::string::npos) {
          port_ = static_cast<uint16_t>(std::atoi(out_.substr(start, end - start).c_str()));
          // Collect the rest of the banner lines.
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          while (poll(&p, 1, 0) > 0 && (n = read(out_fd_, buf, sizeof buf)) > 0)
            out_.append(buf, static_cast<size_t>(n));
          return Status::Ok();
        }
      }
    }
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::Unavailable("kiln exited during start-up: " + ReadLog() + out_);
    }
  }
  return Status::DeadlineExceeded("kiln did not print its URL in time: " + ReadLog() + out_);
}

bool KilnProcess::WaitForStdout(const std::string& text, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  while (out_.find(text) == std::string::npos) {
    if (out_fd_ < 0 || std::chrono::steady_clock::now() >= deadline) return false;
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) {
      ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n <= 0) return out_.find(text) != std::string::npos;
      out_.append(buf, static_cast<size_t>(n));
    }
  }
  return true;
}

void KilnProcess::Signal(int sig) {
  if (pid_ > 0) kill(pid_, sig);
}

int KilnProcess::Wait(int timeout_s) {
  if (pid_ <= 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1000;
}

int KilnProcess::Stop(int timeout_s) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int code = Wait(timeout_s);
  if (code == -1000) {
    kill(pid_, SIGKILL);
    Wait(5);
  }
  return code;
}

std::string KilnProcess::ReadLog() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace kiln::testing
