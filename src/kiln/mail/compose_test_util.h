// Test helpers for the composition and DKIM tests: running the Python tools in tests/tools/
// (independent readers of what Kiln writes) and comparing against golden files.
// Tests only. Not thread-safe (uses temp files named by mkstemp; fine from one test thread).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace kiln::mail::testing {

inline std::string SourceDir() {
  const char* dir = std::getenv("KILN_SOURCE_DIR");
  return dir != nullptr ? dir : KILN_TEST_SOURCE_DIR;
}

// A temp file holding `content`, removed on destruction.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/kiln_compose_XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) std::abort();
    path_ = name;
    size_t off = 0;
    while (off < content.size()) {
      const ssize_t n = write(fd, content.data() + off, content.size() - off);
      if (n <= 0) std::abort();
      off += static_cast<size_t>(n);
    }
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `command` and returns its standard output; `exit_code` receives the exit status.
inline std::string RunCommand(const std::string& command, int* exit_code) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *exit_code = -1;
    return {};
  }
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// Runs tests/tools/<tool> with Debian's python3 (python3-dkim lives there) on `args`, parses the
// JSON it prints. Adds a test failure and returns null on a crash or unparsable output.
inline boost::json::value RunPythonTool(const std::string& tool, const std::string& args) {
  int code = 0;
  const std::string out =
      RunCommand("/usr/bin/python3 " + SourceDir() + "/tests/tools/" + tool + " " + args, &code);
  if (code != 0) {
    ADD_FAILURE() << tool << " exited with " << code << ": " << out;
    return nullptr;
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(out, ec);
  if (ec) {
    ADD_FAILURE() << tool << " printed invalid JSON: " << out;
    return nullptr;
  }
  return v;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Compares `actual` with the golden file testdata/compose/<name>; KILN_UPDATE_GOLDEN=1 rewrites
// the file instead (review the diff before committing).
inline void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::string path = SourceDir() + "/src/kiln/mail/testdata/compose/" + name;
  if (std::getenv("KILN_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  const std::string expected = ReadFile(path);
  ASSERT_FALSE(expected.empty()) << "missing golden file " << path
                                 << " (run with KILN_UPDATE_GOLDEN=1 to create it)";
  EXPECT_EQ(expected, actual) << "golden mismatch: " << path;
}

}  // namespace kiln::mail::testing
