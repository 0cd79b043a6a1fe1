// TestWebSocket: a WebSocket client for tests (Boost.Beast), talking to 127.0.0.1 only. It
// performs the handshake with the headers a test chooses (cookies, Origin, Authorization), then a
// background thread reads text frames into a queue that Read() takes from with a deadline.
// Control frames are handled by Beast (pings are answered) while reading is on.
//
// Thread-safety: one test thread uses an instance; the reader thread is internal.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kiln/base/status.h"

namespace kiln::http {

class TestWebSocket {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;
  struct Options {
    Headers headers;
    // Read frames in the background (false: never read — a client that does not keep up).
    bool read = true;
    // SO_RCVBUF of the client socket before connecting (0: the system default).
    int receive_buffer = 0;
  };

  // Connects and performs the handshake for `target`. On success the connection is open. On a
  // refusal the HTTP status and body are in *status / *body (when given) and the result is
  // PermissionDenied "handshake refused: <status>"; other failures are Unavailable.
  static Result<std::unique_ptr<TestWebSocket>> Connect(uint16_t port, const std::string& target,
                                                        const Options& options,
                                                        int* status = nullptr,
                                                        std::string* body = nullptr);
  ~TestWebSocket();
  TestWebSocket(const TestWebSocket&) = delete;
  TestWebSocket& operator=(const TestWebSocket&) = delete;

  // The next text frame, waiting up to `timeout`: DeadlineExceeded when none came, Unavailable
  // once the connection ended and every frame was taken (the message names the close reason).
  Result<std::string> Read(std::chrono::milliseconds timeout);
  // Waits up to `timeout` for the connection to end (frames are dropped meanwhile). True if it did.
  bool WaitClosed(std::chrono::milliseconds timeout);
  // The close code the server sent (0: none yet, or the connection just broke).
  int close_code() const;
  // Sends a close frame and waits briefly for the server's answer.
  void Close();

 private:
  struct Impl;
  explicit TestWebSocket(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::http
